//! One registration: a socket's state in one poll, and the AFD poll
//! request it keeps in flight.
//!
//! Every registered socket has one request in flight at (nearly) all
//! times, for the events still armed plus `AFD_POLL_LOCAL_CLOSE`; the
//! thread that changes what is armed submits the new request itself, or
//! cancels the one in flight when it lacks events now wanted (the thread
//! that dequeues the cancelled completion then submits). The state lives in
//! an `Arc` whose allocation the kernel writes into while a request is in
//! flight; see the module docs of `iocp` for why that memory stays valid.

use super::afd::{Afd, PollBuffers};
use super::raw_event::RawEvent;
use crate::{sys, Interest, Result, Token, Trigger};
use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::os::windows::io::RawSocket;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Watched whatever the interest, as epoll always reports errors and
/// hang-ups: a reset and a failed connect.
const ALWAYS: u32 = sys::AFD_POLL_ABORT | sys::AFD_POLL_CONNECT_FAIL;

/// The `AFD_POLL_*` events an interest asks for, besides `ALWAYS`.
fn interest_events(interest: Interest) -> u32 {
    let mut events = 0;
    if interest.is_readable() {
        events |= sys::AFD_POLL_RECEIVE | sys::AFD_POLL_ACCEPT | sys::AFD_POLL_DISCONNECT;
    }
    if interest.is_writable() {
        events |= sys::AFD_POLL_SEND;
    }
    if interest.is_priority() {
        events |= sys::AFD_POLL_RECEIVE_EXPEDITED;
    }
    events
}

/// A registration of one socket with one poll.
pub(super) struct SockState {
    /// The kernel's while a request is in flight (`Inner::request` is not
    /// `Idle`); ours, under `inner`'s lock, otherwise.
    buffers: UnsafeCell<PollBuffers>,
    /// The socket as registered: the key of `edge.rs`'s map and what errors
    /// name.
    socket: RawSocket,
    /// The handle AFD polls (`base_socket.rs`).
    base_socket: RawSocket,
    afd: Arc<Afd>,
    inner: Mutex<Inner>,
}

// SAFETY: `buffers` is the only member that is not Send and Sync by itself
// (it holds the kernel's raw pointers and an UnsafeCell). It is accessed
// only under `inner`'s lock while no request is in flight, or by the kernel
// while one is, never by two threads at once; the pointers in it are
// handle values and are never dereferenced by Rust code.
unsafe impl Send for SockState {}
// SAFETY: as above.
unsafe impl Sync for SockState {}

struct Inner {
    token: Token,
    trigger: Trigger,
    /// Every event the registration asks for.
    wanted: u32,
    /// The part of `wanted` not disarmed by an event (Edge, oneshots).
    armed: u32,
    request: Request,
    /// Deregistered, closed, or its poll is gone: no more requests, and
    /// completions still to come are dropped.
    deleted: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Request {
    /// None in flight.
    Idle,
    /// In flight, polling for these events.
    Polling(u32),
    /// Cancelled; its completion has not been dequeued yet.
    Cancelling,
}

/// What a dequeued completion means to the poll.
pub(super) enum Completion {
    /// Report this event. A level-triggered registration's next request
    /// waits for `repoll` (the next poll), so that it asks the socket
    /// after the program had its chance to drain it: submitted at once, it
    /// would complete at once, and report readiness already used up.
    Event { event: RawEvent, repoll: bool },
    /// Nothing to report (cancelled, filtered, or deregistered); whether a
    /// new request was submitted (one that may complete at once).
    Nothing { submitted: bool },
    /// The socket was closed (or can no longer be polled): the
    /// registration is gone, and leaves the poll's record.
    Closed,
}

impl SockState {
    /// A registration with nothing in flight; `set` arms it.
    pub(super) fn new(socket: RawSocket, base_socket: RawSocket, afd: Arc<Afd>) -> Arc<SockState> {
        Arc::new(SockState {
            buffers: UnsafeCell::new(PollBuffers::new()),
            socket,
            base_socket,
            afd,
            inner: Mutex::new(Inner {
                token: Token(0),
                trigger: Trigger::Edge,
                wanted: 0,
                armed: 0,
                request: Request::Idle,
                deleted: false,
            }),
        })
    }

    pub(super) fn socket(&self) -> RawSocket {
        self.socket
    }

    pub(super) fn base_socket(&self) -> RawSocket {
        self.base_socket
    }

    /// Sets token, interest and trigger and arms everything they ask for
    /// (`register`, `reregister`): submits a request, or cancels one in
    /// flight that lacks some of the events.
    pub(super) fn set(
        self: &Arc<Self>,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let mut inner = self.lock();
        inner.token = token;
        inner.trigger = trigger;
        inner.wanted = interest_events(interest) | ALWAYS;
        inner.armed = inner.wanted;
        self.update(&mut inner)
    }

    /// Re-arms the directions of `interest` of an edge-triggered
    /// registration (`io_would_block`).
    pub(super) fn rearm(self: &Arc<Self>, interest: Interest) {
        let mut inner = self.lock();
        if inner.deleted || inner.trigger != Trigger::Edge {
            return;
        }
        let events = (interest_events(interest) | ALWAYS) & inner.wanted;
        if inner.armed & events == events {
            return;
        }
        inner.armed |= events;
        // A socket that can no longer be polled was closed: its poll's next
        // completion or `deregister` reports that, not the I/O call.
        if self.update(&mut inner).is_err() {
            inner.deleted = true;
        }
    }

