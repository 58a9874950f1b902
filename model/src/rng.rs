//! A tiny deterministic PRNG (SplitMix64) and the random operation
//! sequences `cargo test` runs on stable, without a fuzzer.

use super::op::{Kind, Op, Slot, TokenChoice, TriggerChoice, SLOTS};

/// SplitMix64: tiny, fast, and good enough to pick test operations.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`; the same seed gives the same numbers.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }

    /// One of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    /// `len` random bytes.
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.byte()).collect()
    }
}

/// What random sequences may use.
#[derive(Clone, Debug)]
pub struct Palette {
    /// The kinds of source created.
    pub kinds: Vec<Kind>,
    /// The triggers registered with.
    pub triggers: Vec<TriggerChoice>,
    /// Whether interests may include [`Interest::PRIORITY`](evq::Interest).
    pub priority: bool,
    /// Whether a peer may `shutdown(Write)`.
    pub shutdown: bool,
}

impl Palette {
    /// Everything but children, whose every `Create` costs a process (a
    /// few milliseconds) and makes its run exclusive (see
    /// [`run_guard`](crate::signals_and_children::run_guard)):
    /// [`with_children`](Palette::with_children) adds them.
    pub fn full() -> Palette {
        Palette {
            kinds: vec![
                Kind::PipeReader,
                Kind::PipeWriter,
                Kind::UnixStream,
                Kind::EventFd,
                Kind::Tcp,
                Kind::Timer,
                Kind::Signals,
            ],
            triggers: vec![
                TriggerChoice::Edge,
                TriggerChoice::Level,
                TriggerChoice::Oneshot,
                TriggerChoice::EdgeOneshot,
            ],
            priority: true,
            shutdown: true,
        }
    }

    /// Everything, children included.
    pub fn with_children() -> Palette {
        let mut palette = Palette::full();
        palette.kinds.push(Kind::Child);
        palette
    }

    /// What Miri emulates as Linux does: socket pairs and eventfds,
    /// edge-triggered, without `PRIORITY` or `shutdown`. (Miri has no TCP,
    /// and its pipes are socket-like: a write end polls readable, a read
    /// end writable.)
    pub fn miri() -> Palette {
        Palette {
            kinds: vec![Kind::UnixStream, Kind::EventFd],
            triggers: vec![TriggerChoice::Edge],
            priority: false,
            shutdown: false,
        }
    }

    /// The palette for this build.
    pub fn here() -> Palette {
        if cfg!(miri) {
            Palette::miri()
        } else {
            Palette::full()
        }
    }
}

/// An interest byte: mostly valid combinations, sometimes empty or with
/// unknown bits.
fn interest(rng: &mut Rng, palette: &Palette) -> u8 {
    let bits = match rng.below(8) {
        0 => rng.byte(),
        1 => 0,
        _ => 1 + rng.below(7) as u8,
    };
    if palette.priority {
        bits
    } else {
        bits & !4
    }
}

/// A random operation, weighted towards the interesting ones.
pub fn random_op(rng: &mut Rng, palette: &Palette) -> Op {
    let slot = Slot(rng.byte());
    let token = TokenChoice(rng.byte());
    let len = rng.next_u64() as u16;
    match rng.below(100) {
        0..=9 => Op::Create {
            slot,
            kind: rng.pick(&palette.kinds),
        },
        10..=24 => Op::Register {
            slot,
            token,
            interest: interest(rng, palette),
            trigger: rng.pick(&palette.triggers),
        },
        25..=32 => Op::Reregister {
            slot,
            token,
            interest: interest(rng, palette),
            trigger: rng.pick(&palette.triggers),
        },
        33..=38 => Op::Deregister { slot },
        39..=50 => Op::PeerWrite { slot, len },
        51..=56 => Op::OursWrite { slot, len },
        57..=64 => Op::ReadAll { slot },
        65..=68 => Op::PeerReadAll { slot },
        69..=71 if palette.shutdown => Op::ShutdownPeer { slot },
        69..=74 => Op::ClosePeer { slot },
        75..=77 => Op::Close { slot },
        78..=81 => Op::Wake,
        _ => Op::Poll {
            capacity: rng.byte(),
        },
    }
}

/// A random sequence of `len` operations after a prologue that opens and
/// registers a source in every slot (random ops alone leave most slots
/// empty most of the time).
pub fn random_ops(rng: &mut Rng, palette: &Palette, len: usize) -> Vec<Op> {
    let mut ops = Vec::new();
    for index in 0..SLOTS {
        let slot = Slot(index as u8);
        ops.push(Op::Create {
            slot,
            kind: rng.pick(&palette.kinds),
        });
        ops.push(Op::Register {
            slot,
            token: TokenChoice(rng.byte()),
            interest: 1 + rng.below(if palette.priority { 7 } else { 3 }) as u8,
            trigger: rng.pick(&palette.triggers),
        });
    }
    ops.extend((0..len).map(|_| random_op(rng, palette)));
    ops
}
