//! `--read`: one thread reads, decodes, pairs and plans every input in
//! order; one thread per core lays out alternate batches; the calling
//! thread writes the text back in order through the [`Printer`]. Memory
//! stays a few MiB whatever the input size: the channels hold at most
//! [`BATCHES_IN_FLIGHT`] batches each.
//!
//! The speed work of `--read` lives here and in the [`Arena`]; the
//! benchmark that justifies it is `bench/read.sh` (BENCHMARKS.md).

use std::io::Write;
use std::path::PathBuf;

use bytes::Bytes;

use crate::error::{exits, Error};
use crate::pair::Pairer;
use crate::render::printer::{Batch, BatchDrawer, Batcher, Drawn, Printer};
use crate::render::DisplayOpts;
use crate::scrub::Scrubber;
use crate::select::{Filter, Selector};
use crate::tap::event::Event;
use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader, TapWarning};

/// Does a warning mean that data was skipped?
fn loses_data(w: &TapWarning) -> bool {
    matches!(
        w,
        TapWarning::Oversize { .. } | TapWarning::TrailingBytes { .. }
    )
}

/// What the reading thread hands to a drawing one, in order.
enum ReadMsg {
    /// A batch to draw.
    Batch(Batch),
    /// A line for stderr.
    Warning(String),
    /// Some data could not be read or decoded.
    Lost,
}

/// What a drawing thread hands to the writing one, in order.
enum DrawnMsg {
    Drawn(Drawn),
    Warning(String),
    Lost,
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
/// turn, so the output keeps the order of the file.
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

/// Where `--read` keeps the frames of one batch: a fresh allocation per
/// batch, so the reference count the frames share is touched by the reading
/// thread while it builds the batch and by the drawing thread after, never
/// by both at once (sharing the reader's own buffer across threads made
/// that count a hot spot).
struct Arena {
    buf: bytes::BytesMut,
}

/// Bytes per arena allocation: about one batch of typical frames.
const ARENA_SIZE: usize = 128 * 1024;

impl Arena {
    fn new() -> Arena {
        Arena {
            buf: bytes::BytesMut::with_capacity(ARENA_SIZE),
        }
    }

    /// A copy of `payload` in the arena.
    fn copy(&mut self, payload: &[u8]) -> Bytes {
        if self.buf.capacity() < payload.len() {
            self.buf = bytes::BytesMut::with_capacity(ARENA_SIZE.max(payload.len()));
        }
        self.buf.extend_from_slice(payload);
        self.buf.split().freeze()
    }

