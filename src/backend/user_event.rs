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

use super::kqueue::{change, first_error};
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
        let selector = selector.try_clone()?;
        user_event(&selector, token, sys::EV_ADD | sys::EV_CLEAR, 0)?;
        Ok(WakerFd { selector, token })
    }

    /// One `kevent` call with `NOTE_TRIGGER`; no locks, no allocation.
    pub(crate) fn wake(&self) -> Result<()> {
        user_event(&self.selector, self.token, 0, sys::NOTE_TRIGGER)
    }
}

/// Applies `flags` and `fflags` to the user event identified by
/// `selector`'s descriptor number.
fn user_event(selector: &Selector, token: Token, flags: u32, fflags: u32) -> Result<()> {
    let ident = selector.as_fd().as_raw_fd();
    let receipt = selector.submit(&[change(
        ident as usize,
        sys::EVFILT_USER as i64,
        flags,
        fflags,
        token,
    )])?;
    first_error(&receipt, "kevent(EVFILT_USER)", ident)
}

impl Drop for WakerFd {
    fn drop(&mut self) {
        // Not tied to a descriptor: without this it would outlive the
        // waker. Nothing to report a failure to.
        let _ = user_event(&self.selector, self.token, sys::EV_DELETE, 0);
    }
}
