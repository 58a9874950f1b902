//! Registering, changing and removing sources: the errors a caller can match
//! on, which sources are accepted, and what the kernel watches afterwards.

mod util;

use evq::{Error, Events, Interest, Poll, Token, Trigger};
use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::net::{TcpListener, TcpStream};
#[cfg(windows)]
use std::os::windows::io::{AsRawSocket, AsSocket, OwnedSocket, RawSocket};
use std::time::Instant;
use util::{
    poll_now, poll_when_ready, reported, reported_when_ready, send, setup, stream_pair, tcp_pair,
    PATIENCE,
};
#[cfg(unix)]
use {
    std::fs::File,
    std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd},
    util::{pipe, reuse_number, Stream},
};
// For /proc/self/limits and the temp files of the epoll-only EPERM tests.
#[cfg(any(target_os = "linux", target_os = "android"))]
use std::fs;
// For the epoll-only EPERM tests.
#[cfg(evq_epoll)]
use {evq::Registry, std::path::PathBuf};
// Only the epoll backend's bindings have eventfd.
#[cfg(evq_epoll)]
use util::{eventfd, eventfd_add};

/// The descriptor an error names for `source`.
#[cfg(unix)]
fn fd_of(source: &impl AsFd) -> RawFd {
    source.as_fd().as_raw_fd()
}

/// The socket an error names for `source` (errors call it `fd` there too).
#[cfg(windows)]
fn fd_of(source: &impl AsSocket) -> RawSocket {
    source.as_socket().as_raw_socket()
}

/// A path under the temp directory that no other test (or test run) uses,
/// removed (as a file or a directory) when dropped.
#[cfg(evq_epoll)] // only the EPERM tests use it
struct TempPath(PathBuf);

#[cfg(evq_epoll)] // only the EPERM tests use it
impl TempPath {
    fn new(name: &str) -> TempPath {
        let unique = format!("evq-registering-{}-{name}", std::process::id());
        TempPath(std::env::temp_dir().join(unique))
    }
}

#[cfg(evq_epoll)] // only the EPERM tests use it
impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0).or_else(|_| fs::remove_dir(&self.0));
    }
}

