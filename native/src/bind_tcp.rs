//! JS bindings of the native TCP transport (src/transports/native-tcp.ts): a listener is a
//! `net::server::Server` whose epoll descriptor libuv watches with a uv_poll handle on Node's own
//! loop (no thread); each readiness runs one `poll` and hands JavaScript one batch: a Buffer with
//! every byte read, [kind, id, arg] triples in the listener's Int32Array, and the scan records of
//! framed connections (net/frames.rs) in its Uint32Array.
//!
//! Ownership: `Live` (the server, the uv_poll handle's memory, the JS callback and events array
//! references) is allocated at tcpListen and freed in the uv close callback, once the listener
//! is closed and its last connection is gone (or when the JS handle is collected). The JS handle
//! reaches it through a shared cell that the close nulls, so a late call on a closed listener is
//! an error, never a use after free. Everything runs on the JS thread.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::net::IpAddr;
use std::rc::Rc;

use crate::js_function;
use crate::napi::{Args, Env, JsError, JsResult, Persistent, Value, Wrapped};
use crate::net::server::{Options, Server, EVENT_STRIDE, MAX_BATCH_EVENTS, RECORD_SLOTS};
use crate::net::addr::Peer;

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    fn uv_poll_init(lp: *mut c_void, handle: *mut c_void, fd: c_int) -> c_int;
    fn uv_poll_start(handle: *mut c_void, events: c_int, cb: unsafe extern "C" fn(*mut c_void, c_int, c_int)) -> c_int;
    fn uv_poll_stop(handle: *mut c_void) -> c_int;
    fn uv_close(handle: *mut c_void, cb: unsafe extern "C" fn(*mut c_void));
}

const UV_POLL: c_int = 8;
const UV_READABLE: c_int = 1;

type Cellp = Rc<Cell<*mut Live>>;

thread_local! {
    /// Descriptors open in every native listener of this thread: --max-connections is global.
    static OPEN_TOTAL: Rc<Cell<u32>> = Rc::new(Cell::new(0));
}

/// A listener while it lives.
struct Live {
    server: Server,
    env: Env,
    callback: Option<Persistent>,
    events: Option<Persistent>,
    records: Option<Persistent>,
    /// The uv_poll_t: its first field (`data`) points back here.
    poll: Box<[u64]>,
    cell: Cellp,
    closing: bool,
}

/// What JavaScript holds: the way to the live listener, null once closed.
struct TcpHandle {
    live: Cellp,
}

impl Wrapped for TcpHandle {
    const TAG: (u64, u64) = (0x6a75_6e63_7469_6f6e, 0x6e61_7469_7665_7463);
}

impl Drop for TcpHandle {
    fn drop(&mut self) {
        // Collected while open: nothing in JS can reach the connections any more.
        let p = self.live.get();
        if !p.is_null() {
            // SAFETY: non-null means the close callback has not run; JS thread.
            unsafe { begin_close(p) };
        }
    }
}

/// Stops the poll and frees everything in the uv close callback (libuv calls it later).
unsafe fn begin_close(p: *mut Live) {
    let live = unsafe { &mut *p };
    if live.closing {
        return;
    }
    live.closing = true;
    live.cell.set(std::ptr::null_mut());
    let handle = live.poll.as_mut_ptr() as *mut c_void;
    unsafe {
        uv_poll_stop(handle);
        uv_close(handle, on_closed);
    }
}

unsafe extern "C" fn on_closed(handle: *mut c_void) {
    // SAFETY: `data` was set to the Live at init and is freed only here.
    let p = unsafe { *(handle as *mut *mut Live) };
    let live = unsafe { Box::from_raw(p) };
    let env = live.env;
    let Live { callback, events, records, .. } = *live;
    for r in [callback, events, records].into_iter().flatten() {
        r.release(env);
    }
}

unsafe extern "C" fn on_readable(handle: *mut c_void, _status: c_int, _events: c_int) {
    let p = unsafe { *(handle as *mut *mut Live) };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe { deliver(p) }));
}

