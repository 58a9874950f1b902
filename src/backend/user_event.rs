//! The kqueue waker: an `EVFILT_USER` event, triggered with `NOTE_TRIGGER`.
//!
//! The user event is registered with `EV_CLEAR`, so triggers that land
//! before the poller collects the event share it, and a trigger after that
//! produces a new one; nothing needs draining. Every OS evq supports with
//! kqueue has `EVFILT_USER` (macOS, iOS, FreeBSD, NetBSD 10, OpenBSD 7.4,
//! libkqueue).
//!
//! A user event is not tied to a descriptor, so it must be deleted
//! explicitly on drop. Its identifier is the number of the waker's own
//! duplicate of the kqueue descriptor, which no other waker can hold while
//! this one lives.

use super::kqueue::change;
use super::Selector;
use crate::{sys, Result, Token};
use std::os::fd::{AsFd, AsRawFd};

#[derive(Debug)]
pub(crate) struct WakerFd {
    selector: Selector,
    token: Token,
}

impl WakerFd {
    /// Adds the user event (`EV_ADD | EV_CLEAR`) with one `kevent` call.
    pub(crate) fn new(selector: &Selector, token: Token) -> Result<WakerFd> {
        let waker = WakerFd {
            selector: selector.try_clone()?,
            token,
        };
        waker.user_event(sys::EV_ADD | sys::EV_CLEAR, 0)?;
        Ok(waker)
    }

    /// One `kevent` call with `NOTE_TRIGGER`; no locks, no allocation.
    pub(crate) fn wake(&self) -> Result<()> {
        self.user_event(0, sys::NOTE_TRIGGER)
    }

    fn user_event(&self, flags: u32, fflags: u32) -> Result<()> {
        let ident = self.selector.as_fd().as_raw_fd() as usize;
        let receipt = self.selector.submit(&[change(
            ident,
            sys::EVFILT_USER as i64,
            flags,
            fflags,
            self.token,
        )])?;
        super::kqueue::first_error(
            &receipt,
            "kevent(EVFILT_USER)",
            self.selector.as_fd().as_raw_fd(),
        )
    }
}

impl Drop for WakerFd {
    fn drop(&mut self) {
        // Nothing to report a failure to; the kqueue outlives it otherwise.
        let _ = self.user_event(sys::EV_DELETE, 0);
    }
}
