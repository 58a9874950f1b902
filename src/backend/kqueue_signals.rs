//! The kqueue signal source: one `EVFILT_SIGNAL` per signal in a kqueue
//! of the source's own, which records the sendings `pending` returns, and
//! the calling thread's signal mask. In each poll the source is registered
//! with, the same filters ring its watch (`kqueue_watch.rs`).
//!
//! `EVFILT_SIGNAL` records every attempt to deliver the signal to the
//! process, whatever its mask or disposition (kqueue(2): "even if the signal
//! has been marked as SIG_IGN", except an ignored `SIGCHLD`), in every
//! kqueue that has the filter. It does not take the signal: the kernel
//! still delivers it. So evq blocks the signal, as on Linux, and it stays
//! pending in the process, where it does no harm while blocked (standard
//! signals keep at most one pending instance).
//!
//! # References
//! - [`kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2) (`EVFILT_SIGNAL`)
//! - [`sigprocmask(2)`](https://man.freebsd.org/cgi/man.cgi?query=sigprocmask&sektion=2)

use super::kqueue::{change, RawEvent, Selector};
use super::kqueue_watch::{Doorbell, Watch, Watched, Watches};
use super::signal_mask;
use super::source_queue::SourceQueue;
use crate::{sys, Interest, Result, Token, Trigger};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

#[derive(Debug)]
pub(crate) struct SignalFd {
    /// The record: one filter per watched signal.
    queue: SourceQueue,
    state: Arc<SignalState>,
}

#[derive(Debug, Default)]
struct SignalState {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// The watched signals.
    signals: Vec<i32>,
    /// Signals collected from the record and not yet returned.
    collected: VecDeque<i32>,
    watches: Watches,
}

impl SignalFd {
    pub(crate) fn new(signals: &[i32]) -> Result<SignalFd> {
        let source = SignalFd {
            queue: SourceQueue::new()?,
            state: Arc::default(),
        };
        for &signal in signals {
            source.add(signal)?;
        }
        Ok(source)
    }

    /// Blocks `signal` in the calling thread, then adds its filter
    /// (`EV_ADD | EV_CLEAR`) to the record and to each poll the source is
    /// registered with.
    pub(crate) fn add(&self, signal: i32) -> Result<()> {
        let mut set = signal_mask::empty();
        signal_mask::add(&mut set, signal)?;
        signal_mask::block(&set)?;
        self.record(signal, sys::EV_ADD | sys::EV_CLEAR)?;
        let mut inner = self.state.lock();
        if inner.signals.contains(&signal) {
            return Ok(());
        }
        inner.signals.push(signal);
        let source = self.doorbell();
        for watch in inner.watches.iter_mut() {
            listen(watch, signal, Weak::clone(&source))?;
        }
        Ok(())
    }

    /// Deletes `signal`'s filters (it stays blocked); one never added is
    /// fine.
    pub(crate) fn remove(&self, signal: i32) -> Result<()> {
        signal_mask::remove(&mut signal_mask::empty(), signal)?;
        match self.record(signal, sys::EV_DELETE) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            outcome => outcome?,
        }
        let mut inner = self.state.lock();
        inner.signals.retain(|&s| s != signal);
        for watch in inner.watches.iter_mut() {
            watch.unlisten(sys::EVFILT_SIGNAL as i64, signal as usize);
        }
        Ok(())
    }

    /// The next signal collected from the record, lowest number first
    /// among those collected together. When there is none, takes back the
    /// events of level registrations, then looks once more, so that a
    /// signal arriving meanwhile is not left unreported.
    pub(crate) fn next_pending(&self) -> Result<Option<i32>> {
        let mut inner = self.state.lock();
        if inner.collected.is_empty() {
            self.collect(&mut inner)?;
            if inner.collected.is_empty() && inner.watches.iter().next().is_some() {
                for watch in inner.watches.iter() {
                    watch.quiet()?;
                }
                self.collect(&mut inner)?;
                if !inner.collected.is_empty() {
                    for watch in inner.watches.iter() {
                        watch.fire()?;
                    }
                }
            }
        }
        Ok(inner.collected.pop_front())
    }

    /// Moves what the record holds (one `kevent`) to `collected`.
    fn collect(&self, inner: &mut Inner) -> Result<()> {
        let mut buffer = [RawEvent::default(); 32];
        let n = self.queue.collect(&mut buffer)?;
        let mut signals: Vec<i32> = buffer[..n].iter().map(|event| event.ident as i32).collect();
        signals.sort_unstable();
        inner.collected.extend(signals);
        Ok(())
    }

    fn record(&self, signal: i32, flags: u32) -> Result<()> {
        self.queue.apply(
            signal as usize,
            sys::EVFILT_SIGNAL as i64,
            flags,
            0,
            0,
            "kevent(EVFILT_SIGNAL)",
        )
    }

    fn doorbell(&self) -> Weak<dyn Doorbell> {
        Arc::downgrade(&self.state) as Weak<_>
    }
}

/// Makes `signal` ring `watch`: its filter in the poll's kqueue.
fn listen(watch: &mut Watch, signal: i32, source: Weak<dyn Doorbell>) -> Result<()> {
    let filter = sys::EVFILT_SIGNAL as i64;
    let add = change(
        signal as usize,
        filter,
        sys::EV_ADD | sys::EV_CLEAR,
        0,
        Token(0),
    );
    watch.listen(
        filter,
        signal as usize,
        Some(add),
        source,
        "kevent(EVFILT_SIGNAL)",
    )
}

impl SignalState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Each update is one assignment or push.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Doorbell for SignalState {
    /// A watched signal was sent: the record has it too.
    fn rung(&self, _event: &RawEvent, watch: usize, changes: &mut Vec<RawEvent>) {
        self.lock().watches.fire_in(watch, changes);
    }
}

impl Watched for SignalFd {
    /// Adds the watch's user event (fired if a signal is waiting) and each
    /// watched signal's filter.
    fn watch(
        &self,
        selector: &Selector,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut inner = self.state.lock();
        inner.watches.check_new(selector)?;
        self.collect(&mut inner)?;
        let ready = !inner.collected.is_empty();
        let mut watch = Watch::new(selector, token, interest, trigger, ready)?;
        let source = self.doorbell();
        for &signal in &inner.signals {
            listen(&mut watch, signal, Weak::clone(&source))?;
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
        self.collect(&mut inner)?;
        let ready = !inner.collected.is_empty();
        inner
            .watches
            .find(selector)?
            .rearm(token, interest, trigger, ready)
    }

    fn unwatch(&self, selector: &Selector) -> Result<()> {
        self.state.lock().watches.remove(selector)
    }
}
