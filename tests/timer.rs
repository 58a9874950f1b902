//! `Timer`: expiry, counting, re-arming and cancelling, under every trigger.
//!
//! Timing checks are lower bounds only ("never earlier than"): the tests run
//! on busy machines, where any wait may take longer than asked. A check that
//! something does *not* happen waits a bounded time for it.
// Not under Miri, which emulates epoll and eventfd but none of timerfd,
// signalfd, pidfd_open, waitid or process spawning.
#![cfg(not(miri))]
// Timer is Unix only for now (its docs).
#![cfg(unix)]

mod util;

use evq::{Error, Events, Interest, Poll, Timer, Token, Trigger};
use std::time::{Duration, Instant};
use util::{expect_event, expect_no_event, PATIENCE};

const TIMER: Token = Token(5);

fn registered(trigger: Trigger) -> (Poll, Events, Timer) {
    let poll = Poll::new().unwrap();
    let timer = Timer::new().unwrap();
    poll.registry()
        .register_with(&timer, TIMER, Interest::READABLE, trigger)
        .unwrap();
    (poll, Events::with_capacity(8), timer)
}

/// Polls for up to `wait` and panics if the timer is reported.
fn expect_quiet_for(poll: &mut Poll, events: &mut Events, wait: Duration) {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        poll.poll(events, Some(left)).unwrap();
        assert!(
            events.iter().all(|e| e.token() != TIMER),
            "unexpected timer event: {events:?}"
        );
    }
}

#[test]
fn a_timeout_expires_once_and_never_early() {
    let (mut poll, mut events, timer) = registered(Trigger::Edge);
    let start = Instant::now();
    timer.set_timeout(Duration::from_millis(20)).unwrap();
    let event = expect_event(&mut poll, &mut events, TIMER);
    assert!(
        start.elapsed() >= Duration::from_millis(20),
        "{:?}",
        start.elapsed()
    );
    assert!(event.is_readable());
    assert_eq!(timer.read().unwrap(), 1);
    assert_eq!(timer.read().unwrap(), 0, "read resets the count");
}

#[test]
fn read_is_zero_and_does_not_block_before_expiry() {
    let timer = Timer::new().unwrap();
    assert_eq!(timer.read().unwrap(), 0, "a new timer is disarmed");
    timer.set_timeout(PATIENCE).unwrap();
    assert_eq!(timer.read().unwrap(), 0);
}

#[test]
fn a_zero_timeout_expires_at_once() {
    let (mut poll, mut events, timer) = registered(Trigger::Edge);
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    assert_eq!(timer.read().unwrap(), 1);
}

