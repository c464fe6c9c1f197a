//! One native listener and its connections: epoll readiness, accept4, reads into one arena per
//! poll, writev, partial writes kept until the socket is writable, half-close, the first-byte
//! and end deadlines, the accept-rate gate and the descriptor limit. No JavaScript here: the
//! binding (bind_tcp.rs) calls `poll` when libuv says the epoll descriptor is readable and hands
//! `arena` and `events` to JavaScript.
//!
//! Threads: everything runs on Node's main thread (libuv calls back there; JavaScript calls in
//! there), so there is no locking.
//!
//! The methods are split by concept: accepting and the sweep in accept.rs, readiness and reads in
//! read.rs, writes and half-close in write.rs; this file holds the state, opening and the poll loop.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::rc::Rc;
use std::net::IpAddr;
use std::time::Instant;

use super::addr::{sockaddr, Peer};
use super::conns::{Conns, State};
use super::gate::Gate;
use super::outbuf::OutBuf;
use super::sys::*;

#[path = "accept.rs"]
mod accept;
#[path = "read.rs"]
mod read;
#[path = "write.rs"]
mod write;
#[path = "frames.rs"]
mod frames;
pub use frames::RECORD_SLOTS;

/// Event kinds, as JavaScript reads them: [kind, id, arg] triples.
pub const EV_DATA: i32 = 1;
/// The first bytes of a connection: JavaScript makes its link now.
pub const EV_OPEN: i32 = 2;
/// The connection closed; arg = errno (0: the peer closed, or our end completed).
pub const EV_CLOSE: i32 = 3;
/// Everything written has left; arg unused.
pub const EV_DRAIN: i32 = 4;
/// Accepting failed (arg = errno): the listener stops accepting and retries in a second.
pub const EV_LISTEN_ERROR: i32 = 5;
/// The accept-rate gate paused the listener for arg ms.
pub const EV_GATE_PAUSED: i32 = 6;
/// A connection silent since accept for arg ms: JavaScript makes its link now, so the protocol's
/// own login deadline (and what it says then) applies, counted from the accept.
pub const EV_OPEN_SILENT: i32 = 7;
/// A connection was closed at accept: --max-connections (shared by every native listener) reached.
pub const EV_REFUSED: i32 = 8;
/// Whole MQTT frames of a framed connection (frames.rs): arg = their bytes; their scan records
/// are the next block of the records array (a header of STRIDE slots, then one record each).
pub const EV_FRAMES: i32 = 9;
/// Slots per event.
pub const EVENT_STRIDE: usize = 3;

/// epoll events handled per poll: each gives at most two JavaScript events.
const MAX_EPOLL_EVENTS: usize = 256;
/// Connections accepted per poll at most (more wait for the next loop iteration).
const ACCEPT_BATCH: usize = 256;
/// Connections the second's sweep closes at most per poll.
const SWEEP_BATCH: usize = 1024;
/// Most JavaScript events one poll produces: what the JavaScript array must hold.
pub const MAX_BATCH_EVENTS: usize = 2 * MAX_EPOLL_EVENTS + SWEEP_BATCH + 8;
const ARENA_BYTES: usize = 512 * 1024;
const READ_MAX: usize = 64 * 1024;
/// A read waits for the next poll when less room is left in the arena.
const MIN_READ_ROOM: usize = 16 * 1024;
/// After our FIN, the peer has this long to close before the descriptor is closed anyway
/// (as node:net's link.end() destroys after 2 s).
const END_GRACE_MS: u32 = 2000;
const IOV_BATCH: usize = 64;

const LISTEN_TOKEN: u64 = u64::MAX;
const SWEEP_TOKEN: u64 = u64::MAX - 1;
const GATE_TOKEN: u64 = u64::MAX - 2;

/// How to open a listener.
pub struct Options {
    pub ip: IpAddr,
    pub port: u16,
    pub backlog: i32,
    /// SO_REUSEPORT: several processes accept on one port, the kernel spreading connections.
    pub reuse_port: bool,
    /// Connections above this (counted in `open_total`) are closed as soon as accepted.
    pub max_connections: u32,
    /// Descriptors open in every listener sharing --max-connections.
    pub open_total: Rc<Cell<u32>>,
    /// A connection that sends nothing for this long is handed to JavaScript anyway (EV_OPEN_SILENT).
    pub announce_after_ms: u32,
    /// Connections accepted per second; 0 = no gate.
    pub accept_rate: f64,
}

