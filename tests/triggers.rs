//! When and how often readiness is reported: the four triggers, and the
//! closed, error, writable and priority conditions an event carries.

mod util;

use evq::{Event, Events, Interest, Poll, Token, Trigger};
use std::io::Write;
use std::net::Shutdown;
use std::time::Instant;
#[cfg(unix)]
use util::pipe;
use util::{
    drain, fill, reported, reported_when_ready, send, setup, stream_pair, tcp_pair, Stream,
    PATIENCE,
};

const T: Token = Token(7);

/// Asserts that the poll that finds `token` ready (a non-blocking one on
/// Unix: see `reported_when_ready`) reports exactly one event for it, and
/// returns it.
fn one_event(poll: &mut Poll, events: &mut Events, token: Token) -> Event {
    let got = reported_when_ready(poll, events, token);
    assert_eq!(got.len(), 1, "expected one event for {token:?}: {got:?}");
    got[0]
}

fn no_event(poll: &mut Poll, events: &mut Events, token: Token) {
    let got = reported(poll, events, token);
    assert!(got.is_empty(), "expected no event for {token:?}: {got:?}");
}

/// Polls (up to [`PATIENCE`]) until an event for `token` satisfies `wanted`,
/// for TCP, whose segments may be processed after the sending call returns.
fn wait_for(
    poll: &mut Poll,
    events: &mut Events,
    token: Token,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no matching event for {token:?}: {seen:?}");
        poll.poll(events, Some(left)).expect("poll");
        for event in events.iter().filter(|e| e.token() == token) {
            if wanted(event) {
                return *event;
            }
            seen.push(*event);
        }
    }
}

