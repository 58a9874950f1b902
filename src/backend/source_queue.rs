//! A kqueue of a source's own, never registered anywhere: where
//! `Signals` records the signals it has not returned yet and `ChildExit`
//! holds its process, whether or not the source is registered with a poll
//! (which watches the same kernel filters in its own kqueue:
//! `kqueue_watch.rs`). The source collects its events itself, without
//! waiting.

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
