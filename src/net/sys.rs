//! The system calls behind `evq::net` on Unix, all in one place: creating
//! sockets and pipes that are non-blocking and close-on-exec from birth,
//! and the calls on them that std cannot make for a socket it did not
//! create (`bind`, `listen`, `connect`, `accept4`).
//!
//! Linux, Android and the BSDs take the flags in the creating call itself
//! (`SOCK_NONBLOCK | SOCK_CLOEXEC`, `accept4`, `pipe2`): one system call.
//! Apple's systems have none of these, so there the fd is made first and
//! the flags are set with `fcntl` after (a `fork` + `exec` on another
//! thread in between would leak the fd into the child: the race every
//! program there lives with, std's sockets included); sockets also get
//! `SO_NOSIGPIPE` there, as std's do, since Apple has no `MSG_NOSIGNAL`
//! for std's `send` to use.
//!
//! Everything else (reading, writing, addresses, options) is std's: the
//! `evq::net` types wrap the std types.

use super::sockaddr::SockAddr;
use crate::sys;
use std::ffi::c_int;
use std::io;
use std::mem::size_of;
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};

/// `SOCK_NONBLOCK | SOCK_CLOEXEC`, for `socket`, `socketpair` and
/// `accept4`.
#[cfg(not(target_vendor = "apple"))]
const SOCK_FLAGS: c_int = (sys::SOCK_NONBLOCK | sys::SOCK_CLOEXEC) as c_int;

/// Apple has neither flag: `finish_socket` sets both after creation.
#[cfg(target_vendor = "apple")]
const SOCK_FLAGS: c_int = 0;

/// Passes `ret` through, or turns the C convention's `-1` into the
/// `errno` of the call just made.
fn check(ret: c_int) -> io::Result<c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Takes ownership of a descriptor the kernel just returned.
fn owned(fd: RawFd) -> OwnedFd {
    // SAFETY: `fd` is a fresh descriptor from a successful socket, accept
    // or pipe call, owned by nobody else yet.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// The socket types evq::net makes.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    /// `SOCK_STREAM`: TCP, or a Unix stream.
    Stream,
    /// `SOCK_DGRAM`: UDP, or Unix datagrams.
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

/// A new IPv4 or IPv6 socket (as `addr` is) of `kind`, non-blocking and
/// close-on-exec.
pub(crate) fn inet_socket(addr: &SocketAddr, kind: Kind) -> io::Result<OwnedFd> {
    let domain = match addr {
        SocketAddr::V4(_) => sys::AF_INET,
        SocketAddr::V6(_) => sys::AF_INET6,
    };
    socket(domain as c_int, kind)
}

/// A new Unix socket of `kind`, non-blocking and close-on-exec.
pub(crate) fn unix_socket(kind: Kind) -> io::Result<OwnedFd> {
    socket(sys::AF_UNIX as c_int, kind)
}

fn socket(domain: c_int, kind: Kind) -> io::Result<OwnedFd> {
    // SAFETY: socket takes no pointers.
    let fd = owned(check(unsafe {
        sys::socket(domain, kind.raw() | SOCK_FLAGS, 0)
    })?);
    finish_socket(&fd)?;
    Ok(fd)
}

/// A connected pair of Unix sockets of `kind`, both non-blocking and
/// close-on-exec.
pub(crate) fn socketpair(kind: Kind) -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [c_int; 2] = [-1, -1];
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    check(unsafe {
        sys::socketpair(
            sys::AF_UNIX as c_int,
            kind.raw() | SOCK_FLAGS,
            0,
            fds.as_mut_ptr(),
        )
    })?;
    let pair = (owned(fds[0]), owned(fds[1]));
    finish_socket(&pair.0)?;
    finish_socket(&pair.1)?;
    Ok(pair)
}

/// A pipe, (read end, write end), both non-blocking and close-on-exec.
pub(crate) fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds: [c_int; 2] = [-1, -1];
    #[cfg(not(target_vendor = "apple"))]
    {
        let flags = (sys::O_NONBLOCK | sys::O_CLOEXEC) as c_int;
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        check(unsafe { sys::pipe2(fds.as_mut_ptr(), flags) })?;
        Ok((owned(fds[0]), owned(fds[1])))
    }
    #[cfg(target_vendor = "apple")]
    {
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        check(unsafe { sys::pipe(fds.as_mut_ptr()) })?;
        let pair = (owned(fds[0]), owned(fds[1]));
        set_flags_after_creation(pair.0.as_raw_fd())?;
        set_flags_after_creation(pair.1.as_raw_fd())?;
        Ok(pair)
    }
}

/// Binds `fd` to `addr`.
pub(crate) fn bind(fd: impl AsFd, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: the pointer and length describe `addr`, alive for the call.
    check(unsafe { sys::bind(fd.as_fd().as_raw_fd(), const_arg(addr.as_ptr()), addr.len()) })?;
    Ok(())
}

/// Starts listening on `fd` with a queue of `backlog` connections (the
/// kernel clamps it to its own limit).
pub(crate) fn listen(fd: impl AsFd, backlog: c_int) -> io::Result<()> {
    // SAFETY: listen takes no pointers.
    check(unsafe { sys::listen(fd.as_fd().as_raw_fd(), backlog) })?;
    Ok(())
}

