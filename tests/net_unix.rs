//! `evq::net`'s Unix sockets and pipes (Unix only): non-blocking and
//! close-on-exec from birth, registered with a real `Poll`.
#![cfg(unix)]

mod util;

use evq::net::{pipe, UnixDatagram, UnixListener, UnixStream};
use evq::{Events, Interest, Poll, Token};
use std::io::{ErrorKind, Read, Write};
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use util::{assert_born_right, expect_event, is_nonblocking};

/// A path for a Unix socket in the temporary directory, unique to this
/// process and `name`, with no file there yet.
fn socket_path(name: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("evq-net-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

#[test]
#[cfg_attr(miri, ignore = "Miri emulates neither socket() nor fcntl(F_GETFL)")]
fn binding_a_unix_path_in_use_is_addr_in_use() {
    let path = socket_path("in-use");
    let _listener = UnixListener::bind(&path).unwrap();
    let error = UnixListener::bind(&path).map(drop).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::AddrInUse, "{error}");
    std::fs::remove_file(&path).unwrap();
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
fn unix_types_convert_to_and_from_std_and_owned_fds_keeping_the_mode() {
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
