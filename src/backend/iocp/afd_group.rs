//! A poll's AFD handles: each serves at most `SOCKETS_PER_AFD`
//! registrations, as in wepoll, mio and polling, which keep the number of
//! poll requests pending on one AFD handle small; a new handle is opened
//! when all are full, and one no registration uses any more is closed when
//! the next is needed.

use super::afd::Afd;
use super::port::CompletionPort;
use crate::Result;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Registrations per AFD handle (wepoll's `POLL_GROUP__MAX_GROUP_SIZE`).
const SOCKETS_PER_AFD: usize = 32;

#[derive(Debug, Default)]
pub(super) struct AfdGroup {
    /// Every handle opened and still used; a registration holds a clone of
    /// its handle's `Arc`, so a strong count of 1 means unused.
    afds: Mutex<Vec<Arc<Afd>>>,
}

impl AfdGroup {
    /// A handle for one more registration: the newest, unless it serves
    /// `SOCKETS_PER_AFD` already; then a new one (three system calls, see
    /// `Afd::open`).
    pub(super) fn acquire(&self, port: &CompletionPort) -> Result<Arc<Afd>> {
        let mut afds = self.lock();
        // Unused handles with nothing in flight close now, but the newest,
        // which is about to be used.
        let newest = afds.len().saturating_sub(1);
        let mut index = 0;
        afds.retain(|afd| {
            let keep = index == newest || Arc::strong_count(afd) > 1 || afd.in_flight() > 0;
            index += 1;
            keep
        });
        if let Some(afd) = afds.last() {
            if Arc::strong_count(afd) - 1 < SOCKETS_PER_AFD {
                return Ok(Arc::clone(afd));
            }
        }
        let afd = Arc::new(Afd::open(port)?);
        afds.push(Arc::clone(&afd));
        Ok(afd)
    }

    /// Requests whose completion has not been dequeued, on every handle.
    pub(super) fn in_flight(&self) -> usize {
        self.lock().iter().map(|afd| afd.in_flight()).sum()
    }

    /// The handle the next registration would get, if one is open.
    #[cfg(test)]
    pub(super) fn newest(&self) -> Option<Arc<Afd>> {
        self.lock().last().cloned()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Arc<Afd>>> {
        // Each change is one push or removal: still consistent.
        self.afds.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_handle_serves_at_most_its_share_of_registrations() {
        let port = CompletionPort::new().unwrap();
        let group = AfdGroup::default();
        let held: Vec<Arc<Afd>> = (0..=SOCKETS_PER_AFD)
            .map(|_| group.acquire(&port).unwrap())
            .collect();
        let first = &held[0];
        let shared = held.iter().filter(|afd| Arc::ptr_eq(afd, first)).count();
        assert_eq!(shared, SOCKETS_PER_AFD);
        assert!(!Arc::ptr_eq(&held[SOCKETS_PER_AFD], first));
        // Once the first handle's users are gone, the next acquire closes it.
        let weak_first = Arc::downgrade(first);
        drop(held);
        let _next = group.acquire(&port).unwrap();
        assert!(
            weak_first.upgrade().is_none(),
            "the unused handle is closed"
        );
    }
}
