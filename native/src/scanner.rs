//! MQTT frame scanner: finds every complete packet in a byte range in one pass and describes each
//! in a flat u32 table (no allocation, no object per packet). Same contract as the TypeScript twin
//! src/protocols/mqtt/codec/scanner.ts.

/// u32 slots before the first packet record: count, consumed, error, error detail.
pub const HEADER: usize = 4;
/// u32 slots per packet record.
pub const STRIDE: usize = 10;

pub const ERR_NONE: u32 = 0;
/// More than 4 remaining-length bytes.
pub const ERR_REMAINING_LENGTH: u32 = 1;
/// Total packet size above the maximum.
pub const ERR_TOO_LARGE: u32 = 2;
/// PUBLISH whose topic, packet id or property length runs past the packet.
pub const ERR_MALFORMED_PUBLISH: u32 = 3;

const PUBLISH: u8 = 3;

enum Varint {
    Value(u32, usize),
    Incomplete,
    TooLong,
}

/// Reads an MQTT variable byte integer at `pos`, never past `limit`.
fn varint(buf: &[u8], pos: usize, limit: usize) -> Varint {
    let mut value = 0u32;
    for i in 0..4 {
        let p = pos + i;
        if p >= limit {
            return Varint::Incomplete;
        }
        let b = buf[p];
        value |= ((b & 0x7f) as u32) << (7 * i);
        if b & 0x80 == 0 {
            return Varint::Value(value, i + 1);
        }
    }
    Varint::TooLong
}

/// The PUBLISH fields of one record: topic offset/length, packet id, properties offset/length.
fn publish_fields(buf: &[u8], flags: u8, vh: usize, packet_end: usize, v5: bool) -> Option<[u32; 5]> {
    if vh + 2 > packet_end {
        return None;
    }
    let topic_len = u16::from_be_bytes([buf[vh], buf[vh + 1]]) as usize;
    let topic_off = vh + 2;
    let mut p = topic_off + topic_len;
    if p > packet_end {
        return None;
    }
    let mut packet_id = 0u32;
    if (flags >> 1) & 3 != 0 {
        if p + 2 > packet_end {
            return None;
        }
        packet_id = u16::from_be_bytes([buf[p], buf[p + 1]]) as u32;
        p += 2;
    }
    let (mut props_off, mut props_len) = (0u32, 0u32);
    if v5 {
        match varint(buf, p, packet_end) {
            Varint::Value(len, n) => {
                if p + n + len as usize > packet_end {
                    return None;
                }
                props_off = (p + n) as u32;
                props_len = len;
            }
            Varint::Incomplete | Varint::TooLong => return None,
        }
    }
    Some([topic_off as u32, topic_len as u32, packet_id, props_off, props_len])
}

/// Scans `buf[start..end)` and fills `out` (header, then one record per complete packet).
/// `out` must hold at least HEADER slots; `end <= buf.len()` must hold (checked by caller).
pub fn scan_frames(buf: &[u8], start: usize, end: usize, max_packet_size: u32, v5: bool, out: &mut [u32]) {
    let (header, records) = out.split_at_mut(HEADER);
    // Whole records only; chunks_exact_mut lets the writes below go without bounds checks.
    let mut slots = records.chunks_exact_mut(STRIDE);
    let buf = &buf[..end];
    let mut pos = start;
    let mut count = 0u32;
    let mut error = ERR_NONE;
    let mut detail = 0u32;
    while pos < end {
        let Some(r) = slots.next() else { break };
        let (remaining, len_bytes) = match varint(buf, pos + 1, end) {
            Varint::Value(v, n) => (v, n),
            Varint::Incomplete => break,
            Varint::TooLong => {
                error = ERR_REMAINING_LENGTH;
                detail = pos as u32;
                break;
            }
        };
        let total = 1 + len_bytes as u32 + remaining;
        if total > max_packet_size {
            error = ERR_TOO_LARGE;
            detail = total;
            break;
        }
        let packet_end = pos + total as usize;
        if packet_end > end {
            break;
        }
        let first = buf[pos];
        let kind = first >> 4;
        let flags = first & 0x0f;
        let vh = pos + 1 + len_bytes;
        let fields = if kind == PUBLISH {
            match publish_fields(&buf[..packet_end], flags, vh, packet_end, v5) {
                Some(f) => f,
                None => {
                    error = ERR_MALFORMED_PUBLISH;
                    detail = pos as u32;
                    break;
                }
            }
        } else {
            [0; 5]
        };
        r[0] = kind as u32;
        r[1] = flags as u32;
        r[2] = pos as u32;
        r[3] = total;
        r[4] = vh as u32;
        r[5..10].copy_from_slice(&fields);
        count += 1;
        pos = packet_end;
    }
    header[0] = count;
    header[1] = pos as u32;
    header[2] = error;
    header[3] = detail;
}

#[cfg(test)]
#[path = "scanner_tests.rs"]
mod tests;
