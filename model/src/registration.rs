//! The `registration` target: a sequence of operations run against real
//! sources and evq, and against the model, step by step; the first
//! difference panics with the whole sequence as Rust-like steps.

use super::bits::Flags;
use super::channel::Action;
use super::kernel::{check_poll, Model, Outcome, Seen};
use super::op::{Op, Slot, SLOTS, WAKER_TOKEN};
use super::real::Source;
use super::signals_and_children::{forks, run_guard};
use evq::{Backend, Events, Interest, Poll, Registry, Waker};
use std::fmt::Write as _;
use std::os::fd::AsRawFd;
use std::time::Duration;

/// The real side: the poll, its waker, the sources and the buffers.
struct Harness {
    poll: Poll,
    waker: Waker,
    sources: [Option<Source>; SLOTS],
    buffers: Vec<(usize, Events)>,
}

impl Harness {
    fn new(backend: Backend) -> Harness {
        let poll = crate::new_poll(backend);
        let waker = Waker::new(poll.registry(), WAKER_TOKEN).expect("harness: Waker::new");
        Harness {
            poll,
            waker,
            sources: Default::default(),
            buffers: Vec::new(),
        }
    }

    fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    fn source(&self, slot: Slot) -> Option<&Source> {
        self.sources[slot.index()].as_ref()
    }

    /// Polls once without waiting into a buffer of `capacity`.
    fn poll(&mut self, capacity: usize) -> Result<Vec<Seen>, String> {
        let index = match self.buffers.iter().position(|(c, _)| *c == capacity) {
            Some(index) => index,
            None => {
                self.buffers
                    .push((capacity, Events::with_capacity(capacity)));
                self.buffers.len() - 1
            }
        };
        let events = &mut self.buffers[index].1;
        self.poll
            .poll(events, Some(Duration::ZERO))
            .map_err(|e| format!("poll failed: {e}"))?;
        Ok(events
            .iter()
            .map(|event| Seen {
                token: event.token(),
                flags: Flags::of(event),
            })
            .collect())
    }
}

/// The steps run so far, printed when something differs.
#[derive(Default)]
struct Transcript {
    lines: String,
}

impl Transcript {
    fn step(&mut self, op: &Op, result: &str) {
        let _ = writeln!(self.lines, "    {op}; // {result}");
    }

    fn fail(&self, backend: Backend, op: &Op, problem: &str) -> ! {
        panic!(
            "evq on {backend:?} differs from the model at the last step:\n\n{}    {op}; // <- {problem}\n",
            self.lines
        );
    }
}

/// Runs `ops` against evq on `backend` and the model; panics at the first
/// difference. Returns the transcript: each step as Rust, with what it did.
pub fn run(ops: &[Op], backend: Backend) -> String {
    let _alone = run_guard(forks(ops) || backend == Backend::IoUring);
    let mut harness = Harness::new(backend);
    let mut model = Model::on(backend);
    let mut transcript = Transcript::default();
    for op in ops {
        let note = step(&mut harness, &mut model, op)
            .unwrap_or_else(|problem| transcript.fail(backend, op, &problem));
        transcript.step(op, &note);
    }
    // Deregister everything still registered: each must be Ok.
    for index in 0..SLOTS {
        let slot = Slot(index as u8);
        let op = Op::Deregister { slot };
        let note = step(&mut harness, &mut model, &op)
            .unwrap_or_else(|problem| transcript.fail(backend, &op, &problem));
        transcript.step(&op, &note);
    }
    transcript.lines
}

