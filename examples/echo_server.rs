//! A TCP echo server: one thread, one [`evq::Poll`], many clients.
//!
//! Every byte a client sends comes back to it. The listener and all the
//! connections are registered with the same poll: the listener with its own
//! token ([`LISTENER`]), each connection with its index in a slab-like
//! `Vec`, so an event leads straight to its connection.
//!
//! ```text
//! $ cargo run --example echo_server -- --addr 127.0.0.1:7000
//! listening on 127.0.0.1:7000
//! ```
//!
//! What it demonstrates:
//!
//! - [`evq::net`]: a listener that is non-blocking from birth, with a
//!   listen backlog of 1024, and `accept` with `accept4`, so each accepted
//!   connection arrives non-blocking in one system call;
//! - accepting on a non-blocking listener until `WouldBlock`;
//! - edge- and level-triggered registrations (`--trigger`): with
//!   [`Trigger::Edge`] every read loop must drain the socket to
//!   `WouldBlock`, or no new event comes for the bytes left behind; with
//!   [`Trigger::Level`] one read per event is enough, the next poll
//!   reports the socket again while data is left;
//! - backpressure and write interest: echoed bytes the client does not
//!   read fast enough stay in a per-connection buffer, the connection is
//!   reregistered for `READABLE | WRITABLE`, and back to `READABLE` once
//!   the buffer drains. While more than [`MAX_PENDING`] bytes wait, the
//!   server stops reading from that client (and stops asking for
//!   `READABLE`), so a client that writes without reading cannot make the
//!   server buffer without bound: its own writes stall instead;
//! - end of file and half-close: when a client shuts down its writing side,
//!   the server still sends back everything pending, then closes;
//! - errors: a connection whose socket fails (reset, error events) is
//!   dropped, without disturbing the others, and never with a panic;
//! - limiting and pausing the listener: with `--max-connections` the
//!   listener is deregistered while the limit is reached (new clients wait
//!   in the kernel's backlog) and registered again when a client leaves.
//!
//! # Options
//!
//! ```text
//! --addr HOST:PORT       address to listen on (default 127.0.0.1:0, any free
//!                        port); the bound address is printed on stdout as
//!                        `listening on ADDR`
//! --trigger edge|level   how sockets are registered (default edge)
//! --max-connections N    serve at most N clients at once
//! --exit-after N         accept N clients, then exit (status 0) once all of
//!                        them have been served and closed
//! -h, --help             print usage
//! ```
//!
//! Errors of single connections go to stderr; the server exits with status
//! 1 only if the poll or the listener itself fails, and 2 for bad arguments.

use evq::net::{TcpListener, TcpStream};
use evq::{Event, Events, Interest, Poll, Registry, Token, Trigger};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The listener's token. Connections use their slab index, which can never
/// reach `usize::MAX`.
const LISTENER: Token = Token(usize::MAX);

/// Stop reading from a connection while this many echoed bytes wait to be
/// sent back to it.
const MAX_PENDING: usize = 64 * 1024;

/// The size of one read.
const READ_CHUNK: usize = 16 * 1024;

/// How long to wait before accepting again after `accept` failed with
/// something other than `WouldBlock` (e.g. out of file descriptors).
const ACCEPT_RETRY: Duration = Duration::from_millis(100);

const USAGE: &str = "\
usage: echo_server [--addr HOST:PORT] [--trigger edge|level]
                   [--max-connections N] [--exit-after N]

A TCP echo server on one evq Poll. Prints `listening on ADDR` on stdout.