/// Asserts that registering `source` fails with `EPERM` and a message that
/// names the call and the fd.
// epoll refuses regular files and directories; kqueue watches them
// (EVFILT_READ on a vnode), so this and the tests below are epoll's.
#[cfg(evq_epoll)]
fn assert_refused_with_eperm(registry: &Registry, source: &File) {
    let fd = source.as_raw_fd();
    let error = registry
        .register(source, Token(0), Interest::READABLE)
        .expect_err("epoll cannot watch regular files or directories");
    assert!(matches!(error, Error::Os { .. }), "got {error:?}");
    assert_eq!(error.raw_os_error(), Some(1), "EPERM, got {error:?}");
    assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
    let message = error.to_string();
    let prefix = format!("epoll_ctl(ADD) on fd {fd}: ");
    assert!(message.starts_with(&prefix), "{message:?} lacks {prefix:?}");
    // After `?`, the errno is still there, as with mio.
    let io_error = io::Error::from(error);
    assert_eq!(io_error.raw_os_error(), Some(1), "{io_error:?}");
    assert_eq!(io_error.kind(), io::ErrorKind::PermissionDenied);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn registering_twice_is_an_error() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();

    let second = poll.registry().register(&a, Token(2), Interest::WRITABLE);
    assert!(
        matches!(second, Err(Error::AlreadyRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {second:?}"
    );

    // The failed call left the first registration as it was.
    send(&b, b"x");
    let got = reported_when_ready(&mut poll, &mut events, Token(1));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].is_readable() && !got[0].is_writable(), "{got:?}");
    assert!(reported(&mut poll, &mut events, Token(2)).is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn a_fired_oneshot_registration_is_still_registered() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    let registry = poll.registry();
    registry
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Oneshot)
        .unwrap();
    send(&b, b"x");
    assert_eq!(
        reported_when_ready(&mut poll, &mut events, Token(1)).len(),
        1
    );

    // Disarmed, not removed.
    let again = poll.registry().register(&a, Token(1), Interest::READABLE);
    assert!(
        matches!(again, Err(Error::AlreadyRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {again:?}"
    );
    poll.registry()
        .deregister(&a)
        .expect("deregister the disarmed fd");
}

#[test]
fn reregistering_a_never_registered_fd_is_an_error() {
    let poll = Poll::new().unwrap();
    let (a, _b) = stream_pair();
    let result = poll.registry().reregister(&a, Token(1), Interest::READABLE);
    assert!(
        matches!(result, Err(Error::NotRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {result:?}"
    );
}

#[test]
fn deregistering_a_never_registered_fd_is_an_error() {
    let poll = Poll::new().unwrap();
    let (a, _b) = stream_pair();
    let result = poll.registry().deregister(&a);
    assert!(
        matches!(result, Err(Error::NotRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {result:?}"
    );
}

#[test]
fn deregistering_twice_is_an_error() {
    let poll = Poll::new().unwrap();
    let (a, _b) = stream_pair();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry().deregister(&a).expect("first deregister");
    let second = poll.registry().deregister(&a);
    assert!(
        matches!(second, Err(Error::NotRegistered { fd, .. }) if fd == fd_of(&a)),
        "got {second:?}"
    );
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn an_empty_interest_is_invalid_input() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    let (c, _d) = stream_pair();
    let registry = poll.registry();
    registry.register(&a, Token(1), Interest::READABLE).unwrap();

    for empty in [Interest::empty(), Interest::from_bits_retain(0x80)] {
        let result = registry.register(&c, Token(2), empty);
        assert!(
            matches!(result, Err(Error::InvalidInput { .. })),
            "register with {empty:?}: got {result:?}"
        );
        let result = registry.reregister(&a, Token(3), empty);
        assert!(
            matches!(result, Err(Error::InvalidInput { .. })),
            "reregister with {empty:?}: got {result:?}"
        );
    }

    // Nothing was asked of the OS: `c` is not registered, and `a` still
    // reports with its original token.
    assert!(matches!(
        poll.registry().deregister(&c),
        Err(Error::NotRegistered { .. })
    ));
    send(&b, b"x");
    assert_eq!(
        reported_when_ready(&mut poll, &mut events, Token(1)).len(),
        1
    );

    // Unknown bits next to a known one are ignored, not rejected.
    let mixed = Interest::from_bits_retain(0x80) | Interest::READABLE;
    poll.registry().register(&c, Token(2), mixed).unwrap();
}

#[cfg(evq_epoll)] // kqueue watches regular files
#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn a_regular_file_is_refused_with_eperm() {
    let mut poll = Poll::new().unwrap();
    let path = TempPath::new("regular-file");
    let file = File::create(&path.0).expect("create a temp file");
    if poll.backend() == evq::Backend::IoUring {
        return assert_reported_ready_once(&mut poll, &file);
    }
    assert_refused_with_eperm(poll.registry(), &file);
}

/// io_uring's difference (see `Registry`): a regular file or directory is
/// accepted, reported ready once, and then silent while still registered.
#[cfg(evq_epoll)]
fn assert_reported_ready_once(poll: &mut Poll, source: &File) {
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(source, Token(3), Interest::READABLE)
        .unwrap();
    let first = reported(poll, &mut events, Token(3));
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(first[0].is_readable(), "{first:?}");
    assert!(reported(poll, &mut events, Token(3)).is_empty());
    assert!(matches!(
        poll.registry()
            .register(source, Token(3), Interest::READABLE),
        Err(Error::AlreadyRegistered { .. })
    ));
    poll.registry().deregister(source).unwrap();
}

#[cfg(evq_epoll)] // kqueue watches directories
#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn a_directory_is_refused_with_eperm() {
    let mut poll = Poll::new().unwrap();
    let path = TempPath::new("directory");
    fs::create_dir(&path.0).expect("create a temp directory");
    let dir = File::open(&path.0).expect("open the directory");
    if poll.backend() == evq::Backend::IoUring {
        return assert_reported_ready_once(&mut poll, &dir);
    }
    assert_refused_with_eperm(poll.registry(), &dir);
}

#[cfg(unix)]
#[test]
#[cfg_attr(miri, ignore = "Miri has no TCP")]
fn every_kind_of_source_registers_without_wrappers() {
    let (mut poll, mut events) = setup();
    let registry = poll.registry();
    let readable = Interest::READABLE;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    registry.register(&listener, Token(0), readable).unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();

    let (mut tcp_client, tcp_server) = tcp_pair();
    registry.register(&tcp_server, Token(1), readable).unwrap();
    tcp_client.write_all(b"x").unwrap();

    let (unix, unix_peer) = stream_pair();
    registry.register(&unix, Token(2), readable).unwrap();
    send(&unix_peer, b"x");

    // Tokens 3 to 5: an OwnedFd, a BorrowedFd and a File. eventfds on
    // epoll; kqueue platforms have no eventfd, so pipe read ends there.
    #[cfg(evq_epoll)]
    let _eventfds = {
        let owned: OwnedFd = eventfd();
        registry.register(&owned, Token(3), readable).unwrap();
        eventfd_add(&owned, 1);

        let borrowed_owner = eventfd();
        let borrowed = borrowed_owner.as_fd();
        registry.register(&borrowed, Token(4), readable).unwrap();
        eventfd_add(&borrowed_owner, 1);

        let file = File::from(eventfd());
        registry.register(&file, Token(5), readable).unwrap();
        (&file).write_all(&1u64.to_ne_bytes()).unwrap();
        (owned, borrowed_owner, file)
    };
    #[cfg(evq_kqueue)]
    let _pipes = {
        let (reader, mut owned_writer) = pipe();
        let owned = OwnedFd::from(reader);
        registry.register(&owned, Token(3), readable).unwrap();
        owned_writer.write_all(b"x").unwrap();

        let (borrowed_owner, mut borrowed_writer) = pipe();
        let borrowed = borrowed_owner.as_fd();
        registry.register(&borrowed, Token(4), readable).unwrap();
        borrowed_writer.write_all(b"x").unwrap();

        let (reader, mut file_writer) = pipe();
        let file = File::from(OwnedFd::from(reader));
        registry.register(&file, Token(5), readable).unwrap();
        file_writer.write_all(b"x").unwrap();
        // The writers stay open: the readers see data, not end of file.
        let writers = (owned_writer, borrowed_writer, file_writer);
        (owned, borrowed_owner, file, writers)
    };

    let (pipe_reader, mut pipe_writer) = pipe();
    registry.register(&pipe_reader, Token(6), readable).unwrap();
    pipe_writer.write_all(b"x").unwrap();

    let (dynamic, dynamic_peer) = stream_pair();
    let dynamic: &dyn AsFd = &dynamic;
    registry.register(dynamic, Token(7), readable).unwrap();
    send(&dynamic_peer, b"x");

    let expected: HashSet<Token> = (0..8).map(Token).collect();
    let seen = collect_until(&mut poll, &mut events, &expected);
    assert_eq!(seen, expected);
}

#[cfg(windows)]
#[test]
fn every_kind_of_socket_registers_without_wrappers() {
    let (mut poll, mut events) = setup();
    let registry = poll.registry();
    let readable = Interest::READABLE;

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    registry.register(&listener, Token(0), readable).unwrap();
    let _client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();

    let (mut tcp_client, tcp_server) = tcp_pair();
    registry.register(&tcp_server, Token(1), readable).unwrap();
    tcp_client.write_all(b"x").unwrap();

    let (stream, stream_peer) = stream_pair();
    registry.register(&stream, Token(2), readable).unwrap();
    send(&stream_peer, b"x");

    // Tokens 3 to 5: an OwnedSocket, a BorrowedSocket and a UdpSocket,
    // each sent a datagram.
    let udp = || {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_nonblocking(true).unwrap();
        socket
    };
    let sender = udp();
    let owned_udp = udp();
    sender
        .send_to(b"x", owned_udp.local_addr().unwrap())
        .unwrap();
    let owned = OwnedSocket::from(owned_udp);
    registry.register(&owned, Token(3), readable).unwrap();
    let borrowed_owner = udp();
    registry
        .register(&borrowed_owner.as_socket(), Token(4), readable)
        .unwrap();
    sender
        .send_to(b"x", borrowed_owner.local_addr().unwrap())
        .unwrap();
    let plain = udp();
    registry.register(&plain, Token(5), readable).unwrap();
    sender.send_to(b"x", plain.local_addr().unwrap()).unwrap();

    let evq_udp = evq::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap()).unwrap();
    registry.register(&evq_udp, Token(6), readable).unwrap();
    sender.send_to(b"x", evq_udp.local_addr().unwrap()).unwrap();

    let (dynamic, dynamic_peer) = stream_pair();
    let dynamic: &dyn AsSocket = &dynamic;
    registry.register(dynamic, Token(7), readable).unwrap();
    send(&dynamic_peer, b"x");

    let expected: HashSet<Token> = (0..8).map(Token).collect();
    let seen = collect_until(&mut poll, &mut events, &expected);
    assert_eq!(seen, expected);
}

/// Polls until every token in `expected` was reported readable (TCP may
/// take a moment), and returns the tokens seen.
fn collect_until(
    poll: &mut Poll,
    events: &mut Events,
    expected: &HashSet<Token>,
) -> HashSet<Token> {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = HashSet::new();
    while !expected.is_subset(&seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "only {seen:?} of {expected:?} reported");
        poll.poll(events, Some(left)).expect("poll");
        for event in events.iter() {
            assert!(event.is_readable(), "{event:?}");
            seen.insert(event.token());
        }
    }
    seen
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn a_deregistered_source_is_never_reported_again() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry()
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Level)
        .unwrap();
    // Ready, and the event not collected, when deregister is called.
    send(&b, b"x");
    poll.registry().deregister(&a).unwrap();
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
    send(&b, b"x");
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn reregistering_changes_the_token_and_the_interest() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();
    send(&b, b"x");
    assert_eq!(
        reported_when_ready(&mut poll, &mut events, Token(1)).len(),
        1
    );

    // `a` is still readable (nothing was read) and always writable.
    poll.registry()
        .reregister(&a, Token(2), Interest::WRITABLE)
        .unwrap();
    let all = poll_when_ready(&mut poll, &mut events, 1);
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].token(), Token(2));
    assert!(all[0].is_writable(), "{all:?}");
    assert!(!all[0].is_readable(), "readability is no longer asked for");

    // New data is not of interest any more, under either token.
    send(&b, b"x");
    assert!(poll_now(&mut poll, &mut events).is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn closing_a_registered_fd_removes_it() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry()
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Level)
        .unwrap();
    send(&b, b"x");
    drop(a);
    #[cfg(unix)]
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
    // On Windows readiness the kernel reported before the close may still
    // come, once, with the old token (`Registry`, "On Windows"); the
    // registration is gone after it.
    #[cfg(windows)]
    {
        let late = reported(&mut poll, &mut events, Token(1));
        assert!(late.len() <= 1, "{late:?}");
        assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
    }
}

