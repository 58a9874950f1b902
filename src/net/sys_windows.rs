//! The Winsock calls behind `evq::net` on Windows, all in one place:
//! creating sockets that are overlapped (which AFD polling needs, as std's
//! are), not inheritable and non-blocking, and the calls std cannot make
//! for a socket it did not create (`bind`, `listen`, `connect`).
//!
//! Windows has no flag that makes a socket non-blocking at birth:
//! `WSASocketW` makes it (`WSA_FLAG_NO_HANDLE_INHERIT` is the
//! close-on-exec of Windows, in the same call), then `ioctlsocket(FIONBIO)`
//! switches it to non-blocking before anyone else can use it. Everything
//! else (reading, writing, addresses, options, `accept`) is std's.

use super::sockaddr::SockAddr;
use crate::sys;
use std::ffi::c_int;
use std::io;
use std::net::SocketAddr;
use std::os::windows::io::{AsRawSocket, AsSocket, FromRawSocket, OwnedSocket, RawSocket};
use std::sync::OnceLock;

/// The socket types evq::net makes.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// `SOCK_STREAM`: TCP.
    Stream,
    /// `SOCK_DGRAM`: UDP.
    Datagram,
}

impl Kind {
    fn raw(self) -> c_int {
        match self {
            Kind::Stream => sys::SOCK_STREAM as c_int,
            Kind::Datagram => sys::SOCK_DGRAM as c_int,
        }
    }
}

/// The error of the Winsock call just made (`WSAGetLastError`), which std
/// maps to an `io::ErrorKind` as it does its own sockets' errors.
fn last_error() -> io::Error {
    // SAFETY: WSAGetLastError takes no arguments and reads this thread's
    // last Winsock error.
    io::Error::from_raw_os_error(unsafe { sys::WSAGetLastError() })
}

/// Passes `ret` through, or turns Winsock's `SOCKET_ERROR` into the error
/// of the call just made.
fn check(ret: c_int) -> io::Result<c_int> {
    if ret == sys::SOCKET_ERROR {
        Err(last_error())
    } else {
        Ok(ret)
    }
}

/// `socket` as Winsock's calls take it.
fn raw(socket: &impl AsSocket) -> sys::SOCKET {
    socket.as_socket().as_raw_socket() as sys::SOCKET
}

/// Starts Winsock for this process once (`WSAStartup`, version 2.2), as
/// std does before its own first socket call: `WSASocketW` fails with
/// `WSANOTINITIALISED` before it. Winsock counts the starts; like std,
/// evq never calls `WSACleanup` (the process's exit does).
fn start_winsock() -> io::Result<()> {
    // WSAStartup returns its error rather than setting the last error.
    static ERROR: OnceLock<c_int> = OnceLock::new();
    let error = *ERROR.get_or_init(|| {
        // SAFETY: WSADATA is plain integers and byte arrays (and a pointer
        // Winsock sets), for which all zeros is a valid value.
        let mut data: sys::WSADATA = unsafe { std::mem::zeroed() };
        // SAFETY: `data` is valid for WSAStartup to fill in.
        unsafe { sys::WSAStartup(0x202, &mut data) }
    });
    match error {
        0 => Ok(()),
        error => Err(io::Error::from_raw_os_error(error)),
    }
}

/// A new IPv4 or IPv6 socket (as `addr` is) of `kind`, overlapped, not
/// inheritable and non-blocking.
pub(crate) fn inet_socket(addr: &SocketAddr, kind: Kind) -> io::Result<OwnedSocket> {
    start_winsock()?;
    let family = match addr {
        SocketAddr::V4(_) => sys::AF_INET,
        SocketAddr::V6(_) => sys::AF_INET6,
    };
    let flags = sys::WSA_FLAG_OVERLAPPED | sys::WSA_FLAG_NO_HANDLE_INHERIT;
    // SAFETY: no protocol info (null) and no group; WSASocketW takes no
    // other pointers.
    let socket = unsafe {
        sys::WSASocketW(
            family as c_int,
            kind.raw(),
            0,
            std::ptr::null_mut(),
            0,
            flags as _,
        )
    };
    if socket == sys::INVALID_SOCKET {
        return Err(last_error());
    }
    // SAFETY: a fresh socket from a successful WSASocketW, owned by nobody
    // else yet.
    let socket = unsafe { OwnedSocket::from_raw_socket(socket as RawSocket) };
    set_nonblocking(&socket)?;
    Ok(socket)
}

/// `ioctlsocket(FIONBIO, 1)`: switches `socket` to non-blocking mode.
fn set_nonblocking(socket: &impl AsSocket) -> io::Result<()> {
    let mut on: sys::u_long = 1;
    // SAFETY: `on` is valid for the call; FIONBIO reads one u_long.
    check(unsafe { sys::ioctlsocket(raw(socket), sys::FIONBIO as _, &mut on) })?;
    Ok(())
}

/// Binds `socket` to `addr`.
pub(crate) fn bind(socket: impl AsSocket, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: the pointer and length describe `addr`, alive for the call.
    check(unsafe { sys::bind(raw(&socket), addr.as_ptr(), addr.len()) })?;
    Ok(())
}

/// Starts listening on `socket` with a queue of `backlog` connections (the
/// provider clamps it to its own limit).
pub(crate) fn listen(socket: impl AsSocket, backlog: c_int) -> io::Result<()> {
    // SAFETY: listen takes no pointers.
    check(unsafe { sys::listen(raw(&socket), backlog) })?;
    Ok(())
}

/// Starts connecting `socket` to `addr`. `WSAEWOULDBLOCK`, Winsock's
/// answer for a connect still in progress on a non-blocking socket, is
/// success: the socket reports writable when it is done either way.
pub(crate) fn connect(socket: impl AsSocket, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: the pointer and length describe `addr`, alive for the call.
    match check(unsafe { sys::connect(raw(&socket), addr.as_ptr(), addr.len()) }) {
        Err(e) if e.raw_os_error() == Some(sys::WSAEWOULDBLOCK as i32) => Ok(()),
        other => other.map(drop),
    }
}
