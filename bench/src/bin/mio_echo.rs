//! A TCP echo server on mio, the counterpart of evq's `echo_server` example
//! for `evq-bench load`: one thread, one `mio::Poll`, the same rules, so a
//! load run compares the two libraries rather than two designs.
//!
//! - The listener accepts until `WouldBlock`; when `accept` fails otherwise
//!   (e.g. out of descriptors) it is deregistered and tried again after
//!   [`ACCEPT_RETRY`].
//! - Each connection keeps the bytes it read and has not yet echoed in one
//!   buffer. It asks for `WRITABLE` while that buffer holds bytes, and for
//!   `READABLE` only while it holds fewer than [`MAX_PENDING`]: a client
//!   that writes without reading stalls on its own writes instead of
//!   growing the server.
//! - At end of file the rest is echoed, then the server closes; a failing
//!   connection (reset, error) is dropped and logged on stderr.
//!
//! ```text
//! mio_echo [--addr HOST:PORT] [--no-backpressure]
//! ```
//!
//! listens on HOST:PORT (default 127.0.0.1:0) and prints `listening on ADDR`
//! once it accepts connections. `--no-backpressure` drops the bound: the
//! server reads whatever arrives and buffers what it cannot write back, the
//! mistake `evq-bench load` must catch (CI checks that it does).

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The listener's token; connections use their slot index.
const LISTENER: Token = Token(usize::MAX);

/// Stop reading from a connection while this many bytes wait to be echoed.
const MAX_PENDING: usize = 64 * 1024;

/// The size of one read.
const READ_CHUNK: usize = 16 * 1024;

/// The pause before accepting again after `accept` failed.
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

fn main() -> ExitCode {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 0).into();
    let mut limit = MAX_PENDING;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--no-backpressure" {
            limit = usize::MAX;
            continue;
        }
        match (arg.as_str(), args.next().map(|v| v.parse())) {
            ("--addr", Some(Ok(value))) => addr = value,
            _ => {
                eprintln!("usage: mio_echo [--addr HOST:PORT] [--no-backpressure]");
                return ExitCode::from(2);
            }
        }
    }
    match serve(addr, limit) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mio_echo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One client: its socket and the bytes owed to it.
struct Client {
    stream: TcpStream,
    /// `owed[sent..]` are read and not yet written back.
    owed: Vec<u8>,
    sent: usize,
    /// The client has shut down its writing side.
    eof: bool,
    interest: Interest,
    /// Stop reading while this many bytes are unsent ([`MAX_PENDING`]).
    limit: usize,
}

impl Client {
    fn unsent(&self) -> usize {
        self.owed.len() - self.sent
    }

    /// Writes back what it can, reads what the bound allows; `Ok(true)`
    /// once the client is done and everything is echoed.
    fn serve(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.write_back()?;
        while !self.eof && self.unsent() < self.limit {
            match self.stream.read(buf) {
                Ok(0) => self.eof = true,
                Ok(n) => {
                    self.owed.extend_from_slice(&buf[..n]);
                    self.write_back()?;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(self.eof && self.unsent() == 0)
    }

    fn write_back(&mut self) -> io::Result<()> {
        while self.unsent() > 0 {
            match self.stream.write(&self.owed[self.sent..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.unsent() == 0 {
            self.owed.clear();
            self.sent = 0;
        } else if self.sent >= MAX_PENDING {
            // Drop the written front so the buffer stays within its bound.
            self.owed.drain(..self.sent);
            self.sent = 0;
        }
        Ok(())
    }

    /// What to wait for next (never nothing: a client with nothing to read
    /// or write is done).
    fn wanted(&self) -> Interest {
        let read = !self.eof && self.unsent() < self.limit;
        match (read, self.unsent() > 0) {
            (true, true) => Interest::READABLE | Interest::WRITABLE,
            (false, true) => Interest::WRITABLE,
            _ => Interest::READABLE,
        }
    }
}

fn serve(addr: SocketAddr, limit: usize) -> io::Result<()> {
    let mut listener = TcpListener::bind(addr)?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    println!("listening on {}", listener.local_addr()?);

    let mut clients: Vec<Option<Client>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    let mut freed: Vec<usize> = Vec::new();
    let mut paused_until: Option<Instant> = None;
    let mut buf = vec![0u8; READ_CHUNK];
    let mut events = Events::with_capacity(256);
    loop {
        let timeout = paused_until.map(|at| at.saturating_duration_since(Instant::now()));
        match poll.poll(&mut events, timeout) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            other => other?,
        }
        let mut accept = false;
        for event in &events {
            if event.token() == LISTENER {
                accept = true;
                continue;
            }
            let index = event.token().0;
            let Some(Some(client)) = clients.get_mut(index) else {
                continue; // closed earlier in this batch
            };
            let outcome = if event.is_error() {
                Err(client
                    .stream
                    .take_error()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| io::Error::other("socket error")))
            } else {
                client.serve(&mut buf).and_then(|done| {
                    let wanted = client.wanted();
                    if !done && wanted != client.interest {
                        poll.registry()
                            .reregister(&mut client.stream, event.token(), wanted)?;
                        client.interest = wanted;
                    }
                    Ok(done)
                })
            };
            match outcome {
                Ok(false) => continue,
                Ok(true) => {}
                Err(e) => eprintln!("mio_echo: connection {index}: {e}"),
            }
            if let Some(mut client) = clients[index].take() {
                let _ = poll.registry().deregister(&mut client.stream);
                freed.push(index);
            }
        }
        free.append(&mut freed);
        if paused_until.is_some_and(|at| Instant::now() >= at) {
            paused_until = None;
            poll.registry()
                .register(&mut listener, LISTENER, Interest::READABLE)?;
            accept = true;
        }
        while accept && paused_until.is_none() {
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let index = free.pop().unwrap_or(clients.len());
                    if let Err(e) =
                        poll.registry()
                            .register(&mut stream, Token(index), Interest::READABLE)
                    {
                        eprintln!("mio_echo: new connection: {e}");
                        free.push(index);
                        continue;
                    }
                    let client = Client {
                        stream,
                        owed: Vec::new(),
                        sent: 0,
                        eof: false,
                        interest: Interest::READABLE,
                        limit,
                    };
                    if index == clients.len() {
                        clients.push(Some(client));
                    } else {
                        clients[index] = Some(client);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => accept = false,
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionAborted | ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    eprintln!("mio_echo: accept: {e}");
                    poll.registry().deregister(&mut listener)?;
                    paused_until = Some(Instant::now() + ACCEPT_RETRY);
                }
            }
        }
    }
}
