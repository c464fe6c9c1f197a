//! The arguments of one native call, checked and converted with errors that name the argument.

use std::ffi::{c_char, c_void};
use std::marker::PhantomData;
use std::ptr;

use super::sys::*;
use super::{status, Env, JsError, JsResult, Value, Wrapped, MAX_ARGS};

/// The arguments and receiver of one native call; borrowed views live as long as the call.
pub struct Args<'a> {
    pub(super) env: Env,
    pub(super) argv: [napi_value; MAX_ARGS],
    pub(super) argc: usize,
    pub(super) fname: &'static str,
    pub(super) _call: PhantomData<&'a mut ()>,
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
