//! Signals as event sources.

use crate::backend::SignalFd;
use crate::Result;
#[cfg(evq_epoll)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

/// A set of signals that a [`Poll`](crate::Poll) watches like any other
/// source: readable while one of them is pending, until
/// [`pending`](Signals::pending) takes it.
///
/// Register it for [`Interest::READABLE`](crate::Interest::READABLE); after
/// an event, take every pending signal with `pending`, which never blocks.
/// A signal reported here never reaches its handler or default action
/// (terminating the process, for most): on Linux reading it consumes it, on
/// kqueue it stays blocked.
///
/// # The signal mask: what evq does, and what you must do
///
/// A signal can only be waited for while it is *blocked*; otherwise the
/// kernel delivers it at once, to its handler or default action.
/// [`new`](Signals::new) and [`add`](Signals::add) therefore block their
/// signals with `pthread_sigmask(SIG_BLOCK)` **in the calling thread only**:
/// the mask is per thread, and no thread can change another's. A signal
/// sent to the process goes to some thread that does not block it, if there
/// is one, and then never reaches the `Signals`. So:
///
/// - **Create the `Signals` in the main thread before starting any other
///   thread** (threads inherit their creator's mask), or block the signals
///   yourself in every thread that exists. The Rust test harness, for
///   example, runs each test in a thread of its own.
/// - evq never unblocks a signal: not in [`remove`](Signals::remove), not
///   on drop. Unblocking a pending signal would deliver it at once.
/// - Signal *dispositions* (handlers, `SIG_IGN`) are left alone. A blocked
///   signal is queued even if its disposition is `SIG_IGN` (`signal(7)`),
///   so `Signals` sees ignored signals too.
/// - Only signals sent to the process (`kill`), or to the thread that calls
///   `pending`, are seen: one sent with `pthread_kill` to another thread
///   stays pending in that thread.
///
/// Standard signals do not queue: sent several times before `pending` takes
/// them, a signal is reported once. Realtime signals queue and are
/// reported once per sending.
///
/// # Children, `fork` and `exec`
///
/// The blocked mask is inherited by `fork` and kept across `exec`, and
/// [`std::process::Command`] does not reset it: **programs you start have
/// these signals blocked**, which most do not expect (a blocked `SIGTERM`
/// or `SIGINT` no longer stops them). Unblock them in the child between
/// `fork` and `exec`:
///
/// ```
/// use std::os::unix::process::CommandExt;
/// use std::process::Command;
/// # fn main() -> std::io::Result<()> {
/// # let _signals = evq::Signals::new(&[evq::sys::SIGUSR1 as i32])?;
/// let mut command = Command::new("true");
/// // SAFETY: the closure only calls sigemptyset and pthread_sigmask, which
/// // are async-signal-safe, as code between fork and exec must be.
/// unsafe {
///     command.pre_exec(|| {
///         let mut empty = std::mem::MaybeUninit::uninit();
///         evq::sys::sigemptyset(empty.as_mut_ptr());
///         let how = evq::sys::SIG_SETMASK as i32;
///         evq::sys::pthread_sigmask(how, empty.as_ptr(), std::ptr::null_mut());
///         Ok(())
///     });
/// }
/// assert!(command.status()?.success());
/// # Ok(())
/// # }
/// ```
///
/// Signals that were *pending* are not inherited by a `fork` child, but
/// survive `exec`. After `fork`, the child's copy of the descriptor reports
/// the child's signals; `exec` closes it (close-on-exec).
///
/// # Two `Signals` for one signal
///
/// Both become readable. On Linux the first `pending` takes the signal:
/// exactly one of them reports each sending. On kqueue both report it.
///
/// # Per platform
///
/// | | Linux, Android | macOS, iOS, FreeBSD (kqueue) |
/// |---|---|---|
/// | the source | a signalfd: `signalfd(-1, mask, SFD_NONBLOCK \| SFD_CLOEXEC)` ([`signalfd(2)`](https://man7.org/linux/man-pages/man2/signalfd.2.html)), which [`AsFd`](std::os::fd::AsFd) exposes | a kqueue of its own, never registered anywhere, with one `EVFILT_SIGNAL` per signal, which records the sendings `pending` returns ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)); in each poll the source is registered with, the same filters and an `EVFILT_USER` event, the one the poll reports |
/// | new, add | `pthread_sigmask(SIG_BLOCK)` ([`pthread_sigmask(3)`](https://man7.org/linux/man-pages/man3/pthread_sigmask.3.html)), then `signalfd` | `pthread_sigmask(SIG_BLOCK)`, then one `kevent` per signal, and one per poll registered with |
/// | remove | `signalfd` with the smaller mask | one `kevent` (`EV_DELETE`), and one per poll registered with |
/// | pending | one `read` per signal, and one more that finds none | one `kevent` collecting up to 32 signals, and one more that finds none (with a level registration, two more: taking its event back, and looking again) |
/// | when one arrives | the poll's `epoll_wait` returns the signalfd | the poll's `kevent` returns the signal's filter, which evq turns into the source's event with two more `kevent` calls |
/// | the signal | consumed: dequeued by the read | recorded, not consumed: it stays pending (and blocked) in the process, one instance per standard signal |
/// | two `Signals` for one signal | one of them reports it | both report it (each filter records every sending) |
///
/// kqueue's filter records a sending even when the signal is blocked or
/// ignored (`SIG_IGN`), except an ignored `SIGCHLD` (kqueue(2)). NetBSD and
/// OpenBSD have no `Signals` yet: their libc defines the signal-set
/// operations inline only, which evq's generated bindings cannot call.
/// On kqueue `Signals` implements [`Source`](crate::Source) itself, not
/// `AsFd`. Over libkqueue (kqueue emulated on Linux) the filters read the
/// signals from a signalfd of libkqueue's, which consumes them: they do not
/// stay pending in the process. Windows has no signals.
///
/// # Examples
///
/// ```
/// use evq::{Events, Interest, Poll, Signals, Token};
/// # fn main() -> evq::Result<()> {
/// let signal = evq::sys::SIGUSR1 as i32;
/// // In a real program: first thing in main, before any thread starts.
/// let signals = Signals::new(&[signal])?;
/// let mut poll = Poll::new()?;
/// poll.registry().register(&signals, Token(0), Interest::READABLE)?;
///
/// // SAFETY: kill takes no pointers.
/// unsafe { evq::sys::kill(std::process::id() as i32, signal) };
/// let mut events = Events::with_capacity(4);
/// poll.poll(&mut events, None)?;
/// assert_eq!(signals.pending().collect::<Vec<_>>(), [signal]);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Signals {
    inner: SignalFd,
}

