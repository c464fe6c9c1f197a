//! Junction's native core, loaded by Node as native/junction.node: the MQTT frame scanner,
//! the topic trie, descriptor helpers for pausing listeners, a C-heap trim and a TCP transport (net/), over a hand-written N-API layer (no crates). Only `napi` touches FFI.
//!
//! Test builds (`cargo test`) leave out the N-API layer and the bindings: their napi_* symbols
//! exist only inside a node process, and a test executable that kept any reference to them
//! would link only as long as the linker happened to discard it. The unit tests cover the pure
//! modules; test/native/*.test.ts covers the bindings from Node.

#[cfg(not(test))]
pub mod napi;
#[cfg(not(test))]
mod bind_exec;
#[cfg(not(test))]
mod bind_fd;
#[cfg(not(test))]
mod bind_memory;
#[cfg(not(test))]
mod bind_scanner;
#[cfg(not(test))]
mod bind_tcp;
#[cfg(not(test))]
mod bind_trie;
mod memory;
pub mod net;
mod scanner;
mod trie;

#[cfg(not(test))]
use napi::sys::{napi_env, napi_value};
#[cfg(not(test))]
use napi::{Env, JsResult, Value};

/// ABI version of this module's exports; the TS loader refuses a mismatch.
#[cfg(not(test))]
const ABI_VERSION: u32 = 3;

#[cfg(not(test))]
fn init(env: Env, exports: Value) -> JsResult<()> {
    for (name, cb) in bind_scanner::EXPORTS.iter().chain(bind_trie::EXPORTS).chain(bind_fd::EXPORTS).chain(bind_memory::EXPORTS).chain(bind_exec::EXPORTS).chain(bind_tcp::EXPORTS) {
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
#[cfg(not(test))]
#[no_mangle]
pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
    // SAFETY: the arguments are Node's, per this function's contract.
    unsafe { napi::init_module(env, exports, init) }
}
