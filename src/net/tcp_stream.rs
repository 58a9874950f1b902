use super::sockaddr::SockAddr;
use super::sys::{self, Kind};
use super::would_block::note_would_block;
use crate::Interest;
use std::io;
use std::net::{Shutdown, SocketAddr};

/// A TCP connection, non-blocking and close-on-exec from birth.
///
/// Made by [`connect`](TcpStream::connect) (which returns before the
/// connection is established), by [`TcpListener::accept`](super::TcpListener::accept),
/// or from a std stream. Reads and writes go through std's
/// implementation and return [`WouldBlock`](io::ErrorKind::WouldBlock)
/// instead of waiting; [`Read`](io::Read) and [`Write`](io::Write) are
/// implemented for `&TcpStream` too, so one thread can read and write
/// through a shared reference.
pub struct TcpStream {
    inner: std::net::TcpStream,
}

std_wrapper!(TcpStream, std::net::TcpStream);
read_through_inner!(TcpStream);
write_through_inner!(TcpStream);

impl TcpStream {
    /// Starts connecting to `addr` and returns at once, with the
    /// connection usually still in progress.
    ///
    /// Register the stream for [`Interest::WRITABLE`](crate::Interest::WRITABLE):
    /// the writable event (perhaps with [`Event::is_error`](crate::Event::is_error)
    /// or a hang-up) says the attempt has finished, not that it succeeded.
    /// Then ask how it went, as mio documents:
    ///
    /// 1. [`take_error`](TcpStream::take_error): `Ok(Some(e))` is the
    ///    failure (e.g. `ConnectionRefused`);
    /// 2. else [`peer_addr`](TcpStream::peer_addr): `Ok(_)` means
    ///    connected; `NotConnected` means not finished yet (a spurious
    ///    event): wait for the next writable event.
    ///
    /// An error returned here is immediate (no route, a bad address); a
    /// refused or timed-out connection shows up only as above.
    ///
    /// The system calls are `socket(.., SOCK_STREAM | SOCK_NONBLOCK |
    /// SOCK_CLOEXEC)` and `connect`, whose `EINPROGRESS` is the normal
    /// answer; on macOS and iOS, `socket`, two `fcntl`s and
    /// `setsockopt(SO_NOSIGPIPE)`, then `connect`; on Windows
    /// `WSASocketW(.., WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)`,
    /// `ioctlsocket(FIONBIO)` and `connect`, whose `WSAEWOULDBLOCK` means
    /// the same.
    ///
    /// # References
    /// [`connect(2)`](https://man7.org/linux/man-pages/man2/connect.2.html)
    /// (Linux, `EINPROGRESS`),
    /// [`connect(2)`](https://man.freebsd.org/cgi/man.cgi?query=connect&sektion=2)
    /// (FreeBSD),
    /// [`connect`](https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-connect)
    /// (Windows, `WSAEWOULDBLOCK`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evq::net::{TcpListener, TcpStream};
    /// use evq::{Events, Interest, Poll, Token};
    /// # fn main() -> std::io::Result<()> {
    /// let listener = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
    /// let stream = TcpStream::connect(listener.local_addr()?)?;
    ///
    /// let mut poll = Poll::new()?;
    /// let mut events = Events::with_capacity(8);
    /// poll.registry().register(&stream, Token(0), Interest::WRITABLE)?;
    /// loop {
    ///     poll.poll(&mut events, None)?;
    ///     if let Some(error) = stream.take_error()? {
    ///         return Err(error); // e.g. ConnectionRefused
    ///     }
    ///     match stream.peer_addr() {
    ///         Ok(_) => break, // connected
    ///         Err(e) if e.kind() == std::io::ErrorKind::NotConnected => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
        let socket = sys::inet_socket(&addr, Kind::Stream)?;
        sys::connect(&socket, &SockAddr::from_inet(addr))?;
        Ok(TcpStream::from(socket))
    }

    /// The remote address; `NotConnected` while a
    /// [`connect`](TcpStream::connect) is in progress or after it failed.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address the stream is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Shuts down the read half, the write half (the peer reads end of
    /// file) or both: `shutdown(2)`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }

    /// Turns Nagle's algorithm off (`true`) or on: `TCP_NODELAY`. With it
    /// off, small writes go out at once instead of waiting for the
    /// acknowledgement of earlier ones.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.set_nodelay(nodelay)
    }

    /// The `TCP_NODELAY` option.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.nodelay()
    }

    /// Sets the IP time-to-live of the packets sent (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`): after a
    /// [`connect`](TcpStream::connect), the reason it failed.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Reads without removing: the next read returns the same bytes
    /// (`recv(.., MSG_PEEK)`).
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        note_would_block(&self.inner, Interest::READABLE, self.inner.peek(buf))
    }
}
