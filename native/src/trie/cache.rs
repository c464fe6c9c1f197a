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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_matches_follows_the_mqtt_rules() {
        let cases: &[(&str, &str, bool)] = &[
            ("a/b", "a/b", true),
            ("a/b", "a", false),
            ("a/b", "a/b/c", false),
            ("a/+", "a/b", true),
            ("a/+", "a/", true),
            ("a/+", "a", false),
            ("a/+", "a/b/c", false),
            ("+/+", "/", true),
            ("+", "", true),
            ("a/+/c", "a//c", true),
            // `#` matches its parent level too [MQTT-4.7.1-1].
            ("a/#", "a", true),
            ("a/#", "a/", true),
            ("a/#", "a/b/c", true),
            ("a/#", "b", false),
            ("a/b/#", "a", false),
            ("#", "", true),
            ("#", "a/b", true),
            // Root wildcards never match a `$` topic [MQTT-4.7.2-1]; deeper ones do.
            ("#", "$SYS", false),
            ("+/x", "$SYS/x", false),
            ("+", "$", false),
            ("$SYS/#", "$SYS", true),
            ("$SYS/+", "$SYS/x", true),
            ("+/+", "a/$b", true),
            ("#", "a/$b", true),
        ];
        for &(filter, topic, want) in cases {
            assert_eq!(filter_matches(filter.as_bytes(), topic.as_bytes()), want, "{filter} vs {topic}");
        }
    }

    #[test]
    fn has_wildcard_spots_either_wildcard_at_any_level() {
        assert!(has_wildcard(b"a/+/c"));
        assert!(has_wildcard(b"a/#"));
        assert!(has_wildcard(b"+"));
        assert!(!has_wildcard(b"a/b/c"));
        assert!(!has_wildcard(b""));
    }

    fn topic(i: usize) -> Vec<u8> {
        format!("t/{i}").into_bytes()
    }

    #[test]
    fn a_full_cache_sweeps_its_oldest_entries_down_to_sweep_to() {
        let max = 1000;
        let mut c = MatchCache::new(max, 1);
        for i in 0..max {
            c.store(&topic(i), &[i as i32, 0]);
        }
        assert_eq!(c.map.len(), max);
        c.store(&topic(max), &[0, 0]);
        assert_eq!(c.map.len(), SWEEP_TO + 1);
        for i in 0..=max {
            assert_eq!(c.map.contains_key(&topic(i)[..]), i >= max - SWEEP_TO, "topic {i}");
        }
        assert_eq!(&*c.map[&topic(max - 1)[..]].pairs, &[(max - 1) as i32, 0]);
    }

    #[test]
    fn a_cache_smaller_than_sweep_to_stays_within_its_bound() {
        for max in [1, 2, 5] {
            let mut c = MatchCache::new(max, 1);
            for i in 0..50 {
                c.store(&topic(i), &[]);
                assert!(c.map.len() <= max, "max {max}");
                assert!(c.map.contains_key(&topic(i)[..]), "the newest entry is kept");
            }
            assert_eq!(c.map.len(), max);
        }
    }
}
