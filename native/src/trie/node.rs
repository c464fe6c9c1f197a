//! Trie nodes and the arena that owns them. A device fleet puts a million nodes in memory, so a
//! node is 48 bytes: its name inline up to 15 bytes, u32 links, and its first subscriber inline;
//! longer names and longer subscriber lists live in side slabs addressed by u32.

use std::collections::HashMap;

/// Index of "no node" / "no slab entry".
pub const NONE: u32 = u32::MAX;

const INLINE: usize = 15;
/// `Key::len` value marking a name stored in the long-key slab.
const LONG: u8 = 0xff;
/// Subscribers past which an id -> position index is kept (as the twin's INDEX_MIN).
const INDEX_MIN: usize = 16;

/// A level name: inline up to 15 bytes (device ids, "telemetry"), else a long-key slab index.
#[derive(Clone, Copy)]
pub struct Key {
    len: u8,
    bytes: [u8; INLINE],
}

/// The (id, options) pairs at a node, in the twin's order: appended on insert, the last pair
/// moved into a removed pair's slot. One pair inline; two or more all in a spill.
#[derive(Clone, Copy)]
pub struct Subs {
    len: u32,
    first: [i32; 2],
    spill: u32,
}

struct Spill {
    pairs: Vec<[i32; 2]>,
    // Boxed: most spills never get an index, and 8 bytes beat an empty map's 48 in every spill.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<i32, u32>>>,
}

/// One level of the trie. Literal children live in the trie-wide child table, keyed by
/// (parent index, name), so a node carries no map of its own.
#[derive(Clone, Copy)]
pub struct Node {
    key: Key,
    pub parent: u32,
    pub plus: u32,
    pub hash: u32,
    /// Literal children in the child table.
    pub literals: u32,
    subs: Subs,
}

const _: () = assert!(std::mem::size_of::<Node>() == 48);

impl Node {
    const VACANT: Node = Node {
        key: Key { len: 0, bytes: [0; INLINE] },
        parent: NONE,
        plus: NONE,
        hash: NONE,
        literals: 0,
        subs: Subs { len: 0, first: [0, 0], spill: NONE },
    };

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.subs.len == 0 && self.literals == 0 && self.plus == NONE && self.hash == NONE
    }
}

/// A vector with a free list: stable u32 indices, freed entries reused.
struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    fn new() -> Slab<T> {
        Slab { items: Vec::new(), free: Vec::new() }
    }

    fn add(&mut self, v: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.items[i as usize] = Some(v);
            i
        } else {
            self.items.push(Some(v));
            (self.items.len() - 1) as u32
        }
    }

    fn take(&mut self, i: u32) -> Option<T> {
        let v = self.items[i as usize].take();
        if v.is_some() {
            self.free.push(i);
        }
        v
    }

    #[inline]
    fn get(&self, i: u32) -> &T {
        self.items[i as usize].as_ref().expect("live slab entry")
    }

    #[inline]
    fn get_mut(&mut self, i: u32) -> &mut T {
        self.items[i as usize].as_mut().expect("live slab entry")
    }
}

/// All nodes of one trie plus their side slabs.
pub struct Arena {
    nodes: Vec<Node>,
    free: Vec<u32>,
    long_keys: Slab<Box<[u8]>>,
    spills: Slab<Spill>,
}

impl Arena {
    /// An arena holding only the root (index 0).
    pub fn new() -> Arena {
        Arena { nodes: vec![Node::VACANT], free: Vec::new(), long_keys: Slab::new(), spills: Slab::new() }
    }

    #[inline]
    pub fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    #[inline]
    pub fn node_mut(&mut self, i: u32) -> &mut Node {
        &mut self.nodes[i as usize]
    }

    /// Address of a node, for prefetching.
    #[inline]
    pub fn node_ptr(&self, i: u32) -> *const u8 {
        &self.nodes[i as usize] as *const Node as *const u8
    }

    #[inline]
    pub fn key(&self, i: u32) -> &[u8] {
        let k = &self.nodes[i as usize].key;
        if k.len == LONG {
            let ix = u32::from_le_bytes([k.bytes[0], k.bytes[1], k.bytes[2], k.bytes[3]]);
            self.long_keys.get(ix)
        } else {
            &k.bytes[..k.len as usize]
        }
    }

