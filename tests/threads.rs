//! The registry used from other threads while a poll is in progress.

mod util;

use evq::{Error, Event, Events, Interest, Poll, Registry, Token, Trigger, Waker};
use std::collections::HashSet;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use util::{poll_now, stream_pair, Stream, PATIENCE};

const THREADS: usize = 4;
const PER_THREAD: usize = 50;
/// Ends the poller's wait when the test has given up on it.
const GIVE_UP: Token = Token(usize::MAX);

/// A registered, readable reader, its writer and its token.
type Source = (Stream, Stream, Token);

fn all_tokens() -> HashSet<Token> {
    (0..THREADS * PER_THREAD).map(Token).collect()
}

/// Registers `PER_THREAD` stream pairs with tokens of thread `thread` and
/// makes each readable.
fn register_readable(registry: &Registry, thread: usize) -> Vec<Source> {
    (0..PER_THREAD)
        .map(|i| {
            let token = Token(thread * PER_THREAD + i);
            let (reader, mut writer) = stream_pair();
            registry
                .register(&reader, token, Interest::READABLE)
                .unwrap();
            writer.write_all(b"x").unwrap();
            (reader, writer, token)
        })
        .collect()
}

fn deregister_all(registry: &Registry, sources: &[Source]) {
    for (reader, _, _) in sources {
        registry.deregister(reader).unwrap();
    }
}

/// Polls without a timeout until every token in `expected` was reported,
/// or `GIVE_UP` was. Returns the tokens seen.
fn collect(poll: &mut Poll, expected: &HashSet<Token>) -> HashSet<Token> {
    let mut events = Events::with_capacity(16);
    let mut seen = HashSet::new();
    while !seen.is_superset(expected) {
        poll.poll(&mut events, None).unwrap();
        for event in &events {
            if event.token() == GIVE_UP {
                return seen;
            }
            assert!(event.is_readable(), "{event:?}");
            seen.insert(event.token());
        }
    }
    seen
}

/// Waits for the poller's `done` signal; if it has not come within
/// [`PATIENCE`], wakes the poller so the test fails instead of hanging.
fn await_poller(done: &mpsc::Receiver<()>, give_up: &Waker) {
    if done.recv_timeout(PATIENCE).is_err() {
        give_up.wake().unwrap();
    }
}

