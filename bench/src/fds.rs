//! The file descriptors the scenarios drive: pipes, socket pairs, eventfds,
//! one-byte reads and writes, and the open-files limit.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// A connected pair of non-blocking, close-on-exec descriptors: bytes
/// written to `tx` are read from `rx`.
#[derive(Debug)]
pub struct Channel {
    /// The end the scenario reads from and registers with the loop.
    pub rx: OwnedFd,
    /// The end the scenario writes to.
    pub tx: OwnedFd,
}

/// Which kind of [`Channel`] a scenario uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelKind {
    /// `pipe2(O_NONBLOCK | O_CLOEXEC)`.
    Pipe,
    /// `socketpair(AF_UNIX, SOCK_STREAM)`, non-blocking, close-on-exec.
    SocketPair,
}

impl ChannelKind {
    /// The name used in tables and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            ChannelKind::Pipe => "pipe",
            ChannelKind::SocketPair => "socketpair",
        }
    }
}

/// The fd makers the benchmark shares with evq's tests and model.
#[path = "../../tests/util/fd.rs"]
mod shared;

pub use shared::{eventfd, eventfd_add, eventfd_take};

impl Channel {
    /// A new channel of the given kind.
    pub fn new(kind: ChannelKind) -> Channel {
        let (rx, tx) = match kind {
            ChannelKind::Pipe => {
                let (reader, writer) = shared::pipe();
                (OwnedFd::from(reader), OwnedFd::from(writer))
            }
            ChannelKind::SocketPair => {
                let (a, b) = shared::socketpair();
                (OwnedFd::from(a), OwnedFd::from(b))
            }
        };
        Channel { rx, tx }
    }
}

/// Checks a C-style return value: `-1` becomes the thread's `errno`.
fn check(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// `write(fd, buf)`: the bytes written, or the error (`WouldBlock` included).
pub fn write(fd: &impl AsRawFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for reads of `buf.len()` bytes for the call.
    let ret = unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// `read(fd, buf)`: the bytes read (0 at end of file), or the error.
pub fn read(fd: &impl AsRawFd, buf: &mut [u8]) -> io::Result<usize> {
    read_raw(fd.as_raw_fd(), buf)
}

/// [`read`] on a raw descriptor number.
pub fn read_raw(fd: RawFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes for the call; a
    // stale `fd` fails with EBADF.
    let ret = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), buf.len()) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// Reads until `WouldBlock` and returns how many bytes there were.
pub fn drain(fd: &impl AsRawFd) -> io::Result<usize> {
    let mut total = 0;
    let mut buf = [0u8; 4096];
    loop {
        match read(fd, &mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(total),
            Err(e) => return Err(e),
        }
    }
}

/// The open-files limit: what it was, what it is now, and the hard limit.
#[derive(Clone, Copy, Debug)]
pub struct FdLimit {
    /// The soft limit now (after [`raise_fd_limit`]).
    pub soft: u64,
    /// The hard limit, which an unprivileged process cannot raise.
    pub hard: u64,
}

impl FdLimit {
    /// How many more descriptors a scenario may open, keeping `reserve` for
    /// the loops, the harness and the standard streams.
    pub fn available(self, reserve: u64) -> u64 {
        self.soft.saturating_sub(reserve)
    }
}

/// The table note for a case whose size `asked` was capped to `got` by the
/// hard `RLIMIT_NOFILE`; `None` when it was not capped.
pub fn cap_note(
    name: &str,
    asked: usize,
    got: usize,
    hard_limit: u64,
    detail: &str,
) -> Option<String> {
    (got < asked).then(|| {
        format!(
            "{name} capped from {asked} to {got}: RLIMIT_NOFILE hard limit {hard_limit}{detail}"
        )
    })
}

/// Raises `RLIMIT_NOFILE`'s soft limit to its hard limit (never the hard
/// limit itself) and returns both.
pub fn raise_fd_limit() -> io::Result<FdLimit> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) })?;
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: `raised` is a valid rlimit that setrlimit only reads.
        if check(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) }).is_ok() {
            limit = raised;
        }
    }
    Ok(FdLimit {
        soft: limit.rlim_cur,
        hard: limit.rlim_max,
    })
}
