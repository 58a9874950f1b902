//! `Poll::poll`: timeouts, capacity, the `Events` buffer, and the auto
//! traits and fd access a user of `Poll` relies on.
//!
//! Timing checks are lower bounds only ("never earlier than"): the tests run
//! on busy machines, where any wait may take longer than asked.

mod util;

use evq::{Error, Event, Events, Interest, Iter, Poll, Registry, Token, Trigger, Waker};
use std::io::Write;
use std::sync::{mpsc, Barrier};
use std::time::{Duration, Instant};
use util::{drain, expect_event, poll_now, stream_pair};

/// Polls once with `timeout` while nothing is ready and checks that the call
/// reports nothing and returns no sooner than `at_least` (`timeout` itself,
/// or more where the documented rounding promises more).
fn assert_waits_at_least(timeout: Duration, at_least: Duration) {
    assert_waits_at_least_on(Poll::new().unwrap(), timeout, at_least);
}

/// [`assert_waits_at_least`] on a given poll instance.
fn assert_waits_at_least_on(mut poll: Poll, timeout: Duration, at_least: Duration) {
    let mut events = Events::with_capacity(8);
    // A registered source that never becomes ready: the poll has something
    // to watch, and still nothing to report.
    let (idle, _peer) = stream_pair();
    poll.registry()
        .register(&idle, Token(1), Interest::READABLE)
        .unwrap();

    let start = Instant::now();
    poll.poll(&mut events, Some(timeout)).unwrap();
    let elapsed = start.elapsed();

    assert!(events.is_empty(), "nothing was ready: {events:?}");
    assert!(
        elapsed >= at_least,
        "poll with timeout {timeout:?} returned after {elapsed:?}, before {at_least:?}"
    );
}

#[test]
fn zero_timeout_returns_at_once_when_nothing_is_ready() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (idle, _peer) = stream_pair();
    poll.registry()
        .register(&idle, Token(1), Interest::READABLE)
        .unwrap();

    // If this blocked, the test would hang: returning at all is the check.
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    assert!(events.is_empty(), "{events:?}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn zero_timeout_reports_a_ready_source() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = stream_pair();
    poll.registry()
        .register(&reader, Token(7), Interest::READABLE)
        .unwrap();
    writer.write_all(b"x").unwrap();

    let reported = poll_now(&mut poll, &mut events);
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0].token(), Token(7));
    assert!(reported[0].is_readable());
}

#[test]
fn timeout_of_50_ms_is_never_cut_short() {
    let timeout = Duration::from_millis(50);
    assert_waits_at_least(timeout, timeout);
}

#[test]
fn timeout_with_a_millisecond_fraction_is_never_cut_short() {
    // 1.5 ms: a single wait rounded down to 1 ms would return early.
    let timeout = Duration::from_micros(1500);
    assert_waits_at_least(timeout, timeout);
}

