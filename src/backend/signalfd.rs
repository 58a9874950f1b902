//! The Linux signal source: a signalfd, and the calling thread's signal
//! mask.
//!
//! A signalfd reports the signals in its mask that are pending for the
//! process (or for the thread reading it), and reading one dequeues it: the
//! signal is then never delivered any other way. That works only for
//! signals that are blocked: an unblocked one is delivered (its handler
//! runs, or its default action) before any read. So every signal added here
//! is first blocked in the calling thread; the rest is documented on
//! `Signals`.
//!
//! The libc's `signalfd` takes the libc's `sigset_t` (128 bytes in glibc)
//! and passes the kernel its own 8-byte set; evq never builds a set by hand
//! (`signal_mask.rs`).
//!
//! # References
//! - [`signalfd(2)`](https://man7.org/linux/man-pages/man2/signalfd.2.html)

use super::signal_mask;
use super::syscall::check;
use crate::{sys, Result};
use std::ffi::c_int;
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, PoisonError};

pub(crate) struct SignalFd {
    signalfd: OwnedFd,
    /// The signalfd's mask; `add` and `remove` replace it as a whole.
    mask: Mutex<sys::sigset_t>,
}

impl std::fmt::Debug for SignalFd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignalFd")
            .field("signalfd", &self.signalfd.as_raw_fd())
            .finish_non_exhaustive()
    }
}

const FLAGS: c_int = (sys::SFD_NONBLOCK | sys::SFD_CLOEXEC) as c_int;

impl SignalFd {
    /// Blocks `signals` in the calling thread (`pthread_sigmask`), then
    /// `signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC)`.
    pub(crate) fn new(signals: &[i32]) -> Result<SignalFd> {
        let mut mask = signal_mask::empty();
        for &signal in signals {
            signal_mask::add(&mut mask, signal)?;
        }
        signal_mask::block(&mask)?;
        // SAFETY: `mask` is an initialised sigset_t, only read.
        let fd = unsafe { sys::signalfd(-1, &mask, FLAGS) };
        let fd = check(fd, "signalfd", None)?;
        // SAFETY: signalfd(-1, ..) succeeded, so `fd` is a new descriptor
        // that nothing else owns.
        let signalfd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SignalFd {
            signalfd,
            mask: Mutex::new(mask),
        })
    }

    /// Blocks `signal` in the calling thread and adds it to the mask.
    pub(crate) fn add(&self, signal: i32) -> Result<()> {
        let mut mask = self.lock();
        let mut new = *mask;
        signal_mask::add(&mut new, signal)?;
        signal_mask::block(&new)?;
        self.replace_mask(&new)?;
        *mask = new;
        Ok(())
    }

    /// Removes `signal` from the mask (it stays blocked).
    pub(crate) fn remove(&self, signal: i32) -> Result<()> {
        let mut mask = self.lock();
        let mut new = *mask;
        signal_mask::remove(&mut new, signal)?;
        self.replace_mask(&new)?;
        *mask = new;
        Ok(())
    }

    /// One `read` of one `signalfd_siginfo`: the number of a pending
    /// signal, which is thereby dequeued, or `None` if there is none.
    pub(crate) fn next_pending(&self) -> Result<Option<i32>> {
        let mut info = MaybeUninit::<sys::signalfd_siginfo>::uninit();
        let fd = self.signalfd.as_raw_fd();
        let size = std::mem::size_of::<sys::signalfd_siginfo>();
        // SAFETY: `info` is `size` writable bytes, the record size a
        // signalfd read takes; the descriptor is non-blocking.
        let n = unsafe { sys::read(fd, info.as_mut_ptr().cast(), size) };
        match check(n, "read", Some(fd)) {
            // SAFETY: the kernel writes whole records only, so a read that
            // returned `size` bytes initialised all of `info`.
            Ok(n) if n as usize == size => Ok(Some(unsafe { info.assume_init() }.ssi_signo as i32)),
            Ok(_) => Ok(None),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// `signalfd(fd, new, ..)`: replaces the signalfd's mask.
    fn replace_mask(&self, new: &sys::sigset_t) -> Result<()> {
        let fd = self.signalfd.as_raw_fd();
        // SAFETY: `new` is an initialised sigset_t, only read; `fd` is our
        // signalfd, so the call replaces its mask and opens nothing.
        let ret = unsafe { sys::signalfd(fd, new, FLAGS) };
        check(ret, "signalfd", Some(fd)).map(drop)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, sys::sigset_t> {
        // Every update is one assignment after the calls succeeded.
        self.mask.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.signalfd.as_fd()
    }
}
