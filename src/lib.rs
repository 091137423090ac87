//! qtap: dig-style DNS queries recorded as dnstap, and a renderer for any
//! dnstap file.
//!
//! The crate is split so that everything but `query` (sockets) and the
//! binary's `main.rs` (terminal, files) is pure: wire parsing, framing,
//! pairing and rendering take bytes and return bytes or text, and can be
//! tested without a network.

#![deny(clippy::print_stdout, clippy::print_stderr)]
// `unsafe` lives in `sys` only, apart from two local, commented exceptions
// (query/udp.rs: registering a borrowed socket; dns/name.rs: ASCII text).
#![deny(unsafe_code)]
#![allow(missing_docs)]

pub mod civil;
pub mod cli;
pub mod config;
pub mod dns;
pub mod error;
pub mod exit;
pub mod fsutil;
pub mod pair;
pub mod query;
pub mod render;
pub mod replay;
pub mod rrsets;
pub mod run;
pub mod scrub;
pub mod select;
pub mod stats;
#[allow(unsafe_code)]
pub mod sys;
pub mod tap;
#[cfg(test)]
pub(crate) mod testutil;
