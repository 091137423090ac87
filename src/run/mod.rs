//! Orchestration: what a run does with a validated [`Config`]. This module
//! is the dispatch on the mode; `read` renders dnstap inputs (the threaded
//! `--read` pipeline), `live` runs the lookups (one loop, sequential being
//! `+parallel=1`) and the rest serves it: `lane` (one lookup and what it
//! holds back, with `hold`), `output` (the run's text and diagnostic
//! streams), `trace` (the `--tap` output and its flush policy), `chunked`
//! (writing in large pieces), `signals`, `targets` (server addresses) and
//! `view` (pairer + printer); `collect` listens on sockets for live dnstap
//! senders and `capture` saves what they send (`--write`, rotation). The caller (main.rs) passes the output
//! streams in; nothing here opens the terminal itself.

pub mod capture;
mod chunked;
pub mod collect;
mod hold;
mod lane;
pub mod live;
mod output;
pub mod read;
mod signals;
mod targets;
mod trace;
pub mod view;

use std::io::Write;

use crate::config::{Config, Mode};
use crate::error::Error;

pub use view::View;

/// `Dnstap.version` of qtap's records.
pub fn version_string() -> String {
    format!("qtap {}", env!("CARGO_PKG_VERSION"))
}

/// Runs the whole program. Returns the exit code.
pub fn run(config: Config, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    match config.mode {
        Mode::Read { files, max_frame } => {
            read::read_files(&files, max_frame, config.display, config.color, out, err)
        }
        Mode::Collect {
            inputs,
            max_frame,
            output,
            socket,
            render,
        } => collect::run(
            &inputs,
            collect::CollectOptions {
                max_frame,
                render,
                ..Default::default()
            },
            output,
            &socket,
            config.display,
            config.color,
            out,
            err,
        ),
        Mode::Query {
            server,
            family,
            queries,
            tap,
            warning,
        } => {
            if let Some(w) = warning {
                let _ = writeln!(err, "{w}");
            }
            let live = live::Live {
                server: &server,
                family,
                queries: &queries,
                tap: tap.as_ref(),
            };
            let view = View::new(config.display, config.color);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
            // A local set: the UDP sockets parallel lookups share run
            // their readers as local tasks.
            let local = tokio::task::LocalSet::new();
            runtime.block_on(local.run_until(live::run(live, view, out, err)))
        }
    }
}
