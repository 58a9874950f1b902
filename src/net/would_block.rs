//! What an `evq::net` I/O call tells the backend when it returns
//! `WouldBlock`.
//!
//! On Windows an AFD poll reports once, and an edge-triggered registration
//! does not poll a direction it has reported again until the program has
//! used the readiness up, which it shows by reading or writing until
//! `WouldBlock` (`Trigger::Edge` documents it; mio does the same with its
//! I/O wrappers). So every read, write, accept, send and receive of these
//! types passes its result through [`note_would_block`], which on Windows
//! re-arms that direction of the socket's registrations. epoll and kqueue
//! see new readiness themselves: there it does nothing.

use crate::Interest;
use std::io;

/// Passes `result` through; on Windows, when it is `WouldBlock`, first
/// tells the backend that `socket` is not ready for `direction`.
#[cfg(windows)]
pub(crate) fn note_would_block<T>(
    socket: &impl std::os::windows::io::AsRawSocket,
    direction: Interest,
    result: io::Result<T>,
) -> io::Result<T> {
    if let Err(error) = &result {
        if error.kind() == io::ErrorKind::WouldBlock {
            crate::backend::io_would_block(socket.as_raw_socket(), direction);
        }
    }
    result
}

/// Passes `result` through: epoll and kqueue need no telling.
#[cfg(unix)]
#[inline(always)]
pub(crate) fn note_would_block<S: ?Sized, T>(
    _source: &S,
    _direction: Interest,
    result: io::Result<T>,
) -> io::Result<T> {
    result
}
