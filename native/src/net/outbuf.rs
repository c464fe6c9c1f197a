//! Bytes a socket did not take yet: what a partial writev left, written again when the socket
//! is writable. Allocated only while something is pending (None otherwise, in the connection).

/// Pending output of one connection, consumed from the front.
#[derive(Default)]
pub struct OutBuf {
    data: Vec<u8>,
    start: usize,
}

impl OutBuf {
    /// Bytes still to write.
    pub fn pending(&self) -> usize {
        self.data.len() - self.start
    }

    /// Appends bytes after what is pending.
    pub fn push(&mut self, bytes: &[u8]) {
        // Reclaim the written front before growing: the buffer stays near what is pending.
        if self.start > 0 && self.start >= self.data.len() / 2 {
            self.data.drain(..self.start);
            self.start = 0;
        }
        self.data.extend_from_slice(bytes);
    }

    /// What is pending, as one slice.
    pub fn front(&self) -> &[u8] {
        &self.data[self.start..]
    }

    /// Marks `n` bytes of the front as written.
    pub fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.data.len());
        if self.start == self.data.len() {
            self.data.clear();
            self.start = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_leave_the_rest_in_order() {
        let mut b = OutBuf::default();
        b.push(b"hello ");
        b.push(b"world");
        assert_eq!(b.pending(), 11);
        b.consume(4);
        assert_eq!(b.front(), b"o world");
        b.push(b"!");
        assert_eq!(b.front(), b"o world!");
        b.consume(100);
        assert_eq!(b.pending(), 0);
        assert_eq!(b.front(), b"");
    }

    #[test]
    fn the_written_front_is_reclaimed_before_growing() {
        let mut b = OutBuf::default();
        b.push(&[1; 1000]);
        b.consume(900);
        b.push(&[2; 10]);
        assert_eq!(b.pending(), 110);
        assert!(b.data.len() <= 110, "kept {} bytes for 110 pending", b.data.len());
        assert_eq!(b.front()[99..101], [1, 2]);
    }
}
