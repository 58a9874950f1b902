//! The inverse of `arbitrary`'s decoding, for writing seed inputs: bytes
//! that decode to a chosen sequence. `arbitrary` 1.x reads integers as
//! little-endian bytes, `bool` as a byte's low bit, and an enum's variant
//! `i` of `n` from a `u32` `v` with `(v * n) >> 32 == i`.

use super::inputs::{Capacity, InputOp, Timeout, TokenValue};
use super::op::{Kind, Op, Slot, TokenChoice, TriggerChoice};
use super::targets::Target;

/// Appends the bytes that decode to `self`.
pub trait Encode {
    /// Appends the encoding to `out`.
    fn encode(&self, out: &mut Vec<u8>);
}

/// The bytes that decode to all of `items`, in order.
pub fn encode_all<T: Encode>(items: &[T]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in items {
        item.encode(&mut out);
    }
    out
}

fn variant(out: &mut Vec<u8>, index: usize, count: usize) {
    let v = ((index as u64) << 32).div_ceil(count as u64) as u32;
    out.extend_from_slice(&v.to_le_bytes());
}

impl Encode for u8 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(*self);
    }
}

impl Encode for u16 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Encode for u32 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Encode for u64 {
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
}

impl Encode for bool {
    fn encode(&self, out: &mut Vec<u8>) {
        out.push(u8::from(*self));
    }
}

impl<A: Encode, B: Encode> Encode for (A, B) {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
        self.1.encode(out);
    }
}

impl Encode for Slot {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
}

impl Encode for TokenChoice {
    fn encode(&self, out: &mut Vec<u8>) {
        self.0.encode(out);
    }
}

impl Encode for Kind {
    fn encode(&self, out: &mut Vec<u8>) {
        let index = match self {
            Kind::PipeReader => 0,
            Kind::PipeWriter => 1,
            Kind::UnixStream => 2,
            Kind::EventFd => 3,
            Kind::Tcp => 4,
            Kind::Timer => 5,
            Kind::Signals => 6,
            Kind::Child => 7,
        };
        variant(out, index, 8);
    }
}

impl Encode for TriggerChoice {
    fn encode(&self, out: &mut Vec<u8>) {
        let index = match self {
            TriggerChoice::Edge => 0,
            TriggerChoice::Level => 1,
            TriggerChoice::Oneshot => 2,
            TriggerChoice::EdgeOneshot => 3,
        };
        variant(out, index, 4);
    }
}

impl Encode for Op {
    fn encode(&self, out: &mut Vec<u8>) {
        const COUNT: usize = 13;
        match *self {
            Op::Create { slot, kind } => {
                variant(out, 0, COUNT);
                (slot, kind).encode(out);
            }
            Op::Register {
                slot,
                token,
                interest,
                trigger,
            } => {
                variant(out, 1, COUNT);
                ((slot, token), (interest, trigger)).encode(out);
            }
            Op::Reregister {
                slot,
                token,
                interest,
                trigger,
            } => {
                variant(out, 2, COUNT);
                ((slot, token), (interest, trigger)).encode(out);
            }
            Op::Deregister { slot } => {
                variant(out, 3, COUNT);
                slot.encode(out);
            }
            Op::PeerWrite { slot, len } => {
                variant(out, 4, COUNT);
                (slot, len).encode(out);
            }
            Op::OursWrite { slot, len } => {
                variant(out, 5, COUNT);
                (slot, len).encode(out);
            }
            Op::ReadAll { slot } => {
                variant(out, 6, COUNT);
                slot.encode(out);
            }
            Op::PeerReadAll { slot } => {
                variant(out, 7, COUNT);
                slot.encode(out);
            }
            Op::ShutdownPeer { slot } => {
                variant(out, 8, COUNT);
                slot.encode(out);
            }
            Op::ClosePeer { slot } => {
                variant(out, 9, COUNT);
                slot.encode(out);
            }
            Op::Close { slot } => {
                variant(out, 10, COUNT);
                slot.encode(out);
            }
            Op::Wake => variant(out, 11, COUNT),
            Op::Poll { capacity } => {
                variant(out, 12, COUNT);
                capacity.encode(out);
            }
        }
    }
}

impl Encode for Target {
    fn encode(&self, out: &mut Vec<u8>) {
        let index = Target::ALL
            .iter()
            .position(|t| t == self)
            .expect("every target is in ALL");
        variant(out, index, Target::ALL.len());
    }
}

impl Encode for TokenValue {
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            TokenValue::Max => variant(out, 0, 3),
            TokenValue::Zero => variant(out, 1, 3),
            TokenValue::Any(value) => {
                variant(out, 2, 3);
                value.encode(out);
            }
        }
    }
}

impl Encode for Timeout {
    fn encode(&self, out: &mut Vec<u8>) {
        const COUNT: usize = 9;
        match *self {
            Timeout::Forever => variant(out, 0, COUNT),
            Timeout::Zero => variant(out, 1, COUNT),
            Timeout::OneNanosecond => variant(out, 2, COUNT),
            Timeout::Micros(us) => {
                variant(out, 3, COUNT);
                us.encode(out);
            }
            Timeout::Millis(ms) => {
                variant(out, 4, COUNT);
                ms.encode(out);
            }
            Timeout::Max => variant(out, 5, COUNT),
            Timeout::HalfMax => variant(out, 6, COUNT),
            Timeout::OverKernelLimit => variant(out, 7, COUNT),
            Timeout::Seconds(s) => {
                variant(out, 8, COUNT);
                s.encode(out);
            }
        }
    }
}

impl Encode for Capacity {
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            Capacity::Zero => variant(out, 0, 3),
            Capacity::Small(n) => {
                variant(out, 1, 3);
                n.encode(out);
            }
            Capacity::Max => variant(out, 2, 3),
        }
    }
}

impl Encode for InputOp {
    fn encode(&self, out: &mut Vec<u8>) {
        const COUNT: usize = 10;
        match *self {
            InputOp::Register {
                target,
                token,
                interest,
                trigger,
                via_clone,
            } => {
                variant(out, 0, COUNT);
                ((target, token), (interest, (trigger, via_clone))).encode(out);
            }
            InputOp::Reregister {
                target,
                token,
                interest,
                trigger,
                via_clone,
            } => {
                variant(out, 1, COUNT);
                ((target, token), (interest, (trigger, via_clone))).encode(out);
            }
            InputOp::Deregister { target, via_clone } => {
                variant(out, 2, COUNT);
                (target, via_clone).encode(out);
            }
            InputOp::Poll { timeout, capacity } => {
                variant(out, 3, COUNT);
                (timeout, capacity).encode(out);
            }
            InputOp::MakeReady { target } => {
                variant(out, 4, COUNT);
                target.encode(out);
            }
            InputOp::ReopenNumbered => variant(out, 5, COUNT),
            InputOp::CloseNumbered => variant(out, 6, COUNT),
            InputOp::NewWaker { token } => {
                variant(out, 7, COUNT);
                token.encode(out);
            }
            InputOp::Wake { which } => {
                variant(out, 8, COUNT);
                which.encode(out);
            }
            InputOp::DropWaker { which } => {
                variant(out, 9, COUNT);
                which.encode(out);
            }
        }
    }
}
