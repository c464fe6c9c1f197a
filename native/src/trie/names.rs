//! Level names as 64-bit edge keys. A name of up to 7 bytes (`fleet`, `r12`, `v123456`) is its
//! own key: bytes and length packed in a u64, nothing stored, nothing to look up. A longer name
//! is stored once in the trie-wide name table and its key carries the u32 id (a fleet repeats
//! "telemetry" a million times, and a device UUID appears under several parents); those names
//! are reference-counted by the edges that carry them and freed with the last.

use super::hash::hash_bytes;
use super::slab::Slab;

/// An edge key: [length:8 | bytes:56] for a short name, [INTERNED | id] for a long one, or one
/// of the wildcard keys. The top byte keeps the three kinds (and every length) apart, so keys
/// are equal exactly when names are.
pub type Key = u64;
/// Longest name packed into its key.
const SHORT: usize = 7;
const INTERNED: u64 = 0x80 << 56;
/// Key of the `+` edge: wildcards are edges of the child table under reserved keys.
pub const PLUS: Key = 0x81 << 56;
/// Key of the `#` edge.
pub const HASH: Key = 0x82 << 56;
/// "No such name": no edge has this key.
pub const NO_KEY: Key = u64::MAX;

/// The key of a name of at most 7 bytes.
#[inline]
pub fn short_key(level: &[u8]) -> Option<Key> {
    if level.len() > SHORT {
        return None;
    }
    let mut b = [0u8; 8];
    b[..level.len()].copy_from_slice(level);
    b[7] = level.len() as u8;
    Some(u64::from_le_bytes(b))
}

/// The key of long name `id`.
#[inline]
pub fn interned(id: u32) -> Key {
    INTERNED | id as u64
}

/// Ids fit in 28 bits: a slot keeps the other 4 for a hash tag. The trie caps its nodes below
/// this, and every live name belongs to at least one edge.
pub const ID_BITS: u32 = 28;
const ID_MASK: u32 = (1 << ID_BITS) - 1;
const EMPTY: u32 = u32::MAX;

const INLINE: usize = 11;
/// `Name::len` value marking bytes kept in the long-name slab.
const LONG: u8 = 0xff;

/// One name: inline up to 11 bytes, else a long-name slab index in `bytes[..4]`. A free entry
/// has `refs` 0 and the next free id in `bytes[..4]`.
#[derive(Clone, Copy)]
struct Name {
    refs: u32,
    len: u8,
    bytes: [u8; INLINE],
}

const _: () = assert!(std::mem::size_of::<Name>() == 16);

impl Name {
    #[inline]
    fn index(&self) -> u32 {
        u32::from_le_bytes([self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]])
    }
}

pub struct Names {
    entries: Vec<Name>,
    /// Head of the free-id list threaded through freed entries.
    free: u32,
    long: Slab<Box<[u8]>>,
    /// Open addressing, linear probing: [tag:4 | id:28], or EMPTY.
    slots: Vec<u32>,
    len: usize,
    seed: u64,
}

impl Names {
    pub fn new(seed: u64) -> Names {
        Names { entries: Vec::new(), free: EMPTY, long: Slab::new(), slots: vec![EMPTY; 16], len: 0, seed }
    }

    /// The hash `find` wants for `bytes`.
    #[inline]
    pub fn hash(&self, bytes: &[u8]) -> u64 {
        hash_bytes(self.seed, bytes)
    }

    #[inline]
    fn mask(&self) -> usize {
        self.slots.len() - 1
    }

    #[inline]
    fn tag(h: u64) -> u32 {
        ((h >> 60) as u32) << ID_BITS
    }

    /// The bytes of name `id`.
    #[inline]
    pub fn bytes(&self, id: u32) -> &[u8] {
        let n = &self.entries[id as usize];
        if n.len == LONG {
            self.long.get(n.index())
        } else {
            &n.bytes[..n.len as usize]
        }
    }

    /// Starts loading the slot `find(.., h)` probes first.
    #[inline]
    pub fn prefetch(&self, h: u64) {
        crate::memory::prefetch(&self.slots[h as usize & self.mask()] as *const u32 as *const u8);
    }

