//! Orchestration: what a run does with a validated [`Config`]. This module
//! is the dispatch on the mode; `source` reads, decodes, selects and
//! scrubs for every `--read` driver (files and the collector alike); `read`
//! renders what it yields (the threaded pipeline), `write` saves it and
//! `stats` counts it (`--stats`, `--rrsets`); `live` runs the lookups (one loop, sequential being
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
pub mod hex;
mod hold;
mod lane;
pub mod live;
mod output;
pub mod progress;
pub mod read;
pub mod replay;
mod signals;
pub mod source;
pub mod stats;
mod targets;
mod trace;
pub mod view;
pub mod write;

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
    if let Some(notice) = &config.notice {
        let _ = writeln!(err, "{notice}");
    }
    match config.mode {
        Mode::Collect {
            inputs,
            max_frame,
            output,
            socket,
            render,
            max_connections,
            queue_bytes,
            until_closed,
        } => collect::run(
            &inputs,
            collect::CollectOptions {
                max_frame,
                render,
                max_connections,
                queue_bytes,
                until_closed,
                ..Default::default()
            },
            output,
            &socket,
            config.display,
            config.color,
            out,
            err,
        ),
        Mode::Read {
            files,
            max_frame,
            filter,
            scrub,
            output,
        } => match output {
            crate::config::ReadOutput::Render => read::read_selected(
                &files,
                max_frame,
                filter,
                scrub.map(|s| s.scrubber()),
                config.display,
                config.color,
                out,
                err,
            ),
            crate::config::ReadOutput::Write(dest) => write::write_files(
                &files,
                max_frame,
                filter,
                scrub.map(|s| s.scrubber()),
                &dest,
                out,
                err,
            ),
            crate::config::ReadOutput::Rrsets { json } => {
                stats::rrsets_files(&files, max_frame, filter, json, out, err)
            }
            crate::config::ReadOutput::Stats { top, json } => {
                stats::stats_files(&files, max_frame, filter, top, json, out, err)
            }
        },
        Mode::Replay {
            server,
            family,
            template,
            tap,
            warning,
            opts,
        } => {
            if let Some(w) = warning {
                let _ = writeln!(err, "{w}");
            }
            let r = replay::Replay {
                server: &server,
                family,
                template: &template,
                tap: tap.as_ref(),
                opts: &opts,
            };
            replay::run(r, out, err)
        }
        Mode::Hex(args) => hex::hex_args(
            &args,
            &mut std::io::stdin().lock(),
            config.display,
            config.color,
            out,
        ),
        Mode::Wire(path) => hex::wire_file(&path, config.display, config.color, out),
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

/// Opens one `--read` input: a file, or stdin for `-`; with its size when
/// it is a regular file (for progress).
pub(crate) fn open_input(
    path: &std::path::Path,
) -> std::io::Result<(Box<dyn std::io::Read + Send>, Option<u64>)> {
    if path.as_os_str() == "-" {
        return Ok((Box::new(std::io::stdin()), None));
    }
    let f = std::fs::File::open(path)?;
    let len = f.metadata().ok().filter(|m| m.is_file()).map(|m| m.len());
    Ok((Box::new(f), len))
}
