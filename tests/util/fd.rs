//! The descriptors tests, the model (`model/`) and the benchmark (`bench/`)
//! drive: one maker per kind, every one non-blocking and close-on-exec, so
//! a reader can always drain to `WouldBlock`. The single copy lives here,
//! in evq's package, because the published crate's tests need it; the
//! model and the benchmark include this file by path. The C calls come
//! from `evq::sys` (bindgen) or std. Only [`tcp_pair`] exists on Windows
//! too (the tests' Windows stream pair is made from it).
#![allow(dead_code)] // each includer uses a different subset

use std::net::{TcpListener, TcpStream};
#[cfg(unix)]
use {
    std::fs::File,
    std::io,
    std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd},
    std::os::unix::net::UnixStream,
};

/// Takes ownership of the two descriptors a call that returned `ret`
/// filled in, or panics with the call's error.
#[cfg(unix)]
fn owned_pair(ret: std::ffi::c_int, fds: [std::ffi::c_int; 2], call: &str) -> (OwnedFd, OwnedFd) {
    assert_eq!(ret, 0, "{call}: {}", io::Error::last_os_error());
    // SAFETY: the call succeeded, so both are new descriptors nobody else
    // owns; each OwnedFd closes its own exactly once.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A pipe: (read end, write end). `pipe2(O_NONBLOCK | O_CLOEXEC)`, one call
/// (which Miri emulates).
#[cfg(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))]
pub fn pipe() -> (File, File) {
    let mut fds = [-1; 2];
    let flags = (evq::sys::O_NONBLOCK | evq::sys::O_CLOEXEC) as std::ffi::c_int;
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let ret = unsafe { evq::sys::pipe2(fds.as_mut_ptr(), flags) };
    let (reader, writer) = owned_pair(ret, fds, "pipe2");
    (File::from(reader), File::from(writer))
}

/// A pipe: (read end, write end). macOS has no `pipe2`: `pipe`, then
/// `fcntl` sets each end close-on-exec and non-blocking.
#[cfg(all(
    unix,
    not(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))
))]
pub fn pipe() -> (File, File) {
    use evq::sys::{fcntl, FD_CLOEXEC, F_SETFD, F_SETFL, O_NONBLOCK};
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe writes.
    let ret = unsafe { evq::sys::pipe(fds.as_mut_ptr()) };
    let (reader, writer) = owned_pair(ret, fds, "pipe");
    for end in [&reader, &writer] {
        for (command, flags) in [(F_SETFD, FD_CLOEXEC), (F_SETFL, O_NONBLOCK)] {
            // SAFETY: F_SETFD and F_SETFL take an int and touch no memory;
            // `end` is open. A fresh pipe end has no other status flags.
            let ret = unsafe { fcntl(end.as_raw_fd(), command as _, flags as std::ffi::c_int) };
            assert_ne!(ret, -1, "fcntl: {}", io::Error::last_os_error());
        }
    }
    (File::from(reader), File::from(writer))
}

/// A connected `AF_UNIX` stream socket pair. On Linux one
/// `socketpair(SOCK_NONBLOCK | SOCK_CLOEXEC)`, which Miri emulates (it
/// cannot do std's `ioctl(FIONBIO)`).
#[cfg(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))]
pub fn socketpair() -> (UnixStream, UnixStream) {
    use evq::sys::{AF_UNIX, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM};
    let mut fds = [-1; 2];
    let kind = (SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC) as std::ffi::c_int;
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let ret = unsafe { evq::sys::socketpair(AF_UNIX as _, kind, 0, fds.as_mut_ptr()) };
    let (a, b) = owned_pair(ret, fds, "socketpair");
    (UnixStream::from(a), UnixStream::from(b))
}

/// A connected `AF_UNIX` stream socket pair (std makes it close-on-exec).
#[cfg(all(
    unix,
    not(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))
))]
pub fn socketpair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).expect("set_nonblocking");
    b.set_nonblocking(true).expect("set_nonblocking");
    (a, b)
}

/// A TCP connection on 127.0.0.1: (client, server), the server side being
/// the accepted one. `TCP_NODELAY` on both, so small writes leave at once.
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let client = TcpStream::connect(listener.local_addr().expect("local_addr")).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    for socket in [&client, &server] {
        socket.set_nonblocking(true).expect("set_nonblocking");
        socket.set_nodelay(true).expect("set_nodelay");
    }
    (client, server)
}

/// An eventfd with a counter of 0: `eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)`.
/// Only epoll platforms have it.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))]
pub fn eventfd() -> OwnedFd {
    let flags = (evq::sys::EFD_CLOEXEC | evq::sys::EFD_NONBLOCK) as std::ffi::c_int;
    // SAFETY: eventfd takes no pointers.
    let fd = unsafe { evq::sys::eventfd(0, flags) };
    assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
    // SAFETY: a new descriptor nobody else owns.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Adds `n` to an eventfd's counter (one 8-byte `write`), making it
/// readable.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))]
pub fn eventfd_add(eventfd: &impl std::os::fd::AsFd, n: u64) {
    let bytes = n.to_ne_bytes();
    // SAFETY: `bytes` is valid for reads of its 8 bytes for the call.
    let ret = unsafe {
        evq::sys::write(
            eventfd.as_fd().as_raw_fd(),
            bytes.as_ptr().cast(),
            bytes.len(),
        )
    };
    assert_eq!(ret, 8, "eventfd write: {}", io::Error::last_os_error());
}

/// Reads, and so resets, an eventfd's counter (one 8-byte `read`): what
/// was added since the last read, 0 if nothing was.
#[cfg(all(any(target_os = "linux", target_os = "android"), not(evq_force_kqueue)))]
pub fn eventfd_take(eventfd: &impl std::os::fd::AsFd) -> u64 {
    let mut bytes = [0u8; 8];
    // SAFETY: `bytes` is valid for writes of its 8 bytes for the call.
    let ret = unsafe {
        evq::sys::read(
            eventfd.as_fd().as_raw_fd(),
            bytes.as_mut_ptr().cast(),
            bytes.len(),
        )
    };
    let error = io::Error::last_os_error();
    match ret {
        8 => u64::from_ne_bytes(bytes),
        -1 if error.kind() == io::ErrorKind::WouldBlock => 0,
        _ => panic!("eventfd read returned {ret}: {error}"),
    }
}

/// Makes `number` (an fd the caller owns) a second descriptor for
/// `source`'s open file, closing the file `number` referred to: `dup2`,
/// atomic, so no other thread can take the number in between.
#[cfg(unix)]
pub fn reuse_number(source: &impl AsRawFd, number: RawFd) {
    // SAFETY: dup2 takes no pointers; the caller owns `number`, so no one
    // else's descriptor is closed by it.
    let ret = unsafe { evq::sys::dup2(source.as_raw_fd(), number) };
    assert_eq!(ret, number, "dup2: {}", io::Error::last_os_error());
}