/// Starts connecting `fd` to `addr`. A connect still in progress
/// (`EINPROGRESS`, the usual answer for TCP on a non-blocking socket) is
/// success: the socket reports writable when it is done either way.
pub(crate) fn connect(fd: impl AsFd, addr: &SockAddr) -> io::Result<()> {
    // SAFETY: the pointer and length describe `addr`, alive for the call.
    match check(unsafe {
        sys::connect(fd.as_fd().as_raw_fd(), const_arg(addr.as_ptr()), addr.len())
    }) {
        Err(e) if e.raw_os_error() == Some(sys::EINPROGRESS as i32) => Ok(()),
        other => other.map(drop),
    }
}

/// Sets `SO_REUSEADDR`, which lets a server bind its port again while old
/// connections on it are in `TIME_WAIT` (std and mio set it on Unix too).
pub(crate) fn set_reuse_address(fd: impl AsFd) -> io::Result<()> {
    set_int_option(fd.as_fd().as_raw_fd(), sys::SO_REUSEADDR as c_int, 1)
}

/// Accepts a connection on the listening `fd`: the new socket, which is
/// non-blocking and close-on-exec, and the peer's address.
pub(crate) fn accept(fd: impl AsFd) -> io::Result<(OwnedFd, SockAddr)> {
    let mut peer = SockAddr::empty();
    let (addr, len) = peer.as_mut_parts();
    #[cfg(not(any(
        target_vendor = "apple",
        all(target_os = "android", target_arch = "x86")
    )))]
    // SAFETY: `addr` points to storage of `*len` bytes, which accept4
    // fills in (updating `*len`).
    let stream = owned(check(unsafe {
        sys::accept4(fd.as_fd().as_raw_fd(), mut_arg(addr), len, SOCK_FLAGS)
    })?);
    // No accept4 on Apple's systems; on 32-bit x86 Android, whose seccomp
    // policy forbids it (mio issue 1445).
    #[cfg(any(
        target_vendor = "apple",
        all(target_os = "android", target_arch = "x86")
    ))]
    let stream = {
        // SAFETY: as above, for accept.
        let stream = owned(check(unsafe {
            sys::accept(fd.as_fd().as_raw_fd(), mut_arg(addr), len)
        })?);
        set_flags_after_creation(stream.as_raw_fd())?;
        stream
    };
    Ok((stream, peer))
}

/// What a new socket needs where `SOCK_FLAGS` is empty: the flags, and
/// `SO_NOSIGPIPE`.
#[cfg(target_vendor = "apple")]
fn finish_socket(fd: &OwnedFd) -> io::Result<()> {
    set_flags_after_creation(fd.as_raw_fd())?;
    set_int_option(fd.as_raw_fd(), sys::SO_NOSIGPIPE as c_int, 1)
}

/// Nothing: the creating call set the flags.
#[cfg(not(target_vendor = "apple"))]
fn finish_socket(_: &OwnedFd) -> io::Result<()> {
    Ok(())
}

/// The fallback where the creating call takes no flags: `O_NONBLOCK` and
/// `FD_CLOEXEC` with two `fcntl` calls.
#[cfg(any(
    target_vendor = "apple",
    all(target_os = "android", target_arch = "x86")
))]
fn set_flags_after_creation(fd: RawFd) -> io::Result<()> {
    // SAFETY: F_SETFL and F_SETFD take an int and no pointers. A new
    // descriptor has no other status flags for F_SETFL to clear.
    check(unsafe { sys::fcntl(fd, sys::F_SETFL as c_int, sys::O_NONBLOCK as c_int) })?;
    // SAFETY: as above.
    check(unsafe { sys::fcntl(fd, sys::F_SETFD as c_int, sys::FD_CLOEXEC as c_int) })?;
    Ok(())
}

/// `setsockopt(fd, SOL_SOCKET, option, &value)`.
fn set_int_option(fd: RawFd, option: c_int, value: c_int) -> io::Result<()> {
    // SAFETY: the pointer and length describe `value`, alive for the call.
    check(unsafe {
        sys::setsockopt(
            fd,
            sys::SOL_SOCKET as c_int,
            option,
            (&value as *const c_int).cast(),
            size_of::<c_int>() as sys::socklen_t,
        )
    })?;
    Ok(())
}

// glibc declares the address parameters of bind, connect and accept as
// transparent unions when _GNU_SOURCE is defined (which wrapper.h does, for
// accept4 and pipe2), and bindgen renders those as plain unions. A
// transparent union is passed exactly as its first member, a pointer; a
// union holding only pointers is passed as a pointer too on every ABI glibc
// runs on (one integer register or stack slot of pointer size), so the
// `#[repr(C)]` union carries the pointer to the same place.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn const_arg(addr: *const sys::sockaddr) -> sys::__CONST_SOCKADDR_ARG {
    sys::__CONST_SOCKADDR_ARG { __sockaddr__: addr }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn mut_arg(addr: *mut sys::sockaddr) -> sys::__SOCKADDR_ARG {
    sys::__SOCKADDR_ARG { __sockaddr__: addr }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn const_arg(addr: *const sys::sockaddr) -> *const sys::sockaddr {
    addr
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn mut_arg(addr: *mut sys::sockaddr) -> *mut sys::sockaddr {
    addr
}
