//! Waiting for readiness.

use crate::backend::Selector;
use crate::{Backend, Error, Events, Registry, Result};
use std::io;
#[cfg(unix)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
#[cfg(windows)]
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, RawHandle};
use std::time::{Duration, Instant};

/// A readiness event queue: the kernel's epoll (Linux, Android) or kqueue
/// (macOS, BSD) instance, or on Windows an I/O completion port with
/// `\Device\Afd` poll requests, and the one place its events are
/// collected.
///
/// Register sources through [`registry`](Poll::registry), then call
/// [`poll`](Poll::poll) in a loop. `Poll` is `Send + Sync`; `poll` takes
/// `&mut self`, so one thread polls at a time while any number register
/// through the [`Registry`] (or its [`try_clone`](Registry::try_clone)s).
///
/// The `Poll`, its [`Registry::try_clone`] handles and, on kqueue, its
/// [`Waker`](crate::Waker)s share one descriptor, closed (and with it the
/// kernel queue and its registrations) when the last of them is dropped.
/// evq never closes a registered source. On Windows the `Poll` and its
/// `Registry` handles share the completion port and the registrations;
/// when the last of them is dropped, every poll request still in flight is
/// cancelled and its completion collected (so the kernel writes no freed
/// memory), and the `\Device\Afd` handles close; the port closes with the
/// last `Waker`.
///
/// On io_uring the kernel tears a dropped ring down in the background, and
/// in doing so interrupts one blocking system call (`EINTR`) of each thread
/// that submitted to it, e.g. an `epoll_wait` of another library there.
/// evq's own polls resume after `EINTR`, as any code around a blocking call
/// must for signals.
///
/// # Examples
///
/// ```
/// use evq::{Events, Interest, Poll, Token};
/// use std::io::{Read, Write};
/// use std::net::{TcpListener, TcpStream};
/// use std::time::Duration;
/// # fn main() -> std::io::Result<()> {
/// let listener = TcpListener::bind("127.0.0.1:0")?;
/// let mut client = TcpStream::connect(listener.local_addr()?)?;
/// let (mut server, _) = listener.accept()?;
/// server.set_nonblocking(true)?;
///
/// let mut poll = Poll::new()?;
/// let mut events = Events::with_capacity(16);
/// poll.registry().register(&server, Token(0), Interest::READABLE)?;
///
/// client.write_all(b"hello")?;
/// poll.poll(&mut events, Some(Duration::from_secs(5)))?;
/// for event in &events {
///     assert_eq!(event.token(), Token(0));
///     let mut buf = [0; 16];
///     // Edge-triggered: read until WouldBlock.
///     loop {
///         match server.read(&mut buf) {
///             Ok(0) => break, // end of file
///             Ok(n) => assert_eq!(&buf[..n], b"hello"),
///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
///             Err(e) => return Err(e),
///         }
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Poll {
    registry: Registry,
}

impl Poll {
    /// A new, empty event queue.
    ///
    /// Makes one `epoll_create1(EPOLL_CLOEXEC)` call
    /// ([`epoll_create1(2)`](https://man7.org/linux/man-pages/man2/epoll_create1.2.html)):
    /// the descriptor is close-on-exec from the start. On kqueue:
    /// `kqueue1(O_CLOEXEC)` on NetBSD and OpenBSD, `kqueue()` then
    /// `fcntl(F_SETFD, FD_CLOEXEC)` on macOS and FreeBSD
    /// ([`kqueue(2)`](https://man.freebsd.org/cgi/man.cgi?query=kqueue&sektion=2)).
    /// On Windows: `CreateIoCompletionPort`, then `NtCreateFile` of
    /// `\Device\Afd\Evq` (not inheritable), `CreateIoCompletionPort`
    /// associating it with the port, and `SetFileCompletionNotificationModes`
    /// ([I/O completion ports](https://learn.microsoft.com/en-us/windows/win32/fileio/i-o-completion-ports)).
    ///
    /// With the `io-uring` feature on Linux it first tries io_uring
    /// ([`Backend::IoUring`]): `io_uring_setup` and two `mmap`s. If the
    /// kernel refuses (missing, older than 5.19, or forbidden by the
    /// `kernel.io_uring_disabled` sysctl or seccomp), it uses epoll, and
    /// remembers the refusal so that later calls go to epoll directly.
    #[doc(alias = "epoll_create1")]
    pub fn new() -> Result<Poll> {
        Selector::new().map(|selector| Poll {
            registry: Registry::new(selector),
        })
    }

