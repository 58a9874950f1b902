//! The `threads` target: the `registration` operations split across two or
//! three worker threads that share a `Registry`, while another thread polls.
//!
//! The interleaving is the scheduler's, so events are not predicted; what
//! is checked holds in every interleaving:
//!
//! - each worker's registry calls return what the model says: a worker owns
//!   its sources, so their registrations are its alone;
//! - every event carries a token some worker registered, and none carries
//!   the token of a registration whose `deregister` had returned before the
//!   poll began (tokens are unique per registration);
//! - no lost wake: after a worker's `wake`, a poll that returned after the
//!   wake began reports the waker, and the final wake ends the poller;
//! - no fd leak (fuzzing only: `cargo test` runs tests in parallel).

use super::channel::Action;
use super::kernel::{Model, Outcome};
use super::op::{self, Op, Slot, SLOTS};
use super::real::{Source, PATIENCE};
use super::signals_and_children::{forks, run_guard};
use super::uring::{Lingering, Record};
use evq::{Backend, Events, Interest, Poll, Registry, Token, Waker};
use std::collections::HashSet;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Condvar, Mutex};

/// The waker's token; worker tokens have a worker number in bits 28..31.
const WAKER: Token = Token(usize::MAX);

/// What a run checks beyond crashes, deadlocks and wrong events.
#[derive(Clone, Copy, Debug)]
pub struct Checks {
    /// Count the process's fds before and after.
    pub fd_leaks: bool,
}

impl Checks {
    /// Everything: the process runs nothing else meanwhile.
    pub fn fuzzing() -> Checks {
        Checks { fd_leaks: true }
    }

    /// Within `cargo test`, where other tests open fds meanwhile.
    pub fn shared_process() -> Checks {
        Checks { fd_leaks: false }
    }
}

/// A decoded input: how many workers, and each op with its worker.
#[derive(Clone, Debug)]
pub struct Input {
    /// 2 or 3.
    pub workers: usize,
    /// (worker, op), in the order each worker performs its own.
    pub ops: Vec<(usize, Op)>,
}

/// Decodes an input: one byte for the worker count, then (worker, op) pairs.
pub fn decode(data: &[u8]) -> Input {
    let (first, rest) = data.split_first().unwrap_or((&0, &[]));
    let workers = 2 + usize::from(*first) % 2;
    let ops = op::decode::<(u8, Op)>(rest, 96)
        .into_iter()
        .map(|(worker, op)| (usize::from(worker) % workers, op))
        .collect();
    Input { workers, ops }
}

/// What the threads share.
#[derive(Default)]
struct Shared {
    /// Every token passed to a registry call, inserted before the call.
    known: Mutex<HashSet<Token>>,
    /// Tokens of registrations whose `deregister` returned `Ok`.
    dead: Mutex<HashSet<Token>>,
    /// Wakes begun.
    wakes_begun: AtomicU64,
    /// `wakes_begun` as read after the last poll that reported the waker.
    wakes_seen: Mutex<u64>,
    seen_changed: Condvar,
    /// Set after the workers finished: the next waker event ends the poller.
    stop: AtomicBool,
    /// Set when the poller is gone (finished or panicked).
    poller_gone: AtomicBool,
    /// Set when a wake was lost: the poller gives up too.
    abandoned: AtomicBool,
    /// io_uring: the registrations of closed fds, by number, for the worker
    /// whose new source gets the number; held while a worker closes or
    /// opens a source, so that no number changes hands unseen.
    lingering: Mutex<Vec<Lingering>>,
}

/// Marks the poller gone when it returns or unwinds, so that no worker
/// waits for it in vain.
struct Gone<'a>(&'a Shared);