    /// Marks the registration deleted and cancels its request: its
    /// completion, already queued or still to come, is dropped
    /// (`deregister`, dropping the poll).
    pub(super) fn delete(&self) {
        let mut inner = self.lock();
        inner.deleted = true;
        if let Request::Polling(_) = inner.request {
            // A failed cancel leaves the request to complete by itself;
            // its completion is dropped all the same.
            let _ = self.cancel(&mut inner);
        }
    }

    /// Takes back the strong count a request's completion carries, in its
    /// `lpOverlapped`.
    ///
    /// # Safety
    ///
    /// `context` must be the `lpOverlapped` of a dequeued completion of
    /// the AFD handle (key `AFD_KEY`), each taken back once.
    pub(super) unsafe fn from_completion(context: *mut sys::OVERLAPPED) -> Arc<SockState> {
        // SAFETY: `submit` made `context` with `Arc::into_raw` and the
        // kernel returned it unchanged; the caller takes it back once.
        unsafe { Arc::from_raw(context as *const SockState) }
    }

    /// Handles the dequeued completion of this registration's request:
    /// decodes it, applies the trigger, and submits the next request.
    pub(super) fn complete(self: &Arc<Self>) -> Completion {
        self.afd.completed();
        let mut inner = self.lock();
        inner.request = Request::Idle;
        if inner.deleted {
            return Completion::Nothing { submitted: false };
        }
        // SAFETY: the completion was dequeued, so the kernel is done with
        // the buffers, and no other request is in flight; we hold the lock.
        let events = unsafe { (*self.buffers.get()).completed_events() };
        let mut reported = 0;
        if let Some(events) = events {
            if events & sys::AFD_POLL_LOCAL_CLOSE != 0 {
                inner.deleted = true;
                return Completion::Closed;
            }
            reported = events & inner.armed;
        }
        if reported != 0 {
            match inner.trigger {
                Trigger::Level => {
                    return Completion::Event {
                        event: RawEvent::new(inner.token, reported),
                        repoll: true,
                    }
                }
                Trigger::Edge => inner.armed &= !reported,
                Trigger::Oneshot | Trigger::EdgeOneshot => inner.armed = 0,
            }
        }
        if self.update(&mut inner).is_err() {
            // The socket was closed between its last poll and this one.
            inner.deleted = true;
            return Completion::Closed;
        }
        if reported == 0 {
            return Completion::Nothing { submitted: true };
        }
        Completion::Event {
            event: RawEvent::new(inner.token, reported),
            repoll: false,
        }
    }

    /// Submits the request a level-triggered event left for the next poll
    /// (`Completion::Event { repoll: true }`). An error means the socket
    /// was closed meanwhile: the registration is gone.
    pub(super) fn repoll(self: &Arc<Self>) -> Result<()> {
        let mut inner = self.lock();
        let result = self.update(&mut inner);
        if result.is_err() {
            inner.deleted = true;
        }
        result
    }

    /// Makes the request in flight cover what is armed.
    fn update(self: &Arc<Self>, inner: &mut Inner) -> Result<()> {
        if inner.deleted {
            return Ok(());
        }
        let events = inner.armed | sys::AFD_POLL_LOCAL_CLOSE;
        match inner.request {
            // Events it asks for that are no longer armed are filtered out
            // when it completes.
            Request::Polling(pending) if events & !pending == 0 => Ok(()),
            Request::Polling(_) => self.cancel(inner),
            // Its completion submits the next one.
            Request::Cancelling => Ok(()),
            Request::Idle => self.submit(inner, events),
        }
    }

    fn submit(self: &Arc<Self>, inner: &mut Inner, events: u32) -> Result<()> {
        let context = Arc::into_raw(Arc::clone(self));
        // SAFETY: the buffers are inside this Arc's allocation, which does
        // not move, and no request is in flight (`Idle`), so nothing else,
        // the kernel included, accesses them while we hold the lock. The
        // strong count in `context` keeps the allocation alive until the
        // completion is dequeued, where `from_completion` takes it back:
        // nothing frees the buffers while the kernel may write them.
        let submitted = unsafe {
            self.afd.poll(
                self.buffers.get(),
                self.base_socket,
                events,
                context.cast::<c_void>(),
            )
        };
        match submitted {
            Ok(()) => {
                inner.request = Request::Polling(events);
                Ok(())
            }
            Err(error) => {
                // SAFETY: the request failed with an error status, so no
                // completion will carry `context`: take its count back.
                drop(unsafe { Arc::from_raw(context) });
                Err(error)
            }
        }
    }

    fn cancel(&self, inner: &mut Inner) -> Result<()> {
        // SAFETY: a request is in flight (`Polling`, checked by the
        // callers), and its status block is this one, which stays
        // allocated until its completion is dequeued.
        unsafe {
            self.afd
                .cancel(std::ptr::addr_of_mut!((*self.buffers.get()).iosb))?
        };
        inner.request = Request::Cancelling;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The state stays consistent across a panic (each change is one
        // assignment), so a poisoned lock is still good to use.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_interest_asks_for_its_afd_events() {
        assert_eq!(
            interest_events(Interest::READABLE),
            sys::AFD_POLL_RECEIVE | sys::AFD_POLL_ACCEPT | sys::AFD_POLL_DISCONNECT
        );
        assert_eq!(interest_events(Interest::WRITABLE), sys::AFD_POLL_SEND);
        assert_eq!(
            interest_events(Interest::PRIORITY),
            sys::AFD_POLL_RECEIVE_EXPEDITED
        );
    }
}
