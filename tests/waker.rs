//! `Waker`: waking a poll from other threads, coalescing, many wakers,
//! dropping one.

mod util;

use evq::{Event, Events, Poll, Token, Waker};
use std::sync::{Arc, Barrier};
use std::time::Duration;
use util::{expect_event, poll_now, PATIENCE};
// For the eventfd counter test, which only the epoll backend has.
#[cfg(evq_epoll)]
use {
    std::os::fd::{AsRawFd, BorrowedFd, RawFd},
    util::eventfd_add,
};

const WAKE: Token = Token(0xAA);

fn tokens(events: &[Event]) -> Vec<Token> {
    let mut tokens: Vec<Token> = events.iter().map(Event::token).collect();
    tokens.sort();
    tokens
}

#[test]
fn wake_from_another_thread_ends_a_poll_without_timeout() {
    let mut poll = Poll::new().unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
    let mut events = Events::with_capacity(8);

    let start = Arc::new(Barrier::new(2));
    let thread = {
        let (waker, start) = (Arc::clone(&waker), Arc::clone(&start));
        std::thread::spawn(move || {
            // Only orders the wake after the poller has started; whether it
            // is already inside epoll_wait cannot be known, and either way
            // the poll must return with the event.
            start.wait();
            waker.wake()
        })
    };
    start.wait();
    poll.poll(&mut events, None).unwrap();
    thread.join().unwrap().unwrap();

    let reported: Vec<Event> = events.iter().copied().collect();
    assert_eq!(tokens(&reported), [WAKE]);
    assert!(reported[0].is_readable());
    assert!(!reported[0].is_error());
}

#[test]
fn wakes_before_a_poll_are_coalesced_into_one_event() {
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    let mut events = Events::with_capacity(8);

    assert!(poll_now(&mut poll, &mut events).is_empty(), "not woken yet");
    for _ in 0..100 {
        waker.wake().unwrap();
    }
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
    assert!(
        poll_now(&mut poll, &mut events).is_empty(),
        "the event was collected: nothing more until the next wake"
    );

    // Nothing drained or reset in between: a new wake is a new event, and
    // so is the one after it.
    for _ in 0..3 {
        waker.wake().unwrap();
        assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
        assert!(poll_now(&mut poll, &mut events).is_empty());
    }
}

#[test]
fn each_waker_reports_its_own_token() {
    let mut poll = Poll::new().unwrap();
    let wakers: Vec<Waker> = (0..5)
        .map(|i| Waker::new(poll.registry(), Token(i)).unwrap())
        .collect();
    let mut events = Events::with_capacity(16);

    wakers[1].wake().unwrap();
    wakers[3].wake().unwrap();
    assert_eq!(
        tokens(&poll_now(&mut poll, &mut events)),
        [Token(1), Token(3)]
    );

    for waker in &wakers {
        waker.wake().unwrap();
    }
    assert_eq!(
        tokens(&poll_now(&mut poll, &mut events)),
        (0..5).map(Token).collect::<Vec<_>>()
    );
    assert!(poll_now(&mut poll, &mut events).is_empty());
}

#[test]
fn dropping_a_waker_removes_it_from_the_poll() {
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(8);
    let other = Waker::new(poll.registry(), Token(1)).unwrap();

    // Woken, then dropped before the poll collected the event: the waker
    // (and its registration) is gone, so the poll reports nothing for it.
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    waker.wake().unwrap();
    drop(waker);
    other.wake().unwrap();
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [Token(1)]);
    // Not later either: a poll that waits reports nothing.
    poll.poll(&mut events, Some(Duration::from_millis(10)))
        .unwrap();
    assert!(events.is_empty(), "{events:?}");

    // Its token is free for a new waker, which works as usual.
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    waker.wake().unwrap();
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
}

#[test]
fn wake_from_four_threads_at_once() {
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    let mut events = Events::with_capacity(8);

    let start = Barrier::new(5);
    std::thread::scope(|s| {
        let threads: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    for _ in 0..1000 {
                        waker.wake().unwrap();
                    }
                })
            })
            .collect();
        start.wait();
        // Polled while the threads wake: the event arrives, and only ever
        // for the waker's token.
        let event = expect_event(&mut poll, &mut events, WAKE);
        assert!(event.is_readable());
        for thread in threads {
            thread.join().expect("wake failed on a thread");
        }
    });

    // Collect whatever the last wakes left, then the waker still works.
    let leftover = poll_now(&mut poll, &mut events);
    assert!(leftover.iter().all(|e| e.token() == WAKE), "{leftover:?}");
    assert!(poll_now(&mut poll, &mut events).is_empty());
    waker.wake().unwrap();
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
}

