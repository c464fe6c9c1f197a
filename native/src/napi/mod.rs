//! Safe helpers over the raw N-API: argument checks that name the argument, JS exceptions instead
//! of crashes, panics caught at every entry point. Only this module touches `sys`.

pub mod sys;

use std::ffi::{c_char, c_void, CString};
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use sys::*;

/// Arguments read per call; no exported function takes more.
const MAX_ARGS: usize = 10;

/// A JavaScript exception to throw when a native function returns.
#[derive(Debug)]
pub enum JsError {
    Type(String),
    Range(String),
    Error(String),
}

pub type JsResult<T> = Result<T, JsError>;

/// A JavaScript value handle, valid for the current call only.
#[derive(Clone, Copy)]
pub struct Value(napi_value);

/// The N-API environment of the current call.
#[derive(Clone, Copy)]
pub struct Env {
    raw: napi_env,
}

fn status(s: napi_status, what: &str) -> JsResult<()> {
    if s == NAPI_OK {
        Ok(())
    } else {
        Err(JsError::Error(format!("N-API call failed: {what} (status {s})")))
    }
}

/// Implemented by native objects wrapped into JS objects; the tag proves `this` is really one.
pub trait Wrapped: Sized + 'static {
    const TAG: (u64, u64);
}

impl Env {
    pub fn undefined(&self) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        status(unsafe { napi_get_undefined(self.raw, &mut v) }, "get_undefined")?;
        Ok(Value(v))
    }

    pub fn boolean(&self, b: bool) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        status(unsafe { napi_get_boolean(self.raw, b, &mut v) }, "get_boolean")?;
        Ok(Value(v))
    }

    pub fn uint32(&self, n: u32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        status(unsafe { napi_create_uint32(self.raw, n, &mut v) }, "create_uint32")?;
        Ok(Value(v))
    }

    /// Creates a JS function calling `cb` (made with `js_function!`).
    pub fn function(&self, name: &str, cb: napi_callback) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        let s = unsafe {
            napi_create_function(self.raw, name.as_ptr() as *const c_char, name.len(), cb, ptr::null_mut(), &mut v)
        };
        status(s, "create_function")?;
        Ok(Value(v))
    }

    pub fn set(&self, object: Value, name: &str, value: Value) -> JsResult<()> {
        let cname = CString::new(name).map_err(|_| JsError::Error("property name contains NUL".into()))?;
        status(unsafe { napi_set_named_property(self.raw, object.0, cname.as_ptr(), value.0) }, "set_named_property")
    }

    /// Hands `value` to JS as a tagged external; dropped when the external is collected.
    pub fn external<T: Wrapped>(&self, value: Box<T>) -> JsResult<Value> {
        let tag = napi_type_tag { lower: T::TAG.0, upper: T::TAG.1 };
        let raw = Box::into_raw(value) as *mut c_void;
        let mut v = ptr::null_mut();
        let s = unsafe { napi_create_external(self.raw, raw, Some(finalize::<T>), ptr::null_mut(), &mut v) };
        if s != NAPI_OK {
            // SAFETY: creation failed, so ownership never left us.
            drop(unsafe { Box::from_raw(raw as *mut T) });
            return status(s, "create_external").map(|_| Value(v));
        }
        status(unsafe { napi_type_tag_object(self.raw, v, &tag) }, "type_tag_object")?;
        Ok(Value(v))
    }

    /// The raw environment, kept by a native object that calls back into JS from the event loop.
    pub fn raw(&self) -> napi_env {
        self.raw
    }

    /// An environment saved with `raw()`.
    ///
    /// # Safety
    /// `raw` must come from `Env::raw` of a live environment, used on its JS thread only.
    pub unsafe fn from_raw(raw: napi_env) -> Env {
        Env { raw }
    }

    pub fn int32(&self, n: i32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        status(unsafe { napi_create_int32(self.raw, n, &mut v) }, "create_int32")?;
        Ok(Value(v))
    }

    pub fn string(&self, s: &str) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        status(unsafe { napi_create_string_utf8(self.raw, s.as_ptr() as *const c_char, s.len(), &mut v) }, "create_string_utf8")?;
        Ok(Value(v))
    }

    /// A new Buffer holding a copy of `bytes`.
    pub fn buffer_copy(&self, bytes: &[u8]) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        let mut data: *mut c_void = ptr::null_mut();
        let s = unsafe { napi_create_buffer_copy(self.raw, bytes.len(), bytes.as_ptr() as *const c_void, &mut data, &mut v) };
        status(s, "create_buffer_copy")?;
        Ok(Value(v))
    }

    /// Keeps `value` alive across calls until `Persistent::release`.
    pub fn persist(&self, value: Value) -> JsResult<Persistent> {
        let mut r = ptr::null_mut();
        status(unsafe { napi_create_reference(self.raw, value.0, 1, &mut r) }, "create_reference")?;
        Ok(Persistent(r))
    }

    /// Length of a JS array.
    pub fn array_len(&self, array: Value) -> JsResult<u32> {
        let mut n = 0u32;
        status(unsafe { napi_get_array_length(self.raw, array.0, &mut n) }, "get_array_length")?;
        Ok(n)
    }

    /// Element `i` of a JS array.
    pub fn element(&self, array: Value, i: u32) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        status(unsafe { napi_get_element(self.raw, array.0, i, &mut v) }, "get_element")?;
        Ok(Value(v))
    }

    /// The bytes of a Uint8Array (or Buffer) value, None when it is not one.
    ///
    /// # Safety
    /// The slice is valid while the value is alive and no JS runs (the backing store may be
    /// detached or collected afterwards): use it within the current native call.
    pub unsafe fn bytes_of<'b>(&self, v: Value) -> Option<&'b [u8]> {
        let (mut kind, mut len, mut data) = (0, 0usize, ptr::null_mut::<c_void>());
        let s = unsafe { napi_get_typedarray_info(self.raw, v.0, &mut kind, &mut len, &mut data, ptr::null_mut(), ptr::null_mut()) };
        if s != NAPI_OK || kind != NAPI_UINT8_ARRAY {
            return None;
        }
        if data.is_null() || len == 0 {
            return Some(&[]);
        }
        Some(unsafe { std::slice::from_raw_parts(data as *const u8, len) })
    }

    /// The elements of an Int32Array value, None when it is not one (same rules as `bytes_of`).
    ///
    /// # Safety
    /// As `bytes_of`; the caller also holds no other slice over the same memory.
    pub unsafe fn i32s_of<'b>(&self, v: Value) -> Option<&'b mut [i32]> {
        let (mut kind, mut len, mut data) = (0, 0usize, ptr::null_mut::<c_void>());
        let s = unsafe { napi_get_typedarray_info(self.raw, v.0, &mut kind, &mut len, &mut data, ptr::null_mut(), ptr::null_mut()) };
        if s != NAPI_OK || kind != NAPI_INT32_ARRAY || !(data as usize).is_multiple_of(4) {
            return None;
        }
        if data.is_null() || len == 0 {
            return Some(&mut []);
        }
        Some(unsafe { std::slice::from_raw_parts_mut(data as *mut i32, len) })
    }

    /// libuv's loop of this environment (Node's main loop on the main thread).
    pub fn uv_loop(&self) -> JsResult<*mut c_void> {
        let mut lp: *mut uv_loop_t = ptr::null_mut();
        status(unsafe { napi_get_uv_event_loop(self.raw, &mut lp) }, "get_uv_event_loop")?;
        Ok(lp)
    }

    /// Runs `f` inside a fresh handle scope: for code called by libuv, outside any JS call.
    pub fn scoped<R>(&self, f: impl FnOnce(Env) -> R) -> R {
        let mut scope = ptr::null_mut();
        let opened = unsafe { napi_open_handle_scope(self.raw, &mut scope) } == NAPI_OK;
        let r = f(*self);
        if opened {
            unsafe { napi_close_handle_scope(self.raw, scope) };
        }
        r
    }

    /// Calls `func` from the event loop as Node calls its own callbacks (process.nextTick and
    /// microtasks run after it); an exception it throws becomes an uncaught exception.
    pub fn make_callback(&self, func: Value, args: &[Value]) {
        let mut recv = ptr::null_mut();
        let mut result = ptr::null_mut();
        unsafe {
            // napi_make_callback wants an object as the receiver.
            napi_get_global(self.raw, &mut recv);
            let argv: Vec<napi_value> = args.iter().map(|a| a.0).collect();
            let s = napi_make_callback(self.raw, ptr::null_mut(), recv, func.0, argv.len(), argv.as_ptr(), &mut result);
            if s != NAPI_OK {
                let mut pending = false;
                napi_is_exception_pending(self.raw, &mut pending);
                if pending {
                    let mut err = ptr::null_mut();
                    napi_get_and_clear_last_exception(self.raw, &mut err);
                    napi_fatal_exception(self.raw, err);
                }
            }
        }
    }

    fn throw(&self, err: JsError) {
        let mut pending = false;
        unsafe { napi_is_exception_pending(self.raw, &mut pending) };
        if pending {
            return;
        }
        let (kind, msg) = match err {
            JsError::Type(m) => (0, m),
            JsError::Range(m) => (1, m),
            JsError::Error(m) => (2, m),
        };
        let cmsg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
        let code = c"ERR_JUNCTION_NATIVE".as_ptr();
        unsafe {
            match kind {
                0 => napi_throw_type_error(self.raw, code, cmsg.as_ptr()),
                1 => napi_throw_range_error(self.raw, code, cmsg.as_ptr()),
                _ => napi_throw_error(self.raw, code, cmsg.as_ptr()),
            };
        }
    }
}

