//! Adding, changing and removing the sources a `Poll` watches.

use crate::backend::Selector;
use crate::source::{raw_source, BorrowedSource};
use crate::wake_gate::WakeGate;
use crate::{Error, Interest, Result, Source, Token, Trigger};
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, RawHandle};
use std::sync::Arc;

/// Adds, changes and removes the sources a [`Poll`](crate::Poll) watches.
///
/// Get one from [`Poll::registry`](crate::Poll::registry), or an owned one
/// with [`try_clone`](Registry::try_clone) to move into another thread.
/// Every method takes `&self` and may run on any thread, also while another
/// thread is blocked in [`Poll::poll`](crate::Poll::poll): a source
/// registered meanwhile is reported by that very poll once it is ready.
///
/// A source is anything with a file descriptor (`AsFd`): `TcpStream`,
/// `TcpListener`, `UdpSocket`, `UnixStream`, `OwnedFd`, `BorrowedFd`, `File`,
/// a pipe end; or a type made of several, registered as one unit through
/// the [`Source`] trait. Put sockets in non-blocking mode
/// (`set_nonblocking(true)`) before registering them, or a read after a
/// spurious event blocks: in debug builds (`debug_assertions`), `register`
/// of a socket in blocking mode fails with [`Error::InvalidInput`] saying
/// so. Pipes, eventfds and other non-sockets may stay blocking.
///
/// # What the kernel watches, and closing
///
/// On Linux, registrations belong to the open file, not to the fd number:
/// closing an fd removes its registration only when it was the last fd
/// referring to that open file: if the fd was duplicated (`dup`,
/// `try_clone`, `fork`), the registration lives on, keeps reporting events
/// with its old token, and can no longer be deregistered at all: not through
/// the closed number (`EBADF`), nor through the duplicate (epoll keys a
/// registration by fd number *and* open file, so that is
/// [`Error::NotRegistered`]). Deregister before closing a source that has
/// duplicates.
///
/// kqueue keys registrations by fd number, and closing an fd removes the
/// registrations made through it even if duplicates remain.
///
/// On both, once a registered fd is closed and its number reused by a new
/// file, that number is not registered: `register` of it works, and
/// `reregister` or `deregister` answer [`Error::NotRegistered`] (and change
/// nothing). Some kqueue kernels also drop a filter by themselves (FreeBSD,
/// for a pipe's writer once the reader is gone); if they dropped some of a
/// registration's filters, `reregister` and `deregister` still succeed, but
/// if they dropped all of them, the kernel cannot tell evq this apart from
/// a reused number, and the answer is [`Error::NotRegistered`] too. On
/// kqueue a failed `reregister` leaves the source unregistered (epoll keeps
/// the old registration).
///
/// # On io_uring
///
/// With the `io-uring` feature and [`Backend::IoUring`](crate::Backend),
/// `register`, `reregister` and `deregister` answer
/// [`Error::AlreadyRegistered`] and [`Error::NotRegistered`] from evq's own
/// record at once, and queue their request to the kernel: it is submitted
/// by the next [`Poll::poll`](crate::Poll::poll), or at once when a poll
/// is blocked on another thread, the queue is full, or `deregister` must
/// make the kernel let go of a file. What epoll answers synchronously about
/// the fd itself comes later: a fd already closed when the request is
/// submitted is dropped from the record (`EBADF`), and regular files and
/// directories are accepted and always ready (reported once with an edge
/// or oneshot trigger, by every poll with [`Trigger::Level`](crate::Trigger)).
/// The record is keyed by fd number alone, and a poll request holds its
/// file open: **closing a registered fd neither removes the registration
/// nor closes the file** (a socket's connection stays open) until it is
/// deregistered; a new file that reuses the number reads as registered,
/// and if the number was reused before the request was submitted, the
/// request watches that new file, whatever it is, and holds it open.
/// Deregister before closing. (Event flags differ too: see
/// [`Event`](crate::Event).)
///
/// # On Windows
///
/// A source is a socket (`AsSocket`): std's or [`evq::net`](crate::net)'s
/// TCP and UDP sockets, `OwnedSocket`, `BorrowedSocket`. evq keeps its own
/// record, keyed by the socket's base handle (`WSAIoctl(SIO_BASE_HANDLE)`),
/// so [`Error::AlreadyRegistered`] and [`Error::NotRegistered`] come from
/// it (with `errno: None`), and keeps one `IOCTL_AFD_POLL` request in
/// flight per registered socket (see [`Trigger`] for how each trigger
/// maps onto these one-shot requests, and why `Trigger::Edge` wants
/// `evq::net`'s sockets). `register` makes one `WSAIoctl` and one
/// `NtDeviceIoControlFile`; `reregister` one `WSAIoctl` and one
/// `NtDeviceIoControlFile`, or one `NtCancelIoFileEx` when the request in
/// flight lacks events now asked for (the poll then submits the new
/// request: a poll blocked on another thread is woken to do it);
/// `deregister` one `WSAIoctl` and one `NtCancelIoFileEx`, and a completion
/// of the cancelled request, even one already queued, is never reported.
/// A registered socket that is closed leaves the record only when a poll
/// collects its request's `AFD_POLL_LOCAL_CLOSE` completion: until then a
/// new socket that reuses its handle value reads as registered
/// (`AlreadyRegistered`), and readiness the kernel reported before the
/// close may still come, once, with the old token. Deregister before
/// closing (as with io_uring). Debug builds cannot check that a socket is
/// non-blocking (Windows cannot tell).
///
/// # Errors
///
/// | call | when | error |
/// |---|---|---|
/// | `register*` | the fd is already registered here | [`Error::AlreadyRegistered`] |
/// | `reregister*`, `deregister` | the fd is not registered here | [`Error::NotRegistered`] |
/// | `register*`, `reregister*` | `interest` is empty | [`Error::InvalidInput`] |
/// | `register*` | debug builds only: a socket in blocking mode | [`Error::InvalidInput`] |
/// | any | the OS refuses, e.g. a regular file on epoll (`EPERM`) or a closed fd (`EBADF`) | [`Error::Os`] |
#[derive(Debug)]
pub struct Registry {
    selector: Selector,
    wake_gate: Arc<WakeGate>,
}

