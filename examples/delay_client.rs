//! Five slow HTTP requests, one thread, one [`evq::Poll`].
//!
//! This is evq's main demo. It sends five HTTP requests to a "delay
//! server", which answers `GET /{delay_ms}/{message}` after `delay_ms`
//! milliseconds with `message` as the body. The requests are sent in the
//! order 5000, 4000, 3000, 2000 and 1000 ms, so the answers arrive in the
//! *reverse* order, and all of them after about 5 seconds in total rather
//! than the 15 that waiting for one after the other would take:
//!
//! ```text
//! $ cargo run --example delay_client
//! response 5 (delay 1000 ms) after 1003 ms: request-5
//! response 4 (delay 2000 ms) after 2002 ms: request-4
//! response 3 (delay 3000 ms) after 3003 ms: request-3
//! response 2 (delay 4000 ms) after 4002 ms: request-2
//! response 1 (delay 5000 ms) after 5002 ms: request-1
//! FINISHED
//! ```
//!
//! What it demonstrates:
//!
//! - one [`Poll`] and one [`Events`] buffer watching several sockets, each
//!   registered with its own [`Token`];
//! - connecting without blocking: [`evq::net::TcpStream::connect`] returns
//!   at once with the connection in progress, all five connect
//!   concurrently, and the first event of each says its connect has
//!   finished; `take_error` and `peer_addr` then say whether it succeeded;
//! - writing a request on a non-blocking socket: the socket is registered
//!   for `READABLE | WRITABLE`, the request is written when the socket
//!   reports writable, a partial write or `WouldBlock` keeps the rest for
//!   the next writable event, and once the request is out the registration
//!   is changed to `READABLE` only ([`Registry::reregister`]);
//! - edge-triggered reading: after each event, read until `WouldBlock`,
//!   accumulating the bytes per connection, since a response may arrive in
//!   any number of pieces and an event may come with nothing to read at all
//!   (readiness is only a hint);
//! - end of file (`read` returning `Ok(0)`) completing a response, which is
//!   then parsed (status line, headers, `Content-Length`, body) and checked;
//! - deregistering each connection when it is done ([`Registry::deregister`]).
//!
//! # The server
//!
//! By default the example starts its own delay server on a background
//! thread, listening on `127.0.0.1` at a port the OS picks. That server is
//! deliberately plain blocking `std` code (one thread per connection, a
//! `sleep` for the delay): only the client is the demo. Pass
//! `--server HOST:PORT` to use another server speaking the same protocol
//! instead.
//!
//! # Options
//!
//! ```text
//! --server HOST:PORT   use this delay server instead of starting one
//! --scale F            multiply every delay by F (default 1.0), e.g. 0.1
//!                      for a quick run: 500, 400, 300, 200, 100 ms
//! -h, --help           print usage
//! ```
//!
//! The program exits with status 0 after printing `FINISHED`, with 1 if a
//! request failed (connection error, bad or unexpected response, timeout)
//! and with 2 for bad arguments.

use evq::net::TcpStream;
use evq::{Event, Events, Interest, Poll, Registry, Token};
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The unscaled delays, in sending order: request 1 waits longest.
const DELAYS_MS: [u64; 5] = [5000, 4000, 3000, 2000, 1000];

/// How long after the longest delay we give up waiting for responses, so a
/// server that never answers (or never accepts the connection) fails the
/// run instead of hanging it.
const GRACE: Duration = Duration::from_secs(30);

/// Responses larger than this are rejected rather than buffered forever.
const MAX_RESPONSE: usize = 1 << 20;

/// The largest `--scale`: 100 turns the 5 s delay into about 8 minutes.
const MAX_SCALE: f64 = 100.0;

const USAGE: &str = "\
usage: delay_client [--server HOST:PORT] [--scale F]

Sends five HTTP requests (GET /{delay_ms}/request-N) with delays of 5000,
4000, 3000, 2000 and 1000 ms to a delay server and prints each response as it
arrives, then FINISHED. All sockets are served by one evq Poll on one thread.

options:
  --server HOST:PORT  use this delay server instead of starting one on
                      127.0.0.1 inside this process
  --scale F           multiply the delays by F (default 1.0, at most 100)
  -h, --help          print this help";

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("delay_client: {message}\n(run with --help for usage)");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("delay_client: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The command line.
struct Options {
    /// `None`: start a delay server in this process.
    server: Option<String>,
    scale: f64,
}

impl Options {
    /// `Ok(None)` means `--help` was asked for.
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
        let mut options = Options {
            server: None,
            scale: 1.0,
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
                "--server" => options.server = Some(value()?),
                "--scale" => {
                    let text = value()?;
                    let scale: f64 = text
                        .parse()
                        .map_err(|_| format!("--scale: {text:?} is not a number"))?;
                    if !(0.0..=MAX_SCALE).contains(&scale) {
                        return Err(format!(
                            "--scale: {text} is out of range (0 to {MAX_SCALE})"
                        ));
                    }
                    options.scale = scale;
                }
                _ => return Err(format!("unexpected argument {arg:?}")),
            }
        }
        Ok(Some(options))
    }
}

