//! Trie nodes and the arena that owns them. A device fleet puts over a million nodes in memory,
//! so a node is 12 bytes: a meta word (literal child count, `+`/`#` flags, how its pairs are
//! kept) and two inline words holding its one subscriber or where its list is. Names and
//! children live in the trie-wide name and child tables, keyed by node index.

use super::subs::{Pair, SubStore, Subs, NO_PAIRS};

/// Index of "no node".
pub const NONE: u32 = u32::MAX;

/// Nodes an arena may hold: the literal child count has 28 bits and name ids must fit in 28
/// bits, and no node has more children than there are nodes.
pub const MAX_NODES: usize = (1 << 28) - 4;

const STATE: u32 = 0b11;
const PLUS_BIT: u32 = 0b100;
const HASH_BIT: u32 = 0b1000;
const KID: u32 = 0b1_0000;

#[derive(Clone, Copy)]
pub struct Node {
    /// [literal children:28 | has # child | has + child | pairs state:2]
    meta: u32,
    /// The one pair, or where the list is (see subs.rs); in a free node, the next free index.
    words: Pair,
}

const _: () = assert!(std::mem::size_of::<Node>() == 12);

impl Node {
    const VACANT: Node = Node { meta: 0, words: [0, 0] };

    #[inline]
    pub fn has_plus(&self) -> bool {
        self.meta & PLUS_BIT != 0
    }

    #[inline]
    pub fn has_hash(&self) -> bool {
        self.meta & HASH_BIT != 0
    }

    /// True when the node has no pairs and no children, so it can be pruned.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.meta == NO_PAIRS
    }

    #[inline]
    fn subs(&self) -> Subs {
        Subs { state: self.meta & STATE, words: self.words }
    }

    #[inline]
    fn set_subs(&mut self, s: Subs) {
        self.meta = (self.meta & !STATE) | s.state;
        self.words = s.words;
    }
}

/// Which child slot of a node an edge fills.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    Literal,
    Plus,
    Hash,
}

/// All nodes of one trie plus their subscriber lists.
pub struct Arena {
    nodes: Vec<Node>,
    /// Head of the free list threaded through vacant nodes' first word.
    free: u32,
    live: usize,
    subs: SubStore,
}

impl Arena {
    /// An arena holding only the root (index 0).
    pub fn new() -> Arena {
        Arena { nodes: vec![Node::VACANT], free: NONE, live: 1, subs: SubStore::new() }
    }

    #[inline]
    pub fn node(&self, i: u32) -> &Node {
        &self.nodes[i as usize]
    }

    /// Address of a node, for prefetching.
    #[inline]
    pub fn node_ptr(&self, i: u32) -> *const u8 {
        &self.nodes[i as usize] as *const Node as *const u8
    }

    /// Live nodes (root included).
    pub fn live(&self) -> usize {
        self.live
    }

    /// Adds an empty node; returns its index. The caller keeps `live` under MAX_NODES.
    pub fn alloc(&mut self) -> u32 {
        self.live += 1;
        if self.free != NONE {
            let i = self.free;
            self.free = self.nodes[i as usize].words[0] as u32;
            self.nodes[i as usize] = Node::VACANT;
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
        self.nodes.push(Node::VACANT);
        (self.nodes.len() - 1) as u32
    }

    /// Frees node `i`, already unlinked and empty.
    pub fn release(&mut self, i: u32) {
        self.nodes[i as usize] = Node { meta: 0, words: [self.free as i32, 0] };
        self.free = i;
        self.live -= 1;
    }

    /// Records that `parent` gained a child along `edge`.
    pub fn link(&mut self, parent: u32, edge: Edge) {
        let m = &mut self.nodes[parent as usize].meta;
        match edge {
            Edge::Literal => *m += KID,
            Edge::Plus => *m |= PLUS_BIT,
            Edge::Hash => *m |= HASH_BIT,
        }
    }

    /// Records that `parent` lost its child along `edge`.
    pub fn unlink(&mut self, parent: u32, edge: Edge) {
        let m = &mut self.nodes[parent as usize].meta;
        match edge {
            Edge::Literal => *m -= KID,
            Edge::Plus => *m &= !PLUS_BIT,
            Edge::Hash => *m &= !HASH_BIT,
        }
    }

    /// The subscriber pairs at node `i`.
    #[inline]
    pub fn pairs(&self, i: u32) -> &[Pair] {
        let n = &self.nodes[i as usize];
        self.subs.pairs(n.meta & STATE, &n.words)
    }

    /// Adds or replaces `id` at node `i`; true if it was new there.
    pub fn put(&mut self, i: u32, id: i32, opt: i32) -> bool {
        let mut s = self.nodes[i as usize].subs();
        let added = self.subs.put(&mut s, id, opt);
        self.nodes[i as usize].set_subs(s);
        added
    }

    /// Removes `id` from node `i`; true if it was there.
    pub fn drop_id(&mut self, i: u32, id: i32) -> bool {
        let mut s = self.nodes[i as usize].subs();
        let removed = self.subs.remove(&mut s, id);
        self.nodes[i as usize].set_subs(s);
        removed
    }

    /// Approximate heap bytes of the node array and subscriber blocks.
    pub fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node>() + self.subs.heap_bytes()
    }
}