impl Registry {
    pub(crate) fn new(selector: Selector) -> Registry {
        Registry {
            selector,
            wake_gate: Arc::default(),
        }
    }

    pub(crate) fn selector(&self) -> &Selector {
        &self.selector
    }

    pub(crate) fn wake_gate(&self) -> &Arc<WakeGate> {
        &self.wake_gate
    }

    /// Starts watching `source` for `interest`, edge-triggered, reporting
    /// its events with `token`.
    ///
    /// Same as [`register_with`](Registry::register_with) with
    /// [`Trigger::Edge`]: after an event, read or write until the source
    /// returns `WouldBlock`.
    ///
    /// Makes one `epoll_ctl(EPOLL_CTL_ADD)` call
    /// ([`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html));
    /// on kqueue, one `kevent` call adding a filter per direction
    /// ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)),
    /// and one more, which changes no registration, to ask the kernel when evq's
    /// record says the fd is registered already. On io_uring, none: a
    /// `POLL_ADD` is queued for the next poll (see "On io_uring" above).
    ///
    /// # Examples
    ///
    /// ```
    /// use evq::{Events, Interest, Poll, Token};
    /// use std::io::Write;
    /// use std::net::{TcpListener, TcpStream};
    /// use std::time::Duration;
    /// # fn main() -> std::io::Result<()> {
    /// let mut poll = Poll::new()?;
    /// let listener = TcpListener::bind("127.0.0.1:0")?;
    /// let mut writer = TcpStream::connect(listener.local_addr()?)?;
    /// let (reader, _) = listener.accept()?;
    /// reader.set_nonblocking(true)?;
    /// poll.registry().register(&reader, Token(7), Interest::READABLE)?;
    ///
    /// writer.write_all(b"ping")?;
    /// let mut events = Events::with_capacity(8);
    /// poll.poll(&mut events, Some(Duration::from_secs(5)))?;
    /// let event = events.iter().next().expect("the reader is ready");
    /// assert_eq!(event.token(), Token(7));
    /// assert!(event.is_readable());
    /// # Ok(())
    /// # }
    /// ```
    #[doc(alias = "epoll_ctl")]
    pub fn register<S: Source + ?Sized>(
        &self,
        source: &S,
        token: Token,
        interest: Interest,
    ) -> Result<()> {
        self.register_with(source, token, interest, Trigger::Edge)
    }

