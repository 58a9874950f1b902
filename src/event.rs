//! One readiness event.

use crate::backend::{self, RawEvent};
use crate::Token;
use std::fmt;

/// One readiness report from [`Poll::poll`](crate::Poll::poll): which
/// registration ([`token`](Event::token)) and what it is ready for.
///
/// `Event` is `#[repr(transparent)]` over the kernel's own record
/// (`struct epoll_event` on Linux, `struct kevent` on kqueue), so a poll
/// hands the kernel's buffer to you without copying or translating it;
/// the methods decode it when asked. (The io_uring backend writes the same
/// `epoll_event` records itself: a poll completion's result is an
/// `EPOLL*` mask.) On Windows it is evq's own record, the token and the
/// `AFD_POLL_*` bits of the completed `IOCTL_AFD_POLL`, which the backend
/// fills from each completion; each method below says which bits it reads.
///
/// Readiness is a hint, not a promise: an event can be spurious (the data
/// was already read by someone else, or a signal interrupted a read), so
/// treat the source's own `WouldBlock` as the truth and simply wait again.
/// With [`Trigger::Edge`](crate::Trigger::Edge), keep reading (or writing)
/// after an event until the source returns `WouldBlock`: no further event
/// comes for readiness you have not used up.
///
/// # On io_uring
///
/// epoll looks at the fd again when `poll` collects an event, so its flags
/// are the fd's state then, within the interest. An io_uring event's flags
/// are those of the kernel's completions since the fd was last reported:
/// each taken when the fd woke up (from the wake-up itself where the waker
/// names what happened), so they can be stale by the time `poll` returns,
/// and they can go beyond what you asked for. A socket's new data wakes it
/// as `EPOLLIN | EPOLLPRI`, so [`is_priority`](Event::is_priority) is true
/// on data when [`Interest::PRIORITY`](crate::Interest) is asked for; the
/// kernel watches `EPOLLRDHUP` for every request, so a peer's shutdown
/// makes [`is_read_closed`](Event::is_read_closed) true even without
/// `READABLE`. And a poll whose buffer fills up leaves later completions
/// of an fd it reported for the next poll, which reports the fd again.
/// (`model/src/uring.rs` in the repository checks these rules against the
/// kernel.)
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct Event {
    raw: RawEvent,
}

// SAFETY: the only non-thread-safe member of the kernel record is the raw
// pointer in `epoll_data` (or `kevent.udata`). evq never stores a pointer
// there, only the `Token`, an integer, and nothing dereferences it; an Event
// is plain data, safe to move to and share between threads. (Windows'
// record is integers only, Send and Sync by itself.)
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe impl Send for Event {}
// SAFETY: as above; `Event` has no interior mutability.
#[cfg(unix)]
#[allow(unsafe_code)]
unsafe impl Sync for Event {}

impl Event {
    /// Wraps a record a backend filled in itself (io_uring, IOCP).
    #[cfg(any(all(evq_epoll, feature = "io-uring"), evq_iocp))]
    #[inline]
    pub(crate) fn from_raw(raw: RawEvent) -> Event {
        Event { raw }
    }

    /// A copy of the record (it may be packed: never borrowed).
    #[cfg(any(evq_kqueue, all(evq_epoll, feature = "io-uring")))]
    #[inline]
    pub(crate) fn raw(&self) -> RawEvent {
        self.raw
    }

    /// The token the source was registered with.
    #[inline]
    pub fn token(&self) -> Token {
        backend::token(&self.raw)
    }

    /// There is data to read, a connection to accept, or end-of-file to see
    /// (`EPOLLIN`; `EVFILT_READ`; on Windows `AFD_POLL_RECEIVE`, `_ACCEPT`,
    /// `_DISCONNECT`, `_ABORT` or `_CONNECT_FAIL`, as mio maps them).
    #[inline]
    pub fn is_readable(&self) -> bool {
        backend::is_readable(&self.raw)
    }

    /// There is room to write, or a non-blocking connect finished (`EPOLLOUT`;
    /// `EVFILT_WRITE`; on Windows `AFD_POLL_SEND`, `_ABORT` or
    /// `_CONNECT_FAIL`).
    #[inline]
    pub fn is_writable(&self) -> bool {
        backend::is_writable(&self.raw)
    }

    /// The source has a pending error (`EPOLLERR`; `EV_ERROR`): read it with
    /// `take_error()` on a socket, or see it from the next read or write.
    /// On epoll always reported, whatever the interest; on kqueue, on the
    /// events of the directions registered (`EV_EOF` with an error code).
    /// On Windows `AFD_POLL_ABORT` (the connection was reset: the next
    /// read or write fails) or `AFD_POLL_CONNECT_FAIL` (a non-blocking
    /// connect failed; also set when the poll request itself failed), both
    /// always watched, whatever the interest. (mio reports a reset as
    /// closed but not as an error there.)
    #[inline]
    pub fn is_error(&self) -> bool {
        backend::is_error(&self.raw)
    }

    /// The reading side is closed: the peer shut down writing (TCP FIN, a
    /// `shutdown(Write)`), or a pipe lost its last writer. Reads return what
    /// is buffered, then end-of-file (`EPOLLRDHUP`, `EPOLLHUP`; `EV_EOF` on
    /// `EVFILT_READ`; on Windows `AFD_POLL_DISCONNECT`, `_ABORT` or
    /// `_CONNECT_FAIL`).
    #[inline]
    pub fn is_read_closed(&self) -> bool {
        backend::is_read_closed(&self.raw)
    }

    /// The writing side is closed: writes would fail (`EPOLLHUP`,
    /// `EPOLLERR`; `EV_EOF` on `EVFILT_WRITE`; on Windows `AFD_POLL_ABORT`
    /// or `_CONNECT_FAIL`, which are always watched, whatever the
    /// interest).
    #[inline]
    pub fn is_write_closed(&self) -> bool {
        backend::is_write_closed(&self.raw)
    }

    /// Priority data is available (`EPOLLPRI`; on Windows
    /// `AFD_POLL_RECEIVE_EXPEDITED`, TCP urgent data); see
    /// [`Interest::PRIORITY`](crate::Interest). Always `false` on kqueue.
    #[inline]
    pub fn is_priority(&self) -> bool {
        backend::is_priority(&self.raw)
    }
}

impl fmt::Debug for Event {
    /// Prints the token and the kernel's readiness bits by name, e.g.
    /// `Event { token: Token(3), flags: [EPOLLIN, EPOLLRDHUP] }` (on
    /// Windows `[AFD_POLL_RECEIVE]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Flags<'a>(&'a RawEvent);
        impl fmt::Debug for Flags<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(backend::flag_names(self.0)).finish()
            }
        }
        f.debug_struct("Event")
            .field("token", &self.token())
            .field("flags", &Flags(&self.raw))
            .finish()
    }
}
