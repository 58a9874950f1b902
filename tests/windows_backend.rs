//! The Windows backend's own semantics (IOCP + `\Device\Afd` polls), on
//! loopback TCP: registration errors from evq's record, each trigger as
//! `Trigger` documents it for Windows (Edge re-armed by `evq::net`'s
//! `WouldBlock`, once per condition for std sockets), completions of
//! deregistered sockets filtered, the waker, and registrations changed from
//! another thread while a poll is blocked.
//!
//! AFD reports readiness asynchronously (a poll request completes some time
//! after the data arrived), so every expected event is waited for
//! (`expect_event`), and "no event" is a poll that waits a little.
#![cfg(windows)]

mod util;

use evq::net::TcpStream as EvqStream;
use evq::{Error, Event, Events, Interest, Poll, Token, Trigger, Waker};
use std::io::Read;
use std::net::{Shutdown, TcpListener};
use std::os::windows::io::AsRawSocket;
use std::time::Duration;
use util::{drain, expect_event, of_token, send, setup, tcp_pair, PATIENCE};

const T: Token = Token(7);

/// How long a poll that should report nothing waits: AFD has had time to
/// complete a request for data already sent. (A wrong "nothing" here can
/// only hide a bug, never invent one.)
const QUIET: Duration = Duration::from_millis(100);

/// The events for `token` of one poll that waits up to `QUIET`.
fn quiet_poll(poll: &mut Poll, events: &mut Events, token: Token) -> Vec<Event> {
    poll.poll(events, Some(QUIET)).expect("poll");
    of_token(events, token)
}

fn expect_silence(poll: &mut Poll, events: &mut Events, token: Token) {
    let got = quiet_poll(poll, events, token);
    assert!(got.is_empty(), "expected no event for {token:?}: {got:?}");
}

#[test]
fn registering_a_socket_twice_is_already_registered_from_evqs_record() {
    let (poll, _) = setup();
    let (a, _b) = tcp_pair();
    poll.registry().register(&a, T, Interest::READABLE).unwrap();
    match poll.registry().register(&a, T, Interest::WRITABLE) {
        Err(error @ Error::AlreadyRegistered { errno: None, .. }) => {
            let name = format!("socket {:#x} ", a.as_raw_socket());
            assert!(error.to_string().starts_with(&name), "{error}");
        }
        other => panic!("expected AlreadyRegistered, got {other:?}"),
    }
}

#[test]
fn an_unregistered_socket_is_not_registered_from_evqs_record() {
    let (poll, _) = setup();
    let (a, _b) = tcp_pair();
    for result in [
        poll.registry().reregister(&a, T, Interest::READABLE),
        poll.registry().deregister(&a),
    ] {
        assert!(
            matches!(result, Err(Error::NotRegistered { errno: None, .. })),
            "{result:?}"
        );
    }
    poll.registry().register(&a, T, Interest::READABLE).unwrap();
    poll.registry().deregister(&a).unwrap();
    assert!(matches!(
        poll.registry().deregister(&a),
        Err(Error::NotRegistered { .. })
    ));
    // And it can be registered again.
    poll.registry().register(&a, T, Interest::READABLE).unwrap();
}

#[test]
fn level_reports_on_every_poll_until_drained() {
    let (mut poll, mut events) = setup();
    let (a, b) = tcp_pair();
    poll.registry()
        .register_with(&a, T, Interest::READABLE, Trigger::Level)
        .unwrap();
    send(&b, b"data");
    assert!(expect_event(&mut poll, &mut events, T).is_readable());
    for _ in 0..3 {
        let got = quiet_poll(&mut poll, &mut events, T);
        assert_eq!(got.len(), 1, "still ready: {got:?}");
        assert!(got[0].is_readable());
    }
    assert_eq!(drain(&a), b"data");
    expect_silence(&mut poll, &mut events, T);
}

#[test]
fn edge_on_a_std_socket_reports_each_condition_once_until_reregistered() {
    let (mut poll, mut events) = setup();
    let (a, b) = tcp_pair();
    poll.registry().register(&a, T, Interest::READABLE).unwrap();
    send(&b, b"one");
    assert!(expect_event(&mut poll, &mut events, T).is_readable());
    // std's read does not tell evq it hit WouldBlock: no new event, even
    // for new data after draining.
    assert_eq!(drain(&a), b"one");
    send(&b, b"two");
    expect_silence(&mut poll, &mut events, T);
    // reregister re-arms.
    poll.registry()
        .reregister(&a, T, Interest::READABLE)
        .unwrap();
    assert!(expect_event(&mut poll, &mut events, T).is_readable());
    assert_eq!(drain(&a), b"two");
}