impl Drop for Gone<'_> {
    fn drop(&mut self) {
        self.0.poller_gone.store(true, Ordering::SeqCst);
        let _lock = self.0.wakes_seen.lock();
        self.0.seen_changed.notify_all();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs one input on `backend`; panics on a wrong result, a wrong event or
/// a lost wake.
pub fn run(input: &Input, backend: Backend, checks: Checks) {
    let forking = forks(input.ops.iter().map(|(_, op)| op));
    let _alone = run_guard(forking || backend == Backend::IoUring);
    let _backend = crate::NameOnPanic(backend);
    let before = checks.fd_leaks.then(open_fds);
    run_threads(input, backend);
    if let Some(before) = before {
        let after = open_fds();
        assert_eq!(
            after, before,
            "fds leaked: {before} open before, {after} after"
        );
    }
}

fn run_threads(input: &Input, backend: Backend) {
    let mut poll = crate::new_poll(backend);
    let shared_registry = poll.registry().try_clone().expect("try_clone");
    let waker = Waker::new(poll.registry(), WAKER).expect("Waker::new");
    let shared = Shared::default();
    let start = Barrier::new(input.workers);
    std::thread::scope(|s| {
        let poller = s.spawn(|| poller(&mut poll, &shared));
        let workers: Vec<_> = (0..input.workers)
            .map(|w| {
                let ops: Vec<Op> = input
                    .ops
                    .iter()
                    .filter(|(worker, _)| *worker == w)
                    .map(|(_, op)| *op)
                    .collect();
                let (shared, waker, start) = (&shared, &waker, &start);
                let registry = &shared_registry;
                s.spawn(move || {
                    // Odd workers use a registry of their own.
                    let own = (w % 2 == 1).then(|| registry.try_clone().expect("try_clone"));
                    start.wait();
                    let registry = own.as_ref().unwrap_or(registry);
                    worker(w, &ops, registry, waker, shared, backend);
                })
            })
            .collect();
        let results: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        // The poller stops at the first waker event of a poll begun after
        // `stop` was set; a poll already under way may take the first wake.
        shared.stop.store(true, Ordering::SeqCst);
        while !shared.poller_gone.load(Ordering::SeqCst) {
            wake(&waker, &shared);
        }
        let polled = poller.join();
        for result in results {
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        }
        if let Err(panic) = polled {
            std::panic::resume_unwind(panic);
        }
    });
}

/// Polls (up to [`PATIENCE`] each time) until the final wake, checking
/// every event.
fn poller(poll: &mut Poll, shared: &Shared) {
    let _gone = Gone(shared);
    let mut events = Events::with_capacity(4);
    loop {
        let stopping = shared.stop.load(Ordering::SeqCst);
        let dead_before = lock(&shared.dead).clone();
        poll.poll(&mut events, Some(PATIENCE)).expect("poll");
        let begun = shared.wakes_begun.load(Ordering::SeqCst);
        let known = lock(&shared.known);
        let mut woken = false;
        for event in &events {
            let token = event.token();
            if token == WAKER {
                woken = true;
                continue;
            }
            assert!(
                known.contains(&token),
                "{event:?}: a token nobody registered"
            );
            assert!(
                !dead_before.contains(&token),
                "{event:?}: its registration was deregistered before this poll began"
            );
        }
        drop(known);
        if woken {
            *lock(&shared.wakes_seen) = begun;
            shared.seen_changed.notify_all();
            if stopping {
                return;
            }
        }
        if shared.abandoned.load(Ordering::SeqCst) {
            return;
        }
    }
}

/// One worker's sources and the tokens of their current registrations.
struct Worker<'a> {
    number: usize,
    registry: &'a Registry,
    model: Model,
    sources: [Option<Source>; SLOTS],
    /// Per slot: every token of the current registration's lifetime.
    lifetime: [Vec<Token>; SLOTS],
    generation: usize,
}

fn worker(
    number: usize,
    ops: &[Op],
    registry: &Registry,
    waker: &Waker,
    shared: &Shared,
    backend: Backend,
) {
    let mut worker = Worker {
        number,
        registry,
        model: Model::on(backend),
        sources: Default::default(),
        lifetime: Default::default(),
        generation: 0,
    };
    for (i, op) in ops.iter().enumerate() {
        match *op {
            Op::Wake => wake(waker, shared),
            Op::Poll { .. } => std::thread::yield_now(),
            _ => {
                if let Err(problem) = worker.step(op, shared) {
                    let done: Vec<String> =
                        ops[..=i].iter().map(|op| format!("    {op};")).collect();
                    panic!("worker {number}: {problem}\n{}", done.join("\n"));
                }
            }
        }
    }
    // Its sources close as every other close does: the other workers may
    // still be opening sources that get their numbers.
    let mut lingering = lock(&shared.lingering);
    for index in 0..SLOTS {
        worker.close(Slot(index as u8), &mut lingering);
    }
}

