//! The operations of the `registration` target (and of the seeded random
//! sequences in `cargo test`), decoded from bytes with `arbitrary`, and
//! printed as Rust-like steps.

use arbitrary::{Arbitrary, Unstructured};
use evq::{Interest, Token, Trigger};
use std::fmt;

/// How many sources the pool holds at once.
pub const SLOTS: usize = 4;

/// The longest sequence one input decodes to.
pub const MAX_OPS: usize = 128;

/// The token of the harness's [`Waker`](evq::Waker): outside every
/// value [`TokenChoice`] produces.
pub const WAKER_TOKEN: Token = Token(0x5A5A_0000);

/// The kind of source a slot holds. "Ours" is the end that gets
/// registered; "the peer" is the other end, if there is one.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Ours is a pipe's read end; the peer its write end.
    PipeReader,
    /// Ours is a pipe's write end; the peer its read end.
    PipeWriter,
    /// A connected `AF_UNIX` stream socket pair.
    UnixStream,
    /// An eventfd: "writing" adds to its counter, "reading" resets it.
    EventFd,
    /// A TCP connection on 127.0.0.1: ours is the accepted side.
    Tcp,
    /// An `evq::Timer`: "the peer writes" is `set_timeout(ZERO)` (one
    /// expiration, which the harness waits for), "reading" is `read()`.
    Timer,
    /// An `evq::Signals` watching one signal (the slot's own): "the peer
    /// writes" is `raise` of it (to this thread), "reading" is `pending()`.
    Signals,
    /// An `evq::ChildExit` for a child that runs until its input closes:
    /// "the peer writes" is closing it (the child exits, once; the harness
    /// waits for it), "reading" is `try_wait()` (reaping it).
    Child,
}

/// A slot of the pool, as decoded: any byte, taken modulo [`SLOTS`].
#[derive(Arbitrary, Clone, Copy, PartialEq, Eq)]
pub struct Slot(pub u8);

impl Slot {
    /// The slot's index in the pool.
    pub fn index(self) -> usize {
        usize::from(self.0) % SLOTS
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.index())
    }
}

/// A token: one of a few interesting values, made distinct per slot so
/// that the model can tell registrations apart by token.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenChoice(pub u8);

impl TokenChoice {
    /// The values tried, all with their low three bits clear or all set, so
    /// that XOR-ing in the slot index keeps them distinct.
    /// (On 32-bit targets `1 << 32` becomes 0 and `0xffff_ffff` is
    /// `usize::MAX`: tokens stay distinct per slot.)
    const VALUES: [u64; 6] = [0, 0x1000, 0x7fff_fff8, 0xffff_ffff, 1 << 32, u64::MAX];

    /// The token for `slot`: distinct for every slot, whatever the choices.
    pub fn token(self, slot: Slot) -> Token {
        let value = TokenChoice::VALUES[usize::from(self.0) % TokenChoice::VALUES.len()];
        Token(value as usize ^ slot.index())
    }
}

/// A [`Trigger`], decodable.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerChoice {
    /// [`Trigger::Edge`].
    Edge,
    /// [`Trigger::Level`].
    Level,
    /// [`Trigger::Oneshot`].
    Oneshot,
    /// [`Trigger::EdgeOneshot`].
    EdgeOneshot,
}

impl TriggerChoice {
    /// The trigger it stands for.
    pub fn trigger(self) -> Trigger {
        match self {
            TriggerChoice::Edge => Trigger::Edge,
            TriggerChoice::Level => Trigger::Level,
            TriggerChoice::Oneshot => Trigger::Oneshot,
            TriggerChoice::EdgeOneshot => Trigger::EdgeOneshot,
        }
    }

    /// Whether one event disarms the registration.
    pub fn is_oneshot(self) -> bool {
        matches!(self, TriggerChoice::Oneshot | TriggerChoice::EdgeOneshot)
    }

    /// Whether it reports changes only.
    pub fn is_edge(self) -> bool {
        matches!(self, TriggerChoice::Edge | TriggerChoice::EdgeOneshot)
    }
}

/// One step of a `registration` sequence.
#[derive(Arbitrary, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// Closes whatever the slot held, then opens a fresh source of `kind`.
    Create {
        /// Where.
        slot: Slot,
        /// What.
        kind: Kind,
    },
    /// `register_with(ours, token, interest, trigger)`.
    Register {
        /// Which source.
        slot: Slot,
        /// The token, made distinct per slot.
        token: TokenChoice,
        /// Any bit pattern, unknown bits included.
        interest: u8,
        /// The trigger.
        trigger: TriggerChoice,
    },
    /// `reregister_with(ours, token, interest, trigger)`.
    Reregister {
        /// Which source.
        slot: Slot,
        /// The token, made distinct per slot.
        token: TokenChoice,
        /// Any bit pattern, unknown bits included.
        interest: u8,
        /// The trigger.
        trigger: TriggerChoice,
    },
    /// `deregister(ours)`.
    Deregister {
        /// Which source.
        slot: Slot,
    },
    /// The peer writes `1 + len % 1024` bytes to ours (an eventfd: adds
    /// that much to its counter).
    PeerWrite {
        /// Which source.
        slot: Slot,
        /// How much, before the modulo.
        len: u16,
    },
    /// Ours writes `1 + len % 1024` bytes to the peer.
    OursWrite {
        /// Which source.
        slot: Slot,
        /// How much, before the modulo.
        len: u16,
    },
    /// Ours reads until `WouldBlock`, end of file or an error.
    ReadAll {
        /// Which source.
        slot: Slot,
    },
    /// The peer reads everything ours wrote.
    PeerReadAll {
        /// Which source.
        slot: Slot,
    },
    /// The peer shuts down its writing side (sockets only).
    ShutdownPeer {
        /// Which source.
        slot: Slot,
    },
    /// The peer's end is closed.
    ClosePeer {
        /// Which source.
        slot: Slot,
    },
    /// Ours (and the peer) are closed, registered or not.
    Close {
        /// Which source.
        slot: Slot,
    },
    /// The harness's waker wakes.
    Wake,
    /// `poll(events, Some(Duration::ZERO))` into a buffer of
    /// [`capacity`](Op::poll_capacity).
    Poll {
        /// Picks the capacity.
        capacity: u8,
    },
}

