//! The trie-wide child table: every edge (parent node, name key) -> child node, wildcard edges
//! included under the reserved keys PLUS and HASH, so a node carries no map of its own. Open
//! addressing with linear probing and backward-shift deletion; a slot holds the whole edge, so
//! a probe compares two integers and touches neither a node nor a name.

use super::hash::{hash_key, with_parent};
use super::names::Key;
use super::node::NONE;

#[derive(Clone, Copy)]
struct Slot {
    key: Key,
    /// NONE marks an empty slot.
    parent: u32,
    child: u32,
}

const EMPTY: Slot = Slot { key: 0, parent: NONE, child: NONE };

pub struct ChildTable {
    slots: Vec<Slot>,
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

    /// The key part of the hash, to be combined with each parent by `with_parent`.
    #[inline]
    pub fn key_hash(&self, key: Key) -> u64 {
        hash_key(self.seed, key)
    }

    /// The hash `get_hashed` wants for (parent, key).
    #[inline]
    pub fn hash(&self, parent: u32, key: Key) -> u64 {
        with_parent(self.key_hash(key), parent)
    }

    /// Starts loading the slot a later `get_hashed(.., h)` will probe first.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        crate::memory::prefetch(&self.slots[h as usize & self.mask()] as *const Slot as *const u8);
    }

    /// The child of `parent` along `key`.
    #[inline]
    pub fn get(&self, parent: u32, key: Key) -> Option<u32> {
        self.get_hashed(parent, key, self.hash(parent, key))
    }

    /// As `get`, with `h` = `with_parent(self.key_hash(key), parent)` computed earlier.
    #[inline]
    pub fn get_hashed(&self, parent: u32, key: Key, h: u64) -> Option<u32> {
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.key == key && s.parent == parent {
                return Some(s.child);
            }
            if s.parent == NONE {
                return None;
            }
            i = (i + 1) & mask;
        }
    }

    /// Adds the edge (parent, key) -> child, which must not exist yet.
    pub fn insert(&mut self, parent: u32, key: Key, child: u32) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        self.place(Slot { key, parent, child });
        self.len += 1;
    }

    fn place(&mut self, s: Slot) {
        let mask = self.mask();
        let mut i = self.hash(s.parent, s.key) as usize & mask;
        while self.slots[i].parent != NONE {
            i = (i + 1) & mask;
        }
        self.slots[i] = s;
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, crate::memory::filled_vec(n, EMPTY));
        for s in old {
            if s.parent != NONE {
                self.place(s);
            }
        }
    }

    /// Removes the edge (parent, key) if present.
    pub fn remove(&mut self, parent: u32, key: Key) {
        let mask = self.mask();
        let mut i = self.hash(parent, key) as usize & mask;
        loop {
            let s = &self.slots[i];
            if s.key == key && s.parent == parent {
                break;
            }
            if s.parent == NONE {
                return;
            }
            i = (i + 1) & mask;
        }
        // Backward-shift: pull later entries of the probe run into the hole so lookups never
        // stop early and no tombstones accumulate.
        let mut hole = i;
        let mut j = (i + 1) & mask;
        loop {
            let s = self.slots[j];
            if s.parent == NONE {
                break;
            }
            let home = self.hash(s.parent, s.key) as usize & mask;
            // Move s into the hole unless its home lies cyclically in (hole, j].
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = s;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
    }

    /// Bytes held by the slot array.
    pub fn heap_bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Slot>()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::Entry;
    use std::collections::HashMap;

    use super::*;
    use crate::trie::names::{short_key, HASH, PLUS};
    use crate::trie::TestRng;

    #[test]
    fn edges_stay_reachable_through_growth_and_removals() {
        let keys: Vec<Key> = (0..40)
            .map(|i| short_key(format!("k{i}").as_bytes()).unwrap())
            .chain([PLUS, HASH])
            .collect();
        for seed in [1, 2, 3] {
            let mut rng = TestRng::new(seed);
            let mut t = ChildTable::new(rng.next());
            let mut model: HashMap<(u32, Key), u32> = HashMap::new();
            for step in 0..20_000u32 {
                let edge = (rng.below(64) as u32, keys[rng.below(keys.len())]);
                match model.entry(edge) {
                    Entry::Occupied(e) => {
                        if rng.below(2) == 0 {
                            t.remove(edge.0, edge.1);
                            e.remove();
                        }
                    }
                    Entry::Vacant(e) => {
                        t.insert(edge.0, edge.1, step);
                        e.insert(step);
                    }
                }
                if step % 1000 == 999 {
                    for parent in 0..64 {
                        for &key in &keys {
                            let want = model.get(&(parent, key)).copied();
                            assert_eq!(t.get(parent, key), want, "seed {seed} step {step}");
                            // The walk's path: the key hash once per level, the parent mixed in later.
                            let h = with_parent(t.key_hash(key), parent);
                            assert_eq!(t.get_hashed(parent, key, h), want);
                        }
                    }
                }
            }
            assert_eq!(t.len, model.len());
        }
    }

    #[test]
    fn removing_an_absent_edge_changes_nothing() {
        let mut t = ChildTable::new(9);
        let (a, b) = (short_key(b"a").unwrap(), short_key(b"b").unwrap());
        t.insert(1, a, 5);
        t.remove(1, b);
        t.remove(2, a);
        assert_eq!(t.get(1, a), Some(5));
        assert_eq!(t.len, 1);
    }
}
