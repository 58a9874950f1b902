//! Sockets and pipes that are non-blocking and close-on-exec from birth,
//! ready to register: TCP, UDP, Unix streams and datagrams, pipes.
//!
//! std's sockets block until told otherwise, so a server built on them
//! hangs in its first `accept` that finds no one waiting, and std has no
//! non-blocking `connect`. These types are std's types, made the way an
//! event loop needs them: created with `SOCK_NONBLOCK | SOCK_CLOEXEC` (one
//! system call; `accept4` accepts that way too), with a listen backlog of
//! [`DEFAULT_BACKLOG`] rather than std's 128, and a
//! [`TcpStream::connect`] that returns while the connection is in
//! progress. Everything else (reads, writes, options, addresses) is std's
//! code. Each type converts to and from its std type and [`OwnedFd`]
//! ([`OwnedSocket`] on Windows), and registers with a
//! [`Registry`](crate::Registry) like any fd.
//!
//! On macOS and iOS, which lack the flags and `accept4`, they are set
//! with [`fcntl`] right after creation, and sockets get `SO_NOSIGPIPE` (as
//! std's do there). Each constructor names its system calls.
//!
//! # Per platform
//!
//! | | Unix | Windows |
//! |---|---|---|
//! | types | all | [`TcpListener`], [`TcpStream`], [`UdpSocket`] |
//! | created with | `socket(.., SOCK_NONBLOCK \| SOCK_CLOEXEC)` | [`WSASocketW`] (`WSA_FLAG_OVERLAPPED \| WSA_FLAG_NO_HANDLE_INHERIT`), then [`ioctlsocket`]`(FIONBIO)` |
//! | accepted with | `accept4(.., SOCK_NONBLOCK \| SOCK_CLOEXEC)` | std's `accept` (not inheritable), then `ioctlsocket(FIONBIO)` |
//! | `SO_REUSEADDR` on listeners | set, as std does | not set: on Windows it lets another socket take a port in use |
//!
//! On Windows every read, write, accept, send and receive that returns
//! [`WouldBlock`](std::io::ErrorKind::WouldBlock) also re-arms the socket's
//! edge-triggered registrations (see [`Trigger::Edge`](crate::Trigger::Edge)):
//! that is why a program there should do its I/O through these types
//! rather than through std's.
//!
//! [`fcntl`]: https://developer.apple.com/library/archive/documentation/System/Conceptual/ManPages_iPhoneOS/man2/fcntl.2.html
//! [`WSASocketW`]: https://learn.microsoft.com/en-us/windows/win32/api/winsock2/nf-winsock2-wsasocketw
//! [`ioctlsocket`]: https://learn.microsoft.com/en-us/windows/win32/api/winsock/nf-winsock-ioctlsocket
//!
//! [`OwnedFd`]: https://doc.rust-lang.org/std/os/fd/struct.OwnedFd.html
//! [`OwnedSocket`]: https://doc.rust-lang.org/std/os/windows/io/struct.OwnedSocket.html
//!
//! # Example: a TCP server
//!
//! The shape of mio's `tcp_server` example: one listener token, one token
//! per connection, accept until `WouldBlock`, read until `WouldBlock`.
//! Here a client thread connects, reads the greeting and sends a line;
//! the server prints it and stops after that one connection.
//!
//! ```
//! use evq::net::{TcpListener, TcpStream};
//! use evq::{Event, Events, Interest, Poll, Registry, Token};
//! use std::collections::HashMap;
//! use std::io::{self, Read, Write};
//!
//! const SERVER: Token = Token(0);
//! const GREETING: &[u8] = b"Hello world!\n";
//!
//! # fn main() -> io::Result<()> {
//! let mut poll = Poll::new()?;
//! let mut events = Events::with_capacity(128);
//!
//! let server = TcpListener::bind("127.0.0.1:0".parse().unwrap())?;
//! poll.registry().register(&server, SERVER, Interest::READABLE)?;
//!
//! // A client, elsewhere: std's blocking socket.
//! let addr = server.local_addr()?;
//! let client = std::thread::spawn(move || -> io::Result<()> {
//!     let mut stream = std::net::TcpStream::connect(addr)?;
//!     let mut greeting = [0; GREETING.len()];
//!     stream.read_exact(&mut greeting)?;
//!     stream.write_all(b"hi, server\n")
//! });
//!
//! let mut connections: HashMap<Token, TcpStream> = HashMap::new();
//! let mut next_token = Token(SERVER.0 + 1);
//! let mut served = 0;
//! while served == 0 || !connections.is_empty() {
//!     poll.poll(&mut events, None)?;
//!     for event in &events {
//!         match event.token() {
//!             SERVER => loop {
//!                 // Readable listener: accept everyone waiting.
//!                 let (connection, address) = match server.accept() {
//!                     Ok(accepted) => accepted,
//!                     Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
//!                     Err(e) => return Err(e),
//!                 };
//!                 println!("accepted a connection from {address}");
//!                 let token = next_token;
//!                 next_token.0 += 1;
//!                 poll.registry().register(
//!                     &connection,
//!                     token,
//!                     Interest::READABLE | Interest::WRITABLE,
//!                 )?;
//!                 connections.insert(token, connection);
//!             },
//!             token => {
//!                 let done = match connections.get_mut(&token) {
//!                     Some(connection) => handle_event(poll.registry(), connection, event)?,
//!                     None => false, // a spurious event
//!                 };
//!                 if done {
//!                     let connection = connections.remove(&token).unwrap();
//!                     poll.registry().deregister(&connection)?;
//!                     served += 1;
//!                 }
//!             }
//!         }
//!     }
//! }
//! client.join().unwrap()?;
//! # Ok(())
//! # }
//!
//! /// Returns `true` when the connection is done.
//! fn handle_event(
//!     registry: &Registry,
//!     connection: &mut TcpStream,
//!     event: &Event,
//! ) -> io::Result<bool> {
//!     if event.is_writable() {
//!         match connection.write(GREETING) {
//!             Ok(n) if n < GREETING.len() => return Err(io::ErrorKind::WriteZero.into()),
//!             // Written: from now on only reading is of interest.
//!             Ok(_) => registry.reregister(&*connection, event.token(), Interest::READABLE)?,
//!             Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
//!             Err(e) => return Err(e),
//!         }
//!     }
//!     if event.is_readable() {
//!         let mut received = Vec::new();
//!         let mut buf = [0; 4096];
//!         let closed = loop {
//!             match connection.read(&mut buf) {
//!                 Ok(0) => break true,
//!                 Ok(n) => received.extend_from_slice(&buf[..n]),
//!                 Err(e) if e.kind() == io::ErrorKind::WouldBlock => break false,
//!                 Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
//!                 Err(e) => return Err(e),
//!             }
//!         };
//!         if !received.is_empty() {
//!             println!("received {:?}", String::from_utf8_lossy(&received));
//!         }
//!         return Ok(closed);
//!     }
//!     Ok(false)
//! }
//! ```

#[macro_use]
mod conversions;
#[allow(unsafe_code)]
mod sockaddr;
#[cfg(unix)]
#[allow(unsafe_code)]
mod sys;
#[cfg(windows)]
#[allow(unsafe_code)]
#[path = "sys_windows.rs"]
mod sys;
pub(crate) mod would_block;

#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub mod pipe;
mod tcp_listener;
mod tcp_stream;
mod udp;
#[cfg(unix)]
mod unix_datagram;
#[cfg(unix)]
mod unix_listener;
#[cfg(unix)]
mod unix_stream;

pub use tcp_listener::{TcpListener, DEFAULT_BACKLOG};
pub use tcp_stream::TcpStream;
pub use udp::UdpSocket;
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use unix_datagram::UnixDatagram;
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use unix_listener::UnixListener;
#[cfg(unix)]
#[cfg_attr(docsrs, doc(cfg(unix)))]
pub use unix_stream::UnixStream;
