//! What the io_uring backend promises beyond the portable suite: how many
//! times it enters the kernel. `ring::tests::ENTERS` counts this thread's
//! `io_uring_enter` calls, the only system call `Selector::select` and the
//! registry methods make on this backend.

use super::ring::tests::ENTERS;
use crate::{Backend, Events, Interest, Poll, Token, Trigger};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

fn enters() -> u64 {
    ENTERS.with(|count| count.get())
}

fn io_uring_poll() -> Poll {
    Poll::with_backend(Backend::IoUring).expect("io_uring is allowed where these tests run")
}

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// Polls once without blocking; returns the tokens and how many times the
/// poll entered the kernel.
fn poll_zero(poll: &mut Poll, events: &mut Events) -> (Vec<Token>, u64) {
    let before = enters();
    poll.poll(events, Some(Duration::ZERO)).unwrap();
    (
        events.iter().map(|e| e.token()).collect(),
        enters() - before,
    )
}

#[test]
fn a_zero_timeout_poll_with_nothing_queued_makes_no_system_call() {
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    let sources: Vec<_> = (0..100).map(|_| pair()).collect();
    for (i, (reader, _)) in sources.iter().enumerate() {
        poll.registry()
            .register(reader, Token(i), Interest::READABLE)
            .unwrap();
    }
    // The first poll submits the 100 registrations: one enter for all.
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 1));
    for _ in 0..1000 {
        assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 0));
    }
}

#[test]
fn a_zero_timeout_poll_reports_readiness_without_a_system_call_once_posted() {
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = pair();
    poll.registry()
        .register(&reader, Token(1), Interest::READABLE)
        .unwrap();
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 1));
    // This thread's own write wakes the poll request, whose task work runs
    // before the write returns to user space: the completion is in the CQ.
    writer.write_all(b"x").unwrap();
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![Token(1)], 0));
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 0));
}

/// Readiness the kernel saw on another CPU, while this thread stayed in
/// user space (it spins on an atomic: no system call after the write):
/// the completion is still task work for this thread, flagged in the SQ
/// flags, and a zero-timeout poll must find it. Without the flag check it
/// would wait for this thread's next kernel entry (a scheduler tick at
/// best) and report nothing.
#[test]
fn a_zero_timeout_poll_reports_readiness_seen_on_another_thread() {
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    let (reader, writer) = pair();
    poll.registry()
        .register(&reader, Token(1), Interest::READABLE)
        .unwrap();
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 1));
    for round in 0..200 {
        let written = AtomicBool::new(false);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                (&writer).write_all(b"x").unwrap();
                written.store(true, Ordering::Release);
            });
            while !written.load(Ordering::Acquire) {
                std::hint::spin_loop();
            }
            let (tokens, _) = poll_zero(&mut poll, &mut events);
            assert_eq!(tokens, [Token(1)], "round {round}");
        });
        let mut byte = [0];
        (&reader).read_exact(&mut byte).unwrap();
    }
}

#[test]
fn registrations_are_batched_into_the_next_poll() {
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    let sources: Vec<_> = (0..10).map(|_| pair()).collect();
    let before = enters();
    for (i, (reader, _)) in sources.iter().enumerate() {
        poll.registry()
            .register(reader, Token(i), Interest::READABLE)
            .unwrap();
    }
    assert_eq!(enters(), before, "registering makes no system call");
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 1));
}

#[test]
fn a_registration_withdrawn_before_any_poll_never_reaches_the_kernel() {
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = pair();
    let before = enters();
    for _ in 0..100 {
        poll.registry()
            .register(&reader, Token(1), Interest::READABLE)
            .unwrap();
        poll.registry().deregister(&reader).unwrap();
    }
    assert_eq!(enters(), before);
    writer.write_all(b"x").unwrap();
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 0));
}