    /// A new, empty event queue on the given [`Backend`].
    ///
    /// Fails with [`Error::InvalidInput`] for a backend this build of evq
    /// does not have (io_uring without the `io-uring` feature, kqueue on
    /// Linux, epoll elsewhere), and with [`Error::Os`] if the kernel refuses
    /// it: `io_uring_setup` fails with `ENOSYS` where io_uring is missing,
    /// `EPERM` where `kernel.io_uring_disabled` or seccomp forbids it and
    /// `EINVAL` on kernels older than 5.19. Unlike [`Poll::new`], it never
    /// falls back to another backend.
    ///
    /// Makes the calls [`Poll::new`] makes for that backend; for io_uring,
    /// `io_uring_setup`
    /// ([`io_uring_setup(2)`](https://man7.org/linux/man-pages/man2/io_uring_setup.2.html))
    /// and two `mmap`s of its rings.
    ///
    /// # Examples
    ///
    /// ```
    /// use evq::{Backend, Poll};
    /// # fn main() -> evq::Result<()> {
    /// // The backend `Poll::new` chose here can always be asked for by name.
    /// let chosen = Poll::new()?.backend();
    /// let poll = Poll::with_backend(chosen)?;
    /// assert_eq!(poll.backend(), chosen);
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_backend(backend: Backend) -> Result<Poll> {
        Selector::with_backend(backend).map(|selector| Poll {
            registry: Registry::new(selector),
        })
    }

    /// The kernel mechanism this poll uses.
    pub fn backend(&self) -> Backend {
        self.registry.selector().backend()
    }

