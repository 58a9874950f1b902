//! What io_uring does differently from epoll, as the model follows it (the
//! differences `evq::Registry` and evq's io_uring backend document).
//!
//! - **A registration outlives its fd.** evq keeps the record epoll keeps in
//!   the kernel itself, keyed by fd number, and a poll request holds its
//!   file open; closing a registered fd removes neither. The registration
//!   *lingers* ([`Lingering`]): it may go on reporting its token, and a new
//!   source that gets the number reads as registered (`register` answers
//!   `AlreadyRegistered`; `reregister` and `deregister` work on it and end
//!   the old request) until the record is replaced or removed.
//! - **`EBADF` comes late.** A request still waiting in the SQ when its fd
//!   was closed meets the number when it is submitted (the next poll, or a
//!   `deregister` that removes a request from the kernel): if nothing has
//!   the number then, the kernel answers `EBADF` and evq drops the record;
//!   if a new file has it, the request watches that file.
//! - **`RDHUP` is always watched** ([`mask`]).
//! - **An event's flags are those of its completions.** The kernel takes a
//!   completion's mask when the source wakes up (from the wake-up itself
//!   where the waker says what happened, see [`woken`]; a level request:
//!   when it is re-armed by the poll that reported it), and the completion
//!   waits in the CQ for the next poll: an event may show conditions that
//!   no longer hold, or miss ones that arose since ([`stale`]). What must
//!   be reported is as on epoll.
//!
//! A lingering registration watches a file the model no longer follows (a
//! closed source, or whatever file got its number): the model allows its
//! events, with any flags within its interest, but never demands them.
//! It does know, at every step of the single-threaded `registration`
//! target, whether evq still has the record. Where the model cannot know
//! (another thread's fds, in the `threads` target), the record is
//! [`Record::Unsure`] and the first registry call on the number decides.

use super::bits::{Bits, Readiness};
use super::channel::{Action, Channel, Reset};
use super::kernel::{Expectation, Model, Origin, Registration};
use super::op::{Kind, Slot, TriggerChoice};
use evq::{Interest, Token};
use std::os::fd::RawFd;

/// Whether the kernel has a registration's current request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submitted {
    /// It waits in the SQ.
    No,
    /// The kernel has it.
    Yes,
    /// Either: a level request re-armed by a poll is submitted by that poll
    /// if the CQ held completions when it began, else by the next one.
    Maybe,
}

/// What evq's record for a lingering registration's number is known to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    /// Kept until `reregister` or `deregister` through the number, or
    /// until its queued request meets the number closed (see
    /// [`Lingering::in_kernel`]).
    Kept,
    /// Kept or dropped: the model cannot see which (a level request
    /// re-armed at some time; another thread's fds).
    Unsure,
}

/// A registration whose fd was closed, kept by its number.
#[derive(Clone, Copy, Debug)]
pub struct Lingering {
    /// The fd number evq's record is keyed by.
    pub fd: RawFd,
    /// The token its events carry.
    pub token: Token,
    /// The conditions its events can show.
    pub mask: Bits,
    /// Its trigger.
    pub trigger: TriggerChoice,
    /// Whether evq has the record.
    pub record: Record,
    /// Whether it has a request (false once a oneshot fired), which may
    /// report it.
    pub reporting: bool,
    /// Whether the kernel has that request (then `deregister` submits a
    /// `POLL_REMOVE` at once), or it waits in the SQ for a number.
    pub in_kernel: Submitted,
    /// Its request met the number closed: the kernel's `EBADF` may wait
    /// in the CQ (a poll stops reading it when its buffer is full), and
    /// the poll that reads it drops the record.
    pub failed: bool,
}

impl Lingering {
    /// The registration `registration` of a source closed at `fd`.
    ///
    /// A level request completes whenever its file is ready (a closed
    /// peer makes most files ready), and the poll that reads the completion
    /// re-arms it on the number: `EBADF` if it is still closed then. When
    /// that happens depends on timing, so a level record is unsure.
    pub fn of(fd: RawFd, registration: &Registration) -> Lingering {
        let unsure = registration.trigger == TriggerChoice::Level
            || (registration.armed && registration.submitted == Submitted::Maybe);
        let record = if unsure { Record::Unsure } else { Record::Kept };
        Lingering {
            fd,
            token: registration.token,
            mask: registration.mask,
            trigger: registration.trigger,
            record,
            reporting: registration.armed,
            in_kernel: if registration.armed {
                registration.submitted
            } else {
                Submitted::No
            },
            failed: false,
        }
    }

    /// What a poll may report of it: its token, with any flags within its
    /// interest; never required.
    pub fn expectation(&self) -> Option<Expectation> {
        self.reporting.then_some(Expectation {
            token: self.token,
            origin: Origin::Lingering(self.fd),
            must: false,
            readiness: Readiness {
                sure: Bits::NONE,
                maybe: self.mask,
            },
        })
    }
}