options:
  --addr HOST:PORT      address to listen on (default 127.0.0.1:0)
  --trigger edge|level  registration trigger (default edge)
  --max-connections N   serve at most N clients at once; more wait in the
                        listen backlog
  --exit-after N        accept N clients, exit once all N are served
  -h, --help            print this help";

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("echo_server: {message}\n(run with --help for usage)");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("echo_server: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The command line.
struct Options {
    addr: String,
    trigger: Trigger,
    max_connections: Option<usize>,
    exit_after: Option<u64>,
}

impl Options {
    /// `Ok(None)` means `--help` was asked for.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let mut options = Options {
            addr: "127.0.0.1:0".to_owned(),
            trigger: Trigger::Edge,
            max_connections: None,
            exit_after: None,
        };
        while let Some(arg) = args.next() {
            // Accept both `--name value` and `--name=value`.
            let (name, inline) = match arg.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| format!("{name} needs a value"))
            };
            match name {
                "-h" | "--help" => return Ok(None),
                "--addr" => options.addr = value()?,
                "--trigger" => {
                    options.trigger = match value()?.as_str() {
                        "edge" => Trigger::Edge,
                        "level" => Trigger::Level,
                        other => {
                            return Err(format!("--trigger: expected edge or level, got {other:?}"))
                        }
                    }
                }
                "--max-connections" => {
                    options.max_connections = Some(positive(name, &value()?)?);
                }
                "--exit-after" => options.exit_after = Some(positive(name, &value()?)?),
                _ => return Err(format!("unexpected argument {arg:?}")),
            }
        }
        Ok(Some(options))
    }
}

/// Parses a whole number of at least 1.
fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(
    name: &str,
    text: &str,
) -> Result<T, String> {
    text.parse::<T>()
        .ok()
        .filter(|n| *n >= T::from(1))
        .ok_or_else(|| format!("{name}: expected a whole number of at least 1, got {text:?}"))
}

fn run(options: &Options) -> io::Result<()> {
    let addr = resolve(&options.addr)?;
    let listener = TcpListener::bind(addr)
        .map_err(|e| io::Error::new(e.kind(), format!("bind {}: {e}", options.addr)))?;
    let mut poll = Poll::new()?;
    poll.registry()
        .register_with(&listener, LISTENER, Interest::READABLE, options.trigger)?;
    // This line is the signal that clients may connect now.
    println!("listening on {}", listener.local_addr()?);

    let mut server = Server {
        listener: Some(listener),
        listening: true,
        retry_at: None,
        connections: Vec::new(),
        free: Vec::new(),
        closed: Vec::new(),
        trigger: options.trigger,
        max_connections: options.max_connections,
        exit_after: options.exit_after,
        accepted: 0,
        served: 0,
        scratch: vec![0; READ_CHUNK],
    };
    let mut events = Events::with_capacity(256);

    while !server.finished() {
        // Only a paused listener waiting to retry needs a timeout.
        let timeout = server
            .retry_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        poll.poll(&mut events, timeout)?;
        let registry = poll.registry();
        for event in &events {
            if event.token() == LISTENER {
                server.accept_all(registry)?;
            } else {
                server.connection_event(event, registry);
            }
        }
        // Slots freed in this batch become reusable only now: a later event
        // of the same batch for a closed connection then finds its slot
        // empty, instead of being taken for the new connection's.
        server.free.append(&mut server.closed);
        server.resume_accepting(registry)?;
    }
    println!("served {} connections, exiting", server.served);
    Ok(())
}

/// The first address `addr` (`HOST:PORT`) resolves to.
fn resolve(addr: &str) -> io::Result<SocketAddr> {
    addr.to_socket_addrs()
        .map_err(|e| io::Error::new(e.kind(), format!("--addr {addr:?}: {e}")))?
        .next()
        .ok_or_else(|| {
            io::Error::new(
                ErrorKind::InvalidInput,
                format!("--addr {addr:?}: no address found"),
            )
        })
}

/// The server's state: the listener and the connections.
struct Server {
    /// `None` once `--exit-after` clients have been accepted.
    listener: Option<TcpListener>,
    /// Whether the listener is registered (not paused).
    listening: bool,
    /// When to try accepting again after an `accept` error.
    retry_at: Option<Instant>,
    /// Connection `i` has `Token(i)`; `None` is a free slot.
    connections: Vec<Option<Connection>>,
    /// Free slots, reused before the `Vec` grows.
    free: Vec<usize>,
    /// Slots freed during the current batch of events.
    closed: Vec<usize>,
    trigger: Trigger,
    max_connections: Option<usize>,
    exit_after: Option<u64>,
    accepted: u64,
    served: u64,
    /// One read buffer for all connections: reads are copied out at once.
    scratch: Vec<u8>,
}