    /// Starts watching `source` for `interest` with the given [`Trigger`],
    /// reporting its events with `token`.
    ///
    /// Fails with [`Error::AlreadyRegistered`] if `source` is already
    /// registered with this poll instance, with [`Error::InvalidInput`] if
    /// `interest` is empty or, in debug builds, if `source` is a socket in
    /// blocking mode (one `fcntl(F_GETFL)` and, for an fd without
    /// `O_NONBLOCK`, one `getsockopt(SO_TYPE)` to find out), and with
    /// [`Error::Os`] if the OS cannot watch it: regular files and directories are always "ready" and epoll
    /// refuses them (`EPERM`); kqueue accepts them.
    ///
    /// Makes one `epoll_ctl(EPOLL_CTL_ADD)` call
    /// ([`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html));
    /// on kqueue, one `kevent` call adding a filter per direction
    /// ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)),
    /// and one more, which changes no registration, to ask the kernel when evq's
    /// record says the fd is registered already. On io_uring, none: a
    /// `POLL_ADD` is queued for the next poll (see "On io_uring" above).
    #[doc(alias = "epoll_ctl")]
    pub fn register_with<S: Source + ?Sized>(
        &self,
        source: &S,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        source.register(self, token, known(interest)?, trigger)
    }

    /// Changes the token and interest of a registered `source`, making it
    /// edge-triggered; also re-arms a oneshot registration.
    ///
    /// Same as [`reregister_with`](Registry::reregister_with) with
    /// [`Trigger::Edge`]. **This replaces the registration's trigger**: a
    /// source registered [`Trigger::Level`] or [`Trigger::Oneshot`] becomes
    /// plain edge-triggered (the kernel keeps no separate trigger to
    /// preserve), so re-arm or update those with `reregister_with` and
    /// their trigger.
    ///
    /// Makes one `epoll_ctl(EPOLL_CTL_MOD)` call
    /// ([`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html));
    /// on kqueue, one `kevent` call replacing the filters ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)),
    /// and one more to take the new ones back if none of the old ones
    /// existed (the fd number was reused: `NotRegistered`).
    /// On io_uring, none: a `POLL_REMOVE` of the old request (unless it
    /// fired or was never submitted) and a `POLL_ADD` are queued.
    #[doc(alias = "epoll_ctl")]
    pub fn reregister<S: Source + ?Sized>(
        &self,
        source: &S,
        token: Token,
        interest: Interest,
    ) -> Result<()> {
        self.reregister_with(source, token, interest, Trigger::Edge)
    }

    /// Changes the token, interest and trigger of a registered `source`.
    ///
    /// This is how a [`Trigger::Oneshot`] or [`Trigger::EdgeOneshot`]
    /// registration is re-armed after its event; pass the oneshot trigger
    /// again to keep it oneshot. If the source is ready when re-armed, the
    /// next poll reports it.
    ///
    /// Fails with [`Error::NotRegistered`] if `source` is not registered
    /// with this poll instance and with [`Error::InvalidInput`] if
    /// `interest` is empty.
    ///
    /// Makes one `epoll_ctl(EPOLL_CTL_MOD)` call
    /// ([`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html));
    /// on kqueue, one `kevent` call replacing the filters ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)),
    /// and one more to take the new ones back if none of the old ones
    /// existed (the fd number was reused: `NotRegistered`).
    /// On io_uring, none: a `POLL_REMOVE` of the old request (unless it
    /// fired or was never submitted) and a `POLL_ADD` are queued.
    #[doc(alias = "epoll_ctl")]
    pub fn reregister_with<S: Source + ?Sized>(
        &self,
        source: &S,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        source.reregister(self, token, known(interest)?, trigger)
    }

    /// Stops watching `source`.
    ///
    /// Once this returns, no later poll reports an event for it, even one
    /// that was ready and not yet collected. (A poll already running on
    /// another thread may still return one it collected before.) A disarmed
    /// oneshot registration is deregistered like any other.
    ///
    /// Fails with [`Error::NotRegistered`] if `source` is not registered
    /// with this poll instance. For a registered fd that has been closed
    /// since, epoll and FreeBSD answer `EBADF` ([`Error::Os`]); macOS
    /// answers [`Error::NotRegistered`] (its kernel finds filters by number
    /// without looking the fd up, and closing removed them).
    ///
    /// Makes one `epoll_ctl(EPOLL_CTL_DEL)` call
    /// ([`epoll_ctl(2)`](https://man7.org/linux/man-pages/man2/epoll_ctl.2.html));
    /// on kqueue, one `kevent` call with `EV_DELETE` ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)).
    /// On io_uring, one `io_uring_enter` submitting a `POLL_REMOVE`, so
    /// that the kernel lets go of the file before this returns; none if the
    /// registration was never submitted (it is taken back from the queue)
    /// or was a fired oneshot.
    #[doc(alias = "epoll_ctl")]
    pub fn deregister<S: Source + ?Sized>(&self, source: &S) -> Result<()> {
        source.deregister(self)
    }

