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
            1 + u64::try_from(later).unwrap_or(u64::MAX - 1)
        }
    }

    /// When expiration number `n` (from 1) is due.
    fn deadline(&self, n: u64) -> Instant {
        let after = self.first
            + self
                .every
                .saturating_mul(u32::try_from(n - 1).unwrap_or(u32::MAX));
        self.start
            .checked_add(after)
            .unwrap_or(self.start + Duration::from_secs(u32::MAX.into()))
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
        self.arm(first)?;
        *schedule = Some(Schedule {
            start: Instant::now(),
            first,
            every,
            counted: 0,
        });
        Ok(())
    }

    /// Collects the queue's events (making it unreadable), counts the
    /// expirations due since the last read, and re-arms a periodic timer
    /// for its next one.
    pub(crate) fn read(&self) -> Result<u64> {
        let mut schedule = self.lock();
        let mut buffer = [RawEvent::default(); 1];
        self.queue.collect(&mut buffer)?;
        let Some(current) = schedule.as_mut() else {
            return Ok(0);
        };
        let due = current.due(Instant::now());
        let new = due - current.counted;
        current.counted = due;
        if new > 0 && !current.every.is_zero() {
            let next = current.deadline(due + 1);
            self.arm(next.saturating_duration_since(Instant::now()))?;
        }
        Ok(new)
    }

    /// `EV_ADD | EV_ONESHOT` of the timer, `after` from now, in the finest
    /// unit the kernel takes, rounded up (at least one unit).
    fn arm(&self, after: Duration) -> Result<()> {
        let nanos = after.as_nanos().max(1);
        for (index, &(unit, nanos_per_unit)) in
            UNITS.iter().enumerate().skip(UNIT.load(Ordering::Relaxed))
        {
            let count = nanos.div_ceil(u128::from(nanos_per_unit));
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