impl Server {
    fn open_connections(&self) -> usize {
        self.connections.len() - self.free.len() - self.closed.len()
    }

    fn at_capacity(&self) -> bool {
        self.max_connections
            .is_some_and(|max| self.open_connections() >= max)
    }

    /// All `--exit-after` clients have been served.
    fn finished(&self) -> bool {
        self.exit_after.is_some_and(|n| self.served >= n)
    }

    /// Accepts until `WouldBlock` (also with a level trigger: it costs one
    /// extra `accept` and saves a poll per waiting client), or until a
    /// limit says stop.
    fn accept_all(&mut self, registry: &Registry) -> io::Result<()> {
        loop {
            let Some(listener) = &self.listener else {
                return Ok(()); // a stale event after the listener was closed
            };
            if !self.listening {
                return Ok(()); // a stale event after a pause
            }
            if self.exit_after.is_some_and(|n| self.accepted >= n) {
                // Accepted all the clients we will serve: stop listening,
                // so further clients are refused rather than left waiting.
                registry.deregister(listener)?;
                self.listener = None;
                return Ok(());
            }
            if self.at_capacity() {
                // Deregister rather than ignore the events: with a level
                // trigger the waiting clients would be reported on every
                // poll, a busy loop.
                registry.deregister(listener)?;
                self.listening = false;
                return Ok(());
            }
            match listener.accept() {
                Ok((stream, _peer)) => {
                    self.accepted += 1;
                    if let Err(error) = self.add(stream, registry) {
                        eprintln!("echo_server: new connection: {error}");
                        self.served += 1; // dropped, but it counts as handled
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                // A client gave up before we accepted it, or a signal.
                Err(e)
                    if matches!(
                        e.kind(),
                        ErrorKind::ConnectionAborted | ErrorKind::Interrupted
                    ) => {}
                Err(e) => {
                    // E.g. out of file descriptors: the waiting client stays
                    // ready, so a level-triggered listener would spin. Pause
                    // and retry a little later.
                    eprintln!("echo_server: accept: {e}");
                    registry.deregister(listener)?;
                    self.listening = false;
                    self.retry_at = Some(Instant::now() + ACCEPT_RETRY);
                    return Ok(());
                }
            }
        }
    }

    /// Registers the listener again after a pause, if the reason is gone.
    fn resume_accepting(&mut self, registry: &Registry) -> io::Result<()> {
        let Some(listener) = &self.listener else {
            return Ok(());
        };
        if self.listening || self.at_capacity() {
            return Ok(());
        }
        if self.retry_at.is_some_and(|at| Instant::now() < at) {
            return Ok(());
        }
        self.retry_at = None;
        registry.register_with(listener, LISTENER, Interest::READABLE, self.trigger)?;
        self.listening = true;
        // Clients that queued up while paused: accept them now rather than
        // rely on the registration reporting them.
        self.accept_all(registry)
    }

    /// Makes `stream` (non-blocking already: `accept4` made it so) a
    /// connection: in a slot, registered.
    fn add(&mut self, stream: TcpStream, registry: &Registry) -> io::Result<()> {
        let index = self.free.pop().unwrap_or(self.connections.len());
        registry.register_with(&stream, Token(index), Interest::READABLE, self.trigger)?;
        let connection = Connection {
            stream,
            pending: Vec::new(),
            sent: 0,
            read_closed: false,
            interest: Interest::READABLE,
        };
        if index == self.connections.len() {
            self.connections.push(Some(connection));
        } else {
            self.connections[index] = Some(connection);
        }
        Ok(())
    }

    fn connection_event(&mut self, event: &Event, registry: &Registry) {
        let index = event.token().0;
        let Some(Some(connection)) = self.connections.get_mut(index) else {
            return; // closed earlier in this batch
        };
        let edge = self.trigger == Trigger::Edge;
        let outcome = if event.is_error() {
            // The socket failed (e.g. reset): take the error to report it;
            // whatever it was, there is no one left to echo to.
            Err(connection
                .stream
                .take_error()
                .ok()
                .flatten()
                .unwrap_or_else(|| io::Error::new(io::ErrorKind::Other, "socket error")))
        } else {
            // Readable, writable, read-closed (the peer's FIN, which a read
            // turns into end of file) and spurious events are all handled
            // the same way: do what the socket allows now.
            connection.drive(&mut self.scratch, edge).and_then(|state| {
                if state == State::Open {
                    connection.update_interest(registry, Token(index), self.trigger)?;
                }
                Ok(state)
            })
        };
        match outcome {
            Ok(State::Open) => {}
            Ok(State::Done) => self.close(index, registry),
            Err(error) => {
                eprintln!("echo_server: connection {index}: {error}");
                self.close(index, registry);
            }
        }
    }

    fn close(&mut self, index: usize, registry: &Registry) {
        if let Some(connection) = self.connections.get_mut(index).and_then(Option::take) {
            // Closing the only fd would also remove the registration, but
            // saying so makes the ownership plain.
            if let Err(e) = registry.deregister(&connection.stream) {
                eprintln!("echo_server: connection {index}: deregister: {e}");
            }
            self.closed.push(index);
            self.served += 1;
            // Dropping the stream closes it, which sends our FIN.
        }
    }
}

/// What is left to do for a connection after an event.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum State {
    Open,
    /// The client finished sending and has everything back: close.
    Done,
}

/// One client.
struct Connection {
    stream: TcpStream,
    /// Bytes read but not yet echoed back; `pending[sent..]` is unsent.
    pending: Vec<u8>,
    sent: usize,
    /// The client shut down its writing side (we read end of file).
    read_closed: bool,
    /// What the connection is registered for now, to skip needless
    /// `reregister` calls.
    interest: Interest,
}

impl Connection {
    fn unsent(&self) -> usize {
        self.pending.len() - self.sent
    }

