//! Helpers shared by the integration tests: real fds and event checks.
#![allow(dead_code)]
// each test binary uses a different subset
// Tests may use std newer than the library's MSRV (1.71), e.g. io::pipe.
#![allow(clippy::incompatible_msrv)]

use evq::{Event, Events, Poll, Token};
use std::io::{self, Read};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::time::Duration;
// For the eventfd helpers, which only the epoll backend has.
#[cfg(evq_epoll)]
use std::{
    io::Write,
    os::fd::{FromRawFd, OwnedFd},
};

/// Long enough that a poll expected to see an event never times out on a
/// loaded machine; a test only waits this long when it is failing.
pub const PATIENCE: Duration = Duration::from_secs(10);

/// A non-blocking connected Unix socket pair.
pub fn socketpair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().expect("socketpair");
    a.set_nonblocking(true).expect("set_nonblocking");
    b.set_nonblocking(true).expect("set_nonblocking");
    (a, b)
}

/// A pipe: (reader, writer), both blocking (pipes need no mode for polling;
/// `drain` reads only what `available` says is there).
pub fn pipe() -> (io::PipeReader, io::PipeWriter) {
    io::pipe().expect("pipe")
}

/// A non-blocking TCP connection on 127.0.0.1: (client, server side).
pub fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    let (server, _) = listener.accept().expect("accept");
    client.set_nonblocking(true).unwrap();
    server.set_nonblocking(true).unwrap();
    (client, server)
}

/// A non-blocking, close-on-exec eventfd, made through evq's own bindings.
// Only the epoll backend's bindings have eventfd (kqueue platforms have none).
#[cfg(evq_epoll)]
pub fn eventfd() -> OwnedFd {
    let flags = (evq::sys::EFD_CLOEXEC | evq::sys::EFD_NONBLOCK) as i32;
    // SAFETY: eventfd takes no pointers.
    let fd = unsafe { evq::sys::eventfd(0, flags) };
    assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
    // SAFETY: a fresh descriptor owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Adds `n` to an eventfd's counter, making it readable.
#[cfg(evq_epoll)]
pub fn eventfd_add(fd: &OwnedFd, n: u64) {
    let mut file = std::fs::File::from(fd.try_clone().unwrap());
    file.write_all(&n.to_ne_bytes()).expect("eventfd write");
}

/// Reads everything a non-blocking reader has, until `WouldBlock` or EOF.
pub fn drain(mut reader: impl Read) -> Vec<u8> {
    let mut all = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return all,
            Ok(n) => all.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return all,
            Err(e) => panic!("read failed: {e}"),
        }
    }
}

/// Polls once without blocking and returns what was reported.
pub fn poll_now(poll: &mut Poll, events: &mut Events) -> Vec<Event> {
    poll.poll(events, Some(Duration::ZERO)).expect("poll");
    events.iter().copied().collect()
}

/// Polls (waiting up to [`PATIENCE`]) until an event for `token` arrives,
/// and returns it; panics if none comes.
pub fn expect_event(poll: &mut Poll, events: &mut Events, token: Token) -> Event {
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        assert!(
            !left.is_zero(),
            "no event for {token:?} within {PATIENCE:?}"
        );
        poll.poll(events, Some(left)).expect("poll");
        if let Some(event) = events.iter().find(|e| e.token() == token) {
            return *event;
        }
    }
}

/// Asserts that a non-blocking poll reports nothing for `token`.
pub fn expect_no_event(poll: &mut Poll, events: &mut Events, token: Token) {
    let reported = poll_now(poll, events);
    assert!(
        reported.iter().all(|e| e.token() != token),
        "unexpected event for {token:?}: {reported:?}"
    );
}

/// The number of open descriptors of this process.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// The number of open descriptors of this process.
// No /proc here, and /dev/fd is no substitute: without fdescfs mounted,
// FreeBSD's lists only 0 to 2.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn open_fds() -> usize {
    open_fd_numbers().len()
}

/// The descriptors this process has open: the numbers below the descriptor
/// table size (`getdtablesize`, the soft `RLIMIT_NOFILE`) that
/// `fcntl(F_GETFD)` accepts.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn open_fd_numbers() -> Vec<std::os::fd::RawFd> {
    extern "C" {
        fn getdtablesize() -> std::ffi::c_int;
    }
    // SAFETY: getdtablesize takes no arguments.
    let size = unsafe { getdtablesize() };
    (0..size).filter(|&fd| fd_flags(fd).is_some()).collect()
}

/// `fcntl(fd, F_GETFD)`: the descriptor flags of `fd` (`FD_CLOEXEC`), or
/// `None` if `fd` is not open.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub fn fd_flags(fd: std::os::fd::RawFd) -> Option<std::ffi::c_int> {
    use std::ffi::c_int;
    extern "C" {
        fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    }
    /// The same on every Unix.
    const F_GETFD: c_int = 1;
    // SAFETY: F_GETFD takes no argument and only looks the number up; an
    // fd that is not open is reported as EBADF.
    let flags = unsafe { fcntl(fd, F_GETFD) };
    (flags != -1).then_some(flags)
}

/// Whether `fd` is in non-blocking mode: `O_NONBLOCK` in
/// `fcntl(F_GETFL)`, through evq's own bindings.
pub fn is_nonblocking(fd: &impl std::os::fd::AsRawFd) -> bool {
    use std::ffi::c_int;
    // SAFETY: F_GETFL takes no argument; a bad fd is reported as EBADF.
    let flags = unsafe { evq::sys::fcntl(fd.as_raw_fd(), evq::sys::F_GETFL as c_int) };
    assert_ne!(flags, -1, "fcntl(F_GETFL): {}", io::Error::last_os_error());
    flags & evq::sys::O_NONBLOCK as c_int != 0
}

/// Whether `fd` is close-on-exec: `FD_CLOEXEC` in `fcntl(F_GETFD)`,
/// through evq's own bindings.
pub fn is_cloexec(fd: &impl std::os::fd::AsRawFd) -> bool {
    use std::ffi::c_int;
    // SAFETY: F_GETFD takes no argument; a bad fd is reported as EBADF.
    let flags = unsafe { evq::sys::fcntl(fd.as_raw_fd(), evq::sys::F_GETFD as c_int) };
    assert_ne!(flags, -1, "fcntl(F_GETFD): {}", io::Error::last_os_error());
    flags & evq::sys::FD_CLOEXEC as c_int != 0
}
