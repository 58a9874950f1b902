//! The Linux waker: an eventfd registered edge-triggered for reading.
//!
//! `wake` adds 1 to the eventfd's counter with one `write`. The counter is
//! never read back: with `EPOLLET` every write is a new edge, so a wake after
//! the poller took the last event is reported again, while wakes that land
//! before the poller looks share the one pending event.
//!
//! # References
//! - [`eventfd(2)`](https://man7.org/linux/man-pages/man2/eventfd.2.html)
//! - [`signal-safety(7)`](https://man7.org/linux/man-pages/man7/signal-safety.7.html)
//!   (`read` and `write` are async-signal-safe)

use super::syscall::check;
use super::Selector;
use crate::{sys, Interest, Result, Token, Trigger};
use std::ffi::c_int;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

#[derive(Debug)]
pub(crate) struct WakerFd {
    eventfd: OwnedFd,
    /// On io_uring, the poll request holds the eventfd open, so closing it
    /// does not end the registration as it does on epoll: such a waker
    /// deregisters itself when dropped (through this handle, which shares
    /// the ring). `None` on epoll, where closing is enough.
    #[cfg(feature = "io-uring")]
    io_uring: Option<Selector>,
}

impl WakerFd {
    /// `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`, registered with `selector`.
    pub(crate) fn new(selector: &Selector, token: Token) -> Result<WakerFd> {
        let flags = (sys::EFD_CLOEXEC | sys::EFD_NONBLOCK) as c_int;
        // SAFETY: eventfd takes no pointers.
        let fd = check(unsafe { sys::eventfd(0, flags) }, "eventfd", None)?;
        // SAFETY: eventfd succeeded, so `fd` is a new descriptor that nothing
        // else owns.
        let eventfd = unsafe { OwnedFd::from_raw_fd(fd) };
        selector.register(fd, token, Interest::READABLE, Trigger::Edge)?;
        Ok(WakerFd {
            eventfd,
            #[cfg(feature = "io-uring")]
            io_uring: (selector.backend() == crate::Backend::IoUring)
                .then(|| selector.try_clone())
                .transpose()?,
        })
    }

    /// One `write(2)` of 1; no locks, no allocation.
    pub(crate) fn wake(&self) -> Result<()> {
        match self.add(1) {
            // The counter is one short of `u64::MAX` after ~2^64 wakes: a
            // read resets it, and the wake then goes through.
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                self.reset()?;
                self.add(1)
            }
            result => result,
        }
    }

    fn add(&self, n: u64) -> Result<()> {
        let fd = self.eventfd.as_raw_fd();
        let bytes = n.to_ne_bytes();
        // SAFETY: `bytes` is 8 readable bytes, as an eventfd write requires.
        let ret = unsafe { sys::write(fd, bytes.as_ptr().cast(), bytes.len()) };
        check(ret, "write(eventfd)", Some(fd)).map(drop)
    }

    fn reset(&self) -> Result<()> {
        let fd = self.eventfd.as_raw_fd();
        let mut bytes = [0u8; 8];
        // SAFETY: `bytes` is 8 writable bytes, as an eventfd read requires.
        let ret = unsafe { sys::read(fd, bytes.as_mut_ptr().cast(), bytes.len()) };
        match check(ret, "read(eventfd)", Some(fd)) {
            // Another thread reset it first: just as good.
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => Ok(()),
            result => result.map(drop),
        }
    }
}

#[cfg(feature = "io-uring")]
impl Drop for WakerFd {
    fn drop(&mut self) {
        if let Some(selector) = &self.io_uring {
            // Nothing to report from a drop; the registration is gone
            // either way once the eventfd closes after this.
            let _ = selector.deregister(self.eventfd.as_raw_fd());
        }
    }
}
