//! A vector with a free list: stable u32 indices, freed entries reused.

pub struct Slab<T> {
    items: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Slab<T> {
    pub fn new() -> Slab<T> {
        Slab { items: Vec::new(), free: Vec::new() }
    }

    /// Stores `v`; returns its index.
    pub fn add(&mut self, v: T) -> u32 {
        if let Some(i) = self.free.pop() {
            self.items[i as usize] = Some(v);
            i
        } else {
            self.items.push(Some(v));
            (self.items.len() - 1) as u32
        }
    }

    /// Takes entry `i` out, freeing its index.
    pub fn take(&mut self, i: u32) -> Option<T> {
        let v = self.items[i as usize].take();
        if v.is_some() {
            self.free.push(i);
        }
        v
    }

    #[inline]
    pub fn get(&self, i: u32) -> &T {
        self.items[i as usize].as_ref().expect("live slab entry")
    }

    #[inline]
    pub fn get_mut(&mut self, i: u32) -> &mut T {
        self.items[i as usize].as_mut().expect("live slab entry")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_freed_index_is_handed_out_again_before_new_ones() {
        let mut s = Slab::new();
        assert_eq!([s.add("a"), s.add("b"), s.add("c")], [0, 1, 2]);
        assert_eq!(s.take(1), Some("b"));
        assert_eq!(s.add("d"), 1);
        assert_eq!(s.add("e"), 3);
        assert_eq!([*s.get(0), *s.get(1), *s.get(2), *s.get(3)], ["a", "d", "c", "e"]);
    }

    #[test]
    fn taking_an_index_twice_frees_it_once() {
        // A second free-list entry for one index would give two live values the same index.
        let mut s = Slab::new();
        s.add(10);
        s.add(11);
        assert_eq!(s.take(0), Some(10));
        assert_eq!(s.take(0), None);
        assert_eq!(s.add(20), 0);
        assert_eq!(s.add(21), 2);
        *s.get_mut(0) += 1;
        assert_eq!([*s.get(0), *s.get(1), *s.get(2)], [21, 11, 21]);
    }
}
