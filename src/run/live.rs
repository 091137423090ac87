//! A live run: one lookup loop. Up to N lookups are in flight on one
//! thread (`+parallel=N`; sequential is N = 1, where each lookup hands its
//! session to the next, so `+keepopen` reuses a connection). A
//! [`FuturesOrdered`] keeps them in input order; the oldest shows its
//! output as it comes, the others hold theirs until their turn ([`lane`]).
//! The UDP queries of parallel lookups share sockets per server, each
//! carrying a limited number of exchanges ([`query::udp::MuxPool`]).
//!
//! Output is written out ([`Output::release`]) whenever the run is about
//! to wait: a lookup that ended with nothing else ready, or a slow server.
//! A signal stops every lookup, shows what each produced, and finishes the
//! trace.
//!
//! Cost, measured with callgrind against knotd on loopback (1000 lookups
//! from `-f`), against the hand-written in-place executor this replaced:
//! +11% user-space instructions both sequential (97.0M to 108.4M, of which
//! 65.6M in both is `query` zeroing a 64 KiB buffer per lookup) and with
//! `+parallel=64` (34.4M to 38.2M: about 1k instructions per lookup for
//! moving its future into the set, 0.9k for the stop signal, the rest for
//! the channel). Wall times on the shared test machine did not tell the
//! two apart (`bench/query.sh`'s `-f` rows, interleaved).

use std::io::Write;

use bytes::Bytes;
use futures_util::stream::{FuturesOrdered, StreamExt};
use tokio::sync::{mpsc, watch};

use crate::config::{ServerSpec, TapTarget};
use crate::error::{exits, Error};
use crate::query::spec::QuerySpec;
use crate::query::{self, Outcome, RecordMeta, Session};

use super::hold::{Hold, Spill};
use super::lane::{self, hold_error, Finished, Item, LaneSink, Turns};
use super::output::Output;
use super::signals::Signals;
use super::targets::Targets;
use super::view::View;

/// What a live run is asked to do.
pub struct Live<'q> {
    /// The server.
    pub server: &'q ServerSpec,
    /// `-4`/`-6`.
    pub family: Option<u8>,
    /// The lookups, in input order.
    pub queries: &'q [QuerySpec],
    /// `--tap`.
    pub tap: Option<&'q TapTarget>,
}

/// With `+parallel=N`, new lookups start once N / REFILL_SHARE places are
/// free: the queries go out back to back, which a server answers with less
/// work than one at a time.
const REFILL_SHARE: usize = 2;

/// Bytes all lookups waiting for their turn keep in memory together; the
/// rest waits in a temporary file ([`super::hold`]).
const HOLD_BUDGET: usize = 8 << 20;

/// Why the loop ended.
enum End {
    /// Every lookup ran.
    Done,
    /// A signal came (its exit code).
    Signal(u8),
    /// A lookup, a server name or the output failed.
    Failed(Error),
}

/// How the run labels its records.
fn meta(tap: Option<&TapTarget>) -> RecordMeta {
    RecordMeta {
        kind: tap.map(|t| t.kind).unwrap_or_default(),
        identity: tap
            .and_then(|t| t.identity.clone())
            .map(|i| Bytes::from(i.into_bytes())),
        version: Bytes::from(super::version_string()),
    }
}

