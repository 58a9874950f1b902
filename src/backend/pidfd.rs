//! The Linux child-exit source: a pidfd.
//!
//! A pidfd refers to one process, not to a number: it stays attached to
//! that process while it runs, while it is a zombie and after it is reaped,
//! and never to a later process that reuses the pid. It is readable once the
//! process has exited, and stays readable. `waitid(P_PIDFD, ..)` reaps
//! exactly that process, and fails with `ECHILD` once anyone has reaped it,
//! instead of waiting for some other process with the same number.
//!
//! `pidfd_open` is called by number: its libc wrapper (glibc 2.36) is newer
//! than the system call (Linux 5.3), and the kernel has it or answers
//! `ENOSYS`.
//!
//! # References
//! - [`pidfd_open(2)`](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
//! - [`waitid(2)`](https://man7.org/linux/man-pages/man2/waitid.2.html)

use super::syscall::check;
use crate::{sys, Result};
use std::ffi::{c_int, c_long};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

#[derive(Debug)]
pub(crate) struct ChildFd {
    pidfd: OwnedFd,
}

impl ChildFd {
    /// `pidfd_open(pid, 0)` (close-on-exec, always), then a
    /// `waitid(P_PIDFD, .., WNOWAIT)` that reaps nothing but fails with
    /// `ECHILD` if the pid no longer names a child of this process.
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
        let child = ChildFd { pidfd };
        child.wait(sys::WNOWAIT)?;
        Ok(child)
    }

    /// Reaps the child if it has exited: `waitid(P_PIDFD, fd, WEXITED |
    /// WNOHANG)`.
    pub(crate) fn try_wait(&self) -> Result<Option<ExitStatus>> {
        self.wait(0)
    }

    /// `waitid(P_PIDFD, fd, WEXITED | WNOHANG | extra)`, and the status if
    /// the child has exited.
    fn wait(&self, extra: u32) -> Result<Option<ExitStatus>> {
        let fd = self.pidfd.as_raw_fd();
        // SAFETY: siginfo_t is plain data, for which all zeroes is valid;
        // zeroed, it reads as "no child" (si_pid 0) unless waitid fills it.
        let mut info: sys::siginfo_t = unsafe { std::mem::zeroed() };
        let options = (sys::WEXITED | sys::WNOHANG | extra) as c_int;
        // SAFETY: `info` is a writable siginfo_t for the call's duration.
        let ret = unsafe { sys::waitid(sys::P_PIDFD, fd as sys::__id_t, &mut info, options) };
        check(ret, "waitid(P_PIDFD)", Some(fd))?;
        // SAFETY: waitid with WEXITED fills the SIGCHLD member of the union
        // when it reports a child, and leaves it zeroed otherwise.
        let sigchld = unsafe { info._sifields._sigchld };
        if sigchld.si_pid == 0 {
            return Ok(None);
        }
        Ok(Some(exit_status(info.si_code, sigchld.si_status)))
    }
}

/// The wait status `waitpid` would have returned, which is what
/// `ExitStatus` holds: the exit code in bits 8 to 15, or the signal in the
/// low 7 bits, with `__WCOREFLAG` if it dumped core.
fn exit_status(code: c_int, status: c_int) -> ExitStatus {
    let raw = match code as u32 {
        sys::CLD_EXITED => (status & 0xff) << 8,
        sys::CLD_DUMPED => status | sys::__WCOREFLAG as c_int,
        _ => status, // CLD_KILLED
    };
    ExitStatus::from_raw(raw)
}

impl AsFd for ChildFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses_decode_as_waitpid_would_give_them() {
        let exited = exit_status(sys::CLD_EXITED as c_int, 3);
        assert_eq!(exited.code(), Some(3));
        let killed = exit_status(sys::CLD_KILLED as c_int, 9);
        assert_eq!((killed.code(), killed.signal()), (None, Some(9)));
        assert!(!killed.core_dumped());
        let dumped = exit_status(sys::CLD_DUMPED as c_int, 6);
        assert_eq!(dumped.signal(), Some(6));
        assert!(dumped.core_dumped());
    }
}