/// A JS value kept alive across calls (a napi reference).
pub struct Persistent(napi_ref);

impl Persistent {
    /// The value, as a handle of the current scope.
    pub fn get(&self, env: Env) -> JsResult<Value> {
        let mut v = ptr::null_mut();
        status(unsafe { napi_get_reference_value(env.raw, self.0, &mut v) }, "get_reference_value")?;
        Ok(Value(v))
    }

    /// Lets the value be collected.
    pub fn release(self, env: Env) {
        unsafe { napi_delete_reference(env.raw, self.0) };
    }
}

/// The arguments and receiver of one native call; borrowed views live as long as the call.
pub struct Args<'a> {
    env: Env,
    argv: [napi_value; MAX_ARGS],
    argc: usize,
    fname: &'static str,
    _call: PhantomData<&'a mut ()>,
}

impl<'a> Args<'a> {
    pub fn env(&self) -> Env {
        self.env
    }

    /// Fails unless at least `n` arguments were passed.
    pub fn expect(&self, n: usize) -> JsResult<()> {
        if self.argc < n {
            return Err(JsError::Type(format!(
                "{}: expected {} arguments, got {}",
                self.fname, n, self.argc
            )));
        }
        Ok(())
    }

    fn arg(&self, i: usize, name: &str) -> JsResult<napi_value> {
        if i >= self.argc || i >= MAX_ARGS {
            return Err(JsError::Type(format!("{}: argument '{}' is missing", self.fname, name)));
        }
        Ok(self.argv[i])
    }