/// A listener, its epoll descriptor and its connections.
pub struct Server {
    epfd: c_int,
    listen_fd: c_int,
    sweep_fd: c_int,
    gate_fd: c_int,
    pub conns: Conns,
    max_connections: u32,
    announce_after_ms: u32,
    gate: Option<Gate>,
    accepting: bool,
    retry_accept: bool,
    clock: Instant,
    /// The bytes read in this poll, in event order.
    pub arena: Vec<u8>,
    /// [kind, id, arg] triples of this poll.
    pub events: Vec<i32>,
    /// Scan records of this poll's EV_FRAMES events, block after block (frames.rs): RECORD_SLOTS
    /// long from the start (the scanner writes into it, nothing is zeroed per read), the first
    /// `records_used` of them this poll's.
    pub records: Vec<u32>,
    pub records_used: usize,
    ready: Vec<epoll_event>,
    // write_segments' reused buffers: segment offsets, the chain of each connection's segments,
    // the first segment of each connection, and per slot (stamp, first, last) of this call.
    scratch_offsets: Vec<(usize, usize)>,
    scratch_next: Vec<u32>,
    scratch_heads: Vec<u32>,
    scratch_by_slot: Vec<(u32, u32, u32)>,
    stamp: u32,
    pub port: u16,
}

/// A failed system call while opening: its name and errno.
#[derive(Debug)]
pub struct OpenError {
    pub call: &'static str,
    pub errno: i32,
}

fn check(r: c_int, call: &'static str) -> Result<c_int, OpenError> {
    if r < 0 {
        Err(OpenError { call, errno: errno() })
    } else {
        Ok(r)
    }
}

fn set_int(fd: c_int, level: c_int, name: c_int, value: c_int) -> c_int {
    // SAFETY: setsockopt reads sizeof(int) bytes from a live local.
    unsafe { setsockopt(fd, level, name, &value as *const c_int as *const c_void, 4) }
}

fn epoll_op(epfd: c_int, op: c_int, fd: c_int, events: u32, token: u64) -> c_int {
    let mut ev = epoll_event { events, data: token };
    // SAFETY: epoll_ctl reads one event struct from a live local.
    unsafe { epoll_ctl(epfd, op, fd, &mut ev) }
}

fn arm_timer(fd: c_int, first_ms: f64, interval_ms: f64) {
    let ts = |ms: f64| timespec { sec: (ms / 1000.0) as i64, nsec: ((ms % 1000.0) * 1e6) as i64 };
    let spec = itimerspec { interval: ts(interval_ms), value: ts(first_ms.max(0.001)) };
    // SAFETY: timerfd_settime reads a live local; the old value is not asked for.
    unsafe { timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) };
}

fn drain_timer(fd: c_int) {
    let mut ticks = 0u64;
    // SAFETY: reads at most 8 bytes into a live local.
    unsafe { read(fd, &mut ticks as *mut u64 as *mut c_void, 8) };
}

impl Server {
    /// Binds and listens; the descriptors opened so far are closed on failure.
    pub fn open(o: &Options) -> Result<Server, OpenError> {
        let mut s = Server {
            epfd: -1,
            listen_fd: -1,
            sweep_fd: -1,
            gate_fd: -1,
            conns: Conns::new(o.open_total.clone()),
            max_connections: o.max_connections,
            announce_after_ms: o.announce_after_ms,
            gate: None,
            accepting: false,
            retry_accept: false,
            clock: Instant::now(),
            arena: Vec::with_capacity(ARENA_BYTES),
            events: Vec::with_capacity(MAX_BATCH_EVENTS * EVENT_STRIDE),
            records: vec![0; RECORD_SLOTS],
            records_used: 0,
            ready: vec![epoll_event { events: 0, data: 0 }; MAX_EPOLL_EVENTS],
            scratch_offsets: Vec::new(),
            scratch_next: Vec::new(),
            scratch_heads: Vec::new(),
            scratch_by_slot: Vec::new(),
            stamp: 0,
            port: 0,
        };
        // SAFETY (this block): plain descriptor calls on descriptors this function owns.
        unsafe {
            s.epfd = check(epoll_create1(EPOLL_CLOEXEC), "epoll_create1")?;
            let family = if o.ip.is_ipv4() { AF_INET } else { AF_INET6 };
            s.listen_fd = check(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), "socket")?;
            check(set_int(s.listen_fd, SOL_SOCKET, SO_REUSEADDR, 1), "setsockopt")?;
            if o.reuse_port {
                check(set_int(s.listen_fd, SOL_SOCKET, SO_REUSEPORT, 1), "setsockopt")?;
            }
            // Accepted sockets inherit TCP_NODELAY from the listener: no setsockopt per connection.
            check(set_int(s.listen_fd, IPPROTO_TCP, TCP_NODELAY, 1), "setsockopt")?;
            if family == AF_INET6 && o.ip.is_unspecified() {
                // '::' takes IPv4 too, as node:net does.
                set_int(s.listen_fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
            }
            let (sa, len) = sockaddr(o.ip, o.port);
            check(bind(s.listen_fd, &sa, len), "bind")?;
            check(listen(s.listen_fd, o.backlog.max(1)), "listen")?;
            let mut bound = sockaddr_storage { bytes: [0; 128] };
            let mut blen: socklen_t = 128;
            check(getsockname(s.listen_fd, &mut bound, &mut blen), "getsockname")?;
            s.port = Peer::from_sockaddr(&bound).port;
            s.sweep_fd = check(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create")?;
            s.gate_fd = check(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC), "timerfd_create")?;
            check(epoll_op(s.epfd, EPOLL_CTL_ADD, s.sweep_fd, EPOLLIN, SWEEP_TOKEN), "epoll_ctl")?;
            check(epoll_op(s.epfd, EPOLL_CTL_ADD, s.gate_fd, EPOLLIN, GATE_TOKEN), "epoll_ctl")?;
        }
        arm_timer(s.sweep_fd, 1000.0, 1000.0);
        if o.accept_rate > 0.0 {
            s.gate = Some(Gate::new(o.accept_rate, s.now_ms()));
        }
        s.start_accepting();
        if !s.accepting {
            return Err(OpenError { call: "epoll_ctl", errno: errno() });
        }
        Ok(s)
    }

