//! Readiness as the kernel computes it (epoll bits), and as an [`Event`]
//! shows it (its six accessors).
//!
//! epoll reports, for a registration it reports at all, *every* condition
//! that holds at the moment of the `epoll_wait` and is in the registration's
//! mask: `ep_send_events` calls the file's `poll` again and keeps
//! `revents & epi->event.events`. So the flags of an event are fully
//! determined by the source's state; the model only has to know which
//! conditions certainly hold (`sure`) and which might (`maybe`).

use evq::{sys, Event, Interest};
use std::fmt;

/// A set of epoll readiness bits (`EPOLLIN`, ...), with the kernel's values
/// (from `evq::sys`).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Bits(pub u32);

impl Bits {
    /// `EPOLLIN`: data, end of file, or a connection to accept.
    pub const IN: Bits = Bits(sys::EPOLLIN);
    /// `EPOLLPRI`: priority data.
    pub const PRI: Bits = Bits(sys::EPOLLPRI);
    /// `EPOLLOUT`: room to write.
    pub const OUT: Bits = Bits(sys::EPOLLOUT);
    /// `EPOLLERR`: a pending error; always reported.
    pub const ERR: Bits = Bits(sys::EPOLLERR);
    /// `EPOLLHUP`: both directions closed; always reported.
    pub const HUP: Bits = Bits(sys::EPOLLHUP);
    /// `EPOLLRDHUP`: the peer shut down its writing side.
    pub const RDHUP: Bits = Bits(sys::EPOLLRDHUP);
    /// No bit.
    pub const NONE: Bits = Bits(0);

    const NAMED: [(Bits, &'static str); 6] = [
        (Bits::IN, "IN"),
        (Bits::PRI, "PRI"),
        (Bits::OUT, "OUT"),
        (Bits::ERR, "ERR"),
        (Bits::HUP, "HUP"),
        (Bits::RDHUP, "RDHUP"),
    ];

    /// Whether no bit is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether every bit of `other` is set here.
    pub fn contains(self, other: Bits) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether some bit of `other` is set here.
    pub fn intersects(self, other: Bits) -> bool {
        self.0 & other.0 != 0
    }

    /// The bits epoll can report for a registration with `interest`, as
    /// evq's epoll backend asks for them: `READABLE` is `EPOLLIN |
    /// EPOLLRDHUP`, `WRITABLE` is `EPOLLOUT`, `PRIORITY` is `EPOLLPRI`, and
    /// `EPOLLERR | EPOLLHUP` always.
    pub fn mask(interest: Interest) -> Bits {
        let mut mask = Bits::ERR | Bits::HUP;
        if interest.contains(Interest::READABLE) {
            mask = mask | Bits::IN | Bits::RDHUP;
        }
        if interest.contains(Interest::WRITABLE) {
            mask = mask | Bits::OUT;
        }
        if interest.contains(Interest::PRIORITY) {
            mask = mask | Bits::PRI;
        }
        mask
    }

    /// The accessor flags an event with exactly these bits shows.
    pub fn flags(self) -> Flags {
        let mut flags = Flags::NONE;
        let mut set = |flag: Flags, on: bool| {
            if on {
                flags.0 |= flag.0;
            }
        };
        set(Flags::READABLE, self.intersects(Bits::IN));
        set(Flags::WRITABLE, self.intersects(Bits::OUT));
        set(Flags::ERROR, self.intersects(Bits::ERR));
        set(Flags::READ_CLOSED, self.intersects(Bits::HUP | Bits::RDHUP));
        set(Flags::WRITE_CLOSED, self.intersects(Bits::HUP | Bits::ERR));
        set(Flags::PRIORITY, self.intersects(Bits::PRI));
        flags
    }
}

impl std::ops::BitOr for Bits {
    type Output = Bits;
    fn bitor(self, other: Bits) -> Bits {
        Bits(self.0 | other.0)
    }
}

impl std::ops::BitAnd for Bits {
    type Output = Bits;
    fn bitand(self, other: Bits) -> Bits {
        Bits(self.0 & other.0)
    }
}

impl std::ops::Not for Bits {
    type Output = Bits;
    fn not(self) -> Bits {
        Bits(!self.0)
    }
}

impl fmt::Debug for Bits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Bits::NAMED
            .iter()
            .filter(|(bit, _)| self.contains(*bit))
            .map(|(_, name)| *name)
            .collect();
        if names.is_empty() {
            f.write_str("-")
        } else {
            f.write_str(&names.join("|"))
        }
    }
}

