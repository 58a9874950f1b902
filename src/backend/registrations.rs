//! The kqueue backend's record of what evq registered, per fd number.
//!
//! kqueue never says "already registered", so the backend remembers each
//! fd's registration itself. Registry calls come from every thread of a
//! runtime at once, so the record has no lock of its own: each fd number
//! has a slot with its own lock, held across the `kevent` call that changes
//! that fd's filters. Calls on the same fd wait for each other (so
//! `AlreadyRegistered` and `NotRegistered` stay exact when they race);
//! calls on different fds never do.
//!
//! The slots live in buckets of doubling size (64, 128, 256, ... slots),
//! each allocated the first time an fd in its range is registered and never
//! moved, so finding a slot is an atomic load and an index: no table-wide
//! lock, and no reallocation that could invalidate a slot another thread
//! holds.

use crate::{Interest, Token, Trigger};
use std::os::fd::RawFd;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// What the backend needs to know about an fd's registration: its token
/// and interest (the existence probe repeats them, since a kqueue change
/// overwrites `udata`), and its trigger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Registration {
    pub(super) token: Token,
    pub(super) interest: Interest,
    pub(super) trigger: Trigger,
}

/// One fd number's registration, if any.
pub(super) type Slot = Mutex<Option<Registration>>;

/// Slots in the first bucket; bucket `b` holds `FIRST << b`.
const FIRST: usize = 64;

/// Enough buckets for every non-negative `RawFd`: together they hold
/// `FIRST * (2^BUCKETS - 1)` slots, more than `i32::MAX`.
const BUCKETS: usize = 32 - FIRST.trailing_zeros() as usize;

/// A slot per fd number, allocated a bucket at a time.
pub(super) struct Registrations {
    buckets: [OnceLock<Box<[Slot]>>; BUCKETS],
}

impl Default for Registrations {
    fn default() -> Registrations {
        Registrations {
            buckets: std::array::from_fn(|_| OnceLock::new()),
        }
    }
}

impl Registrations {
    /// Locks `fd`'s slot, allocating its bucket if this is the first fd in
    /// its range; `None` for a negative fd, which no call can register.
    pub(super) fn lock(&self, fd: RawFd) -> Option<MutexGuard<'_, Option<Registration>>> {
        let (bucket, index) = position(usize::try_from(fd).ok()?);
        let slots = self.buckets[bucket].get_or_init(|| {
            (0..FIRST << bucket)
                .map(|_| Slot::default())
                .collect::<Box<[Slot]>>()
        });
        // A slot stays consistent even if a holder panicked: every update is
        // a single assignment.
        Some(slots[index].lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// The bucket holding slot `i`, and the index within it: bucket `b` starts
/// at slot `FIRST * (2^b - 1)`.
fn position(i: usize) -> (usize, usize) {
    let scaled = i / FIRST + 1;
    let bucket = (usize::BITS - 1 - scaled.leading_zeros()) as usize;
    (bucket, i - FIRST * ((1 << bucket) - 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fd_has_its_own_slot_in_range() {
        let mut next = (0, 0);
        for i in 0..FIRST * 40 {
            assert_eq!(position(i), next, "slot {i}");
            next.1 += 1;
            if next.1 == FIRST << next.0 {
                next = (next.0 + 1, 0);
            }
        }
        let (bucket, index) = position(i32::MAX as usize);
        assert!(bucket < BUCKETS && index < FIRST << bucket);
    }

    #[test]
    fn a_slot_keeps_what_was_stored() {
        let registrations = Registrations::default();
        let registration = Registration {
            token: Token(7),
            interest: Interest::READABLE,
            trigger: Trigger::Edge,
        };
        *registrations.lock(5000).unwrap() = Some(registration);
        assert_eq!(*registrations.lock(5000).unwrap(), Some(registration));
        assert_eq!(*registrations.lock(5001).unwrap(), None);
        assert!(registrations.lock(-1).is_none());
    }
}