/// A stream pair whose first end is registered for reading with `trigger`.
fn registered_pair(poll: &Poll, trigger: Trigger) -> (Stream, Stream) {
    let (a, b) = stream_pair();
    poll.registry()
        .register_with(&a, T, Interest::READABLE, trigger)
        .expect("register");
    (a, b)
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn edge_reports_each_new_readiness_once() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry().register(&a, T, Interest::READABLE).unwrap();

    send(&b, b"one");
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    // Still readable, but nothing new happened.
    no_event(&mut poll, &mut events, T);

    send(&b, b"two");
    #[cfg(unix)]
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    // On Windows, where an AFD poll reports once, a direction reported
    // is polled again only once an evq::net read returns WouldBlock (see
    // `Trigger::Edge`): new data before that is no new event.
    #[cfg(windows)]
    no_event(&mut poll, &mut events, T);

    assert_eq!(drain(&a), b"onetwo");
    no_event(&mut poll, &mut events, T);
    // Drained to WouldBlock: the next data is an event again, everywhere.
    send(&b, b"three");
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    assert_eq!(drain(&a), b"three");
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn level_reports_on_every_poll_while_ready() {
    let (mut poll, mut events) = setup();
    let (a, b) = registered_pair(&poll, Trigger::Level);

    send(&b, b"data");
    for _ in 0..3 {
        assert!(one_event(&mut poll, &mut events, T).is_readable());
    }
    assert_eq!(drain(&a), b"data");
    no_event(&mut poll, &mut events, T);
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn oneshot_is_silent_after_one_event_until_rearmed() {
    let (mut poll, mut events) = setup();
    let (a, b) = registered_pair(&poll, Trigger::Oneshot);

    send(&b, b"one");
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    no_event(&mut poll, &mut events, T);
    send(&b, b"two");
    no_event(&mut poll, &mut events, T);

    // Re-arming reports the readiness that is still pending, once.
    poll.registry()
        .reregister_with(&a, T, Interest::READABLE, Trigger::Oneshot)
        .unwrap();
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    no_event(&mut poll, &mut events, T);

    // Disarmed, yet deregistered like any other registration.
    poll.registry()
        .deregister(&a)
        .expect("deregister a disarmed oneshot");
    assert_eq!(drain(&a), b"onetwo");
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll has no EPOLLONESHOT")]
fn edge_oneshot_is_silent_after_one_event_until_rearmed() {
    let (mut poll, mut events) = setup();
    let (a, b) = registered_pair(&poll, Trigger::EdgeOneshot);

    send(&b, b"one");
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    send(&b, b"two");
    no_event(&mut poll, &mut events, T);

    // Re-arming while data is still pending reports it once more, although
    // no new edge happened: epoll checks readiness on EPOLL_CTL_MOD
    // (`ep_modify` polls the file and queues it if ready), edge-triggered
    // or not; on kqueue, reregister deletes the filter and adds it again,
    // and EV_ADD checks readiness the same way. Without that, unread data
    // would never be reported again.
    poll.registry()
        .reregister_with(&a, T, Interest::READABLE, Trigger::EdgeOneshot)
        .unwrap();
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    no_event(&mut poll, &mut events, T);

    // Drained and re-armed: nothing to report until the next edge.
    assert_eq!(drain(&a), b"onetwo");
    poll.registry()
        .reregister_with(&a, T, Interest::READABLE, Trigger::EdgeOneshot)
        .unwrap();
    no_event(&mut poll, &mut events, T);
    send(&b, b"three");
    assert!(one_event(&mut poll, &mut events, T).is_readable());
    poll.registry()
        .deregister(&a)
        .expect("deregister a disarmed oneshot");
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no TCP")]
fn tcp_peer_shutting_down_writing_is_read_closed() {
    let (mut poll, mut events) = setup();
    let (client, server) = tcp_pair();
    poll.registry()
        .register(&server, T, Interest::READABLE)
        .unwrap();

    client.shutdown(Shutdown::Write).unwrap();
    let event = wait_for(&mut poll, &mut events, T, Event::is_read_closed);
    assert!(event.is_readable(), "end-of-file is readable: {event:?}");
    // Half-closed: the server can still send.
    assert!(!event.is_write_closed(), "{event:?}");
    assert!(!event.is_error(), "{event:?}");
}

// Unix only: the Windows stream pair is TCP, which the test above covers.
#[cfg(unix)]
#[test]
#[cfg_attr(miri, ignore = "Miri's socket pairs have no shutdown")]
fn unix_peer_shutting_down_writing_is_read_closed() {
    let (mut poll, mut events) = setup();
    let (_a, b) = registered_pair(&poll, Trigger::Edge);

    b.shutdown(Shutdown::Write).unwrap();
    let event = one_event(&mut poll, &mut events, T);
    assert!(event.is_read_closed(), "{event:?}");
    assert!(!event.is_write_closed(), "{event:?}");
}

// Pipes are Unix only (evq registers sockets on Windows).
#[cfg(unix)]
#[test]
#[cfg_attr(miri, ignore = "Miri's pipes do not poll like Linux pipes")]
fn a_pipe_whose_writer_is_dropped_is_read_closed() {
    let (mut poll, mut events) = setup();
    let (reader, writer) = pipe();
    poll.registry()
        .register(&reader, T, Interest::READABLE)
        .unwrap();

    drop(writer);
    let event = one_event(&mut poll, &mut events, T);
    assert!(event.is_read_closed(), "{event:?}");
}

// Pipes are Unix only.
#[cfg(unix)]
#[test]
#[cfg_attr(miri, ignore = "Miri's pipes do not poll like Linux pipes")]
fn a_pipe_whose_reader_is_dropped_is_write_closed() {
    let (mut poll, mut events) = setup();
    let (reader, writer) = pipe();
    poll.registry()
        .register(&writer, T, Interest::WRITABLE)
        .unwrap();
    assert!(one_event(&mut poll, &mut events, T).is_writable());

    drop(reader);
    // pipe_poll reports EPOLLERR for a write end without readers.
    let event = one_event(&mut poll, &mut events, T);
    assert!(event.is_write_closed(), "{event:?}");
    // kqueue reports EV_EOF, with no error code for a pipe.
    #[cfg(evq_epoll)]
    assert!(event.is_error(), "{event:?}");
}

// epoll's EPOLLERR, which comes whatever the events asked for. kqueue only
// reports on the filters registered, and has no definite answer here:
// FreeBSD accepts EVFILT_READ on a pipe's write end but never fires it. (A
// socket's error is reported on EVFILT_READ: see `a_tcp_reset_is_an_error`.)
#[cfg(evq_epoll)]
#[test]
#[cfg_attr(miri, ignore = "Miri's pipes do not poll like Linux pipes")]
fn errors_are_reported_whatever_the_interest() {
    let (mut poll, mut events) = setup();
    let (reader, writer) = pipe();
    // A write end asked only for readability: it never becomes readable,
    // but its error (EPOLLERR, no readers left) is still reported.
    poll.registry()
        .register(&writer, T, Interest::READABLE)
        .unwrap();
    no_event(&mut poll, &mut events, T);

    drop(reader);
    let event = one_event(&mut poll, &mut events, T);
    assert!(event.is_error(), "{event:?}");
    assert!(format!("{event:?}").contains("EPOLLERR"), "{event:?}");
    assert!(!event.is_readable(), "{event:?}");
}

// Unix only: a socket pair's peer hangs up both directions when it closes;
// a TCP peer's close (the Windows stream pair is TCP) is a FIN, end of
// file for reading only (see `tcp_peer_shutting_down_writing_is_read_closed`).
#[cfg(unix)]
#[test]
fn a_socket_whose_peer_is_closed_is_write_closed() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry().register(&a, T, Interest::WRITABLE).unwrap();
    assert!(one_event(&mut poll, &mut events, T).is_writable());

    drop(b);
    let event = one_event(&mut poll, &mut events, T);
    assert!(event.is_write_closed(), "{event:?}");
    // EPOLLHUP closes both sides; kqueue reports on the filter registered
    // only (EVFILT_WRITE here), so this event says nothing about reading.
    #[cfg(evq_epoll)]
    assert!(event.is_read_closed(), "{event:?}");
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no TCP")]
fn a_tcp_reset_is_an_error() {
    let (mut poll, mut events) = setup();
    let (mut client, server) = tcp_pair();
    poll.registry()
        .register(&client, Token(1), Interest::READABLE)
        .unwrap();
    poll.registry()
        .register(&server, Token(2), Interest::READABLE)
        .unwrap();

    // Closing a TCP socket with unread data sends a reset (RFC 2525 2.17):
    // wait until the data has arrived, then close without reading it.
    client.write_all(b"unread").unwrap();
    util::expect_event(&mut poll, &mut events, Token(2));
    // On io_uring the registration holds the socket open (see `Registry`):
    // only after deregister does closing the fd close the connection.
    if poll.backend() == evq::Backend::IoUring {
        poll.registry().deregister(&server).unwrap();
    }
    drop(server);

    let event = wait_for(&mut poll, &mut events, Token(1), Event::is_error);
    // AFD_POLL_ABORT: closed both ways.
    #[cfg(windows)]
    assert!(
        event.is_read_closed() && event.is_write_closed(),
        "{event:?}"
    );
    // EPOLLERR means write-closed on epoll. On kqueue the error comes as
    // EV_EOF with the errno on the one filter registered, EVFILT_READ.
    #[cfg(evq_epoll)]
    assert!(event.is_write_closed(), "{event:?}");
    #[cfg(evq_kqueue)]
    assert!(event.is_read_closed(), "{event:?}");
    // libkqueue reads SO_ERROR to report the error event, which clears it
    // (its README): nothing is left for take_error there.
    #[cfg(all(unix, not(evq_force_kqueue)))]
    {
        let error = client.take_error().unwrap().expect("a pending error");
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset);
    }
    // Winsock keeps no SO_ERROR for a reset connection: the next read
    // reports it. Not under wine 8, where that read returns end of file
    // (0) and SO_ERROR is empty too (seen here; wine's server takes the
    // socket's error when it reports the abort, as libkqueue does).
    #[cfg(windows)]
    if util::under_wine() {
        eprintln!("skipped under wine: the read after a reset returns 0, not ConnectionReset");
    } else {
        use std::io::Read;
        let error = client.read(&mut [0; 8]).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::ConnectionReset, "{error}");
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri has no TCP")]
fn a_fresh_socket_is_writable() {
    let (mut poll, mut events) = setup();
    let (a, _b) = stream_pair();
    poll.registry().register(&a, T, Interest::WRITABLE).unwrap();
    let event = one_event(&mut poll, &mut events, T);
    assert!(event.is_writable() && !event.is_readable(), "{event:?}");

    let (client, _server) = tcp_pair();
    poll.registry()
        .register(&client, Token(1), Interest::WRITABLE)
        .unwrap();
    let event = util::expect_event(&mut poll, &mut events, Token(1));
    assert!(event.is_writable(), "{event:?}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn a_full_socket_is_writable_again_once_the_peer_reads() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry().register(&a, T, Interest::WRITABLE).unwrap();
    assert!(one_event(&mut poll, &mut events, T).is_writable());

    let written = fill(&a);
    no_event(&mut poll, &mut events, T);

    #[cfg(unix)]
    {
        assert_eq!(drain(&b).len(), written);
        let event = one_event(&mut poll, &mut events, T);
        assert!(event.is_writable(), "{event:?}");
    }
    // TCP (the Windows stream pair) moves the bytes left in `a`'s send
    // buffer to `b` as `b` reads: read them all, waiting for each arrival,
    // and keep `a`'s writable event if one of those polls has it.
    #[cfg(windows)]
    {
        const B: Token = Token(8);
        poll.registry().register(&b, B, Interest::READABLE).unwrap();
        let mut received = 0;
        let mut writable = Vec::new();
        let deadline = Instant::now() + PATIENCE;
        loop {
            received += drain(&b).len();
            if received >= written {
                break;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "received {received} of {written} bytes");
            poll.poll(&mut events, Some(left)).expect("poll");
            writable.extend(events.iter().filter(|e| e.token() == T).copied());
        }
        assert_eq!(received, written);
        if writable.is_empty() {
            writable = reported_when_ready(&mut poll, &mut events, T);
        }
        assert_eq!(writable.len(), 1, "{writable:?}");
        assert!(writable[0].is_writable(), "{writable:?}");
    }
    no_event(&mut poll, &mut events, T);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn event_debug_names_the_token_and_the_flags() {
    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry()
        .register(&a, Token(3), Interest::READABLE)
        .unwrap();
    send(&b, b"x");

    let event = one_event(&mut poll, &mut events, Token(3));
    let debug = format!("{event:?}");
    assert!(debug.contains("Token(3)"), "{debug}");
    // The kernel's names: epoll's bits, or kqueue's filter.
    #[cfg(evq_epoll)]
    {
        assert!(debug.contains("EPOLLIN"), "{debug}");
        assert!(!debug.contains("EPOLLOUT"), "not asked for: {debug}");
    }
    #[cfg(evq_kqueue)]
    {
        assert!(debug.contains("EVFILT_READ"), "{debug}");
        assert!(!debug.contains("EVFILT_WRITE"), "not asked for: {debug}");
    }
}

// PRIORITY exists on Linux, Android and Windows, and only epoll and the
// IOCP backend (AFD_POLL_RECEIVE_EXPEDITED) watch it.
#[cfg(any(evq_epoll, windows))]
#[test]
#[cfg_attr(miri, ignore = "Miri's epoll has no EPOLLPRI")]
fn ordinary_data_is_not_priority_data() {
    use std::io::Read;

    let (mut poll, mut events) = setup();
    let (a, b) = stream_pair();
    poll.registry()
        .register(&a, Token(1), Interest::PRIORITY)
        .expect("PRIORITY alone is a valid interest");
    let (c, d) = stream_pair();
    poll.registry()
        .register(&c, Token(2), Interest::READABLE | Interest::PRIORITY)
        .unwrap();

    send(&b, b"ordinary");
    send(&d, b"ordinary");
    let all = util::poll_when_ready(&mut poll, &mut events, 1);
    assert_eq!(all.len(), 1, "only the READABLE registration: {all:?}");
    assert_eq!(all[0].token(), Token(2));
    assert!(all[0].is_readable() && !all[0].is_priority(), "{all:?}");
    let mut buf = [0u8; 8];
    assert_eq!((&a).read(&mut buf).unwrap(), 8, "the data did arrive");
}

// The kqueue backend on Linux (libkqueue) has the PRIORITY flag but no
// filter for it.
#[cfg(all(evq_kqueue, any(target_os = "linux", target_os = "android")))]
#[test]
fn priority_is_invalid_input_on_kqueue() {
    let poll = Poll::new().unwrap();
    let (a, _b) = stream_pair();
    for interest in [Interest::PRIORITY, Interest::READABLE | Interest::PRIORITY] {
        let result = poll.registry().register(&a, T, interest);
        assert!(
            matches!(result, Err(evq::Error::InvalidInput { .. })),
            "{interest:?}: got {result:?}"
        );
    }
}