fn run(options: &Options) -> Result<(), String> {
    let (addr, host) = match &options.server {
        Some(server) => (resolve(server)?, server.clone()),
        None => {
            let addr =
                delay_server::start().map_err(|e| format!("cannot start the delay server: {e}"))?;
            (addr, addr.to_string())
        }
    };

    let mut poll = Poll::new().map_err(|e| format!("cannot create the poll: {e}"))?;
    let mut events = Events::with_capacity(16);
    let start = Instant::now();

    // Connect and register every request before waiting for any: the
    // delays then run concurrently on the server.
    let mut requests = Vec::with_capacity(DELAYS_MS.len());
    for (index, &delay) in DELAYS_MS.iter().enumerate() {
        let number = index + 1;
        let delay_ms = (delay as f64 * options.scale).round() as u64;
        let request = Request::connect(number, delay_ms, addr, &host, poll.registry())
            .map_err(|e| format!("request {number}: {e}"))?;
        requests.push(request);
    }

    let longest = requests.iter().map(|r| r.delay_ms).max().unwrap_or(0);
    let deadline = start + Duration::from_millis(longest) + GRACE;
    let mut remaining = requests.len();
    let mut failed = 0;

    while remaining > 0 {
        let timeout = deadline.saturating_duration_since(Instant::now());
        poll.poll(&mut events, Some(timeout))
            .map_err(|e| format!("poll failed: {e}"))?;
        if events.is_empty() {
            let pending: Vec<String> = requests
                .iter()
                .filter(|r| !r.done)
                .map(|r| r.number.to_string())
                .collect();
            return Err(format!(
                "timed out after {} ms waiting for request(s) {}",
                start.elapsed().as_millis(),
                pending.join(", ")
            ));
        }
        for event in &events {
            // Tokens are indexes into `requests`; one we don't know, or one
            // for a finished request (an event collected before it was
            // deregistered), is ignored.
            let Some(request) = requests.get_mut(event.token().0) else {
                continue;
            };
            if request.done {
                continue;
            }
            let outcome = match request.on_event(event, poll.registry()) {
                Ok(Progress::Pending) => continue,
                Ok(Progress::Complete(body)) => {
                    println!(
                        "response {} (delay {} ms) after {} ms: {}",
                        request.number,
                        request.delay_ms,
                        start.elapsed().as_millis(),
                        body
                    );
                    Ok(())
                }
                Err(error) => {
                    failed += 1;
                    eprintln!("delay_client: request {}: {error}", request.number);
                    Err(error)
                }
            };
            // Done either way: stop watching the socket before it closes.
            request.done = true;
            remaining -= 1;
            if let Err(e) = poll.registry().deregister(&request.stream) {
                if outcome.is_ok() {
                    return Err(format!("request {}: deregister: {e}", request.number));
                }
            }
        }
    }

    if failed > 0 {
        return Err(format!("{failed} of {} requests failed", requests.len()));
    }
    println!("FINISHED");
    Ok(())
}

