//! The record epoll keeps in the kernel and io_uring does not: which fds are
//! registered, with what, and which kernel request currently watches each.

use crate::{Interest, Token, Trigger};
use std::os::fd::RawFd;

/// Where a registration's poll request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Armed {
    /// Its `POLL_ADD` sits in the SQ at this position, not yet submitted.
    Queued { position: u32 },
    /// Submitted: the kernel watches the fd until the request completes
    /// (single-shot) or is removed.
    InKernel,
    /// No request: a oneshot that fired, or a source the kernel reported
    /// once and cannot watch for changes (a regular file).
    Disarmed,
}

/// One registered fd.
#[derive(Debug)]
pub(super) struct Registration {
    pub(super) token: Token,
    pub(super) interest: Interest,
    pub(super) trigger: Trigger,
    /// Tags the current request's `user_data`: completions of earlier
    /// requests for this fd (removed, replaced) carry another generation
    /// and are dropped.
    pub(super) generation: u32,
    pub(super) armed: Armed,
    /// The current multishot request has posted a completion that said
    /// more will follow (`IORING_CQE_F_MORE`): if it ends, the kernel ended
    /// it (e.g. out of memory for a completion), so evq re-arms it.
    pub(super) multishot_ran: bool,
    /// The reap that last reported this registration, and the index of its
    /// event in that reap's buffer: later completions in the same reap
    /// merge into that event, as epoll reports an fd once per wait.
    pub(super) reported_in: u64,
    pub(super) slot: usize,
}

/// Registrations indexed by fd number (fds are small and dense).
#[derive(Debug, Default)]
pub(super) struct Registrations {
    by_fd: Vec<Option<Registration>>,
}

impl Registrations {
    pub(super) fn get_mut(&mut self, fd: RawFd) -> Option<&mut Registration> {
        self.by_fd.get_mut(usize::try_from(fd).ok()?)?.as_mut()
    }

    pub(super) fn contains(&self, fd: RawFd) -> bool {
        usize::try_from(fd)
            .ok()
            .and_then(|index| self.by_fd.get(index))
            .is_some_and(Option::is_some)
    }

    /// Stores `registration` for `fd` (which must be valid: non-negative).
    pub(super) fn insert(&mut self, fd: RawFd, registration: Registration) {
        let index = usize::try_from(fd).expect("a valid fd is non-negative");
        if index >= self.by_fd.len() {
            self.by_fd.resize_with(index + 1, || None);
        }
        self.by_fd[index] = Some(registration);
    }

    pub(super) fn remove(&mut self, fd: RawFd) -> Option<Registration> {
        self.by_fd.get_mut(usize::try_from(fd).ok()?)?.take()
    }
}