    /// Another handle to the same poll instance, to move to another thread.
    ///
    /// Registrations made through either handle are one set, reported by
    /// the one [`Poll`](crate::Poll). The handles share the poll's
    /// descriptor (reference-counted: it is closed when the `Poll` and
    /// every clone are dropped), so a clone makes no system call and opens
    /// no descriptor; `as_raw_fd` (`as_raw_handle` on Windows) is the same number
    /// for all of them.
    ///
    /// Never fails today; the `Result` leaves room for a backend that
    /// needs resources per handle.
    pub fn try_clone(&self) -> Result<Registry> {
        Ok(Registry {
            selector: self.selector.try_clone()?,
            wake_gate: Arc::clone(&self.wake_gate),
        })
    }
}

/// The hooks through which sources reach the backend: the one place a file
/// descriptor (on Windows, a socket) becomes a kernel registration. The
/// [`Source`] impl for `AsFd` (`AsSocket`) types calls these; a later
/// source the kernel knows by something else (a kqueue timer) gets its own
/// hook here, implemented by the backends that have it, so `Source` impls
/// never name a backend.
///
/// The hooks check `interest` again, because `Source` methods are public
/// and may be called directly.
impl Registry {
    #[inline]
    pub(crate) fn register_raw(
        &self,
        source: BorrowedSource<'_>,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let interest = known(interest)?;
        // Miri has no getsockopt; Windows cannot tell a socket's blocking
        // mode.
        #[cfg(all(unix, debug_assertions, not(miri)))]
        if crate::backend::is_blocking_socket(source) {
            return Err(Error::InvalidInput {
                reason: "a socket in blocking mode: call set_nonblocking(true) before \
                         registering it (evq checks this in debug builds)",
            });
        }
        self.selector
            .register(raw_source(source), token, interest, trigger)
    }

    #[inline]
    pub(crate) fn reregister_raw(
        &self,
        source: BorrowedSource<'_>,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let interest = known(interest)?;
        self.selector
            .reregister(raw_source(source), token, interest, trigger)
    }

    #[inline]
    pub(crate) fn deregister_raw(&self, source: BorrowedSource<'_>) -> Result<()> {
        self.selector.deregister(raw_source(source))
    }
}

/// The hooks of the sources kqueue knows by something other than a
/// descriptor (`Timer`, `Signals`, `ChildExit`): their filters go straight
/// into the poll's kqueue.
#[cfg(evq_kqueue)]
impl Registry {
    pub(crate) fn register_watched(
        &self,
        source: &dyn crate::backend::Watched,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        source.watch(&self.selector, token, known(interest)?, trigger)
    }

    pub(crate) fn reregister_watched(
        &self,
        source: &dyn crate::backend::Watched,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        source.rewatch(&self.selector, token, known(interest)?, trigger)
    }

    pub(crate) fn deregister_watched(&self, source: &dyn crate::backend::Watched) -> Result<()> {
        source.unwatch(&self.selector)
    }
}

#[cfg(unix)]
impl AsFd for Registry {
    /// The poll instance's descriptor (the epoll or kqueue fd).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.selector.as_fd()
    }
}

#[cfg(unix)]
impl AsRawFd for Registry {
    fn as_raw_fd(&self) -> RawFd {
        self.selector.as_fd().as_raw_fd()
    }
}

#[cfg(windows)]
impl AsHandle for Registry {
    /// The poll instance's I/O completion port.
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.selector.as_handle()
    }
}

#[cfg(windows)]
impl AsRawHandle for Registry {
    fn as_raw_handle(&self) -> RawHandle {
        self.selector.as_handle().as_raw_handle()
    }
}

/// The flags evq knows, or `InvalidInput` if there are none.
#[inline]
fn known(interest: Interest) -> Result<Interest> {
    let known = interest & Interest::all();
    if known.is_empty() {
        return Err(Error::InvalidInput {
            reason: "empty interest: ask for READABLE, WRITABLE or both",
        });
    }
    Ok(known)
}
