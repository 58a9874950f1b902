//! The kqueue signal source: one `EVFILT_SIGNAL` per signal in a queue of
//! its own (`source_queue.rs`), and the calling thread's signal mask.
//!
//! `EVFILT_SIGNAL` records every attempt to deliver the signal to the
//! process, whatever its mask or disposition (kqueue(2): "even if the signal
//! has been marked as SIG_IGN", except an ignored `SIGCHLD`). It does not
//! take the signal: the kernel still delivers it. So evq blocks the signal,
//! as on Linux, and it stays pending in the process, where it does no harm
//! while blocked (standard signals keep at most one pending instance).
//!
//! # References
//! - [`kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2) (`EVFILT_SIGNAL`)
//! - [`sigprocmask(2)`](https://man.freebsd.org/cgi/man.cgi?query=sigprocmask&sektion=2)

use super::signal_mask;
use super::source_queue::SourceQueue;
use super::RawEvent;
use crate::{sys, Result};
use std::collections::VecDeque;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Mutex, PoisonError};

#[derive(Debug)]
pub(crate) struct SignalFd {
    queue: SourceQueue,
    /// Signals collected from the queue and not yet returned.
    collected: Mutex<VecDeque<i32>>,
}

impl SignalFd {
    pub(crate) fn new(signals: &[i32]) -> Result<SignalFd> {
        let source = SignalFd {
            queue: SourceQueue::new()?,
            collected: Mutex::default(),
        };
        for &signal in signals {
            source.add(signal)?;
        }
        Ok(source)
    }

    /// Blocks `signal` in the calling thread, then adds its filter
    /// (`EV_ADD | EV_CLEAR`).
    pub(crate) fn add(&self, signal: i32) -> Result<()> {
        let mut set = signal_mask::empty();
        signal_mask::add(&mut set, signal)?;
        signal_mask::block(&set)?;
        self.filter(signal, sys::EV_ADD | sys::EV_CLEAR)
    }

    /// Deletes `signal`'s filter (it stays blocked); one never added is
    /// fine.
    pub(crate) fn remove(&self, signal: i32) -> Result<()> {
        signal_mask::remove(&mut signal_mask::empty(), signal)?;
        match self.filter(signal, sys::EV_DELETE) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            outcome => outcome,
        }
    }

    /// The next signal collected from the queue, lowest number first among
    /// those collected together.
    pub(crate) fn next_pending(&self) -> Result<Option<i32>> {
        let mut collected = self
            .collected
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if collected.is_empty() {
            let mut buffer = [RawEvent::default(); 32];
            let n = self.queue.collect(&mut buffer)?;
            let mut signals: Vec<i32> =
                buffer[..n].iter().map(|event| event.ident as i32).collect();
            signals.sort_unstable();
            collected.extend(signals);
        }
        Ok(collected.pop_front())
    }

    fn filter(&self, signal: i32, flags: u32) -> Result<()> {
        self.queue.apply(
            signal as usize,
            sys::EVFILT_SIGNAL as i64,
            flags,
            0,
            0,
            "kevent(EVFILT_SIGNAL)",
        )
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.queue.as_fd()
    }
}