impl Op {
    /// The capacities a poll uses.
    const CAPACITIES: [usize; 4] = [1, 2, 3, 64];

    /// The buffer capacity of a `Poll` op.
    pub fn poll_capacity(capacity: u8) -> usize {
        Op::CAPACITIES[usize::from(capacity) % Op::CAPACITIES.len()]
    }

    /// The byte count of a write op.
    pub fn write_len(len: u16) -> usize {
        1 + usize::from(len) % 1024
    }

    /// The slot the op acts on, if any.
    pub fn slot(&self) -> Option<Slot> {
        match *self {
            Op::Create { slot, .. }
            | Op::Register { slot, .. }
            | Op::Reregister { slot, .. }
            | Op::Deregister { slot }
            | Op::PeerWrite { slot, .. }
            | Op::OursWrite { slot, .. }
            | Op::ReadAll { slot }
            | Op::PeerReadAll { slot }
            | Op::ShutdownPeer { slot }
            | Op::ClosePeer { slot }
            | Op::Close { slot } => Some(slot),
            Op::Wake | Op::Poll { .. } => None,
        }
    }
}

/// Decodes a whole input into at most [`MAX_OPS`] operations.
pub fn decode<'a, T: Arbitrary<'a>>(data: &'a [u8], max: usize) -> Vec<T> {
    let mut u = Unstructured::new(data);
    let mut ops = Vec::new();
    while !u.is_empty() && ops.len() < max {
        match T::arbitrary(&mut u) {
            Ok(op) => ops.push(op),
            Err(_) => break,
        }
    }
    ops
}

/// A token written as `Token(0x…)`: the values tried are easier to tell
/// apart in hex.
pub struct Hex(pub Token);

impl fmt::Display for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:#x})", self.0 .0)
    }
}

impl fmt::Debug for Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `Interest::from_bits_retain(bits)`, written the way a reader knows it.
pub struct InterestCode(pub u8);

impl fmt::Display for InterestCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = Interest::from_bits_truncate(self.0);
        // Debug names the known flags as `READABLE | WRITABLE`.
        let mut names: Vec<String> = if known.is_empty() {
            Vec::new()
        } else {
            format!("{known:?}")
                .split(" | ")
                .map(|name| format!("Interest::{name}"))
                .collect()
        };
        let unknown = self.0 & !Interest::all().bits();
        if unknown != 0 {
            names.push(format!("Interest::from_bits_retain({unknown:#x})"));
        }
        if names.is_empty() {
            f.write_str("Interest::empty()")
        } else {
            f.write_str(&names.join(" | "))
        }
    }
}

impl fmt::Display for Op {
    /// The op as a line of Rust, with `sN` for slot N's source, `peerN` for
    /// its other end and `registry` for the poll's registry.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Op::Create { slot, kind } => {
                let make = match kind {
                    Kind::PipeReader => "pipe() /* ours: read end */",
                    Kind::PipeWriter => "pipe() /* ours: write end */",
                    Kind::UnixStream => "UnixStream::pair()",
                    Kind::EventFd => "eventfd(0, EFD_NONBLOCK)",
                    Kind::Tcp => "tcp_pair_on_localhost()",
                    Kind::Timer => "Timer::new()",
                    Kind::Signals => "Signals::new(&[signal_of(slot)])",
                    Kind::Child => "ChildExit::new(&Command::new(\"cat\").spawn()?)",
                };
                write!(f, "let ({slot:?}, peer{}) = {make}", slot.index())
            }
            Op::Register {
                slot,
                token,
                interest,
                trigger,
            } => write!(
                f,
                "registry.register_with(&{slot:?}, {}, {}, Trigger::{:?})",
                Hex(token.token(slot)),
                InterestCode(interest),
                trigger.trigger()
            ),
            Op::Reregister {
                slot,
                token,
                interest,
                trigger,
            } => write!(
                f,
                "registry.reregister_with(&{slot:?}, {}, {}, Trigger::{:?})",
                Hex(token.token(slot)),
                InterestCode(interest),
                trigger.trigger()
            ),
            Op::Deregister { slot } => write!(f, "registry.deregister(&{slot:?})"),
            Op::PeerWrite { slot, len } => write!(
                f,
                "peer{}.write_all(&[0; {}])",
                slot.index(),
                Op::write_len(len)
            ),
            Op::OursWrite { slot, len } => {
                write!(f, "{slot:?}.write_all(&[0; {}])", Op::write_len(len))
            }
            Op::ReadAll { slot } => write!(f, "read_until_would_block(&{slot:?})"),
            Op::PeerReadAll { slot } => {
                write!(f, "read_until_would_block(&peer{})", slot.index())
            }
            Op::ShutdownPeer { slot } => {
                write!(f, "peer{}.shutdown(Shutdown::Write)", slot.index())
            }
            Op::ClosePeer { slot } => write!(f, "drop(peer{})", slot.index()),
            Op::Close { slot } => write!(f, "drop(({slot:?}, peer{}))", slot.index()),
            Op::Wake => f.write_str("waker.wake()"),
            Op::Poll { capacity } => write!(
                f,
                "poll.poll(&mut Events::with_capacity({}), Some(Duration::ZERO))",
                Op::poll_capacity(capacity)
            ),
        }
    }
}
