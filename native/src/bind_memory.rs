//! Handing the C heap's free pages back to the kernel (src/transports/heap-trim.ts calls it once
//! a connect storm is over). glibc's malloc keeps what a storm's reads and handshakes freed, and
//! would keep it for good; malloc_trim(0) returns it. Looked up at run time, not linked, so an
//! addon built against another C library still loads (and answers false).

use std::ffi::{c_char, c_int, c_void};

use crate::js_function;
use crate::napi::{Args, JsResult, Value};

extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// trimHeap(): boolean — malloc_trim(0) where the C library has it: true when it ran.
fn trim_heap_js(a: &Args) -> JsResult<Value> {
    a.expect(0)?;
    // SAFETY: dlsym with RTLD_DEFAULT (a null handle on glibc) and a NUL-terminated name only
    // reads the process's symbol tables; a missing symbol yields null.
    let sym = unsafe { dlsym(std::ptr::null_mut(), c"malloc_trim".as_ptr()) };
    if sym.is_null() {
        return a.env().boolean(false);
    }
    // SAFETY: glibc's malloc_trim has this signature, int malloc_trim(size_t pad); it takes
    // malloc's own locks, so it is safe beside other threads' allocations.
    let trim: unsafe extern "C" fn(usize) -> c_int = unsafe { std::mem::transmute(sym) };
    unsafe { trim(0) };
    a.env().boolean(true)
}

js_function!(trim_heap_cb, "trimHeap", trim_heap_js);

/// The memory helpers' exports: (name, callback).
pub const EXPORTS: &[(&str, crate::napi::sys::napi_callback)] = &[("trimHeap", trim_heap_cb)];
