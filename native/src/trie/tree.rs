//! The subscription tree: nodes in one arena (u32 indices, freed slots reused), literal
//! children in the shared child table, `+` and `#` in per-node slots. Walk order and subscriber
//! order are exactly those of the TypeScript twin so results compare element by element.

use super::node::{Node, NONE};
use super::table::ChildTable;

pub const ROOT: u32 = 0;

/// Reused buffers of one walk.
#[derive(Default)]
pub struct Scratch {
    levels: Vec<(u32, u32)>,
    stack: Vec<(u32, u32)>,
    path: Vec<u32>,
    /// The last walk's result: [id, opt, id, opt, ...].
    pub out: Vec<i32>,
}

pub struct Tree {
    nodes: Vec<Node>,
    free: Vec<u32>,
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
        Tree { nodes: vec![Node::new(b"", NONE)], free: Vec::new(), table: ChildTable::new(seed) }
    }

    fn alloc(&mut self, key: &[u8], parent: u32) -> u32 {
        let node = Node::new(key, parent);
        if let Some(i) = self.free.pop() {
            self.nodes[i as usize] = node;
            i
        } else {
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        }
    }

    fn release(&mut self, i: u32) {
        // Drop the key and subscriber spill now; the slot itself waits for reuse.
        self.nodes[i as usize] = Node::new(b"", NONE);
        self.free.push(i);
    }

    /// Adds or replaces `id` under `filter`; true if the pair is new.
    pub fn insert(&mut self, filter: &[u8], id: i32, opt: i32) -> bool {
        let mut node = ROOT;
        for level in filter.split(|&b| b == b'/') {
            node = if is_plus(level) {
                match self.nodes[node as usize].plus {
                    NONE => {
                        let c = self.alloc(level, node);
                        self.nodes[node as usize].plus = c;
                        c
                    }
                    c => c,
                }
            } else if is_hash(level) {
                match self.nodes[node as usize].hash {
                    NONE => {
                        let c = self.alloc(level, node);
                        self.nodes[node as usize].hash = c;
                        c
                    }
                    c => c,
                }
            } else {
                match self.table.get(&self.nodes, node, level) {
                    Some(c) => c,
                    None => {
                        let c = self.alloc(level, node);
                        self.table.insert(&self.nodes, c);
                        self.nodes[node as usize].literals += 1;
                        c
                    }
                }
            };
        }
        self.nodes[node as usize].subs.put(id, opt)
    }

    /// Removes `id` from `filter`, pruning emptied nodes; true if the pair existed.
    pub fn remove(&mut self, filter: &[u8], id: i32, scratch: &mut Scratch) -> bool {
        let path = &mut scratch.path;
        path.clear();
        path.push(ROOT);
        let mut node = ROOT;
        for level in filter.split(|&b| b == b'/') {
            let n = &self.nodes[node as usize];
            let next = if is_plus(level) {
                n.plus
            } else if is_hash(level) {
                n.hash
            } else {
                self.table.get(&self.nodes, node, level).unwrap_or(NONE)
            };
            if next == NONE {
                return false;
            }
            node = next;
            path.push(node);
        }
        if self.nodes[node as usize].subs.drop_id(id).is_none() {
            return false;
        }
        for i in (1..path.len()).rev() {
            let child = path[i];
            if !self.nodes[child as usize].is_empty() {
                break;
            }
            let parent = path[i - 1] as usize;
            if self.nodes[parent].plus == child {
                self.nodes[parent].plus = NONE;
            } else if self.nodes[parent].hash == child {
                self.nodes[parent].hash = NONE;
            } else {
                self.table.remove(&self.nodes, child);
                self.nodes[parent].literals -= 1;
            }
            self.release(child);
        }
        true
    }

    #[inline]
    fn emit(&self, node: u32, out: &mut Vec<i32>) {
        for p in self.nodes[node as usize].subs.pairs() {
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
                levels.push((start as u32, i as u32));
                start = i + 1;
            }
        }
        levels.push((start as u32, topic.len() as u32));
        let dollar = topic.first() == Some(&b'$');
        let depth_end = levels.len() as u32;
        stack.clear();
        stack.push((ROOT, 0));
        while let Some((node, depth)) = stack.pop() {
            let n = &self.nodes[node as usize];
            if depth == depth_end {
                self.emit(node, out);
                // `#` also matches its parent level: `a/#` matches `a` [MQTT-4.7.1-1].
                if n.hash != NONE {
                    self.emit(n.hash, out);
                }
                continue;
            }
            if depth != 0 || !dollar {
                // [MQTT-4.7.2-1] a `$` topic skips the root wildcards.
                if n.hash != NONE {
                    self.emit(n.hash, out);
                }
                if n.plus != NONE {
                    stack.push((n.plus, depth + 1));
                }
            }
            let (s, e) = levels[depth as usize];
            if let Some(c) = self.table.get(&self.nodes, node, &topic[s as usize..e as usize]) {
                stack.push((c, depth + 1));
            }
        }
    }

    /// Live nodes (root included).
    pub fn node_count(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    /// Approximate heap bytes of the arena and the child table (spilled lists and long keys excluded).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.free.capacity() * 4 + self.table.heap_bytes()
    }
}
