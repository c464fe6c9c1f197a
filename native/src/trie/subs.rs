//! The (id, options) pairs of trie nodes, in the twin's order: appended on insert, the last pair
//! moved into a removed pair's slot. A node keeps one pair inline (the common case: one client
//! per device filter); up to 16 pairs live in a pooled block whose capacity follows from the
//! length (2, 4, 8, 16), so the node holds only (offset, length); past 16 a list gets a Vec and
//! an id -> position index (as the twin's INDEX_MIN), and goes back to a block at 8.

use std::collections::HashMap;

use super::slab::Slab;

/// Representation of a node's list, two bits of its meta word.
pub const NO_PAIRS: u32 = 0;
/// One pair: the node's inline words are (id, options).
pub const ONE: u32 = 1;
/// 2..=16 pairs in a pool block: inline words are (offset, length).
pub const BLOCK: u32 = 2;
/// A large list: inline word 0 is its slab index.
pub const LARGE: u32 = 3;

const BLOCK_MAX: usize = 16;
/// Length at which a large list moves back into a block (hysteresis against add/remove churn).
const LARGE_MIN: usize = 8;
const CLASSES: usize = 4;

pub type Pair = [i32; 2];

struct Large {
    pairs: Vec<Pair>,
    index: HashMap<i32, u32>,
}

/// Where a node's pairs are: its state and its two inline words.
#[derive(Clone, Copy)]
pub struct Subs {
    pub state: u32,
    pub words: Pair,
}

/// Block capacity for `len` pairs (2 <= len <= 16).
#[inline]
fn cap_for(len: usize) -> usize {
    len.next_power_of_two()
}

#[inline]
fn class_of(cap: usize) -> usize {
    cap.trailing_zeros() as usize - 1
}

pub struct SubStore {
    blocks: Vec<Pair>,
    free: [Vec<u32>; CLASSES],
    large: Slab<Large>,
}

impl SubStore {
    pub fn new() -> SubStore {
        SubStore { blocks: Vec::new(), free: Default::default(), large: Slab::new() }
    }

    /// The pairs of a node whose list is in `state` with inline `words`.
    #[inline]
    pub fn pairs<'a>(&'a self, state: u32, words: &'a Pair) -> &'a [Pair] {
        match state {
            NO_PAIRS => &[],
            ONE => std::slice::from_ref(words),
            BLOCK => {
                let off = words[0] as u32 as usize;
                &self.blocks[off..off + words[1] as usize]
            }
            _ => &self.large.get(words[0] as u32).pairs,
        }
    }

    fn find(&self, s: &Subs, id: i32) -> Option<usize> {
        if s.state == LARGE {
            return self.large.get(s.words[0] as u32).index.get(&id).map(|&p| p as usize);
        }
        self.pairs(s.state, &s.words).iter().position(|p| p[0] == id)
    }

    fn alloc_block(&mut self, cap: usize) -> usize {
        if let Some(off) = self.free[class_of(cap)].pop() {
            return off as usize;
        }
        let off = self.blocks.len();
        assert!(off + cap <= u32::MAX as usize, "subscriber pool full");
        self.blocks.resize(off + cap, [0, 0]);
        off
    }

    fn free_block(&mut self, off: usize, cap: usize) {
        self.free[class_of(cap)].push(off as u32);
    }

    /// Copies `pairs` into a new block sized for them; returns its Subs.
    fn new_block_with(&mut self, pairs: &[Pair]) -> Subs {
        let off = self.alloc_block(cap_for(pairs.len()));
        self.blocks[off..off + pairs.len()].copy_from_slice(pairs);
        Subs { state: BLOCK, words: [off as i32, pairs.len() as i32] }
    }

