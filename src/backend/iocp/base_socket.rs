//! A socket's base handle: the one AFD knows.
//!
//! A Winsock socket handle may belong to a layered service provider (an
//! LSP, installed by some firewalls and VPNs) that wraps the base
//! provider's socket; AFD polls only base sockets. `SIO_BASE_HANDLE` asks
//! for it, and should never be intercepted, but some LSPs do, so, as mio
//! and wepoll do, the `SIO_BSP_HANDLE_*` requests are tried after it. The
//! base handle is also what identifies a socket in a poll's record:
//! registering one socket through two handles is `AlreadyRegistered`.

use super::os_error::last_wsa_error;
use crate::{sys, Result};
use std::mem;
use std::os::windows::io::RawSocket;
use std::ptr;

/// `WSAIoctl(SIO_BASE_HANDLE)`, then the `SIO_BSP_HANDLE_*` requests if an
/// LSP refused it.
pub(super) fn base_socket(socket: RawSocket) -> Result<RawSocket> {
    let first = ask(socket, sys::SIO_BASE_HANDLE, "WSAIoctl(SIO_BASE_HANDLE)");
    if first.is_ok() {
        return first;
    }
    for request in [
        sys::SIO_BSP_HANDLE_SELECT,
        sys::SIO_BSP_HANDLE_POLL,
        sys::SIO_BSP_HANDLE,
    ] {
        // An LSP answered: only a different handle is its base.
        match ask(socket, request, "WSAIoctl(SIO_BSP_HANDLE)") {
            Ok(base) if base != socket => return Ok(base),
            _ => {}
        }
    }
    first
}

fn ask(socket: RawSocket, request: sys::DWORD, operation: &'static str) -> Result<RawSocket> {
    let mut base: sys::SOCKET = sys::INVALID_SOCKET;
    let mut returned: sys::DWORD = 0;
    // SAFETY: no input buffer; the output buffer is `base`, a writable
    // SOCKET of the size passed; `returned` is a writable DWORD. No
    // overlapped structure or completion routine: the call is synchronous.
    // A handle that is not a socket fails with WSAENOTSOCK.
    let ret = unsafe {
        sys::WSAIoctl(
            socket as sys::SOCKET,
            request,
            ptr::null_mut(),
            0,
            ptr::addr_of_mut!(base).cast(),
            mem::size_of::<sys::SOCKET>() as sys::DWORD,
            &mut returned,
            ptr::null_mut(),
            None,
        )
    };
    if ret == sys::SOCKET_ERROR {
        return Err(last_wsa_error(operation, Some(socket)));
    }
    Ok(base as RawSocket)
}