/// The conditions an io_uring event of a registration with `interest` can
/// show: epoll's, and `RDHUP` whatever the interest, which the kernel adds
/// to every poll request (`IO_POLL_UNMASK` in `io_uring/poll.c`, with
/// `EPOLLERR`, `EPOLLHUP` and `EPOLLNVAL`): a socket whose peer shut down
/// writing completes a request for `WRITABLE` alone, and the event shows
/// `is_read_closed()`.
pub fn mask(interest: Interest) -> Bits {
    Bits::mask(interest) | Bits::RDHUP
}

/// The conditions a wake-up by `action` announces beyond those that hold
/// after it. A poll request that is woken with a mask takes that mask as
/// its result instead of polling the file again (`io_poll_wake`), and a
/// socket announces new data as `EPOLLIN | EPOLLPRI | EPOLLRDNORM |
/// EPOLLRDBAND` (`sock_def_readable`): with `PRIORITY` in the interest, its
/// events show `is_priority()` although no urgent data came.
pub fn woken(channel: &Channel, action: Action) -> Bits {
    let socket = matches!(channel.kind, Kind::UnixStream | Kind::Tcp);
    if socket && matches!(action, Action::PeerWrite(_)) {
        Bits::PRI
    } else {
        Bits::NONE
    }
}

/// The readiness of `channel` when a lingering request may hold its peer's
/// file open: a closed peer may or may not count as closed.
pub fn peer_maybe_open(channel: &Channel) -> Readiness {
    let closed = channel.readiness();
    let mut open = *channel;
    open.peer_closed = false;
    open.reset = Reset::None;
    let open = open.readiness();
    let sure = closed.sure & open.sure;
    Readiness {
        sure,
        maybe: (closed.possible() | open.possible()) & !sure,
    }
}

/// An io_uring event's conditions for a registration epoll would report
/// with `readiness` (`may`: whether epoll may report it at all): any that
/// held since the last report may show, none is certain to; and a
/// completion already in the CQ is reported although nothing holds now.
pub fn stale(registration: &Registration, readiness: Readiness, may: bool) -> (bool, Readiness) {
    let seen = registration.seen | readiness.possible();
    let completed = if registration.trigger.is_edge() {
        registration.activity || !registration.pending.is_empty()
    } else {
        true
    };
    let may = may || (completed && !registration.seen.is_empty());
    (
        may,
        Readiness {
            sure: Bits::NONE,
            maybe: seen,
        },
    )
}

impl Model {
    /// io_uring: `slot`'s source closes with `registration`: it lingers,
    /// keyed by the number (if the harness said which).
    pub(crate) fn linger(&mut self, slot: Slot, _channel: Channel, registration: Registration) {
        if let Some(fd) = self.fds[slot.index()].0 {
            self.lingering.push(Lingering::of(fd, &registration));
        }
    }

    fn lingering_at(&self, slot: Slot) -> Option<usize> {
        let fd = self.fds[slot.index()].0?;
        self.lingering.iter().position(|l| l.fd == fd)
    }

    /// Whether evq has a record for `slot`'s number that a closed fd left
    /// (io_uring only). For an [`Record::Unsure`] one, `actual` (what the
    /// real call returned) decides: `kept_outcome` means it was kept.
    pub(crate) fn inherited_record(
        &mut self,
        slot: Slot,
        kept_outcome: super::kernel::Outcome,
        actual: Option<super::kernel::Outcome>,
    ) -> bool {
        if !self.is_uring() {
            return false;
        }
        let Some(index) = self.lingering_at(slot) else {
            return false;
        };
        match self.lingering[index].record {
            Record::Kept => true,
            Record::Unsure if actual.is_none_or(|actual| actual == kept_outcome) => {
                // Kept so far; a level request may still meet a closed
                // number when it is re-armed.
                if self.lingering[index].trigger != TriggerChoice::Level {
                    self.lingering[index].record = Record::Kept;
                }
                true
            }
            Record::Unsure => {
                self.lingering.remove(index);
                false
            }
        }
    }

    /// Whether the lingering record at `slot`'s number has a request in the
    /// kernel.
    pub(crate) fn lingering_submitted(&self, slot: Slot) -> Submitted {
        match self.lingering_at(slot) {
            Some(index) if self.lingering[index].reporting => self.lingering[index].in_kernel,
            _ => Submitted::No,
        }
    }

    /// The record at `slot`'s number is replaced or removed: the request it
    /// had is removed, whatever file it watched.
    pub(crate) fn forget_lingering(&mut self, slot: Slot) {
        if let Some(index) = self.lingering_at(slot) {
            self.lingering.remove(index);
            self.release_held_peers();
        }
    }

    /// A lingering request ended: a peer file it held is closed at last,
    /// which wakes its source's registration.
    fn release_held_peers(&mut self) {
        for (held, entry) in self.held_peers.iter().zip(self.slots.iter_mut()) {
            if let (true, Some((_, Some(registration)))) = (held, entry) {
                registration.activity = true;
            }
        }
    }

