//! Which wakes need a system call: none while an earlier wake's event is
//! still waiting to be collected, and never one that trusts a write that
//! may yet fail.
//!
//! A poll instance counts the polls that returned events (its
//! *generation*), but only while it has wakers. A waker records the
//! generation its last *successful* write was made in, after that write
//! returned. If a wake finds the generation unchanged since such a write,
//! no poll has returned events since that write, so the write's event is
//! still pending in the kernel, or is being collected right now by a poll
//! that has yet to count itself: either way that event covers this wake
//! too, and the wake makes no system call.
//!
//! A write still in progress on another thread (or in the code a signal
//! handler interrupted) is not recorded yet, so a wake racing with it
//! writes too: it cannot know whether that write will succeed, and must not
//! wait for it (wakes are async-signal-safe). A failed write records
//! nothing, so the next wake writes again. Only wakes that race with a write
//! pay an extra system call; a wake alone, or after a recorded write, pays
//! none.
//!
//! # Ordering
//!
//! Every access to the generation is an acquire-release read-modify-write,
//! so the generation's modification order is one release sequence: the
//! poll that counts itself next synchronizes with every wake that read the
//! old value, and the woken thread sees everything those wakes published
//! before waking it. The record is published with a release `fetch_max`
//! after the write returned `Ok` and read with an acquire load, so a wake
//! that skips because of it happens after that successful write. Of
//! concurrent successful writes the newest generation's record survives
//! (`fetch_max`); an older one only costs a later wake one more write.
//!
//! Why a skipping wake's event is not lost: it read generation `g` and the
//! record `g + 1`, so a write `X` that read `g` succeeded before it. The
//! poll `P` that collects `X`'s event counts itself after collecting it, so
//! after `X`'s read of `g`: if `P` counted itself before the skipping
//! wake's read, that read would have returned more than `g`. So `P` counts
//! itself later, synchronizing with the skipping wake, and returns `X`'s
//! event to a caller that sees what the skipping wake published.

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

/// A waker's record: one more than the generation of its newest write that
/// succeeded, or 0 before its first.
#[derive(Debug)]
pub(crate) struct LastWrite(AtomicU64);

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
        LastWrite(AtomicU64::new(0))
    }

    pub(crate) fn remove_waker(&self) {
        self.wakers.fetch_sub(1, Ordering::AcqRel);
    }

    /// One wake of the waker whose record is `last`: calls `write` (the
    /// system call) unless a recorded write's event covers this wake, and
    /// returns `Ok` only if that write, or this wake's own, succeeded.
    #[inline]
    pub(crate) fn wake<E>(
        &self,
        last: &LastWrite,
        write: impl FnOnce() -> Result<(), E>,
    ) -> Result<(), E> {
        // An RMW, not a load: it joins the release sequence that the next
        // `events_collected` acquires.
        let generation = self.generation.fetch_add(0, Ordering::AcqRel);
        let covered = generation + 1;
        if last.0.load(Ordering::Acquire) == covered {
            return Ok(());
        }
        write()?;
        last.0.fetch_max(covered, Ordering::Release);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Wakes once and says whether `write` was called.
    fn wake_writes(gate: &WakeGate, last: &LastWrite, outcome: Result<(), ()>) -> bool {
        let wrote = Cell::new(false);
        let result = gate.wake(last, || {
            wrote.set(true);
            outcome
        });
        assert_eq!(result, if wrote.get() { outcome } else { Ok(()) });
        wrote.get()
    }

    #[test]
    fn a_wake_writes_again_only_after_events_were_collected() {
        let gate = WakeGate::default();
        let last = gate.add_waker();
        assert!(wake_writes(&gate, &last, Ok(())), "the first wake writes");
        assert!(!wake_writes(&gate, &last, Ok(())), "its event is pending");
        gate.events_collected();
        assert!(
            wake_writes(&gate, &last, Ok(())),
            "it may have been collected"
        );
        assert!(!wake_writes(&gate, &last, Ok(())));
    }

    #[test]
    fn a_failed_write_is_retried_by_the_next_wake() {
        let gate = WakeGate::default();
        let last = gate.add_waker();
        assert_eq!(gate.wake(&last, || Err("failed")), Err("failed"));
        assert!(wake_writes(&gate, &last, Ok(())), "nothing was recorded");
        assert!(!wake_writes(&gate, &last, Ok(())));
    }

    /// The race of the bug this protocol fixes: a second thread (or a
    /// signal handler) wakes while the first thread's write is in progress,
    /// and that write then fails. The second wake must not return `Ok`
    /// without a write of its own that succeeded.
    #[test]
    fn a_wake_during_another_wakes_write_writes_itself() {
        let gate = WakeGate::default();
        let last = gate.add_waker();
        let racing_wrote = Cell::new(false);
        let first = gate.wake(&last, || {
            let racing = gate.wake(&last, || {
                racing_wrote.set(true);
                Ok::<(), &str>(())
            });
            assert_eq!(racing, Ok(()));
            Err("the first write failed")
        });
        assert_eq!(first, Err("the first write failed"));
        assert!(racing_wrote.get(), "the racing wake relied on the first");
        // The racing wake's own write succeeded: its event covers the next.
        assert!(!wake_writes(&gate, &last, Ok(())));
    }

    #[test]
    fn racing_wakes_whose_writes_both_fail_both_fail_and_the_next_writes() {
        let gate = WakeGate::default();
        let last = gate.add_waker();
        let first = gate.wake(&last, || {
            assert_eq!(gate.wake(&last, || Err(2)), Err(2));
            Err(1)
        });
        assert_eq!(first, Err(1));
        assert!(wake_writes(&gate, &last, Ok(())));
    }

    #[test]
    fn an_older_generations_late_record_does_not_hide_a_newer_one() {
        let gate = WakeGate::default();
        let last = gate.add_waker();
        // A write from generation 0 finishes after a poll collected events
        // and a wake of generation 1 recorded its own write.
        let late = gate.wake(&last, || {
            gate.events_collected();
            assert!(wake_writes(&gate, &last, Ok(())));
            Ok::<(), ()>(())
        });
        assert_eq!(late, Ok(()));
        assert!(!wake_writes(&gate, &last, Ok(())), "generation 1 recorded");
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
