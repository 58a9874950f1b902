//! Sources the kernel knows by something other than a descriptor (a timer,
//! a signal, a process) in the poll's own kqueue: how `Timer`, `Signals`
//! and `ChildExit` are registered on kqueue.
//!
//! Each registration of such a source (a `Watch`) is two things in the
//! poll's kqueue:
//!
//! - a **user event** (`EVFILT_USER`, with an ident no other user event in
//!   the process has) carrying the registration's token and trigger
//!   (`EV_CLEAR` for edge, `EV_DISPATCH` for oneshot, neither for level).
//!   It is the only thing the poll reports for the source, so the triggers
//!   work as they do for a descriptor: a level event repeats until the
//!   source, made unready by its own call (`Timer::read`,
//!   `Signals::pending`), takes it back ("quiet": delete and re-add);
//! - the **kernel filters** that say the source may have become ready
//!   (`EVFILT_TIMER`, `EVFILT_SIGNAL`, `EVFILT_PROC`: "doorbells"). Their
//!   events never reach the caller: `select` hands each to the sources
//!   listening for it (`Doorbells`, keyed by filter and ident), which
//!   update themselves and say whether their user event fires; `select`
//!   fires those and collects them, with two more `kevent` calls.
//!
//! Why not the kernel filters alone: none can be level-triggered (FreeBSD
//! and XNU force `EV_CLEAR` on timers and signals, and a process exit is
//! `EV_ONESHOT`), a signal's or a process's ident is the signal number or
//! pid, which every source watching it in one kqueue shares, and a source
//! that is ready when registered or re-armed must be reported then. Why not
//! a kqueue of the source's own, registered in the poll's: libkqueue cannot
//! nest one kqueue in another.
//!
//! # References
//! - [`kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)
//!   (`EVFILT_USER`, `EVFILT_TIMER`, `EVFILT_SIGNAL`, `EVFILT_PROC`)

use super::kqueue::{change, filter, first_error, RawEvent, Selector, WeakSelector};
use super::syscall::check;
use super::user_event;
use crate::{sys, Error, Event, Interest, Result, Token, Trigger};
use std::collections::HashMap;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, Weak};

/// A source's side of its doorbells, called by `select`.
pub(crate) trait Doorbell: Send + Sync {
    /// The poll collected `event`, one of the kernel filters this source
    /// listens to through the watch whose user event is `watch`. Updates
    /// the source, adds to `changes` any kernel change to make (re-arming a
    /// timer), and adds the firing of the watch's user event if the source
    /// is ready (`Watches::fire_in`).
    fn rung(&self, event: &RawEvent, watch: usize, changes: &mut Vec<RawEvent>);
}

