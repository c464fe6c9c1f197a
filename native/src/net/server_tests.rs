//! The listener against real sockets on 127.0.0.1 (std's TcpStream as the peer).

use super::*;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::time::Duration;

pub(super) fn options() -> Options {
    Options {
        ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        port: 0,
        backlog: 128,
        reuse_port: false,
        max_connections: 1000,
        open_total: Rc::new(Cell::new(0)),
        announce_after_ms: 10_000,
        accept_rate: 0.0,
    }
}

/// One JavaScript event as the binding would hand it, with its bytes.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Ev {
    pub(super) kind: i32,
    pub(super) id: i32,
    pub(super) arg: i32,
    pub(super) bytes: Vec<u8>,
    /// EV_FRAMES: its block of scan records (header slots, then one record per frame).
    pub(super) records: Vec<u32>,
}

/// Polls once, then until `done` holds for the events seen so far (5 s at most).
pub(super) fn poll_until(s: &mut Server, seen: &mut Vec<Ev>, done: impl Fn(&[Ev]) -> bool) {
    let until = Instant::now() + Duration::from_secs(5);
    loop {
        assert!(Instant::now() < until, "timed out; events so far: {seen:?}");
        s.poll();
        let (mut at, mut block) = (0usize, 0usize);
        for e in s.events.chunks(EVENT_STRIDE) {
            let bytes = if e[0] == EV_DATA || e[0] == EV_OPEN || e[0] == EV_FRAMES {
                let b = s.arena[at..at + e[2] as usize].to_vec();
                at += e[2] as usize;
                b
            } else {
                Vec::new()
            };
            let mut records = Vec::new();
            if e[0] == EV_FRAMES {
                let len = crate::scanner::STRIDE * (s.records[block] as usize + 1);
                records = s.records[block..block + len].to_vec();
                block += len;
            }
            seen.push(Ev { kind: e[0], id: e[1], arg: e[2], bytes, records });
        }
        s.batch_done();
        if done(seen) {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

pub(super) fn has(kind: i32) -> impl Fn(&[Ev]) -> bool {
    move |evs| evs.iter().any(|e| e.kind == kind)
}

#[test]
fn a_connection_is_announced_by_its_first_bytes_and_its_close_is_reported() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let mut seen = Vec::new();
    // Accepted but silent: JavaScript hears nothing.
    poll_until(&mut s, &mut seen, |_| true);
    for _ in 0..20 {
        s.poll();
        assert_eq!(s.event_count(), 0);
        s.batch_done();
    }
    assert_eq!(s.conns.open, 1);
    peer.write_all(b"\x10\x02ab").unwrap();
    poll_until(&mut s, &mut seen, has(EV_OPEN));
    let open = seen[0].clone();
    assert_eq!((open.kind, open.bytes.as_slice()), (EV_OPEN, &b"\x10\x02ab"[..]));
    let peer_addr = s.peer(open.id).unwrap();
    assert_eq!(peer_addr.address(), "127.0.0.1");
    assert_eq!(peer_addr.port, peer.local_addr().unwrap().port());
    peer.write_all(b"more").unwrap();
    poll_until(&mut s, &mut seen, has(EV_DATA));
    assert_eq!(seen[1], Ev { kind: EV_DATA, id: open.id, arg: 4, bytes: b"more".to_vec(), records: vec![] });
    drop(peer);
    poll_until(&mut s, &mut seen, has(EV_CLOSE));
    assert_eq!(seen[2], Ev { kind: EV_CLOSE, id: open.id, arg: 0, bytes: vec![], records: vec![] });
    assert_eq!(s.conns.open, 0);
    assert!(s.conns.get(open.id).is_none(), "a closed id reaches no connection");
    assert_eq!(s.peer(open.id).map(|p| p.port), Some(peer_addr.port), "its peer is still told until the slot is reused");
}

pub(super) fn opened(s: &mut Server, peer: &mut TcpStream) -> i32 {
    peer.write_all(b"hi").unwrap();
    let mut seen = Vec::new();
    poll_until(s, &mut seen, has(EV_OPEN));
    seen[0].id
}

#[test]
fn accepted_sockets_have_nagle_off_from_the_listener() {
    extern "C" {
        fn getsockopt(fd: c_int, level: c_int, name: c_int, value: *mut c_void, len: *mut socklen_t) -> c_int;
    }
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = opened(&mut s, &mut peer);
    let fd = s.conns.get(id).unwrap().fd;
    let mut on: c_int = 0;
    let mut len: socklen_t = 4;
    // SAFETY: getsockopt writes at most `len` bytes into `on`.
    assert_eq!(unsafe { getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &mut on as *mut c_int as *mut c_void, &mut len) }, 0);
    assert_eq!(on, 1, "TCP_NODELAY, set on the listener, is inherited: small replies are not held back by Nagle");
}

#[test]
fn writes_go_out_in_order_and_what_the_socket_does_not_take_waits_for_a_drain() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = opened(&mut s, &mut peer);
    assert_eq!(s.write(id, &[b"ab", b"", b"cd"]), Ok(0));
    let mut got = [0u8; 4];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"abcd");
    // 32 MiB to a peer that reads nothing yet: the kernel takes some, the rest waits here.
    let big: Vec<u8> = (0..32 << 20).map(|i| (i % 251) as u8).collect();
    let pending = s.write(id, &[&big[..16 << 20], &big[16 << 20..]]).unwrap();
    assert!(pending > 0 && pending < big.len(), "pending {pending}");
    assert_eq!(s.write(id, &[b"tail"]), Ok(pending + 4), "later writes queue behind");
    let reader = std::thread::spawn(move || {
        let mut all = vec![0u8; (32 << 20) + 4];
        peer.read_exact(&mut all).unwrap();
        all
    });
    let mut seen = Vec::new();
    poll_until(&mut s, &mut seen, has(EV_DRAIN));
    let all = reader.join().unwrap();
    assert!(all[..big.len()] == big[..], "bytes arrive in order");
    assert_eq!(&all[big.len()..], b"tail");
}

