//! The kqueue timer: its schedule, counted by the monotonic clock, and in
//! each poll it is registered with an `EVFILT_TIMER` that rings when the
//! next expiration is due (`kqueue_watch.rs`).
//!
//! kqueue timers have one period and no separate first expiry, and their
//! count is collected by whoever drains the queue (the poll). So the
//! schedule (start, first, every) lives here: `read` counts the
//! expirations due by now on the clock, making no system call, and the
//! kernel timer, always oneshot, only wakes the poll: when it rings, the
//! poll fires the timer's event if an expiration is unread and re-arms the
//! kernel timer for the next one. The count never runs ahead of time (an
//! expiration counts once its time has passed), and the event never comes
//! early (the kernel fires at or after its deadline). Units: nanoseconds
//! (`NOTE_NSECONDS`) where the kernel takes them, else microseconds, else
//! milliseconds, always rounded up.
//!
//! # References
//! - [`kevent(2)` on FreeBSD](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2) (`EVFILT_TIMER`)
//! - [`kqueue(2)` on macOS](https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/kqueue.2.html)

use super::kqueue::{change, RawEvent, Selector};
use super::kqueue_watch::{Doorbell, Watch, Watched, Watches};
use crate::{sys, Error, Interest, Result, Token, Trigger};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

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
    state: Arc<TimerState>,
}

#[derive(Debug, Default)]
struct TimerState {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    schedule: Option<Schedule>,
    watches: Watches,
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

    /// Whether expirations are due that `read` has not returned, and when
    /// the first expiration after those due by `now` is.
    fn at(&self, now: Instant) -> (bool, Option<Instant>) {
        let due = self.due(now);
        (due > self.counted, self.deadline(due.saturating_add(1)))
    }
}

impl TimerFd {
    /// A disarmed timer: no system call, no descriptor.
    pub(crate) fn new() -> Result<TimerFd> {
        Ok(TimerFd {
            state: Arc::default(),
        })
    }

    /// Replaces the schedule (`first` zero: cancels it). In each poll the
    /// timer is registered with: deletes the kernel timer, takes back a
    /// level event, and adds a kernel timer for `first`.
    pub(crate) fn set(&self, first: Duration, every: Duration) -> Result<()> {
        let mut inner = self.state.lock();
        inner.schedule = None;
        for watch in inner.watches.iter() {
            disarm(watch)?;
            watch.quiet()?;
        }
        if first.is_zero() {
            return Ok(());
        }
        // The clock is read before the kernel timers start, so their
        // deadlines are never earlier than the schedule's.
        let start = Instant::now();
        for watch in inner.watches.iter() {
            arm(watch, first)?;
        }
        inner.schedule = Some(Schedule {
            start,
            first,
            every,
            counted: 0,
        });
        Ok(())
    }

    /// Counts the expirations due since the last read, by the clock; takes
    /// back the events of level registrations (one `kevent` each).
    pub(crate) fn read(&self) -> Result<u64> {
        let mut inner = self.state.lock();
        let Some(schedule) = inner.schedule.as_mut() else {
            return Ok(0);
        };
        let due = schedule.due(Instant::now());
        let new = due - schedule.counted;
        schedule.counted = due;
        for watch in inner.watches.iter() {
            watch.quiet()?;
        }
        Ok(new)
    }
}

impl TimerState {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Each update is one assignment.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Doorbell for TimerState {
    /// The kernel timer rang: an expiration may be due. Re-arms it for the
    /// next one.
    fn rung(&self, _event: &RawEvent, watch: usize, changes: &mut Vec<RawEvent>) {
        let inner = self.lock();
        // No schedule (cancelled), or the watch was deleted meanwhile: its
        // kernel timer must not be re-armed.
        let Some(schedule) = inner.schedule.filter(|_| inner.watches.has(watch)) else {
            return;
        };
        let now = Instant::now();
        let (unread, next) = schedule.at(now);
        if let Some(next) = next {
            let unit = UNIT.load(Ordering::Relaxed);
            changes.push(timer(watch, next.saturating_duration_since(now), unit));
        }
        if unread {
            inner.watches.fire_in(watch, changes);
        }
    }
}

impl Watched for TimerFd {
    /// Adds the watch's user event (fired if an expiration is unread) and,
    /// if the timer is armed, a kernel timer for the next expiration.
    fn watch(
        &self,
        selector: &Selector,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut inner = self.state.lock();
        inner.watches.check_new(selector)?;
        let now = Instant::now();
        let (unread, next) = inner
            .schedule
            .map_or((false, None), |schedule| schedule.at(now));
        let mut watch = Watch::new(selector, token, interest, trigger, unread)?;
        let source: Weak<dyn Doorbell> = Arc::downgrade(&self.state) as Weak<_>;
        let ident = watch.ident();
        watch.listen(
            sys::EVFILT_TIMER as i64,
            ident,
            None,
            source,
            "kevent(EVFILT_TIMER)",
        )?;
        if let Some(next) = next {
            arm(&watch, next.saturating_duration_since(now))?;
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
        let unread = inner
            .schedule
            .is_some_and(|schedule| schedule.at(Instant::now()).0);
        inner
            .watches
            .find(selector)?
            .rearm(token, interest, trigger, unread)
    }

    fn unwatch(&self, selector: &Selector) -> Result<()> {
        self.state.lock().watches.remove(selector)
    }
}

/// Adds (or replaces) `watch`'s kernel timer, oneshot, `after` from now,
/// in the finest unit the kernel takes, rounded up (at least one unit).
fn arm(watch: &Watch, after: Duration) -> Result<()> {
    for index in UNIT.load(Ordering::Relaxed)..UNITS.len() {
        match watch.apply(timer(watch.ident(), after, index), "kevent(EVFILT_TIMER)") {
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

/// `EV_DELETE` of `watch`'s kernel timer; one that is not there (never
/// armed, or a oneshot that fired) is fine.
fn disarm(watch: &Watch) -> Result<()> {
    let delete = change(
        watch.ident(),
        sys::EVFILT_TIMER as i64,
        sys::EV_DELETE,
        0,
        Token(0),
    );
    match watch.apply(delete, "kevent(EVFILT_TIMER)") {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        outcome => outcome,
    }
}

/// The change adding a oneshot kernel timer `ident`, `after` from now in
/// unit `UNITS[unit]`, rounded up.
fn timer(ident: usize, after: Duration, unit: usize) -> RawEvent {
    let (flag, nanos_per_unit) = UNITS[unit];
    // A zero wait would be "now": the kernel needs at least one unit.
    let nanos = after.as_nanos().max(1);
    // Rounded up (`div_ceil` by hand: it is newer than evq's MSRV).
    let per_unit = u128::from(nanos_per_unit);
    let count = (nanos + per_unit - 1) / per_unit;
    let mut record = change(
        ident,
        sys::EVFILT_TIMER as i64,
        sys::EV_ADD | sys::EV_ONESHOT,
        flag,
        Token(0),
    );
    record.data = i64::try_from(count).unwrap_or(i64::MAX) as _;
    record
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
