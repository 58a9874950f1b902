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

use super::bits::{Bits, Flags, Readiness};
use super::channel::{Action, Channel};
use super::op::{Hex, Kind, Slot, TriggerChoice, SLOTS, WAKER_TOKEN};
use evq::{Error, Interest, Token};
use std::fmt;

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
    /// The trigger.
    pub trigger: TriggerChoice,
    /// False once a oneshot registration was reported.
    pub armed: bool,
    /// Conditions that became true since the last report.
    pub pending: Bits,
    /// Whether the source saw activity since the last report.
    pub activity: bool,
}

/// What the model says about one registration (or the waker) for a poll.
#[derive(Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The token an event would carry.
    pub token: Token,
    /// The slot, or `None` for the waker.
    pub slot: Option<usize>,
    /// Whether it must be reported (else it may be).
    pub must: bool,
    /// The conditions an event would show.
    pub readiness: Readiness,
}

impl fmt::Debug for Expectation {
    /// `Token(0x…) (s2) must: IN|OUT`, or `may` for the waker `(waker)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.must { "must" } else { "may" };
        match self.slot {
            Some(slot) => write!(
                f,
                "{} (s{slot}) {verdict}: {:?}",
                Hex(self.token),
                self.readiness
            ),
            None => write!(
                f,
                "{} (waker) {verdict}: {:?}",
                Hex(self.token),
                self.readiness
            ),
        }
    }
}

/// The model's whole state.
#[derive(Clone, Debug, Default)]
pub struct Model {
    slots: [Option<(Channel, Option<Registration>)>; SLOTS],
    waker_pending: bool,
}

impl Model {
    /// An empty pool and a waker that has not woken.
    pub fn new() -> Model {
        Model::default()
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
    /// registration goes with the closed fd.
    pub fn create(&mut self, slot: Slot, kind: Kind) {
        self.slots[slot.index()] = Some((Channel::new(kind), None));
    }

    /// Closes `slot`'s source: epoll drops a registration when the last fd
    /// of its file is closed.
    pub fn close(&mut self, slot: Slot) {
        self.slots[slot.index()] = None;
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
        let Some((channel, registration)) = &mut self.slots[slot.index()] else {
            return Outcome::Skipped;
        };
        let interest = Interest::from_bits_truncate(bits);
        if interest.is_empty() {
            return Outcome::InvalidInput;
        }
        if registration.is_some() {
            return Outcome::AlreadyRegistered;
        }
        *registration = Some(fresh(channel, token, interest, trigger));
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
        let Some((channel, registration)) = &mut self.slots[slot.index()] else {
            return Outcome::Skipped;
        };
        let interest = Interest::from_bits_truncate(bits);
        if interest.is_empty() {
            return Outcome::InvalidInput;
        }
        if registration.is_none() {
            return Outcome::NotRegistered;
        }
        *registration = Some(fresh(channel, token, interest, trigger));
        Outcome::Ok
    }

    /// `deregister`: `NotRegistered` unless registered.
    pub fn deregister(&mut self, slot: Slot) -> Outcome {
        match &mut self.slots[slot.index()] {
            None => Outcome::Skipped,
            Some((_, registration)) => match registration.take() {
                Some(_) => Outcome::Ok,
                None => Outcome::NotRegistered,
            },
        }
    }

    /// Applies `action` to `slot`'s source, if the harness performs it;
    /// returns what was performed. Updates the registration's pending
    /// conditions (rising ones are added, ones that no longer may hold are
    /// dropped) and marks activity.
    pub fn act(&mut self, slot: Slot, action: Action) -> Option<Action> {
        let (channel, registration) = self.slots[slot.index()].as_mut()?;
        let action = channel.effective(action)?;
        let before = channel.readiness();
        channel.apply(action);
        let after = channel.readiness();
        if let Some(registration) = registration.as_mut().filter(|r| r.armed) {
            let mask = Bits::mask(registration.interest);
            let rising = after.sure & !before.possible() & mask;
            registration.pending = (registration.pending | rising) & after.possible();
            registration.activity = true;
        }
        Some(action)
    }

    /// The waker wakes: its (edge-triggered) registration must be reported.
    pub fn wake(&mut self) {
        self.waker_pending = true;
    }

    /// What the next poll must and may report; everything else it must not.
    pub fn expectations(&self) -> Vec<Expectation> {
        let mut expected = Vec::new();
        if self.waker_pending {
            expected.push(Expectation {
                token: WAKER_TOKEN,
                slot: None,
                must: true,
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
            let readiness = channel.readiness().masked(registration.interest);
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
            if must || may {
                expected.push(Expectation {
                    token: registration.token,
                    slot: Some(index),
                    must,
                    readiness,
                });
            }
        }
        expected
    }

    /// Records what a poll reported (`reported`: slot indexes, `None` for
    /// the waker) and whether it filled its buffer.
    pub fn polled(&mut self, reported: &[Option<usize>], full: bool) {
        if reported.contains(&None) {
            self.waker_pending = false;
        }
        for (index, entry) in self.slots.iter_mut().enumerate() {
            let Some((_, Some(registration))) = entry else {
                continue;
            };
            if reported.contains(&Some(index)) {
                registration.pending = Bits::NONE;
                registration.activity = false;
                if registration.trigger.is_oneshot() {
                    registration.armed = false;
                }
            } else if !full {
                registration.pending = Bits::NONE;
                registration.activity = false;
            }
        }
    }
}

/// A registration made now: armed, with whatever holds now pending.
fn fresh(
    channel: &Channel,
    token: Token,
    interest: Interest,
    trigger: TriggerChoice,
) -> Registration {
    Registration {
        token,
        interest,
        trigger,
        armed: true,
        pending: channel.readiness().masked(interest).sure,
        activity: true,
    }
}

/// One reported event, as the checker sees it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Its token.
    pub token: Token,
    /// Its accessor flags.
    pub flags: Flags,
}

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", Hex(self.token), self.flags)
    }
}

/// Checks a poll's events against the model's expectations. Returns the
/// slots reported (`None`: the waker) for [`Model::polled`], or what is
/// wrong.
pub fn check_poll(
    expected: &[Expectation],
    seen: &[Seen],
    capacity: usize,
) -> Result<Vec<Option<usize>>, String> {
    if seen.len() > capacity {
        return Err(format!("{} events in a buffer of {capacity}", seen.len()));
    }
    let mut reported = Vec::new();
    for (i, event) in seen.iter().enumerate() {
        if seen[..i].iter().any(|e| e.token == event.token) {
            return Err(format!("{} reported twice in one poll", Hex(event.token)));
        }
        let Some(expectation) = expected.iter().find(|e| e.token == event.token) else {
            return Err(format!("{event:?} must not be reported"));
        };
        let allowed = expectation.readiness.allowed_flags();
        if !allowed.contains(&event.flags) {
            return Err(format!(
                "{event:?}: flags must be one of {allowed:?} (conditions {:?})",
                expectation.readiness
            ));
        }
        reported.push(expectation.slot);
    }
    if seen.len() < capacity {
        if let Some(missing) = expected
            .iter()
            .find(|e| e.must && !seen.iter().any(|s| s.token == e.token))
        {
            return Err(format!(
                "{} must be reported (conditions {:?})",
                Hex(missing.token),
                missing.readiness
            ));
        }
    }
    Ok(reported)
}