/// The fd registered with `poll` under `token`, from the kernel's own list
/// of the epoll instance's watches (`tfd: <fd> events: <hex> data: <hex>`
/// lines in /proc/self/fdinfo, see proc(5)).
#[cfg(evq_epoll)]
fn registered_fd(poll: &Poll, token: Token) -> RawFd {
    let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", poll.as_raw_fd())).unwrap();
    let found: Vec<RawFd> = info
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["tfd:", fd, "events:", _, "data:", data, ..] => {
                    let data = u64::from_str_radix(data, 16).unwrap();
                    (data == token.0 as u64).then(|| fd.parse().unwrap())
                }
                _ => None,
            }
        })
        .collect();
    assert_eq!(found.len(), 1, "one watch with {token:?} in:\n{info}");
    found[0]
}

// The epoll waker is an eventfd, whose counter can fill up; the kqueue
// waker is an EVFILT_USER event, which has no counter.
#[cfg(evq_epoll)]
#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
fn wake_succeeds_even_when_the_counter_is_full() {
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    let mut events = Events::with_capacity(8);

    // Fill the waker's eventfd counter to its maximum, u64::MAX - 1, as
    // ~2^64 wakes would: a plain write of 1 would now fail with EAGAIN.
    let fd = registered_fd(&poll, WAKE);
    // SAFETY: `fd` is the waker's eventfd, open for as long as `waker`
    // lives; it is only borrowed here to duplicate it.
    let eventfd = unsafe { BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .unwrap();
    eventfd_add(&eventfd, u64::MAX - 1);
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);

    waker.wake().expect("wake with a full counter");
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
    waker.wake().unwrap();
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
}

/// Reads and resets an eventfd's counter: how much was written since the
/// last read.
#[cfg(evq_epoll)]
fn take_count(eventfd: &std::os::fd::OwnedFd) -> u64 {
    use std::io::Read;
    let mut bytes = [0u8; 8];
    let mut file = std::fs::File::from(eventfd.try_clone().unwrap());
    match file.read_exact(&mut bytes) {
        Ok(()) => u64::from_ne_bytes(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => 0,
        Err(e) => panic!("eventfd read: {e}"),
    }
}

// Each write of the epoll waker adds 1 to its eventfd's counter, so the
// counter shows how many wakes made a system call.
#[cfg(evq_epoll)]
#[test]
#[cfg_attr(miri, ignore = "Miri isolates the file system and /proc")]
#[cfg_attr(
    all(evq_qemu, target_endian = "big"),
    ignore = "qemu-user converts an eventfd's counter to the guest's byte order only on \
              the fd eventfd() returned, not on the duplicate (fcntl F_DUPFD_CLOEXEC) this \
              test reads: on a big-endian guest the count reads byte-swapped"
)]
fn wakes_while_one_is_pending_make_no_system_call() {
    let mut poll = Poll::new().unwrap();
    let waker = Waker::new(poll.registry(), WAKE).unwrap();
    let mut events = Events::with_capacity(8);
    let fd = registered_fd(&poll, WAKE);
    // SAFETY: `fd` is the waker's eventfd, open for as long as `waker`
    // lives; it is only borrowed here to duplicate it.
    let eventfd = unsafe { BorrowedFd::borrow_raw(fd) }
        .try_clone_to_owned()
        .unwrap();

    // (Reading the counter makes the eventfd unreadable, which would drop
    // the pending event: poll first, count after.)
    for _ in 0..100 {
        waker.wake().unwrap();
    }
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
    assert_eq!(take_count(&eventfd), 1, "100 pending wakes, one write");

    // Collected: the next wake must write again, or it would be lost.
    waker.wake().unwrap();
    waker.wake().unwrap();
    assert_eq!(tokens(&poll_now(&mut poll, &mut events)), [WAKE]);
    assert_eq!(take_count(&eventfd), 1);
}

// A lost wake leaves the poller waiting for its whole patience: each of
// these round trips needs the previous wake to have been collected, so a
// wake wrongly counted as pending fails the test instead of passing.
#[test]
#[cfg_attr(miri, ignore = "20,000 round trips take too long under Miri")]
fn no_wake_is_lost_in_a_long_ping_pong() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::mpsc;

    const ROUNDS: u64 = 20_000;
    let mut poll = Poll::new().unwrap();
    let waker = Arc::new(Waker::new(poll.registry(), WAKE).unwrap());
    let sent = Arc::new(AtomicU64::new(0));
    let (ack, acks) = mpsc::channel::<u64>();

    let pinger = {
        let (waker, sent) = (Arc::clone(&waker), Arc::clone(&sent));
        std::thread::spawn(move || {
            for round in 1..=ROUNDS {
                sent.store(round, Ordering::Release);
                waker.wake().unwrap();
                assert_eq!(acks.recv().unwrap(), round);
            }
        })
    };

    let mut events = Events::with_capacity(8);
    let mut seen = 0;
    while seen < ROUNDS {
        poll.poll(&mut events, Some(PATIENCE)).unwrap();
        assert!(
            !events.is_empty(),
            "no wake within {PATIENCE:?} after round {seen}: a wake was lost"
        );
        let round = sent.load(Ordering::Acquire);
        if round > seen {
            seen = round;
            ack.send(round).unwrap();
        }
    }
    pinger.join().unwrap();
}