/// What a registered source does for the `Registry` hooks: each
/// registration is a `Watch` in the poll behind `selector`.
pub(crate) trait Watched {
    fn watch(
        &self,
        selector: &Selector,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()>;
    fn rewatch(
        &self,
        selector: &Selector,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()>;
    fn unwatch(&self, selector: &Selector) -> Result<()>;
}

/// One listener of a doorbell: a watch's user event and its source.
struct Listener {
    watch: usize,
    source: Weak<dyn Doorbell>,
}

/// The poll's table of doorbells: who listens to which kernel filter.
#[derive(Default)]
pub(crate) struct Doorbells {
    listeners: Mutex<HashMap<(i64, usize), Vec<Listener>>>,
    /// How many listeners there are: `select` looks at events only when
    /// some source is registered.
    count: AtomicUsize,
}

impl Doorbells {
    fn lock(&self) -> MutexGuard<'_, HashMap<(i64, usize), Vec<Listener>>> {
        // Every update is one insertion or removal.
        self.listeners
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `select` must look for doorbells.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        self.count.load(Ordering::Relaxed) > 0
    }

    /// Adds a listener; true if it is the first for this filter and ident.
    fn add(&self, key: (i64, usize), listener: Listener) -> bool {
        let mut listeners = self.lock();
        let list = listeners.entry(key).or_default();
        list.push(listener);
        self.count.fetch_add(1, Ordering::Relaxed);
        list.len() == 1
    }

    /// Removes `watch`'s listener; true if none is left for this filter
    /// and ident.
    fn remove(&self, key: (i64, usize), watch: usize) -> bool {
        let mut listeners = self.lock();
        let Some(list) = listeners.get_mut(&key) else {
            return true;
        };
        let before = list.len();
        list.retain(|listener| listener.watch != watch);
        self.count.fetch_sub(before - list.len(), Ordering::Relaxed);
        let last = list.is_empty();
        if last {
            listeners.remove(&key);
        }
        last
    }

    /// Takes the doorbell events out of the `events` a wait collected (all
    /// of `events` from `start` on), lets their sources answer, and fires
    /// the user events they ask for: one `kevent` submitting those changes,
    /// one more collecting (without waiting) into the room the doorbells
    /// left, where the fired events arrive. Repeats while that brings
    /// doorbells too.
    pub(crate) fn answer(&self, kqueue: RawFd, events: &mut Vec<Event>, max: usize) -> Result<()> {
        let mut start = 0;
        loop {
            let mut changes = Vec::new();
            let mut kept = start;
            for i in start..events.len() {
                let raw = events[i].raw();
                if is_doorbell(&raw) {
                    self.ring(&raw, &mut changes);
                } else {
                    events[kept] = events[i];
                    kept += 1;
                }
            }
            events.truncate(kept);
            if changes.is_empty() {
                return Ok(());
            }
            submit_ignoring_errors(kqueue, &changes)?;
            start = events.len();
            collect(kqueue, events, max)?;
        }
    }

    /// Lets every source listening to `event`'s filter and ident answer.
    // `ident` is `uintptr_t`: `usize` on every target, but not by name.
    #[allow(clippy::unnecessary_cast)]
    fn ring(&self, event: &RawEvent, changes: &mut Vec<RawEvent>) {
        // Copied out so that no source runs under the table's lock (a
        // source's own calls take its lock, then this one).
        let listeners: Vec<(usize, Weak<dyn Doorbell>)> =
            match self.lock().get(&(filter(event), event.ident as usize)) {
                Some(list) => list
                    .iter()
                    .map(|l| (l.watch, Weak::clone(&l.source)))
                    .collect(),
                None => return,
            };
        for (watch, source) in listeners {
            // A source dropped since: its watch deletes its user event.
            let Some(source) = source.upgrade() else {
                continue;
            };
            source.rung(event, watch, changes);
        }
    }
}

/// The kernel filters only watches add to a poll's kqueue.
fn is_doorbell(event: &RawEvent) -> bool {
    let filter = filter(event);
    filter == sys::EVFILT_TIMER as i64
        || filter == sys::EVFILT_SIGNAL as i64
        || filter == sys::EVFILT_PROC as i64
}

/// Submits `changes` (each with `EV_RECEIPT`), ignoring their receipts:
/// a user event deleted meanwhile (its source deregistered on another
/// thread) has nothing to fire.
fn submit_ignoring_errors(kqueue: RawFd, changes: &[RawEvent]) -> Result<()> {
    let mut receipts = vec![RawEvent::default(); changes.len()];
    let zero = sys::timespec::default();
    // SAFETY: `changes` is readable and `receipts` writable for
    // `changes.len()` records; with EV_RECEIPT on every change the kernel
    // writes one receipt each and drains no events; the zero timeout lives
    // until the call returns.
    let n = unsafe {
        sys::kevent(
            kqueue,
            changes.as_ptr(),
            changes.len() as _,
            receipts.as_mut_ptr(),
            receipts.len() as _,
            &zero,
        )
    };
    check(n, "kevent", Some(kqueue)).map(drop)
}

/// Collects, without waiting, into the room `events` has up to `max`.
fn collect(kqueue: RawFd, events: &mut Vec<Event>, max: usize) -> Result<()> {
    let start = events.len();
    let room = max.saturating_sub(start);
    if room == 0 {
        return Ok(());
    }
    let zero = sys::timespec::default();
    // SAFETY: `Event` is `#[repr(transparent)]` over `RawEvent`, and
    // `events` has room for `max >= start + room` records (`select` made
    // `max` at most its capacity); the kernel writes at most `room` after
    // the first `start`. The zero timeout lives until the call returns.
    let n = unsafe {
        sys::kevent(
            kqueue,
            ptr::null(),
            0,
            events.as_mut_ptr().add(start).cast::<RawEvent>(),
            room as _,
            &zero,
        )
    };
    let n = check(n, "kevent", Some(kqueue))?;
    // SAFETY: the kernel initialised the `n <= room` records after `start`.
    unsafe { events.set_len(start + n as usize) };
    Ok(())
}

/// One registration of a source in one poll: its user event, and the
/// doorbells it listens to. Dropping it deletes both. It does not keep the
/// poll's kqueue open: once the poll is gone, every change it would make is
/// moot, and it makes none.
#[derive(Debug)]
pub(crate) struct Watch {
    selector: WeakSelector,
    /// The user event's ident (also a timer's, in its own filter).
    ident: usize,
    token: Token,
    trigger: Trigger,
    /// Whether the interest has READABLE: the only readiness these
    /// sources have. Without it the watch never fires.
    readable: bool,
    listening: Vec<(i64, usize)>,
}

impl Watch {
    /// Adds the user event (`EV_ADD` with the trigger's flags), fired at
    /// once if the source is `ready`: one `kevent`.
    pub(crate) fn new(
        selector: &Selector,
        token: Token,
        interest: Interest,
        trigger: Trigger,
        ready: bool,
    ) -> Result<Watch> {
        let watch = Watch {
            selector: selector.downgrade(),
            ident: user_event::next_ident(),
            token,
            trigger,
            readable: interest.contains(Interest::READABLE),
            listening: Vec::new(),
        };
        let mut changes = vec![watch.add_user_event()];
        if ready && watch.readable {
            changes.push(watch.fire_user_event());
        }
        watch.submit(&changes, "kevent(EVFILT_USER)")?;
        Ok(watch)
    }

