//! MQTT framing in the read path (frames.rs) against real sockets: whole frames with their scan
//! records, a partial frame kept until its rest arrives, a large frame gathered, and plain bytes
//! with framing off after a scan error or when the poll's records run out.

use super::*;
use crate::scanner::{HEADER, STRIDE};

/// A PUBLISH (QoS 0, 3.1.1) of `payload` bytes on `topic`.
fn publish(topic: &[u8], payload: usize) -> Vec<u8> {
    let body = 2 + topic.len() + payload;
    let mut p = vec![0x30];
    let mut n = body;
    loop {
        let b = (n % 128) as u8;
        n /= 128;
        p.push(if n > 0 { b | 0x80 } else { b });
        if n == 0 {
            break;
        }
    }
    p.extend((topic.len() as u16).to_be_bytes());
    p.extend_from_slice(topic);
    p.extend((0..payload).map(|i| i as u8));
    p
}

/// (type, offset, length) of each record of an EV_FRAMES block.
fn frames_of(e: &Ev) -> Vec<(u32, u32, u32)> {
    let count = e.records[0] as usize;
    (0..count).map(|i| {
        let r = &e.records[HEADER + i * STRIDE..];
        (r[0], r[2], r[3])
    }).collect()
}

fn framed(s: &mut Server, peer: &mut TcpStream, limit: u32) -> i32 {
    let id = opened(s, peer);
    s.frame(id, limit, false);
    id
}

#[test]
fn whole_frames_arrive_with_their_records_and_a_partial_one_waits_for_its_rest() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = framed(&mut s, &mut peer, 1 << 20);
    let (a, b, c) = (publish(b"t/a", 10), publish(b"t/b", 300), publish(b"t/c", 50));
    let mut first = [a.as_slice(), b.as_slice()].concat();
    first.extend_from_slice(&c[..7]);
    peer.write_all(&first).unwrap();
    let mut seen = Vec::new();
    poll_until(&mut s, &mut seen, has(EV_FRAMES));
    assert_eq!(seen.len(), 1, "{seen:?}");
    let e = &seen[0];
    assert_eq!((e.kind, e.id, e.arg as usize), (EV_FRAMES, id, a.len() + b.len()));
    assert_eq!(e.bytes, [a.as_slice(), b.as_slice()].concat());
    assert_eq!(frames_of(e), vec![(3, 0, a.len() as u32), (3, a.len() as u32, b.len() as u32)]);
    assert_eq!(s.conns.get(id).unwrap().partial.as_ref().map(|p| p.len()), Some(7), "the start of the third frame stays here");
    peer.write_all(&c[7..]).unwrap();
    let mut more = Vec::new();
    poll_until(&mut s, &mut more, has(EV_FRAMES));
    assert_eq!(more[0].bytes, c);
    assert_eq!(frames_of(&more[0]), vec![(3, 0, c.len() as u32)]);
    assert!(s.conns.get(id).unwrap().partial.is_none(), "nothing held once the frame is whole");
}

#[test]
fn a_large_frame_is_gathered_apart_and_handed_over_whole() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = framed(&mut s, &mut peer, 1 << 22);
    let big = publish(b"big", 1_500_000);
    let after = publish(b"after", 3);
    let mut seen = Vec::new();
    let mut sent = 0;
    // In pieces, polling between them: most of it is read into the frame's own buffer.
    for piece in big.chunks(100_000) {
        peer.write_all(piece).unwrap();
        sent += piece.len();
        if sent < big.len() {
            poll_until(&mut s, &mut seen, |_| true);
        }
    }
    peer.write_all(&after).unwrap();
    poll_until(&mut s, &mut seen, |evs| evs.iter().filter(|e| e.kind == EV_FRAMES).map(|e| e.records[0]).sum::<u32>() == 2);
    let frames: Vec<&Ev> = seen.iter().filter(|e| e.kind == EV_FRAMES).collect();
    assert_eq!(frames[0].bytes.len(), big.len());
    assert!(frames[0].bytes == big, "the large frame arrives intact");
    assert_eq!(frames_of(frames[0]), vec![(3, 0, big.len() as u32)]);
    assert_eq!(frames.last().unwrap().bytes, after);
    assert!(seen.iter().all(|e| e.kind == EV_FRAMES && e.id == id), "{:?}", seen.iter().map(|e| e.kind).collect::<Vec<_>>());
}

#[test]
fn a_frame_above_the_limit_goes_to_javascript_as_bytes_and_framing_stops() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = framed(&mut s, &mut peer, 100);
    let ok = publish(b"t", 5);
    let huge = publish(b"t", 500);
    peer.write_all(&[ok.as_slice(), &huge[..50]].concat()).unwrap();
    let mut seen = Vec::new();
    poll_until(&mut s, &mut seen, has(EV_DATA));
    assert_eq!(seen.iter().map(|e| e.kind).collect::<Vec<_>>(), vec![EV_FRAMES, EV_DATA]);
    assert_eq!(seen[0].bytes, ok);
    assert_eq!(seen[1].bytes, &huge[..50], "from the frame boundary on, for JavaScript's own scan to refuse");
    assert_eq!(s.conns.get(id).unwrap().frame_limit, 0);
    peer.write_all(&huge[50..60]).unwrap();
    let mut later = Vec::new();
    poll_until(&mut s, &mut later, has(EV_DATA));
    assert_eq!(later[0].bytes, &huge[50..60], "plain bytes from then on");
}

#[test]
fn more_frames_than_the_poll_can_describe_go_on_as_bytes() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = framed(&mut s, &mut peer, 1 << 20);
    // 12,000 PINGREQs in one write: more records than one poll holds.
    let pings: Vec<u8> = std::iter::repeat([0xc0u8, 0x00]).take(12_000).flatten().collect();
    peer.write_all(&pings).unwrap();
    let mut seen = Vec::new();
    poll_until(&mut s, &mut seen, |evs| evs.iter().map(|e| e.bytes.len()).sum::<usize>() == pings.len());
    let kinds: Vec<i32> = seen.iter().map(|e| e.kind).collect();
    assert_eq!(kinds[0], EV_FRAMES);
    assert!(kinds.contains(&EV_DATA), "{kinds:?}");
    let framed_count = seen[0].records[0] as usize;
    assert!(framed_count > 1000 && framed_count < 12_000, "{framed_count}");
    assert_eq!(seen[0].bytes.len(), 2 * framed_count);
    let all: Vec<u8> = seen.iter().flat_map(|e| e.bytes.clone()).collect();
    assert_eq!(all, pings, "every byte once, in order");
    assert_eq!(s.conns.get(id).unwrap().frame_limit, 0, "JavaScript frames the rest, and asks again once it holds nothing");
}

#[test]
fn a_partial_frame_is_dropped_with_its_connection() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = framed(&mut s, &mut peer, 1 << 20);
    peer.write_all(&publish(b"t", 100)[..20]).unwrap();
    let mut seen = Vec::new();
    poll_until(&mut s, &mut seen, |_| true);
    for _ in 0..20 {
        if s.conns.get(id).is_some_and(|c| c.partial.is_some()) {
            break;
        }
        poll_until(&mut s, &mut seen, |_| true);
    }
    assert!(s.conns.get(id).unwrap().partial.is_some());
    drop(peer);
    poll_until(&mut s, &mut seen, has(EV_CLOSE));
    assert!(seen.iter().all(|e| e.kind != EV_FRAMES));
    assert_eq!(s.conns.open, 0);
}