/// The first address `server` resolves to.
fn resolve(server: &str) -> Result<SocketAddr, String> {
    server
        .to_socket_addrs()
        .map_err(|e| format!("--server {server:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("--server {server:?}: no address found"))
}

/// One request in flight: its socket and what has been written and read.
struct Request {
    number: usize,
    delay_ms: u64,
    stream: TcpStream,
    /// Whether the non-blocking connect has been seen to succeed.
    connected: bool,
    /// The request bytes, and how many of them have been written.
    out: Vec<u8>,
    written: usize,
    /// Everything read so far; complete at end of file.
    response: Vec<u8>,
    /// The body we expect: the message we sent.
    message: String,
    done: bool,
}

/// What an event did for a request.
enum Progress {
    Pending,
    /// The response is complete and valid; here is its body.
    Complete(String),
}

impl Request {
    /// Connects and registers the socket with `Token(number - 1)` (its index
    /// in the request list), for both directions: the request goes out on
    /// the first writable event.
    fn connect(
        number: usize,
        delay_ms: u64,
        addr: SocketAddr,
        host: &str,
        registry: &Registry,
    ) -> io::Result<Request> {
        // Returns at once, the connection in progress: the socket reports
        // writable when the connect has finished, one way or the other.
        let stream = TcpStream::connect(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("connect to {addr}: {e}")))?;
        // Small requests: send each segment at once instead of waiting for
        // acknowledgements (Nagle).
        stream.set_nodelay(true)?;
        let message = format!("request-{number}");
        let out = format!(
            "GET /{delay_ms}/{message} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
        )
        .into_bytes();
        let request = Request {
            number,
            delay_ms,
            stream,
            connected: false,
            out,
            written: 0,
            response: Vec::new(),
            message,
            done: false,
        };
        registry.register(
            &request.stream,
            request.token(),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(request)
    }

    /// The token this request is registered with.
    fn token(&self) -> Token {
        Token(self.number - 1)
    }

    /// Handles one event: writes what is left of the request, reads what
    /// has arrived, and completes the response at end of file.
    fn on_event(&mut self, event: &Event, registry: &Registry) -> Result<Progress, RequestError> {
        if event.is_error() {
            // The socket's pending error (e.g. connection reset) says more
            // than "error"; reading it also clears it.
            return Err(match self.stream.take_error() {
                Ok(Some(error)) => RequestError::Io(error),
                Ok(None) => RequestError::Io(io::Error::new(
                    io::ErrorKind::Other,
                    "socket error reported by poll",
                )),
                Err(error) => RequestError::Io(error),
            });
        }
        // The first events finish the connect: ask how it went.
        if !self.connected {
            match self.stream.take_error() {
                Ok(None) => {}
                Ok(Some(error)) | Err(error) => return Err(RequestError::Io(error)),
            }
            match self.stream.peer_addr() {
                Ok(_) => self.connected = true,
                // Still connecting: the event was spurious.
                Err(e) if e.kind() == ErrorKind::NotConnected => return Ok(Progress::Pending),
                Err(e) => return Err(RequestError::Io(e)),
            }
        }
        // Any event may mean room to write: try, since a WouldBlock costs
        // nothing and the edge would not come again.
        if self.written < self.out.len() {
            self.write_request(registry)?;
        }
        // Edge-triggered: read until WouldBlock, or the end of the
        // response. Reading before the request is fully out is harmless.
        let mut chunk = [0u8; 4096];
        loop {
            match self.stream.read(&mut chunk) {
                // End of file: the server closed, the response is complete.
                Ok(0) => return self.finish().map(Progress::Complete),
                Ok(n) => {
                    if self.response.len() + n > MAX_RESPONSE {
                        return Err(RequestError::Http(format!(
                            "response larger than {MAX_RESPONSE} bytes"
                        )));
                    }
                    self.response.extend_from_slice(&chunk[..n]);
                }
                // Used up; a spurious event (nothing to read) ends here too.
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(Progress::Pending),
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(RequestError::Io(e)),
            }
        }
    }

    /// Writes what is left of the request, until it is out or WouldBlock.
    fn write_request(&mut self, registry: &Registry) -> Result<(), RequestError> {
        while self.written < self.out.len() {
            match self.stream.write(&self.out[self.written..]) {
                Ok(0) => {
                    return Err(RequestError::Io(io::Error::new(
                        ErrorKind::WriteZero,
                        "the connection accepted no more of the request",
                    )))
                }
                // A partial write: loop to write the rest.
                Ok(n) => self.written += n,
                // The send buffer is full: the next writable event resumes.
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(RequestError::Io(e)),
            }
        }
        // The request is out: stop asking for writable events, which would
        // only wake us for nothing from now on.
        registry
            .reregister(&self.stream, self.token(), Interest::READABLE)
            .map_err(|e| RequestError::Io(e.into()))
    }

    /// Parses and checks the complete response, returning its body.
    fn finish(&self) -> Result<String, RequestError> {
        if self.written < self.out.len() {
            return Err(RequestError::Http(
                "the server closed the connection before the request was sent".into(),
            ));
        }
        let response = parse_response(&self.response).map_err(RequestError::Http)?;
        if response.status != 200 {
            return Err(RequestError::Http(format!(
                "server answered {} {}",
                response.status, response.reason
            )));
        }
        let body = String::from_utf8(response.body)
            .map_err(|_| RequestError::Http("the body is not UTF-8".into()))?;
        if body != self.message {
            return Err(RequestError::Http(format!(
                "expected body {:?}, got {body:?}",
                self.message
            )));
        }
        Ok(body)
    }
}

/// Why a request failed.
enum RequestError {
    /// The connection failed.
    Io(io::Error),
    /// The server answered something that is not the expected response.
    Http(String),
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestError::Io(error) => write!(f, "connection failed: {error}"),
            RequestError::Http(message) => write!(f, "bad response: {message}"),
        }
    }
}

/// The parts of an HTTP response the client checks.
struct Response {
    status: u16,
    reason: String,
    body: Vec<u8>,
}

