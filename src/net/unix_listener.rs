use super::sockaddr::SockAddr;
use super::sys::{self, Kind};
use super::tcp_listener::DEFAULT_BACKLOG;
use super::UnixStream;
use std::ffi::c_int;
use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

/// A Unix stream socket listening for connections at a path,
/// non-blocking and close-on-exec from birth.
///
/// Used like [`TcpListener`](super::TcpListener): register it for
/// [`Interest::READABLE`](crate::Interest::READABLE) and
/// [`accept`](UnixListener::accept) until
/// [`WouldBlock`](io::ErrorKind::WouldBlock). The socket file stays in the
/// file system after the listener is dropped (as with std): remove it to
/// bind the path again.
pub struct UnixListener {
    inner: std::os::unix::net::UnixListener,
}

std_wrapper!(UnixListener, std::os::unix::net::UnixListener);

impl UnixListener {
    /// Creates a socket listening at `path`, with a backlog of
    /// [`DEFAULT_BACKLOG`](super::DEFAULT_BACKLOG) connections. Fails with
    /// `InvalidInput` if the path holds a NUL byte or does not fit in
    /// `sun_path` (107 bytes on Linux, 103 on macOS and the BSDs), and
    /// with `AddrInUse` if the file exists.
    ///
    /// The system calls are `socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
    /// SOCK_CLOEXEC)`, `bind` and `listen`; on macOS and iOS, `socket`,
    /// two `fcntl`s and `setsockopt(SO_NOSIGPIPE)`, then `bind` and
    /// `listen`.
    ///
    /// # References
    /// [`unix(7)`](https://man7.org/linux/man-pages/man7/unix.7.html)
    /// (Linux),
    /// [`unix(4)`](https://man.freebsd.org/cgi/man.cgi?query=unix&sektion=4)
    /// (FreeBSD).
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixListener> {
        let addr = SockAddr::from_path(path.as_ref())?;
        let socket = sys::unix_socket(Kind::Stream)?;
        sys::bind(&socket, &addr)?;
        sys::listen(&socket, DEFAULT_BACKLOG as c_int)?;
        Ok(UnixListener::from(socket))
    }

    /// Accepts a waiting connection: the stream, non-blocking and
    /// close-on-exec, and the peer's address (usually unnamed: clients
    /// rarely bind). Fails with [`WouldBlock`](io::ErrorKind::WouldBlock)
    /// when none is waiting.
    ///
    /// One system call, `accept4(.., SOCK_NONBLOCK | SOCK_CLOEXEC)`; on
    /// macOS and iOS `accept` and two `fcntl`s.
    ///
    /// # References
    /// [`accept4(2)`](https://man7.org/linux/man-pages/man2/accept.2.html)
    pub fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = sys::accept(&self.inner)?;
        Ok((UnixStream::from(stream), peer.to_unix()?))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}
