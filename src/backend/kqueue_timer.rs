//! The kqueue timer: a oneshot `EVFILT_TIMER` in a queue of its own
//! (`source_queue.rs`), counting expirations by the monotonic clock.
//!
//! kqueue timers have one period and no separate first expiry, and their
//! count is collected by whoever drains the queue. So the schedule (start,
//! first, every) lives here: `read` counts the expirations due by now on
//! the clock, and the kernel timer, always oneshot, is re-armed for the next
//! one. The count never runs ahead of time (an expiration counts once its
//! time has passed), and the event never comes early (the kernel fires at
//! or after its deadline). Units: nanoseconds (`NOTE_NSECONDS`) where the
//! kernel takes them, else microseconds, else milliseconds, always rounded
//! up.
//!
//! # References
//! - [`kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2) (`EVFILT_TIMER`)
//! - [`kqueue(2)` on macOS](https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/kqueue.2.html)

use super::source_queue::SourceQueue;
use super::RawEvent;
use crate::{sys, Error, Result};
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The timer's ident in its own queue.
const IDENT: usize = 1;

/// The units to try, finest first: (`fflags`, nanoseconds per unit). No
/// unit flag means milliseconds on every kqueue.
const UNITS: [(u32, u64); 3] = [
    (sys::NOTE_NSECONDS, 1),
    (sys::NOTE_USECONDS, 1_000),
    (0, 1_000_000),
];

/// The first of `UNITS` this kernel accepted (a kernel that refuses a unit
/// answers `EINVAL`, once per process).
static UNIT: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug)]
pub(crate) struct TimerFd {
    queue: SourceQueue,
    schedule: Mutex<Option<Schedule>>,
}

#[derive(Debug, Clone, Copy)]
struct Schedule {
    start: Instant,
    first: Duration,
    /// Zero: expires once.
    every: Duration,
    /// Expirations `read` has returned.
    counted: u64,
}

impl Schedule {
    /// Expirations due by `now`.
    fn due(&self, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(self.start);
        if elapsed < self.first {
            0
        } else if self.every.is_zero() {
            1
        } else {
            let later = (elapsed - self.first).as_nanos() / self.every.as_nanos();
            u64::try_from(later).map_or(u64::MAX, |later| later.saturating_add(1))
        }
    }

    /// When expiration number `n` (from 1) is due; `None` beyond what an
    /// `Instant` can hold, or after the only one of a one-shot timer.
    fn deadline(&self, n: u64) -> Option<Instant> {
        if self.every.is_zero() && n > 1 {
            return None;
        }
        let later = u128::from(n - 1).checked_mul(self.every.as_nanos())?;
        let nanos = self.first.as_nanos().checked_add(later)?;
        self.start
            .checked_add(Duration::from_nanos(u64::try_from(nanos).ok()?))
    }
}

impl TimerFd {
    /// A queue of its own, with no timer in it.
    pub(crate) fn new() -> Result<TimerFd> {
        Ok(TimerFd {
            queue: SourceQueue::new()?,
            schedule: Mutex::new(None),
        })
    }

    /// Replaces the schedule: deletes the kernel timer (and with it a
    /// pending expiry), then, unless `first` is zero (cancel), adds a
    /// oneshot one for `first`.
    pub(crate) fn set(&self, first: Duration, every: Duration) -> Result<()> {
        let mut schedule = self.lock();
        *schedule = None;
        self.delete()?;
        if first.is_zero() {
            return Ok(());
        }
        // The clock is read before the kernel timer starts, so the kernel's
        // deadline is never earlier than the schedule's.
        let start = Instant::now();
        self.arm(first)?;
        *schedule = Some(Schedule {
            start,
            first,
            every,
            counted: 0,
        });
        Ok(())
    }

