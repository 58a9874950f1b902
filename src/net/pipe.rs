//! Unix pipes, non-blocking and close-on-exec from birth: a one-way byte
//! channel whose ends can be registered like sockets ([`Receiver`] for
//! readable, [`Sender`] for writable).
//!
//! ```
//! use evq::net::pipe;
//! use std::io::{Read, Write};
//! # fn main() -> std::io::Result<()> {
//! let (mut sender, mut receiver) = pipe::new()?;
//! let mut buf = [0; 8];
//! // Empty: WouldBlock instead of waiting.
//! assert_eq!(receiver.read(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
//! sender.write_all(b"hi")?;
//! assert_eq!(receiver.read(&mut buf)?, 2);
//! # Ok(())
//! # }
//! ```

use super::sys;
use std::fs::File;
use std::io;

/// Creates a pipe: (write end, read end), both non-blocking and
/// close-on-exec.
///
/// One system call, `pipe2(O_NONBLOCK | O_CLOEXEC)`; on macOS and iOS,
/// which lack it, `pipe` and four `fcntl`s.
///
/// # References
/// [`pipe2(2)`](https://man7.org/linux/man-pages/man2/pipe.2.html) (Linux),
/// [`pipe2(2)`](https://man.freebsd.org/cgi/man.cgi?query=pipe2&sektion=2)
/// (FreeBSD).
pub fn new() -> io::Result<(Sender, Receiver)> {
    let (read, write) = sys::pipe()?;
    Ok((Sender::from(write), Receiver::from(read)))
}

/// The write end of a [pipe](new). Writing when the pipe is full returns
/// [`WouldBlock`](io::ErrorKind::WouldBlock); writing after the
/// [`Receiver`] is closed fails with `BrokenPipe` (Rust programs ignore
/// `SIGPIPE` by default).
///
/// Its std counterpart is a [`File`]: std's own pipe types
/// (`io::PipeWriter`, Rust 1.87) are newer than evq's MSRV, 1.71; convert
/// through [`OwnedFd`](std::os::fd::OwnedFd) to reach them.
pub struct Sender {
    inner: File,
}

std_wrapper!(Sender, File);
write_through_inner!(Sender);

/// The read end of a [pipe](new). Reading when the pipe is empty returns
/// [`WouldBlock`](io::ErrorKind::WouldBlock); `Ok(0)` is end of file, once
/// every [`Sender`] is closed.
///
/// Its std counterpart is a [`File`] (see [`Sender`]).
pub struct Receiver {
    inner: File,
}

std_wrapper!(Receiver, File);
read_through_inner!(Receiver);