/// One readiness: poll the server, hand the batch to JS, free what JS was told is closed.
unsafe fn deliver(p: *mut Live) {
    {
        let live = unsafe { &mut *p };
        if live.closing {
            return;
        }
        live.server.poll();
        if live.server.event_count() == 0 {
            live.server.batch_done();
            return;
        }
    }
    // No Rust borrow of the listener is held while JS runs: JS calls back into it.
    let env = unsafe { (*p).env };
    env.scoped(|env| {
        let live = unsafe { &mut *p };
        let (Some(cb), Some(evs), Some(recs)) = (live.callback.as_ref(), live.events.as_ref(), live.records.as_ref()) else { return };
        let (Ok(func), Ok(evs), Ok(recs)) = (cb.get(env), evs.get(env), recs.get(env)) else { return };
        let Ok(arena) = env.buffer_copy(&live.server.arena) else { return };
        // SAFETY: the arrays were checked at tcpListen to hold a full batch; no JS runs meanwhile.
        let Some(out) = (unsafe { env.i32s_of(evs) }) else { return };
        let n = live.server.events.len().min(out.len());
        out[..n].copy_from_slice(&live.server.events[..n]);
        let Some(rout) = (unsafe { env.u32s_of(recs) }) else { return };
        let r = live.server.records_used.min(rout.len());
        rout[..r].copy_from_slice(&live.server.records[..r]);
        let Ok(count) = env.uint32((n / EVENT_STRIDE) as u32) else { return };
        env.make_callback(func, &[arena, count]);
    });
    let live = unsafe { &mut *p };
    if live.closing {
        return;
    }
    live.server.batch_done();
    if live.server.finished() {
        unsafe { begin_close(p) };
    }
}

fn errno_name(e: i32) -> &'static str {
    match e {
        98 => "EADDRINUSE",
        13 => "EACCES",
        99 => "EADDRNOTAVAIL",
        24 => "EMFILE",
        23 => "ENFILE",
        _ => "EIO",
    }
}

/// tcpListen(ip, port, backlog, reusePort, maxConnections, announceAfterMs, acceptRate, events: Int32Array,
/// records: Uint32Array, onEvents): handle
fn listen_js(a: &Args) -> JsResult<Value> {
    a.expect(10)?;
    let env = a.env();
    let mut ip_text = Vec::new();
    a.string_into(0, "ip", &mut ip_text)?;
    let ip: IpAddr = std::str::from_utf8(&ip_text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| JsError::Type(format!("tcpListen: argument 'ip' must be an IP address, got {:?}", String::from_utf8_lossy(&ip_text))))?;
    let port = a.u32(1, "port")?;
    if port > 65535 {
        return Err(JsError::Range(format!("tcpListen: argument 'port' must be at most 65535, got {port}")));
    }
    let options = Options {
        ip,
        port: port as u16,
        backlog: a.i32(2, "backlog")?,
        reuse_port: a.bool(3, "reusePort")?,
        max_connections: a.u32(4, "maxConnections")?,
        open_total: OPEN_TOTAL.with(|t| t.clone()),
        announce_after_ms: a.u32(5, "announceAfterMs")?,
        accept_rate: a.u32(6, "acceptRate")? as f64,
    };
    let events = a.value(7, "events")?;
    // SAFETY: only the length is read, during this call.
    let len = unsafe { env.i32s_of(events) }.map(|s| s.len()).ok_or_else(|| JsError::Type("tcpListen: argument 'events' must be an Int32Array".into()))?;
    if len < MAX_BATCH_EVENTS * EVENT_STRIDE {
        return Err(JsError::Range(format!("tcpListen: argument 'events' needs {} slots, has {len}", MAX_BATCH_EVENTS * EVENT_STRIDE)));
    }
    let records = a.value(8, "records")?;
    // SAFETY: only the length is read, during this call.
    let rlen = unsafe { env.u32s_of(records) }.map(|s| s.len()).ok_or_else(|| JsError::Type("tcpListen: argument 'records' must be a Uint32Array".into()))?;
    if rlen < RECORD_SLOTS {
        return Err(JsError::Range(format!("tcpListen: argument 'records' needs {RECORD_SLOTS} slots, has {rlen}")));
    }
    let callback = a.value(9, "onEvents")?;
    let server = Server::open(&options).map_err(|e| {
        JsError::Error(format!("{}: {} failed: {}", errno_name(e.errno), e.call, std::io::Error::from_raw_os_error(e.errno)))
    })?;
    let words = unsafe { uv_handle_size(UV_POLL) }.div_ceil(8);
    let cell: Cellp = Rc::new(Cell::new(std::ptr::null_mut()));
    let live = Box::new(Live {
        server,
        env,
        callback: Some(env.persist(callback)?),
        events: Some(env.persist(events)?),
        records: Some(env.persist(records)?),
        poll: vec![0u64; words].into_boxed_slice(),
        cell: cell.clone(),
        closing: false,
    });
    let p = Box::into_raw(live);
    // SAFETY: the handle memory lives in the Live until the close callback frees it.
    unsafe {
        let handle = (*p).poll.as_mut_ptr() as *mut c_void;
        let lp = env.uv_loop()?;
        let fd = (*p).server.poll_fd();
        if uv_poll_init(lp, handle, fd) != 0 {
            drop(Box::from_raw(p));
            return Err(JsError::Error("tcpListen: uv_poll_init failed".into()));
        }
        *(handle as *mut *mut Live) = p;
        uv_poll_start(handle, UV_READABLE, on_readable);
    }
    cell.set(p);
    env.external(Box::new(TcpHandle { live: cell }))
}