    /// Adds a node named `name` under `parent`; returns its index.
    pub fn alloc(&mut self, name: &[u8], parent: u32) -> u32 {
        let mut node = Node::VACANT;
        node.parent = parent;
        if name.len() <= INLINE {
            node.key.len = name.len() as u8;
            node.key.bytes[..name.len()].copy_from_slice(name);
        } else {
            let ix = self.long_keys.add(name.into());
            node.key.len = LONG;
            node.key.bytes[..4].copy_from_slice(&ix.to_le_bytes());
        }
        if let Some(i) = self.free.pop() {
            self.nodes[i as usize] = node;
            return i;
        }
        if self.nodes.len() == self.nodes.capacity() {
            // Grow into a fresh allocation advised before first touch, so the whole arena
            // (not only its newest half) gets huge pages.
            let cap = (self.nodes.capacity() * 2).max(64);
            let mut bigger = Vec::with_capacity(cap);
            crate::memory::advise_huge_pages(bigger.as_ptr() as *const u8, cap * std::mem::size_of::<Node>());
            bigger.append(&mut self.nodes);
            self.nodes = bigger;
        }
        self.nodes.push(node);
        (self.nodes.len() - 1) as u32
    }

    /// Frees node `i` (already unlinked and empty) and its long name.
    pub fn release(&mut self, i: u32) {
        let k = self.nodes[i as usize].key;
        if k.len == LONG {
            self.long_keys.take(u32::from_le_bytes([k.bytes[0], k.bytes[1], k.bytes[2], k.bytes[3]]));
        }
        self.nodes[i as usize] = Node::VACANT;
        self.free.push(i);
    }

    /// Live nodes (root included).
    pub fn live(&self) -> usize {
        self.nodes.len() - self.free.len()
    }

    /// The subscriber pairs at node `i`.
    #[inline]
    pub fn pairs(&self, i: u32) -> &[[i32; 2]] {
        let s = &self.nodes[i as usize].subs;
        match s.len {
            0 => &[],
            1 => std::slice::from_ref(&s.first),
            _ => &self.spills.get(s.spill).pairs,
        }
    }

    fn find(&self, i: u32, id: i32) -> Option<usize> {
        let s = &self.nodes[i as usize].subs;
        if s.len > 1 {
            if let Some(ix) = &self.spills.get(s.spill).index {
                return ix.get(&id).map(|&p| p as usize);
            }
        }
        self.pairs(i).iter().position(|p| p[0] == id)
    }

    /// Adds or replaces `id` at node `i`; true if it was new there.
    pub fn put(&mut self, i: u32, id: i32, opt: i32) -> bool {
        if let Some(at) = self.find(i, id) {
            let s = &mut self.nodes[i as usize].subs;
            if s.len == 1 {
                s.first[1] = opt;
            } else {
                self.spills.get_mut(s.spill).pairs[at][1] = opt;
            }
            return false;
        }
        let s = &mut self.nodes[i as usize].subs;
        match s.len {
            0 => s.first = [id, opt],
            1 => s.spill = self.spills.add(Spill { pairs: vec![s.first, [id, opt]], index: None }),
            _ => {
                let sp = self.spills.get_mut(s.spill);
                sp.pairs.push([id, opt]);
                let n = sp.pairs.len();
                if let Some(ix) = &mut sp.index {
                    ix.insert(id, (n - 1) as u32);
                } else if n > INDEX_MIN {
                    sp.index = Some(Box::new(sp.pairs.iter().enumerate().map(|(k, p)| (p[0], k as u32)).collect()));
                }
            }
        }
        s.len += 1;
        true
    }

    /// Removes `id` from node `i` by moving the last pair into its slot; true if it was there.
    pub fn drop_id(&mut self, i: u32, id: i32) -> bool {
        let Some(at) = self.find(i, id) else { return false };
        let s = &mut self.nodes[i as usize].subs;
        if s.len == 1 {
            s.len = 0;
            return true;
        }
        let sp = self.spills.get_mut(s.spill);
        sp.pairs.swap_remove(at);
        if let Some(ix) = &mut sp.index {
            ix.remove(&id);
            if at < sp.pairs.len() {
                ix.insert(sp.pairs[at][0], at as u32);
            }
            if sp.pairs.len() <= INDEX_MIN / 2 {
                sp.index = None;
            }
        }
        if sp.pairs.len() == 1 {
            s.first = sp.pairs[0];
            self.spills.take(s.spill);
            s.spill = NONE;
        } else if sp.pairs.len() * 4 <= sp.pairs.capacity() && sp.pairs.capacity() > 8 {
            let half = sp.pairs.capacity() / 2;
            sp.pairs.shrink_to(half);
        }
        s.len -= 1;
        true
    }

    /// Approximate heap bytes of the arena (node slots; slab contents excluded).
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.free.capacity() * 4
    }
}
