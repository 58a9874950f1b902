//! `evq::net`'s TCP and UDP sockets: real loopback sockets, non-blocking
//! and close-on-exec from birth, registered with a real `Poll`. (Unix
//! sockets and pipes: `net_unix.rs`.)

mod util;

use evq::net::{TcpListener, TcpStream, UdpSocket};
use evq::{Events, Interest, Poll, Token};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Ipv6Addr, Shutdown, SocketAddr};
use std::time::Instant;
use util::{expect_event, PATIENCE};
#[cfg(unix)]
use {
    std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd},
    util::{assert_born_right, is_nonblocking},
};

fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
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

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn tcp_sockets_are_nonblocking_and_close_on_exec_from_birth() {
    let listener = TcpListener::bind(localhost()).unwrap();
    #[cfg(unix)]
    assert_born_right(&listener, "TcpListener::bind");
    // Windows cannot be asked for a socket's mode (nor this test for its
    // inheritability, which WSA_FLAG_NO_HANDLE_INHERIT sets): there, and
    // here too, non-blocking shows as WouldBlock where a blocking socket
    // would wait.
    let nobody = listener.accept().unwrap_err();
    assert_eq!(nobody.kind(), ErrorKind::WouldBlock, "{nobody}");
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    #[cfg(unix)]
    assert_born_right(&client, "TcpStream::connect");

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&listener, Token(0), Interest::READABLE)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(0));
    let (server, peer) = listener.accept().unwrap();
    #[cfg(unix)]
    assert_born_right(&server, "TcpListener::accept");
    assert_eq!(peer, client.local_addr().unwrap());
    let mut buf = [0; 1];
    for stream in [&server, &client] {
        let nothing = (&*stream).read(&mut buf).unwrap_err();
        assert_eq!(nothing.kind(), ErrorKind::WouldBlock, "{nothing}");
    }
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
    // Drained: edge-triggered, the next event needs the WouldBlock (on
    // Windows, where evq's own read re-arms the registration with it).
    assert_eq!(
        (&server).read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
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

// Unix only: Windows clamps the backlog to a maximum of its own that this
// test cannot read, and refuses (rather than retries) a connection that
// finds the queue full.
#[cfg(unix)]
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
    #[cfg(unix)]
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
    // Drained to WouldBlock, as edge-triggered registrations need.
    assert_eq!(b.recv(&mut buf).unwrap_err().kind(), ErrorKind::WouldBlock);

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

#[cfg(unix)]
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
}

#[cfg(windows)]
#[test]
fn types_convert_to_and_from_std_and_owned_sockets_keeping_the_socket() {
    use std::os::windows::io::{AsRawSocket, FromRawSocket, IntoRawSocket, OwnedSocket};

    let listener = TcpListener::bind(localhost()).unwrap();
    let socket = listener.as_raw_socket();
    let std_listener = std::net::TcpListener::from(listener);
    assert_eq!(std_listener.as_raw_socket(), socket);
    let listener = TcpListener::from_std(std_listener);
    let owned = OwnedSocket::from(listener);
    assert_eq!(owned.as_raw_socket(), socket);
    let listener = TcpListener::from(owned);
    let raw = listener.into_raw_socket();
    // SAFETY: `raw` came from into_raw_socket just above; nothing else
    // owns it.
    let listener = unsafe { TcpListener::from_raw_socket(raw) };
    assert_eq!(listener.as_raw_socket(), socket);
    // Windows cannot be asked for the mode: the conversions kept it if an
    // accept with nobody waiting still returns WouldBlock.
    let nobody = listener.accept().unwrap_err();
    assert_eq!(
        nobody.kind(),
        ErrorKind::WouldBlock,
        "conversions keep the mode"
    );

    let addr = listener.local_addr().unwrap();
    let std_stream = std::net::TcpStream::connect(addr).unwrap();
    std_stream.set_nonblocking(true).unwrap();
    let stream = TcpStream::from(std_stream);
    let mut buf = [0; 1];
    assert_eq!(
        (&stream).read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    assert!(format!("{stream:?}").contains("TcpStream"));

    let udp = UdpSocket::from(std::net::UdpSocket::from(
        UdpSocket::bind(localhost()).unwrap(),
    ));
    assert_eq!(
        udp.recv(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
}
