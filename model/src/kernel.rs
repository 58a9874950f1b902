//! The reference model: which sources are registered, with which token,
//! interest and trigger, which are armed, and what the next poll must and
//! may report.
//!
//! # What a poll must and may report
//!
//! For each registration the model keeps `pending` (conditions that became
//! true since the registration was last reported, and still are) and
//! `activity` (something happened to the source since then that may have
//! woken the kernel's wait queue, so that an edge-triggered registration
//! may be reported again although no condition changed: a second write to
//! an unread socket, say).
//!
//! | trigger | must be reported | may be reported |
//! |---|---|---|
//! | `Level` | a condition in the interest holds | one may hold |
//! | `Edge` | a pending condition holds | there was activity and a condition may hold |
//! | `Oneshot`, `EdgeOneshot` | as `Level`, `Edge`, while armed | as `Level`, `Edge`, while armed |
//!
//! A (re)registration counts as a change: whatever holds then is pending
//! (epoll's `ep_insert` and `ep_modify` check readiness at once). Never
//! reported: a deregistered or closed source, a disarmed oneshot, one for
//! which nothing in its interest may hold. An event's flags are exactly the
//! conditions that hold, within the interest (see [`super::bits`]).
//!
//! A poll whose buffer fills up may leave must-report registrations for the
//! next poll; one that does not fill up has looked at every queued
//! registration, so afterwards nothing that was not reported is still
//! queued: its activity is forgotten.

use super::bits::{Bits, Readiness};
use super::channel::{Action, Channel};
pub use super::check::{check_poll, Seen};
use super::op::{Hex, Kind, Slot, TriggerChoice, SLOTS, WAKER_TOKEN};
use super::uring::{Lingering, Submitted};
use evq::{Backend, Error, Interest, Token};
use std::fmt;
use std::os::fd::RawFd;

/// How a registry call ended, as far as the model distinguishes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `Ok(())`.
    Ok,
    /// [`Error::AlreadyRegistered`].
    AlreadyRegistered,
    /// [`Error::NotRegistered`].
    NotRegistered,
    /// [`Error::InvalidInput`].
    InvalidInput,
    /// [`Error::Os`] with this errno.
    Os(i32),
    /// Not attempted: the slot holds no source.
    Skipped,
}

impl Outcome {
    /// The outcome of a real call.
    pub fn of(result: &evq::Result<()>) -> Outcome {
        match result {
            Ok(()) => Outcome::Ok,
            Err(Error::AlreadyRegistered { .. }) => Outcome::AlreadyRegistered,
            Err(Error::NotRegistered { .. }) => Outcome::NotRegistered,
            Err(Error::InvalidInput { .. }) => Outcome::InvalidInput,
            Err(error) => Outcome::Os(error.raw_os_error().unwrap_or(-1)),
        }
    }
}

/// One registration, as the kernel holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registration {
    /// The token events carry.
    pub token: Token,
    /// The known interest bits (never empty).
    pub interest: Interest,
    /// The conditions its events can show: the interest's epoll bits, and
    /// on io_uring `RDHUP` too (see [`super::uring::mask`]).
    pub mask: Bits,
    /// The trigger.
    pub trigger: TriggerChoice,
    /// False once a oneshot registration was reported.
    pub armed: bool,
    /// Conditions that became true since the last report.
    pub pending: Bits,
    /// Whether the source saw activity since the last report.
    pub activity: bool,
    /// io_uring: every condition that held at some moment since the last
    /// report (a completion's mask is taken when the source wakes up, and
    /// waits in the CQ until a poll reads it).
    pub seen: Bits,
    /// io_uring: whether the kernel has the request (a poll or a
    /// `deregister` submitted it), or it waits in the SQ.
    pub submitted: Submitted,
    /// io_uring: a oneshot that may or may not have fired: a poll reported
    /// its token, which a lingering registration carries too.
    pub maybe_spent: bool,
}

/// Where an expected event comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The registration of a slot's source.
    Slot(usize),
    /// io_uring: the registration of a closed fd, kept by the number
    /// ([`Lingering`]).
    Lingering(RawFd),
    /// The harness's waker.
    Waker,
}

/// What the model says about one registration (or the waker) for a poll.
#[derive(Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The token an event would carry.
    pub token: Token,
    /// Which registration.
    pub origin: Origin,
    /// Whether it must be reported (else it may be).
    pub must: bool,
    /// The conditions an event would show.
    pub readiness: Readiness,
}

