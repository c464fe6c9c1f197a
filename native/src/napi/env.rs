//! The N-API environment of a call: making JS values, reading arrays and typed arrays, handle
//! scopes, calling back into JS from the event loop, throwing, and values kept across calls.

use std::ffi::{c_char, c_void, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use super::sys::*;
use super::{status, Env, JsError, JsResult, Value, Wrapped};

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
        let (data, len) = unsafe { self.words_of(v, NAPI_INT32_ARRAY) }?;
        Some(if len == 0 { &mut [] } else { unsafe { std::slice::from_raw_parts_mut(data as *mut i32, len) } })
    }

    /// The elements of a Uint32Array value, None when it is not one (same rules as `i32s_of`).
    ///
    /// # Safety
    /// As `i32s_of`.
    pub unsafe fn u32s_of<'b>(&self, v: Value) -> Option<&'b mut [u32]> {
        let (data, len) = unsafe { self.words_of(v, NAPI_UINT32_ARRAY) }?;
        Some(if len == 0 { &mut [] } else { unsafe { std::slice::from_raw_parts_mut(data as *mut u32, len) } })
    }

    /// The data and length of a typed array of 32-bit `kind`, aligned; len 0 for an empty or detached one.
    unsafe fn words_of(&self, v: Value, kind: napi_typedarray_type) -> Option<(*mut c_void, usize)> {
        let (mut got, mut len, mut data) = (0, 0usize, ptr::null_mut::<c_void>());
        let s = unsafe { napi_get_typedarray_info(self.raw, v.0, &mut got, &mut len, &mut data, ptr::null_mut(), ptr::null_mut()) };
        if s != NAPI_OK || got != kind || !(data as usize).is_multiple_of(4) {
            return None;
        }
        Some((data, if data.is_null() { 0 } else { len }))
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

    pub(super) fn throw(&self, err: JsError) {
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

unsafe extern "C" fn finalize<T>(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    if !data.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(data as *mut T))));
    }
}