    /// Whether this watch is in the poll behind `selector`.
    pub(crate) fn is_in(&self, selector: &Selector) -> bool {
        self.selector.is(selector)
    }

    /// The user event's ident, which a timer's filter shares.
    pub(crate) fn ident(&self) -> usize {
        self.ident
    }

    /// Listens to the kernel filter `filter` on `ident` for `source`, and
    /// makes the change `add` (adding that filter) if given. A filter
    /// others listen to already is added again: `EV_ADD` of an existing
    /// filter changes nothing but its flags.
    pub(crate) fn listen(
        &mut self,
        filter: i64,
        ident: usize,
        add: Option<RawEvent>,
        source: Weak<dyn Doorbell>,
        operation: &'static str,
    ) -> Result<()> {
        let Some(selector) = self.selector.upgrade() else {
            return Ok(());
        };
        let key = (filter, ident);
        selector.doorbells().add(
            key,
            Listener {
                watch: self.ident,
                source,
            },
        );
        self.listening.push(key);
        if let Some(add) = add {
            if let Err(error) = self.submit(&[add], operation) {
                self.unlisten(filter, ident);
                return Err(error);
            }
        }
        Ok(())
    }

    /// Stops listening to `filter` on `ident`, deleting the filter if no
    /// one else in this poll listens to it (one that is gone already is
    /// fine: a timer or process event that fired).
    pub(crate) fn unlisten(&mut self, filter: i64, ident: usize) {
        self.listening.retain(|key| *key != (filter, ident));
        let Some(selector) = self.selector.upgrade() else {
            return;
        };
        if selector.doorbells().remove((filter, ident), self.ident) {
            let _ = self.apply(
                change(ident, filter, sys::EV_DELETE, 0, Token(0)),
                "kevent(EV_DELETE)",
            );
        }
    }

    /// Applies one kernel change to the poll's kqueue and reports its
    /// receipt.
    pub(crate) fn apply(&self, change: RawEvent, operation: &'static str) -> Result<()> {
        self.submit(&[change], operation)
    }

    /// Fires the user event: the source became ready.
    pub(crate) fn fire(&self) -> Result<()> {
        if !self.readable {
            return Ok(());
        }
        self.submit(&[self.fire_user_event()], "kevent(EVFILT_USER)")
    }

    /// Takes a fired level-triggered user event back (delete and add
    /// again): the source is no longer ready. Edge and oneshot events need
    /// no taking back, and re-adding a oneshot would re-arm it.
    pub(crate) fn quiet(&self) -> Result<()> {
        if self.trigger != Trigger::Level {
            return Ok(());
        }
        let delete = change(
            self.ident,
            sys::EVFILT_USER as i64,
            sys::EV_DELETE,
            0,
            Token(0),
        );
        self.submit(&[delete, self.add_user_event()], "kevent(EVFILT_USER)")
    }

