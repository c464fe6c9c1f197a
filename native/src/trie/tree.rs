//! The subscription tree: nodes in the arena (u32 indices, freed slots reused), literal
//! children in the shared child table, `+` and `#` in per-node slots. Walk order and subscriber
//! order are exactly those of the TypeScript twin so results compare element by element.

use super::node::{Arena, NONE};
use super::table::{with_parent, ChildTable};

pub const ROOT: u32 = 0;

/// Reused buffers of one walk.
#[derive(Default)]
pub struct Scratch {
    /// Per topic level: start, end, name hash.
    levels: Vec<(u32, u32, u64)>,
    stack: Vec<(u32, u32, u64)>,
    path: Vec<u32>,
    /// The last walk's result: [id, opt, id, opt, ...].
    pub out: Vec<i32>,
}

pub struct Tree {
    arena: Arena,
    table: ChildTable,
}

#[inline]
fn is_plus(level: &[u8]) -> bool {
    level == b"+"
}

#[inline]
fn is_hash(level: &[u8]) -> bool {
    level == b"#"
}

impl Tree {
    pub fn new(seed: u64) -> Tree {
        Tree { arena: Arena::new(), table: ChildTable::new(seed) }
    }

    /// Adds or replaces `id` under `filter`; true if the pair is new.
    pub fn insert(&mut self, filter: &[u8], id: i32, opt: i32) -> bool {
        let mut node = ROOT;
        for level in filter.split(|&b| b == b'/') {
            node = if is_plus(level) {
                match self.arena.node(node).plus {
                    NONE => {
                        let c = self.arena.alloc(level, node);
                        self.arena.node_mut(node).plus = c;
                        c
                    }
                    c => c,
                }
            } else if is_hash(level) {
                match self.arena.node(node).hash {
                    NONE => {
                        let c = self.arena.alloc(level, node);
                        self.arena.node_mut(node).hash = c;
                        c
                    }
                    c => c,
                }
            } else {
                match self.table.get(&self.arena, node, level) {
                    Some(c) => c,
                    None => {
                        let c = self.arena.alloc(level, node);
                        self.table.insert(&self.arena, c);
                        self.arena.node_mut(node).literals += 1;
                        c
                    }
                }
            };
        }
        self.arena.put(node, id, opt)
    }

    /// Removes `id` from `filter`, pruning emptied nodes; true if the pair existed.
    pub fn remove(&mut self, filter: &[u8], id: i32, scratch: &mut Scratch) -> bool {
        let path = &mut scratch.path;
        path.clear();
        path.push(ROOT);
        let mut node = ROOT;
        for level in filter.split(|&b| b == b'/') {
            let n = self.arena.node(node);
            let next = if is_plus(level) {
                n.plus
            } else if is_hash(level) {
                n.hash
            } else {
                self.table.get(&self.arena, node, level).unwrap_or(NONE)
            };
            if next == NONE {
                return false;
            }
            node = next;
            path.push(node);
        }
        if !self.arena.drop_id(node, id) {
            return false;
        }
        for i in (1..path.len()).rev() {
            let child = path[i];
            if !self.arena.node(child).is_empty() {
                break;
            }
            let parent = path[i - 1];
            let p = self.arena.node(parent);
            if p.plus == child {
                self.arena.node_mut(parent).plus = NONE;
            } else if p.hash == child {
                self.arena.node_mut(parent).hash = NONE;
            } else {
                self.table.remove(&self.arena, child);
                self.arena.node_mut(parent).literals -= 1;
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

    /// Collects the pairs matching `topic` into `scratch.out` (the twin's walk, step for step).
    pub fn collect(&self, topic: &[u8], scratch: &mut Scratch) {
        let Scratch { levels, stack, out, .. } = scratch;
        out.clear();
        levels.clear();
        let mut start = 0usize;
        for (i, &b) in topic.iter().enumerate() {
            if b == b'/' {
                levels.push((start as u32, i as u32, self.table.name_hash(&topic[start..i])));
                start = i + 1;
            }
        }
        levels.push((start as u32, topic.len() as u32, self.table.name_hash(&topic[start..])));
        let dollar = topic.first() == Some(&b'$');
        let depth_end = levels.len() as u32;
        let level = |depth: u32| -> &[u8] {
            let (s, e, _) = levels[depth as usize];
            &topic[s as usize..e as usize]
        };
        stack.clear();
        // Each stack entry carries the hash of the lookup it will make, computed when pushed so
        // its table slot can be prefetched: the branches' cache misses then overlap.
        let lookup = |node: u32, depth: u32| -> u64 {
            if depth < depth_end {
                let h = with_parent(levels[depth as usize].2, node);
                self.table.prefetch(h);
                h
            } else {
                0
            }
        };
        stack.push((ROOT, 0, lookup(ROOT, 0)));
        while let Some((node, depth, h)) = stack.pop() {
            let n = self.arena.node(node);
            if depth == depth_end {
                self.emit(node, out);
                // `#` also matches its parent level: `a/#` matches `a` [MQTT-4.7.1-1].
                if n.hash != NONE {
                    self.emit(n.hash, out);
                }
                continue;
            }
            // [MQTT-4.7.2-1] a `$` topic skips the root wildcards.
            let wild = depth != 0 || !dollar;
            if wild && n.hash != NONE {
                crate::memory::prefetch(self.arena.node_ptr(n.hash));
            }
            let child = self.table.get_hashed(&self.arena, node, level(depth), h);
            if wild {
                if n.hash != NONE {
                    self.emit(n.hash, out);
                }
                if n.plus != NONE {
                    stack.push((n.plus, depth + 1, lookup(n.plus, depth + 1)));
                }
            }
            if let Some(c) = child {
                stack.push((c, depth + 1, lookup(c, depth + 1)));
            }
        }
    }

    /// Live nodes (root included).
    pub fn node_count(&self) -> usize {
        self.arena.live()
    }

    /// Approximate heap bytes of the arena and the child table (slab contents excluded).
    pub fn heap_bytes(&self) -> usize {
        self.arena.heap_bytes() + self.table.heap_bytes()
    }
}
