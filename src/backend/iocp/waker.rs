//! The Windows waker: a packet posted to the poll's completion port.
//!
//! `wake` makes one `PostQueuedCompletionStatus` with the reserved key
//! `WAKE_KEY` and the waker's token as the packet's value; `select` turns
//! the packet into an event. Each post queues one packet, so the portable
//! `Waker` skips the call while an earlier wake is still pending
//! (`wake_gate.rs`). The waker holds the port open, not the poll: waking a
//! dropped poll posts to a port that nobody reads.
//!
//! # References
//! - [`PostQueuedCompletionStatus`](https://learn.microsoft.com/en-us/windows/win32/fileio/postqueuedcompletionstatus)

use super::port::{CompletionPort, WAKE_KEY};
use super::Selector;
use crate::{Result, Token};
use std::sync::Arc;

#[derive(Debug)]
pub(crate) struct WakerFd {
    port: Arc<CompletionPort>,
    token: Token,
}

impl WakerFd {
    /// No system call: a waker needs no registration.
    pub(crate) fn new(selector: &Selector, token: Token) -> Result<WakerFd> {
        Ok(WakerFd {
            port: Arc::clone(selector.port()),
            token,
        })
    }

    /// One `PostQueuedCompletionStatus`; no locks, no allocation.
    pub(crate) fn wake(&self) -> Result<()> {
        self.port.post(WAKE_KEY, self.token.0)
    }
}