#[test]
fn rearming_a_fired_oneshot_costs_only_the_next_poll() {
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    let (reader, mut writer) = pair();
    writer.write_all(b"x").unwrap();
    let registry = poll.registry();
    registry
        .register_with(&reader, Token(1), Interest::READABLE, Trigger::Oneshot)
        .unwrap();
    for _ in 0..10 {
        // Still readable: the submitted re-arm completes inside the enter.
        assert_eq!(poll_zero(&mut poll, &mut events), (vec![Token(1)], 1));
        assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 0));
        poll.registry()
            .reregister_with(&reader, Token(1), Interest::READABLE, Trigger::Oneshot)
            .unwrap();
    }
}

/// A loop that always finds events in the CQ must still submit what was
/// registered meanwhile (a bug once starved such registrations).
#[test]
fn registrations_reach_the_kernel_even_when_every_poll_has_events() {
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    let (busy, mut busy_peer) = pair();
    poll.registry()
        .register(&busy, Token(1), Interest::READABLE)
        .unwrap();
    busy_peer.write_all(b"x").unwrap();
    assert_eq!(poll_zero(&mut poll, &mut events).0, [Token(1)]);

    let (late, mut late_peer) = pair();
    poll.registry()
        .register(&late, Token(2), Interest::READABLE)
        .unwrap();
    late_peer.write_all(b"x").unwrap();
    // The busy source has a completion waiting at every poll.
    busy_peer.write_all(b"x").unwrap();
    let (tokens, entered) = poll_zero(&mut poll, &mut events);
    assert_eq!(tokens, [Token(1), Token(2)]);
    assert_eq!(entered, 1, "one enter submits the registration");
}

/// The documented difference on `Poll`: when an io_uring poll is dropped,
/// the kernel's teardown of the ring queues task work to every thread that
/// submitted to it, which interrupts a blocking call there (`EINTR`).
#[test]
fn dropping_a_poll_interrupts_a_blocking_call_of_a_thread_that_submitted() {
    let (reader, _writer) = pair();
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    poll.registry()
        .register(&reader, Token(1), Interest::READABLE)
        .unwrap();
    assert_eq!(poll_zero(&mut poll, &mut events), (vec![], 1));
    drop(poll);

    let epoll = Poll::with_backend(Backend::Epoll).unwrap();
    let raw = std::os::fd::AsRawFd::as_raw_fd(&epoll);
    let mut event = crate::sys::epoll_event {
        events: 0,
        data: crate::sys::epoll_data { u64_: 0 },
    };
    // SAFETY: a valid epoll fd with nothing registered, and room for one
    // event; waits at most 10 s (only if the interruption never comes).
    let ret = unsafe { crate::sys::epoll_wait(raw, &mut event, 1, 10_000) };
    let error = std::io::Error::last_os_error();
    assert_eq!(ret, -1);
    assert_eq!(error.kind(), std::io::ErrorKind::Interrupted, "{error}");
}

/// Found by the model's `inputs` target on io_uring: registering a number
/// that is not open (here `i32::MAX`) grew the record's table to that size
/// (an 80 GiB allocation, and an abort). The number is accepted, as every
/// registration is, and dropped when the kernel answers `EBADF`.
#[test]
fn registering_a_huge_fd_number_that_is_not_open_is_dropped_at_the_next_poll() {
    use std::os::fd::BorrowedFd;
    let mut poll = io_uring_poll();
    let mut events = Events::with_capacity(8);
    // SAFETY: the number only travels to the registry, which records it and
    // passes it to the kernel; nothing reads, writes or closes through it.
    let never_open = unsafe { BorrowedFd::borrow_raw(i32::MAX) };
    let registry = poll.registry();
    registry
        .register(&never_open, Token(1), Interest::READABLE)
        .unwrap();
    assert!(matches!(
        registry.register(&never_open, Token(1), Interest::READABLE),
        Err(crate::Error::AlreadyRegistered { .. })
    ));
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    assert!(events.is_empty());
    assert!(matches!(
        poll.registry().deregister(&never_open),
        Err(crate::Error::NotRegistered { .. })
    ));
}
