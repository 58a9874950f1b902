//! The record epoll keeps in the kernel and io_uring does not: which fds are
//! registered, with what, and which kernel request currently watches each.

use crate::{Interest, Token, Trigger};
use std::collections::HashMap;
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

/// The fd numbers below which the record is a table indexed by number.
/// Real fds are small and dense; a number above this (possible only with a
/// raised `RLIMIT_NOFILE`, or a number that is not open at all, which the
/// kernel answers with `EBADF` only when the request is submitted) goes to
/// a map instead of growing the table to its size.
const DENSE_FDS: usize = 1 << 16;

/// Registrations indexed by fd number.
#[derive(Debug, Default)]
pub(super) struct Registrations {
    by_fd: Vec<Option<Registration>>,
    sparse: HashMap<RawFd, Registration>,
}

impl Registrations {
    pub(super) fn get_mut(&mut self, fd: RawFd) -> Option<&mut Registration> {
        match dense_index(fd) {
            Some(index) => self.by_fd.get_mut(index)?.as_mut(),
            None => self.sparse.get_mut(&fd),
        }
    }

    pub(super) fn contains(&self, fd: RawFd) -> bool {
        match dense_index(fd) {
            Some(index) => self.by_fd.get(index).is_some_and(Option::is_some),
            None => self.sparse.contains_key(&fd),
        }
    }

    /// Stores `registration` for `fd` (which must be valid: non-negative).
    pub(super) fn insert(&mut self, fd: RawFd, registration: Registration) {
        assert!(fd >= 0, "a valid fd is non-negative");
        let Some(index) = dense_index(fd) else {
            self.sparse.insert(fd, registration);
            return;
        };
        if index >= self.by_fd.len() {
            self.by_fd.resize_with(index + 1, || None);
        }
        self.by_fd[index] = Some(registration);
    }

    pub(super) fn remove(&mut self, fd: RawFd) -> Option<Registration> {
        match dense_index(fd) {
            Some(index) => self.by_fd.get_mut(index)?.take(),
            None => self.sparse.remove(&fd),
        }
    }
}

/// `fd`'s index in the table, if it belongs there.
fn dense_index(fd: RawFd) -> Option<usize> {
    usize::try_from(fd).ok().filter(|&index| index < DENSE_FDS)
}