    /// Whether some source of the pool has `fd` open (ours or its peer).
    fn is_open(&self, fd: RawFd) -> bool {
        self.fds
            .iter()
            .any(|&(ours, peer)| ours == Some(fd) || peer == Some(fd))
    }

    /// Marks the slots whose peer has the number of a lingering request
    /// that may be (re-)submitted: the request would hold that file.
    fn hold_peers(&mut self) {
        for lingering in &self.lingering {
            if !lingering.reporting {
                continue;
            }
            for (slot, &(_, peer)) in self.fds.iter().enumerate() {
                if peer == Some(lingering.fd) {
                    self.held_peers[slot] = true;
                }
            }
        }
    }

    /// io_uring: what `io_uring_enter` does to the queued requests: each
    /// reaches the kernel, and one whose fd was closed meanwhile either
    /// watches the file that has the number now or fails with `EBADF`.
    /// (No-op on epoll.)
    pub fn submit(&mut self) {
        if !self.is_uring() {
            return;
        }
        self.hold_peers();
        for (_, registration) in self.slots.iter_mut().flatten() {
            if let Some(registration) = registration {
                registration.submitted = Submitted::Yes;
            }
        }
        let open: Vec<bool> = self.lingering.iter().map(|l| self.is_open(l.fd)).collect();
        for (l, open) in self.lingering.iter_mut().zip(open) {
            if !l.reporting {
                continue;
            }
            match l.in_kernel {
                Submitted::Yes => {}
                Submitted::No if !open => {
                    l.failed = true;
                    l.reporting = false;
                }
                Submitted::No => l.in_kernel = Submitted::Yes,
                Submitted::Maybe if !open => l.record = Record::Unsure,
                Submitted::Maybe => l.in_kernel = Submitted::Yes,
            }
        }
    }

    /// io_uring: what is queued may or may not have been submitted (a
    /// `deregister` of a request the model cannot place).
    pub(crate) fn maybe_submitted(&mut self) {
        for (_, registration) in self.slots.iter_mut().flatten() {
            if let Some(registration) = registration.as_mut() {
                if registration.submitted == Submitted::No {
                    registration.submitted = Submitted::Maybe;
                }
            }
        }
        let open: Vec<bool> = self.lingering.iter().map(|l| self.is_open(l.fd)).collect();
        for (lingering, open) in self.lingering.iter_mut().zip(open) {
            if lingering.reporting && lingering.in_kernel == Submitted::No {
                lingering.in_kernel = Submitted::Maybe;
                if !open {
                    lingering.record = Record::Unsure;
                }
            }
        }
    }

    /// io_uring: lingering registrations after a poll that reported
    /// `reported` (and filled its buffer: `full`). A oneshot is spent; a
    /// level one is re-armed on its number (its record is unsure already,
    /// see [`Lingering::of`]); a failed one's `EBADF` was read if the poll
    /// had room left.
    pub(crate) fn polled_lingering(&mut self, reported: &[Origin], full: bool) {
        self.hold_peers();
        if self.lingering.iter().any(|l| {
            reported.contains(&Origin::Lingering(l.fd)) && l.trigger != TriggerChoice::Edge
        }) {
            self.release_held_peers();
        }
        let lingering = std::mem::take(&mut self.lingering);
        self.lingering = lingering
            .into_iter()
            .filter_map(|mut l| {
                if l.failed {
                    // Read (the CQ is empty after a poll with room left),
                    // or maybe not.
                    if !full {
                        return None;
                    }
                    l.record = Record::Unsure;
                    return Some(l);
                }
                if !reported.contains(&Origin::Lingering(l.fd)) {
                    return Some(l);
                }
                match l.trigger {
                    TriggerChoice::Oneshot | TriggerChoice::EdgeOneshot => {
                        l.reporting = false;
                        l.in_kernel = Submitted::No;
                        Some(l)
                    }
                    TriggerChoice::Level => {
                        l.in_kernel = Submitted::Maybe;
                        l.record = Record::Unsure;
                        Some(l)
                    }
                    TriggerChoice::Edge => Some(l),
                }
            })
            .collect();
    }

    /// Whether a lingering request may hold `slot`'s peer open: then the
    /// peer's close may not reach ours (a TCP FIN is not sent).
    pub fn peer_may_be_held(&self, slot: Slot) -> bool {
        self.held_peers[slot.index()]
    }

    /// Takes the lingering record at `fd`, if any (the `threads` target
    /// hands records between workers).
    pub fn take_lingering(&mut self, fd: RawFd) -> Option<Lingering> {
        let index = self.lingering.iter().position(|l| l.fd == fd)?;
        Some(self.lingering.remove(index))
    }

    /// Adds a lingering record another worker's model left.
    pub fn adopt(&mut self, lingering: Lingering) {
        self.lingering.push(lingering);
    }
}
