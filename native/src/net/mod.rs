//! The native TCP transport (src/transports/native-tcp.ts drives it): listening and accepted
//! sockets owned here, readiness from one epoll descriptor per listener that libuv watches
//! inside Node's own loop (bind_tcp.rs), reads handed to JavaScript in one batch per readiness,
//! a turn's writes in one call (writev per socket). Only `server` (with its parts
//! accept.rs, read.rs, write.rs) and `sys` do I/O; the other modules are pure and unit-tested.

pub mod addr;
pub mod conns;
pub mod gate;
pub mod outbuf;
pub mod server;
pub mod sys;
