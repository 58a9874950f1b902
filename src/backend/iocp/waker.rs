//! The Windows waker: a packet posted to the poll's completion port.
//!
//! `wake` makes one `PostQueuedCompletionStatus` with the reserved key
//! `WAKE_KEY` and the waker's number (unique in the process) as the
//! packet's value; `select` looks the number up among the poll's live
//! wakers and reports its token, so the packet of a waker dropped before
//! the poll collected it reports nothing, as a dropped eventfd does on
//! Linux. Each post queues one packet, so the portable `Waker` skips the
//! call while an earlier wake is still pending (`wake_gate.rs`). The waker
//! holds the port open, not the poll: waking a dropped poll posts to a
//! port that nobody reads.
//!
//! # References
//! - [`PostQueuedCompletionStatus`](https://learn.microsoft.com/en-us/windows/win32/fileio/postqueuedcompletionstatus)

use super::port::{CompletionPort, WAKE_KEY};
use super::Selector;
use crate::{Result, Token};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// A poll's live wakers: number -> token.
#[derive(Debug, Default)]
pub(super) struct Wakers(Mutex<HashMap<usize, Token>>);

impl Wakers {
    /// The token of live waker `number`.
    pub(super) fn token(&self, number: usize) -> Option<Token> {
        self.lock().get(&number).copied()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<usize, Token>> {
        // Each change is one insertion or removal: still consistent.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Debug)]
pub(crate) struct WakerFd {
    port: Arc<CompletionPort>,
    wakers: Arc<Wakers>,
    number: usize,
}

impl WakerFd {
    /// No system call: a waker needs no registration, only a number.
    pub(crate) fn new(selector: &Selector, token: Token) -> Result<WakerFd> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let number = NEXT.fetch_add(1, Ordering::Relaxed);
        let wakers = Arc::clone(selector.wakers());
        wakers.lock().insert(number, token);
        Ok(WakerFd {
            port: Arc::clone(selector.port()),
            wakers,
            number,
        })
    }

    /// One `PostQueuedCompletionStatus`; no locks, no allocation.
    pub(crate) fn wake(&self) -> Result<()> {
        self.port.post(WAKE_KEY, self.number)
    }
}

impl Drop for WakerFd {
    fn drop(&mut self) {
        self.wakers.lock().remove(&self.number);
    }
}
