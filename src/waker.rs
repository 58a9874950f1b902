//! Waking a blocked `Poll::poll` from another thread.

use crate::backend::WakerFd;
use crate::wake_gate::{LastWrite, WakeGate};
use crate::{Registry, Result, Token};
use std::sync::Arc;

/// Wakes a thread blocked in [`Poll::poll`](crate::Poll::poll) from any
/// other thread, or from a signal handler.
///
/// The waker is a source registered with the poll: [`wake`](Waker::wake)
/// makes the poll report an event with the waker's token, readable. Wakes
/// that happen before the poll collects the event are coalesced into that
/// one event, and cost no system call (except those racing, on other
/// threads, with the system call that made the event: they make their own
/// rather than count on one that might fail); a wake after it was collected
/// produces a new one. There is nothing to drain or reset after the event.
///
/// Keep the waker alive until its wakes have been seen: dropping it removes
/// an event the poll has not collected yet.
///
/// On Linux the waker is an eventfd
/// ([`eventfd(2)`](https://man7.org/linux/man-pages/man2/eventfd.2.html)),
/// close-on-exec, registered edge-triggered. On kqueue it is an
/// `EVFILT_USER` event registered with `EV_CLEAR` and fired with
/// `NOTE_TRIGGER`. On Windows a wake is a packet posted to the poll's
/// completion port (`PostQueuedCompletionStatus`) with a key reserved for
/// wakers. Dropping the waker removes it from the poll. A poll may
/// have any number of wakers, each with its own token.
///
/// # Examples
///
/// ```
/// use evq::{Events, Poll, Token, Waker};
/// use std::sync::Arc;
/// # fn main() -> evq::Result<()> {
/// const WAKE: Token = Token(10);
/// let mut poll = Poll::new()?;
/// let waker = Arc::new(Waker::new(poll.registry(), WAKE)?);
///
/// let remote = Arc::clone(&waker);
/// let thread = std::thread::spawn(move || remote.wake());
///
/// let mut events = Events::with_capacity(4);
/// poll.poll(&mut events, None)?; // blocks until the other thread wakes it
/// assert_eq!(events.iter().next().map(|e| e.token()), Some(WAKE));
/// thread.join().unwrap()?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Waker {
    inner: WakerFd,
    gate: Arc<WakeGate>,
    last_write: LastWrite,
}

impl Waker {
    /// A waker whose wakes the poll behind `registry` reports with `token`.
    ///
    /// Makes an `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)` and one
    /// `epoll_ctl(EPOLL_CTL_ADD)` call; on kqueue, adds an `EVFILT_USER`
    /// event (identified by a number unique in the process, so no
    /// descriptor is made) with one `kevent` call.
    pub fn new(registry: &Registry, token: Token) -> Result<Waker> {
        let inner = WakerFd::new(registry.selector(), token)?;
        let gate = Arc::clone(registry.wake_gate());
        let last_write = gate.add_waker();
        Ok(Waker {
            inner,
            gate,
            last_write,
        })
    }

    /// Makes the poll report the waker's token, waking it if it is blocked.
    ///
    /// Makes no system call while the event of an earlier successful wake
    /// is still waiting to be collected, and otherwise one: a `write(2)` to the
    /// eventfd, or a `kevent` call on kqueue. Async-signal-safe: no locks,
    /// no allocation (two atomic operations, a third after a system call),
    /// so it may be called from a
    /// signal handler.
    ///
    /// Returns `Ok` only if this wake's event is sure to be reported: its
    /// own system call succeeded, or an earlier one that succeeded left an
    /// event the poll has not collected yet. A wake racing with another
    /// thread's system call makes its own, rather than trust one that may
    /// fail.
    pub fn wake(&self) -> Result<()> {
        self.gate.wake(&self.last_write, || self.inner.wake())
    }
}

impl Drop for Waker {
    fn drop(&mut self) {
        self.gate.remove_waker();
    }
}
