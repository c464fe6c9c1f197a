//! File-descriptor helpers Node does not offer: a listener pauses accepting by handing its
//! socket's descriptor back to libuv and keeping a duplicate, so the kernel keeps the listening
//! socket and its backlog while nobody accepts (src/transports/accept-gate.ts); and flock(2),
//! the data directory's lock (src/store/data-dir-lock.ts), which the kernel drops with the process.

use std::ffi::c_int;

use crate::js_function;
use crate::napi::{Args, JsError, JsResult, Value};

extern "C" {
    fn fcntl(fd: c_int, cmd: c_int, ...) -> c_int;
    fn close(fd: c_int) -> c_int;
    fn flock(fd: c_int, operation: c_int) -> c_int;
}

/// flock(2) operations (Linux values).
const LOCK_EX: c_int = 2;
const LOCK_NB: c_int = 4;
/// EWOULDBLOCK (= EAGAIN) on Linux: another open file description holds the lock.
const EWOULDBLOCK: i32 = 11;

/// F_DUPFD_CLOEXEC on Linux: the copy is not inherited by child processes.
const F_DUPFD_CLOEXEC: c_int = 1030;

fn os_error(what: &str, fd: i32) -> JsError {
    JsError::Error(format!("{what}({fd}) failed: {}", std::io::Error::last_os_error()))
}

/// dupFd(fd: number): number — a close-on-exec duplicate of `fd`.
fn dup_fd_js(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let fd = a.i32(0, "fd")?;
    if fd < 0 {
        return Err(JsError::Range(format!("dupFd: argument 'fd' must be a descriptor (>= 0), got {fd}")));
    }
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) reads no memory; an invalid fd only yields EBADF.
    let copy = unsafe { fcntl(fd, F_DUPFD_CLOEXEC, 0 as c_int) };
    if copy < 0 {
        return Err(os_error("dupFd", fd));
    }
    a.env().uint32(copy as u32)
}

/// closeFd(fd: number): void — closes a descriptor made by dupFd.
fn close_fd_js(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let fd = a.i32(0, "fd")?;
    if fd < 0 {
        return Err(JsError::Range(format!("closeFd: argument 'fd' must be a descriptor (>= 0), got {fd}")));
    }
    // SAFETY: close reads no memory; the caller owns `fd` (it came from dupFd).
    if unsafe { close(fd) } != 0 {
        return Err(os_error("closeFd", fd));
    }
    a.env().undefined()
}

/// lockFd(fd: number): boolean — flock(fd, LOCK_EX | LOCK_NB): true when this process now holds
/// the lock, false when another holds it; other failures throw.
fn lock_fd_js(a: &Args) -> JsResult<Value> {
    a.expect(1)?;
    let fd = a.i32(0, "fd")?;
    if fd < 0 {
        return Err(JsError::Range(format!("lockFd: argument 'fd' must be a descriptor (>= 0), got {fd}")));
    }
    // SAFETY: flock reads no memory; an invalid fd only yields EBADF.
    if unsafe { flock(fd, LOCK_EX | LOCK_NB) } == 0 {
        return a.env().boolean(true);
    }
    if std::io::Error::last_os_error().raw_os_error() == Some(EWOULDBLOCK) {
        return a.env().boolean(false);
    }
    Err(os_error("lockFd", fd))
}

js_function!(dup_fd_cb, "dupFd", dup_fd_js);
js_function!(lock_fd_cb, "lockFd", lock_fd_js);
js_function!(close_fd_cb, "closeFd", close_fd_js);

/// The descriptor helpers' exports: (name, callback).
pub const EXPORTS: &[(&str, crate::napi::sys::napi_callback)] = &[("dupFd", dup_fd_cb), ("closeFd", close_fd_cb), ("lockFd", lock_fd_cb)];
