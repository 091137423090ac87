//! `--replay`'s pure side: comparing a recorded response with a new one
//! ([`compare`]), counting and showing what came of each replayed query
//! ([`summary`]), and turning the trace's paired events into the cases to
//! replay ([`cases`]). The driver, with the sockets and the clock, is
//! `run::replay`.

pub mod cases;
pub mod compare;
pub mod summary;
