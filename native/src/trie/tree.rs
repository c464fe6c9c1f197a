//! The subscription tree: nodes in the arena (u32 indices, freed slots reused), every edge
//! (literal, `+`, `#`) in the shared child table under its name key. Walk order and subscriber
//! order are exactly those of the TypeScript twin so results compare element by element.

use super::hash::with_parent;
use super::names::{interned, short_key, Key, Names, HASH, NO_KEY, PLUS};
use super::node::{Arena, Edge, MAX_NODES};
use super::table::ChildTable;

pub const ROOT: u32 = 0;

/// An insert refused because the trie holds MAX_NODES nodes.
#[derive(Debug)]
pub struct TrieFull;

/// Reused buffers of one walk.
#[derive(Default)]
pub struct Scratch {
    /// Per topic level: its key (NO_KEY when no edge carries the name) and the key's hash.
    keys: Vec<(Key, u64)>,
    /// Name-table hashes of the long levels, in level order.
    long: Vec<u64>,
    stack: Vec<(u32, u32, u64)>,
    /// (node, key) per filter level of a removal.
    path: Vec<(u32, Key)>,
    /// The last walk's result: [id, opt, id, opt, ...].
    pub out: Vec<i32>,
}

pub struct Tree {
    arena: Arena,
    table: ChildTable,
    names: Names,
}

/// The edge key and kind of a filter level, wildcards under their reserved keys.
#[inline]
fn edge_of(names: &Names, level: &[u8]) -> (Key, Edge) {
    match level {
        b"+" => (PLUS, Edge::Plus),
        b"#" => (HASH, Edge::Hash),
        _ => (names.key(level).unwrap_or(NO_KEY), Edge::Literal),
    }
}

impl Tree {
    pub fn new(seed: u64) -> Tree {
        Tree { arena: Arena::new(), table: ChildTable::new(seed.rotate_left(29) ^ 0x5bd1_e995), names: Names::new(seed) }
    }

    /// Adds or replaces `id` under `filter`; Ok(true) if the pair is new.
    pub fn insert(&mut self, filter: &[u8], id: i32, opt: i32) -> Result<bool, TrieFull> {
        let levels = filter.iter().filter(|&&b| b == b'/').count() + 1;
        if self.arena.live() + levels > MAX_NODES {
            return Err(TrieFull);
        }
        let mut node = ROOT;
        for level in filter.split(|&b| b == b'/') {
            let (key, edge) = edge_of(&self.names, level);
            let existing = if key == NO_KEY { None } else { self.table.get(node, key) };
            node = match existing {
                Some(c) => c,
                None => {
                    let key = if edge == Edge::Literal { self.names.acquire_key(level) } else { key };
                    let c = self.arena.alloc();
                    self.table.insert(node, key, c);
                    self.arena.link(node, edge);
                    c
                }
            };
        }
        Ok(self.arena.put(node, id, opt))
    }

    /// Removes `id` from `filter`, pruning emptied nodes; true if the pair existed.
    pub fn remove(&mut self, filter: &[u8], id: i32, scratch: &mut Scratch) -> bool {
        let path = &mut scratch.path;
        path.clear();
        let mut node = ROOT;
        for level in filter.split(|&b| b == b'/') {
            let (key, _) = edge_of(&self.names, level);
            let next = if key == NO_KEY { None } else { self.table.get(node, key) };
            let Some(next) = next else { return false };
            node = next;
            path.push((node, key));
        }
        if !self.arena.drop_id(node, id) {
            return false;
        }
        for i in (0..path.len()).rev() {
            let (child, key) = path[i];
            if !self.arena.node(child).is_empty() {
                break;
            }
            let parent = if i == 0 { ROOT } else { path[i - 1].0 };
            self.table.remove(parent, key);
            match key {
                PLUS => self.arena.unlink(parent, Edge::Plus),
                HASH => self.arena.unlink(parent, Edge::Hash),
                _ => {
                    self.arena.unlink(parent, Edge::Literal);
                    self.names.release_key(key);
                }
            }
            self.arena.release(child);
        }
        true
    }

    #[inline]
    fn emit(&self, node: u32, out: &mut Vec<i32>) {
        for p in self.arena.pairs(node) {
            out.extend_from_slice(p);
        }
    }

    /// The node's `#` child, if any.
    #[inline]
    fn hash_child(&self, node: u32) -> Option<u32> {
        if self.arena.node(node).has_hash() {
            self.table.get(node, HASH)
        } else {
            None
        }
    }