/// Registers `a` (level-triggered, readable, `Token(1)`) and makes its
/// peer send, then closes `a`'s socket and gives its fd number to a new
/// socket, never registered, in one step: tests run in parallel, so a
/// close followed by an open could hand the number to another thread.
/// `dup2` closes the old open file exactly as `close` does (it was the last
/// fd for it). Returns the new socket under the old number, and its peer.
#[cfg(unix)]
fn register_then_reuse_the_number(poll: &Poll, a: Stream, b: &Stream) -> (Stream, Stream) {
    let number = fd_of(&a);
    poll.registry()
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Level)
        .unwrap();
    send(b, b"x");
    let (c, d) = stream_pair();
    // Afterwards `a` owns (and will close) `number`, now a second fd for
    // `c`'s socket.
    reuse_number(&c, number);
    drop(c);
    (a, d)
}

// Descriptor numbers and dup2 are Unix's.
#[cfg(unix)]
#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's epoll supports edge triggers only (and refuses send() on a socket pair)"
)]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): the old filters outlive the fd"
)]
fn a_reused_fd_number_can_be_registered_again() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    let (reused, d) = register_then_reuse_the_number(&poll, a, &b);

    // io_uring keys its record by number, and the old file stays open
    // (its poll request holds it) until the number is deregistered.
    if poll.backend() == evq::Backend::IoUring {
        assert!(matches!(
            poll.registry()
                .register(&reused, Token(2), Interest::READABLE),
            Err(Error::AlreadyRegistered { .. })
        ));
        poll.registry().deregister(&reused).unwrap();
    }
    poll.registry()
        .register(&reused, Token(2), Interest::READABLE)
        .expect("the number belongs to a new file: not AlreadyRegistered");
    send(&d, b"x");
    let all = poll_now(&mut poll, &mut events);
    assert_eq!(all.len(), 1, "only the new registration: {all:?}");
    assert_eq!(all[0].token(), Token(2));
}

