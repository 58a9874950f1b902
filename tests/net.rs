//! `evq::net`: real loopback and Unix sockets and pipes, non-blocking and
//! close-on-exec from birth, registered with a real `Poll`.

mod util;

use evq::net::{pipe, TcpListener, TcpStream, UdpSocket, UnixDatagram, UnixListener, UnixStream};
use evq::{Events, Interest, Poll, Token};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv6Addr, Shutdown, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::PathBuf;
use std::time::Instant;
use util::{expect_event, is_cloexec, is_nonblocking, PATIENCE};

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

/// Asserts that `fd` is non-blocking and close-on-exec.
fn assert_born_right(fd: &impl AsRawFd, what: &str) {
    assert!(is_nonblocking(fd), "{what} is not O_NONBLOCK");
    assert!(is_cloexec(fd), "{what} is not FD_CLOEXEC");
}

/// Waits for `stream`'s connect to finish (a writable event), then returns
/// how it went: the pending error, or the peer's address.
fn finish_connect(poll: &mut Poll, stream: &TcpStream, token: Token) -> io::Result<SocketAddr> {
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(stream, token, Interest::WRITABLE)
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    loop {
        let event = expect_event(poll, &mut events, token);
        assert!(
            event.is_writable() || event.is_error(),
            "connect finished with {event:?}"
        );
        if let Some(error) = stream.take_error()? {
            return Err(error);
        }
        match stream.peer_addr() {
            // A spurious event: the connect is still in progress.
            Err(e) if e.kind() == ErrorKind::NotConnected && Instant::now() < deadline => {}
            other => return other,
        }
    }
}