    /// Adds or replaces `id` in `s`; true if it was new.
    pub fn put(&mut self, s: &mut Subs, id: i32, opt: i32) -> bool {
        if let Some(at) = self.find(s, id) {
            match s.state {
                ONE => s.words[1] = opt,
                BLOCK => self.blocks[s.words[0] as u32 as usize + at][1] = opt,
                _ => self.large.get_mut(s.words[0] as u32).pairs[at][1] = opt,
            }
            return false;
        }
        match s.state {
            NO_PAIRS => *s = Subs { state: ONE, words: [id, opt] },
            ONE => *s = self.new_block_with(&[s.words, [id, opt]]),
            BLOCK => {
                let (off, len) = (s.words[0] as u32 as usize, s.words[1] as usize);
                if len == BLOCK_MAX {
                    let mut pairs = Vec::with_capacity(len * 2);
                    pairs.extend_from_slice(&self.blocks[off..off + len]);
                    pairs.push([id, opt]);
                    let index = pairs.iter().enumerate().map(|(k, p)| (p[0], k as u32)).collect();
                    self.free_block(off, len);
                    *s = Subs { state: LARGE, words: [self.large.add(Large { pairs, index }) as i32, 0] };
                    return true;
                }
                let mut off = off;
                if len == cap_for(len) {
                    let bigger = self.alloc_block(len * 2);
                    self.blocks.copy_within(off..off + len, bigger);
                    self.free_block(off, len);
                    off = bigger;
                }
                self.blocks[off + len] = [id, opt];
                s.words = [off as i32, (len + 1) as i32];
            }
            _ => {
                let l = self.large.get_mut(s.words[0] as u32);
                l.index.insert(id, l.pairs.len() as u32);
                l.pairs.push([id, opt]);
            }
        }
        true
    }

    /// Removes `id` from `s` by moving the last pair into its slot; true if it was there.
    pub fn remove(&mut self, s: &mut Subs, id: i32) -> bool {
        let Some(at) = self.find(s, id) else { return false };
        match s.state {
            ONE => *s = Subs { state: NO_PAIRS, words: [0, 0] },
            BLOCK => {
                let (off, len) = (s.words[0] as u32 as usize, s.words[1] as usize);
                self.blocks[off + at] = self.blocks[off + len - 1];
                let len = len - 1;
                if len == 1 {
                    *s = Subs { state: ONE, words: self.blocks[off] };
                    self.free_block(off, 2);
                } else if cap_for(len) < cap_for(len + 1) {
                    let moved = self.new_block_from(off, len);
                    self.free_block(off, cap_for(len + 1));
                    *s = moved;
                } else {
                    s.words[1] = len as i32;
                }
            }
            _ => {
                let ix = s.words[0] as u32;
                let l = self.large.get_mut(ix);
                l.pairs.swap_remove(at);
                l.index.remove(&id);
                if at < l.pairs.len() {
                    l.index.insert(l.pairs[at][0], at as u32);
                }
                if l.pairs.len() <= LARGE_MIN {
                    let l = self.large.take(ix).expect("live large list");
                    *s = self.new_block_with(&l.pairs);
                } else if l.pairs.len() * 4 <= l.pairs.capacity() {
                    let half = l.pairs.capacity() / 2;
                    l.pairs.shrink_to(half);
                }
            }
        }
        true
    }

    /// Moves the `len` pairs at `off` into a new block sized for them.
    fn new_block_from(&mut self, off: usize, len: usize) -> Subs {
        let to = self.alloc_block(cap_for(len));
        self.blocks.copy_within(off..off + len, to);
        Subs { state: BLOCK, words: [to as i32, len as i32] }
    }

    /// Bytes held by the block pool (large lists excluded).
    pub fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Pair>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trie::TestRng;

    const EMPTY: Subs = Subs { state: NO_PAIRS, words: [0, 0] };

    fn list(store: &SubStore, s: &Subs) -> Vec<Pair> {
        store.pairs(s.state, &s.words).to_vec()
    }

    /// A list of `n` pairs [id, id * 10], ids 0..n.
    fn filled(store: &mut SubStore, n: i32) -> (Subs, Vec<Pair>) {
        let mut s = EMPTY;
        for id in 0..n {
            assert!(store.put(&mut s, id, id * 10));
        }
        (s, (0..n).map(|id| [id, id * 10]).collect())
    }

