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
use std::ffi::{c_int, c_long};
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
    ///
    /// Made by number with the kernel's 64-bit `__kernel_itimerspec`
    /// (`timerfd_settime64` on 32-bit targets, Linux 5.1+; `ENOSYS` on
    /// older 32-bit kernels), so no libc's `time_t` width matters.
    pub(crate) fn set(&self, first: Duration, every: Duration) -> Result<()> {
        let spec = sys::__kernel_itimerspec {
            it_interval: kernel_timespec(every),
            it_value: kernel_timespec(first),
        };
        let fd = self.timerfd.as_raw_fd();
        // SAFETY: `spec` is a valid __kernel_itimerspec that lives until the
        // call returns and is only read; the old value is not asked for
        // (null). Every argument is a `long` or a pointer, the width the
        // kernel reads for each register.
        let ret = unsafe {
            sys::syscall(
                TIMERFD_SETTIME,
                c_long::from(fd),
                0 as c_long,
                &spec as *const sys::__kernel_itimerspec,
                ptr::null_mut::<sys::__kernel_itimerspec>(),
            )
        };
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

/// The `timerfd_settime` that takes 64-bit times on this target.
#[cfg(target_pointer_width = "32")]
const TIMERFD_SETTIME: c_long = sys::SYS_timerfd_settime64 as c_long;
#[cfg(target_pointer_width = "64")]
const TIMERFD_SETTIME: c_long = sys::SYS_timerfd_settime as c_long;

/// The kernel's `timespec`; seconds clamped to `i64::MAX`.
fn kernel_timespec(duration: Duration) -> sys::__kernel_timespec {
    sys::__kernel_timespec {
        tv_sec: duration.as_secs().min(i64::MAX as u64) as i64,
        tv_nsec: i64::from(duration.subsec_nanos()),
    }
}