/// Wakes, then waits until a poll that returned after the wake began has
/// reported the waker.
fn wake(waker: &Waker, shared: &Shared) {
    let number = shared.wakes_begun.fetch_add(1, Ordering::SeqCst) + 1;
    waker.wake().expect("wake");
    let deadline = std::time::Instant::now() + PATIENCE;
    let mut seen = lock(&shared.wakes_seen);
    while *seen < number && !shared.poller_gone.load(Ordering::SeqCst) {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            shared.abandoned.store(true, Ordering::SeqCst);
            panic!("lost wake: wake {number} was not reported within {PATIENCE:?}");
        }
        seen = shared
            .seen_changed
            .wait_timeout(seen, left)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

impl Worker<'_> {
    fn token(&mut self, slot: Slot) -> Token {
        self.generation += 1;
        // Worker in bits 28.., slot in bits 24..28, a count below: unique
        // per registration, also where usize has 32 bits.
        Token(((self.number + 1) << 28) | (slot.index() << 24) | (self.generation & 0xff_ffff))
    }

    fn step(&mut self, op: &Op, shared: &Shared) -> Result<(), String> {
        let registry = self.registry;
        let (expected, actual) = match *op {
            Op::Create { slot, kind } => {
                let mut lingering = lock(&shared.lingering);
                self.close(slot, &mut lingering);
                let source = Source::open(kind, slot.index());
                let ours = source.ours.as_raw_fd();
                let peer = source.peer.as_ref().and_then(|p| p.fd_number());
                self.sources[slot.index()] = Some(source);
                self.model.create_at(slot, kind, Some(ours), peer);
                // A record another worker's closed fd left at this number
                // is this source's now (io_uring).
                if let Some(index) = lingering.iter().position(|l| l.fd == ours) {
                    self.model.adopt(lingering.remove(index));
                }
                return Ok(());
            }
            Op::Close { slot } => {
                let mut lingering = lock(&shared.lingering);
                self.close(slot, &mut lingering);
                return Ok(());
            }
            Op::Register {
                slot,
                interest,
                trigger,
                ..
            }
            | Op::Reregister {
                slot,
                interest,
                trigger,
                ..
            } => {
                let token = self.token(slot);
                lock(&shared.known).insert(token);
                let is_register = matches!(op, Op::Register { .. });
                let actual = self.sources[slot.index()].as_ref().map(|source| {
                    let interest = Interest::from_bits_retain(interest);
                    if is_register {
                        registry.register_with(&source.ours, token, interest, trigger.trigger())
                    } else {
                        registry.reregister_with(&source.ours, token, interest, trigger.trigger())
                    }
                });
                let seen = actual.as_ref().map(Outcome::of);
                let expected = if is_register {
                    self.model
                        .register_seeing(slot, token, interest, trigger, seen)
                } else {
                    self.model
                        .reregister_seeing(slot, token, interest, trigger, seen)
                };
                if expected == Outcome::Ok {
                    self.lifetime[slot.index()].push(token);
                }
                (expected, actual)
            }
            Op::Deregister { slot } => {
                let actual = self.sources[slot.index()]
                    .as_ref()
                    .map(|source| registry.deregister(&source.ours));
                let seen = actual.as_ref().map(Outcome::of);
                let expected = self.model.deregister_seeing(slot, seen);
                if matches!(actual, Some(Ok(()))) {
                    lock(&shared.dead).extend(self.lifetime[slot.index()].drain(..));
                }
                (expected, actual)
            }
            Op::PeerWrite { slot, len } => {
                return self.act(slot, Action::PeerWrite(Op::write_len(len)))
            }
            Op::OursWrite { slot, len } => {
                return self.act(slot, Action::OursWrite(Op::write_len(len)))
            }
            Op::ReadAll { slot } => return self.act(slot, Action::ReadAll),
            Op::PeerReadAll { slot } => return self.act(slot, Action::PeerReadAll),
            Op::ShutdownPeer { slot } => return self.act(slot, Action::ShutdownPeer),
            Op::ClosePeer { slot } => return self.act(slot, Action::ClosePeer),
            Op::Wake | Op::Poll { .. } => return Ok(()),
        };
        let outcome = actual.as_ref().map_or(Outcome::Skipped, Outcome::of);
        if outcome != expected {
            return Err(format!(
                "{op} returned {actual:?}, the model says {expected:?}"
            ));
        }
        Ok(())
    }

    /// Closes `slot`'s source (with `lingering` locked): on io_uring its
    /// number's record, if any, lingers for whichever worker's source gets
    /// the number next. The poller submits requests whenever it likes, so
    /// whether the record survives is unsure.
    fn close(&mut self, slot: Slot, lingering: &mut Vec<Lingering>) {
        let fd = self.sources[slot.index()]
            .as_ref()
            .map(|source| source.ours.as_raw_fd());
        self.sources[slot.index()] = None;
        self.model.close(slot);
        self.lifetime[slot.index()].clear();
        if let Some(mut left) = fd.and_then(|fd| self.model.take_lingering(fd)) {
            left.record = Record::Unsure;
            lingering.push(left);
        }
    }

    fn act(&mut self, slot: Slot, action: Action) -> Result<(), String> {
        if let Some(done) = self.model.act(slot, action) {
            let source = self.sources[slot.index()]
                .as_mut()
                .ok_or("the model acts on an empty slot")?;
            source.apply(done);
        }
        Ok(())
    }
}

/// The number of fds this process has open.
pub fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}