/// Parses a complete HTTP/1.x response: the whole connection's bytes, up to
/// end of file. With a `Content-Length`, the body must have exactly that
/// length; without one, the body is everything after the headers.
fn parse_response(bytes: &[u8]) -> Result<Response, String> {
    if bytes.is_empty() {
        return Err("the server closed the connection without answering".into());
    }
    let head_end = find(bytes, b"\r\n\r\n").ok_or("the response ends inside its headers")?;
    let head = std::str::from_utf8(&bytes[..head_end])
        .map_err(|_| "the response headers are not UTF-8".to_string())?;
    let body = &bytes[head_end + 4..];
    let mut lines = head.split("\r\n");

    // Status line: `HTTP/1.1 200 OK`.
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP/1.x status line: {status_line:?}"));
    }
    let status = parts
        .next()
        .filter(|code| code.len() == 3)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("bad status code in {status_line:?}"))?;
    let reason = parts.next().unwrap_or_default().to_owned();

    let mut content_length = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("malformed header line {line:?}"))?;
        if name.trim().eq_ignore_ascii_case("content-length") {
            let value = value.trim();
            let length: usize = value
                .parse()
                .map_err(|_| format!("bad Content-Length {value:?}"))?;
            if content_length.is_some_and(|previous| previous != length) {
                return Err("conflicting Content-Length headers".into());
            }
            content_length = Some(length);
        }
    }
    if let Some(length) = content_length {
        if body.len() != length {
            return Err(format!(
                "Content-Length is {length} but the body has {} bytes",
                body.len()
            ));
        }
    }
    Ok(Response {
        status,
        reason,
        body: body.to_vec(),
    })
}

/// Where `needle` first occurs in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The delay server the example starts unless given `--server`: blocking
/// std code on background threads, only here so the demo is
/// self-contained.
mod delay_server {
    use super::find;
    use std::io::{self, Read, Write};
    use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
    use std::thread;
    use std::time::Duration;

    /// Requests may not wait longer than an hour.
    const MAX_DELAY_MS: u64 = 3_600_000;
    /// Requests with longer headers are refused.
    const MAX_HEAD: usize = 8192;

    /// Starts the server on 127.0.0.1 and returns its address.
    pub fn start() -> io::Result<SocketAddr> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        thread::spawn(move || accept_loop(listener));
        Ok(addr)
    }

    fn accept_loop(listener: TcpListener) {
        for stream in listener.incoming() {
            match stream {
                // One thread per connection: each one mostly sleeps.
                Ok(stream) => {
                    thread::spawn(move || {
                        if let Err(e) = serve(stream) {
                            eprintln!("delay server: {e}");
                        }
                    });
                }
                Err(e) => eprintln!("delay server: accept: {e}"),
            }
        }
    }

    fn serve(mut stream: TcpStream) -> io::Result<()> {
        // A client that never finishes its request must not keep the
        // thread forever.
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut head = Vec::new();
        let mut chunk = [0u8; 1024];
        while find(&head, b"\r\n\r\n").is_none() {
            if head.len() > MAX_HEAD {
                return respond(&mut stream, "400 Bad Request", "request too long");
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(()); // the client gave up
            }
            head.extend_from_slice(&chunk[..n]);
        }
        match parse_request(&head) {
            Ok((delay_ms, message)) => {
                thread::sleep(Duration::from_millis(delay_ms));
                respond(&mut stream, "200 OK", &message)
            }
            Err(reason) => respond(&mut stream, "400 Bad Request", reason),
        }
    }

    /// `GET /{delay_ms}/{message} HTTP/1.1` → (delay_ms, message).
    fn parse_request(head: &[u8]) -> Result<(u64, String), &'static str> {
        let head = std::str::from_utf8(head).map_err(|_| "request is not UTF-8")?;
        let request_line = head.split("\r\n").next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let (Some("GET"), Some(path), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("expected: GET /{delay_ms}/{message} HTTP/1.1");
        };
        if !version.starts_with("HTTP/1.") {
            return Err("expected HTTP/1.x");
        }
        let (delay, message) = path
            .strip_prefix('/')
            .and_then(|path| path.split_once('/'))
            .ok_or("expected a path /{delay_ms}/{message}")?;
        let delay_ms = delay
            .parse::<u64>()
            .ok()
            .filter(|&ms| ms <= MAX_DELAY_MS)
            .ok_or("delay_ms must be a number of milliseconds up to an hour")?;
        Ok((delay_ms, message.to_owned()))
    }

    fn respond(stream: &mut TcpStream, status: &str, body: &str) -> io::Result<()> {
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes())?;
        // Send our FIN now: the client reads end of file as "complete".
        stream.shutdown(Shutdown::Write)
    }
}
