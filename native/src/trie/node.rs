//! One trie level: its name, links and the subscribers whose filter ends here, packed small
//! because a device fleet puts a million of these in memory.

use std::collections::HashMap;

/// Index of "no node".
pub const NONE: u32 = u32::MAX;

const INLINE: usize = 22;

/// A level name: inline up to 22 bytes (device ids, "telemetry"), boxed beyond.
pub enum Key {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    pub fn new(bytes: &[u8]) -> Key {
        if bytes.len() <= INLINE {
            let mut b = [0u8; INLINE];
            b[..bytes.len()].copy_from_slice(bytes);
            Key::Inline(bytes.len() as u8, b)
        } else {
            Key::Heap(bytes.into())
        }
    }

    #[inline]
    pub fn bytes(&self) -> &[u8] {
        match self {
            Key::Inline(n, b) => &b[..*n as usize],
            Key::Heap(b) => b,
        }
    }
}

/// Subscribers past which an id -> position index is kept (as the twin's INDEX_MIN).
const INDEX_MIN: usize = 16;

/// Spilled subscriber list: all pairs once there are two or more.
pub struct SubsMore {
    pairs: Vec<[i32; 2]>,
    index: Option<HashMap<i32, u32>>,
}

/// The (id, options) pairs at a node, in the same order the TypeScript twin keeps them:
/// appended on insert, the last pair moved into a removed pair's slot.
pub struct Subs {
    len: u32,
    first: [i32; 2],
    more: Option<Box<SubsMore>>,
}

impl Subs {
    pub const EMPTY: Subs = Subs { len: 0, first: [0, 0], more: None };

    #[inline]
    pub fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    pub fn pairs(&self) -> &[[i32; 2]] {
        match (&self.more, self.len) {
            (Some(m), _) => &m.pairs,
            (None, 0) => &[],
            (None, _) => std::slice::from_ref(&self.first),
        }
    }

    fn find(&self, id: i32) -> Option<usize> {
        if let Some(m) = &self.more {
            if let Some(ix) = &m.index {
                return ix.get(&id).map(|&p| p as usize);
            }
        }
        self.pairs().iter().position(|p| p[0] == id)
    }

    /// Adds or replaces; true if `id` was new here.
    pub fn put(&mut self, id: i32, opt: i32) -> bool {
        if let Some(at) = self.find(id) {
            match &mut self.more {
                Some(m) => m.pairs[at][1] = opt,
                None => self.first[1] = opt,
            }
            return false;
        }
        match self.len {
            0 => self.first = [id, opt],
            1 => {
                self.more = Some(Box::new(SubsMore { pairs: vec![self.first, [id, opt]], index: None }));
            }
            _ => {
                let m = self.more.as_mut().expect("spilled past one pair");
                m.pairs.push([id, opt]);
                let n = m.pairs.len();
                if let Some(ix) = &mut m.index {
                    ix.insert(id, (n - 1) as u32);
                } else if n > INDEX_MIN {
                    m.index = Some(m.pairs.iter().enumerate().map(|(i, p)| (p[0], i as u32)).collect());
                }
            }
        }
        self.len += 1;
        true
    }

    /// Removes `id`, returning its options, by moving the last pair into its slot.
    pub fn drop_id(&mut self, id: i32) -> Option<i32> {
        let at = self.find(id)?;
        let Some(m) = self.more.as_mut() else {
            self.len = 0;
            return Some(self.first[1]);
        };
        let removed = m.pairs.swap_remove(at);
        if let Some(ix) = &mut m.index {
            ix.remove(&id);
            if at < m.pairs.len() {
                ix.insert(m.pairs[at][0], at as u32);
            }
            if m.pairs.len() <= INDEX_MIN / 2 {
                m.index = None;
            }
        }
        if m.pairs.len() == 1 {
            self.first = m.pairs[0];
            self.more = None;
        } else if m.pairs.len() * 4 <= m.pairs.capacity() && m.pairs.capacity() > 8 {
            m.pairs.shrink_to(m.pairs.capacity() / 2);
        }
        self.len -= 1;
        Some(removed[1])
    }
}

/// One level of the trie. Literal children live in the trie-wide child table, keyed by
/// (parent index, name), so a leaf carries no map of its own.
pub struct Node {
    pub key: Key,
    pub parent: u32,
    pub plus: u32,
    pub hash: u32,
    /// Literal children in the child table.
    pub literals: u32,
    pub subs: Subs,
}

impl Node {
    pub fn new(key: &[u8], parent: u32) -> Node {
        Node { key: Key::new(key), parent, plus: NONE, hash: NONE, literals: 0, subs: Subs::EMPTY }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.subs.len() == 0 && self.literals == 0 && self.plus == NONE && self.hash == NONE
    }
}
