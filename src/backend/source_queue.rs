//! A kqueue of a source's own: how `Timer`, `Signals` and `ChildExit` are
//! file descriptors on kqueue too.
//!
//! Their kernel filters (`EVFILT_TIMER`, `EVFILT_SIGNAL`, `EVFILT_PROC`)
//! are not descriptors, and their events carry what the source must report
//! (a timer's expirations, a signal's number). Each source therefore keeps
//! its filter in a kqueue of its own and hands that kqueue's descriptor to
//! the poll: a kqueue descriptor is readable while events are pending in it
//! (`EVFILT_READ` on a kqueue, kqueue(2)). The source's own calls (`read`,
//! `pending`) collect those events, so the poll's triggers (edge, level,
//! oneshot) apply to the source exactly as they do to a timerfd, signalfd
//! or pidfd on Linux, and every filter ident is private to its queue.
//!
//! libkqueue cannot nest a kqueue in another poll, so over libkqueue these
//! sources build but cannot be watched.

use super::kqueue::{change, first_error, RawEvent};
use super::syscall::check;
use super::Selector;
use crate::{sys, Result, Token};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::ptr;

#[derive(Debug)]
pub(crate) struct SourceQueue {
    kqueue: Selector,
}

impl SourceQueue {
    /// A close-on-exec kqueue (as `Poll::new` makes one).
    pub(crate) fn new() -> Result<SourceQueue> {
        Selector::new().map(|kqueue| SourceQueue { kqueue })
    }

    /// Applies one filter change (`EV_SET`) with `data`, and reports its
    /// receipt's error, if any.
    pub(crate) fn apply(
        &self,
        ident: usize,
        filter: i64,
        flags: u32,
        fflags: u32,
        data: i64,
        operation: &'static str,
    ) -> Result<()> {
        let mut record = change(ident, filter, flags, fflags, Token(0));
        record.data = data as _;
        let receipts = self.kqueue.submit(&[record])?;
        first_error(&receipts, operation, self.kqueue.as_fd().as_raw_fd())
    }

    /// Collects the pending events into `buffer` without waiting (one
    /// `kevent` with a zero timeout); returns how many there were.
    pub(crate) fn collect(&self, buffer: &mut [RawEvent]) -> Result<usize> {
        let kqueue = self.kqueue.as_fd().as_raw_fd();
        let zero = sys::timespec::default();
        // SAFETY: `buffer` is writable for `buffer.len()` records, and the
        // kernel writes no more; no changes are passed; the zero timeout
        // lives until the call returns.
        let n = unsafe {
            sys::kevent(
                kqueue,
                ptr::null(),
                0,
                buffer.as_mut_ptr(),
                buffer.len() as _,
                &zero,
            )
        };
        check(n, "kevent", Some(kqueue)).map(|n| n as usize)
    }
}

impl AsFd for SourceQueue {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.kqueue.as_fd()
    }
}
