//! `--replay`'s pure side: comparing a recorded response with a new one
//! ([`compare`]), counting and showing what came of each replayed query
//! ([`summary`]), and turning the trace's paired events into the cases to
//! replay ([`cases`]). The driver, with the sockets and the clock, is
//! `run::replay`.

pub mod cases;
pub mod compare;
pub mod rewrite;
pub mod summary;

use std::path::PathBuf;

/// How a replay runs and what it shows: the options of `--replay` beside
/// the lookup's own (`+timeout`, `+tries`, `+parallel`, transport).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplayOpts {
    /// The trace to replay (`-` for stdin).
    pub file: PathBuf,
    /// Largest data frame to accept.
    pub max_frame: usize,
    /// What is compared and how.
    pub compare: compare::CompareOpts,
    /// `--rate`: at most this many queries per second.
    pub rate: Option<f64>,
    /// `--speed`: paced by the recorded query times, this many times
    /// faster than recorded (1: real time).
    pub speed: Option<f64>,
    /// `--mismatches`: where to write the recorded and new messages of
    /// every case that differs.
    pub mismatches: Option<PathBuf>,
    /// `--replay-edns`.
    pub edns: rewrite::EdnsMode,
    /// A transport was chosen on the command line: every query goes over
    /// it, not over the one recorded.
    pub transport_forced: bool,
    /// `--format json` (Some(false)) or `jsonl` (Some(true)).
    pub json: Option<bool>,
    /// Rows in the summary's top lists (`--top`).
    pub top: usize,
    /// `--replay unix:PATH` or `tcp:ADDR:PORT`: listen as the collector
    /// does and replay the queries as they arrive.
    pub live: Option<Live>,
}

/// The collector's settings for a live replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Live {
    /// Where to listen.
    pub endpoint: crate::tap::endpoint::Endpoint,
    /// `--socket-mode`, `--socket-owner`.
    pub socket: crate::tap::endpoint::SocketOpts,
    /// `--max-connections`.
    pub max_connections: usize,
    /// `--collector-buffer`.
    pub queue_bytes: usize,
    /// `--until-closed`: end when the senders have gone.
    pub until_closed: bool,
}