fn live<'a>(a: &Args<'a>) -> JsResult<&'a mut Live> {
    let h = a.external::<TcpHandle>(0, "listener")?;
    let p = h.live.get();
    if p.is_null() {
        return Err(JsError::Error("native TCP listener is closed".into()));
    }
    // SAFETY: non-null means alive; JS thread, no other borrow during this call.
    Ok(unsafe { &mut *p })
}

/// tcpPort(listener): the bound port.
fn port_js(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let port = live(a)?.server.port;
    a.env().uint32(port as u32)
}

/// tcpWrite(listener, arena: Uint8Array, ids: Int32Array, lens: Int32Array, count, out: Int32Array): number —
/// segment i is lens[i] bytes of the arena (consecutive) for connection ids[i]; each connection's
/// segments leave in order in one writev. out gets [id, pending or -errno] for each connection
/// left with bytes pending or failed (then closed); returns the number of pairs.
fn write_js(a: &Args) -> JsResult<Value> {
    a.expect(6)?;
    let env = a.env();
    let l = live(a)?;
    let arena = a.u8_array(1, "arena")?;
    let ids_v = a.value(2, "ids")?;
    let lens_v = a.value(3, "lens")?;
    let count = a.u32(4, "count")? as usize;
    let out_v = a.value(5, "out")?;
    // SAFETY: three distinct Int32Arrays (checked below), used during this call only, no JS runs.
    let ids = unsafe { env.i32s_of(ids_v) }.ok_or_else(|| JsError::Type("tcpWrite: argument 'ids' must be an Int32Array".into()))?;
    let lens = unsafe { env.i32s_of(lens_v) }.ok_or_else(|| JsError::Type("tcpWrite: argument 'lens' must be an Int32Array".into()))?;
    let out = unsafe { env.i32s_of(out_v) }.ok_or_else(|| JsError::Type("tcpWrite: argument 'out' must be an Int32Array".into()))?;
    let (pi, pl, po) = (ids.as_ptr() as usize, lens.as_ptr() as usize, out.as_ptr() as usize);
    if pi == pl || pi == po || pl == po {
        return Err(JsError::Range("tcpWrite: 'ids', 'lens' and 'out' must be different arrays".into()));
    }
    if count > ids.len() || count > lens.len() || out.len() < 2 * count {
        return Err(JsError::Range(format!("tcpWrite: count {count} exceeds ids, lens or half of out")));
    }
    let total: i64 = lens[..count].iter().map(|&n| n as i64).sum();
    if lens[..count].iter().any(|&n| n < 0) || total > arena.len() as i64 {
        return Err(JsError::Range(format!("tcpWrite: the segments ({total} bytes) run past the arena ({} bytes)", arena.len())));
    }
    let pairs = l.server.write_segments(arena, &ids[..count], &lens[..count], out);
    env.uint32(pairs as u32)
}

fn id_call(a: &Args, f: fn(&mut Server, i32)) -> JsResult<Value> {
    a.expect(2)?;
    let id = a.i32(1, "id")?;
    let l = live(a)?;
    f(&mut l.server, id);
    a.env().undefined()
}

/// tcpEnd(listener, id): FIN after what is pending; EV_CLOSE follows.
fn end_js(a: &Args) -> JsResult<Value> {
    id_call(a, Server::end)
}

