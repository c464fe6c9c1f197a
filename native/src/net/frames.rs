//! MQTT framing in the read path (a connection JavaScript asked to frame: an online MQTT client).
//! What a read brings is scanned here, and JavaScript gets whole frames with their scan records
//! (EV_FRAMES) instead of bytes it would scan itself; the start of a frame whose rest has not
//! arrived stays in the connection's record (`partial`), so an idle device holds no buffer in
//! JavaScript and a large frame is gathered here, copied once.
//!
//! Anything unusual goes back to JavaScript as plain bytes (EV_DATA) with framing turned off:
//! a scan error (JavaScript's own scan finds it again and answers in the protocol's words), or
//! more frames than this poll's records can hold. JavaScript turns framing on again once it
//! holds no bytes of its own, so what Rust scans always starts at a frame boundary.

use super::*;
use crate::scanner::{scan_frames, ERR_NONE, HEADER, STRIDE};

/// Records one poll hands JavaScript at most (its Uint32Array holds RECORD_SLOTS u32s).
pub const MAX_RECORDS: usize = 8192;
/// u32 slots of JavaScript's records array: each block is a STRIDE-aligned header slot, then its records.
pub const RECORD_SLOTS: usize = STRIDE * (MAX_RECORDS + 2 * MAX_EPOLL_EVENTS);
/// A framed read waits for the next poll when fewer records than this are left.
const MIN_RECORD_ROOM: usize = 256;
/// A partial frame declaring more than this is completed by reads into its own buffer (each
/// byte copied once); a smaller one is copied into the arena ahead of the next read.
const GATHER_BYTES: usize = 16 * 1024;

/// The total size a frame's fixed header declares, once its remaining length has arrived.
fn declared_size(bytes: &[u8]) -> Option<usize> {
    let mut value = 0usize;
    for i in 0..4 {
        let b = *bytes.get(1 + i)?;
        value |= ((b & 0x7f) as usize) << (7 * i);
        if b & 0x80 == 0 {
            return Some(1 + i + 1 + value);
        }
    }
    None
}

impl Server {
    /// Turns MQTT framing on for a connection (JavaScript holds no partial frame of it).
    pub fn frame(&mut self, id: i32, max_packet_size: u32, v5: bool) {
        if let Some(c) = self.conns.get(id) {
            if c.state == State::Open {
                c.frame_limit = max_packet_size.max(2);
                c.frame_v5 = v5;
            }
        }
    }

    /// Slots of the records array not used yet in this poll.
    fn record_room(&self) -> usize {
        (RECORD_SLOTS - self.records_used) / STRIDE
    }

    /// A readable framed connection: reads, scans, and queues whole frames. Returns false when
    /// it must wait for the next poll (no room), true when the read was handled (or failed).
    pub(super) fn read_framed(&mut self, id: i32, fd: c_int) -> bool {
        if self.record_room() < MIN_RECORD_ROOM {
            return false;
        }
        let Some(c) = self.conns.get(id) else { return true };
        let held = c.partial.as_ref().map_or(0, |p| p.len());
        if let Some(total) = c.partial.as_ref().and_then(|p| declared_size(p)).filter(|&n| n > GATHER_BYTES) {
            self.gather(id, fd, total);
            return true;
        }
        let at = self.arena.len();
        let room = self.arena.capacity() - at;
        if room < MIN_READ_ROOM + held {
            return false;
        }
        if let Some(p) = self.conns.get(id).and_then(|c| c.partial.take()) {
            self.arena.extend_from_slice(&p);
        }
        // SAFETY: reads at most the arena's spare capacity past the held bytes.
        let n = unsafe { read(fd, self.arena.as_mut_ptr().add(at + held) as *mut c_void, (room - held).min(READ_MAX)) };
        if n > 0 {
            // SAFETY: read initialised these n bytes.
            unsafe { self.arena.set_len(at + held + n as usize) };
            self.scan_queued(id, at);
            return true;
        }
        let e = if n == 0 { 0 } else { errno() };
        if held > 0 {
            // Nothing new: the held bytes go back to the record (a close drops them with it).
            let kept = self.arena[at..].to_vec();
            self.arena.truncate(at);
            if let Some(c) = self.conns.get(id) {
                c.partial = Some(Box::new(kept));
            }
        }
        self.read_nothing(id, n, e);
        true
    }

    /// Reads the rest of a large frame into its own buffer; hands it over once whole.
    fn gather(&mut self, id: i32, fd: c_int, total: usize) {
        let Some(c) = self.conns.get(id) else { return };
        let p = c.partial.as_mut().expect("gather runs on a partial frame");
        let missing = total - p.len();
        p.reserve_exact(missing);
        let len = p.len();
        // SAFETY: reads at most `missing` bytes into the reserved spare capacity; only this frame's rest.
        let n = unsafe { read(fd, p.as_mut_ptr().add(len) as *mut c_void, missing.min(READ_MAX * 4)) };
        if n > 0 {
            // SAFETY: read initialised these n bytes.
            unsafe { p.set_len(len + n as usize) };
            if p.len() == total {
                let whole = c.partial.take().expect("checked above");
                let at = self.arena.len();
                self.arena.extend_from_slice(&whole);
                self.scan_queued(id, at);
            }
        } else {
            self.read_nothing(id, n, if n < 0 { errno() } else { 0 });
        }
    }

    /// Scans `arena[at..]` (this connection's bytes, from a frame boundary): whole frames become
    /// one EV_FRAMES block, a partial tail moves into the record, anything else goes as EV_DATA.
    fn scan_queued(&mut self, id: i32, at: usize) {
        let Some(c) = self.conns.get(id) else { return };
        let (limit, v5) = (c.frame_limit, c.frame_v5);
        let end = self.arena.len() - at;
        let block = self.records_used;
        let room = self.record_room() - 1;
        scan_frames(&self.arena[at..], 0, end, limit, v5, &mut self.records[block..block + HEADER + STRIDE * room]);
        let (count, consumed, error) = (self.records[block] as usize, self.records[block + 1] as usize, self.records[block + 2]);
        if count > 0 {
            // A block is its header's STRIDE slots and one STRIDE per record, as JavaScript walks it.
            self.records_used = block + STRIDE * (count + 1);
            self.push(EV_FRAMES, id, consumed as i32);
        }
        if consumed == end {
            return;
        }
        let c = self.conns.get(id).expect("checked above");
        if error == ERR_NONE && count < room {
            // The start of the next frame: kept here until the rest arrives.
            c.partial = Some(Box::new(self.arena[at + consumed..].to_vec()));
            self.arena.truncate(at + consumed);
            return;
        }
        // A scan error, or no room for more records: JavaScript takes the rest and frames it itself.
        c.frame_limit = 0;
        self.push(EV_DATA, id, (end - consumed) as i32);
    }
}

#[cfg(test)]
mod tests {
    use super::declared_size;

    #[test]
    fn the_declared_size_needs_the_whole_remaining_length() {
        assert_eq!(declared_size(&[0x30]), None);
        assert_eq!(declared_size(&[0x30, 0x05]), Some(7));
        assert_eq!(declared_size(&[0x30, 0x80]), None);
        assert_eq!(declared_size(&[0x30, 0x80, 0x01]), Some(1 + 2 + 128));
        assert_eq!(declared_size(&[0x30, 0xff, 0xff, 0xff, 0x7f]), Some(1 + 4 + 268_435_455));
        assert_eq!(declared_size(&[0x30, 0xff, 0xff, 0xff, 0xff]), None);
    }
}
