//! The match cache: topic -> result pairs, bounded, oldest entries swept first, with the same
//! observable behaviour as the twin's Map (insertion order, refreshed entries keep their place).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

use super::hash::hash_level;

/// The trie's seeded byte hash as a std Hasher: SipHash would cost more than the walk it saves.
#[derive(Clone, Copy)]
pub struct TopicHash {
    seed: u64,
}

pub struct TopicHasher {
    seed: u64,
    h: u64,
}

impl BuildHasher for TopicHash {
    type Hasher = TopicHasher;
    fn build_hasher(&self) -> TopicHasher {
        TopicHasher { seed: self.seed, h: 0 }
    }
}

impl Hasher for TopicHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.h ^= hash_level(self.seed, self.h as u32, bytes);
    }
    fn write_usize(&mut self, n: usize) {
        // Length prefix of a slice key: already covered by hash_level.
        self.h ^= n as u64;
    }
    fn finish(&self) -> u64 {
        self.h
    }
}

/// Entries kept when a full cache is swept (sublist.go slCacheSweep).
const SWEEP_TO: usize = 256;

pub struct Entry {
    seq: u64,
    pub pairs: Box<[i32]>,
}

pub struct MatchCache {
    pub map: HashMap<Box<[u8]>, Entry, TopicHash>,
    max: usize,
    next_seq: u64,
}

impl MatchCache {
    pub fn new(max: usize, seed: u64) -> MatchCache {
        MatchCache { map: HashMap::with_hasher(TopicHash { seed: seed.rotate_left(17) }), max, next_seq: 0 }
    }

    /// Stores a new topic's result, sweeping first when full.
    pub fn store(&mut self, topic: &[u8], pairs: &[i32]) {
        if self.map.len() >= self.max {
            self.sweep();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.map.insert(topic.into(), Entry { seq, pairs: pairs.into() });
    }

    /// Drops the oldest entries down to SWEEP_TO (or max - 1 when smaller).
    fn sweep(&mut self) {
        let keep = SWEEP_TO.min(self.max.saturating_sub(1));
        let excess = self.map.len().saturating_sub(keep);
        if excess == 0 {
            return;
        }
        let mut seqs: Vec<u64> = self.map.values().map(|e| e.seq).collect();
        seqs.select_nth_unstable(excess - 1);
        let cutoff = seqs[excess - 1];
        self.map.retain(|_, e| e.seq > cutoff);
    }
}

/// True when `filter` contains a wildcard character anywhere (the twin's hasWildcard).
pub fn has_wildcard(filter: &[u8]) -> bool {
    filter.iter().any(|&b| b == b'+' || b == b'#')
}

/// The reference matcher of src/core/topic.ts (filterMatches), on bytes.
pub fn filter_matches(filter: &[u8], topic: &[u8]) -> bool {
    if topic.first() == Some(&b'$') && matches!(filter.first(), Some(b'+') | Some(b'#')) {
        return false;
    }
    let mut f = filter.split(|&b| b == b'/');
    let mut t = topic.split(|&b| b == b'/');
    loop {
        match (f.next(), t.next()) {
            (None, None) => return true,
            (None, Some(_)) => return false,
            (Some(fl), tl) => {
                if fl == b"#" {
                    return true;
                }
                match tl {
                    None => return false,
                    Some(tl) => {
                        if fl != b"+" && fl != tl {
                            return false;
                        }
                    }
                }
            }
        }
    }
}
