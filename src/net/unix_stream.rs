use super::sockaddr::SockAddr;
use super::sys::{self, Kind};
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

/// A Unix stream connection, non-blocking and close-on-exec from birth.
///
/// Reads and writes go through std's implementation, for `&UnixStream`
/// too, and return [`WouldBlock`](io::ErrorKind::WouldBlock) instead of
/// waiting.
pub struct UnixStream {
    inner: std::os::unix::net::UnixStream,
}

std_wrapper!(UnixStream, std::os::unix::net::UnixStream);
read_through_inner!(UnixStream);
write_through_inner!(UnixStream);

impl UnixStream {
    /// Connects to the socket at `path`. Usually complete on return; where
    /// the kernel reports `EINPROGRESS` (it may on the BSDs), the stream
    /// reports writable once connected, as
    /// [`TcpStream::connect`](super::TcpStream::connect) describes. A
    /// listener whose backlog is full fails at once with `WouldBlock`
    /// (Linux: `EAGAIN`). Path errors are as for
    /// [`UnixListener::bind`](super::UnixListener::bind).
    ///
    /// The system calls are `socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
    /// SOCK_CLOEXEC)` and `connect` (on macOS and iOS, `socket`, two
    /// `fcntl`s and `setsockopt(SO_NOSIGPIPE)` first).
    ///
    /// # References
    /// [`unix(7)`](https://man7.org/linux/man-pages/man7/unix.7.html),
    /// [`connect(2)`](https://man7.org/linux/man-pages/man2/connect.2.html)
    pub fn connect<P: AsRef<Path>>(path: P) -> io::Result<UnixStream> {
        let addr = SockAddr::from_path(path.as_ref())?;
        let socket = sys::unix_socket(Kind::Stream)?;
        sys::connect(&socket, &addr)?;
        Ok(UnixStream::from(socket))
    }

    /// Two connected streams, both non-blocking and close-on-exec:
    /// `socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC)`
    /// (on macOS and iOS, plus `fcntl`s and `SO_NOSIGPIPE` on each end).
    ///
    /// # References
    /// [`socketpair(2)`](https://man7.org/linux/man-pages/man2/socketpair.2.html)
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = sys::socketpair(Kind::Stream)?;
        Ok((UnixStream::from(a), UnixStream::from(b)))
    }

    /// The local address (usually unnamed).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Shuts down the read half, the write half (the peer reads end of
    /// file) or both: `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}
