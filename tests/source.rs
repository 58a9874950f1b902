//! The `Source` trait from outside the crate: user types made of several
//! fds register as one unit, with one token or a token per part, and fd
//! types register as themselves.

mod util;

use evq::{Error, Events, Interest, Poll, Registry, Source, Token, Trigger};
use std::io::Write;
use util::{expect_event, expect_no_event, stream_pair, Stream};
#[cfg(unix)]
use {std::fs::File, util::pipe};

/// A pipe registered as one unit under one token: the reader for
/// `READABLE`, the writer for `WRITABLE`, each only if asked for. (Pipes
/// are Unix only.)
#[cfg(unix)]
struct Pipe {
    reader: File,
    writer: File,
}

#[cfg(unix)]
impl Pipe {
    fn new() -> Pipe {
        let (reader, writer) = pipe();
        Pipe { reader, writer }
    }
}

#[cfg(unix)]
impl Source for Pipe {
    fn register(
        &self,
        registry: &Registry,
        token: Token,
        _interest: Interest,
        trigger: Trigger,
    ) -> evq::Result<()> {
        registry.register_with(&self.reader, token, Interest::READABLE, trigger)?;
        if let Err(error) = registry.register_with(&self.writer, token, Interest::WRITABLE, trigger)
        {
            registry.deregister(&self.reader)?;
            return Err(error);
        }
        Ok(())
    }

    fn reregister(
        &self,
        registry: &Registry,
        token: Token,
        _interest: Interest,
        trigger: Trigger,
    ) -> evq::Result<()> {
        registry.reregister_with(&self.reader, token, Interest::READABLE, trigger)?;
        registry.reregister_with(&self.writer, token, Interest::WRITABLE, trigger)
    }

    fn deregister(&self, registry: &Registry) -> evq::Result<()> {
        let reader = registry.deregister(&self.reader);
        let writer = registry.deregister(&self.writer);
        reader.and(writer)
    }
}

/// Two stream pairs' near ends, each with its own token: `token` and
/// `token + 1`.
struct TwoSockets {
    first: Stream,
    second: Stream,
}

impl TwoSockets {
    fn tokens(token: Token) -> [Token; 2] {
        [token, Token(token.0 + 1)]
    }
}

impl Source for TwoSockets {
    fn register(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> evq::Result<()> {
        let [first, second] = TwoSockets::tokens(token);
        registry.register_with(&self.first, first, interest, trigger)?;
        if let Err(error) = registry.register_with(&self.second, second, interest, trigger) {
            registry.deregister(&self.first)?;
            return Err(error);
        }
        Ok(())
    }

    fn reregister(
        &self,
        registry: &Registry,
        token: Token,
        interest: Interest,
        trigger: Trigger,
    ) -> evq::Result<()> {
        let [first, second] = TwoSockets::tokens(token);
        registry.reregister_with(&self.first, first, interest, trigger)?;
        registry.reregister_with(&self.second, second, interest, trigger)
    }

    fn deregister(&self, registry: &Registry) -> evq::Result<()> {
        let first = registry.deregister(&self.first);
        let second = registry.deregister(&self.second);
        first.and(second)
    }
}

fn setup() -> (Poll, Events) {
    (Poll::new().expect("Poll::new"), Events::with_capacity(16))
}

#[cfg(unix)]
#[test]
fn a_pipe_pair_registers_as_one_unit_with_one_token() {
    let (mut poll, mut events) = setup();
    let mut pipe = Pipe::new();
    let both = Interest::READABLE | Interest::WRITABLE;
    poll.registry().register(&pipe, Token(3), both).unwrap();

    let event = expect_event(&mut poll, &mut events, Token(3));
    assert!(event.is_writable(), "the empty pipe's writer: {event:?}");

    pipe.writer.write_all(b"x").unwrap();
    loop {
        let event = expect_event(&mut poll, &mut events, Token(3));
        if event.is_readable() {
            break;
        }
    }

    poll.registry().deregister(&pipe).unwrap();
    pipe.writer.write_all(b"y").unwrap();
    expect_no_event(&mut poll, &mut events, Token(3));
    // Both parts are gone: each registers again on its own.
    poll.registry()
        .register(&pipe.reader, Token(4), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&pipe.writer, Token(5), Interest::WRITABLE)
        .unwrap();
}

#[test]
#[cfg_attr(
    miri,
    ignore = "std writes to a UnixStream with send(), which Miri refuses on a socket pair (ENOTSOCK)"
)]
fn a_composite_reports_each_part_with_its_own_token() {
    let (mut poll, mut events) = setup();
    let ((first, mut first_peer), (second, mut second_peer)) = (stream_pair(), stream_pair());
    let sockets = TwoSockets { first, second };
    poll.registry()
        .register(&sockets, Token(10), Interest::READABLE)
        .unwrap();

    second_peer.write_all(b"2").unwrap();
    expect_event(&mut poll, &mut events, Token(11));
    expect_no_event(&mut poll, &mut events, Token(10));
    first_peer.write_all(b"1").unwrap();
    expect_event(&mut poll, &mut events, Token(10));

    // Reregistering moves both parts to the new tokens.
    poll.registry()
        .reregister_with(&sockets, Token(20), Interest::READABLE, Trigger::Level)
        .unwrap();
    let ready = util::poll_when_ready(&mut poll, &mut events, 2);
    let mut tokens: Vec<Token> = ready.iter().map(|e| e.token()).collect();
    tokens.sort();
    assert_eq!(tokens, [Token(20), Token(21)]);

    poll.registry().deregister(&sockets).unwrap();
    expect_no_event(&mut poll, &mut events, Token(20));
    expect_no_event(&mut poll, &mut events, Token(21));
}