// Descriptor numbers and dup2 are Unix's.
#[cfg(unix)]
#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's epoll supports edge triggers only (and refuses send() on a socket pair)"
)]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): the old filters outlive the fd"
)]
fn deregistering_a_reused_fd_number_is_an_error() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    let (reused, d) = register_then_reuse_the_number(&poll, a, &b);

    // io_uring keys its record by number and the old file stays open (its
    // poll request holds it): deregistering the number removes the old
    // registration, as `Registry` documents.
    if poll.backend() == evq::Backend::IoUring {
        poll.registry().deregister(&reused).unwrap();
        send(&d, b"x");
        assert!(poll_now(&mut poll, &mut events).is_empty());
        poll.registry()
            .register(&reused, Token(2), Interest::READABLE)
            .expect("deregistered");
        return;
    }
    assert!(matches!(
        poll.registry().deregister(&reused),
        Err(Error::NotRegistered { .. })
    ));
    send(&d, b"x");
    assert!(poll_now(&mut poll, &mut events).is_empty());
    // And it was not registered by the failed call.
    poll.registry()
        .register(&reused, Token(2), Interest::READABLE)
        .expect("never registered");
}

// Descriptor numbers and dup2 are Unix's.
#[cfg(unix)]
#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's epoll supports edge triggers only (and refuses send() on a socket pair)"
)]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): the old filters outlive the fd"
)]
fn reregistering_a_reused_fd_number_is_an_error_and_registers_nothing() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    let (reused, d) = register_then_reuse_the_number(&poll, a, &b);

    let result =
        poll.registry()
            .reregister_with(&reused, Token(2), Interest::READABLE, Trigger::Level);
    // io_uring keys its record by number (see `Registry`): the reregister
    // replaces the old file's request with one on the file the number
    // names now.
    if poll.backend() == evq::Backend::IoUring {
        result.unwrap();
        send(&d, b"x");
        let all = poll_now(&mut poll, &mut events);
        assert!(all.iter().all(|e| e.token() == Token(2)), "{all:?}");
        assert!(!all.is_empty(), "the new file's data is reported");
        poll.registry().deregister(&reused).unwrap();
        return;
    }
    assert!(
        matches!(result, Err(Error::NotRegistered { .. })),
        "{result:?}"
    );
    send(&d, b"x");
    let all = poll_now(&mut poll, &mut events);
    assert!(
        all.is_empty(),
        "the failed reregister registered it: {all:?}"
    );
    assert!(matches!(
        poll.registry().deregister(&reused),
        Err(Error::NotRegistered { .. })
    ));
}