    /// Argument `i` as it is (the caller checks its type).
    pub fn value(&self, i: usize, name: &str) -> JsResult<Value> {
        self.arg(i, name).map(Value)
    }

    fn number(&self, i: usize, name: &str) -> JsResult<f64> {
        let v = self.arg(i, name)?;
        let mut d = 0.0f64;
        if unsafe { napi_get_value_double(self.env.raw, v, &mut d) } != NAPI_OK {
            return Err(JsError::Type(format!("{}: argument '{}' must be a number", self.fname, name)));
        }
        Ok(d)
    }

    /// An integer number in [0, 2^32).
    pub fn u32(&self, i: usize, name: &str) -> JsResult<u32> {
        let d = self.number(i, name)?;
        if !(d >= 0.0 && d <= u32::MAX as f64 && d.fract() == 0.0) {
            return Err(JsError::Range(format!(
                "{}: argument '{}' must be an integer in [0, 4294967295], got {}",
                self.fname, name, d
            )));
        }
        Ok(d as u32)
    }

    /// An integer number in [-2^31, 2^31).
    pub fn i32(&self, i: usize, name: &str) -> JsResult<i32> {
        let d = self.number(i, name)?;
        if !(d >= i32::MIN as f64 && d <= i32::MAX as f64 && d.fract() == 0.0) {
            return Err(JsError::Range(format!(
                "{}: argument '{}' must be a 32-bit signed integer, got {}",
                self.fname, name, d
            )));
        }
        Ok(d as i32)
    }

    pub fn bool(&self, i: usize, name: &str) -> JsResult<bool> {
        let v = self.arg(i, name)?;
        let mut b = false;
        if unsafe { napi_get_value_bool(self.env.raw, v, &mut b) } != NAPI_OK {
            return Err(JsError::Type(format!("{}: argument '{}' must be a boolean", self.fname, name)));
        }
        Ok(b)
    }