    /// Collects the pairs matching `topic` into `scratch.out` (the twin's walk, step for step).
    pub fn collect(&self, topic: &[u8], scratch: &mut Scratch) {
        let Scratch { keys, long, stack, out, .. } = scratch;
        out.clear();
        keys.clear();
        long.clear();
        // Short levels are their own keys. Long ones are looked up in the name table, all
        // slots prefetched first so their misses overlap. A `+` or `#` in a topic is a plain
        // character: its short key is no wildcard's.
        for level in topic.split(|&b| b == b'/') {
            if short_key(level).is_none() {
                let h = self.names.hash(level);
                self.names.prefetch(h);
                long.push(h);
            }
        }
        let mut next_long = long.iter();
        for level in topic.split(|&b| b == b'/') {
            let key = match short_key(level) {
                Some(k) => k,
                None => {
                    let h = *next_long.next().expect("one hash per long level");
                    self.names.find(level, h).map_or(NO_KEY, interned)
                }
            };
            keys.push((key, if key == NO_KEY { 0 } else { self.table.key_hash(key) }));
        }
        let dollar = topic.first() == Some(&b'$');
        let depth_end = keys.len() as u32;
        stack.clear();
        // Each stack entry carries the hash of the lookup it will make, computed when pushed so
        // its table slot (and the node itself) can be prefetched: the branches' misses overlap.
        let push = |stack: &mut Vec<(u32, u32, u64)>, node: u32, depth: u32| {
            crate::memory::prefetch(self.arena.node_ptr(node));
            let mut h = 0;
            if depth < depth_end && keys[depth as usize].0 != NO_KEY {
                h = with_parent(keys[depth as usize].1, node);
                self.table.prefetch(h);
            }
            stack.push((node, depth, h));
        };
        push(stack, ROOT, 0);
        while let Some((node, depth, h)) = stack.pop() {
            let n = *self.arena.node(node);
            if depth == depth_end {
                self.emit(node, out);
                // `#` also matches its parent level: `a/#` matches `a` [MQTT-4.7.1-1].
                if let Some(c) = self.hash_child(node) {
                    self.emit(c, out);
                }
                continue;
            }
            // [MQTT-4.7.2-1] a `$` topic skips the root wildcards.
            let wild = depth != 0 || !dollar;
            let hash_h = (wild && n.has_hash()).then(|| self.table.hash(node, HASH));
            if let Some(hh) = hash_h {
                // Its slot loads while the literal lookup (prefetched at push) runs.
                self.table.prefetch(hh);
            }
            let key = keys[depth as usize].0;
            let child = if key == NO_KEY { None } else { self.table.get_hashed(node, key, h) };
            if wild {
                if let Some(c) = hash_h.and_then(|hh| self.table.get_hashed(node, HASH, hh)) {
                    self.emit(c, out);
                }
                if n.has_plus() {
                    let p = self.table.get(node, PLUS).expect("flagged + child");
                    push(stack, p, depth + 1);
                }
            }
            if let Some(c) = child {
                push(stack, c, depth + 1);
            }
        }
    }

    /// Live nodes (root included).
    pub fn node_count(&self) -> usize {
        self.arena.live()
    }

    /// Approximate heap bytes of the arena, child table and name table.
    pub fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes() + self.table.heap_bytes() + self.names.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(t: &Tree, s: &mut Scratch, topic: &str) -> Vec<i32> {
        t.collect(topic.as_bytes(), s);
        let mut ids: Vec<i32> = s.out.chunks(2).map(|p| p[0]).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn removing_the_last_pair_prunes_up_to_the_first_node_in_use() {
        let (mut t, mut s) = (Tree::new(1), Scratch::default());
        t.insert(b"a/b", 1, 0).unwrap();
        t.insert(b"a/b/c/d", 2, 0).unwrap();
        t.insert(b"a/+/c", 3, 0).unwrap();
        assert_eq!(t.node_count(), 7);
        assert!(t.remove(b"a/b/c/d", 2, &mut s));
        assert_eq!(t.node_count(), 5, "c and d pruned, b still holds a pair");
        assert_eq!(ids(&t, &mut s, "a/b"), [1]);
        assert_eq!(ids(&t, &mut s, "a/b/c"), [3]);
        assert!(t.remove(b"a/b", 1, &mut s));
        assert_eq!(t.node_count(), 4, "b pruned, a still has its + child");
        assert!(t.remove(b"a/+/c", 3, &mut s));
        assert_eq!(t.node_count(), 1);
        assert_eq!(ids(&t, &mut s, "a/b/c"), [] as [i32; 0]);
    }

    #[test]
    fn a_pruned_wildcard_edge_is_gone_while_its_literal_sibling_stays() {
        let (mut t, mut s) = (Tree::new(2), Scratch::default());
        t.insert(b"a/b", 1, 0).unwrap();
        t.insert(b"a/+", 2, 0).unwrap();
        t.insert(b"a/#", 3, 0).unwrap();
        assert!(t.remove(b"a/+", 2, &mut s));
        assert!(t.remove(b"a/#", 3, &mut s));
        assert_eq!(ids(&t, &mut s, "a/x"), [] as [i32; 0]);
        assert_eq!(ids(&t, &mut s, "a"), [] as [i32; 0]);
        assert_eq!(ids(&t, &mut s, "a/b"), [1]);
        t.insert(b"a/+", 4, 0).unwrap();
        assert_eq!(ids(&t, &mut s, "a/b"), [1, 4]);
    }

    #[test]
    fn remove_along_a_path_that_is_not_the_filter_finds_nothing() {
        let (mut t, mut s) = (Tree::new(3), Scratch::default());
        t.insert(b"a/b/c", 1, 0).unwrap();
        for filter in [&b"a/b"[..], b"a/+/c", b"a/b/#", b"a/b/c/d", b"a/b/cc", b"b/b/c"] {
            assert!(!t.remove(filter, 1, &mut s), "{filter:?}");
        }
        assert!(!t.remove(b"a/b/c", 2, &mut s));
        assert_eq!(t.node_count(), 4);
        assert_eq!(ids(&t, &mut s, "a/b/c"), [1]);
    }

    #[test]
    fn freed_nodes_and_names_are_reused() {
        let (mut t, mut s) = (Tree::new(4), Scratch::default());
        let mut peak = None;
        for round in 0..3 {
            let filters: Vec<String> = (0..300).map(|i| format!("fleet/device-{round}-{i:05}/+/state")).collect();
            for (i, f) in filters.iter().enumerate() {
                t.insert(f.as_bytes(), i as i32, 0).unwrap();
            }
            let now = (t.node_count(), t.heap_bytes());
            assert_eq!(now.0, 1 + 1 + 300 * 3);
            assert_eq!(*peak.get_or_insert(now), now, "round {round} grew the trie's memory");
            for (i, f) in filters.iter().enumerate() {
                assert!(t.remove(f.as_bytes(), i as i32, &mut s));
            }
            assert_eq!(t.node_count(), 1);
        }
    }
}