// epoll's behaviour; the kqueue counterpart follows.
#[cfg(evq_epoll)]
#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn a_duplicated_fd_keeps_the_registration_alive_after_close() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    let duplicate = a.try_clone().unwrap();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();
    // io_uring resolves the fd number when its next poll submits the
    // registration (see `Registry`): let it, before the number is closed.
    if poll.backend() == evq::Backend::IoUring {
        assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
    }

    // As documented on `Registry`: the registration belongs to the open
    // file, which the duplicate keeps open, so it still reports, with its
    // old token.
    drop(a);
    send(&b, b"x");
    assert_eq!(
        reported_when_ready(&mut poll, &mut events, Token(1)).len(),
        1
    );

    // The kernel keys registrations by (open file, fd number), so the
    // duplicate's number does not name this registration either.
    assert!(matches!(
        poll.registry().deregister(&duplicate),
        Err(Error::NotRegistered { .. })
    ));

    // Closing the last fd for the file finally removes it on epoll. On
    // io_uring the poll request itself holds the file, which reports on.
    send(&b, b"x");
    drop(duplicate);
    let expected = usize::from(poll.backend() == evq::Backend::IoUring);
    assert_eq!(reported(&mut poll, &mut events, Token(1)).len(), expected);
}

// kqueue keys filters by fd number, and closing an fd removes its filters.
#[cfg(evq_kqueue)]
#[test]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue cannot see close() (its README): filters outlive the fd"
)]
fn closing_a_registered_fd_removes_the_registration_despite_a_duplicate() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    let duplicate = a.try_clone().unwrap();
    poll.registry()
        .register(&a, Token(1), Interest::READABLE)
        .unwrap();

    // As documented on `Registry`: on kqueue, closing any fd removes the
    // registrations made through it, although the duplicate keeps the
    // file open.
    drop(a);
    send(&b, b"x");
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());

    // The duplicate's number was never registered.
    assert!(matches!(
        poll.registry().deregister(&duplicate),
        Err(Error::NotRegistered { .. })
    ));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn a_cloned_registry_shares_the_registrations() {
    let (mut poll, mut events) = setup();
    let clone = poll.registry().try_clone().unwrap();
    #[cfg(unix)]
    assert_eq!(clone.as_raw_fd(), poll.as_raw_fd(), "the same descriptor");
    #[cfg(windows)]
    {
        use std::os::windows::io::AsRawHandle;
        let (clone, poll) = (clone.as_raw_handle(), poll.as_raw_handle());
        assert_eq!(clone, poll, "the same completion port");
    }
    let (a, b) = stream_pair();

    std::thread::scope(|s| {
        s.spawn(|| clone.register(&a, Token(1), Interest::READABLE))
            .join()
            .unwrap()
            .expect("register from another thread");
    });
    send(&b, b"x");
    assert_eq!(
        reported_when_ready(&mut poll, &mut events, Token(1)).len(),
        1
    );

    // Registered through the clone, known to the original, and the other
    // way round.
    let again = poll.registry().register(&a, Token(2), Interest::READABLE);
    assert!(matches!(again, Err(Error::AlreadyRegistered { .. })));
    clone.deregister(&a).expect("deregister through the clone");
    assert!(matches!(
        poll.registry().deregister(&a),
        Err(Error::NotRegistered { .. })
    ));
    send(&b, b"x");
    assert!(reported(&mut poll, &mut events, Token(1)).is_empty());
}

