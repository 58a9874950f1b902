use super::sockaddr::SockAddr;
use super::sys::{self, Kind};
use super::would_block::note_would_block;
use super::TcpStream;
use crate::Interest;
use std::ffi::c_int;
use std::io;
use std::net::SocketAddr;

/// The listen backlog of [`TcpListener::bind`]: how many connections the
/// kernel completes and queues before the server accepts them.
///
/// std uses 128, which a server under load overflows: each connection
/// that finds the queue full has its SYN dropped and waits for the
/// client's retransmit, a second or more. 1024 (as mio and tokio use)
/// holds a burst eight times as large. The kernel clamps it to its own
/// limit: `net.core.somaxconn` on Linux (4096 by default since Linux 5.4,
/// 128 before), `kern.ipc.somaxconn` on macOS and FreeBSD (128 on macOS
/// by default); on Windows the provider clamps it to its own maximum, and
/// a connection that finds the queue full is refused (`WSAECONNREFUSED`)
/// rather than retried. [`TcpListener::bind_with_backlog`] chooses another
/// value.
pub const DEFAULT_BACKLOG: u32 = 1024;

/// A TCP socket listening for connections, non-blocking and close-on-exec
/// from birth.
///
/// Register it for [`Interest::READABLE`](crate::Interest::READABLE): a
/// readable event means connections are waiting, and
/// [`accept`](TcpListener::accept) takes them until it returns
/// [`WouldBlock`](io::ErrorKind::WouldBlock). See the
/// [module docs](crate::net) for a whole server.
pub struct TcpListener {
    inner: std::net::TcpListener,
}

std_wrapper!(TcpListener, std::net::TcpListener);

impl TcpListener {
    /// Creates a socket listening on `addr`, with a backlog of
    /// [`DEFAULT_BACKLOG`] connections and, on Unix, `SO_REUSEADDR` set (as
    /// std and mio do there, so a restarted server can bind its port while
    /// old connections linger in `TIME_WAIT`; on Windows that option would
    /// let another socket take a port in use, and std and mio leave it
    /// unset). Port 0 picks a free port:
    /// [`local_addr`](TcpListener::local_addr) tells which.
    ///
    /// The system calls are `socket(.., SOCK_STREAM | SOCK_NONBLOCK |
    /// SOCK_CLOEXEC)`, `setsockopt(SO_REUSEADDR)`, `bind` and `listen`; on
    /// macOS and iOS, which lack the flags, `socket` then two `fcntl`s and
    /// `setsockopt(SO_NOSIGPIPE)`; on Windows `WSASocketW(..,
    /// WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT)`,
    /// `ioctlsocket(FIONBIO)`, `bind` and `listen`.
    ///
    /// # References
    /// [`socket(2)`](https://man7.org/linux/man-pages/man2/socket.2.html),
    /// [`bind(2)`](https://man7.org/linux/man-pages/man2/bind.2.html),
    /// [`listen(2)`](https://man7.org/linux/man-pages/man2/listen.2.html)
    /// (Linux);
    /// [`socket(2)`](https://man.freebsd.org/cgi/man.cgi?query=socket&sektion=2),
    /// [`listen(2)`](https://man.freebsd.org/cgi/man.cgi?query=listen&sektion=2)
    /// (FreeBSD);
    /// [`WSASocketW`](https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsasocketw),
    /// [`listen`](https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-listen)
    /// (Windows).
    pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
        TcpListener::bind_with_backlog(addr, DEFAULT_BACKLOG)
    }

    /// [`bind`](TcpListener::bind) with a listen backlog of `backlog`
    /// connections instead of [`DEFAULT_BACKLOG`]. The kernel clamps it to
    /// its limit (`net.core.somaxconn` on Linux), and values above
    /// `i32::MAX` to `i32::MAX` first.
    pub fn bind_with_backlog(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
        let socket = sys::inet_socket(&addr, Kind::Stream)?;
        #[cfg(unix)]
        sys::set_reuse_address(&socket)?;
        sys::bind(&socket, &SockAddr::from_inet(addr))?;
        let backlog = c_int::try_from(backlog).unwrap_or(c_int::MAX);
        sys::listen(&socket, backlog)?;
        Ok(TcpListener::from(socket))
    }

    /// Accepts a waiting connection: the stream, non-blocking and
    /// close-on-exec, and the peer's address. Fails with
    /// [`WouldBlock`](io::ErrorKind::WouldBlock) when none is waiting.
    ///
    /// One system call, `accept4(.., SOCK_NONBLOCK | SOCK_CLOEXEC)`; on
    /// macOS and iOS, which lack it, `accept` and two `fcntl`s (and on
    /// 32-bit x86 Android, whose seccomp policy forbids `accept4`). On
    /// Windows std's `accept` (the new socket takes the listener's
    /// properties, not inheritable among them) and `ioctlsocket(FIONBIO)`.
    ///
    /// # References
    /// [`accept4(2)`](https://man7.org/linux/man-pages/man2/accept.2.html)
    /// (Linux),
    /// [`accept4(2)`](https://man.freebsd.org/cgi/man.cgi?query=accept&sektion=2)
    /// (FreeBSD).
    pub fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        note_would_block(&self.inner, Interest::READABLE, self.accept_once())
    }

    #[cfg(unix)]
    fn accept_once(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = sys::accept(&self.inner)?;
        Ok((TcpStream::from(stream), peer.to_inet()?))
    }

    #[cfg(windows)]
    fn accept_once(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.inner.accept()?;
        stream.set_nonblocking(true)?;
        Ok((TcpStream::from_std(stream), peer))
    }

    /// The address the listener is bound to (with the port the OS chose,
    /// after binding port 0): std's `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Sets the IP time-to-live of the packets sent from accepted
    /// connections' sockets (`IP_TTL`).
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.inner.set_ttl(ttl)
    }

    /// The `IP_TTL` option.
    pub fn ttl(&self) -> io::Result<u32> {
        self.inner.ttl()
    }

    /// Reads and clears the socket's pending error (`SO_ERROR`).
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.inner.take_error()
    }
}