impl fmt::Debug for Expectation {
    /// `Token(0x…) (s2) must: IN|OUT`, or `may` for the waker `(waker)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.must { "must" } else { "may" };
        let origin = match self.origin {
            Origin::Slot(slot) => format!("s{slot}"),
            Origin::Lingering(fd) => format!("lingering fd {fd}"),
            Origin::Waker => "waker".into(),
        };
        write!(
            f,
            "{} ({origin}) {verdict}: {:?}",
            Hex(self.token),
            self.readiness
        )
    }
}

/// The model's whole state.
#[derive(Clone, Debug)]
pub struct Model {
    pub(crate) backend: Backend,
    pub(crate) slots: [Option<(Channel, Option<Registration>)>; SLOTS],
    /// The fd numbers of each slot's source: ours, and the peer's while
    /// open (`None` where the harness does not say).
    pub(crate) fds: [(Option<RawFd>, Option<RawFd>); SLOTS],
    /// io_uring: registrations of closed fds (see [`super::uring`]).
    pub(crate) lingering: Vec<Lingering>,
    /// io_uring: the slots whose peer's file a lingering request may hold
    /// open (it took the peer's number): closing the peer may not close it.
    pub(crate) held_peers: [bool; SLOTS],
    waker_pending: bool,
    /// io_uring: a poll that filled its buffer reported the waker, and a
    /// later wake's completion may still wait in the CQ.
    waker_again: bool,
}

impl Default for Model {
    fn default() -> Model {
        Model::on(Backend::Epoll)
    }
}

impl Model {
    /// An empty pool and a waker that has not woken, on epoll.
    pub fn new() -> Model {
        Model::default()
    }

    /// As [`Model::new`], for `backend` (epoll or io_uring).
    pub fn on(backend: Backend) -> Model {
        Model {
            backend,
            slots: Default::default(),
            fds: Default::default(),
            lingering: Vec::new(),
            held_peers: [false; SLOTS],
            waker_pending: false,
            waker_again: false,
        }
    }

    /// Whether the model describes io_uring.
    pub fn is_uring(&self) -> bool {
        self.backend == Backend::IoUring
    }

    /// The channel in `slot`, if the slot holds a source.
    pub fn channel(&self, slot: Slot) -> Option<&Channel> {
        self.slots[slot.index()]
            .as_ref()
            .map(|(channel, _)| channel)
    }

    /// The registration of `slot`'s source, if any.
    pub fn registration(&self, slot: Slot) -> Option<&Registration> {
        self.slots[slot.index()].as_ref()?.1.as_ref()
    }

    /// Closes what `slot` held and opens a fresh source: the old
    /// registration goes with the closed fd (on epoll).
    pub fn create(&mut self, slot: Slot, kind: Kind) {
        self.create_at(slot, kind, None, None);
    }

    /// As [`Model::create`], with the fd numbers the new source got (ours,
    /// the peer's): io_uring keys its record by number.
    pub fn create_at(&mut self, slot: Slot, kind: Kind, ours: Option<RawFd>, peer: Option<RawFd>) {
        self.close(slot);
        self.slots[slot.index()] = Some((Channel::new(kind), None));
        self.fds[slot.index()] = (ours, peer);
        self.held_peers[slot.index()] = false;
    }

    /// Closes `slot`'s source: epoll drops a registration when the last fd
    /// of its file is closed; io_uring keeps it (see [`super::uring`]).
    pub fn close(&mut self, slot: Slot) {
        if let Some((channel, Some(registration))) = self.slots[slot.index()].take() {
            if self.is_uring() {
                self.linger(slot, channel, registration);
            }
        }
        self.fds[slot.index()] = (None, None);
    }

    /// `register_with`: `InvalidInput` for an empty interest (checked
    /// first), `AlreadyRegistered` if registered (armed or not).
    pub fn register(
        &mut self,
        slot: Slot,
        token: Token,
        bits: u8,
        trigger: TriggerChoice,
    ) -> Outcome {
        self.register_seeing(slot, token, bits, trigger, None)
    }

    /// [`Model::register`], told what the real call returned (`actual`):
    /// where the model cannot know whether io_uring still has a record for
    /// the number, the real answer decides, if it is one of the two
    /// possible ones.
    pub fn register_seeing(
        &mut self,
        slot: Slot,
        token: Token,
        bits: u8,
        trigger: TriggerChoice,
        actual: Option<Outcome>,
    ) -> Outcome {
        let Some((_, registration)) = &self.slots[slot.index()] else {
            return Outcome::Skipped;
        };
        let interest = Interest::from_bits_truncate(bits);
        if interest.is_empty() {
            return Outcome::InvalidInput;
        }
        if registration.is_some() {
            return Outcome::AlreadyRegistered;
        }
        if self.inherited_record(slot, Outcome::AlreadyRegistered, actual) {
            return Outcome::AlreadyRegistered;
        }
        self.set_fresh(slot, token, interest, trigger);
        Outcome::Ok
    }

