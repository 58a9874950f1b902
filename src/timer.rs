//! Timers as event sources.

use crate::backend::TimerFd;
use crate::{Error, Result};
#[cfg(evq_epoll)]
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

/// A kernel timer that a [`Poll`](crate::Poll) watches like any other
/// source: readable once it has expired, until [`read`](Timer::read).
///
/// A new timer is disarmed. [`set_timeout`](Timer::set_timeout) arms it to
/// expire once, [`set_interval`](Timer::set_interval) to expire
/// periodically, [`cancel`](Timer::cancel) disarms it. The kernel counts
/// expirations; [`read`](Timer::read) returns how many there were since the
/// last read (or the last set or cancel, which reset the count) and makes
/// the timer unreadable until the next one. Timers run on the monotonic
/// clock, which system time changes do not move, and never expire early.
///
/// Register it for [`Interest::READABLE`](crate::Interest::READABLE). With
/// the default edge trigger, call `read` after each event (a timer that
/// expires again while unread produces no new edge on Linux, where the
/// timerfd signals readiness once until read; on kqueue it does); with
/// [`Trigger::Level`](crate::Trigger::Level) the event repeats until you
/// `read`. A timer may be registered with several polls at once.
///
/// # Per platform
///
/// | | Linux, Android | macOS, iOS, BSDs (kqueue) |
/// |---|---|---|
/// | the timer | a timerfd: `timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK \| TFD_CLOEXEC)` ([`timerfd_create(2)`](https://man7.org/linux/man-pages/man2/timerfd_create.2.html)), which [`AsFd`](std::os::fd::AsFd) exposes | no descriptor: the schedule is kept by evq, and in each poll the timer is registered with, a oneshot `EVFILT_TIMER` for the next expiration and an `EVFILT_USER` event, the one the poll reports ([`kevent(2)`](https://man.freebsd.org/cgi/man.cgi?query=kevent&sektion=2)) |
/// | set, cancel | one `timerfd_settime` | per poll registered with: one `kevent` deleting the kernel timer, one adding the new (none for `cancel`), one more taking back a level registration's event |
/// | read | one `read` of the kernel's 8-byte count | the count comes from the monotonic clock; one `kevent` per level registration, taking its event back |
/// | when it expires | the poll's `epoll_wait` returns the timerfd | the poll's `kevent` returns the kernel timer, which evq turns into the timer's event with two more `kevent` calls (re-arming the kernel timer for the next expiration and firing the user event, then collecting it) |
/// | resolution | nanoseconds, no timer slack | `NOTE_NSECONDS`; on a kernel that refuses it, microseconds, then milliseconds, rounded up |
///
/// On kqueue an expiration is counted once its time has passed on the
/// monotonic clock, so `read` may count one whose event is about to
/// arrive; that event (edge or oneshot) is still reported, and `read` then
/// returns 0: a spurious event. `Timer` implements
/// [`Source`](crate::Source) itself there, not `AsFd`. Unix only: on
/// Windows evq has no `Timer` yet (a waitable timer with
/// `NtAssociateWaitCompletionPacket` is the likely way; wine 8 lacks it).
///
/// # Examples
///
/// ```
/// use evq::{Events, Interest, Poll, Timer, Token};
/// use std::time::{Duration, Instant};
/// # fn main() -> evq::Result<()> {
/// let mut poll = Poll::new()?;
/// let timer = Timer::new()?;
/// poll.registry().register(&timer, Token(0), Interest::READABLE)?;
///
/// let start = Instant::now();
/// timer.set_timeout(Duration::from_millis(5))?;
/// let mut events = Events::with_capacity(4);
/// while timer.read()? == 0 {
///     poll.poll(&mut events, None)?;
/// }
/// assert!(start.elapsed() >= Duration::from_millis(5));
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Timer {
    inner: TimerFd,
}

