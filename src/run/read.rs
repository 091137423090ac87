//! `--read`: one thread reads, decodes, selects, pairs and plans every
//! input in order (files, stdin, or the live collector, through
//! [`Selected`]); one thread per core lays out alternate batches; the
//! calling thread writes the text back in order through the [`Printer`].
//! Memory stays a few MiB whatever the input size: the channels hold at
//! most [`BATCHES_IN_FLIGHT`] batches each. A live input that pauses
//! ([`Piece::Idle`]) sends what is batched at once and the text goes out:
//! nothing sits in a buffer while nothing arrives.
//!
//! The speed work of `--read` lives here and in the source's arena; the
//! benchmarks that justify it are `bench/read.sh` and `bench/collect.sh`
//! (BENCHMARKS.md).

use std::io::Write;
use std::path::PathBuf;

use crate::error::{exits, Error};
use crate::pair::Pairer;
use crate::render::printer::{Batch, BatchDrawer, Batcher, Drawn, Printer};
use crate::render::DisplayOpts;
use crate::scrub::Scrubber;
use crate::select::Filter;

use super::source::{FileFrames, Frames, Piece, Save, Scrub, Selected};

/// What the reading thread hands to a drawing one, in order.
enum ReadMsg {
    /// A batch to draw.
    Batch(Batch),
    /// A line for stderr.
    Warning(String),
    /// Frames that could not be read or decoded.
    Lost(u64),
    /// The input pauses: write out what waits.
    Flush,
}

/// What a drawing thread hands to the writing one, in order.
enum DrawnMsg {
    Drawn(Drawn),
    Warning(String),
    Lost(u64),
    Flush,
}

/// Items per message between the threads: large enough to amortise the
/// hand-over, small enough to keep memory flat.
const ITEMS_PER_BATCH: usize = 512;

/// Frame bytes per message between the threads: a batch ends at
/// [`ITEMS_PER_BATCH`] items or at this many bytes of frames, whichever
/// comes first. Ordinary frames (a few hundred bytes) never reach it;
/// 512 frames near the 1 MiB frame limit would hold 512 MiB per batch.
const BYTES_PER_BATCH: usize = 1 << 20;

/// Batches in flight per channel: with one channel to and one from each
/// drawing thread, memory stays a few MiB whatever the file size (a batch
/// holds at most about [`BYTES_PER_BATCH`] of frames).
const BATCHES_IN_FLIGHT: usize = 2;

/// Batches go to the drawing threads in turn and come back in the same
/// turn, so the output keeps the order of the input.
struct RoundRobin<T> {
    senders: Vec<std::sync::mpsc::SyncSender<T>>,
    next: usize,
}

impl<T> RoundRobin<T> {
    /// Sends to the next thread in turn; false when it is gone.
    fn send(&mut self, msg: T) -> bool {
        let Some(tx) = self.senders.get(self.next) else {
            return false;
        };
        self.next = (self.next + 1) % self.senders.len();
        tx.send(msg).is_ok()
    }
}

/// The reading thread's side of the channels: sends what is batched before
/// any other message, so the output keeps the order of the input.
struct Planned {
    batcher: Batcher,
    tx: RoundRobin<ReadMsg>,
}

impl Planned {
    /// Sends what is batched, then `msg`; false when the writer is gone.
    fn send(&mut self, msg: Option<ReadMsg>) -> bool {
        (self.batcher.is_empty()
            || self
                .tx
                .send(ReadMsg::Batch(self.batcher.take(ITEMS_PER_BATCH))))
            && msg.is_none_or(|m| self.tx.send(m))
    }

    /// Sends what is batched, a warning, and whether data was lost.
    fn warn(&mut self, line: String, lost: bool) -> bool {
        self.send(Some(ReadMsg::Warning(line))) && (!lost || self.tx.send(ReadMsg::Lost(1)))
    }
}

