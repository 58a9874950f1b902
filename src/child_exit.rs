//! A child process's exit as an event source.

use crate::backend::ChildFd;
use crate::Result;
#[cfg(evq_epoll)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::process::{Child, ExitStatus};
use std::sync::OnceLock;

/// A child process that a [`Poll`](crate::Poll) watches: readable once the
/// child has exited, and from then on.
///
/// Register it for [`Interest::READABLE`](crate::Interest::READABLE); after
/// the event, [`try_wait`](ChildExit::try_wait) reaps the child and returns
/// its status. The event stays: with [`Trigger::Level`](crate::Trigger::Level)
/// it repeats until you deregister the `ChildExit` (or drop it), so
/// deregister it once the child is handled.
///
/// # Races, and reaping
///
/// - **A child that exited before `new` or before registering** is
///   reported at once: the source is readable whenever the child has
///   exited, not only at the moment it does.
/// - **pid reuse.** The `ChildExit` holds the *process*, not its number:
///   a pidfd (or kqueue's process filter) stays attached to the process it
///   was opened for, and never refers to a later process that reuses the
///   pid; and an unreaped child keeps its pid. On Linux,
///   [`new`](ChildExit::new) checks that the pid still names an unreaped
///   child of this process, so a `Child` that was already waited for
///   (whose pid may belong to some other process now) is refused with
///   `ECHILD` (kqueue: see below).
/// - **Reap in one place.** `try_wait` reaps the child, as
///   [`Child::try_wait`] does. Once either has reaped it, the other fails
///   with `ECHILD` ("no child processes"); `ChildExit::try_wait` keeps the
///   status it reaped and returns it again. Don't set `SIGCHLD` to
///   `SIG_IGN`: the kernel then reaps children itself, and neither finds a
///   status.
///
/// # Per platform
///
/// | | Linux 5.4 and later, Android | macOS, iOS, BSDs (kqueue) |
/// |---|---|---|
/// | the source | a pidfd: `pidfd_open(pid, 0)` ([`pidfd_open(2)`](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)), close-on-exec, which [`AsFd`](std::os::fd::AsFd) exposes | a kqueue of its own, never registered anywhere, with `EVFILT_PROC` and `NOTE_EXIT` ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)), which holds the process and records its exit; in each poll the source is registered with, the same filter and an `EVFILT_USER` event, the one the poll reports (fired at registration if the child has exited: a kernel refuses the filter for an exited child with `ESRCH`, or reports the exit at once) |
/// | the check in `new` | `waitid(P_PIDFD, pidfd, WEXITED \| WNOHANG \| WNOWAIT)` | the `kevent` that adds the filter (`ESRCH`: the child is gone; if it is an exited child of ours, `new` reaps it with `waitpid` and the source is readable at once) |
/// | try_wait | `poll` on the pidfd; once it shows the exit, the check above and `waitpid(pid, WNOHANG)`, which then reaps the zombie holding that pid ([`waitid(2)`, `waitpid(2)`](https://man7.org/linux/man-pages/man2/waitid.2.html)) | `waitpid(pid, WNOHANG)` ([`waitpid(2)`](https://man.freebsd.org/cgi/man.cgi?query=waitpid&sektion=2)) |
///
/// On kqueue `new` cannot tell a child that was reaped already, and whose
/// pid went to some other process, from the child itself: it then watches
/// that process, and `try_wait` fails with `ECHILD` (unless the process is
/// a new child of this one). And `try_wait` waits by pid: the filter holds
/// the process, but `waitpid` names a number. Reap in one place, and create
/// the `ChildExit` before anything can reap the child.
///
/// Before Linux 5.3, `new` fails with an
/// [`Unsupported`](std::io::ErrorKind::Unsupported) error (`ENOSYS`), and on
/// 5.3, which has `pidfd_open` but not `P_PIDFD`, with `EINVAL`: evq plays
/// no `SIGCHLD` games as a fallback. On kqueue `ChildExit` implements
/// [`Source`](crate::Source) itself, not `AsFd`. Unix only: on Windows evq
/// has no `ChildExit` yet (a process handle is not a socket, which is all
/// the Windows backend watches).
///
/// # Examples
///
/// ```
/// use evq::{ChildExit, Events, Interest, Poll, Token};
/// use std::process::Command;
/// # fn main() -> std::io::Result<()> {
/// let mut poll = Poll::new()?;
/// let child = Command::new("true").spawn()?;
/// let exit = ChildExit::new(&child)?;
/// poll.registry().register(&exit, Token(0), Interest::READABLE)?;
///
/// let mut events = Events::with_capacity(4);
/// let status = loop {
///     if let Some(status) = exit.try_wait()? {
///         break status;
///     }
///     poll.poll(&mut events, None)?;
/// };
/// assert!(status.success());
/// poll.registry().deregister(&exit)?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ChildExit {
    inner: ChildFd,
    status: OnceLock<ExitStatus>,
}

impl ChildExit {
    /// Watches `child`, which must not have been reaped yet (waited for
    /// with [`Child::wait`], [`Child::try_wait`] returning a status, or
    /// anything else that reaps it).
    ///
    /// Fails with `ECHILD` if it was, and on kernels without pidfds as the
    /// type's documentation says.
    ///
    /// Makes a `pidfd_open(pid, 0)` and a `waitid(P_PIDFD, pidfd, WEXITED |
    /// WNOHANG | WNOWAIT)` call, which reaps nothing
    /// ([`pidfd_open(2)`](https://man7.org/linux/man-pages/man2/pidfd_open.2.html));
    /// on kqueue, makes a kqueue and adds the filter with one `kevent`
    /// (registering adds another to the poll's).
    #[doc(alias = "pidfd_open")]
    pub fn new(child: &Child) -> Result<ChildExit> {
        ChildFd::new(child.id()).map(|inner| ChildExit {
            inner,
            status: OnceLock::new(),
        })
    }

    /// The child's exit status if it has exited, reaping it; `None` if it
    /// is still running. Never blocks. Once it has returned a status, it
    /// returns the same again without a system call.
    ///
    /// Fails with `ECHILD` if something else reaped the child first.
    ///
    /// Makes one `poll` call on the pidfd while the child runs, and two
    /// more once it has exited: `waitid(P_PIDFD, pidfd, WEXITED | WNOHANG |
    /// WNOWAIT)` to check it is still an unreaped child of ours, then
    /// `waitpid(pid, WNOHANG)` to reap it
    /// ([`waitid(2)`](https://man7.org/linux/man-pages/man2/waitid.2.html));
    /// on kqueue, one `waitpid(pid, WNOHANG)`.
    #[doc(alias = "waitid", alias = "waitpid")]
    pub fn try_wait(&self) -> Result<Option<ExitStatus>> {
        if let Some(status) = self.status.get() {
            return Ok(Some(*status));
        }
        let status = self.inner.try_wait()?;
        Ok(status.map(|status| *self.status.get_or_init(|| status)))
    }
}

#[cfg(evq_epoll)]
impl AsFd for ChildExit {
    /// The pidfd (Linux and Android only).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(evq_epoll)]
impl AsRawFd for ChildExit {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_fd().as_raw_fd()
    }
}

// On kqueue: no descriptor; its kernel filters go into the poll's kqueue.
#[cfg(evq_kqueue)]
crate::source::watched_source!(ChildExit);
