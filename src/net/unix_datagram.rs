use super::sockaddr::SockAddr;
use super::sys::{self, Kind};
use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

/// A Unix datagram socket, non-blocking and close-on-exec from birth.
///
/// Sending and receiving go through std's implementation and return
/// [`WouldBlock`](io::ErrorKind::WouldBlock) instead of waiting.
pub struct UnixDatagram {
    inner: std::os::unix::net::UnixDatagram,
}

std_wrapper!(UnixDatagram, std::os::unix::net::UnixDatagram);

impl UnixDatagram {
    /// Creates a datagram socket bound to `path`. Path errors are as for
    /// [`UnixListener::bind`](super::UnixListener::bind).
    ///
    /// The system calls are `socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK |
    /// SOCK_CLOEXEC)` and `bind` (on macOS and iOS, `socket`, two
    /// `fcntl`s and `setsockopt(SO_NOSIGPIPE)` first).
    ///
    /// # References
    /// [`unix(7)`](https://man7.org/linux/man-pages/man7/unix.7.html)
    pub fn bind<P: AsRef<Path>>(path: P) -> io::Result<UnixDatagram> {
        let addr = SockAddr::from_path(path.as_ref())?;
        let socket = sys::unix_socket(Kind::Datagram)?;
        sys::bind(&socket, &addr)?;
        Ok(UnixDatagram::from(socket))
    }

    /// Creates a datagram socket bound to no address: it can send (with
    /// [`send_to`](UnixDatagram::send_to), or after
    /// [`connect`](UnixDatagram::connect)) but nobody can address replies
    /// to it. One `socket` call, as in [`bind`](UnixDatagram::bind).
    pub fn unbound() -> io::Result<UnixDatagram> {
        Ok(UnixDatagram::from(sys::unix_socket(Kind::Datagram)?))
    }

    /// Two connected datagram sockets, both non-blocking and close-on-exec:
    /// `socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC)`.
    ///
    /// # References
    /// [`socketpair(2)`](https://man7.org/linux/man-pages/man2/socketpair.2.html)
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = sys::socketpair(Kind::Datagram)?;
        Ok((UnixDatagram::from(a), UnixDatagram::from(b)))
    }

    /// Sets the default destination of [`send`](UnixDatagram::send) and
    /// the only source [`recv`](UnixDatagram::recv) accepts: std's
    /// `connect(2)`, which for datagrams completes at once.
    pub fn connect<P: AsRef<Path>>(&self, path: P) -> io::Result<()> {
        self.inner.connect(path)
    }

    /// Sends one datagram to the connected address.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.inner.send(buf)
    }

    /// Receives one datagram.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.recv(buf)
    }

    /// Sends one datagram to the socket at `path`.
    pub fn send_to<P: AsRef<Path>>(&self, buf: &[u8], path: P) -> io::Result<usize> {
        self.inner.send_to(buf, path)
    }

    /// Receives one datagram and the address it came from.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.recv_from(buf)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Shuts down receiving, sending or both: `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}
