//! The Windows `Selector`: one completion port, one AFD handle, and the
//! record of registered sockets.

use super::afd::Afd;
use super::base_socket::base_socket;
use super::edge;
use super::port::{CompletionPort, AFD_KEY, EMPTY_ENTRY, WAKE_KEY};
use super::raw_event::RawEvent;
use super::sock_state::{Completion, SockState};
use super::waker::Wakers;
use crate::{sys, Error, Event, Interest, Result, Token, Trigger};
use std::collections::HashMap;
use std::os::windows::io::{AsHandle, BorrowedHandle, RawSocket};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// The most completions one wait collects: the records live on the
/// stack (8 KiB), so a poll allocates nothing; more wait for the next poll.
const ENTRIES_PER_WAIT: usize = 256;

/// A handle to one poll instance; every clone shares it.
#[derive(Debug)]
pub(crate) struct Selector {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    port: Arc<CompletionPort>,
    afd: Arc<Afd>,
    /// The registrations, by base socket (`base_socket.rs`).
    record: Mutex<HashMap<RawSocket, Arc<SockState>>>,
    /// Level-triggered registrations whose next request the next `select`
    /// submits (`Completion::Event { repoll: true }`).
    repoll: Mutex<Vec<Arc<SockState>>>,
    /// The live wakers, shared with them.
    wakers: Arc<Wakers>,
}

impl std::fmt::Debug for SockState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SockState")
            .field("socket", &self.socket())
            .finish_non_exhaustive()
    }
}

impl Selector {
    /// A completion port (`CreateIoCompletionPort`) and an AFD handle
    /// associated with it (`afd.rs`: three calls).
    pub(crate) fn new() -> Result<Selector> {
        let port = CompletionPort::new()?;
        let afd = Afd::open(&port)?;
        Ok(Selector {
            inner: Arc::new(Inner {
                port: Arc::new(port),
                afd: Arc::new(afd),
                record: Mutex::default(),
                repoll: Mutex::default(),
                wakers: Arc::default(),
            }),
        })
    }

    /// Another handle to the same poll: no system call.
    pub(crate) fn try_clone(&self) -> Result<Selector> {
        Ok(Selector {
            inner: Arc::clone(&self.inner),
        })
    }

    /// Records `socket` (by its base socket: one `WSAIoctl`) and submits
    /// its first poll request (one `NtDeviceIoControlFile`).
    pub(crate) fn register(
        &self,
        socket: RawSocket,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let base = base_socket(socket)?;
        let mut record = self.inner.record();
        if record.contains_key(&base) {
            return Err(Error::AlreadyRegistered {
                fd: socket,
                errno: None,
            });
        }
        let state = SockState::new(socket, base, Arc::clone(&self.inner.afd));
        state.set(token, interest, trigger)?;
        record.insert(base, Arc::clone(&state));
        edge::insert(&state);
        Ok(())
    }

    /// Replaces token, interest and trigger, re-arming everything: one
    /// `NtDeviceIoControlFile`, or one `NtCancelIoFileEx` when the request
    /// in flight lacks events now asked for (the poll submits the new one
    /// when the cancellation completes).
    pub(crate) fn reregister(
        &self,
        socket: RawSocket,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> Result<()> {
        let state = self.find(socket)?;
        state.set(token, interest, trigger)
    }

    /// Removes `socket` from the record and cancels its request
    /// (`NtCancelIoFileEx`); its completion, queued or to come, is dropped.
    pub(crate) fn deregister(&self, socket: RawSocket) -> Result<()> {
        let base = base_socket(socket)?;
        let state = self
            .inner
            .record()
            .remove(&base)
            .ok_or(Error::NotRegistered {
                fd: socket,
                errno: None,
            })?;
        state.delete();
        edge::remove(&state);
        Ok(())
    }

    fn find(&self, socket: RawSocket) -> Result<Arc<SockState>> {
        let base = base_socket(socket)?;
        self.inner
            .record()
            .get(&base)
            .cloned()
            .ok_or(Error::NotRegistered {
                fd: socket,
                errno: None,
            })
    }

    /// Submits the requests of the level-triggered registrations the last
    /// poll reported, then makes one `GetQueuedCompletionStatusEx` of at
    /// most `max` completions (and `ENTRIES_PER_WAIT`), each turned into at
    /// most one event. If they reported nothing but led to new requests (a
    /// `reregister`'s cancellation completed), one more
    /// `GetQueuedCompletionStatusEx` that does not wait collects what those
    /// completed with at once, so that a poll after `reregister` reports
    /// the readiness it re-armed. Completions that report nothing
    /// (cancelled, deregistered, filtered) leave `events` empty, which
    /// `Poll::poll` treats as an early return.
    pub(crate) fn select(
        &self,
        events: &mut Vec<Event>,
        max: usize,
        timeout: Option<Duration>,
    ) -> Result<()> {
        events.clear();
        self.repoll();
        let mut entries = [EMPTY_ENTRY; ENTRIES_PER_WAIT];
        let n = max.min(events.capacity()).min(ENTRIES_PER_WAIT);
        let completed = self.inner.port.wait(&mut entries[..n], timeout)?;
        if self.collect(completed, events) && events.is_empty() {
            let completed = self
                .inner
                .port
                .wait(&mut entries[..n], Some(Duration::ZERO))?;
            self.collect(completed, events);
        }
        Ok(())
    }

    /// Turns dequeued completions into events; returns whether any of
    /// them submitted a new request without reporting an event.
    fn collect(&self, completed: &[sys::OVERLAPPED_ENTRY], events: &mut Vec<Event>) -> bool {
        let mut submitted_any = false;
        for entry in completed {
            if entry.lpCompletionKey as usize == WAKE_KEY {
                // A dropped waker's packet reports nothing.
                if let Some(token) = self.inner.wakers.token(entry.lpOverlapped as usize) {
                    let wake = RawEvent::new(token, sys::AFD_POLL_RECEIVE);
                    events.push(Event::from_raw(wake));
                }
                continue;
            }
            debug_assert_eq!(entry.lpCompletionKey as usize, AFD_KEY);
            // SAFETY: every completion with AFD_KEY is a poll request's,
            // whose lpOverlapped is the context `SockState::submit` made,
            // dequeued here once.
            let state = unsafe { SockState::from_completion(entry.lpOverlapped) };
            match state.complete() {
                Completion::Event { event, repoll } => {
                    events.push(Event::from_raw(event));
                    if repoll {
                        self.inner.repolls().push(state);
                    }
                }
                Completion::Nothing { submitted } => submitted_any |= submitted,
                Completion::Closed => self.forget(&state),
            }
        }
        submitted_any
    }

    /// Submits the requests that level-triggered events left for this poll.
    fn repoll(&self) {
        let states = std::mem::take(&mut *self.inner.repolls());
        for state in states {
            if state.repoll().is_err() {
                self.forget(&state);
            }
        }
    }

    /// Removes a closed socket's registration from the record, unless the
    /// base socket was deregistered and registered anew meanwhile.
    fn forget(&self, state: &Arc<SockState>) {
        let mut record = self.inner.record();
        if record
            .get(&state.base_socket())
            .is_some_and(|recorded| Arc::ptr_eq(recorded, state))
        {
            record.remove(&state.base_socket());
        }
        drop(record);
        edge::remove(state);
    }

    /// The port, for a waker to post to.
    pub(super) fn port(&self) -> &Arc<CompletionPort> {
        &self.inner.port
    }

    /// The live wakers, for a waker to join.
    pub(super) fn wakers(&self) -> &Arc<Wakers> {
        &self.inner.wakers
    }
}

impl AsHandle for Selector {
    fn as_handle(&self) -> BorrowedHandle<'_> {
        self.inner.port.as_handle()
    }
}

