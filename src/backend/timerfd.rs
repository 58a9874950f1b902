//! The Linux timer: a timerfd on `CLOCK_MONOTONIC`.
//!
//! The kernel counts expirations in the timerfd and makes it readable while
//! the count is not zero; `read` returns the count and resets it, and
//! `timerfd_settime` resets it too, so a re-armed or cancelled timer has
//! nothing pending. The timer's hrtimer has no slack: it expires at the
//! nanosecond asked for, and the wait that watches it adds only its wake-up
//! latency.
//!
//! # References
//! - [`timerfd_create(2)`](https://man7.org/linux/man-pages/man2/timerfd_create.2.html)

use super::syscall::check;
use crate::{sys, Result};
use std::ffi::c_int;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::ptr;
use std::time::Duration;

#[derive(Debug)]
pub(crate) struct TimerFd {
    timerfd: OwnedFd,
}

impl TimerFd {
    /// `timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)`:
    /// disarmed.
    pub(crate) fn new() -> Result<TimerFd> {
        let flags = (sys::TFD_NONBLOCK | sys::TFD_CLOEXEC) as c_int;
        // SAFETY: timerfd_create takes no pointers.
        let fd = unsafe { sys::timerfd_create(sys::CLOCK_MONOTONIC as _, flags) };
        let fd = check(fd, "timerfd_create", None)?;
        // SAFETY: timerfd_create succeeded, so `fd` is a new descriptor that
        // nothing else owns.
        let timerfd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(TimerFd { timerfd })
    }

    /// One `timerfd_settime`: first expiry `first` from now, then every
    /// `every` (zero: no repeats). A zero `first` disarms the timer.
    pub(crate) fn set(&self, first: Duration, every: Duration) -> Result<()> {
        let spec = sys::itimerspec {
            it_interval: timespec(every),
            it_value: timespec(first),
        };
        let fd = self.timerfd.as_raw_fd();
        // SAFETY: `spec` is a valid itimerspec that lives until the call
        // returns and is only read; the old value is not asked for (null).
        let ret = unsafe { sys::timerfd_settime(fd, 0, &spec, ptr::null_mut()) };
        check(ret, "timerfd_settime", Some(fd)).map(drop)
    }

    /// One `read` of the expiration count; 0 when there is none
    /// (`EAGAIN`).
    pub(crate) fn read(&self) -> Result<u64> {
        let mut count = 0u64;
        let fd = self.timerfd.as_raw_fd();
        let buffer: *mut u64 = &mut count;
        // SAFETY: `buffer` is 8 writable bytes, the size a timerfd read
        // needs; the descriptor is non-blocking.
        let n = unsafe { sys::read(fd, buffer.cast(), std::mem::size_of::<u64>()) };
        match check(n, "read", Some(fd)) {
            Ok(_) => Ok(count),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(error) => Err(error),
        }
    }
}

impl AsFd for TimerFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.timerfd.as_fd()
    }
}

/// A libc `timespec`; seconds clamped to `i32::MAX` (68 years), which fits
/// the 32-bit `time_t` of 32-bit targets.
fn timespec(duration: Duration) -> sys::timespec {
    sys::timespec {
        tv_sec: duration.as_secs().min(i32::MAX as u64) as _,
        tv_nsec: duration.subsec_nanos() as _,
    }
}
