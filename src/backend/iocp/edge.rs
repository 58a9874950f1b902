//! `Trigger::Edge` on Windows: re-arming a direction when the program has
//! used its readiness up.
//!
//! An AFD poll reports a level ("there is data"), once. To report edges,
//! a registration stops polling for the conditions an event reported, and
//! polls for them again once the program has drained the socket, which it
//! learns when one of `evq::net`'s I/O calls returns `WouldBlock`: the
//! socket type then calls [`io_would_block`], as mio's I/O wrappers do.
//! A socket may be registered with several polls, so the registrations are
//! found through this process-wide map from socket to registrations
//! (`Weak`: a registration belongs to its poll, and leaves the map when
//! deregistered, closed, or when its poll is dropped).

use super::sock_state::SockState;
use crate::Interest;
use std::collections::HashMap;
use std::os::windows::io::RawSocket;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};

type Registrations = HashMap<RawSocket, Vec<Weak<SockState>>>;

fn map() -> MutexGuard<'static, Registrations> {
    static MAP: OnceLock<Mutex<Registrations>> = OnceLock::new();
    MAP.get_or_init(Mutex::default)
        .lock()
        // Each change is one insertion or removal: still consistent.
        .unwrap_or_else(PoisonError::into_inner)
}

/// Tells the backend that an I/O call on `socket` for `interest`'s
/// directions (`READABLE`: a read, receive or accept; `WRITABLE`: a write,
/// send or connect) returned `WouldBlock`: every edge-triggered
/// registration of `socket`, in any poll, polls for those directions again,
/// so the next readiness is reported. Costs a lookup under a process-wide
/// lock, and a system call per registration whose directions were
/// disarmed (the poll request is replaced). Registrations with other
/// triggers, and sockets that are not registered, are left alone.
///
/// Called by `evq::net`'s socket types.
pub(crate) fn io_would_block(socket: RawSocket, interest: Interest) {
    let registrations: Vec<Arc<SockState>> = match map().get(&socket) {
        Some(registrations) => registrations.iter().filter_map(Weak::upgrade).collect(),
        None => return,
    };
    // Outside the map's lock: re-arming makes a system call.
    for registration in registrations {
        registration.rearm(interest);
    }
}

/// Adds a new registration to the map.
pub(super) fn insert(registration: &Arc<SockState>) {
    map()
        .entry(registration.socket())
        .or_default()
        .push(Arc::downgrade(registration));
}

/// Removes a registration from the map (and any of the socket's
/// registrations whose poll is gone).
pub(super) fn remove(registration: &Arc<SockState>) {
    let mut map = map();
    let socket = registration.socket();
    if let Some(registrations) = map.get_mut(&socket) {
        let target = Arc::downgrade(registration);
        registrations.retain(|weak| !weak.ptr_eq(&target) && weak.strong_count() > 0);
        if registrations.is_empty() {
            map.remove(&socket);
        }
    }
}