    /// Replaces the user event with one for the new token, interest and
    /// trigger (re-arming a oneshot), fired if the source is `ready`.
    pub(crate) fn rearm(
        &mut self,
        token: Token,
        interest: Interest,
        trigger: Trigger,
        ready: bool,
    ) -> Result<()> {
        self.token = token;
        self.trigger = trigger;
        self.readable = interest.contains(Interest::READABLE);
        let delete = change(
            self.ident,
            sys::EVFILT_USER as i64,
            sys::EV_DELETE,
            0,
            Token(0),
        );
        let mut changes = vec![delete, self.add_user_event()];
        if ready && self.readable {
            changes.push(self.fire_user_event());
        }
        self.submit(&changes, "kevent(EVFILT_USER)")
    }

    fn add_user_event(&self) -> RawEvent {
        let trigger = match self.trigger {
            Trigger::Edge => sys::EV_CLEAR,
            Trigger::Level => 0,
            Trigger::Oneshot => sys::EV_DISPATCH,
            Trigger::EdgeOneshot => sys::EV_CLEAR | sys::EV_DISPATCH,
        };
        change(
            self.ident,
            sys::EVFILT_USER as i64,
            sys::EV_ADD | trigger,
            0,
            self.token,
        )
    }

    fn fire_user_event(&self) -> RawEvent {
        change(
            self.ident,
            sys::EVFILT_USER as i64,
            0,
            sys::NOTE_TRIGGER,
            self.token,
        )
    }

    fn submit(&self, changes: &[RawEvent], operation: &'static str) -> Result<()> {
        let Some(selector) = self.selector.upgrade() else {
            return Ok(());
        };
        let receipts = selector.submit(changes)?;
        first_error(&receipts, operation, selector.as_fd().as_raw_fd())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        for (filter, ident) in std::mem::take(&mut self.listening) {
            self.unlisten(filter, ident);
        }
        // Nothing to report a failure to.
        let delete = change(
            self.ident,
            sys::EVFILT_USER as i64,
            sys::EV_DELETE,
            0,
            Token(0),
        );
        let _ = self.apply(delete, "kevent(EVFILT_USER)");
    }
}

/// The watches of one source, one per poll it is registered with, and
/// the `Registry` answers every source gives.
#[derive(Debug, Default)]
pub(crate) struct Watches {
    list: Vec<Watch>,
}

impl Watches {
    /// The watch in `selector`'s poll, or `NotRegistered`.
    pub(crate) fn find(&mut self, selector: &Selector) -> Result<&mut Watch> {
        self.list
            .iter_mut()
            .find(|watch| watch.is_in(selector))
            .ok_or(Error::NotRegistered {
                fd: NO_DESCRIPTOR,
                errno: None,
            })
    }

    /// `AlreadyRegistered` if there is a watch in `selector`'s poll.
    pub(crate) fn check_new(&self, selector: &Selector) -> Result<()> {
        if self.list.iter().any(|watch| watch.is_in(selector)) {
            return Err(Error::AlreadyRegistered {
                fd: NO_DESCRIPTOR,
                errno: None,
            });
        }
        Ok(())
    }

    pub(crate) fn push(&mut self, watch: Watch) {
        self.list.push(watch);
    }

    /// Removes (and so deletes) the watch in `selector`'s poll.
    pub(crate) fn remove(&mut self, selector: &Selector) -> Result<()> {
        self.find(selector)?;
        self.list.retain(|watch| !watch.is_in(selector));
        Ok(())
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Watch> {
        self.list.iter()
    }

    // Only `Signals` adds to its watches; NetBSD and OpenBSD have none.
    #[cfg(not(any(target_os = "netbsd", target_os = "openbsd")))]
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Watch> {
        self.list.iter_mut()
    }

    /// Whether the user event `ident` is one of these watches'.
    pub(crate) fn has(&self, ident: usize) -> bool {
        self.list.iter().any(|watch| watch.ident == ident)
    }

    /// Adds to `changes` the firing of the user event `ident`, if it is
    /// one of these watches' (a change carries the token again: kqueue
    /// replaces `udata` with every change).
    pub(crate) fn fire_in(&self, ident: usize, changes: &mut Vec<RawEvent>) {
        if let Some(watch) = self.list.iter().find(|watch| watch.ident == ident) {
            if watch.readable {
                changes.push(watch.fire_user_event());
            }
        }
    }
}

/// The `fd` in `AlreadyRegistered` and `NotRegistered` for a source that
/// has no descriptor.
pub(crate) const NO_DESCRIPTOR: RawFd = -1;