#[test]
fn a_composite_whose_part_fails_leaves_nothing_registered() {
    let (poll, _events) = setup();
    let registry = poll.registry();
    let ((first, _a), (second, _b)) = (stream_pair(), stream_pair());
    let sockets = TwoSockets { first, second };
    // The second part is taken already, so the composite cannot register.
    registry
        .register(&sockets.second, Token(99), Interest::READABLE)
        .unwrap();
    let result = registry.register(&sockets, Token(1), Interest::READABLE);
    assert!(
        matches!(result, Err(Error::AlreadyRegistered { .. })),
        "{result:?}"
    );
    // The first part was rolled back: it is free to register.
    registry
        .register(&sockets.first, Token(1), Interest::READABLE)
        .expect("the first part was deregistered again");
}

#[test]
fn an_empty_interest_is_refused_before_any_part_registers() {
    let (poll, _events) = setup();
    let registry = poll.registry();
    let ((first, _a), (second, _b)) = (stream_pair(), stream_pair());
    let sockets = TwoSockets { first, second };
    let result = registry.register(&sockets, Token(1), Interest::empty());
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{result:?}"
    );
    // Also when the trait is called directly, skipping the registry's check.
    let result = Source::register(
        &sockets.first,
        registry,
        Token(1),
        Interest::empty(),
        Trigger::Edge,
    );
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{result:?}"
    );
    registry
        .register(&sockets, Token(1), Interest::READABLE)
        .expect("nothing was registered");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "std writes to a UnixStream with send(), which Miri refuses on a socket pair (ENOTSOCK)"
)]
fn fd_types_and_trait_objects_are_sources() {
    let (mut poll, mut events) = setup();
    let (socket, mut peer) = stream_pair();
    let source: &dyn Source = &socket;
    poll.registry()
        .register(source, Token(7), Interest::READABLE)
        .unwrap();
    peer.write_all(b"x").unwrap();
    expect_event(&mut poll, &mut events, Token(7));
    poll.registry().deregister(source).unwrap();
    #[cfg(unix)]
    let boxed: Box<dyn Source> = Box::new(Pipe::new());
    // No pipes on Windows: a fresh stream, writable too.
    #[cfg(windows)]
    let (boxed, _peer): (Box<dyn Source>, Stream) = {
        let (stream, peer) = stream_pair();
        (Box::new(stream), peer)
    };
    poll.registry()
        .register(&*boxed, Token(8), Interest::WRITABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(8));
}

// Miri has no getsockopt: no check. Windows has no call that tells
// whether a socket is blocking: no check there either.
#[test]
#[cfg(all(debug_assertions, unix, not(miri)))]
fn debug_builds_refuse_to_register_a_blocking_socket() {
    let (poll, _events) = setup();
    let (socket, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let result = poll
        .registry()
        .register(&socket, Token(1), Interest::READABLE);
    match result {
        Err(error @ Error::InvalidInput { .. }) => {
            assert!(error.to_string().contains("blocking"), "{error}");
        }
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    socket.set_nonblocking(true).unwrap();
    poll.registry()
        .register(&socket, Token(1), Interest::READABLE)
        .expect("non-blocking now");
}

#[test]
#[cfg(not(debug_assertions))]
fn release_builds_register_a_blocking_socket_unchecked() {
    let (poll, _events) = setup();
    let (socket, _peer) = blocking_stream_pair();
    poll.registry()
        .register(&socket, Token(1), Interest::READABLE)
        .expect("release builds make no check");
}

/// A connected pair of blocking streams (std's default mode).
#[cfg(all(unix, not(debug_assertions)))]
fn blocking_stream_pair() -> (
    std::os::unix::net::UnixStream,
    std::os::unix::net::UnixStream,
) {
    std::os::unix::net::UnixStream::pair().unwrap()
}

/// A connected pair of blocking streams (std's default mode).
#[cfg(windows)]
fn blocking_stream_pair() -> (std::net::TcpStream, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    (client, listener.accept().unwrap().0)
}

/// Blocking sockets register on Windows in every build: nothing can tell
/// evq whether one is blocking there.
#[cfg(windows)]
#[test]
fn blocking_sockets_register_on_windows() {
    let (poll, _events) = setup();
    let (socket, _peer) = blocking_stream_pair();
    poll.registry()
        .register(&socket, Token(1), Interest::READABLE)
        .expect("no check on Windows");
}

#[cfg(unix)]
#[test]
fn blocking_pipes_register_in_every_build() {
    let (poll, _events) = setup();
    let (reader, _writer) = pipe();
    poll.registry()
        .register(&reader, Token(1), Interest::READABLE)
        .expect("only sockets must be non-blocking");
}
