//! `--stats`: reads dnstap inputs through the selection options and the
//! pairer into [`crate::stats::Stats`], then prints the summary as text or
//! JSON. One thread: decoding and counting are cheap next to rendering.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::error::{exits, Error};
use crate::pair::Pairer;
use crate::select::{Filter, Selector};
use crate::stats::Stats;
use crate::tap::event::Event;
use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader, TapWarning};

/// Calls `each` with every event of `files` (`-` is stdin) that the
/// selection keeps, in order; counts frames and damage into `stats`.
/// Warnings go to `err`. True when data was lost.
pub fn for_each_selected(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    stats: &mut Stats,
    err: &mut dyn Write,
    mut each: impl FnMut(Event, &mut Stats),
) -> bool {
    let mut selector = Selector::new(filter);
    let mut selected = Vec::new();
    let mut lost = false;
    for path in files {
        let name = crate::render::escaped(path.as_os_str().as_bytes());
        let (input, len) = match super::open_input(path) {
            Ok(opened) => opened,
            Err(e) => {
                let _ = writeln!(err, "qtap: cannot open {name}: {e}");
                stats.damage("input that could not be opened");
                lost = true;
                continue;
            }
        };
        let mut reader = TapReader::new(
            input,
            ReaderOptions {
                max_data: max_frame,
            },
        );
        let mut progress = super::progress::Progress::new(len, &name);
        loop {
            match reader.next_item() {
                Ok(None) => break,
                Ok(Some(TapItem::Data { offset, payload })) => {
                    progress.frame(reader.position());
                    stats.frame();
                    match Event::from_payload(Some(offset), payload) {
                        Ok(event) => {
                            selector.push(event, &mut selected);
                            for e in selected.drain(..) {
                                each(e, stats);
                            }
                        }
                        Err(e) => {
                            stats.damage("frame that is not a dnstap message");
                            let _ = writeln!(
                                err,
                                ";; WARNING: {name}: frame at byte {offset} skipped: {e}"
                            );
                            lost = true;
                        }
                    }
                }
                Ok(Some(TapItem::Warning(w))) => {
                    let kind = match w {
                        TapWarning::Oversize { .. } => "oversize frame skipped",
                        TapWarning::TrailingBytes { .. } => "trailing bytes",
                        TapWarning::MissingStop { .. } => "missing STOP frame",
                        _ => "other Frame Streams oddity",
                    };
                    stats.damage(kind);
                    let _ = writeln!(err, ";; WARNING: {name}: {w}");
                    lost |= matches!(
                        w,
                        TapWarning::Oversize { .. } | TapWarning::TrailingBytes { .. }
                    );
                }
                Err(e) => {
                    stats.damage("unreadable or cut input");
                    let _ = writeln!(err, "qtap: {name}: {e}");
                    lost = true;
                    break;
                }
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
    let mut stats = Stats::default();
    let mut pairer = Pairer::default();
    let mut items = Vec::new();
    let lost = for_each_selected(files, max_frame, filter, &mut stats, err, |e, stats| {
        pairer.push(e, &mut items);
        for i in items.drain(..) {
            stats.push(&i);
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
    Ok(if lost { exits::DATA_LOST } else { exits::OK })
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
    let mut stats = Stats::default();
    let mut sets = crate::rrsets::RrSets::new();
    let lost = for_each_selected(files, max_frame, filter, &mut stats, err, |e, _| {
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
    Ok(if lost { exits::DATA_LOST } else { exits::OK })
}
