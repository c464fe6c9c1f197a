//! Safe helpers over the raw N-API: argument checks that name the argument, JS exceptions instead
//! of crashes, panics caught at every entry point. Only this module touches `sys`.

mod args;
mod env;
pub mod sys;

pub use args::Args;
pub use env::Persistent;

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