/// Runs the lookups; returns the exit code.
pub async fn run<'a>(
    live: Live<'_>,
    view: View,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
) -> Result<u8, Error> {
    let meta = meta(live.tap);
    // The trace is opened before anything is sent, and signals are caught
    // only then: a FIFO's open waits for a reader, and Ctrl-C must still
    // end that wait.
    let mut output = Output::open(live.tap, view, out, err)?;
    let mut signals = Signals::catch()?;
    let parallel = live.queries.iter().map(|q| q.opts.parallel).max();
    let parallel = usize::from(parallel.unwrap_or(1).max(1));
    let keep = parallel == 1;
    let refill_at = parallel - (parallel / REFILL_SHARE).max(1);
    let mut targets = Targets::new(live.server, live.family);
    let mut waiting = live.queries.iter();
    let pool = std::rc::Rc::new(query::udp::MuxPool::default());
    let spill = Spill::new(HOLD_BUDGET);
    let (turns, _) = watch::channel(Turns::default());
    let (to_run, mut from_lanes) = mpsc::unbounded_channel::<Item>();
    let mut running = FuturesOrdered::new();
    let mut started = 0u64;
    let mut spare: Option<Session> = None;
    let mut code = exits::OK;
    // One wait for the signals for the whole run (made anew at every turn
    // of the loop, it would register with the four signals each time).
    let signal = signals.recv();
    tokio::pin!(signal);
    // The `--tap unix:`/`tcp:` sender's warnings, shown as they happen.
    let tap_warnings = output.tap_warnings();
    let end = 'run: loop {
        if running.len() <= refill_at {
            while running.len() < parallel {
                let Some(spec) = waiting.next() else { break };
                let target = match targets.get(spec).await {
                    Ok(t) => t,
                    Err(e) => break 'run End::Failed(e),
                };
                let session = spare.take().unwrap_or_else(|| match keep {
                    true => Session::default(),
                    false => Session::shared(pool.clone()),
                });
                let hold = Hold::new(spill.clone());
                let sink = LaneSink::new(started, hold, turns.subscribe(), to_run.clone());
                started += 1;
                running.push_back(lane::lookup(spec, target, &meta, session, sink, keep));
            }
        }
        if running.is_empty() {
            break End::Done;
        }
        tokio::select! {
            biased;
            code = &mut signal => break End::Signal(code),
            () = super::output::posted(tap_warnings.as_deref()) => output.show_tap_warnings(),
            Some(item) = from_lanes.recv() => {
                if let Err(e) = show(&mut output, item) {
                    break End::Failed(e);
                }
            }
            Some(done) = running.next() => {
                let Finished { hold, result, session } = done;
                if let Err(e) = drain(&mut output, &mut from_lanes, hold) {
                    break End::Failed(e);
                }
                turns.send_modify(|t| t.head += 1);
                spare = session;
                match result {
                    None => {}
                    Some(Err(e)) => break End::Failed(e),
                    Some(done) => {
                        if matches!(done, Ok(Outcome::NoReply)) {
                            output.diag(";; no servers could be reached");
                        }
                        // The code comes from the one table of outcomes.
                        let c = crate::error::exit_code(&done);
                        if c != exits::OK {
                            code = c;
                        }
                    }
                }
            }
            // Nothing else is ready: the run is about to wait.
            () = std::future::ready(()), if output.dirty() => output.release(),
        }
    };
    // Stop the lookups still running; keep every message already sent or
    // received, in order.
    turns.send_modify(|t| t.stop = true);
    let mut shown = Ok(());
    while let Some(done) = running.next().await {
        shown = shown.and_then(|()| drain(&mut output, &mut from_lanes, done.hold));
        if keep {
            spare = spare.or(done.session);
        }
    }
    if let Some(session) = spare {
        session.close().await;
    }
    finish(output, end, shown, code)
}

/// Shows one item a lookup handed over.
fn show(output: &mut Output<'_>, item: Item) -> Result<(), Error> {
    output.show(item.map_err(|e| hold_error(&e))?)
}

/// Shows what the run's head-of-line lookup handed over, then what its
/// hold kept.
fn drain(
    output: &mut Output<'_>,
    from_lanes: &mut mpsc::UnboundedReceiver<Item>,
    mut hold: Hold,
) -> Result<(), Error> {
    while let Ok(item) = from_lanes.try_recv() {
        show(output, item)?;
    }
    while let Some(item) = hold.pop() {
        show(output, item)?;
    }
    Ok(())
}

/// Closes the output; the exit code, or the error that ended the run.
fn finish(
    mut output: Output<'_>,
    end: End,
    shown: Result<(), Error>,
    code: u8,
) -> Result<u8, Error> {
    match end {
        End::Done => {
            shown?;
            output.close()?;
            Ok(code)
        }
        End::Signal(signal_code) => {
            shown?;
            output.diag(";; interrupted");
            output.close()?;
            Ok(signal_code)
        }
        End::Failed(e) => {
            let _ = output.close();
            Err(e)
        }
    }
}