/// An evq call in a function that returns `io::Result`.
fn through_question_mark(call: impl FnOnce() -> evq::Result<()>) -> io::Result<()> {
    call()?;
    Ok(())
}

#[test]
fn errors_convert_to_io_errors_of_the_same_kind_and_errno() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    let (a, _b) = stream_pair();
    registry.register(&a, Token(1), Interest::READABLE).unwrap();
    let (unregistered, _d) = stream_pair();

    let cases: [(io::ErrorKind, &dyn Fn() -> evq::Result<()>); 3] = [
        (io::ErrorKind::AlreadyExists, &|| {
            registry.register(&a, Token(1), Interest::READABLE)
        }),
        (io::ErrorKind::NotFound, &|| {
            registry.deregister(&unregistered)
        }),
        (io::ErrorKind::InvalidInput, &|| {
            registry.register(&unregistered, Token(2), Interest::empty())
        }),
    ];
    for (kind, call) in cases {
        let expected = call().expect_err("the call fails");
        let error = through_question_mark(call).expect_err("the call fails");
        assert_eq!(error.kind(), kind, "{error}");
        assert_eq!(error.raw_os_error(), expected.raw_os_error(), "{error:?}");
        match expected.raw_os_error() {
            // The kernel's answer, as mio would return it.
            Some(errno) => {
                let kernel = io::Error::from_raw_os_error(errno);
                assert_eq!(kernel.kind(), kind, "{error:?}");
            }
            // evq's own finding: its message and the evq::Error are kept.
            None => {
                assert_eq!(error.to_string(), expected.to_string());
                let inner = error.get_ref().and_then(|e| e.downcast_ref::<Error>());
                assert!(inner.is_some(), "the evq::Error is kept inside: {error:?}");
            }
        }
    }
}