#[test]
fn edge_on_an_evq_socket_is_rearmed_by_would_block() {
    let (mut poll, mut events) = setup();
    let (a, b) = tcp_pair();
    let a = EvqStream::from_std(a);
    poll.registry().register(&a, T, Interest::READABLE).unwrap();
    for round in [&b"one"[..], b"two", b"three"] {
        send(&b, round);
        assert!(expect_event(&mut poll, &mut events, T).is_readable());
        // Not drained yet: no second event for the same readiness.
        expect_silence(&mut poll, &mut events, T);
        // Reading until WouldBlock re-arms reading.
        assert_eq!(drain(&a), round);
    }
}

#[test]
fn edge_keeps_directions_not_reported_armed() {
    let (mut poll, mut events) = setup();
    let (a, b) = tcp_pair();
    poll.registry()
        .register(&a, T, Interest::READABLE | Interest::WRITABLE)
        .unwrap();
    let first = expect_event(&mut poll, &mut events, T);
    assert!(first.is_writable() && !first.is_readable(), "{first:?}");
    expect_silence(&mut poll, &mut events, T);
    send(&b, b"x");
    let second = expect_event(&mut poll, &mut events, T);
    assert!(second.is_readable() && !second.is_writable(), "{second:?}");
}

#[test]
fn oneshots_report_once_until_reregistered() {
    for trigger in [Trigger::Oneshot, Trigger::EdgeOneshot] {
        let (mut poll, mut events) = setup();
        let (a, b) = tcp_pair();
        let a = EvqStream::from_std(a);
        poll.registry()
            .register_with(&a, T, Interest::READABLE, trigger)
            .unwrap();
        send(&b, b"one");
        assert!(expect_event(&mut poll, &mut events, T).is_readable());
        // Disarmed, even after WouldBlock (that re-arms Edge only).
        assert_eq!(drain(&a), b"one");
        send(&b, b"two");
        expect_silence(&mut poll, &mut events, T);
        poll.registry()
            .reregister_with(&a, Token(8), Interest::READABLE, trigger)
            .unwrap();
        assert!(expect_event(&mut poll, &mut events, Token(8)).is_readable());
        expect_silence(&mut poll, &mut events, Token(8));
    }
}

#[test]
fn peer_shutdown_is_read_closed_and_reset_is_an_error() {
    let (mut poll, mut events) = setup();
    let (a, b) = tcp_pair();
    poll.registry()
        .register_with(&a, T, Interest::READABLE, Trigger::Level)
        .unwrap();
    b.shutdown(Shutdown::Write).unwrap();
    let event = expect_event(&mut poll, &mut events, T);
    assert!(event.is_readable() && event.is_read_closed(), "{event:?}");
    assert!(!event.is_write_closed() && !event.is_error(), "{event:?}");

    // Unread data and a close: the peer resets the connection.
    send(&a, b"unread");
    let mut b = b;
    let mut byte = [0; 1];
    while b.read(&mut byte).is_err() {
        poll.poll(&mut events, Some(QUIET)).unwrap();
    }
    drop(b);
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        assert!(std::time::Instant::now() < deadline, "no reset reported");
        poll.poll(&mut events, Some(QUIET)).unwrap();
        if let Some(event) = events.iter().find(|e| e.token() == T && e.is_error()) {
            assert!(
                event.is_write_closed() && event.is_read_closed(),
                "{event:?}"
            );
            break;
        }
    }
}

#[test]
fn a_failed_connect_is_an_error_and_writable() {
    let (mut poll, mut events) = setup();
    // A port nobody listens on any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let stream = EvqStream::connect(addr).unwrap();
    poll.registry()
        .register(&stream, T, Interest::WRITABLE)
        .unwrap();
    let event = expect_event(&mut poll, &mut events, T);
    assert!(event.is_error() && event.is_writable(), "{event:?}");
}

#[test]
fn a_deregistered_socket_reports_nothing_even_if_already_completed() {
    let (mut poll, _) = setup();
    // One event per poll: the other completion stays queued in the port
    // while `deregister` runs.
    let mut one = Events::with_capacity(1);
    let (a, a_peer) = tcp_pair();
    let (b, b_peer) = tcp_pair();
    poll.registry()
        .register_with(&a, Token(1), Interest::READABLE, Trigger::Level)
        .unwrap();
    poll.registry()
        .register_with(&b, Token(2), Interest::READABLE, Trigger::Level)
        .unwrap();
    send(&a_peer, b"a");
    send(&b_peer, b"b");
    let first = expect_event(&mut poll, &mut one, Token(1));
    assert!(first.is_readable());
    poll.registry().deregister(&a).unwrap();
    poll.registry().deregister(&b).unwrap();
    for _ in 0..3 {
        let got = quiet_poll(&mut poll, &mut one, Token(1));
        assert!(got.is_empty(), "{got:?}");
        assert!(one.is_empty(), "b was deregistered too: {one:?}");
    }
}