/// Reads, decodes, selects, saves (`save`), pairs and plans every input,
/// sending batches in order. Err only when saving fails.
fn read_and_plan<F: Frames>(
    mut selected: Selected<F>,
    mut save: Option<&mut (dyn Save + Send)>,
    mut planned: Planned,
) -> Result<(), Error> {
    let mut pairer = Pairer::default();
    let mut pieces = Vec::new();
    let mut items = Vec::new();
    // Frame bytes in the batch being built.
    let mut batch_bytes = 0;
    while selected.next(&mut pieces) {
        for piece in pieces.drain(..) {
            let sent = match piece {
                Piece::Frame(mut event, payload) => {
                    batch_bytes += payload.len();
                    if let Some(s) = save.as_deref_mut() {
                        if let Some(at) = s.save(&payload)? {
                            // The offset in the file saved, so that live
                            // output equals `--read` of that file.
                            event.offset = Some(at);
                        }
                    }
                    pairer.push(event, &mut items);
                    for item in items.drain(..) {
                        planned.batcher.push(item);
                    }
                    true
                }
                Piece::Note(n) => planned.warn(n.line, n.lost),
                Piece::Lost(n) => planned.send(Some(ReadMsg::Lost(n))),
                // Only a consumer that saves asks for undecoded frames.
                Piece::Undecoded(_) => true,
                Piece::Idle => {
                    if let Some(s) = save.as_deref_mut() {
                        s.release()?;
                    }
                    planned.send(Some(ReadMsg::Flush))
                }
                Piece::Rotate => {
                    if let Some(s) = save.as_deref_mut() {
                        s.rotate()?;
                    }
                    true
                }
            };
            if !sent {
                return Ok(());
            }
        }
        if planned.batcher.len() >= ITEMS_PER_BATCH || batch_bytes >= BYTES_PER_BATCH {
            if !planned.send(None) {
                return Ok(());
            }
            batch_bytes = 0;
            // The queries still waiting let go of this allocation.
            pairer.detach();
            selected.detach();
        }
    }
    pairer.finish(&mut items);
    for item in items.drain(..) {
        planned.batcher.push(item);
    }
    planned.batcher.finish();
    let summary = selected.scrub_summary().map(ReadMsg::Warning);
    planned.send(summary);
    Ok(())
}

/// Draws batches into text, in the order they come.
fn draw_batches(
    mut drawer: BatchDrawer,
    rx: std::sync::mpsc::Receiver<ReadMsg>,
    tx: std::sync::mpsc::SyncSender<DrawnMsg>,
) {
    for msg in rx {
        let drawn = match msg {
            ReadMsg::Batch(batch) => DrawnMsg::Drawn(drawer.draw(&batch)),
            ReadMsg::Warning(line) => DrawnMsg::Warning(line),
            ReadMsg::Lost(n) => DrawnMsg::Lost(n),
            ReadMsg::Flush => DrawnMsg::Flush,
        };
        if tx.send(drawn).is_err() {
            return;
        }
    }
}

/// How many threads draw text for `--read`: one per core, within reason.
fn drawing_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().clamp(1, 4))
}

/// `--read` of `files` (`-` is stdin): renders every message to `out`,
/// warnings to `err`. Exit code 8 when data was lost.
pub fn read_files(
    files: &[PathBuf],
    max_frame: usize,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    read_selected(
        files,
        max_frame,
        Filter::default(),
        None,
        display,
        color,
        out,
        err,
    )
}

/// [`read_files`] showing only the exchanges `filter` selects (selection
/// runs on the reading thread, before pairing; see [`crate::select`]),
/// scrubbed by `scrub` when given (after selection: the options select on
/// the original values), with its summary on `err` at the end.
#[allow(clippy::too_many_arguments)]
pub fn read_selected(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    scrub: Option<Scrubber>,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let scrub = scrub.map(|scrubber| Scrub {
        scrubber,
        payload: false,
    });
    let selected = Selected::new(FileFrames::new(files, max_frame), filter, scrub);
    let lost = render(selected, None, display, color, out, err)?;
    Ok(exits::lost_or_ok(lost))
}