    /// Copies a string argument as UTF-8 into `buf` (cleared first).
    pub fn string_into(&self, i: usize, name: &str, buf: &mut Vec<u8>) -> JsResult<()> {
        let v = self.arg(i, name)?;
        // One copy into the reused buffer; a second call only when the first was truncated.
        if buf.capacity() < 256 {
            buf.reserve(256 - buf.len());
        }
        let cap = buf.capacity();
        let mut len = 0usize;
        // napi_string_expected doubles as the type check: no separate typeof call.
        let s = unsafe { napi_get_value_string_utf8(self.env.raw, v, buf.as_mut_ptr() as *mut c_char, cap, &mut len) };
        if s != NAPI_OK {
            return Err(JsError::Type(format!("{}: argument '{}' must be a string", self.fname, name)));
        }
        // N-API never splits a character when truncating, so "nearly full" means "maybe truncated".
        if len + 4 >= cap {
            let mut full = 0usize;
            let s = unsafe { napi_get_value_string_utf8(self.env.raw, v, ptr::null_mut(), 0, &mut full) };
            status(s, "get_value_string_utf8")?;
            if full != len {
                buf.clear();
                buf.reserve(full + 1);
                let cap = buf.capacity();
                let s = unsafe {
                    napi_get_value_string_utf8(self.env.raw, v, buf.as_mut_ptr() as *mut c_char, cap, &mut len)
                };
                status(s, "get_value_string_utf8")?;
            }
        }
        // SAFETY: N-API wrote `len` initialised bytes (plus a NUL) into the buffer's capacity.
        unsafe { buf.set_len(len) };
        Ok(())
    }

    fn typed_array(&self, i: usize, name: &str, want: napi_typedarray_type, label: &str) -> JsResult<(*mut u8, usize)> {
        let v = self.arg(i, name)?;
        let mut kind = 0;
        let mut len = 0usize;
        let mut data: *mut c_void = ptr::null_mut();
        // napi_invalid_arg for anything but a typed array doubles as the type check; the
        // ArrayBuffer handle and offset are not asked for (data already includes the offset).
        let s = unsafe {
            napi_get_typedarray_info(self.env.raw, v, &mut kind, &mut len, &mut data, ptr::null_mut(), ptr::null_mut())
        };
        if s != NAPI_OK || kind != want {
            return Err(JsError::Type(format!("{}: argument '{}' must be a {}", self.fname, name, label)));
        }
        if data.is_null() || len == 0 {
            return Ok((ptr::NonNull::<u32>::dangling().as_ptr() as *mut u8, 0));
        }
        Ok((data as *mut u8, len))
    }

    /// A Uint8Array (or Buffer) argument, read in place.
    pub fn u8_array(&self, i: usize, name: &str) -> JsResult<&'a [u8]> {
        let (p, n) = self.typed_array(i, name, NAPI_UINT8_ARRAY, "Uint8Array")?;
        // SAFETY: V8 keeps the backing store alive and attached for the duration of this call;
        // no JS runs while native code holds the slice.
        Ok(unsafe { std::slice::from_raw_parts(p as *const u8, n) })
    }

    /// A Uint32Array argument written in place; it must not share memory with `other`.
    pub fn u32_array_mut(&self, i: usize, name: &str, other: &[u8]) -> JsResult<&'a mut [u32]> {
        let (p, n) = self.typed_array(i, name, NAPI_UINT32_ARRAY, "Uint32Array")?;
        self.check_disjoint(p, n * 4, other, name)?;
        if !(p as usize).is_multiple_of(4) {
            return Err(JsError::Range(format!("{}: argument '{}' is misaligned", self.fname, name)));
        }
        // SAFETY: as in u8_array; disjoint from every other slice handed out for this call.
        Ok(unsafe { std::slice::from_raw_parts_mut(p as *mut u32, n) })
    }

    /// An Int32Array argument written in place; it must not share memory with `other`.
    pub fn i32_array_mut(&self, i: usize, name: &str, other: &[u8]) -> JsResult<&'a mut [i32]> {
        let (p, n) = self.typed_array(i, name, NAPI_INT32_ARRAY, "Int32Array")?;
        self.check_disjoint(p, n * 4, other, name)?;
        if !(p as usize).is_multiple_of(4) {
            return Err(JsError::Range(format!("{}: argument '{}' is misaligned", self.fname, name)));
        }
        // SAFETY: as in u32_array_mut.
        Ok(unsafe { std::slice::from_raw_parts_mut(p as *mut i32, n) })
    }

    fn check_disjoint(&self, p: *mut u8, bytes: usize, other: &[u8], name: &str) -> JsResult<()> {
        let (a0, a1) = (p as usize, p as usize + bytes);
        let (b0, b1) = (other.as_ptr() as usize, other.as_ptr() as usize + other.len());
        if bytes > 0 && !other.is_empty() && a0 < b1 && b0 < a1 {
            return Err(JsError::Range(format!(
                "{}: argument '{}' must not share memory with the input bytes",
                self.fname, name
            )));
        }
        Ok(())
    }

    /// The native object behind an external argument made by `Env::external::<T>`.
    pub fn external<T: Wrapped>(&self, i: usize, name: &str) -> JsResult<&'a mut T> {
        let v = self.arg(i, name)?;
        let mut p: *mut c_void = ptr::null_mut();
        if unsafe { napi_get_value_external(self.env.raw, v, &mut p) } != NAPI_OK || p.is_null() {
            return Err(JsError::Type(format!("{}: argument '{}' must be a native handle", self.fname, name)));
        }
        let tag = napi_type_tag { lower: T::TAG.0, upper: T::TAG.1 };
        let mut ok = false;
        let s = unsafe { napi_check_object_type_tag(self.env.raw, v, &tag, &mut ok) };
        if s != NAPI_OK || !ok {
            return Err(JsError::Type(format!("{}: argument '{}' is a native handle of another kind", self.fname, name)));
        }
        // SAFETY: the tag proves the pointer came from Env::external::<T>; JS is single-threaded,
        // no JS runs during this call, and each call takes one handle, so this is the only reference.
        Ok(unsafe { &mut *(p as *mut T) })
    }

}