#[test]
fn sub_millisecond_timeouts_are_never_cut_short() {
    // Below the old whole-millisecond resolution of epoll_wait: with
    // epoll_pwait2 (or kqueue) the kernel gets them to the nanosecond, and
    // on older kernels they round up to 1 ms; either way never less.
    for micros in [50, 200, 999] {
        let timeout = Duration::from_micros(micros);
        assert_waits_at_least(timeout, timeout);
    }
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn huge_timeouts_do_not_overflow() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = stream_pair();
    // Level-triggered, so the same readiness is reported to every poll.
    poll.registry()
        .register_with(&reader, Token(3), Interest::READABLE, Trigger::Level)
        .unwrap();
    writer.write_all(b"x").unwrap();

    for timeout in [Duration::MAX, Duration::from_secs(u64::MAX / 2)] {
        // A source is ready, so this returns at once (the test would hang
        // otherwise) and must not panic converting the timeout.
        poll.poll(&mut events, Some(timeout)).unwrap();
        let tokens: Vec<Token> = events.iter().map(Event::token).collect();
        assert_eq!(tokens, [Token(3)], "timeout {timeout:?}");
    }
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn no_timeout_blocks_until_an_event_arrives() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = stream_pair();
    poll.registry()
        .register(&reader, Token(9), Interest::READABLE)
        .unwrap();

    let start = Barrier::new(2);
    std::thread::scope(|s| {
        s.spawn(|| {
            // The poller cannot announce that it is inside epoll_wait; the
            // barrier only orders the write after the poller has started.
            start.wait();
            writer.write_all(b"wake").unwrap();
        });
        start.wait();
        poll.poll(&mut events, None).unwrap();
    });

    let tokens: Vec<Token> = events.iter().map(Event::token).collect();
    assert_eq!(tokens, [Token(9)]);
    assert!(events.iter().next().unwrap().is_readable());
    assert_eq!(drain(&reader), b"wake");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn events_beyond_capacity_are_reported_by_the_next_poll() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(3);
    let mut pairs = Vec::new();
    for i in 0..10 {
        let (reader, mut writer) = stream_pair();
        // Edge-triggered: each source is reported once, so the ten events
        // must be spread over the polls, not repeated by them.
        poll.registry()
            .register(&reader, Token(i), Interest::READABLE)
            .unwrap();
        writer.write_all(b"x").unwrap();
        pairs.push((reader, writer));
    }

    let mut sizes = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let reported = poll_now(&mut poll, &mut events);
        assert!(reported.len() <= events.capacity());
        sizes.push(reported.len());
        seen.extend(reported.iter().map(Event::token));
    }
    assert_eq!(sizes, [3, 3, 3, 1]);
    seen.sort();
    assert_eq!(seen, (0..10).map(Token).collect::<Vec<_>>());
    assert!(poll_now(&mut poll, &mut events).is_empty(), "all reported");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn each_poll_clears_the_previous_events() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = stream_pair();
    poll.registry()
        .register(&reader, Token(1), Interest::READABLE)
        .unwrap();
    writer.write_all(b"x").unwrap();

    expect_event(&mut poll, &mut events, Token(1));
    assert!(!events.is_empty());
    // Read to WouldBlock, which an edge-triggered registration needs
    // before its next event (on Windows, where evq's read re-arms it).
    assert_eq!(drain(&reader), b"x");

    // Edge-triggered and not refilled: this poll times out.
    poll.poll(&mut events, Some(Duration::from_millis(1)))
        .unwrap();
    assert!(events.is_empty(), "stale events kept: {events:?}");
    assert_eq!(events.len(), 0);
    assert_eq!(events.iter().count(), 0);

    writer.write_all(b"y").unwrap();
    expect_event(&mut poll, &mut events, Token(1));
    assert_eq!(events.len(), 1, "one new event, not old plus new");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn events_accessors_and_iterators_agree() {
    fn exact_size<I: ExactSizeIterator + DoubleEndedIterator>(iter: I) -> I {
        iter
    }

    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(16);
    assert_eq!(events.capacity(), 16);
    assert!(events.is_empty());
    assert_eq!(events.len(), 0);

    let mut pairs = Vec::new();
    for i in 0..5 {
        let (reader, mut writer) = stream_pair();
        poll.registry()
            .register(&reader, Token(100 + i), Interest::READABLE)
            .unwrap();
        writer.write_all(b"x").unwrap();
        pairs.push((reader, writer));
    }
    poll.poll(&mut events, Some(util::PATIENCE)).unwrap();
    // All five were ready before the call: one poll reports them all.
    assert_eq!(events.len(), 5);
    assert!(!events.is_empty());
    assert_eq!(events.capacity(), 16, "polling does not change capacity");

    let by_iter: Vec<Token> = events.iter().map(Event::token).collect();
    let by_ref: Vec<Token> = (&events).into_iter().map(Event::token).collect();
    let mut by_for = Vec::new();
    for event in &events {
        by_for.push(event.token());
    }
    assert_eq!(by_iter, by_ref);
    assert_eq!(by_iter, by_for);
    let mut sorted = by_iter.clone();
    sorted.sort();
    assert_eq!(sorted, (100..105).map(Token).collect::<Vec<_>>());

    let mut iter: Iter<'_> = exact_size(events.iter());
    assert_eq!(iter.len(), 5);
    assert_eq!(iter.size_hint(), (5, Some(5)));
    iter.next();
    assert_eq!(iter.len(), 4);
    let last = iter.next_back().map(Event::token);
    assert_eq!(last, by_iter.last().copied());
    assert_eq!(iter.len(), 3);
    assert_eq!(iter.by_ref().count(), 3);
    assert!(iter.next().is_none(), "fused");

    events.clear();
    assert!(events.is_empty());
    assert_eq!(events.len(), 0);
    assert_eq!(events.iter().len(), 0);
    assert_eq!(events.capacity(), 16, "clear keeps the capacity");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn zero_capacity_events_are_rejected() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(0);
    assert_eq!(events.capacity(), 0);
    let (reader, mut writer) = stream_pair();
    poll.registry()
        .register(&reader, Token(1), Interest::READABLE)
        .unwrap();
    writer.write_all(b"x").unwrap();

    for timeout in [Some(Duration::ZERO), Some(Duration::from_secs(1)), None] {
        match poll.poll(&mut events, timeout) {
            Err(error @ Error::InvalidInput { .. }) => {
                assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
            }
            other => panic!("expected InvalidInput for {timeout:?}, got {other:?}"),
        }
        assert!(events.is_empty());
    }

    // Nothing was consumed: a usable buffer still gets the event.
    let mut events = Events::with_capacity(1);
    expect_event(&mut poll, &mut events, Token(1));
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn huge_capacity_is_clamped_to_what_the_kernel_accepts() {
    let mut events = Events::with_capacity(usize::MAX);
    let max = i32::MAX as usize / size_of::<Event>();
    assert!(events.capacity() > 0);
    assert!(
        events.capacity() <= max,
        "capacity {} is more than one epoll_wait can return ({max})",
        events.capacity()
    );

    // The kernel refuses (EINVAL) a maxevents over its own limit: a poll
    // with the clamped capacity must work.
    let mut poll = Poll::new().unwrap();
    let (reader, mut writer) = stream_pair();
    poll.registry()
        .register(&reader, Token(2), Interest::READABLE)
        .unwrap();
    writer.write_all(b"x").unwrap();
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    let tokens: Vec<Token> = events.iter().map(Event::token).collect();
    assert_eq!(tokens, [Token(2)]);
}

#[test]
fn handles_are_thread_safe_and_debuggable() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_debug<T: std::fmt::Debug>() {}

    assert_send_sync::<Poll>();
    assert_send_sync::<Registry>();
    assert_send_sync::<Events>();
    assert_send_sync::<Event>();
    assert_send_sync::<Waker>();
    assert_send_sync::<Token>();
    assert_send_sync::<Error>();
    assert_debug::<Poll>();
    assert_debug::<Registry>();
    assert_debug::<Events>();
    assert_debug::<Event>();
    assert_debug::<Waker>();

    // And they really can be moved to another thread and used there.
    let poll = Poll::new().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut poll = poll;
        let mut events = Events::with_capacity(4);
        poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
        tx.send((poll, events)).unwrap();
    });
    let (poll, events) = rx.recv().unwrap();
    assert!(format!("{poll:?}").contains("Poll"));
    assert_eq!(format!("{events:?}"), "[]");
}