    /// Collects the queue's event (making it unreadable) and counts the
    /// expirations due since the last read. The kernel timer is oneshot and
    /// gone once its event is collected: if there was one, it is re-armed
    /// for the next expiration not yet counted (for a one-shot timer, its
    /// only one, should the clock not have reached it yet).
    pub(crate) fn read(&self) -> Result<u64> {
        let mut schedule = self.lock();
        let mut buffer = [RawEvent::default(); 1];
        let fired = self.queue.collect(&mut buffer)? > 0;
        let Some(current) = schedule.as_mut() else {
            return Ok(0);
        };
        let due = current.due(Instant::now());
        let new = due - current.counted;
        current.counted = due;
        if fired {
            if let Some(next) = current.deadline(due + 1) {
                self.arm(next.saturating_duration_since(Instant::now()))?;
            }
        }
        Ok(new)
    }

    /// `EV_ADD | EV_ONESHOT` of the timer, `after` from now, in the finest
    /// unit the kernel takes, rounded up (at least one unit).
    fn arm(&self, after: Duration) -> Result<()> {
        // A zero wait would be "now": the kernel needs at least one unit.
        let nanos = after.as_nanos().max(1);
        for (index, &(unit, nanos_per_unit)) in
            UNITS.iter().enumerate().skip(UNIT.load(Ordering::Relaxed))
        {
            // Rounded up (`div_ceil` by hand: it is newer than evq's MSRV).
            let per_unit = u128::from(nanos_per_unit);
            let count = (nanos + per_unit - 1) / per_unit;
            let data = i64::try_from(count).unwrap_or(i64::MAX);
            let flags = sys::EV_ADD | sys::EV_ONESHOT;
            match self.queue.apply(
                IDENT,
                sys::EVFILT_TIMER as i64,
                flags,
                unit,
                data,
                "kevent(EVFILT_TIMER)",
            ) {
                Err(error)
                    if error.kind() == io::ErrorKind::InvalidInput && index + 1 < UNITS.len() =>
                {
                    UNIT.store(index + 1, Ordering::Relaxed);
                }
                outcome => return outcome,
            }
        }
        Err(Error::InvalidInput {
            reason: "the kernel accepts no EVFILT_TIMER unit",
        })
    }

    /// `EV_DELETE` of the timer; one that is not there (never armed, or a
    /// oneshot that fired) is fine.
    fn delete(&self) -> Result<()> {
        match self.queue.apply(
            IDENT,
            sys::EVFILT_TIMER as i64,
            sys::EV_DELETE,
            0,
            0,
            "kevent(EVFILT_TIMER)",
        ) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
            outcome => outcome,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Schedule>> {
        // Each update is one assignment.
        self.schedule.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AsFd for TimerFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.queue.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(first_ms: u64, every_ms: u64) -> Schedule {
        Schedule {
            start: Instant::now(),
            first: Duration::from_millis(first_ms),
            every: Duration::from_millis(every_ms),
            counted: 0,
        }
    }

    #[test]
    fn expirations_are_due_only_once_their_time_has_passed() {
        let periodic = schedule(5, 2);
        let at = |ms| periodic.start + Duration::from_millis(ms);
        let nanosecond = Duration::from_nanos(1);
        assert_eq!(periodic.due(at(5) - nanosecond), 0);
        assert_eq!(periodic.due(at(5)), 1);
        assert_eq!(periodic.due(at(7) - nanosecond), 1);
        assert_eq!(periodic.due(at(7)), 2);
        assert_eq!(periodic.due(at(105)), 51);

        let once = schedule(5, 0);
        assert_eq!(once.due(once.start + Duration::from_secs(60)), 1);
    }

    #[test]
    fn deadlines_follow_the_schedule_and_a_one_shot_has_one() {
        let periodic = schedule(5, 2);
        let after = |n| periodic.deadline(n).map(|d| d - periodic.start);
        assert_eq!(after(1), Some(Duration::from_millis(5)));
        assert_eq!(after(3), Some(Duration::from_millis(9)));
        let once = schedule(5, 0);
        assert_eq!(
            once.deadline(1).map(|d| d - once.start),
            Some(Duration::from_millis(5))
        );
        assert_eq!(once.deadline(2), None);
        let huge = Schedule {
            every: Duration::MAX,
            ..periodic
        };
        assert_eq!(huge.deadline(u64::MAX), None, "beyond any Instant");
    }
}
