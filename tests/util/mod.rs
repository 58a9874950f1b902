//! Helpers shared by the integration tests: real fds and event checks.
#![allow(dead_code)] // each test binary uses a different subset

use evq::{Event, Events, Poll, Token};
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::time::Duration;

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
pub fn eventfd() -> OwnedFd {
    let flags = (evq::sys::EFD_CLOEXEC | evq::sys::EFD_NONBLOCK) as i32;
    // SAFETY: eventfd takes no pointers.
    let fd = unsafe { evq::sys::eventfd(0, flags) };
    assert!(fd >= 0, "eventfd: {}", io::Error::last_os_error());
    // SAFETY: a fresh descriptor owned by nobody else.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Adds `n` to an eventfd's counter, making it readable.
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
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}