/// One op on both sides: Ok(what happened) or Err(the difference).
fn step(harness: &mut Harness, model: &mut Model, op: &Op) -> Result<String, String> {
    match *op {
        Op::Create { slot, kind } => {
            // Close first, so that the new source usually gets the old
            // one's fd number: a registration must not outlive its file.
            harness.sources[slot.index()] = None;
            model.close(slot);
            let source = Source::open(kind, slot.index());
            let (ours, peer) = (
                source.ours.as_raw_fd(),
                source.peer.as_ref().and_then(|p| p.fd_number()),
            );
            harness.sources[slot.index()] = Some(source);
            model.create_at(slot, kind, Some(ours), peer);
            Ok(format!("fd {ours}"))
        }
        Op::Close { slot } => {
            harness.sources[slot.index()] = None;
            model.close(slot);
            Ok("closed".into())
        }
        Op::Register {
            slot,
            token,
            interest,
            trigger,
        } => {
            let actual = harness.source(slot).map(|source| {
                harness.registry().register_with(
                    &source.ours,
                    token.token(slot),
                    Interest::from_bits_retain(interest),
                    trigger.trigger(),
                )
            });
            let seen = actual.as_ref().map(Outcome::of);
            let expected = model.register_seeing(slot, token.token(slot), interest, trigger, seen);
            compare(expected, actual)
        }
        Op::Reregister {
            slot,
            token,
            interest,
            trigger,
        } => {
            let actual = harness.source(slot).map(|source| {
                harness.registry().reregister_with(
                    &source.ours,
                    token.token(slot),
                    Interest::from_bits_retain(interest),
                    trigger.trigger(),
                )
            });
            let seen = actual.as_ref().map(Outcome::of);
            let expected =
                model.reregister_seeing(slot, token.token(slot), interest, trigger, seen);
            compare(expected, actual)
        }
        Op::Deregister { slot } => {
            let actual = harness
                .source(slot)
                .map(|source| harness.registry().deregister(&source.ours));
            let seen = actual.as_ref().map(Outcome::of);
            let expected = model.deregister_seeing(slot, seen);
            compare(expected, actual)
        }
        Op::PeerWrite { slot, len } => {
            act(harness, model, slot, Action::PeerWrite(Op::write_len(len)))
        }
        Op::OursWrite { slot, len } => {
            act(harness, model, slot, Action::OursWrite(Op::write_len(len)))
        }
        Op::ReadAll { slot } => act(harness, model, slot, Action::ReadAll),
        Op::PeerReadAll { slot } => act(harness, model, slot, Action::PeerReadAll),
        Op::ShutdownPeer { slot } => act(harness, model, slot, Action::ShutdownPeer),
        Op::ClosePeer { slot } => act(harness, model, slot, Action::ClosePeer),
        Op::Wake => {
            harness
                .waker
                .wake()
                .map_err(|e| format!("wake failed: {e}"))?;
            model.wake();
            Ok("Ok(())".into())
        }
        Op::Poll { capacity } => {
            let capacity = Op::poll_capacity(capacity);
            model.submit();
            let expected = model.expectations();
            let seen = harness.poll(capacity)?;
            let reported = check_poll(&expected, &seen, capacity).map_err(|problem| {
                format!("{problem}\n    // reported: {seen:?}\n    // the model's must/may set: {expected:?}")
            })?;
            model.polled(&reported, seen.len() == capacity);
            Ok(format!("{seen:?}"))
        }
    }
}

/// An action on a source: performed if the model says it can be.
fn act(
    harness: &mut Harness,
    model: &mut Model,
    slot: Slot,
    action: Action,
) -> Result<String, String> {
    let Some(done) = model.act(slot, action) else {
        return Ok("skipped".into());
    };
    let source = harness.sources[slot.index()]
        .as_mut()
        .expect("the model acts only on open slots");
    source.apply(done);
    let channel = model
        .channel(slot)
        .expect("the model acts only on open slots");
    if !model.peer_may_be_held(slot) {
        source.settle(channel)?;
    }
    Ok(format!("{done:?}"))
}

/// Compares a registry call's result with the model's.
fn compare(expected: Outcome, actual: Option<evq::Result<()>>) -> Result<String, String> {
    let outcome = actual.as_ref().map_or(Outcome::Skipped, Outcome::of);
    if outcome == expected {
        return Ok(match actual {
            Some(result) => format!("{result:?}"),
            None => "skipped: empty slot".into(),
        });
    }
    match actual {
        Some(result) => Err(format!("returned {result:?}, the model says {expected:?}")),
        None => Err(format!("was skipped, the model says {expected:?}")),
    }
}
