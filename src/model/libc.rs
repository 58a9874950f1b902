//! The few C calls the harness needs beyond evq's own bindings and std:
//! non-blocking pipes and socket pairs made in one call (Miri can do those,
//! but not `ioctl(FIONBIO)` on a socket pair), `poll(2)` to wait for TCP
//! segments to land, and `dup2` to reuse an fd number.

use std::ffi::{c_int, c_short, c_ulong};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

const O_NONBLOCK: c_int = 0o4000;
const O_CLOEXEC: c_int = 0o2_000_000;
const AF_UNIX: c_int = 1;
const SOCK_STREAM: c_int = 1;

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

#[repr(C)]
struct Linger {
    on: c_int,
    seconds: c_int,
}

const SOL_SOCKET: c_int = 1;
const SO_LINGER: c_int = 13;

extern "C" {
    fn setsockopt(
        fd: c_int,
        level: c_int,
        name: c_int,
        value: *const std::ffi::c_void,
        len: u32,
    ) -> c_int;
    fn pipe2(fds: *mut c_int, flags: c_int) -> c_int;
    fn socketpair(domain: c_int, kind: c_int, protocol: c_int, fds: *mut c_int) -> c_int;
    fn poll(fds: *mut PollFd, count: c_ulong, timeout: c_int) -> c_int;
    fn dup2(old: c_int, new: c_int) -> c_int;
}

/// Takes ownership of the two fds a successful call filled in.
fn owned_pair(ret: c_int, fds: [c_int; 2], call: &str) -> (OwnedFd, OwnedFd) {
    assert_eq!(ret, 0, "{call}: {}", io::Error::last_os_error());
    // SAFETY: the call succeeded, so both are new descriptors nobody else
    // owns; each OwnedFd closes its own exactly once.
    unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
}

/// A non-blocking, close-on-exec pipe: (read end, write end).
pub fn pipe() -> (File, File) {
    let mut fds = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    let ret = unsafe { pipe2(fds.as_mut_ptr(), O_NONBLOCK | O_CLOEXEC) };
    let (reader, writer) = owned_pair(ret, fds, "pipe2");
    (File::from(reader), File::from(writer))
}

/// A non-blocking, close-on-exec `AF_UNIX` stream socket pair.
pub fn unix_pair() -> (UnixStream, UnixStream) {
    let mut fds = [-1; 2];
    let kind = SOCK_STREAM | O_NONBLOCK | O_CLOEXEC;
    // SAFETY: `fds` has room for the two descriptors socketpair writes.
    let ret = unsafe { socketpair(AF_UNIX, kind, 0, fds.as_mut_ptr()) };
    let (a, b) = owned_pair(ret, fds, "socketpair");
    (UnixStream::from(a), UnixStream::from(b))
}

/// A non-blocking, close-on-exec eventfd with a counter of 0.
pub fn eventfd() -> File {
    let flags = (crate::sys::EFD_CLOEXEC | crate::sys::EFD_NONBLOCK) as c_int;
    // SAFETY: eventfd takes no pointers.
    let fd = unsafe { crate::sys::eventfd(0, flags) };
    assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
    // SAFETY: a new descriptor nobody else owns.
    File::from(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Makes `number` (an fd the caller owns) a second fd for `source`'s open
/// file, closing the file `number` referred to before: atomically, so no
/// other thread can take the number in between.
pub fn reuse_number(source: &impl AsRawFd, number: RawFd) {
    // SAFETY: dup2 takes no pointers; the caller owns `number`, so no one
    // else's descriptor is closed by it.
    let ret = unsafe { dup2(source.as_raw_fd(), number) };
    assert_eq!(ret, number, "dup2: {}", io::Error::last_os_error());
}

/// Makes closing `socket` abort the connection (`SO_LINGER` of 0: an RST,
/// no `TIME_WAIT`). The harness opens thousands of TCP connections a
/// minute; closed the usual way, each would hold a port for a minute and
/// soon no `bind` would find one.
pub fn reset_on_close(socket: &impl AsRawFd) {
    let linger = Linger { on: 1, seconds: 0 };
    let len = std::mem::size_of::<Linger>() as u32;
    // SAFETY: `linger` is a valid `struct linger` for the call's duration.
    let ret = unsafe {
        setsockopt(
            socket.as_raw_fd(),
            SOL_SOCKET,
            SO_LINGER,
            (&linger as *const Linger).cast(),
            len,
        )
    };
    assert_eq!(
        ret,
        0,
        "setsockopt(SO_LINGER): {}",
        io::Error::last_os_error()
    );
}

/// The `poll(2)` readiness of `fd` right now, as epoll bits (the values
/// are the same: `POLLIN` is `EPOLLIN`, ...).
fn revents(fd: RawFd, wanted: u32, timeout: Duration) -> u32 {
    let mut entry = PollFd {
        fd,
        events: wanted as c_short,
        revents: 0,
    };
    let ms = timeout.as_millis().min(100) as c_int;
    // SAFETY: one valid pollfd, borrowed for the call.
    let ret = unsafe { poll(&mut entry, 1, ms) };
    if ret < 0 {
        return 0;
    }
    u32::from(entry.revents as u16)
}

/// Waits until `poll(2)` shows every bit of `wanted` on `fd` and `done()`
/// holds, or `patience` passes; returns whether it did. Only TCP needs it:
/// a segment sent on loopback is usually, not always, processed before
/// `send` returns.
pub fn wait_until(fd: RawFd, wanted: u32, patience: Duration, done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + patience;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let got = revents(fd, wanted, Duration::ZERO);
        if got & wanted == wanted && done() {
            return true;
        }
        if left.is_zero() {
            return false;
        }
        // Block until one of the missing conditions appears (or a little
        // while, when only `done` is missing).
        let missing = wanted & !got;
        let wait = if missing == 0 {
            Duration::from_millis(1)
        } else {
            left
        };
        revents(fd, missing, wait);
    }
}
