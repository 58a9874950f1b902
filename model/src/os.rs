//! The C calls the harness needs beyond the fd makers it shares with evq's
//! tests and the benchmark (`tests/util/fd.rs`, the [`fd`](crate::fd)
//! module here): `SO_LINGER` to close TCP with an RST, and `poll(2)` to
//! wait for TCP segments to land. Declarations from `evq::sys` (bindgen).

use evq::sys;
use std::ffi::{c_int, c_short};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::time::{Duration, Instant};

/// Makes closing `socket` abort the connection (`SO_LINGER` of 0: an RST,
/// no `TIME_WAIT`). The harness opens thousands of TCP connections a
/// minute; closed the usual way, each would hold a port for a minute and
/// soon no `bind` would find one.
pub fn reset_on_close(socket: &impl AsRawFd) {
    let linger = sys::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    let len = std::mem::size_of::<sys::linger>() as sys::socklen_t;
    // SAFETY: `linger` is a valid `struct linger` for the call's duration,
    // and `len` its size.
    let ret = unsafe {
        sys::setsockopt(
            socket.as_raw_fd(),
            sys::SOL_SOCKET as c_int,
            sys::SO_LINGER as c_int,
            std::ptr::from_ref(&linger).cast(),
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
    let mut entry = sys::pollfd {
        fd,
        events: wanted as c_short,
        revents: 0,
    };
    let ms = timeout.as_millis().min(100) as c_int;
    // SAFETY: one valid pollfd, borrowed for the call.
    let ret = unsafe { sys::poll(&mut entry, 1, ms) };
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