impl Timer {
    /// A new, disarmed timer.
    ///
    /// Makes one `timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
    /// TFD_CLOEXEC)` call
    /// ([`timerfd_create(2)`](https://man7.org/linux/man-pages/man2/timerfd_create.2.html));
    /// on kqueue, none.
    #[doc(alias = "timerfd_create")]
    pub fn new() -> Result<Timer> {
        TimerFd::new().map(|inner| Timer { inner })
    }

    /// Arms the timer to expire once, `after` from now, replacing any
    /// earlier setting and forgetting unread expirations.
    ///
    /// A zero `after` expires at once (the kernel's "zero disarms" does not
    /// apply: evq asks for 1 ns). Durations beyond 68 years are cut to 68
    /// years.
    ///
    /// Makes one `timerfd_settime` call
    /// ([`timerfd_settime(2)`](https://man7.org/linux/man-pages/man2/timerfd_settime.2.html));
    /// on kqueue, up to three `kevent` calls per poll the timer is
    /// registered with (see the type's table).
    #[doc(alias = "timerfd_settime")]
    pub fn set_timeout(&self, after: Duration) -> Result<()> {
        self.inner.set(at_least_a_nanosecond(after), Duration::ZERO)
    }

    /// Arms the timer to expire `first` from now and then every `every`,
    /// replacing any earlier setting and forgetting unread expirations.
    ///
    /// Expirations that pass unread are counted, not lost:
    /// [`read`](Timer::read) returns them all. A zero `first` expires at
    /// once. Fails with [`Error::InvalidInput`] if `every` is zero.
    ///
    /// Makes one `timerfd_settime` call
    /// ([`timerfd_settime(2)`](https://man7.org/linux/man-pages/man2/timerfd_settime.2.html));
    /// on kqueue, up to three `kevent` calls per poll.
    #[doc(alias = "timerfd_settime")]
    pub fn set_interval(&self, first: Duration, every: Duration) -> Result<()> {
        if every.is_zero() {
            return Err(Error::InvalidInput {
                reason: "a zero interval: use set_timeout for a timer that expires once",
            });
        }
        self.inner.set(at_least_a_nanosecond(first), every)
    }

    /// Disarms the timer and forgets unread expirations: it is not readable
    /// afterwards, and `read` returns 0.
    ///
    /// Makes one `timerfd_settime` call with a zero time
    /// ([`timerfd_settime(2)`](https://man7.org/linux/man-pages/man2/timerfd_settime.2.html));
    /// on kqueue, one or two `kevent` calls per poll, deleting the kernel
    /// timer and taking back a level registration's event.
    #[doc(alias = "timerfd_settime")]
    pub fn cancel(&self) -> Result<()> {
        self.inner.set(Duration::ZERO, Duration::ZERO)
    }

    /// The number of expirations since the last `read`, `set_*` or
    /// `cancel`; 0 if there was none. Never blocks. Afterwards the timer is
    /// not readable until it expires again.
    ///
    /// Makes one `read` call on the timerfd
    /// ([`timerfd_create(2)`](https://man7.org/linux/man-pages/man2/timerfd_create.2.html));
    /// on kqueue, none (the count comes from the clock), and one `kevent`
    /// per level registration, taking its event back.
    pub fn read(&self) -> Result<u64> {
        self.inner.read()
    }
}

/// The kernel reads a zero expiry as "disarm".
fn at_least_a_nanosecond(duration: Duration) -> Duration {
    duration.max(Duration::from_nanos(1))
}

#[cfg(evq_epoll)]
impl AsFd for Timer {
    /// The timerfd (Linux and Android only: on kqueue a timer has no
    /// descriptor).
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.as_fd()
    }
}

#[cfg(evq_epoll)]
impl AsRawFd for Timer {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.as_fd().as_raw_fd()
    }
}

// On kqueue: no descriptor; its kernel filters go into the poll's kqueue.
// Registering makes one `kevent` adding the user event (fired at once if
// an expiration is unread) and one adding the kernel timer.
#[cfg(evq_kqueue)]
crate::source::watched_source!(Timer);