#[test]
fn wakes_are_reported_with_the_wakers_token_and_coalesced() {
    let (mut poll, mut events) = setup();
    let waker = Waker::new(poll.registry(), Token(3)).unwrap();
    waker.wake().unwrap();
    waker.wake().unwrap();
    let event = expect_event(&mut poll, &mut events, Token(3));
    assert!(event.is_readable(), "{event:?}");
    assert_eq!(events.len(), 1, "two wakes, one event: {events:?}");
    expect_silence(&mut poll, &mut events, Token(3));
}

#[test]
fn a_socket_registered_while_a_poll_is_blocked_is_reported_by_that_poll() {
    let (mut poll, mut events) = setup();
    let registry = poll.registry().try_clone().unwrap();
    let (a, b) = tcp_pair();
    send(&b, b"ready");
    std::thread::scope(|s| {
        let blocked = s.spawn(move || {
            poll.poll(&mut events, Some(PATIENCE)).unwrap();
            events.iter().map(|e| e.token()).collect::<Vec<_>>()
        });
        registry.register(&a, T, Interest::READABLE).unwrap();
        assert_eq!(blocked.join().unwrap(), [T]);
    });
}

#[test]
fn a_reregistration_while_a_poll_is_blocked_takes_effect_in_that_poll() {
    let (mut poll, mut events) = setup();
    let registry = poll.registry().try_clone().unwrap();
    let (a, _b) = tcp_pair();
    // Nothing to read: this request stays in flight until cancelled.
    registry.register(&a, T, Interest::READABLE).unwrap();
    std::thread::scope(|s| {
        let blocked = s.spawn(move || {
            let deadline = std::time::Instant::now() + PATIENCE;
            // The cancellation wakes the poll, which submits the new
            // request and keeps waiting until it reports.
            poll.poll(&mut events, Some(PATIENCE)).unwrap();
            assert!(std::time::Instant::now() < deadline);
            events.iter().copied().collect::<Vec<_>>()
        });
        registry
            .reregister(&a, Token(8), Interest::WRITABLE)
            .unwrap();
        let got = blocked.join().unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0].token(), Token(8));
        assert!(got[0].is_writable(), "{got:?}");
    });
}

#[test]
fn dropping_a_poll_with_requests_in_flight_leaves_the_sockets_usable() {
    let (a, b) = tcp_pair();
    for _ in 0..3 {
        let (mut poll, mut events) = setup();
        poll.registry().register(&a, T, Interest::READABLE).unwrap();
        send(&b, b"x");
        expect_event(&mut poll, &mut events, T);
        drop(poll);
        assert_eq!(drain(&a), b"x");
    }
}

#[test]
fn would_block_rearms_the_sockets_registrations_in_every_poll() {
    let ((mut first, mut first_events), (mut second, mut second_events)) = (setup(), setup());
    let (a, b) = tcp_pair();
    let a = EvqStream::from_std(a);
    first
        .registry()
        .register(&a, T, Interest::READABLE)
        .unwrap();
    second
        .registry()
        .register(&a, T, Interest::READABLE)
        .unwrap();
    for round in [&b"one"[..], b"two"] {
        send(&b, round);
        expect_event(&mut first, &mut first_events, T);
        expect_event(&mut second, &mut second_events, T);
        assert_eq!(drain(&a), round);
    }
    // Deregistered from one poll, still re-armed in the other.
    first.registry().deregister(&a).unwrap();
    send(&b, b"three");
    expect_event(&mut second, &mut second_events, T);
    expect_silence(&mut first, &mut first_events, T);
}

#[test]
fn registrations_churning_on_other_threads_while_polling_report_only_their_own_tokens() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 25;
    let (mut poll, mut events) = setup();
    let registry = poll.registry().try_clone().unwrap();
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|thread| {
                let registry = &registry;
                s.spawn(move || {
                    // Closed while registered, once every thread is done:
                    // a handle value reused before the poll saw the close
                    // would read as registered (see `Registry`).
                    let mut closed_later = Vec::new();
                    for round in 0..ROUNDS {
                        let (a, b) = tcp_pair();
                        let token = Token(1000 + thread * ROUNDS + round);
                        registry
                            .register_with(&a, token, Interest::READABLE, Trigger::Level)
                            .unwrap();
                        send(&b, b"x");
                        if round % 2 == 0 {
                            registry.reregister(&a, token, Interest::WRITABLE).unwrap();
                        }
                        if round % 3 == 0 {
                            closed_later.push((a, b));
                        } else {
                            registry.deregister(&a).unwrap();
                        }
                    }
                    closed_later
                })
            })
            .collect();
        // Until every thread is done (or one failed: `join` re-raises it).
        while !threads.iter().all(|thread| thread.is_finished()) {
            poll.poll(&mut events, Some(Duration::from_millis(10)))
                .unwrap();
            for event in &events {
                let token = event.token().0;
                assert!(
                    (1000..1000 + THREADS * ROUNDS).contains(&token),
                    "{event:?}"
                );
            }
        }
        let closed: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        drop(closed);
    });
    // Whatever is still in flight is cancelled and collected by the drop.
    drop(poll);
}
