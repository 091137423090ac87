//! `--stats`: reads dnstap inputs through the selection options and the
//! pairer into [`crate::stats::Stats`], then prints the summary as text or
//! JSON. One thread: decoding and counting are cheap next to rendering.
//! The input comes through [`super::source`]: files, stdin or the live
//! collector (printed when the collector stops).

use std::io::Write;
use std::path::PathBuf;

use crate::error::{exits, Error};
use crate::pair::Pairer;
use crate::select::Filter;
use crate::stats::Stats;
use crate::tap::event::Event;

use super::source::{FileFrames, Frames, Piece, Selected};

/// Frame bytes after which [`for_each_selected`] has what is kept let go
/// of the buffers they came in.
const RELEASE_EVERY: usize = 1 << 20;

/// Calls `each` with every event `selected` yields, in order; counts
/// frames, damage and losses into `stats`. Warnings go to `err`. The
/// number of frames or inputs lost. Every [`RELEASE_EVERY`] bytes of
/// frames `each` is told (`true`) to let go of the buffers the events came
/// in (a query kept for its response gets its own copy), and the source
/// starts a new one: memory stays flat whatever the frames carry.
pub fn for_each_selected<F: Frames>(
    selected: &mut Selected<F>,
    stats: &mut Stats,
    err: &mut dyn Write,
    mut each: impl FnMut(Event, &mut Stats, bool),
) -> u64 {
    let mut lost = 0;
    let mut pieces = Vec::new();
    let mut read = 0;
    let mut held = 0usize;
    while selected.next(&mut pieces) {
        for _ in read..selected.read {
            stats.frame();
        }
        read = selected.read;
        for piece in pieces.drain(..) {
            match piece {
                Piece::Frame(event, payload) => {
                    held += payload.len();
                    let release = held >= RELEASE_EVERY;
                    each(event, stats, release);
                    if release {
                        selected.detach();
                        held = 0;
                    }
                }
                Piece::Note(n) => {
                    if let Some(kind) = n.damage {
                        stats.damage(kind);
                    }
                    let _ = writeln!(err, "{}", n.line);
                    lost += u64::from(n.lost);
                }
                Piece::Lost(n) => {
                    for _ in 0..n {
                        stats.damage("frame lost by the collector");
                    }
                    lost += n;
                }
                // Undecoded frames come only to a consumer that saves.
                Piece::Idle | Piece::Rotate | Piece::Undecoded(_) => {}
            }
        }
    }
    lost
}

/// `--stats` over `files`: the summary (text, or JSON with `json`) with
/// `top` rows in the top lists. Exit code 8 when data was lost.
pub fn stats_files(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    top: usize,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let selected = Selected::new(FileFrames::new(files, max_frame), filter, None);
    let lost = stats_of(selected, top, json, out, err)?;
    Ok(exits::lost_or_ok(lost))
}

/// `--stats` over what `selected` yields (files or the collector, until
/// it stops). The number of frames or inputs lost.
pub fn stats_of<F: Frames>(
    mut selected: Selected<F>,
    top: usize,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u64, Error> {
    let mut stats = Stats::default();
    stats.selection(selected.selects_some());
    let mut pairer = Pairer::default();
    let mut items = Vec::new();
    let lost = for_each_selected(&mut selected, &mut stats, err, |e, stats, release| {
        pairer.push(e, &mut items);
        for i in items.drain(..) {
            stats.push(&i);
        }
        if release {
            pairer.detach();
        }
    });
    pairer.finish(&mut items);
    for i in items.drain(..) {
        stats.push(&i);
    }
    let text = if json {
        stats.json(top)
    } else {
        stats.text(top)
    };
    out.write_all(text.as_bytes())?;
    Ok(lost)
}

/// `--rrsets` over `files`: the passive-DNS view, DNSDB text or JSON
/// Lines (`json`). Exit code 8 when data was lost.
pub fn rrsets_files(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let selected = Selected::new(FileFrames::new(files, max_frame), filter, None);
    let lost = rrsets_of(selected, json, out, err)?;
    Ok(exits::lost_or_ok(lost))
}

/// `--rrsets` over what `selected` yields. The number of frames or inputs
/// lost.
pub fn rrsets_of<F: Frames>(
    mut selected: Selected<F>,
    json: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u64, Error> {
    let mut stats = Stats::default();
    let mut sets = crate::rrsets::RrSets::new();
    let lost = for_each_selected(&mut selected, &mut stats, err, |e, _, _| {
        sets.push(&e);
    });
    let text = if json { sets.json_lines() } else { sets.text() };
    out.write_all(text.as_bytes())?;
    if sets.left_out > 0 {
        let _ = writeln!(
            err,
            ";; WARNING: {} RRsets past the first {} were not kept",
            sets.left_out,
            crate::rrsets::RRSETS_MAX
        );
    }
    Ok(lost)
}
