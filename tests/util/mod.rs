//! Helpers shared by the integration tests: real fds (`fd.rs`, shared
//! with the model and the benchmark), the stream pair most tests register
//! (`stream.rs`, the one piece that differs between Unix and Windows) and
//! event checks.
#![allow(dead_code)]
// each test binary uses a different subset
// Tests may use std newer than the library's MSRV (1.71), e.g. io::pipe.
#![allow(clippy::incompatible_msrv)]

mod fd;
mod stream;

#[allow(unused_imports)] // fd_leaks.rs makes no fds of its own
pub use fd::*;
#[allow(unused_imports)]
pub use stream::*;

use evq::{Event, Events, Poll, Token};
use std::io::{self, Read};
use std::time::Duration;

/// Long enough that a poll expected to see an event never times out on a
/// loaded machine; a test only waits this long when it is failing.
pub const PATIENCE: Duration = Duration::from_secs(10);

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

/// A new `Poll` and an `Events` for 64 events.
pub fn setup() -> (Poll, Events) {
    (Poll::new().expect("Poll::new"), Events::with_capacity(64))
}

/// The events a non-blocking poll reports for `token`.
pub fn reported(poll: &mut Poll, events: &mut Events, token: Token) -> Vec<Event> {
    poll.poll(events, Some(Duration::ZERO)).expect("poll");
    of_token(events, token)
}

/// The events in `events` (the last poll's) for `token`.
pub fn of_token(events: &Events, token: Token) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.token() == token)
        .copied()
        .collect()
}

/// The events for `token` of the first poll that reports any, where the
/// test has just made the source ready: on Unix one non-blocking poll
/// (the readiness exists when the call that caused it returns: data
/// written to a socket pair is already in its peer's buffer); on Windows,
/// where an AFD poll completes into the port asynchronously (the network
/// stack completes it once the bytes arrive), polls until `token` shows up,
/// for up to [`PATIENCE`]. Either way, the events of one poll call: how
/// many it holds for `token` is for the caller to check.
pub fn reported_when_ready(poll: &mut Poll, events: &mut Events, token: Token) -> Vec<Event> {
    #[cfg(unix)]
    return reported(poll, events, token);
    #[cfg(windows)]
    {
        let deadline = std::time::Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            poll.poll(events, Some(left)).expect("poll");
            let got = of_token(events, token);
            if !got.is_empty() || left.is_zero() {
                return got;
            }
        }
    }
}

/// What the polls that find `count` events report, where the test has
/// just made that many ready: on Unix one non-blocking poll (see
/// [`reported_when_ready`]), whatever it holds; on Windows polls until
/// `count` events came, for up to [`PATIENCE`].
pub fn poll_when_ready(poll: &mut Poll, events: &mut Events, count: usize) -> Vec<Event> {
    #[cfg(unix)]
    {
        let _ = count;
        poll_now(poll, events)
    }
    #[cfg(windows)]
    {
        let deadline = std::time::Instant::now() + PATIENCE;
        let mut all = Vec::new();
        while all.len() < count {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            poll.poll(events, Some(left)).expect("poll");
            all.extend(events.iter().copied());
        }
        all
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
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub fn open_fds() -> usize {
    open_fd_numbers().len()
}

/// The descriptors this process has open: the numbers below the descriptor
/// table size that `fcntl(F_GETFD)` accepts.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub fn open_fd_numbers() -> Vec<std::os::fd::RawFd> {
    (0..descriptor_table_size())
        .filter(|&fd| fd_flags(fd).is_some())
        .collect()
}

/// The size of the descriptor table, which is the soft `RLIMIT_NOFILE`:
/// `getdtablesize()`.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub fn descriptor_table_size() -> std::os::fd::RawFd {
    // SAFETY: getdtablesize takes no arguments.
    unsafe { evq::sys::getdtablesize() }
}

/// `fcntl(fd, F_GETFD)`: the descriptor flags of `fd` (`FD_CLOEXEC`), or
/// `None` if `fd` is not open.
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
pub fn fd_flags(fd: std::os::fd::RawFd) -> Option<std::ffi::c_int> {
    // SAFETY: F_GETFD takes no argument and only looks the number up; an
    // fd that is not open is reported as EBADF.
    let flags = unsafe { evq::sys::fcntl(fd, evq::sys::F_GETFD as std::ffi::c_int) };
    (flags != -1).then_some(flags)
}

/// Whether `fd` is in non-blocking mode: `O_NONBLOCK` in
/// `fcntl(F_GETFL)`, through evq's own bindings.
#[cfg(unix)]
pub fn is_nonblocking(fd: &impl std::os::fd::AsRawFd) -> bool {
    use std::ffi::c_int;
    // SAFETY: F_GETFL takes no argument; a bad fd is reported as EBADF.
    let flags = unsafe { evq::sys::fcntl(fd.as_raw_fd(), evq::sys::F_GETFL as c_int) };
    assert_ne!(flags, -1, "fcntl(F_GETFL): {}", io::Error::last_os_error());
    flags & evq::sys::O_NONBLOCK as c_int != 0
}

/// Whether `fd` is close-on-exec: `FD_CLOEXEC` in `fcntl(F_GETFD)`,
/// through evq's own bindings.
#[cfg(unix)]
pub fn is_cloexec(fd: &impl std::os::fd::AsRawFd) -> bool {
    use std::ffi::c_int;
    // SAFETY: F_GETFD takes no argument; a bad fd is reported as EBADF.
    let flags = unsafe { evq::sys::fcntl(fd.as_raw_fd(), evq::sys::F_GETFD as c_int) };
    assert_ne!(flags, -1, "fcntl(F_GETFD): {}", io::Error::last_os_error());
    flags & evq::sys::FD_CLOEXEC as c_int != 0
}

/// Asserts that `fd` is non-blocking and close-on-exec.
#[cfg(unix)]
pub fn assert_born_right(fd: &impl std::os::fd::AsRawFd, what: &str) {
    assert!(is_nonblocking(fd), "{what} is not O_NONBLOCK");
    assert!(is_cloexec(fd), "{what} is not FD_CLOEXEC");
}

/// Whether this Windows process runs under wine, which differs from
/// Windows in two known ways (../shared/windows/README.md): with unread
/// data, a peer's FIN is reported as readable only (Windows adds the
/// hang-up, `AFD_POLL_DISCONNECT`, which wine sends once the data is
/// read), and closing the AFD handle completes its pending polls at once
/// with `STATUS_BUFFER_OVERFLOW`; and in one seen here: after a reset,
/// the next read returns end of file instead of `ConnectionReset`. A test
/// that meets one skips that check when this is true, saying which.
///
/// Wine's loader puts `WINECONFIGDIR` (the prefix, as an NT path) in the
/// environment of every process it starts; Windows has no such variable.
#[cfg(windows)]
pub fn under_wine() -> bool {
    std::env::var_os("WINECONFIGDIR").is_some()
}
