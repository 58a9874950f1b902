//! S7 `echo`: a TCP echo server on 127.0.0.1, one thread running the loop
//! under test, driven by a pool of client threads with blocking sockets.
//! Each client thread owns some of the connections and, round after round,
//! sends one message on each and reads each echo back, so every connection
//! has one request in flight. Metric: ns per request (requests/s is its
//! inverse); syscalls are the server thread's, per request.
//!
//! The server is edge-triggered everywhere: it reads until `WouldBlock`,
//! writes back what it read, and asks for writability only while a reply
//! is left over, as a real server must.

use super::{Case, CAPACITY};
use crate::cli::Options;
use crate::event_loop::{EventLoop, Interest, LoopKind, Mode};
use crate::sample::{broken, Meter, Sample};
use crate::syscalls::{Counts, Scope};
use crate::with_loop;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Instant;

/// The listener's token; connection `i` has token `i + 1`.
const LISTENER: usize = 0;

/// One (message size, connections) pair.
#[derive(Debug)]
pub struct Echo {
    size: usize,
    connections: usize,
    client_threads: usize,
}

/// The cases: every size × connection count.
pub fn cases(options: &Options) -> io::Result<Vec<Box<dyn Case>>> {
    let mut cases: Vec<Box<dyn Case>> = Vec::new();
    for &size in &options.echo_sizes {
        for &connections in &options.echo_connections {
            let client_threads = options.echo_client_threads.clamp(1, connections.max(1));
            cases.push(Box::new(Echo {
                size,
                connections,
                client_threads,
            }));
        }
    }
    Ok(cases)
}

/// A server-side connection and the reply bytes it still owes.
struct Connection {
    stream: TcpStream,
    owed: Vec<u8>,
    wants_write: bool,
}

/// What the server did, for the cross-loop check.
struct Served {
    bytes: u64,
    syscalls: Option<Counts>,
}

