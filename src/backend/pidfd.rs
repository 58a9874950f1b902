//! The Linux child-exit source: a pidfd.
//!
//! A pidfd refers to one process, not to a number: it stays attached to
//! that process while it runs, while it is a zombie and after it is reaped,
//! and never to a later process that reuses the pid. It is readable once the
//! process has exited, and stays readable. `waitid(P_PIDFD, ..)` asks about
//! exactly that process, and fails with `ECHILD` once anyone has reaped it
//! (or if it is not a child of this process).
//!
//! The status is reaped with `waitpid`, which gives it in the encoding
//! `ExitStatus` holds, and only once the pidfd has shown that the child
//! exited and `waitid` that it is still an unreaped child of ours: then it
//! is a zombie, which keeps its pid, so `waitpid` reaps that very process.
//! (No `siginfo_t` is read: its field names differ between libcs.)
//!
//! `pidfd_open` is called by number: its libc wrapper (glibc 2.36) is newer
//! than the system call (Linux 5.3), and the kernel has it or answers
//! `ENOSYS`.
//!
//! # References
//! - [`pidfd_open(2)`](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
//! - [`waitid(2)`, `waitpid(2)`](https://man7.org/linux/man-pages/man2/waitid.2.html)

use super::syscall::check;
use crate::{sys, Result};
use std::ffi::{c_int, c_long};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::ptr;

#[derive(Debug)]
pub(crate) struct ChildFd {
    pidfd: OwnedFd,
    pid: u32,
}

impl ChildFd {
    /// `pidfd_open(pid, 0)` (close-on-exec, always), then a check that the
    /// pid still names an unreaped child of this process.
    pub(crate) fn new(pid: u32) -> Result<ChildFd> {
        // SAFETY: pidfd_open takes a pid and flags, no pointers; a pid of
        // no process fails with ESRCH.
        let fd = unsafe {
            sys::syscall(
                sys::SYS_pidfd_open as c_long,
                // pids fit in an int (pid_max is at most 2^22).
                pid as c_long,
                0 as c_long,
            )
        };
        let fd = check(fd, "pidfd_open", None)? as c_int;
        // SAFETY: pidfd_open succeeded, so `fd` is a new descriptor that
        // nothing else owns.
        let pidfd = unsafe { OwnedFd::from_raw_fd(fd) };
        let child = ChildFd { pidfd, pid };
        child.check_unreaped_child()?;
        Ok(child)
    }

    /// Reaps the child if it has exited: `poll` on the pidfd (zero
    /// timeout); if it shows the exit, the `waitid` check, then
    /// `waitpid(pid, WNOHANG)`.
    pub(crate) fn try_wait(&self) -> Result<Option<ExitStatus>> {
        if !self.has_exited()? {
            return Ok(None);
        }
        self.check_unreaped_child()?;
        let mut status: c_int = 0;
        // SAFETY: `status` is writable for the call; WNOHANG never blocks.
        let ret = unsafe { sys::waitpid(self.pid as _, &mut status, sys::WNOHANG as c_int) };
        let ret = check(ret, "waitpid", None)?;
        Ok((ret != 0).then(|| ExitStatus::from_raw(status)))
    }

    /// `poll(pidfd, POLLIN, 0)`: readable once the process has exited.
    fn has_exited(&self) -> Result<bool> {
        let fd = self.pidfd.as_raw_fd();
        let mut entry = sys::pollfd {
            fd,
            events: sys::POLLIN as _,
            revents: 0,
        };
        // SAFETY: `entry` is one writable pollfd for the call's duration; a
        // zero timeout never blocks.
        let ret = unsafe { sys::poll(&mut entry, 1, 0) };
        check(ret, "poll", Some(fd))?;
        Ok(entry.revents & sys::POLLIN as std::ffi::c_short != 0)
    }

    /// `waitid(P_PIDFD, pidfd, WEXITED | WNOHANG | WNOWAIT)`, which reaps
    /// nothing and reads no status (no `siginfo_t`, which the kernel
    /// accepts): `ECHILD` if the process is no unreaped child of ours.
    fn check_unreaped_child(&self) -> Result<()> {
        let fd = self.pidfd.as_raw_fd();
        let options = (sys::WEXITED | sys::WNOHANG | sys::WNOWAIT) as c_int;
        // SAFETY: a null siginfo pointer is accepted by the kernel (and
        // passed on by the libc): nothing is written.
        let ret = unsafe { sys::waitid(sys::P_PIDFD, fd as _, ptr::null_mut(), options) };
        check(ret, "waitid(P_PIDFD)", Some(fd)).map(drop)
    }
}

impl AsFd for ChildFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }
}