    /// `reregister_with`: `InvalidInput`, then `NotRegistered`; re-arms.
    pub fn reregister(
        &mut self,
        slot: Slot,
        token: Token,
        bits: u8,
        trigger: TriggerChoice,
    ) -> Outcome {
        self.reregister_seeing(slot, token, bits, trigger, None)
    }

    /// [`Model::reregister`], told what the real call returned (see
    /// [`Model::register_seeing`]).
    pub fn reregister_seeing(
        &mut self,
        slot: Slot,
        token: Token,
        bits: u8,
        trigger: TriggerChoice,
        actual: Option<Outcome>,
    ) -> Outcome {
        let Some((_, registration)) = &self.slots[slot.index()] else {
            return Outcome::Skipped;
        };
        let interest = Interest::from_bits_truncate(bits);
        if interest.is_empty() {
            return Outcome::InvalidInput;
        }
        if registration.is_none() && !self.inherited_record(slot, Outcome::Ok, actual) {
            return Outcome::NotRegistered;
        }
        // On io_uring the old request is removed, whatever file it watched.
        self.forget_lingering(slot);
        self.set_fresh(slot, token, interest, trigger);
        Outcome::Ok
    }

    /// `deregister`: `NotRegistered` unless registered.
    pub fn deregister(&mut self, slot: Slot) -> Outcome {
        self.deregister_seeing(slot, None)
    }

    /// [`Model::deregister`], told what the real call returned (see
    /// [`Model::register_seeing`]).
    pub fn deregister_seeing(&mut self, slot: Slot, actual: Option<Outcome>) -> Outcome {
        let Some((_, registration)) = &mut self.slots[slot.index()] else {
            return Outcome::Skipped;
        };
        let removed = match registration.take() {
            Some(registration) if registration.armed => registration.submitted,
            Some(_) => Submitted::No,
            None if self.inherited_record(slot, Outcome::Ok, actual) => {
                self.lingering_submitted(slot)
            }
            None => return Outcome::NotRegistered,
        };
        self.forget_lingering(slot);
        // evq removes a request the kernel has at once, submitting all that
        // is queued with the POLL_REMOVE.
        match removed {
            Submitted::Yes => self.submit(),
            Submitted::Maybe => self.maybe_submitted(),
            Submitted::No => {}
        }
        Outcome::Ok
    }

    fn set_fresh(&mut self, slot: Slot, token: Token, interest: Interest, trigger: TriggerChoice) {
        let backend = self.backend;
        if let Some((channel, registration)) = &mut self.slots[slot.index()] {
            *registration = Some(fresh(backend, channel, token, interest, trigger));
        }
    }

    /// Applies `action` to `slot`'s source, if the harness performs it;
    /// returns what was performed. Updates the registration's pending
    /// conditions (rising ones are added, ones that no longer may hold are
    /// dropped) and marks activity.
    pub fn act(&mut self, slot: Slot, action: Action) -> Option<Action> {
        let uring = self.is_uring();
        let (channel, registration) = self.slots[slot.index()].as_mut()?;
        let kind = channel.kind;
        let action = channel.effective(action)?;
        let before = channel.readiness();
        channel.apply(action);
        let after = channel.readiness();
        if let Some(registration) = registration.as_mut().filter(|r| r.armed) {
            let mask = registration.mask;
            let rising = after.sure & !before.possible() & mask;
            registration.pending = (registration.pending | rising) & after.possible();
            registration.activity = true;
            registration.seen = registration.seen | (after.possible() & mask);
            if uring {
                registration.seen =
                    registration.seen | (super::uring::woken(channel, action) & mask);
            }
        }
        // The peer's fd closes: its own, or a child's input when the child
        // is ended.
        let child_ended = kind == Kind::Child && matches!(action, Action::PeerWrite(_));
        if action == Action::ClosePeer || child_ended {
            self.fds[slot.index()].1 = None;
        }
        Some(action)
    }

    /// The waker wakes: its (edge-triggered) registration must be reported.
    pub fn wake(&mut self) {
        self.waker_pending = true;
    }