impl Signals {
    /// Starts watching `signals`, after blocking them in the calling thread
    /// (read the type's documentation on the signal mask first).
    ///
    /// Fails with [`Error::InvalidInput`](crate::Error::InvalidInput) for a
    /// number that is no signal, and for `SIGKILL` and `SIGSTOP`, which
    /// cannot be blocked.
    ///
    /// Makes a `pthread_sigmask(SIG_BLOCK)` and a `signalfd(-1, mask,
    /// SFD_NONBLOCK | SFD_CLOEXEC)` call
    /// ([`signalfd(2)`](https://man7.org/linux/man-pages/man2/signalfd.2.html)).
    #[doc(alias = "signalfd")]
    pub fn new(signals: &[i32]) -> Result<Signals> {
        SignalFd::new(signals).map(|inner| Signals { inner })
    }

    /// Adds `signal` to the watched set, after blocking it in the calling
    /// thread. Adding a watched signal again changes nothing.
    ///
    /// Fails as [`new`](Signals::new) does. Makes a
    /// `pthread_sigmask(SIG_BLOCK)` and a `signalfd` call that replaces the
    /// set.
    pub fn add(&self, signal: i32) -> Result<()> {
        self.inner.add(signal)
    }

    /// Stops watching `signal`. It stays blocked: a later sending stays
    /// pending in the process, where another `Signals` (or unblocking it)
    /// finds it.
    ///
    /// Fails with [`Error::InvalidInput`](crate::Error::InvalidInput) for a
    /// number that is no signal. Makes one `signalfd` call that replaces the
    /// set.
    pub fn remove(&self, signal: i32) -> Result<()> {
        self.inner.remove(signal)
    }

    /// Takes the watched signals that are pending, lowest number first;
    /// empty if there is none. Never blocks. A signal taken here is
    /// consumed.
    ///
    /// The iterator reads one signal per step (one `read` of a
    /// `signalfd_siginfo`), ending at the first read that finds none (or
    /// fails, which a signalfd does not do in practice).
    pub fn pending(&self) -> impl Iterator<Item = i32> + '_ {
        std::iter::from_fn(|| self.inner.next_pending().ok().flatten())
    }
}

#[cfg(evq_epoll)]
impl AsFd for Signals {
    /// The signalfd (Linux and Android only).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(evq_epoll)]
impl AsRawFd for Signals {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_fd().as_raw_fd()
    }
}

// On kqueue: no descriptor; its kernel filters go into the poll's kqueue.
#[cfg(evq_kqueue)]
crate::source::watched_source!(Signals);
