//! Starting the process again with other Node.js flags, in place (execv: same process id, same
//! descriptors, same environment): `junction start` on a single CPU restarts itself with
//! `--single-threaded-gc` (src/server/single-cpu-gc.ts), a V8 flag that cannot be set once V8 runs.
//! Node.js 20 has no process.execve (Node.js 23 added one).

use std::ffi::{c_char, c_int, CString};

use crate::js_function;
use crate::napi::{Args, JsError, JsResult, Value};

extern "C" {
    fn execv(path: *const c_char, argv: *const *const c_char) -> c_int;
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
}

/// fcntl commands and the close-on-exec bit (Linux values).
const F_GETFD: c_int = 1;
const F_SETFD: c_int = 2;
const FD_CLOEXEC: c_int = 1;

/// execNode(path: string, args: string): never — replaces this process with `path`, given the
/// arguments `args` separated by NUL characters (argv[0] first); throws when execv fails.
fn exec_node_js(a: &Args) -> JsResult<Value> {
    a.expect(2)?;
    let mut path = Vec::new();
    a.string_into(0, "path", &mut path)?;
    let mut joined = Vec::new();
    a.string_into(1, "args", &mut joined)?;
    let path = CString::new(path).map_err(|_| JsError::Type("execNode: argument 'path' must not contain NUL".into()))?;
    // Arguments cannot hold a NUL, so NUL separates them; CString::new cannot fail on the pieces.
    let args: Vec<CString> = joined.split(|&b| b == 0).map(|s| CString::new(s).expect("split on NUL")).collect();
    if args.is_empty() || args[0].as_bytes().is_empty() {
        return Err(JsError::Range("execNode: argument 'args' must start with argv[0]".into()));
    }
    // Node.js marks every descriptor it finds at start-up close-on-exec, stdin, stdout and stderr
    // included: without this the new image would start with its logs going nowhere.
    for fd in 0..3 {
        // SAFETY: fcntl on a descriptor number reads no memory; a closed one only yields EBADF.
        unsafe {
            let flags = fcntl(fd, F_GETFD);
            if flags >= 0 && flags & FD_CLOEXEC != 0 {
                fcntl(fd, F_SETFD, flags & !FD_CLOEXEC);
            }
        }
    }
    let mut argv: Vec<*const c_char> = args.iter().map(|s| s.as_ptr()).collect();
    argv.push(std::ptr::null());
    // SAFETY: `path` and every argv entry are NUL-terminated strings that outlive the call, and
    // argv ends with a null pointer. On success execv does not return; the process image (and
    // every other thread) is replaced.
    unsafe { execv(path.as_ptr(), argv.as_ptr()) };
    Err(JsError::Error(format!("execNode: execv({}) failed: {}", path.to_string_lossy(), std::io::Error::last_os_error())))
}

js_function!(exec_node_cb, "execNode", exec_node_js);

/// The process helpers' exports: (name, callback).
pub const EXPORTS: &[(&str, crate::napi::sys::napi_callback)] = &[("execNode", exec_node_cb)];