    /// What the next poll must and may report; everything else it must not.
    /// On io_uring, call [`Model::submit`] first: the poll submits what is
    /// queued before it reads the completions.
    pub fn expectations(&self) -> Vec<Expectation> {
        let mut expected = Vec::new();
        if self.waker_pending || self.waker_again {
            expected.push(Expectation {
                token: WAKER_TOKEN,
                origin: Origin::Waker,
                must: self.waker_pending,
                readiness: Readiness {
                    sure: Bits::IN,
                    maybe: Bits::NONE,
                },
            });
        }
        for (index, entry) in self.slots.iter().enumerate() {
            let Some((channel, Some(registration))) = entry else {
                continue;
            };
            if !registration.armed {
                continue;
            }
            let readiness = if self.held_peers[index] {
                super::uring::peer_maybe_open(channel)
            } else {
                channel.readiness()
            }
            .within(registration.mask);
            // Every signalfd waits on the process's one queue, which any
            // signal sent in the process wakes (`signalfd_notify`): activity
            // the model cannot see, from other slots and other threads.
            let activity = registration.activity || channel.kind == Kind::Signals;
            let (must, may) = if registration.trigger.is_edge() {
                let must = registration.pending.intersects(readiness.sure);
                let may = registration.pending.intersects(readiness.possible())
                    || (activity && !readiness.possible().is_empty());
                (must, may)
            } else {
                (!readiness.sure.is_empty(), !readiness.possible().is_empty())
            };
            let (may, readiness) = if self.is_uring() {
                super::uring::stale(registration, readiness, may)
            } else {
                (may, readiness)
            };
            let must = must && !registration.maybe_spent;
            if must || may {
                expected.push(Expectation {
                    token: registration.token,
                    origin: Origin::Slot(index),
                    must,
                    readiness,
                });
            }
        }
        expected.extend(self.lingering.iter().filter_map(Lingering::expectation));
        expected
    }

    /// Records what a poll reported (`reported`: where each event came
    /// from) and whether it filled its buffer.
    pub fn polled(&mut self, reported: &[Origin], full: bool) {
        let uring = self.is_uring();
        if reported.contains(&Origin::Waker) {
            self.waker_pending = false;
        }
        if !full {
            self.waker_again = false;
        } else if uring && reported.contains(&Origin::Waker) {
            self.waker_again = true;
        }
        let lingering_tokens: Vec<Token> = self
            .lingering
            .iter()
            .filter(|l| l.reporting)
            .map(|l| l.token)
            .collect();
        for (index, entry) in self.slots.iter_mut().enumerate() {
            let Some((channel, Some(registration))) = entry else {
                continue;
            };
            let was_reported = reported.contains(&Origin::Slot(index));
            if was_reported
                && registration.trigger.is_oneshot()
                && lingering_tokens.contains(&registration.token)
            {
                // The event may have been the lingering one's: this
                // oneshot may still fire once, or not.
                registration.maybe_spent = true;
                registration.pending = Bits::NONE;
                registration.activity = true;
                continue;
            }
            if was_reported && uring && full {
                // A poll stops reading the CQ when its buffer is full, so
                // later completions of a registration it reported wait
                // there for the next poll (epoll keeps one ready entry).
                registration.pending = Bits::NONE;
                if registration.trigger.is_oneshot() {
                    registration.armed = false;
                }
                if registration.trigger == TriggerChoice::Level {
                    registration.submitted = Submitted::Maybe;
                }
                continue;
            }
            if was_reported {
                registration.pending = Bits::NONE;
                registration.activity = false;
                if registration.trigger.is_oneshot() {
                    registration.armed = false;
                }
                if registration.trigger == TriggerChoice::Level {
                    // Re-armed: submitted by this poll or queued for the
                    // next, depending on whether the CQ held completions
                    // when it began (see evq's `Selector::select`).
                    registration.submitted = Submitted::Maybe;
                }
            } else if !full {
                registration.pending = Bits::NONE;
                registration.activity = false;
            }
            if was_reported || !full {
                let now = channel.readiness().possible() & registration.mask;
                registration.seen = now;
            }
        }
        if self.is_uring() {
            self.polled_lingering(reported, full);
        }
    }
}

/// A registration made now on `backend`: armed, with whatever holds now
/// pending.
fn fresh(
    backend: Backend,
    channel: &Channel,
    token: Token,
    interest: Interest,
    trigger: TriggerChoice,
) -> Registration {
    let mask = if backend == Backend::IoUring {
        super::uring::mask(interest)
    } else {
        Bits::mask(interest)
    };
    let readiness = channel.readiness().within(mask);
    Registration {
        token,
        interest,
        mask,
        trigger,
        armed: true,
        pending: readiness.sure,
        activity: true,
        seen: readiness.possible(),
        submitted: Submitted::No,
        maybe_spent: false,
    }
}
