//! The trie's seeded hashes. Seeds are random per trie so names cannot be chosen offline to
//! collide; no crates, and SipHash would cost more than the walk it protects.

const M: u64 = 0x9E37_79B9_7F4A_7C15;

/// Seeded hash of a level name (or of a whole topic, for the match cache).
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = seed ^ (bytes.len() as u64).wrapping_mul(M);
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        h = (h ^ w).wrapping_mul(M).rotate_left(31);
    }
    let rem = chunks.remainder();
    if !rem.is_empty() {
        let mut b = [0u8; 8];
        b[..rem.len()].copy_from_slice(rem);
        h = (h ^ u64::from_le_bytes(b)).wrapping_mul(M).rotate_left(31);
    }
    fmix(h)
}

/// The murmur3 finalizer: every input bit reaches every output bit, so both the low bits (slot)
/// and the high bits (tag) of a table hash are usable.
#[inline]
pub fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Seeded hash of an edge key, computed once per topic level and combined with each parent
/// the walk meets by `with_parent`.
#[inline]
pub fn hash_key(seed: u64, key: u64) -> u64 {
    fmix(key ^ seed)
}

/// The child-table hash of (parent, key) from `hash_key(key)`.
#[inline]
pub fn with_parent(key_hash: u64, parent: u32) -> u64 {
    fmix(key_hash ^ ((parent as u64) + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// Seeded hash of (parent, bytes), the match cache's chained topic hash.
#[inline]
pub fn hash_level(seed: u64, parent: u32, bytes: &[u8]) -> u64 {
    fmix(hash_bytes(seed, bytes) ^ ((parent as u64) + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93))
}