/// What an [`Event`]'s six accessors say, as one small set.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(pub u8);

impl Flags {
    /// [`Event::is_readable`].
    pub const READABLE: Flags = Flags(1);
    /// [`Event::is_writable`].
    pub const WRITABLE: Flags = Flags(2);
    /// [`Event::is_error`].
    pub const ERROR: Flags = Flags(4);
    /// [`Event::is_read_closed`].
    pub const READ_CLOSED: Flags = Flags(8);
    /// [`Event::is_write_closed`].
    pub const WRITE_CLOSED: Flags = Flags(16);
    /// [`Event::is_priority`].
    pub const PRIORITY: Flags = Flags(32);
    /// No flag.
    pub const NONE: Flags = Flags(0);

    const NAMED: [(Flags, &'static str); 6] = [
        (Flags::READABLE, "readable"),
        (Flags::WRITABLE, "writable"),
        (Flags::ERROR, "error"),
        (Flags::READ_CLOSED, "read_closed"),
        (Flags::WRITE_CLOSED, "write_closed"),
        (Flags::PRIORITY, "priority"),
    ];

    /// The flags `event` shows.
    pub fn of(event: &Event) -> Flags {
        let mut flags = Flags::NONE;
        for (flag, on) in [
            (Flags::READABLE, event.is_readable()),
            (Flags::WRITABLE, event.is_writable()),
            (Flags::ERROR, event.is_error()),
            (Flags::READ_CLOSED, event.is_read_closed()),
            (Flags::WRITE_CLOSED, event.is_write_closed()),
            (Flags::PRIORITY, event.is_priority()),
        ] {
            if on {
                flags.0 |= flag.0;
            }
        }
        flags
    }
}

impl fmt::Debug for Flags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Flags::NAMED
            .iter()
            .filter(|(flag, _)| self.0 & flag.0 != 0)
            .map(|(_, name)| *name)
            .collect();
        write!(f, "[{}]", names.join(", "))
    }
}

/// The readiness of a source: the conditions that certainly hold, and
/// those that may or may not (where the kernel's behaviour depends on
/// timing or on details the model does not pin down).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct Readiness {
    /// Conditions that hold.
    pub sure: Bits,
    /// Conditions that may hold; disjoint from `sure`.
    pub maybe: Bits,
}

impl Readiness {
    /// Restricted to what a registration with `interest` is told about.
    pub fn masked(self, interest: Interest) -> Readiness {
        self.within(Bits::mask(interest))
    }

    /// Restricted to the conditions in `mask`.
    pub fn within(self, mask: Bits) -> Readiness {
        Readiness {
            sure: self.sure & mask,
            maybe: self.maybe & mask & !self.sure,
        }
    }

    /// Every condition that may hold.
    pub fn possible(self) -> Bits {
        self.sure | self.maybe
    }

    /// The accessor flags an event may show: those of `sure` plus any
    /// subset of `maybe`, and never an event with no bit at all.
    pub fn allowed_flags(self) -> Vec<Flags> {
        let maybe: Vec<Bits> = Bits::NAMED
            .iter()
            .map(|(bit, _)| *bit)
            .filter(|bit| self.maybe.contains(*bit))
            .collect();
        let mut allowed = Vec::new();
        for subset in 0u32..(1 << maybe.len()) {
            let mut bits = self.sure;
            for (i, bit) in maybe.iter().enumerate() {
                if subset & (1 << i) != 0 {
                    bits = bits | *bit;
                }
            }
            if !bits.is_empty() && !allowed.contains(&bits.flags()) {
                allowed.push(bits.flags());
            }
        }
        allowed
    }
}

impl fmt::Debug for Readiness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.maybe.is_empty() {
            write!(f, "{:?}", self.sure)
        } else {
            write!(f, "{:?} (maybe {:?})", self.sure, self.maybe)
        }
    }
}
