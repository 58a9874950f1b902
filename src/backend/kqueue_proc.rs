//! The kqueue child-exit source: `EVFILT_PROC` with `NOTE_EXIT` in a kqueue
//! of the source's own, which holds the process from `new` on and records
//! its exit, and `waitpid`. In each poll the source is registered with, an
//! `EVFILT_PROC` filter of the poll's rings its watch (`kqueue_watch.rs`).
//!
//! The filter is attached to the process itself, not to its number, and the
//! child cannot be replaced under its pid before someone reaps it. A kernel
//! that refuses to attach to a child that has exited already (`ESRCH`) gets
//! the child reaped at once (by `new`) or marked exited (by a
//! registration), and the source is ready from then on, as a pidfd is.
//!
//! # References
//! - [`kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2) (`EVFILT_PROC`)
//! - [`waitpid(2)`](https://man.freebsd.org/cgi/man.cgi?query=waitpid&sektion=2)

use super::kqueue::{change, RawEvent, Selector};
use super::kqueue_watch::{Doorbell, Watch, Watched, Watches};
use super::source_queue::SourceQueue;
use super::syscall::check;
use crate::{sys, Interest, Result, Token, Trigger};
use std::ffi::c_int;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

/// ESRCH, the same on every kqueue OS.
const ESRCH: i32 = 3;

#[derive(Debug)]
pub(crate) struct ChildFd {
    /// Holds the process, and records its exit.
    queue: SourceQueue,
    pid: u32,
    state: Arc<ChildState>,
}

#[derive(Debug, Default)]
struct ChildState {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Seen to have exited (or reaped).
    exited: bool,
    /// The status, if `new` had to reap the child.
    reaped: Option<ExitStatus>,
    watches: Watches,
}

impl ChildFd {
    /// `EV_ADD` of `EVFILT_PROC` with `NOTE_EXIT` for `pid`; if the kernel
    /// answers `ESRCH` (the child exited already), reaps it.
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
        let mut inner = Inner::default();
        match added {
            Ok(()) => {}
            Err(error) if error.raw_os_error() == Some(ESRCH) => {
                // Gone: exited and ours to reap, or not our child (ECHILD).
                inner.reaped = Some(wait(pid)?.ok_or(error)?);
                inner.exited = true;
            }
            Err(error) => return Err(error),
        }
        let state = Arc::new(ChildState {
            inner: Mutex::new(inner),
        });
        Ok(ChildFd { queue, pid, state })
    }

    /// `waitpid(pid, WNOHANG)`, unless `new` reaped the child.
    pub(crate) fn try_wait(&self) -> Result<Option<ExitStatus>> {
        let mut inner = self.state.lock();
        if let Some(status) = inner.reaped {
            return Ok(Some(status));
        }
        let status = wait(self.pid)?;
        inner.exited |= status.is_some();
        Ok(status)
    }

    /// Whether the child has exited: known already, or its exit event is in
    /// the queue (one `kevent` collecting it).
    fn exited(&self, inner: &mut Inner) -> Result<bool> {
        if !inner.exited {
            let mut buffer = [RawEvent::default(); 1];
            inner.exited = self.queue.collect(&mut buffer)? > 0;
        }
        Ok(inner.exited)
    }

    /// Makes the exit ring `watch`: the process filter in the poll's
    /// kqueue. `ESRCH`: the child has exited (a kernel that refuses to
    /// attach to a zombie), so nothing will ring; the caller fires the
    /// watch.
    fn listen(&self, watch: &mut Watch) -> Result<bool> {
        let filter = sys::EVFILT_PROC as i64;
        let ident = self.pid as usize;
        let source: Weak<dyn Doorbell> = Arc::downgrade(&self.state) as Weak<_>;
        let add = change(ident, filter, sys::EV_ADD, sys::NOTE_EXIT, Token(0));
        let operation = "kevent(EVFILT_PROC)";
        match watch.listen(filter, ident, Some(add), Weak::clone(&source), operation) {
            Ok(()) => Ok(false),
            Err(error) if error.raw_os_error() == Some(ESRCH) => {
                watch.listen(filter, ident, None, source, operation)?;
                Ok(true)
            }
            Err(error) => Err(error),
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

impl ChildState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Each update is one assignment.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Doorbell for ChildState {
    /// The child exited: ready from now on.
    fn rung(&self, _event: &RawEvent, watch: usize, changes: &mut Vec<RawEvent>) {
        let mut inner = self.lock();
        inner.exited = true;
        inner.watches.fire_in(watch, changes);
    }
}

impl Watched for ChildFd {
    /// Adds the watch's user event (fired if the child has exited) and,
    /// while the child runs, the process filter.
    fn watch(
        &self,
        selector: &Selector,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut inner = self.state.lock();
        inner.watches.check_new(selector)?;
        let exited = self.exited(&mut inner)?;
        let mut watch = Watch::new(selector, token, interest, trigger, exited)?;
        // An exited child is ready for good: nothing to listen to (and its
        // pid, once reaped, may be another process's).
        if !exited && self.listen(&mut watch)? {
            inner.exited = true;
            watch.fire()?;
        }
        inner.watches.push(watch);
        Ok(())
    }

    fn rewatch(
        &self,
        selector: &Selector,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut inner = self.state.lock();
        let exited = self.exited(&mut inner)?;
        inner
            .watches
            .find(selector)?
            .rearm(token, interest, trigger, exited)
    }

    fn unwatch(&self, selector: &Selector) -> Result<()> {
        self.state.lock().watches.remove(selector)
    }
}
