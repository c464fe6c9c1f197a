//! JS bindings of the frame scanner: argument checks, then a zero-copy call into `scanner`.

use crate::js_function;
use crate::napi::{Args, JsError, JsResult, Value};
use crate::scanner::{scan_frames, HEADER};

/// scanFrames(buf: Uint8Array, start, end, maxPacketSize, v5: boolean, out: Uint32Array): void
fn scan_frames_js(a: &Args) -> JsResult<Value> {
    a.expect(6)?;
    let buf = a.u8_array(0, "buf")?;
    let start = a.u32(1, "start")? as usize;
    let end = a.u32(2, "end")? as usize;
    let max_packet_size = a.u32(3, "maxPacketSize")?;
    let v5 = a.bool(4, "v5")?;
    let out = a.u32_array_mut(5, "out", buf)?;
    if end > buf.len() {
        return Err(JsError::Range(format!("scanFrames: argument 'end' ({end}) is past buf.length ({})", buf.len())));
    }
    if out.len() < HEADER {
        return Err(JsError::Range(format!("scanFrames: argument 'out' needs at least {HEADER} slots, has {}", out.len())));
    }
    scan_frames(buf, start, end, max_packet_size, v5, out);
    a.env().undefined()
}

/// noop(): the cost of one N-API call and nothing else.
fn noop_js(a: &Args) -> JsResult<Value> {
    a.env().undefined()
}

js_function!(scan_frames_cb, "scanFrames", scan_frames_js);
js_function!(noop_cb, "noop", noop_js);

/// The scanner's exports: (name, callback).
pub const EXPORTS: &[(&str, crate::napi::sys::napi_callback)] = &[("scanFrames", scan_frames_cb), ("noop", noop_cb)];