    #[test]
    fn a_list_keeps_the_twins_order_through_every_representation() {
        // The twin's order: appended on insert, the last pair moved into a removed pair's slot.
        let mut store = SubStore::new();
        let mut s = EMPTY;
        let mut model: Vec<Pair> = Vec::new();
        for id in 0..40 {
            assert!(store.put(&mut s, id, -id));
            model.push([id, -id]);
            assert_eq!(list(&store, &s), model);
            let want = match model.len() {
                1 => ONE,
                2..=BLOCK_MAX => BLOCK,
                _ => LARGE,
            };
            assert_eq!(s.state, want, "{} pairs", model.len());
        }
        let mut rng = TestRng::new(5);
        while !model.is_empty() {
            let at = rng.below(model.len());
            assert!(store.remove(&mut s, model[at][0]));
            model.swap_remove(at);
            assert_eq!(list(&store, &s), model);
            // A large list goes back to a block only at LARGE_MIN, so add/remove churn around 16
            // does not convert back and forth.
            let want = match model.len() {
                0 => NO_PAIRS,
                1 => ONE,
                2..=LARGE_MIN => BLOCK,
                _ => LARGE,
            };
            assert_eq!(s.state, want, "{} pairs", model.len());
        }
    }

    #[test]
    fn putting_an_existing_id_replaces_its_options_in_place() {
        for n in [2, 5, 16, 20] {
            let mut store = SubStore::new();
            let (mut s, mut model) = filled(&mut store, n);
            // Move the last pair into slot 0 first, so a stale position index would be caught.
            assert!(store.remove(&mut s, 0));
            model.swap_remove(0);
            let moved = model[0][0];
            assert!(!store.put(&mut s, moved, 7), "{n} pairs");
            model[0][1] = 7;
            assert_eq!(list(&store, &s), model, "{n} pairs");
        }
    }

    #[test]
    fn removing_an_absent_id_changes_nothing() {
        for n in [0, 1, 5, 20] {
            let mut store = SubStore::new();
            let (mut s, model) = filled(&mut store, n);
            assert!(!store.remove(&mut s, 99));
            assert_eq!(list(&store, &s), model, "{n} pairs");
        }
    }

    #[test]
    fn freed_blocks_are_reused() {
        let mut store = SubStore::new();
        let mut s = EMPTY;
        let mut bytes = 0;
        for cycle in 0..50 {
            for id in 0..BLOCK_MAX as i32 {
                store.put(&mut s, id, 0);
            }
            for id in 0..BLOCK_MAX as i32 {
                store.remove(&mut s, id);
            }
            if cycle == 0 {
                bytes = store.heap_bytes();
            }
            assert_eq!(store.heap_bytes(), bytes, "cycle {cycle}");
        }
    }

    #[test]
    fn lists_sharing_the_pool_never_see_each_others_pairs() {
        let mut rng = TestRng::new(11);
        let mut store = SubStore::new();
        let mut lists = [EMPTY; 6];
        let mut models: [Vec<Pair>; 6] = Default::default();
        let mut seen = [false; 4];
        for step in 0..20_000 {
            // Alternate growing and shrinking phases so every list passes through every representation.
            let growing = (step / 2000) % 2 == 0;
            let l = rng.below(lists.len());
            let id = rng.below(40) as i32;
            let opt = step;
            match models[l].iter().position(|p| p[0] == id) {
                Some(at) if !growing || rng.below(4) == 0 => {
                    assert!(store.remove(&mut lists[l], id));
                    models[l].swap_remove(at);
                }
                Some(at) => {
                    assert!(!store.put(&mut lists[l], id, opt));
                    models[l][at][1] = opt;
                }
                None if growing || rng.below(10) == 0 => {
                    assert!(store.put(&mut lists[l], id, opt));
                    models[l].push([id, opt]);
                }
                None => {}
            }
            seen[lists[l].state as usize] = true;
            for (s, model) in lists.iter().zip(&models) {
                assert_eq!(&list(&store, s), model, "step {step}");
            }
        }
        assert_eq!(seen, [true; 4], "every representation was exercised");
    }
}