unsafe extern "C" fn finalize<T>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(data as *mut T))));
    }
}

/// Runs one native call: reads the arguments, converts errors and panics into JS exceptions.
///
/// # Safety
/// `env` and `info` must be the values N-API passed to the running callback.
pub unsafe fn entry(
    env: napi_env,
    info: napi_callback_info,
    fname: &'static str,
    body: for<'a> fn(&Args<'a>) -> JsResult<Value>,
) -> napi_value {
    let e = Env { raw: env };
    let result = catch_unwind(AssertUnwindSafe(|| -> JsResult<Value> {
        let mut args = Args {
            env: e,
            argv: [ptr::null_mut(); MAX_ARGS],
            argc: MAX_ARGS,
            fname,
            _call: PhantomData,
        };
        let s = unsafe { napi_get_cb_info(env, info, &mut args.argc, args.argv.as_mut_ptr(), ptr::null_mut(), ptr::null_mut()) };
        status(s, "get_cb_info")?;
        body(&args)
    }));
    match result {
        Ok(Ok(v)) => v.0,
        Ok(Err(err)) => {
            e.throw(err);
            ptr::null_mut()
        }
        Err(_) => {
            e.throw(JsError::Error(format!("{fname}: internal error (native panic)")));
            ptr::null_mut()
        }
    }
}

/// Module init glue: runs `init` on the exports object, throwing instead of unwinding.
///
/// # Safety
/// `env` and `exports` must be the values N-API passed to `napi_register_module_v1`.
pub unsafe fn init_module(env: napi_env, exports: napi_value, init: fn(Env, Value) -> JsResult<()>) -> napi_value {
    let e = Env { raw: env };
    match catch_unwind(AssertUnwindSafe(|| init(e, Value(exports)))) {
        Ok(Ok(())) => exports,
        Ok(Err(err)) => {
            e.throw(err);
            ptr::null_mut()
        }
        Err(_) => {
            e.throw(JsError::Error("junction native: panic during module init".into()));
            ptr::null_mut()
        }
    }
}

/// Declares an `extern "C"` N-API callback `$name` that runs `$body(&Args) -> JsResult<Value>`.
#[macro_export]
macro_rules! js_function {
    ($name:ident, $label:literal, $body:path) => {
        unsafe extern "C" fn $name(
            env: $crate::napi::sys::napi_env,
            info: $crate::napi::sys::napi_callback_info,
        ) -> $crate::napi::sys::napi_value {
            const BODY: for<'a> fn(&$crate::napi::Args<'a>) -> $crate::napi::JsResult<$crate::napi::Value> = $body;
            const LABEL: &str = $label;
            // SAFETY: env and info come straight from N-API for this call.
            unsafe { $crate::napi::entry(env, info, LABEL, BODY) }
        }
    };
}
