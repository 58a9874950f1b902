//! The debug-build check that a socket being registered is non-blocking.
//!
//! A blocking socket in a readiness loop hangs the loop on the first
//! spurious event (or, for a listener, on the first `accept` after another
//! thread took the connection), which is hard to trace back. Debug builds
//! therefore look before registering: one `fcntl(F_GETFL)`, and for an fd
//! without `O_NONBLOCK` one `getsockopt(SO_TYPE)`, which succeeds only for
//! sockets. Pipes, eventfds, ttys and files may be blocking: reads of them
//! after an event do not block in the same ways, and evq's own tests use
//! blocking pipes.
//!
//! # References
//! - [`fcntl(2)`](https://man7.org/linux/man-pages/man2/fcntl.2.html)
//! - [`getsockopt(2)`](https://man7.org/linux/man-pages/man2/getsockopt.2.html),
//!   [`socket(7)`](https://man7.org/linux/man-pages/man7/socket.7.html) (`SO_TYPE`)

use crate::sys;
use std::ffi::c_int;
use std::os::fd::{AsRawFd, BorrowedFd};

/// Whether `fd` is a socket without `O_NONBLOCK`. An fd the calls fail on
/// (closed: `EBADF`) is not reported here: the registration that follows
/// reports it.
pub(crate) fn is_blocking_socket(fd: BorrowedFd<'_>) -> bool {
    let fd = fd.as_raw_fd();
    // SAFETY: F_GETFL takes no argument beyond the command.
    let flags = unsafe { sys::fcntl(fd, sys::F_GETFL as c_int) };
    if flags == -1 || flags & sys::O_NONBLOCK as c_int != 0 {
        return false;
    }
    let mut socket_type: c_int = 0;
    let mut len = std::mem::size_of::<c_int>() as sys::socklen_t;
    // SAFETY: `socket_type` is a writable int and `len` says its size, as
    // SO_TYPE requires; the kernel writes at most `len` bytes.
    let ret = unsafe {
        sys::getsockopt(
            fd,
            sys::SOL_SOCKET as c_int,
            sys::SO_TYPE as c_int,
            std::ptr::addr_of_mut!(socket_type).cast(),
            &mut len,
        )
    };
    ret == 0
}
