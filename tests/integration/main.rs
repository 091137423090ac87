//! One integration-test binary for qtap: every module runs the real `qtap`
//! binary, against servers started inside the test process on loopback or
//! on trace files in tests/fixtures.

#[path = "../support/mod.rs"]
mod support;

mod batch;
mod collect;
mod damaged;
mod deadlines;
mod encrypted;
mod generate;
mod hostile_tls;
mod identity;
mod interop;
mod knot;
mod live;
mod props;
mod proxy;
mod query;
mod read;
mod render;
mod replay;
mod servers;
mod share;
mod tap;
mod tapfile;
mod trace;
mod tryout;
mod tsig;

// The helpers every module uses (`crate::qtap()`, `crate::have()`, ...).
pub use support::*;