impl Inner {
    fn record(&self) -> MutexGuard<'_, HashMap<RawSocket, Arc<SockState>>> {
        // Each change is one insertion or removal: still consistent.
        self.record.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn repolls(&self) -> MutexGuard<'_, Vec<Arc<SockState>>> {
        self.repoll.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How long the last handle of a poll waits for the completion of one
/// cancelled request before leaking what is still in flight.
const CANCEL_WAIT: Duration = Duration::from_secs(1);

impl Drop for Inner {
    /// Cancels every request in flight and dequeues the completions, so
    /// that every registration's memory is freed after the kernel is done
    /// with it, and the AFD handle closes with the last of them; then the
    /// port closes. Wakes still queued are dropped with it.
    fn drop(&mut self) {
        let states: Vec<Arc<SockState>> = self.record().drain().map(|(_, state)| state).collect();
        for state in &states {
            state.delete();
            edge::remove(state);
        }
        drop(states);
        let mut entries = [EMPTY_ENTRY; ENTRIES_PER_WAIT];
        while self.afd.in_flight() > 0 {
            let completed = match self.port.wait(&mut entries, Some(CANCEL_WAIT)) {
                Ok(completed) if !completed.is_empty() => completed,
                // The kernel did not complete a cancelled request: leak its
                // state (the strong count it holds) rather than free memory
                // it may still write.
                _ => return,
            };
            for entry in completed {
                if entry.lpCompletionKey as usize == AFD_KEY {
                    // SAFETY: as in `select`: a poll request's context,
                    // dequeued here once.
                    let state = unsafe { SockState::from_completion(entry.lpOverlapped) };
                    // Deleted above (or earlier): only counts the request
                    // as completed.
                    let _ = state.complete();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::os::windows::io::AsRawSocket;
    use std::sync::Weak;

    #[test]
    fn dropping_the_last_handle_frees_every_registration_and_the_afd_handle() {
        let (listening, deregistered) = (listener(), listener());
        let selector = Selector::new().unwrap();
        let weak = |socket: &TcpListener| -> Weak<SockState> {
            let base = base_socket(socket.as_raw_socket()).unwrap();
            Arc::downgrade(&selector.inner.record()[&base])
        };
        for socket in [&listening, &deregistered] {
            let raw = socket.as_raw_socket();
            selector
                .register(raw, Token(1), Interest::READABLE, Trigger::Level)
                .unwrap();
        }
        let states = [weak(&listening), weak(&deregistered)];
        // Cancelled, its completion not dequeued: only the kernel's count
        // keeps it.
        selector.deregister(deregistered.as_raw_socket()).unwrap();
        assert_eq!(selector.inner.afd.in_flight(), 2);
        let afd = Arc::downgrade(&selector.inner.afd);
        let clone = selector.try_clone().unwrap();
        drop(selector);
        assert!(states.iter().all(|state| state.upgrade().is_some()));
        drop(clone);
        assert!(states.iter().all(|state| state.upgrade().is_none()));
        assert!(afd.upgrade().is_none(), "the AFD handle is closed");
    }

    fn listener() -> TcpListener {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        listener
    }
}
