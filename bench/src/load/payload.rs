//! The bytes a connection sends: a stream computed from a per-connection
//! seed, so the driver checks every echoed byte against what it sent
//! without keeping 9,000 payloads (300 MB) in memory.

/// SplitMix64: one well-mixed 64-bit word per input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A small deterministic random generator for sizes and seeds.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(1);
        mix(self.0)
    }

    /// A number in `low..=high`.
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }
}

/// The payload of one connection: `len` bytes drawn from `seed`.
#[derive(Clone, Copy, Debug)]
pub struct Payload {
    seed: u64,
    /// Its length in bytes.
    pub len: u64,
}

impl Payload {
    /// A payload of `len` bytes from `seed`.
    pub fn new(seed: u64, len: u64) -> Payload {
        Payload { seed, len }
    }

    /// Fills `buf` with the payload's bytes from `offset` on.
    pub fn fill(&self, offset: u64, buf: &mut [u8]) {
        let mut word = offset / 8;
        let mut bytes = mix(self.seed ^ word.wrapping_mul(0xd6e8_feb8_6659_fd93)).to_le_bytes();
        let mut at = (offset % 8) as usize;
        for slot in buf {
            if at == 8 {
                word += 1;
                bytes = mix(self.seed ^ word.wrapping_mul(0xd6e8_feb8_6659_fd93)).to_le_bytes();
                at = 0;
            }
            *slot = bytes[at];
            at += 1;
        }
    }

    /// Checks that `got` is the payload from `offset` on; on a mismatch,
    /// the offset of the first wrong byte. `scratch` must be at least as
    /// long as `got`.
    pub fn check(&self, offset: u64, got: &[u8], scratch: &mut [u8]) -> Result<(), u64> {
        let want = &mut scratch[..got.len()];
        self.fill(offset, want);
        match got.iter().zip(want.iter()).position(|(a, b)| a != b) {
            None => Ok(()),
            Some(i) => Err(offset + i as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_split_gives_the_same_bytes() {
        let payload = Payload::new(42, 100);
        let mut whole = [0u8; 100];
        payload.fill(0, &mut whole);
        let mut parts = [0u8; 100];
        let (a, b) = parts.split_at_mut(13);
        payload.fill(0, a);
        payload.fill(13, b);
        assert_eq!(whole, parts);
        let mut scratch = [0u8; 100];
        assert_eq!(payload.check(5, &whole[5..50], &mut scratch), Ok(()));
        let mut wrong = whole;
        wrong[17] ^= 1;
        assert_eq!(payload.check(0, &wrong, &mut scratch), Err(17));
        // Another seed gives other bytes.
        let mut other = [0u8; 100];
        Payload::new(43, 100).fill(0, &mut other);
        assert_ne!(whole, other);
    }
}