#[cfg(unix)]
#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn poll_exposes_its_descriptor() {
    use std::os::fd::{AsFd, AsRawFd};

    let poll = Poll::new().unwrap();
    let raw = poll.as_raw_fd();
    assert!(raw >= 0);
    assert_eq!(poll.as_fd().as_raw_fd(), raw);
    assert_eq!(poll.registry().as_raw_fd(), raw, "the registry shares it");
    // What the fd is, from /proc: only Linux has it, and only epoll's is
    // `[eventpoll]`.
    #[cfg(evq_epoll)]
    {
        let target = std::fs::read_link(format!("/proc/self/fd/{raw}")).unwrap();
        let expected = match poll.backend() {
            evq::Backend::IoUring => "anon_inode:[io_uring]",
            _ => "anon_inode:[eventpoll]",
        };
        assert_eq!(target.to_str(), Some(expected));
    }
}

#[cfg(windows)]
#[test]
fn poll_exposes_its_completion_port() {
    use std::os::windows::io::{AsHandle, AsRawHandle};

    let poll = Poll::new().unwrap();
    let raw = poll.as_raw_handle();
    assert!(!raw.is_null());
    assert_eq!(poll.as_handle().as_raw_handle(), raw);
    assert_eq!(
        poll.registry().as_raw_handle(),
        raw,
        "the registry shares it"
    );
}

// A poll is a source only where its queue is a descriptor: on Windows the
// completion port is not a socket.
#[cfg(unix)]
#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's epoll cannot watch an epoll fd (unsupported operation)"
)]
#[cfg_attr(
    evq_force_kqueue,
    ignore = "libkqueue's kqueue descriptor is a pipe's write end (its README): it cannot be nested"
)]
fn a_poll_nested_in_another_reports_readiness() {
    // The descriptor is a real epoll (or kqueue) fd: polling it (nesting)
    // sees the readiness of the inner poll.
    let mut poll = Poll::new().unwrap();
    let mut outer = Poll::new().unwrap();
    outer
        .registry()
        .register(&poll, Token(1), Interest::READABLE)
        .unwrap();
    let mut events = Events::with_capacity(4);
    assert!(poll_now(&mut outer, &mut events).is_empty());
    let (reader, mut writer) = stream_pair();
    poll.registry()
        .register(&reader, Token(2), Interest::READABLE)
        .unwrap();
    // io_uring queues the registration until the inner poll's next call.
    if poll.backend() == evq::Backend::IoUring {
        assert!(poll_now(&mut poll, &mut events).is_empty());
    }
    writer.write_all(b"x").unwrap();
    let event = expect_event(&mut outer, &mut events, Token(1));
    assert!(event.is_readable());
}