#[test]
fn registration_errors_carry_the_kernels_errno_where_it_gave_one() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    let (a, _b) = stream_pair();
    registry.register(&a, Token(1), Interest::READABLE).unwrap();
    let twice = registry
        .register(&a, Token(1), Interest::READABLE)
        .unwrap_err();
    registry.deregister(&a).unwrap();
    let missing = registry.deregister(&a).unwrap_err();
    let errno_kind = |error: &Error| {
        error
            .raw_os_error()
            .map(|errno| io::Error::from_raw_os_error(errno).kind())
    };
    // epoll_ctl answers EEXIST and ENOENT; kqueue and io_uring have no such
    // answer, and evq finds these in its own record.
    if cfg!(evq_epoll) && poll.backend() == evq::Backend::Epoll {
        assert_eq!(errno_kind(&twice), Some(io::ErrorKind::AlreadyExists));
        assert_eq!(errno_kind(&missing), Some(io::ErrorKind::NotFound));
    } else {
        assert_eq!(twice.raw_os_error(), None);
        assert_eq!(missing.raw_os_error(), None);
    }
    assert!(matches!(twice, Error::AlreadyRegistered { .. }));
    assert!(matches!(missing, Error::NotRegistered { .. }));
}

/// The soft `RLIMIT_NOFILE` of this process, from `/proc/self/limits`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn open_files_soft_limit() -> Option<usize> {
    let limits = fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// The soft `RLIMIT_NOFILE` of this process: the descriptor table size
/// (no /proc here).
#[cfg(all(unix, not(any(target_os = "linux", target_os = "android"))))]
fn open_files_soft_limit() -> Option<usize> {
    usize::try_from(util::descriptor_table_size()).ok()
}

#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn a_thousand_ready_fds_are_each_reported_exactly_once() {
    const COUNT: usize = 1000;
    // An eventfd each on epoll; a pipe each (two fds) on kqueue platforms,
    // which have no eventfd; a UDP socket each on Windows.
    #[cfg(unix)]
    if let Some(limit) = open_files_soft_limit() {
        const FDS_EACH: usize = if cfg!(evq_epoll) { 1 } else { 2 };
        // Generous: other tests of this binary run in parallel and hold
        // fds too.
        let needed = util::open_fds() + FDS_EACH * COUNT + 64;
        assert!(
            needed <= limit,
            "this test needs ~{needed} open fds but the soft RLIMIT_NOFILE is \
             {limit}: raise it (ulimit -n) to run it"
        );
    }

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(256);
    #[cfg(evq_epoll)] // eventfds
    let fds: Vec<OwnedFd> = (0..COUNT).map(|_| eventfd()).collect();
    #[cfg(evq_kqueue)] // pipes, whose writers stay open: data, not end of file
    let (fds, mut writers): (Vec<File>, Vec<File>) = (0..COUNT).map(|_| pipe()).unzip();
    #[cfg(windows)] // UDP sockets, each sent a datagram
    let fds: Vec<std::net::UdpSocket> = (0..COUNT)
        .map(|_| {
            let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            socket.set_nonblocking(true).unwrap();
            socket
        })
        .collect();
    for (i, fd) in fds.iter().enumerate() {
        poll.registry()
            .register(fd, Token(i), Interest::READABLE)
            .unwrap();
    }
    #[cfg(evq_epoll)] // eventfds
    for fd in &fds {
        eventfd_add(fd, 1);
    }
    #[cfg(evq_kqueue)] // pipes
    for writer in &mut writers {
        writer.write_all(b"x").unwrap();
    }
    #[cfg(windows)]
    {
        let sender = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for socket in &fds {
            sender.send_to(b"x", socket.local_addr().unwrap()).unwrap();
        }
    }

    let mut times_seen: HashMap<Token, usize> = HashMap::new();
    let mut polls = 0;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let batch = poll_now(&mut poll, &mut events);
        if batch.is_empty() {
            // Every source was ready before the first poll, except on
            // Windows, where readiness reaches the completion port
            // asynchronously: there, poll on until all came (or patience
            // ran out), then once more for repeats.
            if cfg!(unix) || times_seen.len() == COUNT || Instant::now() > deadline {
                break;
            }
            continue;
        }
        assert!(batch.len() <= events.capacity());
        polls += 1;
        assert!(polls <= COUNT, "the reports never end");
        for event in batch {
            *times_seen.entry(event.token()).or_default() += 1;
        }
    }
    let expected: HashSet<Token> = (0..COUNT).map(Token).collect();
    let seen: HashSet<Token> = times_seen.keys().copied().collect();
    assert_eq!(seen, expected, "every token, and no other");
    let repeated: Vec<_> = times_seen.iter().filter(|(_, &n)| n != 1).collect();
    assert!(repeated.is_empty(), "reported more than once: {repeated:?}");
}