    /// The handle for registering sources with this poll.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Waits until a registered source is ready or `timeout` passes, and
    /// stores the ready ones in `events`.
    ///
    /// `events` is cleared first; at most [`Events::capacity`] events are
    /// stored, and readiness that did not fit is reported by the next call.
    /// Returning with `events` empty means the timeout passed.
    ///
    /// - `None` waits as long as it takes.
    /// - `Some(Duration::ZERO)` checks and returns at once: exactly one
    ///   system call on epoll and kqueue; on io_uring none, unless
    ///   registrations are queued or the kernel flags completions it has
    ///   not posted yet (then one).
    /// - Any other timeout is never cut short: unless events arrive, the
    ///   call returns no sooner than `timeout` after it began. It is passed
    ///   to the kernel to the nanosecond where the kernel takes that
    ///   (`epoll_pwait2`, Linux 5.11 and later; kqueue). On older Linux
    ///   kernels, whose `epoll_wait` counts whole milliseconds, it is
    ///   rounded *up*. One too long for the kernel (over ~24 days with
    ///   `epoll_wait`) is waited in several steps. The kernel adds its
    ///   timer slack (50 µs by default on Linux,
    ///   [`prctl(PR_SET_TIMERSLACK)`](https://man7.org/linux/man-pages/man2/pr_set_timerslack.2const.html)).
    ///
    /// A signal that interrupts the wait (`EINTR`) does not end it: the
    /// wait resumes for the time that is left, measured from the start,
    /// rather than starting the full timeout again.
    ///
    /// Fails with [`Error::InvalidInput`] if `events` has zero capacity.
    ///
    /// Makes one `epoll_pwait2` call per wait with a timeout, and one
    /// `epoll_wait` call for `None` and `Some(ZERO)`, or for every wait on a
    /// kernel without `epoll_pwait2` (found out by the first wait with a
    /// timeout, which then costs one failed call, once per process)
    /// ([`epoll_wait(2)`](https://man7.org/linux/man-pages/man2/epoll_wait.2.html)),
    /// or one `kevent` call, whose timeout is a `timespec` (nanoseconds;
    /// NetBSD and OpenBSD count in clock ticks, rounding up)
    /// ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)).
    /// On io_uring, it reads the completion ring, and makes one
    /// `io_uring_enter` (submitting the queued registrations, waiting with
    /// a nanosecond `timespec`) only when the ring has no events for it or
    /// registrations are queued
    /// ([`io_uring_enter(2)`](https://man7.org/linux/man-pages/man2/io_uring_enter.2.html)).
    ///
    /// On Windows, one `GetQueuedCompletionStatusEx`
    /// ([docs](https://learn.microsoft.com/en-us/windows/win32/fileio/getqueuedcompletionstatusex-func)),
    /// whose timeout counts whole milliseconds (rounded up, so never
    /// early), collecting at most 256 completions; before it, one
    /// `NtDeviceIoControlFile` for each level-triggered source the previous
    /// poll reported (its next poll request), and after it one per
    /// completion that must be followed by a new request. If the
    /// completions it collected reported nothing but led to new requests
    /// (the cancellations a `reregister` makes), one more
    /// `GetQueuedCompletionStatusEx` that does not wait. Readiness reaches
    /// the port a moment after it happens (AFD completes the request
    /// asynchronously), so a `Some(ZERO)` poll right after data arrived may
    /// report nothing yet.
    #[doc(alias = "epoll_wait", alias = "epoll_pwait2")]
    pub fn poll(&mut self, events: &mut Events, timeout: Option<Duration>) -> Result<()> {
        let (buffer, capacity) = events.buffer();
        if capacity == 0 {
            buffer.clear();
            return Err(Error::InvalidInput {
                reason: "Events has zero capacity",
            });
        }
        if timeout.is_some_and(|timeout| timeout.is_zero()) {
            return self.poll_now(buffer, capacity);
        }
        // Read the clock only for a real timeout: `None` costs exactly one
        // syscall.
        let deadline = match timeout {
            Some(timeout) if !timeout.is_zero() => Instant::now().checked_add(timeout),
            _ => None,
        };
        let mut remaining = timeout;
        loop {
            match self.registry.selector().select(buffer, capacity, remaining) {
                Ok(()) if !buffer.is_empty() => {
                    self.registry.wake_gate().events_collected();
                    return Ok(());
                }
                Ok(()) if remaining == Some(Duration::ZERO) => return Ok(()),
                // Timed out (possibly early, after a clamped wait) or
                // interrupted: wait again for whatever is left.
                Ok(()) => {}
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(());
                }
                remaining = Some(left);
            }
        }
    }

    /// [`Poll::poll`] with a zero timeout, the call a busy loop makes most:
    /// one check, without the deadline and the wait loop (callgrind, with
    /// the epoll `select` inlined into it: 129 user-space instructions per
    /// call instead of 196; see BENCHMARKS.md).
    fn poll_now(&self, buffer: &mut Vec<crate::Event>, capacity: usize) -> Result<()> {
        let zero = Some(Duration::ZERO);
        loop {
            match self.registry.selector().select(buffer, capacity, zero) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
                Ok(()) => {
                    if !buffer.is_empty() {
                        self.registry.wake_gate().events_collected();
                    }
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(unix)]
impl AsFd for Poll {
    /// The epoll (or kqueue, or io_uring) descriptor, e.g. to nest this
    /// poll inside another event loop. (An io_uring descriptor is readable
    /// when its completion ring has entries; registrations reach its kernel
    /// side with its own next poll.)
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.registry.as_fd()
    }
}

#[cfg(unix)]
impl AsRawFd for Poll {
    fn as_raw_fd(&self) -> RawFd {
        self.registry.as_raw_fd()
    }
}

#[cfg(windows)]
impl AsHandle for Poll {
    /// The poll's I/O completion port. evq takes every completion queued
    /// there for its own: associating another handle with it, or posting
    /// to it, breaks the poll.
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.registry.as_handle()
    }
}

#[cfg(windows)]
impl AsRawHandle for Poll {
    fn as_raw_handle(&self) -> RawHandle {
        self.registry.as_raw_handle()
    }
}