    /// Echoes as much as the socket allows: writes pending bytes, and reads
    /// more while the pending bytes stay under [`MAX_PENDING`].
    ///
    /// With `edge`, reading goes on until `WouldBlock` (or the bound): an
    /// edge-triggered registration reports no new event for data already
    /// waiting. Without, one read is enough: a level-triggered one reports
    /// the socket again on the next poll.
    fn drive(&mut self, scratch: &mut [u8], edge: bool) -> io::Result<State> {
        self.flush()?;
        while !self.read_closed && self.unsent() < MAX_PENDING {
            match self.stream.read(scratch) {
                Ok(0) => self.read_closed = true,
                Ok(n) => {
                    self.pending.extend_from_slice(&scratch[..n]);
                    self.flush()?;
                    if !edge {
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.read_closed && self.unsent() == 0 {
            return Ok(State::Done);
        }
        Ok(State::Open)
    }

    /// Writes pending bytes until there are none or the socket would block.
    fn flush(&mut self) -> io::Result<()> {
        while self.sent < self.pending.len() {
            match self.stream.write(&self.pending[self.sent..]) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.sent == self.pending.len() {
            // All sent: reuse the buffer from its start.
            self.pending.clear();
            self.sent = 0;
        } else if self.sent > MAX_PENDING {
            // Keep the buffer from creeping forward forever.
            self.pending.drain(..self.sent);
            self.sent = 0;
        }
        Ok(())
    }

    /// Asks for what the connection can use now: `WRITABLE` while bytes
    /// wait to be sent, `READABLE` while the client may send more and the
    /// pending bytes are under the bound. Never empty: a connection with
    /// neither is `Done` and closed instead.
    fn update_interest(
        &mut self,
        registry: &Registry,
        token: Token,
        trigger: Trigger,
    ) -> io::Result<()> {
        let mut interest = Interest::empty();
        if !self.read_closed && self.unsent() < MAX_PENDING {
            interest |= Interest::READABLE;
        }
        if self.unsent() > 0 {
            interest |= Interest::WRITABLE;
        }
        if interest != self.interest && !interest.is_empty() {
            registry.reregister_with(&self.stream, token, interest, trigger)?;
            self.interest = interest;
        }
        Ok(())
    }
}
