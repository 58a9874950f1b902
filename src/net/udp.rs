use super::sockaddr::SockAddr;
use super::sys::{self, Kind};
use super::would_block::note_would_block;
use crate::Interest;
use std::io;
use std::net::SocketAddr;

/// A UDP socket, non-blocking and close-on-exec from birth.
///
/// Sending and receiving go through std's implementation and return
/// [`WouldBlock`](io::ErrorKind::WouldBlock) instead of waiting. Each
/// receive takes one whole datagram (the part that does not fit in the
/// buffer is discarded, as with std).
///
/// # Examples
///
/// ```
/// use evq::net::UdpSocket;
/// # fn main() -> std::io::Result<()> {
/// let a = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// let b = UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
/// a.send_to(b"ping", b.local_addr()?)?;
/// # let mut poll = evq::Poll::new()?;
/// # let mut events = evq::Events::with_capacity(1);
/// # poll.registry().register(&b, evq::Token(0), evq::Interest::READABLE)?;
/// # poll.poll(&mut events, None)?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf)?; // WouldBlock until it arrives
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # Ok(())
/// # }
/// ```
pub struct UdpSocket {
    inner: std::net::UdpSocket,
}

std_wrapper!(UdpSocket, std::net::UdpSocket);

impl UdpSocket {
    /// Creates a UDP socket bound to `addr` (port 0: a free port).
    ///
    /// The system calls are `socket(.., SOCK_DGRAM | SOCK_NONBLOCK |
    /// SOCK_CLOEXEC)` and `bind`; on macOS and iOS, `socket`, two `fcntl`s
    /// and `setsockopt(SO_NOSIGPIPE)`, then `bind`; on Windows
    /// `WSASocketW(.., WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)`,
    /// `ioctlsocket(FIONBIO)` and `bind`.
    ///
    /// # References
    /// [`socket(2)`](https://man7.org/linux/man-pages/man2/socket.2.html),
    /// [`bind(2)`](https://man7.org/linux/man-pages/man2/bind.2.html),
    /// [`udp(7)`](https://man7.org/linux/man-pages/man7/udp.7.html).
    pub fn bind(addr: SocketAddr) -> io::Result<UdpSocket> {
        let socket = sys::inet_socket(&addr, Kind::Datagram)?;
        sys::bind(&socket, &SockAddr::from_inet(addr))?;
        Ok(UdpSocket::from(socket))
    }

    /// Sets the default destination of [`send`](UdpSocket::send) and the
    /// only source [`recv`](UdpSocket::recv) accepts: `connect(2)`, which
    /// for UDP completes at once.
    pub fn connect(&self, addr: SocketAddr) -> io::Result<()> {
        self.inner.connect(addr)
    }

    /// Sends one datagram to the connected address.
    pub fn send(&self, buf: &[u8]) -> io::Result<usize> {
        note_would_block(&self.inner, Interest::WRITABLE, self.inner.send(buf))
    }

    /// Receives one datagram from the connected address.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        note_would_block(&self.inner, Interest::READABLE, self.inner.recv(buf))
    }

    /// Sends one datagram to `target`.
    pub fn send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        let result = self.inner.send_to(buf, target);
        note_would_block(&self.inner, Interest::WRITABLE, result)
    }

    /// Receives one datagram and the address it came from.
    pub fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        note_would_block(&self.inner, Interest::READABLE, self.inner.recv_from(buf))
    }

    /// [`recv`](UdpSocket::recv) that leaves the datagram queued
    /// (`MSG_PEEK`).
    pub fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        note_would_block(&self.inner, Interest::READABLE, self.inner.peek(buf))
    }

    /// [`recv_from`](UdpSocket::recv_from) that leaves the datagram queued
    /// (`MSG_PEEK`).
    pub fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        note_would_block(&self.inner, Interest::READABLE, self.inner.peek_from(buf))
    }

    /// The local address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// The connected address; `NotConnected` if there is none.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`), e.g. an
    /// ICMP port-unreachable reported for an earlier send.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }

    /// Lets the socket send to broadcast addresses (`SO_BROADCAST`).
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.set_broadcast(on)
    }

    /// The `SO_BROADCAST` option.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.inner.broadcast()
    }

    /// Sets the IP time-to-live of the packets sent (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }
}
