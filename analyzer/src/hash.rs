//! `FastHash`: the hasher of cleave's lookup tables keyed by names.
//!
//! std's default hasher is built to resist keys chosen by an attacker, and
//! costs more than the lookup it serves for a short identifier. The keys
//! here are names from the analysed code, so the tables use the
//! multiply-rotate hash rustc uses for its own symbol tables. Tables hashed
//! this way are never iterated into an output (order is not part of any
//! result); the result of a lookup does not depend on the hasher.

use std::hash::{BuildHasherDefault, Hasher};

/// A `BuildHasher` for `HashMap`s and `HashSet`s keyed by names.
pub(crate) type FastHash = BuildHasherDefault<NameHasher>;

/// The multiply-rotate hash (FxHash) over the bytes written.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0xf135_7aea_2e62_a9c5;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(*b)).wrapping_mul(K);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0xf135_7aea_2e62_a9c5);
    }

    fn finish(&self) -> u64 {
        // The product's good bits are its high ones; tables index by the low.
        self.0.rotate_left(26)
    }
}
