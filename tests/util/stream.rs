//! The connected, non-blocking stream pair most tests register, and what
//! they do with it. On Unix a socket pair (`fd::socketpair`); Windows has
//! none, so there a loopback TCP connection (`fd::tcp_pair`) wrapped in
//! `evq::net::TcpStream`, whose I/O calls re-arm edge-triggered
//! registrations when they return `WouldBlock` (see `Trigger::Edge`).

use std::io::{self, Write};

/// One end of a [`stream_pair`].
#[cfg(unix)]
pub type Stream = std::os::unix::net::UnixStream;

/// One end of a [`stream_pair`].
#[cfg(windows)]
pub type Stream = evq::net::TcpStream;

/// A connected pair of non-blocking streams, each end reading what the
/// other writes.
#[cfg(unix)]
pub fn stream_pair() -> (Stream, Stream) {
    super::socketpair()
}

/// A connected pair of non-blocking streams, each end reading what the
/// other writes: (client, server) of a loopback TCP connection.
#[cfg(windows)]
pub fn stream_pair() -> (Stream, Stream) {
    let (client, server) = super::tcp_pair();
    (Stream::from_std(client), Stream::from_std(server))
}

/// Writes all of `bytes` to `peer` (a [`Stream`] or any socket written
/// through a shared reference, which has room for them), making the other
/// end readable.
pub fn send<W: ?Sized>(peer: &W, bytes: &[u8])
where
    for<'a> &'a W: Write,
{
    let mut writer = peer;
    writer.write_all(bytes).expect("write to the stream's peer");
}

/// Writes to a non-blocking stream until it returns `WouldBlock`; returns
/// how many bytes it took.
pub fn fill(socket: &Stream) -> usize {
    let mut writer = socket;
    let chunk = [0u8; 16 * 1024];
    let mut written = 0;
    loop {
        match writer.write(&chunk) {
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return written,
            Err(e) => panic!("write failed: {e}"),
        }
    }
}