/// Writes as much of `owed` as the socket takes.
fn flush(connection: &mut Connection) -> io::Result<()> {
    while !connection.owed.is_empty() {
        match connection.stream.write(&connection.owed) {
            Ok(n) => {
                connection.owed.drain(..n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Serves `expected` connections until all of them have closed.
fn serve<L: EventLoop>(listener: TcpListener, expected: usize, count: bool) -> io::Result<Served> {
    let mut meter = Meter::new(count, Scope::Thread)?;
    meter.start()?;
    let mut event_loop = L::new(CAPACITY)?;
    event_loop.register(listener.as_raw_fd(), LISTENER, Interest::Read, Mode::Edge)?;
    let mut connections: Vec<Option<Connection>> = Vec::with_capacity(expected);
    let (mut accepted, mut closed, mut bytes) = (0, 0, 0u64);
    let mut buf = vec![0u8; 16 * 1024];
    let mut ready = Vec::with_capacity(CAPACITY);
    while closed < expected {
        ready.clear();
        event_loop.poll(None, |event| ready.push(event))?;
        for event in &ready {
            if event.token == LISTENER {
                loop {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            stream.set_nonblocking(true)?;
                            stream.set_nodelay(true)?;
                            accepted += 1;
                            event_loop.register(
                                stream.as_raw_fd(),
                                connections.len() + 1,
                                Interest::Read,
                                Mode::Edge,
                            )?;
                            connections.push(Some(Connection {
                                stream,
                                owed: Vec::new(),
                                wants_write: false,
                            }));
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
                continue;
            }
            let index = event.token - 1;
            let Some(connection) = connections.get_mut(index).and_then(Option::as_mut) else {
                continue;
            };
            let mut eof = false;
            if event.readable {
                loop {
                    match connection.stream.read(&mut buf) {
                        Ok(0) => {
                            eof = true;
                            break;
                        }
                        Ok(n) => {
                            bytes += n as u64;
                            connection.owed.extend_from_slice(&buf[..n]);
                            flush(connection)?;
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => return Err(e),
                    }
                }
            }
            if event.writable {
                flush(connection)?;
            }
            if eof {
                event_loop.deregister(connection.stream.as_raw_fd())?;
                connections[index] = None;
                closed += 1;
                continue;
            }
            let wants_write = !connection.owed.is_empty();
            if wants_write != connection.wants_write {
                connection.wants_write = wants_write;
                let interest = if wants_write {
                    Interest::ReadWrite
                } else {
                    Interest::Read
                };
                event_loop.reregister(
                    connection.stream.as_raw_fd(),
                    event.token,
                    interest,
                    Mode::Edge,
                )?;
            }
        }
    }
    event_loop.deregister(listener.as_raw_fd())?;
    let (_, syscalls) = meter.stop()?;
    if accepted != expected {
        return Err(broken(format!(
            "echo: accepted {accepted} connections, expected {expected}"
        )));
    }
    Ok(Served { bytes, syscalls })
}

/// Sends one message on every stream, then reads every echo back.
fn request(streams: &mut [TcpStream], message: &[u8], reply: &mut [u8]) -> io::Result<()> {
    for stream in streams.iter_mut() {
        stream.write_all(message)?;
    }
    for stream in streams.iter_mut() {
        stream.read_exact(reply)?;
        if reply != message {
            return Err(broken("echo: reply differs from the request"));
        }
    }
    Ok(())
}

/// One client thread: connects, makes a warm-up request per connection (so
/// all are accepted before timing), waits at the start barrier (even after
/// a failure, so that nobody waits for it in vain), then makes `rounds`
/// requests per connection.
fn client(
    address: SocketAddr,
    connections: usize,
    size: usize,
    rounds: u64,
    start: &Barrier,
) -> io::Result<()> {
    let message = vec![b'x'; size];
    let mut reply = vec![0u8; size];
    let setup = (0..connections)
        .map(|_| {
            let stream = TcpStream::connect(address)?;
            stream.set_nodelay(true)?;
            Ok(stream)
        })
        .collect::<io::Result<Vec<_>>>()
        .and_then(|mut streams| request(&mut streams, &message, &mut reply).map(|()| streams));
    start.wait();
    let mut streams = setup?;
    for _ in 0..rounds {
        request(&mut streams, &message, &mut reply)?;
    }
    Ok(())
}

impl Echo {
    fn run<L: EventLoop>(&mut self, requests: u64, count: bool) -> io::Result<Sample> {
        let rounds = requests.div_ceil(self.connections as u64).max(1);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let address = listener.local_addr()?;
        let expected = self.connections;
        let server = thread::spawn(move || serve::<L>(listener, expected, count));
        let start = Arc::new(Barrier::new(self.client_threads + 1));
        let clients: Vec<_> = (0..self.client_threads)
            .map(|t| {
                // Connections are dealt out round-robin over the threads.
                let mine = (t..self.connections).step_by(self.client_threads).count();
                let (start, size) = (Arc::clone(&start), self.size);
                thread::spawn(move || client(address, mine, size, rounds, &start))
            })
            .collect();
        start.wait();
        let began = Instant::now();
        let mut failure = None;
        for client in clients {
            match client.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failure = Some(e),
                Err(_) => failure = Some(broken("echo: client thread panicked")),
            }
        }
        let elapsed = began.elapsed();
        let served = server
            .join()
            .map_err(|_| broken("echo: server thread panicked"))??;
        if let Some(e) = failure {
            return Err(e);
        }
        let done = rounds * self.connections as u64;
        let all = (rounds + 1) * self.connections as u64;
        if served.bytes != all * self.size as u64 {
            return Err(broken(format!(
                "echo: server echoed {} bytes, expected {}",
                served.bytes,
                all * self.size as u64
            )));
        }
        let mut sample = Sample::new(
            elapsed,
            done,
            vec![("requests", done), ("bytes echoed", served.bytes)],
        );
        sample.syscalls = served.syscalls;
        // The server's count covers the warm-up requests and the accepts too.
        sample.syscall_ops = Some(all);
        Ok(sample)
    }
}

impl Case for Echo {
    fn scenario(&self) -> &'static str {
        "echo"
    }

    fn label(&self) -> String {
        format!("{} B, {} conn", self.size, self.connections)
    }

    fn unit(&self) -> &'static str {
        "request"
    }

    fn note(&self) -> Option<String> {
        Some(format!(
            "{} client thread(s); syscalls are the server thread's",
            self.client_threads
        ))
    }

    fn throughput(&self) -> bool {
        true
    }

    fn initial_ops(&self) -> u64 {
        (self.connections as u64 * 20).max(500)
    }

    fn sample(&mut self, kind: LoopKind, ops: u64, count: bool) -> io::Result<Sample> {
        with_loop!(kind, L => self.run::<L>(ops, count))
    }
}