    /// The id of `bytes` (hashed to `h`), if some node carries that name.
    #[inline]
    pub fn find(&self, bytes: &[u8], h: u64) -> Option<u32> {
        let tag = Self::tag(h);
        let mask = self.mask();
        let mut i = h as usize & mask;
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if s & !ID_MASK == tag && self.bytes(s & ID_MASK) == bytes {
                return Some(s & ID_MASK);
            }
            i = (i + 1) & mask;
        }
    }

    /// The key of `level` if some edge carries that name (the wildcards are not names).
    pub fn key(&self, level: &[u8]) -> Option<Key> {
        short_key(level).or_else(|| self.find(level, self.hash(level)).map(interned))
    }

    /// The key of `level` with one more reference, storing a long name if new.
    pub fn acquire_key(&mut self, level: &[u8]) -> Key {
        short_key(level).unwrap_or_else(|| interned(self.acquire(level)))
    }

    /// Drops one reference to the name of `key`; the last frees a long name.
    pub fn release_key(&mut self, key: Key) {
        if key & !(ID_MASK as u64) == INTERNED {
            self.release(key as u32 & ID_MASK);
        }
    }

    /// The id of `bytes` with one more reference, adding the name if new.
    fn acquire(&mut self, bytes: &[u8]) -> u32 {
        let h = self.hash(bytes);
        if let Some(id) = self.find(bytes, h) {
            self.entries[id as usize].refs += 1;
            return id;
        }
        let mut name = Name { refs: 1, len: 0, bytes: [0; INLINE] };
        if bytes.len() <= INLINE {
            name.len = bytes.len() as u8;
            name.bytes[..bytes.len()].copy_from_slice(bytes);
        } else {
            name.len = LONG;
            name.bytes[..4].copy_from_slice(&self.long.add(bytes.into()).to_le_bytes());
        }
        let id = if self.free != EMPTY {
            let id = self.free;
            self.free = self.entries[id as usize].index();
            self.entries[id as usize] = name;
            id
        } else {
            self.entries.push(name);
            (self.entries.len() - 1) as u32
        };
        assert!(id < ID_MASK, "name table full");
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        self.place(h, id);
        self.len += 1;
        id
    }

    /// Drops one reference to `id`; the last frees it.
    fn release(&mut self, id: u32) {
        let n = &mut self.entries[id as usize];
        n.refs -= 1;
        if n.refs > 0 {
            return;
        }
        self.unlink(id);
        let n = self.entries[id as usize];
        if n.len == LONG {
            self.long.take(n.index());
        }
        let mut free = Name { refs: 0, len: 0, bytes: [0; INLINE] };
        free.bytes[..4].copy_from_slice(&self.free.to_le_bytes());
        self.entries[id as usize] = free;
        self.free = id;
    }

    fn place(&mut self, h: u64, id: u32) {
        let mask = self.mask();
        let mut i = h as usize & mask;
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = Self::tag(h) | id;
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, crate::memory::filled_vec(n, EMPTY));
        for s in old {
            if s != EMPTY {
                let id = s & ID_MASK;
                self.place(hash_bytes(self.seed, self.bytes(id)), id);
            }
        }
    }

    /// Removes `id` from the slots by backward shift, so no tombstones accumulate.
    fn unlink(&mut self, id: u32) {
        let mask = self.mask();
        let mut i = self.hash(self.bytes(id)) as usize & mask;
        while self.slots[i] & ID_MASK != id {
            i = (i + 1) & mask;
        }
        let mut hole = i;
        let mut j = (i + 1) & mask;
        loop {
            let s = self.slots[j];
            if s == EMPTY {
                break;
            }
            let home = self.hash(self.bytes(s & ID_MASK)) as usize & mask;
            // Move s into the hole unless its home lies cyclically in (hole, j].
            if (j.wrapping_sub(home) & mask) >= (j.wrapping_sub(hole) & mask) {
                self.slots[hole] = s;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.slots[hole] = EMPTY;
        self.len -= 1;
    }

    /// Bytes held by the entries and slots (long names excluded).
    pub fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Name>() + self.slots.len() * 4
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::trie::TestRng;

    fn id_of(key: Key) -> u32 {
        key as u32 & ID_MASK
    }

    #[test]
    fn short_names_are_their_own_keys_and_differ_by_length() {
        let mut n = Names::new(1);
        assert_eq!(n.acquire_key(b"fleet"), short_key(b"fleet").unwrap());
        assert_eq!(n.len, 0, "a short name is never stored");
        // Zero bytes pad a short key, so only the packed length tells these apart.
        assert_ne!(short_key(b"a"), short_key(b"a\0"));
        assert_ne!(short_key(b""), short_key(b"\0"));
        assert!(short_key(b"abcdefg").is_some());
        assert!(short_key(b"abcdefgh").is_none());
    }

    #[test]
    fn no_name_has_a_wildcard_key() {
        // A `+` or `#` inside a topic is looked up as a name; it must not follow a wildcard edge.
        for level in [&b""[..], b"+", b"#", b"\xff\xff\xff\xff\xff\xff\xff"] {
            let k = short_key(level).unwrap();
            assert!(![PLUS, HASH, NO_KEY].contains(&k), "{level:?}");
        }
        let mut n = Names::new(1);
        let k = n.acquire_key(b"+/#-looking-long-name");
        assert!(![PLUS, HASH, NO_KEY].contains(&k));
    }

    #[test]
    fn a_long_name_is_stored_once_and_freed_with_its_last_reference() {
        let mut n = Names::new(7);
        let name = b"telemetry-channel";
        let k = n.acquire_key(name);
        assert_eq!(n.acquire_key(name), k);
        assert_eq!(n.len, 1);
        n.release_key(k);
        assert_eq!(n.key(name), Some(k), "one reference is left");
        n.release_key(k);
        assert_eq!(n.key(name), None);
        assert_eq!(n.len, 0);
        // The freed id goes to the next new name.
        let other = n.acquire_key(b"another-long-name");
        assert_eq!(other, k);
        assert_eq!(n.bytes(id_of(other)), b"another-long-name");
        assert_eq!(n.key(name), None);
    }

    #[test]
    fn releasing_a_short_key_leaves_interned_names_alone() {
        let mut n = Names::new(7);
        let k = n.acquire_key(b"interned-name");
        // The empty name's key is 0, the same low bits as id 0.
        n.release_key(short_key(b"").unwrap());
        n.release_key(short_key(b"abc").unwrap());
        assert_eq!(n.key(b"interned-name"), Some(k));
    }

    #[test]
    fn names_inline_and_in_the_long_slab_read_back_exactly() {
        let mut n = Names::new(3);
        // 8..=11 bytes sit in the entry, 12 and more in the long-name slab.
        let names: Vec<Vec<u8>> = (8..=40).map(|len| (0..len).map(|i| b'a' + (i % 26) as u8).collect()).collect();
        let keys: Vec<Key> = names.iter().map(|name| n.acquire_key(name)).collect();
        for (name, &k) in names.iter().zip(&keys) {
            assert_eq!(n.key(name), Some(k));
            assert_eq!(n.bytes(id_of(k)), &name[..]);
        }
        // Each is a prefix of the next: a lookup compares whole names, not prefixes.
        assert_eq!(n.key(b"abcdefghijklmnopqrstuvwxyzabcdefghijklmnX"), None);
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
    }

    #[test]
    fn lookups_stay_right_through_random_acquires_and_releases() {
        let mut rng = TestRng::new(42);
        let mut n = Names::new(rng.next());
        let pool: Vec<Vec<u8>> = (0..300)
            .map(|i| if i % 3 == 0 { format!("dev{i:05}") } else { format!("device-{i:05}-name") }.into_bytes())
            .collect();
        let mut model: HashMap<&[u8], (Key, u32)> = HashMap::new();
        for step in 0..20_000 {
            let name = &pool[rng.below(pool.len())][..];
            if rng.below(2) == 0 {
                let k = n.acquire_key(name);
                let e = model.entry(name).or_insert((k, 0));
                assert_eq!(e.0, k, "a live name keeps its key");
                e.1 += 1;
            } else if let Some(e) = model.get_mut(name) {
                n.release_key(e.0);
                e.1 -= 1;
                if e.1 == 0 {
                    model.remove(name);
                }
            }
            if step % 500 == 0 {
                for name in &pool {
                    assert_eq!(n.key(name), model.get(&name[..]).map(|e| e.0), "step {step}");
                }
            }
        }
        assert_eq!(n.len, model.len());
    }
}