#[test]
fn end_sends_what_was_written_then_fin_and_closes_when_the_peer_closes() {
    let mut s = Server::open(&options()).unwrap();
    let mut peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = opened(&mut s, &mut peer);
    s.write(id, &[b"bye"]).unwrap();
    s.end(id);
    assert_eq!(s.write(id, &[b"ignored"]), Ok(0), "nothing is written after end");
    let mut got = Vec::new();
    peer.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"bye");
    drop(peer);
    let mut seen = Vec::new();
    poll_until(&mut s, &mut seen, has(EV_CLOSE));
    assert_eq!(seen.last().unwrap().id, id);
}

#[test]
fn destroy_closes_at_once_and_the_old_id_reaches_nothing() {
    let mut s = Server::open(&options()).unwrap();
    let mut a = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id = opened(&mut s, &mut a);
    s.destroy(id);
    let mut got = Vec::new();
    assert!(a.read_to_end(&mut got).is_ok_and(|n| n == 0) || got.is_empty());
    let mut b = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let id_b = opened(&mut s, &mut b);
    assert_ne!(id, id_b);
    assert_eq!(s.write(id, &[b"for a"]), Ok(0));
    s.destroy(id);
    assert_eq!(s.write(id_b, &[b"for b"]), Ok(0));
    let mut five = [0u8; 5];
    b.read_exact(&mut five).unwrap();
    assert_eq!(&five, b"for b");
}

#[test]
fn connections_above_max_connections_are_closed_when_accepted() {
    let mut s = Server::open(&Options { max_connections: 1, ..options() }).unwrap();
    let mut a = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let _ = opened(&mut s, &mut a);
    let mut b = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    b.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut seen = Vec::new();
    let until = Instant::now() + Duration::from_secs(5);
    while s.conns.open == 1 && Instant::now() < until {
        poll_until(&mut s, &mut seen, |_| true);
        let mut buf = [0u8; 1];
        b.set_nonblocking(true).unwrap();
        if let Ok(0) = b.read(&mut buf) {
            break;
        }
        b.set_nonblocking(false).unwrap();
    }
    b.set_nonblocking(false).unwrap();
    let mut buf = [0u8; 1];
    assert!(matches!(b.read(&mut buf), Ok(0) | Err(_)), "the second connection is closed");
    assert_eq!(s.conns.open, 1);
}

#[test]
fn a_connection_silent_since_accept_is_handed_to_javascript_with_its_age() {
    let mut s = Server::open(&Options { announce_after_ms: 500, ..options() }).unwrap();
    let _peer = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let mut seen = Vec::new();
    poll_until(&mut s, &mut seen, has(EV_OPEN_SILENT));
    let e = &seen[0];
    assert_eq!((e.kind, e.bytes.len()), (EV_OPEN_SILENT, 0));
    assert!(e.arg >= 500, "announced after {} ms", e.arg);
    assert_eq!(s.write(e.id, &[b"ERROR"]), Ok(0), "the link is usable: the protocol can say why it closes");
}

#[test]
fn max_connections_counts_every_listener_sharing_the_total() {
    let total = Rc::new(Cell::new(0));
    let mut a = Server::open(&Options { max_connections: 1, open_total: total.clone(), ..options() }).unwrap();
    let mut b = Server::open(&Options { max_connections: 1, open_total: total.clone(), ..options() }).unwrap();
    let mut one = TcpStream::connect(("127.0.0.1", a.port)).unwrap();
    let _ = opened(&mut a, &mut one);
    let mut two = TcpStream::connect(("127.0.0.1", b.port)).unwrap();
    let mut seen = Vec::new();
    poll_until(&mut b, &mut seen, has(EV_REFUSED));
    let mut buf = [0u8; 1];
    assert!(matches!(two.read(&mut buf), Ok(0) | Err(_)), "refused at accept");
    assert_eq!((b.conns.open, total.get()), (0, 1));
}

#[test]
fn reuse_port_lets_two_listeners_share_a_port() {
    let a = Server::open(&Options { reuse_port: true, ..options() }).unwrap();
    let b = Server::open(&Options { reuse_port: true, port: a.port, ..options() }).unwrap();
    assert_eq!(a.port, b.port);
    let err = Server::open(&Options { port: a.port, ..options() }).err().expect("without SO_REUSEPORT the port is taken");
    assert_eq!((err.call, err.errno), ("bind", 98));
}

#[test]
fn interleaved_segments_reach_each_connection_in_their_order() {
    let mut s = Server::open(&options()).unwrap();
    let mut a = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let ida = opened(&mut s, &mut a);
    let mut b = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    let idb = opened(&mut s, &mut b);
    let arena = b"a1b1a2b2a3";
    let mut out = [0i32; 8];
    let pairs = s.write_segments(arena, &[ida, idb, ida, idb, ida], &[2, 2, 2, 2, 2], &mut out);
    assert_eq!(pairs, 0, "nothing left pending");
    let mut got = [0u8; 6];
    a.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"a1a2a3");
    let mut got = [0u8; 4];
    b.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"b1b2");
    // Lengths past the arena are not read.
    assert_eq!(s.write_segments(b"xy", &[ida, ida], &[2, 5], &mut out), 0);
    let mut got = [0u8; 2];
    a.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"xy");
}

#[path = "frames_tests.rs"]
mod frames_tests;
