//! The kqueue waker: an `EVFILT_USER` event, triggered with `NOTE_TRIGGER`.
//!
//! The user event is registered with `EV_CLEAR`, so triggers that land
//! before the poller collects the event share it, and a trigger after that
//! produces a new one; nothing needs draining. Every OS evq supports with
//! kqueue has `EVFILT_USER` (macOS, iOS, FreeBSD, NetBSD 10, OpenBSD 7.4,
//! libkqueue).
//!
//! A user event is not tied to a descriptor, so it must be deleted
//! explicitly on drop. Its identifier is a number no other waker in the
//! process has (a global counter), so a waker costs no descriptor: it
//! shares the kqueue's, which it keeps open while it lives.

use super::kqueue::{change, first_error};
use super::Selector;
use crate::{sys, Result, Token};
use std::os::fd::{AsFd, AsRawFd};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The identifier of the next user event. `EVFILT_USER` identifiers are
/// the caller's to choose; unique in the process, they are unique in every
/// kqueue. (Wrapping takes 2^64 wakers, 2^32 on 32-bit targets, and
/// collides only with one of those still alive.)
static NEXT_IDENT: AtomicUsize = AtomicUsize::new(0);

/// A user event ident no other in the process has (wakers', and the
/// watches' of `kqueue_watch.rs`).
pub(crate) fn next_ident() -> usize {
    // Only uniqueness matters: no other memory depends on it.
    NEXT_IDENT.fetch_add(1, Ordering::Relaxed)
}

#[derive(Debug)]
pub(crate) struct WakerFd {
    selector: Selector,
    ident: usize,
    token: Token,
}

impl WakerFd {
    /// Adds the user event (`EV_ADD | EV_CLEAR`) with one `kevent` call.
    pub(crate) fn new(selector: &Selector, token: Token) -> Result<WakerFd> {
        let waker = WakerFd {
            selector: selector.try_clone()?,
            ident: next_ident(),
            token,
        };
        waker.user_event(sys::EV_ADD | sys::EV_CLEAR, 0)?;
        Ok(waker)
    }

    /// One `kevent` call with `NOTE_TRIGGER`; no locks, no allocation.
    pub(crate) fn wake(&self) -> Result<()> {
        self.user_event(0, sys::NOTE_TRIGGER)
    }

    /// Applies `flags` and `fflags` to this waker's user event.
    fn user_event(&self, flags: u32, fflags: u32) -> Result<()> {
        let receipt = self.selector.submit(&[change(
            self.ident,
            sys::EVFILT_USER as i64,
            flags,
            fflags,
            self.token,
        )])?;
        let kqueue = self.selector.as_fd().as_raw_fd();
        first_error(&receipt, "kevent(EVFILT_USER)", kqueue)
    }
}

impl Drop for WakerFd {
    fn drop(&mut self) {
        // Not tied to a descriptor: without this it would outlive the
        // waker. Nothing to report a failure to.
        let _ = self.user_event(sys::EV_DELETE, 0);
    }
}