/// A path for a Unix socket in the temporary directory, unique to this
/// process and `name`, with no file there yet.
fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("evq-net-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn tcp_sockets_are_nonblocking_and_close_on_exec_from_birth() {
    let listener = TcpListener::bind(localhost()).unwrap();
    assert_born_right(&listener, "TcpListener::bind");
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    assert_born_right(&client, "TcpStream::connect");

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&listener, Token(0), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(0));
    let (server, peer) = listener.accept().unwrap();
    assert_born_right(&server, "TcpListener::accept");
    assert_eq!(peer, client.local_addr().unwrap());
    // Nobody else is waiting: WouldBlock, not a hang.
    let again = listener.accept().unwrap_err();
    assert_eq!(again.kind(), ErrorKind::WouldBlock, "{again}");
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn binding_an_address_in_use_is_addr_in_use() {
    // SO_REUSEADDR lets a port in TIME_WAIT be reused, not a listening one.
    let first = TcpListener::bind(localhost()).unwrap();
    let taken = first.local_addr().unwrap();
    let error = TcpListener::bind(taken).map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    let udp = UdpSocket::bind(localhost()).unwrap();
    let error = UdpSocket::bind(udp.local_addr().unwrap())
        .map(drop)
        .unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    let path = socket_path("in-use");
    let _listener = UnixListener::bind(&path).unwrap();
    let error = UnixListener::bind(&path).map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    std::fs::remove_file(&path).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn connect_to_a_listening_port_reports_writable_then_peer_addr() {
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let stream = TcpStream::connect(addr).unwrap();
    let mut poll = Poll::new().unwrap();
    assert_eq!(finish_connect(&mut poll, &stream, Token(1)).unwrap(), addr);
    assert!(stream.take_error().unwrap().is_none());
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue reads SO_ERROR itself when it reports the error event, which clears \
              it: take_error() is then None (../shared/libkqueue/README.md)"
)]
fn connect_to_a_closed_port_reports_connection_refused_through_take_error() {
    // A port that was just free: nothing listens there now.
    let addr = TcpListener::bind(localhost())
        .unwrap()
        .local_addr()
        .unwrap();
    let refused = match TcpStream::connect(addr) {
        // Some kernels may refuse at once; the answer must be the same.
        Err(error) => error,
        Ok(stream) => {
            let mut poll = Poll::new().unwrap();
            let error = finish_connect(&mut poll, &stream, Token(1)).unwrap_err();
            let not_connected = stream.peer_addr().unwrap_err();
            assert_eq!(not_connected.kind(), ErrorKind::NotConnected);
            error
        }
    };
    assert_eq!(refused.kind(), ErrorKind::ConnectionRefused, "{refused}");
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn tcp_streams_read_write_peek_and_shut_down() {
    let listener = TcpListener::bind(localhost()).unwrap();
    let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let mut poll = Poll::new().unwrap();
    finish_connect(&mut poll, &client, Token(1)).unwrap();
    let (server, _) = listener.accept().unwrap();
    poll.registry()
        .register(&server, Token(2), Interest::READABLE)
        .unwrap();

    client.set_nodelay(true).unwrap();
    assert!(client.nodelay().unwrap());
    let mut buf = [0; 16];
    assert_eq!(
        (&server).read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    client.write_all(b"hello").unwrap();
    expect_event(&mut poll, &mut Events::with_capacity(8), Token(2));
    assert_eq!(server.peek(&mut buf).unwrap(), 5);
    // Read through a shared reference: `&TcpStream` is `Read` too.
    assert_eq!((&server).read(&mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");
    (&server).write_all(b"back").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let echoed = read_until_eof_or_blocked(&mut client, &mut poll, Token(1));
    assert_eq!(echoed, b"back");
    // The client's half-close reaches the server as end of file.
    let mut events = Events::with_capacity(8);
    expect_event(&mut poll, &mut events, Token(2));
    assert_eq!((&server).read(&mut buf).unwrap(), 0);
}

/// Reads what `stream` has, waiting for readability when it has nothing.
fn read_until_eof_or_blocked(stream: &mut TcpStream, poll: &mut Poll, token: Token) -> Vec<u8> {
    poll.registry()
        .reregister(&*stream, token, Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(8);
    loop {
        let got = util::drain(&mut *stream);
        if !got.is_empty() {
            return got;
        }
        expect_event(poll, &mut events, token);
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn the_default_backlog_holds_more_than_std_s_128_connections() {
    const CONNECTIONS: usize = 300;
    let somaxconn = match std::fs::read_to_string("/proc/sys/net/core/somaxconn") {
        Ok(text) => text.trim().parse::<usize>().unwrap(),
        Err(e) => {
            eprintln!("skipped: cannot read /proc/sys/net/core/somaxconn ({e}), the kernel's cap on the backlog");
            return;
        }
    };
    if somaxconn < CONNECTIONS {
        eprintln!(
            "skipped: net.core.somaxconn is {somaxconn}, which caps every listen backlog \
             below the {CONNECTIONS} connections this test queues"
        );
        return;
    }
    let listener = TcpListener::bind(localhost()).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut poll = Poll::new().unwrap();
    let streams: Vec<TcpStream> = (0..CONNECTIONS)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    for (i, stream) in streams.iter().enumerate() {
        poll.registry()
            .register(stream, Token(i), Interest::WRITABLE)
            .unwrap();
    }
    // Every connect completes with nobody accepting: the kernel queues
    // them all. (Past a full queue, Linux drops the SYN and the client
    // waits for its retransmit.)
    let mut connected = vec![false; CONNECTIONS];
    let mut events = Events::with_capacity(1024);
    let deadline = Instant::now() + PATIENCE;
    while connected.iter().any(|c| !c) {
        let left = deadline.saturating_duration_since(Instant::now());
        let count = connected.iter().filter(|c| **c).count();
        assert!(
            !left.is_zero(),
            "only {count} of {CONNECTIONS} connects completed"
        );
        poll.poll(&mut events, Some(left)).unwrap();
        for event in &events {
            let stream = &streams[event.token().0];
            assert!(stream.take_error().unwrap().is_none(), "{event:?}");
            connected[event.token().0] = stream.peer_addr().is_ok();
        }
    }
    let accepted = std::iter::from_fn(|| listener.accept().ok()).count();
    assert_eq!(accepted, CONNECTIONS);
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn udp_sockets_send_receive_and_peek() {
    let a = UdpSocket::bind(localhost()).unwrap();
    let b = UdpSocket::bind(localhost()).unwrap();
    assert_born_right(&a, "UdpSocket::bind");
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&b, Token(0), Interest::READABLE)
        .unwrap();
    let mut buf = [0; 16];
    assert_eq!(b.recv(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);

    a.send_to(b"one", b.local_addr().unwrap()).unwrap();
    expect_event(&mut poll, &mut events, Token(0));
    assert_eq!(b.peek(&mut buf).unwrap(), 3);
    assert_eq!(b.peek_from(&mut buf).unwrap(), (3, a.local_addr().unwrap()));
    assert_eq!(b.recv_from(&mut buf).unwrap(), (3, a.local_addr().unwrap()));
    assert_eq!(&buf[..3], b"one");

    a.connect(b.local_addr().unwrap()).unwrap();
    assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
    a.send(b"two").unwrap();
    expect_event(&mut poll, &mut events, Token(0));
    assert_eq!(b.recv(&mut buf).unwrap(), 3);
    assert_eq!(&buf[..3], b"two");
    assert!(a.take_error().unwrap().is_none());
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn ipv6_loopback_works_where_the_host_has_it() {
    let addr = SocketAddr::from((Ipv6Addr::LOCALHOST, 0));
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(e) if e.kind() == ErrorKind::AddrNotAvailable => {
            eprintln!("skipped: no IPv6 loopback on this host ({e})");
            return;
        }
        Err(e) => panic!("bind [::1]:0: {e}"),
    };
    let bound = listener.local_addr().unwrap();
    assert_eq!(bound.ip(), Ipv6Addr::LOCALHOST);
    assert_ne!(bound.port(), 0);
    let stream = TcpStream::connect(bound).unwrap();
    let mut poll = Poll::new().unwrap();
    assert_eq!(finish_connect(&mut poll, &stream, Token(1)).unwrap(), bound);
    let (_, peer) = listener.accept().unwrap();
    assert_eq!(peer, stream.local_addr().unwrap());
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn unix_listener_accepts_nonblocking_close_on_exec_streams() {
    let path = socket_path("listener");
    let listener = UnixListener::bind(&path).unwrap();
    assert_born_right(&listener, "UnixListener::bind");
    assert_eq!(
        listener.local_addr().unwrap().as_pathname(),
        Some(path.as_path())
    );
    assert_eq!(listener.accept().unwrap_err().kind(), ErrorKind::WouldBlock);
    let mut client = UnixStream::connect(&path).unwrap();
    assert_born_right(&client, "UnixStream::connect");

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&listener, Token(0), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(0));
    let (server, peer) = listener.accept().unwrap();
    assert_born_right(&server, "UnixListener::accept");
    assert!(peer.is_unnamed(), "{peer:?}");

    client.write_all(b"ping").unwrap();
    poll.registry()
        .register(&server, Token(1), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(1));
    assert_eq!(util::drain(&server), b"ping");
    std::fs::remove_file(&path).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn unix_stream_pairs_are_connected_both_ways() {
    let (a, b) = UnixStream::pair().unwrap();
    assert_born_right(&a, "UnixStream::pair");
    assert_born_right(&b, "UnixStream::pair");
    (&a).write_all(b"to b").unwrap();
    (&b).write_all(b"to a").unwrap();
    assert_eq!(util::drain(&b), b"to b");
    assert_eq!(util::drain(&a), b"to a");
    a.shutdown(Shutdown::Write).unwrap();
    let mut buf = [0; 4];
    assert_eq!((&b).read(&mut buf).unwrap(), 0);
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn unix_datagrams_bound_unbound_and_paired() {
    let path = socket_path("datagram");
    let bound = UnixDatagram::bind(&path).unwrap();
    assert_born_right(&bound, "UnixDatagram::bind");
    let unbound = UnixDatagram::unbound().unwrap();
    assert_born_right(&unbound, "UnixDatagram::unbound");
    let mut buf = [0; 16];
    assert_eq!(
        bound.recv(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    unbound.send_to(b"to path", &path).unwrap();
    let (n, from) = bound.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"to path");
    assert!(from.is_unnamed(), "{from:?}");
    unbound.connect(&path).unwrap();
    unbound.send(b"connected").unwrap();
    let n = bound.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"connected");
    std::fs::remove_file(&path).unwrap();

    let (a, b) = UnixDatagram::pair().unwrap();
    assert_born_right(&a, "UnixDatagram::pair");
    a.send(b"paired").unwrap();
    let n = b.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"paired");
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn bad_unix_paths_are_invalid_input_not_a_panic() {
    let too_long = std::env::temp_dir().join("x".repeat(200));
    let with_nul = std::env::temp_dir().join("evq\0net");
    for path in [&too_long, &with_nul] {
        let errors = [
            UnixListener::bind(path).map(drop).unwrap_err(),
            UnixStream::connect(path).map(drop).unwrap_err(),
            UnixDatagram::bind(path).map(drop).unwrap_err(),
        ];
        for error in errors {
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{path:?}: {error}");
        }
    }
    let message = UnixListener::bind(&too_long).map(drop).unwrap_err();
    assert!(
        message.to_string().contains("too long") || message.to_string().contains("limit"),
        "{message}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn pipes_are_nonblocking_close_on_exec_and_report_readable() {
    let (mut sender, mut receiver) = pipe::new().unwrap();
    assert_born_right(&sender, "pipe Sender");
    assert_born_right(&receiver, "pipe Receiver");
    let mut buf = [0; 8];
    assert_eq!(
        receiver.read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&receiver, Token(0), Interest::READABLE)
        .unwrap();
    sender.write_all(b"through").unwrap();
    expect_event(&mut poll, &mut events, Token(0));
    assert_eq!(receiver.read(&mut buf).unwrap(), 7);
    assert_eq!(&buf[..7], b"through");

    // A full pipe: the writer gets WouldBlock instead of waiting.
    let chunk = [0u8; 4096];
    let mut written = 0;
    let full = loop {
        match sender.write(&chunk) {
            Ok(n) => written += n,
            Err(e) => break e,
        }
    };
    assert_eq!(full.kind(), ErrorKind::WouldBlock);
    drop(sender);
    assert_eq!(util::drain(&receiver).len(), written);
    assert_eq!(receiver.read(&mut buf).unwrap(), 0, "end of file");
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn types_convert_to_and_from_std_and_owned_fds_keeping_the_descriptor() {
    let listener = TcpListener::bind(localhost()).unwrap();
    let fd = listener.as_raw_fd();
    let std_listener = std::net::TcpListener::from(listener);
    assert_eq!(std_listener.as_raw_fd(), fd);
    let listener = TcpListener::from_std(std_listener);
    let owned = OwnedFd::from(listener);
    assert_eq!(owned.as_raw_fd(), fd);
    let listener = TcpListener::from(owned);
    let raw = listener.into_raw_fd();
    // SAFETY: `raw` came from into_raw_fd just above; nothing else owns it.
    let listener = unsafe { TcpListener::from_raw_fd(raw) };
    assert_eq!(listener.as_raw_fd(), fd);
    assert!(is_nonblocking(&listener), "conversions keep the mode");
    let addr = listener.local_addr().unwrap();

    // from_std keeps the mode the owner set: a blocking std stream stays
    // blocking (documented), a non-blocking one is ready to register.
    let blocking = std::net::TcpStream::connect(addr).unwrap();
    let stream = TcpStream::from_std(blocking);
    assert!(!is_nonblocking(&stream));
    let std_stream = std::net::TcpStream::from(stream);
    std_stream.set_nonblocking(true).unwrap();
    let stream = TcpStream::from(std_stream);
    assert!(is_nonblocking(&stream));
    assert!(format!("{stream:?}").contains("TcpStream"));

    let udp = UdpSocket::from(std::net::UdpSocket::from(
        UdpSocket::bind(localhost()).unwrap(),
    ));
    assert!(is_nonblocking(&udp));
    let (a, _b) = UnixStream::pair().unwrap();
    let a = UnixStream::from(std::os::unix::net::UnixStream::from(a));
    assert!(is_nonblocking(&a));
    let (d, _e) = UnixDatagram::pair().unwrap();
    let d = UnixDatagram::from(OwnedFd::from(d));
    assert!(is_nonblocking(&d));
    let (sender, receiver) = pipe::new().unwrap();
    let sender = pipe::Sender::from(std::fs::File::from(sender));
    let receiver = pipe::Receiver::from(OwnedFd::from(receiver));
    assert!(is_nonblocking(&sender) && is_nonblocking(&receiver));
}
