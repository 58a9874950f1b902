//! The kqueue child-exit source: `EVFILT_PROC` with `NOTE_EXIT` in a queue
//! of its own (`source_queue.rs`), and `waitpid`.
//!
//! The filter is attached to the process itself, not to its number, and the
//! child cannot be replaced under its pid before someone reaps it. Its exit
//! event is never collected, so the queue, and the source, stays readable
//! from the exit on, as a pidfd does. A kernel that refuses to attach to a
//! child that has already exited (`ESRCH`) gets the child reaped at once
//! and a user event (`EVFILT_USER`, triggered) in its place.
//!
//! # References
//! - [`kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2) (`EVFILT_PROC`)
//! - [`waitpid(2)`](https://man.freebsd.org/cgi/man.cgi?query=waitpid&sektion=2)

use super::source_queue::SourceQueue;
use super::syscall::check;
use crate::{sys, Result};
use std::ffi::c_int;
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

/// ESRCH, the same on every kqueue OS.
const ESRCH: i32 = 3;

#[derive(Debug)]
pub(crate) struct ChildFd {
    queue: SourceQueue,
    pid: u32,
    /// The status, if `new` had to reap the child.
    reaped: Option<ExitStatus>,
}

impl ChildFd {
    /// `EV_ADD` of `EVFILT_PROC` with `NOTE_EXIT` for `pid`; if the kernel
    /// answers `ESRCH` (the child exited already), reaps it and triggers a
    /// user event instead.
    pub(crate) fn new(pid: u32) -> Result<ChildFd> {
        let queue = SourceQueue::new()?;
        let added = queue.apply(
            pid as usize,
            sys::EVFILT_PROC as i64,
            sys::EV_ADD,
            sys::NOTE_EXIT,
            0,
            "kevent(EVFILT_PROC)",
        );
        let reaped = match added {
            Ok(()) => None,
            Err(error) if error.raw_os_error() == Some(ESRCH) => {
                // Gone: exited and ours to reap, or not our child (ECHILD).
                let status = wait(pid)?.ok_or(error)?;
                let user = sys::EVFILT_USER as i64;
                queue.apply(0, user, sys::EV_ADD, 0, 0, "kevent(EVFILT_USER)")?;
                queue.apply(0, user, 0, sys::NOTE_TRIGGER, 0, "kevent(EVFILT_USER)")?;
                Some(status)
            }
            Err(error) => return Err(error),
        };
        Ok(ChildFd { queue, pid, reaped })
    }

    /// `waitpid(pid, WNOHANG)`.
    pub(crate) fn try_wait(&self) -> Result<Option<ExitStatus>> {
        match self.reaped {
            Some(status) => Ok(Some(status)),
            None => wait(self.pid),
        }
    }
}

/// `waitpid(pid, &status, WNOHANG)`: the status if the child has exited.
fn wait(pid: u32) -> Result<Option<ExitStatus>> {
    let mut status: c_int = 0;
    // SAFETY: `status` is writable for the call; WNOHANG never blocks.
    let ret = unsafe { sys::waitpid(pid as _, &mut status, sys::WNOHANG as c_int) };
    let ret = check(ret, "waitpid", None)?;
    Ok((ret != 0).then(|| ExitStatus::from_raw(status)))
}

impl AsFd for ChildFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.queue.as_fd()
    }
}
