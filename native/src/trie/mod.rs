//! Topic trie with a bounded match cache (model: nats-server sublist.go), the native twin of
//! src/core/topic-trie.ts. Cache rules as there: a literal insert refreshes that one topic, a
//! wildcard insert refreshes every cached topic it matches, a removal deletes every cached topic
//! it matches; refreshed entries are recomputed by a walk, so cache on and off give identical
//! results; every mutation bumps `generation`.

mod cache;
mod hash;
mod names;
mod node;
mod slab;
mod subs;
mod table;
mod tree;

use cache::{filter_matches, has_wildcard, MatchCache};
use tree::{Scratch, Tree};
pub use tree::TrieFull;

pub struct Trie {
    tree: Tree,
    cache: Option<MatchCache>,
    /// The cache set aside during a bulk removal.
    parked: Option<MatchCache>,
    scratch: Scratch,
    size: u32,
    generation: u64,
}

impl Trie {
    /// An empty trie; `cache_max` 0 turns the match cache off.
    pub fn new(cache_max: usize, seed: u64) -> Trie {
        Trie {
            tree: Tree::new(seed),
            cache: (cache_max > 0).then(|| MatchCache::new(cache_max, seed)),
            parked: None,
            scratch: Scratch::default(),
            size: 0,
            generation: 0,
        }
    }

    pub fn size(&self) -> u32 {
        self.size
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    pub fn cache_len(&self) -> usize {
        self.cache.as_ref().map_or(0, |c| c.map.len())
    }

    pub fn clear_cache(&mut self) {
        if let Some(c) = &mut self.cache {
            c.map.clear();
        }
    }

    /// Adds `id` under `filter`; true if new, false if only its options were replaced.
    pub fn insert(&mut self, filter: &[u8], id: i32, opt: i32) -> Result<bool, TrieFull> {
        let added = self.tree.insert(filter, id, opt)?;
        if added {
            self.size += 1;
        }
        self.generation += 1;
        self.refresh_cache(filter);
        Ok(added)
    }

    /// Removes `id` from `filter`; true if the pair existed.
    pub fn remove(&mut self, filter: &[u8], id: i32) -> bool {
        if !self.tree.remove(filter, id, &mut self.scratch) {
            return false;
        }
        self.size -= 1;
        self.generation += 1;
        if let Some(c) = &mut self.cache {
            if has_wildcard(filter) {
                c.map.retain(|topic, _| !filter_matches(filter, topic));
            } else {
                c.map.remove(filter);
            }
        }
        true
    }

    /// Starts a bulk removal: the cache is set aside until `end_bulk`.
    pub fn begin_bulk(&mut self) {
        if self.parked.is_none() {
            self.parked = self.cache.take();
        }
    }

    /// Removes without touching the generation or the cache (inside begin_bulk/end_bulk).
    pub fn remove_quiet(&mut self, filter: &[u8], id: i32) -> bool {
        let removed = self.tree.remove(filter, id, &mut self.scratch);
        if removed {
            self.size -= 1;
        }
        removed
    }

    /// Ends a bulk removal: one generation bump if anything went, the cache back and empty.
    pub fn end_bulk(&mut self, removed: u32) {
        if removed > 0 {
            self.generation += 1;
        }
        if let Some(mut c) = self.parked.take() {
            c.map.clear();
            self.cache = Some(c);
        }
    }

    fn refresh_cache(&mut self, filter: &[u8]) {
        let Some(c) = &mut self.cache else { return };
        if c.map.is_empty() {
            return;
        }
        if !has_wildcard(filter) {
            // A literal filter matches exactly the topic spelled the same.
            if let Some(entry) = c.map.get_mut(filter) {
                self.tree.collect(filter, &mut self.scratch);
                entry.pairs = self.scratch.out.as_slice().into();
            }
            return;
        }
        for (topic, entry) in c.map.iter_mut() {
            if filter_matches(filter, topic) {
                self.tree.collect(topic, &mut self.scratch);
                entry.pairs = self.scratch.out.as_slice().into();
            }
        }
    }

    /// The pairs [id, opt, ...] of every filter matching `topic` (valid until the next call).
    pub fn match_topic(&mut self, topic: &[u8]) -> &[i32] {
        if let Some(c) = &self.cache {
            if c.map.contains_key(topic) {
                return &self.cache.as_ref().expect("checked").map[topic].pairs;
            }
        }
        self.tree.collect(topic, &mut self.scratch);
        if let Some(c) = &mut self.cache {
            c.store(topic, &self.scratch.out);
        }
        &self.scratch.out
    }

    /// Live nodes and approximate heap bytes, for benchmarks.
    pub fn stats(&self) -> (usize, usize) {
        (self.tree.node_count(), self.tree.heap_bytes())
    }
}

/// A seeded xorshift64* for the tests' random operation sequences: reproducible, no crates.
#[cfg(test)]
pub(crate) struct TestRng(u64);

#[cfg(test)]
impl TestRng {
    pub fn new(seed: u64) -> TestRng {
        TestRng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform enough in [0, n) for n far below 2^32.
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

#[cfg(test)]
mod tests;
