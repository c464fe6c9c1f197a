//! Tests of the MQTT frame scanner (scanner.rs): whole and cut packets, the remaining length,
//! --max-packet-size, PUBLISH fields under 3.1.1 and 5, malformed packets, and a full out array.

use super::*;

/// The twin's SCAN_OFFSET: where a record keeps its packet's offset.
const OFFSET: usize = 2;

/// Fills `out` first so a slot the scanner should not have written is caught.
const UNTOUCHED: u32 = 0xdead_beef;
const MAX: u32 = 1 << 20;

fn varint_bytes(mut n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            return out;
        }
    }
}

fn packet(first: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![first];
    p.extend(varint_bytes(body.len() as u32));
    p.extend_from_slice(body);
    p
}

fn ping() -> Vec<u8> {
    packet(0xc0, &[])
}

fn publish(topic: &[u8], qos: u8, pid: u16, payload: &[u8], props: Option<&[u8]>) -> Vec<u8> {
    let mut body = (topic.len() as u16).to_be_bytes().to_vec();
    body.extend_from_slice(topic);
    if qos > 0 {
        body.extend(pid.to_be_bytes());
    }
    if let Some(props) = props {
        body.extend(varint_bytes(props.len() as u32));
        body.extend_from_slice(props);
    }
    body.extend_from_slice(payload);
    packet(0x30 | (qos << 1), &body)
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Scans into an `out` of HEADER + `slots` u32s.
fn scan_with(buf: &[u8], start: usize, end: usize, max: u32, v5: bool, slots: usize) -> Vec<u32> {
    let mut out = vec![UNTOUCHED; HEADER + slots];
    scan_frames(buf, start, end, max, v5, &mut out);
    out
}

fn scan(buf: &[u8], v5: bool) -> Vec<u32> {
    scan_with(buf, 0, buf.len(), MAX, v5, 16 * STRIDE)
}

fn header(out: &[u32]) -> [u32; 4] {
    out[..HEADER].try_into().unwrap()
}

fn record(out: &[u32], i: usize) -> [u32; STRIDE] {
    out[HEADER + i * STRIDE..HEADER + (i + 1) * STRIDE].try_into().unwrap()
}

fn assert_untouched_from(out: &[u32], slot: usize) {
    assert!(out[slot..].iter().all(|&v| v == UNTOUCHED), "slots from {slot} were written: {:?}", &out[slot..]);
}

#[test]
fn reports_every_whole_packet_of_a_chunk_with_its_fields() {
    let sub = packet(0x82, &[0, 1, 0, 1, b'a', 0]);
    let pub0 = publish(b"a/b", 0, 0, &[1, 2, 3], None);
    let pub1 = publish(b"dev/1", 1, 0x1234, &[9], None);
    let bytes = cat(&[&ping(), &sub, &pub0, &pub1]);
    let out = scan(&bytes, false);
    assert_eq!(header(&out), [4, 32, ERR_NONE, 0]);
    assert_eq!(record(&out, 0), [12, 0, 0, 2, 2, 0, 0, 0, 0, 0]);
    assert_eq!(record(&out, 1), [8, 2, 2, 8, 4, 0, 0, 0, 0, 0]);
    // PUBLISH at 10: fixed header 2, topic length 2, topic "a/b" at 14.
    assert_eq!(record(&out, 2), [3, 0, 10, 10, 12, 14, 3, 0, 0, 0]);
    // QoS 1 (flags 2) at 20: topic "dev/1" at 24, then the packet id.
    assert_eq!(record(&out, 3), [3, 2, 20, 12, 22, 24, 5, 0x1234, 0, 0]);
    assert_untouched_from(&out, HEADER + 4 * STRIDE);
}

#[test]
fn a_packet_cut_at_the_chunk_end_is_left_for_the_next_read() {
    let a = publish(b"a", 0, 0, &[1], None);
    let b = publish(b"bbb", 1, 1, &[1, 2, 3, 4], None);
    let whole = cat(&[&a, &b]);
    for cut in a.len() + 1..whole.len() {
        let out = scan(&whole[..cut], false);
        assert_eq!(header(&out), [1, a.len() as u32, ERR_NONE, 0], "cut at {cut}");
        assert_untouched_from(&out, HEADER + STRIDE);
    }
    // The next read resumes at `consumed` and finds the packet at its absolute offset.
    let out = scan_with(&whole, a.len(), whole.len(), MAX, false, STRIDE);
    assert_eq!(header(&out), [1, whole.len() as u32, ERR_NONE, 0]);
    assert_eq!(record(&out, 0)[OFFSET], a.len() as u32);
}

#[test]
fn offsets_are_absolute_and_bytes_past_end_are_ignored() {
    let p = publish(b"x", 0, 0, &[], None);
    let bytes = cat(&[&[0xff, 0xff, 0xff], &p, &p]);
    let end = 3 + p.len();
    let out = scan_with(&bytes, 3, end, MAX, false, 4 * STRIDE);
    assert_eq!(header(&out), [1, end as u32, ERR_NONE, 0]);
    assert_eq!(record(&out, 0), [3, 0, 3, p.len() as u32, 5, 7, 1, 0, 0, 0]);
}

#[test]
fn an_empty_range_consumes_nothing() {
    let bytes = cat(&[&ping(), &ping()]);
    let out = scan_with(&bytes, 2, 2, MAX, false, STRIDE);
    assert_eq!(header(&out), [0, 2, ERR_NONE, 0]);
}

#[test]
fn remaining_length_takes_one_to_four_bytes() {
    for (remaining, len_bytes) in
        [(0u32, 1u32), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (2_097_151, 3), (2_097_152, 4)]
    {
        let p = packet(0x20, &vec![0; remaining as usize]);
        assert_eq!(p.len() as u32, 1 + len_bytes + remaining);
        let out = scan_with(&p, 0, p.len(), 1 << 22, false, STRIDE);
        assert_eq!(header(&out), [1, p.len() as u32, ERR_NONE, 0], "remaining {remaining}");
        assert_eq!(record(&out, 0)[..5], [2, 0, 0, p.len() as u32, 1 + len_bytes], "remaining {remaining}");
    }
}

#[test]
fn the_largest_four_byte_remaining_length_decodes_without_its_body() {
    let out = scan(&[0x30, 0xff, 0xff, 0xff, 0x7f], false);
    assert_eq!(header(&out), [0, 0, ERR_TOO_LARGE, 1 + 4 + 268_435_455]);
}

#[test]
fn remaining_length_waits_for_up_to_four_bytes_and_rejects_a_fifth() {
    for partial in [&[0x30][..], &[0x30, 0x80], &[0x30, 0x80, 0x80], &[0x30, 0x80, 0x80, 0x80]] {
        let bytes = cat(&[&ping(), partial]);
        assert_eq!(header(&scan(&bytes, false)), [1, 2, ERR_NONE, 0], "{partial:?}");
    }
    // Four continuation bytes are an error whether or not a fifth byte has arrived.
    for bad in [&[0x30, 0x80, 0x80, 0x80, 0x80][..], &[0x30, 0x80, 0x80, 0x80, 0x80, 0x01]] {
        let bytes = cat(&[&ping(), bad]);
        let out = scan(&bytes, false);
        assert_eq!(header(&out), [1, 2, ERR_REMAINING_LENGTH, 2], "{bad:?}");
        assert_untouched_from(&out, HEADER + STRIDE);
    }
}

#[test]
fn max_packet_size_counts_the_fixed_header() {
    let p = packet(0x20, &[0; 10]);
    assert_eq!(header(&scan_with(&p, 0, p.len(), 12, false, STRIDE)), [1, 12, ERR_NONE, 0]);
    assert_eq!(header(&scan_with(&p, 0, p.len(), 11, false, STRIDE)), [0, 0, ERR_TOO_LARGE, 12]);
}

#[test]
fn max_packet_size_is_enforced_before_the_body_arrives() {
    // Only the fixed header of a 1003-byte packet: the caller must not buffer the rest.
    let mut bytes = ping();
    bytes.push(0x30);
    bytes.extend(varint_bytes(1000));
    let out = scan_with(&bytes, 0, bytes.len(), 500, false, 4 * STRIDE);
    assert_eq!(header(&out), [1, 2, ERR_TOO_LARGE, 1003]);
    assert_untouched_from(&out, HEADER + STRIDE);
}

#[test]
fn publish_3_1_1_reports_a_packet_id_for_every_qos_above_0() {
    let payload = [0x01, 0x02, 0x03];
    for (qos, pid, flags) in [(0u8, 0u32, 0u32), (1, 0x0102, 2), (2, 0xfffe, 4), (3, 0x0a0b, 6)] {
        let p = publish(b"t/u", qos, pid as u16, &payload, None);
        let out = scan(&p, false);
        assert_eq!(header(&out), [1, p.len() as u32, ERR_NONE, 0], "qos {qos}");
        // 3.1.1 has no properties: the payload's first byte is not a property length.
        assert_eq!(record(&out, 0), [3, flags, 0, p.len() as u32, 2, 4, 3, pid, 0, 0], "qos {qos}");
    }
}

#[test]
fn publish_with_an_empty_topic_is_well_formed() {
    // MQTT 5 sends an empty topic with a topic alias; the scanner leaves that check to the decoder.
    let p = publish(b"", 0, 0, &[7], Some(&[0x23, 0x00, 0x01]));
    let out = scan(&p, true);
    assert_eq!(record(&out, 0), [3, 0, 0, p.len() as u32, 2, 4, 0, 0, 5, 3]);
}

#[test]
fn publish_5_reports_the_properties_after_their_length() {
    let p = publish(b"ab", 1, 7, &[0xaa], Some(&[0x01, 0x01]));
    // topic "ab" at 4, packet id at 6, property length at 8, properties at 9.
    assert_eq!(record(&scan(&p, true), 0), [3, 2, 0, p.len() as u32, 2, 4, 2, 7, 9, 2]);

    let p = publish(b"ab", 0, 0, &[0xaa], Some(&[]));
    assert_eq!(record(&scan(&p, true), 0), [3, 0, 0, p.len() as u32, 2, 4, 2, 0, 7, 0]);

    // 200 bytes of properties take a 2-byte length; the body then needs a 2-byte remaining length.
    let props = vec![0x26; 200];
    let p = publish(b"ab", 0, 0, &[], Some(&props));
    assert_eq!(record(&scan(&p, true), 0), [3, 0, 0, p.len() as u32, 3, 5, 2, 0, 9, 200]);
}

#[test]
fn packets_other_than_publish_carry_no_publish_fields_under_5() {
    let p = packet(0x82, &[0, 1, 0, 0, 1, b'a', 0]);
    assert_eq!(record(&scan(&p, true), 0), [8, 2, 0, p.len() as u32, 2, 0, 0, 0, 0, 0]);
}

#[test]
fn malformed_publish_is_reported_at_its_offset_after_the_good_packets() {
    let cases: [(&str, &[u8], bool); 8] = [
        ("topic length cut", &[0x30, 1, 0], false),
        ("topic past the end", &[0x30, 4, 0, 10, 1, 2], false),
        ("no packet id", &[0x32, 3, 0, 1, b'a'], false),
        ("half a packet id", &[0x34, 4, 0, 1, b'a', 0], false),
        ("QoS 3 without packet id", &[0x36, 3, 0, 1, b'a'], false),
        ("property length cut", &[0x30, 4, 0, 1, b'a', 0x80], true),
        ("property length of 5 bytes", &[0x30, 8, 0, 1, b'a', 0x80, 0x80, 0x80, 0x80, 0x01], true),
        ("properties past the end", &[0x30, 5, 0, 1, b'a', 3, 0x01], true),
    ];
    for (what, bad, v5) in cases {
        let bytes = cat(&[&ping(), bad, &ping()]);
        let out = scan(&bytes, v5);
        assert_eq!(header(&out), [1, 2, ERR_MALFORMED_PUBLISH, 2], "{what}");
        assert_untouched_from(&out, HEADER + STRIDE);
    }
}

#[test]
fn a_publish_that_is_malformed_under_5_can_be_valid_under_3_1_1() {
    // After the topic, 0x80 is the payload in 3.1.1 but an unterminated property length in 5.
    let bytes = [0x30, 4, 0, 1, b'a', 0x80];
    assert_eq!(header(&scan(&bytes, false)), [1, 6, ERR_NONE, 0]);
    assert_eq!(header(&scan(&bytes, true)), [0, 0, ERR_MALFORMED_PUBLISH, 0]);
}

#[test]
fn publish_fields_never_reach_into_the_next_packet() {
    // Each PUBLISH claims bytes that are present in the chunk but belong to the PINGREQ after it.
    let cases: [(&str, &[u8], bool); 3] = [
        ("topic", &[0x30, 3, 0, 3, b'a'], false),
        ("packet id", &[0x32, 3, 0, 1, b'a'], false),
        ("properties", &[0x30, 5, 0, 1, b'a', 2, 0x01], true),
    ];
    for (what, bad, v5) in cases {
        let bytes = cat(&[bad, &ping(), &ping()]);
        assert_eq!(header(&scan(&bytes, v5)), [0, 0, ERR_MALFORMED_PUBLISH, 0], "{what}");
    }
}

#[test]
fn a_full_out_array_stops_before_the_next_packet() {
    let bytes = cat(&[&ping(), &ping(), &ping()]);
    // Two whole records and a partial one: the partial slots are never written.
    let out = scan_with(&bytes, 0, bytes.len(), MAX, false, 2 * STRIDE + STRIDE - 1);
    assert_eq!(header(&out), [2, 4, ERR_NONE, 0]);
    assert_eq!(record(&out, 1)[..4], [12, 0, 2, 2]);
    assert_untouched_from(&out, HEADER + 2 * STRIDE);
}

#[test]
fn an_out_array_without_record_room_reports_no_error_either() {
    // As the twin: capacity is checked before the packet is looked at, so a malformed packet
    // that does not fit is found by the next call, not this one.
    let bytes = cat(&[&ping(), &[0x30, 0x80, 0x80, 0x80, 0x80]]);
    assert_eq!(header(&scan_with(&bytes, 0, bytes.len(), MAX, false, 0)), [0, 0, ERR_NONE, 0]);
    assert_eq!(header(&scan_with(&bytes, 0, bytes.len(), MAX, false, STRIDE)), [1, 2, ERR_NONE, 0]);
    assert_eq!(header(&scan_with(&bytes, 2, bytes.len(), MAX, false, STRIDE)), [0, 2, ERR_REMAINING_LENGTH, 2]);
}
