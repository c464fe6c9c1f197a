//! Writing: writev with the rest kept until writable, flushing it, half-close (FIN), and a turn's
//! segments written per connection in one call.

use super::*;

impl Server {
    /// Writes what was pending; Ok once the socket took all it could.
    pub(super) fn flush_out(&mut self, id: i32) -> Result<(), i32> {
        let Some(c) = self.conns.get(id) else { return Ok(()) };
        let fd = c.fd;
        let Some(out) = c.out.as_mut() else { return Ok(()) };
        while out.pending() > 0 {
            let front = out.front();
            let iov = iovec { base: front.as_ptr() as *const c_void, len: front.len() };
            // SAFETY: one iovec over live bytes of the buffer.
            let n = unsafe { writev(fd, &iov, 1) };
            if n < 0 {
                match errno() {
                    EINTR => continue,
                    EAGAIN => break,
                    e => return Err(e),
                }
            }
            out.consume(n as usize);
        }
        if out.pending() > 0 {
            return Ok(());
        }
        c.out = None;
        let (state, end_after) = (c.state, c.end_after_flush);
        let want = c.armed & !EPOLLOUT;
        self.arm(id, want);
        if end_after {
            self.shut(id);
        } else if state == State::Open {
            self.push(EV_DRAIN, id, 0);
        }
        Ok(())
    }

    pub(super) fn shut(&mut self, id: i32) {
        let now = self.now_ms32();
        let Some(c) = self.conns.get(id) else { return };
        // SAFETY: shuts our side of a descriptor the record owns.
        unsafe { shutdown(c.fd, SHUT_WR) };
        c.state = State::Ending;
        c.since = now;
        c.paused = false;
        let want = c.armed | EPOLLIN;
        self.arm(id, want);
    }

    /// Writes `bufs` in order (writev, the rest kept until writable). Ok(bytes still pending);
    /// Err(errno) when the socket failed: then it is closed and its id forgotten.
    pub fn write(&mut self, id: i32, bufs: &[&[u8]]) -> Result<usize, i32> {
        let Some(c) = self.conns.get(id) else { return Ok(0) };
        if c.state != State::Open || c.end_after_flush {
            return Ok(c.pending()); // after end(): nothing more is written, as node:net
        }
        let fd = c.fd;
        if let Some(out) = c.out.as_mut() {
            for b in bufs {
                out.push(b);
            }
            return Ok(out.pending());
        }
        let mut iov: Vec<iovec> = Vec::with_capacity(bufs.len().min(IOV_BATCH));
        let mut i = 0;
        while i < bufs.len() {
            iov.clear();
            let mut total = 0usize;
            let first = i;
            while i < bufs.len() && iov.len() < IOV_BATCH {
                if !bufs[i].is_empty() {
                    iov.push(iovec { base: bufs[i].as_ptr() as *const c_void, len: bufs[i].len() });
                    total += bufs[i].len();
                }
                i += 1;
            }
            if total == 0 {
                continue;
            }
            let written = loop {
                // SAFETY: the iovecs point into `bufs`, alive for this call.
                let n = unsafe { writev(fd, iov.as_ptr(), iov.len() as c_int) };
                if n >= 0 {
                    break n as usize;
                }
                match errno() {
                    EINTR => continue,
                    EAGAIN => break 0,
                    e => {
                        // SAFETY: the record owns the descriptor; JavaScript forgets the id.
                        unsafe { close(fd) };
                        self.conns.closed(id, false);
                        return Err(e);
                    }
                }
            };
            if written < total {
                let mut out = Box::new(OutBuf::default());
                let mut skip = written;
                for b in &bufs[first..] {
                    if skip >= b.len() {
                        skip -= b.len();
                        continue;
                    }
                    out.push(&b[skip..]);
                    skip = 0;
                }
                let pending = out.pending();
                let c = self.conns.get(id).expect("checked above");
                c.out = Some(out);
                let want = c.armed | EPOLLOUT;
                self.arm(id, want);
                return Ok(pending);
            }
        }
        Ok(0)
    }

    /// Writes a turn's segments: segment i is `lens[i]` bytes of `arena` (consecutive, in order)
    /// for connection `ids[i]`; each connection's segments go out in their order in one writev.
    /// `out` gets [id, pending bytes or -errno] for each connection left with bytes pending or
    /// failed (then closed); returns the number of pairs.
    pub fn write_segments(&mut self, arena: &[u8], ids: &[i32], lens: &[i32], out: &mut [i32]) -> usize {
        let n = ids.len().min(lens.len());
        let mut offsets = std::mem::take(&mut self.scratch_offsets);
        let mut next = std::mem::take(&mut self.scratch_next);
        let mut heads = std::mem::take(&mut self.scratch_heads);
        let mut by_slot = std::mem::take(&mut self.scratch_by_slot);
        offsets.clear();
        next.clear();
        heads.clear();
        self.stamp = self.stamp.wrapping_add(1).max(1);
        let stamp = self.stamp;
        // Chain each connection's segments in order (no sort): by_slot[slot] = (stamp, first, last).
        let mut at = 0usize;
        for i in 0..n {
            let len = lens[i].max(0) as usize;
            if at + len > arena.len() {
                break; // checked by the binding; never read past the arena
            }
            offsets.push((at, len));
            next.push(u32::MAX);
            at += len;
            let slot = (ids[i].max(0) as u32 & crate::net::conns::SLOT_MASK) as usize;
            if slot >= by_slot.len() {
                by_slot.resize(slot + 1, (0u32, 0u32, 0u32));
            }
            let e = &mut by_slot[slot];
            if e.0 == stamp && ids[e.2 as usize] == ids[i] {
                next[e.2 as usize] = i as u32;
                e.2 = i as u32;
            } else {
                // First segment of this connection in the turn (or of another id in its slot).
                *e = (stamp, i as u32, i as u32);
                heads.push(i as u32);
            }
        }
        let mut pairs = 0usize;
        let mut run: Vec<&[u8]> = Vec::new();
        for &head in &heads {
            let id = ids[head as usize];
            run.clear();
            let mut k = head;
            while k != u32::MAX {
                let (o, l) = offsets[k as usize];
                run.push(&arena[o..o + l]);
                k = next[k as usize];
            }
            let left = match self.write(id, &run) {
                Ok(0) => continue,
                Ok(p) => p.min(i32::MAX as usize) as i32,
                Err(e) => -e.max(1),
            };
            if 2 * pairs + 1 < out.len() {
                out[2 * pairs] = id;
                out[2 * pairs + 1] = left;
                pairs += 1;
            }
        }
        self.scratch_offsets = offsets;
        self.scratch_next = next;
        self.scratch_heads = heads;
        self.scratch_by_slot = by_slot;
        pairs
    }
}