    /// The descriptor libuv watches: readable when any socket of this listener is ready.
    pub fn poll_fd(&self) -> c_int {
        self.epfd
    }

    /// The clock of `Conn::since`: milliseconds, wrapping.
    fn now_ms32(&self) -> u32 {
        self.clock.elapsed().as_millis() as u32
    }

    fn now_ms(&self) -> f64 {
        self.clock.elapsed().as_secs_f64() * 1000.0
    }

    fn push(&mut self, kind: i32, id: i32, arg: i32) {
        self.events.extend_from_slice(&[kind, id, arg]);
    }

    /// Events of this poll (triples).
    pub fn event_count(&self) -> usize {
        self.events.len() / EVENT_STRIDE
    }

    /// Handles what is ready, once: accepts, reads, writes what was pending, deadlines.
    /// Readiness left over (a full arena, more accepts) is reported again by epoll (level-triggered).
    pub fn poll(&mut self) {
        // SAFETY: epoll_wait writes at most MAX_EPOLL_EVENTS entries into `ready`.
        let n = unsafe { epoll_wait(self.epfd, self.ready.as_mut_ptr(), MAX_EPOLL_EVENTS as c_int, 0) };
        for i in 0..n.max(0) as usize {
            let ev = self.ready[i];
            let (mask, token) = (ev.events, ev.data);
            match token {
                LISTEN_TOKEN => self.accept_some(),
                SWEEP_TOKEN => {
                    drain_timer(self.sweep_fd);
                    self.sweep();
                }
                GATE_TOKEN => {
                    drain_timer(self.gate_fd);
                    self.start_accepting();
                }
                id => self.ready_conn(id as i32, mask),
            }
        }
    }

    /// After JavaScript handled the batch: the arena and events are reused, dead slots freed.
    pub fn batch_done(&mut self) {
        self.arena.clear();
        if self.arena.capacity() > 2 * ARENA_BYTES {
            // A large frame grew it: back to the usual size.
            self.arena = Vec::with_capacity(ARENA_BYTES);
        }
        self.events.clear();
        self.records_used = 0;
        self.conns.release_dead();
    }

    /// Our side is done: FIN once what is pending has left; the connection closes when the peer
    /// closes too (or END_GRACE_MS later), reported as EV_CLOSE.
    pub fn end(&mut self, id: i32) {
        let Some(c) = self.conns.get(id) else { return };
        if c.state != State::Open {
            return;
        }
        if c.out.is_some() {
            c.end_after_flush = true;
            c.paused = false;
            let want = c.armed | EPOLLIN;
            self.arm(id, want);
        } else {
            self.shut(id);
        }
    }

    /// Closes at once, dropping what was pending; JavaScript forgets the id (no event).
    pub fn destroy(&mut self, id: i32) {
        let Some(c) = self.conns.get(id) else { return };
        // SAFETY: the record owns the descriptor; it is forgotten right after.
        unsafe { close(c.fd) };
        self.conns.closed(id, false);
    }

    /// Stops reading (lazily: the next readiness takes the socket out of epoll's read set).
    pub fn pause(&mut self, id: i32) {
        if let Some(c) = self.conns.get(id) {
            c.paused = true;
        }
    }

    /// Reads again.
    pub fn resume(&mut self, id: i32) {
        let Some(c) = self.conns.get(id) else { return };
        c.paused = false;
        let want = c.armed | EPOLLIN;
        self.arm(id, want);
    }

    /// The peer of a connection (also while its close is being reported).
    pub fn peer(&mut self, id: i32) -> Option<Peer> {
        self.conns.peer(id)
    }

    /// Stops listening (the port is released); connections live on.
    pub fn close_listener(&mut self) {
        self.stop_accepting();
        if self.listen_fd >= 0 {
            // SAFETY: the listening descriptor is owned here and forgotten right after.
            unsafe { close(self.listen_fd) };
            self.listen_fd = -1;
        }
    }

    /// The listener is closed and no connection is left: nothing more can happen.
    pub fn finished(&self) -> bool {
        self.listen_fd < 0 && self.conns.open == 0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        for id in self.conns.ids_where(|_| true) {
            self.destroy(id);
        }
        self.close_listener();
        for fd in [self.sweep_fd, self.gate_fd, self.epfd] {
            if fd >= 0 {
                // SAFETY: descriptors owned by this server, closed once.
                unsafe { close(fd) };
            }
        }
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
