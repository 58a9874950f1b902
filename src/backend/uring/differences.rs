//! The documented differences from epoll that come from the kernel's poll
//! requests themselves, shown next to epoll's behaviour on the same steps
//! (the reference model, `model/src/uring.rs`, checks them in random
//! sequences too).

use crate::{Backend, Events, Interest, Poll, Token, Trigger};
use std::io::Write;
use std::net::Shutdown;
use std::os::unix::net::UnixStream;
use std::time::Duration;

fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    (a, b)
}

/// The events of one zero-timeout poll.
fn poll_once(poll: &mut Poll) -> Vec<(Token, bool, bool)> {
    let mut events = Events::with_capacity(8);
    poll.poll(&mut events, Some(Duration::ZERO)).unwrap();
    events
        .iter()
        .map(|e| (e.token(), e.is_read_closed(), e.is_priority()))
        .collect()
}

/// io_uring adds `EPOLLRDHUP` to every poll request (`IO_POLL_UNMASK` in
/// `io_uring/poll.c`), so a peer that shuts down writing completes a
/// request for `WRITABLE` alone with `is_read_closed()`; epoll keeps to the
/// interest.
#[test]
fn read_closed_is_reported_whatever_the_interest_on_io_uring_only() {
    for backend in [Backend::Epoll, Backend::IoUring] {
        let mut poll = Poll::with_backend(backend).unwrap();
        let (ours, peer) = pair();
        poll.registry()
            .register_with(&ours, Token(1), Interest::WRITABLE, Trigger::Edge)
            .unwrap();
        assert_eq!(poll_once(&mut poll), vec![(Token(1), false, false)]);
        peer.shutdown(Shutdown::Write).unwrap();
        // epoll reports the wake-up too, as still writable.
        let read_closed = backend == Backend::IoUring;
        assert_eq!(
            poll_once(&mut poll),
            vec![(Token(1), read_closed, false)],
            "{backend:?}"
        );
    }
}

/// A request woken with a mask takes that mask as its result, and a
/// socket announces new data as `EPOLLIN | EPOLLPRI | …`
/// (`sock_def_readable`): with `PRIORITY` in the interest, io_uring's
/// event says `is_priority()` although no urgent data came; epoll polls
/// the socket again and says only readable.
#[test]
fn socket_data_shows_priority_on_io_uring_only() {
    for backend in [Backend::Epoll, Backend::IoUring] {
        let mut poll = Poll::with_backend(backend).unwrap();
        let (ours, mut peer) = pair();
        let interest = Interest::READABLE | Interest::PRIORITY;
        poll.registry()
            .register_with(&ours, Token(2), interest, Trigger::Edge)
            .unwrap();
        assert_eq!(poll_once(&mut poll), vec![]);
        peer.write_all(b"x").unwrap();
        let priority = backend == Backend::IoUring;
        assert_eq!(
            poll_once(&mut poll),
            vec![(Token(2), false, priority)],
            "{backend:?}"
        );
    }
}

/// epoll refuses a regular file (`EPERM`); io_uring accepts it as always
/// ready: an edge registration reports it once, a level one on every poll.
#[test]
fn a_regular_file_is_always_ready_on_io_uring() {
    let file = std::fs::File::open(std::env::current_exe().unwrap()).unwrap();
    let epoll = Poll::with_backend(Backend::Epoll).unwrap();
    let refused = epoll
        .registry()
        .register(&file, Token(3), Interest::READABLE);
    assert_eq!(
        refused.unwrap_err().raw_os_error(),
        Some(crate::sys::EPERM as i32)
    );
    let mut poll = Poll::with_backend(Backend::IoUring).unwrap();
    let registry = poll.registry();
    registry
        .register_with(&file, Token(3), Interest::READABLE, Trigger::Level)
        .unwrap();
    for _ in 0..3 {
        assert_eq!(poll_once(&mut poll), vec![(Token(3), false, false)]);
    }
    poll.registry()
        .reregister_with(&file, Token(4), Interest::READABLE, Trigger::Edge)
        .unwrap();
    assert_eq!(poll_once(&mut poll), vec![(Token(4), false, false)]);
    assert_eq!(poll_once(&mut poll), vec![]);
}

/// The kernel cancels a thread's requests when it exits. A registration a
/// short-lived thread submitted must keep reporting after the thread is
/// gone (found by the model's `threads` target: a lost wake).
#[test]
fn a_registration_submitted_by_a_thread_that_exited_keeps_reporting() {
    use crate::backend::uring::Selector;
    let selector = Selector::new().unwrap();
    let (ours, mut peer) = pair();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&ours);
    std::thread::scope(|s| {
        s.spawn(|| {
            selector
                .register(fd, Token(7), Interest::READABLE, Trigger::Edge)
                .unwrap();
            // A zero-timeout select submits the queued request: this
            // thread is its submitter, and then it exits.
            let mut events = Vec::with_capacity(8);
            selector
                .select(&mut events, 8, Some(Duration::ZERO))
                .unwrap();
            assert!(events.is_empty());
        });
    });
    peer.write_all(b"x").unwrap();
    let mut events = Vec::with_capacity(8);
    // The cancellation's completion may come a moment after the thread's
    // exit (then the first wait returns empty-handed); a wait ends as soon
    // as the event comes.
    for _ in 0..2 {
        selector
            .select(&mut events, 8, Some(Duration::from_secs(5)))
            .unwrap();
        if !events.is_empty() {
            break;
        }
    }
    let tokens: Vec<Token> = events.iter().map(|e| e.token()).collect();
    assert_eq!(tokens, vec![Token(7)]);
}