#[test]
fn an_interval_counts_every_expiration_and_none_early() {
    let (mut poll, mut events, timer) = registered(Trigger::Level);
    let first = Duration::from_millis(2);
    let every = Duration::from_millis(1);
    let start = Instant::now();
    timer.set_interval(first, every).unwrap();
    let mut total = 0;
    while total < 10 {
        expect_event(&mut poll, &mut events, TIMER);
        total += timer.read().unwrap();
        // Expiration n (from 1) is due at first + (n - 1) * every.
        let due = first + every * (total as u32 - 1);
        assert!(
            start.elapsed() >= due,
            "{total} expirations by {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn a_zero_interval_is_rejected() {
    let timer = Timer::new().unwrap();
    match timer.set_interval(Duration::from_millis(1), Duration::ZERO) {
        Err(Error::InvalidInput { .. }) => {}
        other => panic!("expected InvalidInput, got {other:?}"),
    }
}

#[test]
fn cancel_stops_an_armed_timer() {
    let (mut poll, mut events, timer) = registered(Trigger::Level);
    timer.set_timeout(Duration::from_millis(10)).unwrap();
    timer.cancel().unwrap();
    expect_quiet_for(&mut poll, &mut events, Duration::from_millis(50));
    assert_eq!(timer.read().unwrap(), 0);
}

#[test]
fn cancel_and_set_forget_unread_expirations() {
    let (mut poll, mut events, timer) = registered(Trigger::Level);
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    timer.cancel().unwrap();
    expect_no_event(&mut poll, &mut events, TIMER);
    assert_eq!(timer.read().unwrap(), 0);

    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    timer.set_timeout(PATIENCE).unwrap();
    expect_no_event(&mut poll, &mut events, TIMER);
    assert_eq!(timer.read().unwrap(), 0);
}

#[test]
fn level_repeats_until_read() {
    let (mut poll, mut events, timer) = registered(Trigger::Level);
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    expect_event(&mut poll, &mut events, TIMER);
    assert_eq!(timer.read().unwrap(), 1);
    expect_no_event(&mut poll, &mut events, TIMER);
}

#[test]
fn edge_reports_an_expiry_once_and_the_next_one_again() {
    let (mut poll, mut events, timer) = registered(Trigger::Edge);
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    expect_no_event(&mut poll, &mut events, TIMER);
    assert_eq!(timer.read().unwrap(), 1);
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
}

#[test]
fn oneshot_reports_once_until_rearmed() {
    let (mut poll, mut events, timer) = registered(Trigger::Oneshot);
    timer
        .set_interval(Duration::ZERO, Duration::from_millis(1))
        .unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    // Expirations keep coming, but the registration is disarmed.
    expect_quiet_for(&mut poll, &mut events, Duration::from_millis(20));
    assert!(timer.read().unwrap() >= 1);
    poll.registry()
        .reregister_with(&timer, TIMER, Interest::READABLE, Trigger::Oneshot)
        .unwrap();
    expect_event(&mut poll, &mut events, TIMER);
}

#[test]
fn deregistering_an_expired_timer_drops_its_event() {
    let (mut poll, mut events, timer) = registered(Trigger::Level);
    timer.set_timeout(Duration::ZERO).unwrap();
    // Expired for sure: a zero-timeout poll would otherwise race the timer.
    wait_until_expired(&timer);
    poll.registry().deregister(&timer).unwrap();
    expect_no_event(&mut poll, &mut events, TIMER);
    assert_eq!(timer.read().unwrap(), 1, "the expiration is still counted");
}

/// Waits, in a poll of its own, until `timer` is readable.
fn wait_until_expired(timer: &Timer) {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1);
    poll.registry()
        .register_with(timer, Token(0), Interest::READABLE, Trigger::Level)
        .unwrap();
    expect_event(&mut poll, &mut events, Token(0));
}

#[test]
fn edge_reports_the_next_expiration_after_a_read() {
    let (mut poll, mut events, timer) = registered(Trigger::Edge);
    let every = Duration::from_millis(1);
    timer.set_interval(every, every).unwrap();
    for _ in 0..3 {
        expect_event(&mut poll, &mut events, TIMER);
        // Edge: read after each event (an unread timer may not edge again).
        let mut count = timer.read().unwrap();
        while count == 0 {
            // The event came before the clock counted it (kqueue), or was
            // one a read had taken already: wait for the next.
            expect_event(&mut poll, &mut events, TIMER);
            count = timer.read().unwrap();
        }
    }
}

#[test]
fn registering_twice_with_one_poll_is_an_error_and_two_polls_work() {
    let (mut poll, mut events, timer) = registered(Trigger::Edge);
    match poll
        .registry()
        .register(&timer, Token(6), Interest::READABLE)
    {
        // On kqueue a timer has no descriptor: the error says -1.
        Err(Error::AlreadyRegistered { fd, .. }) => {
            assert_eq!(fd == -1, cfg!(evq_kqueue), "fd {fd}");
        }
        other => panic!("expected AlreadyRegistered, got {other:?}"),
    }
    let mut other = Poll::new().unwrap();
    other
        .registry()
        .register(&timer, Token(7), Interest::READABLE)
        .unwrap();
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    expect_event(&mut other, &mut events, Token(7));
    poll.registry().deregister(&timer).unwrap();
    match poll.registry().deregister(&timer) {
        Err(Error::NotRegistered { .. }) => {}
        other => panic!("expected NotRegistered, got {other:?}"),
    }
    other.registry().deregister(&timer).unwrap();
}

#[test]
fn reregistering_changes_the_token_and_reports_an_unread_expiration() {
    let (mut poll, mut events, timer) = registered(Trigger::Edge);
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    poll.registry()
        .reregister_with(&timer, Token(8), Interest::READABLE, Trigger::Level)
        .unwrap();
    // Still unread: the level registration reports it under the new token.
    expect_event(&mut poll, &mut events, Token(8));
    assert_eq!(timer.read().unwrap(), 1);
    expect_no_event(&mut poll, &mut events, Token(8));
}

#[test]
fn dropping_a_registered_timer_removes_its_event() {
    let (mut poll, mut events, timer) = registered(Trigger::Level);
    // io_uring keeps a closed fd's registration (see `Registry`): there a
    // source is deregistered before it is dropped.
    if poll.backend() == evq::Backend::IoUring {
        return;
    }
    timer.set_timeout(Duration::ZERO).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    drop(timer);
    expect_no_event(&mut poll, &mut events, TIMER);
}

/// On kqueue (as `Timer` documents) each expiration is an edge, read or
/// not: the poll re-arms the kernel timer and fires the timer's event. (A
/// timerfd signals readiness once until it is read.)
#[cfg(evq_kqueue)]
#[test]
fn on_kqueue_an_unread_timer_edges_again() {
    let (mut poll, mut events, timer) = registered(Trigger::Edge);
    let every = Duration::from_millis(1);
    timer.set_interval(every, every).unwrap();
    expect_event(&mut poll, &mut events, TIMER);
    expect_event(&mut poll, &mut events, TIMER);
    assert!(timer.read().unwrap() >= 2);
}