/// Checks the tokens the poller saw, then that deregistered sources stay
/// silent: fresh data on every one of them reports nothing.
fn check(poll: &mut Poll, seen: &HashSet<Token>, sources: &mut [Source]) {
    let expected = all_tokens();
    let missing: Vec<_> = expected.difference(seen).collect();
    let unexpected: Vec<_> = seen.difference(&expected).collect();
    assert!(missing.is_empty(), "never reported: {missing:?}");
    assert!(unexpected.is_empty(), "never registered: {unexpected:?}");

    assert_eq!(sources.len(), THREADS * PER_THREAD);
    for (_, writer, _) in sources.iter_mut() {
        writer.write_all(b"y").unwrap();
    }
    let mut events = Events::with_capacity(THREADS * PER_THREAD);
    let reported = poll_now(poll, &mut events);
    assert!(reported.is_empty(), "deregistered, yet: {reported:?}");
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn cloned_registries_register_from_threads_while_another_polls() {
    let mut poll = Poll::new().unwrap();
    let give_up = Waker::new(poll.registry(), GIVE_UP).unwrap();
    let registries: Vec<Registry> = (0..THREADS)
        .map(|_| poll.registry().try_clone().unwrap())
        .collect();

    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let poller = std::thread::spawn(move || {
        started_tx.send(()).unwrap();
        let seen = collect(&mut poll, &all_tokens());
        done_tx.send(()).unwrap();
        (poll, seen)
    });
    started_rx.recv().unwrap();

    let mut go_on = Vec::new();
    let registrars: Vec<_> = registries
        .into_iter()
        .enumerate()
        .map(|(thread, registry)| {
            let (go_tx, go_rx) = mpsc::channel::<()>();
            go_on.push(go_tx);
            std::thread::spawn(move || {
                let sources = register_readable(&registry, thread);
                // Deregister only after the poller has had its chance.
                go_rx.recv().unwrap();
                deregister_all(&registry, &sources);
                sources
            })
        })
        .collect();

    await_poller(&done_rx, &give_up);
    let (mut poll, seen) = poller.join().unwrap();
    // A registrar that panicked is not listening: its join reports why.
    for go in &go_on {
        let _ = go.send(());
    }
    let mut sources: Vec<Source> = registrars
        .into_iter()
        .flat_map(|thread| thread.join().unwrap())
        .collect();
    check(&mut poll, &seen, &mut sources);
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri's socket pairs have no send/recv, which std's UnixStream uses"
)]
fn a_shared_registry_reference_registers_from_scoped_threads() {
    let mut poll = Poll::new().unwrap();
    let give_up = Waker::new(poll.registry(), GIVE_UP).unwrap();
    // `poll` is borrowed mutably by the poller, so share a clone's `&`.
    let registry = poll.registry().try_clone().unwrap();

    let (started_tx, started_rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel();
    let (seen, mut sources) = std::thread::scope(|s| {
        // Inside the scope, so a panic here drops the senders and releases
        // the registrars before the scope waits for them.
        let mut go_on = Vec::new();
        let poller = s.spawn(|| {
            started_tx.send(()).unwrap();
            let seen = collect(&mut poll, &all_tokens());
            done_tx.send(()).unwrap();
            seen
        });
        started_rx.recv().unwrap();

        let registrars: Vec<_> = (0..THREADS)
            .map(|thread| {
                let (go_tx, go_rx) = mpsc::channel::<()>();
                go_on.push(go_tx);
                let registry: &Registry = &registry;
                s.spawn(move || {
                    let sources = register_readable(registry, thread);
                    go_rx.recv().unwrap();
                    deregister_all(registry, &sources);
                    sources
                })
            })
            .collect();

        await_poller(&done_rx, &give_up);
        let seen = poller.join().unwrap();
        // A registrar that panicked is not listening: its join reports why.
        for go in &go_on {
            let _ = go.send(());
        }
        let sources: Vec<Source> = registrars
            .into_iter()
            .flat_map(|thread| thread.join().unwrap())
            .collect();
        (seen, sources)
    });
    check(&mut poll, &seen, &mut sources);
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn after_deregister_returns_no_later_poll_reports_the_source() {
    const TARGET: Token = Token(1);
    const MARKER: Token = Token(2);

    // Several rounds, to meet the deregistration at different points of
    // the poller's loop.
    for round in 0..20 {
        let mut poll = Poll::new().unwrap();
        let registry = poll.registry().try_clone().unwrap();
        let (reader, mut writer) = stream_pair();
        let (marker, mut marker_writer) = stream_pair();
        // Level-triggered: while registered and unread, every poll reports
        // it, so a poll that starts after the deregistration would too if
        // the registration (or its pending readiness) survived.
        registry
            .register_with(&reader, TARGET, Interest::READABLE, Trigger::Level)
            .unwrap();
        registry
            .register(&marker, MARKER, Interest::READABLE)
            .unwrap();
        writer.write_all(b"x").unwrap();

        let deregistered = AtomicBool::new(false);
        let (seen_tx, seen_rx) = mpsc::channel();
        let outcome = std::thread::scope(|s| {
            let poller = s.spawn(|| {
                let mut events = Events::with_capacity(8);
                let deadline = Instant::now() + PATIENCE;
                let mut marker_seen = false;
                // Two more polls once the marker (written after the
                // deregistration) was seen.
                let mut polls_left = 2;
                while polls_left > 0 {
                    // Read before the poll starts: if true, `deregister`
                    // had returned before this poll began.
                    let after = deregistered.load(Ordering::SeqCst);
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err("the marker was never reported".to_string());
                    }
                    let wait = if marker_seen {
                        Duration::from_millis(5)
                    } else {
                        left
                    };
                    poll.poll(&mut events, Some(wait)).unwrap();
                    for event in &events {
                        match event.token() {
                            TARGET if after => {
                                return Err(format!("reported after deregister: {event:?}"));
                            }
                            TARGET => {
                                let _ = seen_tx.send(());
                            }
                            MARKER => marker_seen = true,
                            _ => return Err(format!("unknown event {event:?}")),
                        }
                    }
                    if marker_seen {
                        polls_left -= 1;
                    }
                }
                Ok(())
            });

            // The poller is looping and has seen the source while it was
            // registered; now take it away under the poller's feet.
            seen_rx
                .recv_timeout(PATIENCE)
                .expect("reported while registered");
            registry.deregister(&reader).unwrap();
            deregistered.store(true, Ordering::SeqCst);
            // New readiness after the deregistration must not count either.
            writer.write_all(b"more").unwrap();
            marker_writer.write_all(b"m").unwrap();
            poller.join().unwrap()
        });
        if let Err(problem) = outcome {
            panic!("round {round}: {problem}");
        }

        let mut events = Events::with_capacity(8);
        let reported: Vec<Token> = poll_now(&mut poll, &mut events)
            .iter()
            .map(Event::token)
            .collect();
        assert!(!reported.contains(&TARGET), "round {round}: {reported:?}");
        match registry.deregister(&reader) {
            Err(Error::NotRegistered { .. }) => {}
            other => panic!("round {round}: deregistered twice: {other:?}"),
        }
    }
}

/// Runs `call` on `THREADS` threads at once (released together by a
/// barrier) and returns how many succeeded and the errors of the rest.
fn race(call: impl Fn() -> evq::Result<()> + Sync) -> (usize, Vec<Error>) {
    let start = std::sync::Barrier::new(THREADS);
    let outcomes: Vec<evq::Result<()>> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    call()
                })
            })
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let errors: Vec<Error> = outcomes.into_iter().filter_map(Result::err).collect();
    (THREADS - errors.len(), errors)
}

#[test]
#[cfg_attr(miri, ignore = "Miri's epoll supports edge triggers only")]
fn threads_racing_on_one_fd_see_exactly_one_success() {
    let poll = Poll::new().unwrap();
    let registry = poll.registry();
    let (reader, _writer) = stream_pair();
    for round in 0..PER_THREAD {
        let (won, lost) = race(|| registry.register(&reader, Token(round), Interest::READABLE));
        assert_eq!(won, 1, "round {round}: registered {won} times: {lost:?}");
        assert!(
            lost.iter()
                .all(|e| matches!(e, Error::AlreadyRegistered { .. })),
            "{lost:?}"
        );

        let (won, lost) = race(|| {
            registry.reregister_with(&reader, Token(round), Interest::READABLE, Trigger::Level)
        });
        assert_eq!(won, THREADS, "every reregister finds it: {lost:?}");

        let (won, lost) = race(|| registry.deregister(&reader));
        assert_eq!(won, 1, "round {round}: deregistered {won} times: {lost:?}");
        assert!(
            lost.iter()
                .all(|e| matches!(e, Error::NotRegistered { .. })),
            "{lost:?}"
        );
    }
}
