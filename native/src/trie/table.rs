//! The trie-wide literal child table: open addressing with linear probing and backward-shift
//! deletion, one u64 per slot (32 hash bits to reject mismatches early, 32 bits node index).
//! Keys are (parent index, level bytes), compared against the nodes themselves, so the table
//! stores no key copies.

use super::node::Arena;

const EMPTY: u64 = u64::MAX;

/// Seeded hash of a level name; the seed is random per trie so names cannot be chosen offline
/// to collide. Combined with a parent by `with_parent`, so a walk hashes each topic level once
/// however many branches look it up.
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    const M: u64 = 0x9E37_79B9_7F4A_7C15;
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
    h
}

/// The table hash of (parent, name) from `hash_bytes(name)`.
#[inline]
pub fn with_parent(name_hash: u64, parent: u32) -> u64 {
    let mut h = name_hash ^ ((parent as u64) + 1).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// Seeded hash of (parent, level bytes).
#[inline]
pub fn hash_level(seed: u64, parent: u32, bytes: &[u8]) -> u64 {
    with_parent(hash_bytes(seed, bytes), parent)
}

pub struct ChildTable {
    slots: Vec<u64>,
    len: usize,
    seed: u64,
}

impl ChildTable {
    pub fn new(seed: u64) -> ChildTable {
        ChildTable { slots: vec![EMPTY; 16], len: 0, seed }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    /// The child of `parent` named `level`.
    #[inline]
    pub fn get(&self, nodes: &Arena, parent: u32, level: &[u8]) -> Option<u32> {
        self.get_hashed(nodes, parent, level, self.hash(parent, level))
    }

    #[inline]
    pub fn hash(&self, parent: u32, level: &[u8]) -> u64 {
        hash_level(self.seed, parent, level)
    }

    /// The name part of `hash`, to be combined with `with_parent`.
    #[inline]
    pub fn name_hash(&self, level: &[u8]) -> u64 {
        hash_bytes(self.seed, level)
    }

    /// Starts loading the slot a later `get_hashed(.., h)` will probe first.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        crate::memory::prefetch(&self.slots[h as usize & self.mask()] as *const u64 as *const u8);
    }

    /// As `get`, with `h` = `self.hash(parent, level)` computed earlier.
    #[inline]
    pub fn get_hashed(&self, nodes: &Arena, parent: u32, level: &[u8], h: u64) -> Option<u32> {
        let tag = (h >> 32) as u32;
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let e = self.slots[i];
            if e == EMPTY {
                return None;
            }
            if (e >> 32) as u32 == tag {
                let child = e as u32;
                if nodes.node(child).parent == parent && nodes.key(child) == level {
                    return Some(child);
                }
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds `child` (not present yet) under its parent and name.
    pub fn insert(&mut self, nodes: &Arena, child: u32) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow(nodes);
        }
        let h = hash_level(self.seed, nodes.node(child).parent, nodes.key(child));
        self.place(h, child);
        self.len += 1;
    }

    fn place(&mut self, h: u64, child: u32) {
        let mask = self.mask();
        let mut i = h as usize & mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = ((h >> 32) << 32) | child as u64;
    }

    fn grow(&mut self, nodes: &Arena) {
        let n = self.slots.len() * 2;
        let mut bigger = Vec::with_capacity(n);
        // Advise before the first touch, or the pages are already 4 KiB.
        crate::memory::advise_huge_pages(bigger.as_ptr() as *const u8, n * 8);
        bigger.resize(n, EMPTY);
        let old = std::mem::replace(&mut self.slots, bigger);
        for e in old {
            if e != EMPTY {
                let child = e as u32;
                self.place(hash_level(self.seed, nodes.node(child).parent, nodes.key(child)), child);
            }
        }
    }

    /// Removes `child` (which must be present); `nodes[child]` must still hold its parent and name.
    pub fn remove(&mut self, nodes: &Arena, child: u32) {
        let h = hash_level(self.seed, nodes.node(child).parent, nodes.key(child));
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let e = self.slots[i];
            if e == EMPTY {
                return;
            }
            if e as u32 == child {
                break;
            }
            i = (i + 1) & mask;
        }
        // Backward-shift: pull later entries of the probe run into the hole so lookups never
        // stop early and no tombstones accumulate.
        let mut hole = i;
        let mut j = (i + 1) & mask;
        loop {
            let e = self.slots[j];
            if e == EMPTY {
                break;
            }
            let c = e as u32;
            let home = hash_level(self.seed, nodes.node(c).parent, nodes.key(c)) as usize & mask;
            // Move e into the hole unless its home lies cyclically in (hole, j].
            let dist_home = j.wrapping_sub(home) & mask;
            let dist_hole = j.wrapping_sub(hole) & mask;
            if dist_home >= dist_hole {
                self.slots[hole] = e;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
    }

    /// Bytes held by the slot array.
    pub fn heap_bytes(&self) -> usize {
        self.slots.len() * 8
    }
}
