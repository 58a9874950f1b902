//! Signal sets and the calling thread's mask (POSIX calls, every backend):
//! the part of `Signals` that is the same on signalfd and kqueue.
//!
//! The sets are the libc's `sigset_t` (128 bytes in glibc, 4 on macOS),
//! built and read only by the libc's own functions.
//!
//! # References
//! - [`sigsetops(3)`](https://man7.org/linux/man-pages/man3/sigsetops.3.html)
//! - [`pthread_sigmask(3)`](https://man7.org/linux/man-pages/man3/pthread_sigmask.3.html)

use super::syscall::check;
use crate::{sys, Error, Result};
use std::ffi::c_int;
use std::io;
use std::mem::MaybeUninit;
use std::ptr;

/// An empty set (`sigemptyset`).
pub(crate) fn empty() -> sys::sigset_t {
    // Zeroed first: Android builds take the musl file's 128-byte
    // `sigset_t`, of which bionic's functions use only the first 8 (4 on
    // 32-bit) bytes; the rest must still be initialised.
    let mut set = MaybeUninit::<sys::sigset_t>::zeroed();
    // SAFETY: the set is initialised (zeroed), and sigemptyset empties it
    // (the part its libc uses); it cannot fail.
    unsafe {
        sys::sigemptyset(set.as_mut_ptr());
        set.assume_init()
    }
}

/// Adds `signal` to `set` (`sigaddset`), refusing the two signals that
/// cannot be blocked (and so cannot be waited for) and numbers that are no
/// signal.
pub(crate) fn add(set: &mut sys::sigset_t, signal: i32) -> Result<()> {
    if signal == sys::SIGKILL as i32 || signal == sys::SIGSTOP as i32 {
        return Err(Error::InvalidInput {
            reason: "SIGKILL and SIGSTOP cannot be caught, blocked or watched",
        });
    }
    // Some libcs' sigaddset check nothing (macOS): refuse what is out of
    // any signal range first.
    if !(1..=128).contains(&signal) {
        return Err(invalid_signal());
    }
    // SAFETY: `set` is an initialised sigset_t; sigaddset reports a bad
    // signal number as EINVAL.
    let ret = unsafe { sys::sigaddset(set, signal) };
    check(ret, "sigaddset", None)
        .map(drop)
        .map_err(|_| invalid_signal())
}

/// Removes `signal` from `set` (`sigdelset`).
pub(crate) fn remove(set: &mut sys::sigset_t, signal: i32) -> Result<()> {
    if !(1..=128).contains(&signal) {
        return Err(invalid_signal());
    }
    // SAFETY: `set` is an initialised sigset_t; sigdelset reports a bad
    // signal number as EINVAL.
    let ret = unsafe { sys::sigdelset(set, signal) };
    check(ret, "sigdelset", None)
        .map(drop)
        .map_err(|_| invalid_signal())
}

fn invalid_signal() -> Error {
    Error::InvalidInput {
        reason: "not a signal number",
    }
}

/// `pthread_sigmask(SIG_BLOCK, set)`: blocks `set` in the calling thread.
pub(crate) fn block(set: &sys::sigset_t) -> Result<()> {
    // SAFETY: `set` is an initialised sigset_t, only read; the old mask is
    // not asked for (null).
    let ret = unsafe { sys::pthread_sigmask(sys::SIG_BLOCK as c_int, set, ptr::null_mut()) };
    // pthread functions return the error number instead of setting errno.
    if ret != 0 {
        return Err(Error::Os {
            operation: "pthread_sigmask(SIG_BLOCK)",
            fd: None,
            source: io::Error::from_raw_os_error(ret),
        });
    }
    Ok(())
}