/// tcpDestroy(listener, id): closes now; no event follows.
fn destroy_js(a: &Args) -> JsResult<Value> {
    let r = id_call(a, Server::destroy);
    // The last connection of a closed listener: free it now (no readiness may come again).
    if let Ok(l) = live(a) {
        if l.server.finished() {
            let p = l as *mut Live;
            // SAFETY: alive (just checked); the close completes in libuv later.
            unsafe { begin_close(p) };
        }
    }
    r
}

/// tcpPause(listener, id)
fn pause_js(a: &Args) -> JsResult<Value> {
    id_call(a, Server::pause)
}

/// tcpResume(listener, id)
fn resume_js(a: &Args) -> JsResult<Value> {
    id_call(a, Server::resume)
}

/// tcpFrame(listener, id, maxPacketSize, v5): MQTT framing in Rust for this connection from its
/// next read on (JavaScript holds no partial frame of it); EV_DATA later means it is off again.
fn frame_js(a: &Args) -> JsResult<Value> {
    a.expect(4)?;
    let id = a.i32(1, "id")?;
    let max = a.u32(2, "maxPacketSize")?;
    let v5 = a.bool(3, "v5")?;
    live(a)?.server.frame(id, max, v5);
    a.env().undefined()
}

/// The peer of connection `id`, open or closed, until its slot is reused (or its listener freed).
fn peer_of(a: &Args) -> JsResult<Option<Peer>> {
    a.expect(2)?;
    let id = a.i32(1, "id")?;
    let h = a.external::<TcpHandle>(0, "listener")?;
    let p = h.live.get();
    // SAFETY: non-null means alive; JS thread, no other borrow during this call.
    Ok(if p.is_null() { None } else { unsafe { &mut *p }.server.peer(id) })
}

/// tcpPeerAddress(listener, id): string ('' once its slot is reused).
fn peer_address_js(a: &Args) -> JsResult<Value> {
    let text = peer_of(a)?.map(|p| p.address()).unwrap_or_default();
    a.env().string(&text)
}

/// tcpPeerPort(listener, id): number (0 once its slot is reused).
fn peer_port_js(a: &Args) -> JsResult<Value> {
    let port = peer_of(a)?.map_or(0, |p| p.port);
    a.env().uint32(port as u32)
}

/// tcpCloseListener(listener): stops accepting and releases the port; connections live on,
/// and the listener is freed with its last one.
fn close_listener_js(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let h = a.external::<TcpHandle>(0, "listener")?;
    let p = h.live.get();
    if !p.is_null() {
        // SAFETY: non-null means alive; JS thread.
        let l = unsafe { &mut *p };
        l.server.close_listener();
        if l.server.finished() {
            unsafe { begin_close(p) };
        }
    }
    a.env().undefined()
}

/// tcpOpenCount(listener): descriptors open (connections JavaScript has not seen included).
fn open_count_js(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let h = a.external::<TcpHandle>(0, "listener")?;
    let p = h.live.get();
    // SAFETY: non-null means alive.
    let n = if p.is_null() { 0 } else { unsafe { (*p).server.conns.open } };
    a.env().uint32(n)
}

js_function!(listen_cb, "tcpListen", listen_js);
js_function!(port_cb, "tcpPort", port_js);
js_function!(write_cb, "tcpWrite", write_js);
js_function!(end_cb, "tcpEnd", end_js);
js_function!(destroy_cb, "tcpDestroy", destroy_js);
js_function!(pause_cb, "tcpPause", pause_js);
js_function!(resume_cb, "tcpResume", resume_js);
js_function!(frame_cb, "tcpFrame", frame_js);
js_function!(peer_address_cb, "tcpPeerAddress", peer_address_js);
js_function!(peer_port_cb, "tcpPeerPort", peer_port_js);
js_function!(close_listener_cb, "tcpCloseListener", close_listener_js);
js_function!(open_count_cb, "tcpOpenCount", open_count_js);

/// The transport's exports: (name, callback).
pub const EXPORTS: &[(&str, crate::napi::sys::napi_callback)] = &[
    ("tcpListen", listen_cb),
    ("tcpPort", port_cb),
    ("tcpWrite", write_cb),
    ("tcpEnd", end_cb),
    ("tcpDestroy", destroy_cb),
    ("tcpPause", pause_cb),
    ("tcpResume", resume_cb),
    ("tcpFrame", frame_cb),
    ("tcpPeerAddress", peer_address_cb),
    ("tcpPeerPort", peer_port_cb),
    ("tcpCloseListener", close_listener_cb),
    ("tcpOpenCount", open_count_cb),
];
