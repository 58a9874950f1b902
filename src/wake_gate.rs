//! Which wakes need a system call: none while an earlier wake's event is
//! still waiting to be collected.
//!
//! A poll instance counts the polls that returned events (its
//! *generation*), but only while it has wakers. A waker remembers the
//! generation at its last write. If a wake finds the generation unchanged
//! since then, no poll has returned events since that write, so the write's
//! event is still pending in the kernel, or is being collected right now by
//! a poll that has yet to count itself: either way that event covers this
//! wake too, and the wake makes no system call.
//!
//! Every access to the generation is an acquire-release read-modify-write,
//! so the generation's modification order is one release sequence: the
//! poll that counts itself next synchronizes with every wake that read the
//! old value and skipped its write, and the woken thread sees everything
//! those wakes published before waking it.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Shared by a poll instance's `Poll`, `Registry` handles and wakers.
#[derive(Debug, Default)]
pub(crate) struct WakeGate {
    /// Polls that returned events while `wakers > 0`. 64 bits: it never
    /// wraps, so an old value is never mistaken for the current one.
    generation: AtomicU64,
    /// Live wakers: without any, polls skip counting.
    wakers: AtomicUsize,
}

/// A waker's record of the generation at its last write.
#[derive(Debug)]
pub(crate) struct LastWrite(AtomicU64);

/// A generation that never occurs, for "no write yet" and "write failed".
const NEVER: u64 = u64::MAX;

impl WakeGate {
    /// Called by `Poll::poll` when a wait returned events, before the
    /// caller sees them.
    #[inline]
    pub(crate) fn events_collected(&self) {
        if self.wakers.load(Ordering::Acquire) != 0 {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// A new waker, counted before it can wake.
    pub(crate) fn add_waker(&self) -> LastWrite {
        self.wakers.fetch_add(1, Ordering::AcqRel);
        LastWrite(AtomicU64::new(NEVER))
    }

    pub(crate) fn remove_waker(&self) {
        self.wakers.fetch_sub(1, Ordering::AcqRel);
    }

    /// Whether a wake must write, and if so records that it does.
    #[inline]
    pub(crate) fn must_write(&self, last: &LastWrite) -> bool {
        // An RMW, not a load: it joins the release sequence that the next
        // `events_collected` acquires.
        let generation = self.generation.fetch_add(0, Ordering::AcqRel);
        last.0.swap(generation, Ordering::AcqRel) != generation
    }

    /// Forgets a write that failed, so that the next wake writes.
    pub(crate) fn write_failed(&self, last: &LastWrite) {
        last.0.store(NEVER, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_writes_again_only_after_events_were_collected() {
        let gate = WakeGate::default();
        let last = gate.add_waker();
        assert!(gate.must_write(&last), "the first wake writes");
        assert!(!gate.must_write(&last), "its event is still pending");
        gate.events_collected();
        assert!(gate.must_write(&last), "the event may have been collected");
        assert!(!gate.must_write(&last));
    }

    #[test]
    fn a_failed_write_is_retried_by_the_next_wake() {
        let gate = WakeGate::default();
        let last = gate.add_waker();
        assert!(gate.must_write(&last));
        gate.write_failed(&last);
        assert!(gate.must_write(&last));
    }

    #[test]
    fn polls_count_only_while_there_are_wakers() {
        let gate = WakeGate::default();
        gate.events_collected();
        assert_eq!(gate.generation.load(Ordering::Relaxed), 0);
        let _last = gate.add_waker();
        gate.events_collected();
        assert_eq!(gate.generation.load(Ordering::Relaxed), 1);
        gate.remove_waker();
        gate.events_collected();
        assert_eq!(gate.generation.load(Ordering::Relaxed), 1);
    }
}