/// Renders what `selected` yields to `out` (warnings to `err`, in their
/// place), saving each selected frame with `save` first when given.
/// Returns how many frames or inputs were lost.
pub fn render<F: Frames + Send>(
    selected: Selected<F>,
    save: Option<&mut (dyn Save + Send)>,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u64, Error> {
    let mut printer = Printer::new(display, color, false);
    let planned = Planned {
        batcher: printer.batcher(),
        tx: RoundRobin {
            senders: Vec::new(),
            next: 0,
        },
    };
    let mut lost = 0;
    let result = std::thread::scope(|scope| -> Result<(), Error> {
        let mut planned = planned;
        let mut drawn = Vec::new();
        for _ in 0..drawing_threads() {
            let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
            let drawer = printer.drawer();
            scope.spawn(move || draw_batches(drawer, rx, done_tx));
            planned.tx.senders.push(tx);
            drawn.push(done_rx);
        }
        let reading = scope.spawn(move || read_and_plan(selected, save, planned));
        // Take the batches back in the turn they were sent in; the reader
        // is done when the next thread in turn has nothing more.
        let written = (|| -> std::io::Result<()> {
            for rx in drawn.iter().cycle() {
                match rx.recv() {
                    Ok(DrawnMsg::Drawn(d)) => printer.show_drawn(d, out)?,
                    Ok(DrawnMsg::Warning(line)) => {
                        let _ = writeln!(err, "{line}");
                    }
                    Ok(DrawnMsg::Lost(n)) => lost += n,
                    Ok(DrawnMsg::Flush) => printer.flush(out)?,
                    Err(_) => break,
                }
            }
            Ok(())
        })();
        // On a write error (a closed pipe) the receivers go and the other
        // threads stop at their next send.
        drop(drawn);
        let read = reading
            .join()
            .unwrap_or_else(|_| Err(Error::Internal("the reading thread failed".into())));
        written?;
        read
    });
    result?;
    printer.finish(out)?;
    Ok(lost)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pair::Item;
    use crate::render::Format;
    use crate::run::View;
    use crate::tap::event::Event;
    use crate::tap::writer::TapWriter;
    use crate::testutil::{corpus_files, events_of, read_files_plain};
    use bytes::Bytes;
    use std::fs::File;
    use std::path::Path;

    /// A trace of every corpus record, over and over: many batches, with
    /// zone transfers, truncated answers and their TCP retries, and
    /// unanswered queries falling on batch boundaries.
    fn long_trace(dir: &Path) -> PathBuf {
        let events: Vec<Event> = corpus_files().iter().flat_map(|p| events_of(p)).collect();
        let path = dir.join("long.fstrm");
        let mut writer = TapWriter::new(File::create(&path).unwrap()).unwrap();
        let mut written = 0;
        for round in 0..20 {
            // A different cut each round, so each batch boundary moves.
            for e in events.iter().skip(round * 7) {
                writer.write(&e.to_pb()).unwrap();
                written += 1;
            }
        }
        writer.finish().unwrap();
        assert!(written > 10 * ITEMS_PER_BATCH, "only {written} records");
        path
    }

    /// What the one-thread path (live mode's) shows for the trace.
    fn sequential(path: &Path, display: &DisplayOpts) -> String {
        let mut view = View::new(display.clone(), false);
        let mut out = Vec::new();
        for e in events_of(path) {
            view.push(e, &mut out).unwrap();
        }
        view.finish(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn threaded(path: &Path, display: &DisplayOpts) -> String {
        let (code, out, err) = read_files_plain(&[path.to_path_buf()], display.clone());
        assert_eq!(code, exits::OK, "{}", String::from_utf8_lossy(&err));
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_batch_between_threads_holds_a_bounded_number_of_frame_bytes() {
        // 60 records with a 200 KiB identity each: batches end by bytes
        // long before 512 items (one batch would hold 12 MB). A batch may
        // pass the limit by the frame that crosses it and by the queries
        // the pairer reports unanswered then (counted in earlier batches).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big-frames.fstrm");
        let mut writer = TapWriter::new(File::create(&path).unwrap()).unwrap();
        let events = events_of(&corpus_files()[0]);
        for e in events.iter().cycle().take(60) {
            let mut e = e.clone();
            e.identity = Some(Bytes::from(vec![b'i'; 200 * 1024]));
            writer.write(&e.to_pb()).unwrap();
        }
        writer.finish().unwrap();
        let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
        let display = DisplayOpts {
            format: Some(Format::Json),
            qr: true,
            ..DisplayOpts::default()
        };
        let planned = Planned {
            batcher: Printer::new(display, false, false).batcher(),
            tx: RoundRobin {
                senders: vec![tx],
                next: 0,
            },
        };
        let selected = Selected::new(FileFrames::new(&[path], 1 << 20), Filter::default(), None);
        let mut batches = Vec::new();
        std::thread::scope(|scope| {
            scope.spawn(|| read_and_plan(selected, None, planned));
            for msg in rx {
                if let ReadMsg::Batch(Batch::Items(items)) = msg {
                    let bytes: usize = items
                        .iter()
                        .map(|i| match i {
                            Item::Query(e)
                            | Item::Unanswered(e)
                            | Item::Response { event: e, .. } => {
                                e.identity.as_ref().map_or(0, |b| b.len())
                            }
                        })
                        .sum();
                    batches.push((items.len(), bytes));
                }
            }
        });
        // Every record, and the queries reported unanswered at the end.
        assert!(batches.iter().map(|b| b.0).sum::<usize>() >= 60);
        assert!(
            batches.iter().all(|b| b.1 <= 2 * BYTES_PER_BATCH),
            "{batches:?}"
        );
    }

    #[test]
    fn threaded_read_equals_the_one_thread_path_in_every_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = long_trace(dir.path());
        let base = DisplayOpts::default();
        let variants = [
            base.clone(),
            DisplayOpts {
                qr: true,
                ..base.clone()
            },
            DisplayOpts {
                short: true,
                ..base.clone()
            },
            DisplayOpts {
                format: Some(Format::Json),
                qr: true,
                ..base.clone()
            },
            DisplayOpts {
                format: Some(Format::Jsonl),
                ..base.clone()
            },
            DisplayOpts {
                format: Some(Format::Yaml),
                ..base.clone()
            },
        ];
        for display in variants {
            let one = sequential(&path, &display);
            let many = threaded(&path, &display);
            assert!(one.len() > 100_000, "{} bytes", one.len());
            if one != many {
                let at = one
                    .bytes()
                    .zip(many.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(one.len().min(many.len()));
                panic!(
                    "outputs differ at byte {at} ({:?}):\n{}\n---\n{}",
                    display.format,
                    &one[at.saturating_sub(200)..(at + 200).min(one.len())],
                    &many[at.saturating_sub(200)..(at + 200).min(many.len())]
                );
            }
        }
    }

    #[test]
    fn a_path_that_cannot_be_opened_is_escaped_in_the_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("no\x1b[31mfile");
        let (code, _, err) = read_files_plain(&[path], DisplayOpts::default());
        assert_eq!(code, exits::DATA_LOST);
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains("cannot open"), "{err}");
        assert!(!err.contains('\x1b'), "{err:?}");
    }

    #[test]
    fn threaded_read_keeps_warnings_in_place_and_reports_loss() {
        let dir = tempfile::tempdir().unwrap();
        let path = long_trace(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        // Cut the file inside a frame near its end: a fatal error after
        // many batches.
        bytes.truncate(bytes.len() - 40);
        std::fs::write(&path, &bytes).unwrap();
        let (code, out, err) = read_files_plain(
            &[path.clone(), dir.path().join("missing.fstrm")],
            DisplayOpts::default(),
        );
        assert_eq!(code, exits::DATA_LOST);
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains("long.fstrm"), "{err}");
        assert!(err.contains("cannot open"), "{err}");
        assert!(out.len() > 100_000);
    }
}