    /// Starts a new allocation for the next batch.
    fn renew(&mut self) {
        self.buf = bytes::BytesMut::with_capacity(ARENA_SIZE);
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
        self.send(Some(ReadMsg::Warning(line))) && (!lost || self.tx.send(ReadMsg::Lost))
    }
}

/// Reads, decodes, pairs and plans every file, sending batches in order.
fn read_and_plan(
    files: &[PathBuf],
    max_frame: usize,
    filter: Filter,
    mut scrub: Option<Scrubber>,
    mut planned: Planned,
) {
    let mut pairer = Pairer::default();
    let mut selector = Selector::new(filter);
    let mut selected = Vec::new();
    let mut items = Vec::new();
    let mut arena = Arena::new();
    // Frame bytes in the batch being built.
    let mut batch_bytes = 0;
    for path in files {
        let name = path.display();
        let (input, len) = match super::open_input(path) {
            Ok(opened) => opened,
            Err(e) => {
                if !planned.warn(format!("qtap: cannot open {name}: {e}"), true) {
                    return;
                }
                continue;
            }
        };
        let mut reader = TapReader::new(
            input,
            ReaderOptions {
                max_data: max_frame,
            },
        );
        let shown = crate::render::escaped(path.as_os_str().as_encoded_bytes());
        let mut progress = super::progress::Progress::new(len, &shown);
        loop {
            let warning = match reader.next_item() {
                Ok(None) => break,
                Ok(Some(TapItem::Data { offset, payload })) => {
                    progress.frame(reader.position());
                    batch_bytes += payload.len();
                    match Event::from_payload(Some(offset), arena.copy(&payload)) {
                        Ok(event) => {
                            selector.push(event, &mut selected);
                            for mut event in selected.drain(..) {
                                if let Some(s) = scrub.as_mut() {
                                    s.scrub_event(&mut event);
                                }
                                pairer.push(event, &mut items);
                            }
                            for item in items.drain(..) {
                                planned.batcher.push(item);
                            }
                            None
                        }
                        Err(e) => Some((
                            format!(";; WARNING: {name}: frame at byte {offset} skipped: {e}"),
                            true,
                        )),
                    }
                }
                Ok(Some(TapItem::Warning(w))) => {
                    Some((format!(";; WARNING: {name}: {w}"), loses_data(&w)))
                }
                Err(e) => {
                    // Keep the order: what was read comes first.
                    if !planned.warn(format!("qtap: {name}: {e}"), true) {
                        return;
                    }
                    break;
                }
            };
            if let Some((line, lost)) = warning {
                if !planned.warn(line, lost) {
                    return;
                }
            }
            if planned.batcher.len() >= ITEMS_PER_BATCH || batch_bytes >= BYTES_PER_BATCH {
                if !planned.send(None) {
                    return;
                }
                batch_bytes = 0;
                // The queries still waiting let go of this arena.
                pairer.detach();
                selector.detach();
                arena.renew();
            }
        }
    }
    pairer.finish(&mut items);
    for item in items.drain(..) {
        planned.batcher.push(item);
    }
    planned.batcher.finish();
    let summary = scrub.map(|s| ReadMsg::Warning(s.summary()));
    planned.send(summary);
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
            ReadMsg::Lost => DrawnMsg::Lost,
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
    let mut printer = Printer::new(display, color, false);
    let planned = Planned {
        batcher: printer.batcher(),
        tx: RoundRobin {
            senders: Vec::new(),
            next: 0,
        },
    };
    let mut lost = false;
    let result = std::thread::scope(|scope| -> std::io::Result<()> {
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
        scope.spawn(move || read_and_plan(files, max_frame, filter, scrub, planned));
        // Take the batches back in the turn they were sent in; the reader
        // is done when the next thread in turn has nothing more.
        for rx in drawn.iter().cycle() {
            match rx.recv() {
                Ok(DrawnMsg::Drawn(d)) => printer.show_drawn(d, out)?,
                Ok(DrawnMsg::Warning(line)) => {
                    let _ = writeln!(err, "{line}");
                }
                Ok(DrawnMsg::Lost) => lost = true,
                Err(_) => break,
            }
        }
        Ok(())
    });
    // On a write error (a closed pipe) the receivers are gone and the other
    // threads stop at their next send.
    result?;
    printer.finish(out)?;
    Ok(if lost { exits::DATA_LOST } else { exits::OK })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pair::Item;
    use crate::render::Format;
    use crate::run::View;
    use crate::tap::writer::TapWriter;
    use crate::testutil::{corpus_files, events_of};
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
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = read_files(
            &[path.to_path_buf()],
            1 << 20,
            display.clone(),
            false,
            &mut out,
            &mut err,
        )
        .unwrap();
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
        let files = [path];
        let mut batches = Vec::new();
        std::thread::scope(|scope| {
            scope.spawn(|| read_and_plan(&files, 1 << 20, Filter::default(), None, planned));
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
    fn threaded_read_keeps_warnings_in_place_and_reports_loss() {
        let dir = tempfile::tempdir().unwrap();
        let path = long_trace(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        // Cut the file inside a frame near its end: a fatal error after
        // many batches.
        bytes.truncate(bytes.len() - 40);
        std::fs::write(&path, &bytes).unwrap();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = read_files(
            &[path.clone(), dir.path().join("missing.fstrm")],
            1 << 20,
            DisplayOpts::default(),
            false,
            &mut out,
            &mut err,
        )
        .unwrap();
        assert_eq!(code, exits::DATA_LOST);
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains("long.fstrm"), "{err}");
        assert!(err.contains("cannot open"), "{err}");
        assert!(out.len() > 100_000);
    }
}
