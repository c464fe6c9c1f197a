//! Junction's native core, loaded by Node as native/junction.node: the MQTT frame scanner,
//! the topic trie and descriptor helpers for pausing listeners, over a hand-written N-API layer (no crates). Only `napi` touches FFI.

pub mod napi;
mod bind_fd;
mod bind_scanner;
mod bind_trie;
mod memory;
mod scanner;
mod trie;

use napi::sys::{napi_env, napi_value};
use napi::{Env, JsResult, Value};

/// ABI version of this module's exports; the TS loader refuses a mismatch.
const ABI_VERSION: u32 = 2;

fn init(env: Env, exports: Value) -> JsResult<()> {
    for (name, cb) in bind_scanner::EXPORTS.iter().chain(bind_trie::EXPORTS).chain(bind_fd::EXPORTS) {
        let f = env.function(name, *cb)?;
        env.set(exports, name, f)?;
    }
    env.set(exports, "abiVersion", env.uint32(ABI_VERSION)?)?;
    Ok(())
}

/// Entry point Node looks up when loading the addon.
///
/// # Safety
/// Called by Node only, with the environment and exports object of the loading module.
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    // SAFETY: the arguments are Node's, per this function's contract.
    unsafe { napi::init_module(env, exports, init) }
}
