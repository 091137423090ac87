//! Runs a validated [`Config`]: live queries or `--read`, both feeding the
//! same [`View`] (pairer + renderer), so their output is identical for the
//! same trace.
//!
//! The caller (main.rs) passes the output streams in; nothing here opens
//! the terminal itself.

use std::fs::File;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::cli::Format;
use crate::config::{Config, Mode, ServerHost, ServerSpec, TapTarget};
use crate::error::{exits, Error};
use crate::pair::{Item, Pairer};
use crate::query::{self, Outcome, RecordMeta, Sink};
use crate::render::color::{colorize, Palette};
use crate::render::{DisplayOpts, Drawer, Planner, Renderer, Step};
use crate::tap::event::Event;
use crate::tap::pb;
use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader, TapWarning};
use crate::tap::writer::TapWriter;

/// `Dnstap.version` of qtap's records.
pub fn version_string() -> String {
    format!("qtap {}", env!("CARGO_PKG_VERSION"))
}

/// Renders items and writes the text: the one path from a paired record
/// to the screen, for live queries and `--read` alike.
#[derive(Debug)]
pub struct Output {
    renderer: Renderer,
    /// Structured output instead of dig text.
    structured: Option<Structured>,
    /// Objects written so far (JSON arrays need commas).
    objects: u64,
    buf: String,
    /// Colours to add after layout (None: plain text).
    palette: Option<Palette>,
    colored: String,
    /// Write out after every record (live: the user is watching) or only in
    /// large chunks (`--read`: throughput).
    eager: bool,
}

/// The structured output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Structured {
    Json,
    Jsonl,
    Yaml,
}

/// How much rendered text `--read` gathers before writing it out.
const OUTPUT_CHUNK: usize = 64 * 1024;

impl Output {
    /// An output with these display options, coloured or not.
    pub fn new(display: DisplayOpts, color: bool) -> Output {
        let structured = match display.format {
            Some(Format::Json) => Some(Structured::Json),
            Some(Format::Jsonl) => Some(Structured::Jsonl),
            Some(Format::Yaml) => Some(Structured::Yaml),
            _ => None,
        };
        // Structured formats are never coloured.
        let color = color && structured.is_none();
        Output {
            structured,
            objects: 0,
            renderer: Renderer::new(display),
            buf: String::new(),
            palette: color.then(Palette::calm),
            colored: String::new(),
            eager: true,
        }
    }

    /// Renders items; writes them out now (eager) or once enough text waits.
    pub fn show(
        &mut self,
        items: impl IntoIterator<Item = Item>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        for item in items {
            match self.structured {
                None => self.renderer.render(&mut self.buf, item),
                Some(kind) => {
                    let start = self.buf.len();
                    if kind == Structured::Json {
                        self.buf
                            .push_str(if self.objects == 0 { "[\n" } else { ",\n" });
                    }
                    if write_object(kind, self.renderer.opts().qr, &mut self.buf, &item) {
                        self.objects += 1;
                    } else {
                        self.buf.truncate(start);
                    }
                }
            }
        }
        if self.eager || self.buf.len() >= OUTPUT_CHUNK {
            self.write_out(out)?;
        }
        Ok(())
    }

    /// Takes text drawn elsewhere (`--read`'s drawing threads), in order.
    fn show_drawn(&mut self, drawn: Drawn, out: &mut dyn Write) -> std::io::Result<()> {
        match drawn {
            Drawn::Text(text) => {
                if self.buf.is_empty() && self.palette.is_none() {
                    // Plain text in a large piece: straight out, no copy.
                    return out.write_all(text.as_bytes());
                }
                self.buf.push_str(&text);
            }
            Drawn::Objects { text, count } => {
                if count == 0 {
                    return Ok(());
                }
                if self.structured == Some(Structured::Json) {
                    self.buf
                        .push_str(if self.objects == 0 { "[\n" } else { ",\n" });
                }
                self.objects += count;
                self.buf.push_str(&text);
            }
        }
        if self.buf.len() >= OUTPUT_CHUNK {
            self.write_out(out)?;
        }
        Ok(())
    }

    fn write_out(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            match &self.palette {
                Some(p) => {
                    self.colored.clear();
                    colorize(&mut self.colored, &self.buf, p);
                    out.write_all(self.colored.as_bytes())?;
                }
                None => out.write_all(self.buf.as_bytes())?,
            }
            out.flush()?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Ends the output: what the renderer still holds, then everything.
    pub fn finish(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        match self.structured {
            None => self.renderer.finish(&mut self.buf),
            Some(Structured::Json) => {
                self.buf
                    .push_str(if self.objects == 0 { "[]\n" } else { "\n]\n" });
            }
            Some(_) => {}
        }
        self.write_out(out)
    }
}

/// Appends one item in a structured format, without separators (JSON
/// Lines: with its newline). Queries are shown with `+qr` only, as in the
/// text layout (`render::structured_shows` decides). False when nothing
/// was shown.
fn write_object(kind: Structured, qr: bool, buf: &mut String, item: &Item) -> bool {
    if !crate::render::structured_shows(item, qr) {
        return false;
    }
    let written = match kind {
        Structured::Json | Structured::Jsonl => crate::render::json::write_json(buf, item),
        Structured::Yaml => crate::render::yaml::write_yaml(buf, item),
    };
    if written && kind == Structured::Jsonl {
        buf.push('\n');
    }
    written
}

/// Pairs events and shows them (live mode: one thread, eager output).
#[derive(Debug)]
pub struct View {
    pairer: Pairer,
    items: Vec<Item>,
    output: Output,
}

impl View {
    /// A view with these display options, coloured or not.
    pub fn new(display: DisplayOpts, color: bool) -> View {
        View {
            pairer: Pairer::default(),
            items: Vec::new(),
            output: Output::new(display, color),
        }
    }

    /// Takes one event; writes whatever it makes visible.
    pub fn push(&mut self, event: Event, out: &mut dyn Write) -> std::io::Result<()> {
        self.pairer.push(event, &mut self.items);
        self.output.show(self.items.drain(..), out)
    }

    /// Ends the stream: reports queries that got no response.
    pub fn finish(mut self, out: &mut dyn Write) -> std::io::Result<()> {
        self.pairer.finish(&mut self.items);
        self.output.show(self.items.drain(..), out)?;
        self.output.finish(out)
    }
}

/// Runs the whole program. Returns the exit code.
pub fn run(config: Config, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    match config.mode {
        Mode::Read { files, max_frame } => {
            read_files(&files, max_frame, config.display, config.color, out, err)
        }
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
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
            runtime.block_on(live(
                &server,
                family,
                &queries,
                tap.as_ref(),
                View::new(config.display, config.color),
                out,
                err,
            ))
        }
    }
}

/// Does a warning mean that data was skipped?
fn loses_data(w: &TapWarning) -> bool {
    matches!(
        w,
        TapWarning::Oversize { .. } | TapWarning::TrailingBytes { .. }
    )
}

/// What the reading thread hands to a drawing one, in order.
enum ReadMsg {
    /// Planned text steps to draw.
    Steps(Vec<Step>),
    /// Items to show in a structured format.
    Items(Vec<Item>),
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

/// Text drawn from one batch.
enum Drawn {
    /// dig-style text.
    Text(String),
    /// Structured objects, without the separators that depend on what came
    /// before (JSON's `[` and commas).
    Objects { text: String, count: u64 },
}

/// Items per message between the threads: large enough to amortise the
/// hand-over, small enough to keep memory flat.
const ITEMS_PER_BATCH: usize = 512;

/// Batches in flight per channel: with one channel to and one from each
/// drawing thread, memory stays a few MiB whatever the file size.
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

/// How `--read` builds its batches: planned text steps, or items for a
/// structured format (JSON, YAML), which need no plan.
enum Batcher {
    Text {
        planner: Box<Planner>,
        steps: Vec<Step>,
    },
    Structured {
        qr: bool,
        items: Vec<Item>,
    },
}

impl Batcher {
    fn push(&mut self, item: Item) {
        match self {
            Batcher::Text { planner, steps } => planner.plan(item, steps),
            Batcher::Structured { qr, items } => {
                if crate::render::structured_shows(&item, *qr) {
                    items.push(item);
                }
            }
        }
    }

    fn len(&self) -> usize {
        match self {
            Batcher::Text { steps, .. } => steps.len(),
            Batcher::Structured { items, .. } => items.len(),
        }
    }

    /// The batch so far, leaving an empty one.
    fn take(&mut self) -> ReadMsg {
        match self {
            Batcher::Text { steps, .. } => ReadMsg::Steps(std::mem::replace(
                steps,
                Vec::with_capacity(ITEMS_PER_BATCH),
            )),
            Batcher::Structured { items, .. } => ReadMsg::Items(std::mem::replace(
                items,
                Vec::with_capacity(ITEMS_PER_BATCH),
            )),
        }
    }

    /// Ends the stream: what the planner still holds.
    fn finish(&mut self) {
        if let Batcher::Text { planner, steps } = self {
            planner.finish(steps);
        }
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

/// Reads, decodes, pairs and plans every file, sending batches in order.
fn read_and_plan(
    files: &[PathBuf],
    max_frame: usize,
    mut batcher: Batcher,
    mut tx: RoundRobin<ReadMsg>,
) {
    let mut pairer = Pairer::default();
    let mut items = Vec::new();
    let mut arena = Arena::new();
    // Sends what is batched, then `msg`.
    let flush = |batcher: &mut Batcher, tx: &mut RoundRobin<ReadMsg>, msg: Option<ReadMsg>| {
        (batcher.len() == 0 || tx.send(batcher.take())) && msg.is_none_or(|m| tx.send(m))
    };
    for path in files {
        let name = path.display();
        let input: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            match File::open(path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    let warning = format!("qtap: cannot open {name}: {e}");
                    if !flush(&mut batcher, &mut tx, Some(ReadMsg::Warning(warning)))
                        || !tx.send(ReadMsg::Lost)
                    {
                        return;
                    }
                    continue;
                }
            }
        };
        let mut reader = TapReader::new(
            input,
            ReaderOptions {
                max_data: max_frame,
            },
        );
        loop {
            let mut warning = None;
            match reader.next_item() {
                Ok(None) => break,
                Ok(Some(TapItem::Data { offset, payload })) => {
                    match Event::from_payload(Some(offset), arena.copy(&payload)) {
                        Ok(event) => {
                            pairer.push(event, &mut items);
                            for item in items.drain(..) {
                                batcher.push(item);
                            }
                        }
                        Err(e) => {
                            warning = Some((
                                format!(";; WARNING: {name}: frame at byte {offset} skipped: {e}"),
                                true,
                            ))
                        }
                    }
                }
                Ok(Some(TapItem::Warning(w))) => {
                    warning = Some((format!(";; WARNING: {name}: {w}"), loses_data(&w)))
                }
                Err(e) => {
                    // Keep the order: what was read comes first.
                    let warning = ReadMsg::Warning(format!("qtap: {name}: {e}"));
                    if !flush(&mut batcher, &mut tx, Some(warning)) || !tx.send(ReadMsg::Lost) {
                        return;
                    }
                    break;
                }
            }
            if let Some((line, lost)) = warning {
                if !flush(&mut batcher, &mut tx, Some(ReadMsg::Warning(line)))
                    || (lost && !tx.send(ReadMsg::Lost))
                {
                    return;
                }
            }
            if batcher.len() >= ITEMS_PER_BATCH {
                if !flush(&mut batcher, &mut tx, None) {
                    return;
                }
                // The queries still waiting let go of this arena.
                pairer.detach();
                arena.renew();
            }
        }
    }
    pairer.finish(&mut items);
    for item in items.drain(..) {
        batcher.push(item);
    }
    batcher.finish();
    flush(&mut batcher, &mut tx, None);
}

/// Draws batches into text, in the order they come.
fn draw_batches(
    display: &DisplayOpts,
    rx: std::sync::mpsc::Receiver<ReadMsg>,
    tx: std::sync::mpsc::SyncSender<DrawnMsg>,
) {
    let mut drawer = Drawer::new(display.clone());
    let structured = Output::new(display.clone(), false).structured;
    for msg in rx {
        let drawn = match msg {
            ReadMsg::Steps(steps) => {
                let mut text = String::with_capacity(steps.len() * 1024);
                for step in &steps {
                    drawer.draw(&mut text, step);
                }
                DrawnMsg::Drawn(Drawn::Text(text))
            }
            ReadMsg::Items(items) => {
                let mut text = String::with_capacity(items.len() * 1024);
                let mut count = 0u64;
                if let Some(kind) = structured {
                    for item in &items {
                        let start = text.len();
                        if kind == Structured::Json && count > 0 {
                            text.push_str(",\n");
                        }
                        if write_object(kind, display.qr, &mut text, item) {
                            count += 1;
                        } else {
                            text.truncate(start);
                        }
                    }
                }
                DrawnMsg::Drawn(Drawn::Objects { text, count })
            }
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

/// `--read`: one thread reads, decodes, pairs and plans; one per core draws
/// the text of alternate batches; this one writes it out in order.
fn read_files(
    files: &[PathBuf],
    max_frame: usize,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let mut output = Output::new(display.clone(), color);
    output.eager = false;
    let batcher = match output.structured {
        None => Batcher::Text {
            planner: Box::new(Planner::new(display.clone())),
            steps: Vec::with_capacity(ITEMS_PER_BATCH),
        },
        Some(_) => Batcher::Structured {
            qr: display.qr,
            items: Vec::with_capacity(ITEMS_PER_BATCH),
        },
    };
    let mut lost = false;
    let display = &display;
    let result = std::thread::scope(|scope| -> std::io::Result<()> {
        let mut to_draw = Vec::new();
        let mut drawn = Vec::new();
        for _ in 0..drawing_threads() {
            let (tx, rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
            let (done_tx, done_rx) = std::sync::mpsc::sync_channel(BATCHES_IN_FLIGHT);
            scope.spawn(move || draw_batches(display, rx, done_tx));
            to_draw.push(tx);
            drawn.push(done_rx);
        }
        let tx = RoundRobin {
            senders: to_draw,
            next: 0,
        };
        scope.spawn(move || read_and_plan(files, max_frame, batcher, tx));
        // Take the batches back in the turn they were sent in; the reader
        // is done when the next thread in turn has nothing more.
        for rx in drawn.iter().cycle() {
            match rx.recv() {
                Ok(DrawnMsg::Drawn(d)) => output.show_drawn(d, out)?,
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
    output.finish(out)?;
    Ok(if lost { exits::DATA_LOST } else { exits::OK })
}

/// Output held back and written in large pieces: at a pause in the run
/// (see [`PAUSE`]), when [`HELD_CHUNK`] bytes have gathered, before a
/// diagnostic line on the other stream, and at the end. `flush`, which the
/// renderer and the trace writer call after every piece, does nothing
/// while holding. Not holding (`eager`), it is the plain writer.
///
/// A write error is kept and returned again by every later write, so it
/// surfaces on the path that would have met it without the holding.
struct Held<W: Write>(std::rc::Rc<std::cell::RefCell<HeldState<W>>>);

struct HeldState<W: Write> {
    inner: W,
    buf: Vec<u8>,
    eager: bool,
    failed: Option<std::io::Error>,
}

/// How much output is held at most before it is written out.
const HELD_CHUNK: usize = 64 * 1024;

/// How long held output may wait while a lookup is slow: the user watching
/// a batch scroll by, or a trace growing, never waits longer than this.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

impl<W: Write> HeldState<W> {
    fn release(&mut self) -> std::io::Result<()> {
        if let Some(e) = &self.failed {
            return Err(crate::error::copy_io_error(e));
        }
        let result = if self.buf.is_empty() {
            Ok(())
        } else {
            let r = self.inner.write_all(&self.buf);
            self.buf.clear();
            r
        }
        .and_then(|()| self.inner.flush());
        if let Err(e) = &result {
            self.failed = Some(crate::error::copy_io_error(e));
        }
        result
    }
}

impl<W: Write> Held<W> {
    fn new(inner: W, eager: bool) -> Held<W> {
        Held(std::rc::Rc::new(std::cell::RefCell::new(HeldState {
            inner,
            buf: Vec::new(),
            eager,
            failed: None,
        })))
    }

    /// Writes out what is held.
    fn release(&self) -> std::io::Result<()> {
        self.0.borrow_mut().release()
    }

    /// A handle that releases this output at pauses without keeping it
    /// open.
    fn handle(&self) -> std::rc::Weak<std::cell::RefCell<HeldState<W>>> {
        std::rc::Rc::downgrade(&self.0)
    }

    /// Releases what is held and lets go of the writer.
    fn close(self) -> std::io::Result<()> {
        self.release()
    }
}

impl<W: Write> Drop for HeldState<W> {
    /// A backstop for early returns: what is held still goes out.
    fn drop(&mut self) {
        let _ = self.release();
    }
}

impl<W: Write> Write for Held<W> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut h = self.0.borrow_mut();
        if let Some(e) = &h.failed {
            return Err(crate::error::copy_io_error(e));
        }
        if h.eager {
            return h.inner.write(data);
        }
        h.buf.extend_from_slice(data);
        if h.buf.len() >= HELD_CHUNK {
            h.release()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let mut h = self.0.borrow_mut();
        if h.eager {
            h.inner.flush()
        } else {
            Ok(())
        }
    }
}

/// Held outputs to release at a pause (errors stay with each output).
#[derive(Default)]
struct Pauses<'a> {
    text: Option<std::rc::Weak<std::cell::RefCell<HeldState<&'a mut dyn Write>>>>,
    trace: Option<std::rc::Weak<std::cell::RefCell<HeldState<File>>>>,
}

impl Pauses<'_> {
    fn release(&self) {
        if let Some(h) = self.text.as_ref().and_then(std::rc::Weak::upgrade) {
            let _ = h.borrow_mut().release();
        }
        if let Some(h) = self.trace.as_ref().and_then(std::rc::Weak::upgrade) {
            let _ = h.borrow_mut().release();
        }
    }
}

/// What a live run waits on beside its lookups: SIGINT and SIGTERM, and the
/// pause timer that releases held output.
struct Waits<'a> {
    sigint: tokio::signal::unix::Signal,
    sigterm: tokio::signal::unix::Signal,
    pause: std::pin::Pin<Box<tokio::time::Sleep>>,
    pauses: Pauses<'a>,
}

impl Waits<'_> {
    /// Runs `work` to its end, releasing held output at every pause;
    /// Err(exit code) when a signal comes first.
    async fn until<F: std::future::Future>(&mut self, work: F) -> Result<F::Output, u8> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                _ = self.sigint.recv() => return Err(exits::SIGINT),
                _ = self.sigterm.recv() => return Err(exits::SIGTERM),
                r = &mut work => return Ok(r),
                () = self.pause.as_mut() => {
                    self.pauses.release();
                    self.pause.as_mut().reset(tokio::time::Instant::now() + PAUSE);
                }
            }
        }
    }
}

/// Puts `tmp` in place of `path`. Over an existing trace on Linux, the
/// two names are swapped atomically and the old trace (now at `tmp`) is
/// removed: a plain rename over an existing file makes ext4 start writing
/// the new file's blocks at once (its `auto_da_alloc` heuristic), which
/// costs more than the whole query. The result is the same: `path` names
/// the complete new trace, never a partial one.
fn replace_file(tmp: &Path, path: &Path) -> std::io::Result<()> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file()) {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).ok();
        if let (Some(from), Some(to)) = (c(tmp), c(path)) {
            // SAFETY: two valid NUL-terminated paths, relative to the
            // current directory; renameat2 only reads them.
            let swapped = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    from.as_ptr(),
                    libc::AT_FDCWD,
                    to.as_ptr(),
                    libc::RENAME_EXCHANGE,
                )
            } == 0;
            if swapped {
                // `tmp` is the old trace now. Should it refuse to go, it
                // is a stale hidden file, never a damaged trace.
                let _ = std::fs::remove_file(tmp);
                return Ok(());
            }
        }
    }
    std::fs::rename(tmp, path)
}

/// The trace file being written: a temporary file beside the target,
/// renamed over it when complete, so an existing trace is never left
/// half-overwritten. The frames are held and written in large pieces
/// (nobody sees the temporary file): at pauses, every [`HELD_CHUNK`]
/// bytes and at the end, always before the rename.
struct TapFile {
    writer: Option<TapWriter<Held<File>>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl TapFile {
    /// The file, and a handle to release what it holds at pauses.
    #[allow(clippy::type_complexity)]
    fn create(
        path: &Path,
    ) -> Result<(TapFile, std::rc::Weak<std::cell::RefCell<HeldState<File>>>), Error> {
        let tap_err = |source| Error::Tap {
            path: path.to_owned(),
            source,
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
            _ => PathBuf::from("."),
        };
        let file_name = path
            .file_name()
            .ok_or_else(|| tap_err(std::io::Error::other("not a file name")))?;
        let tmp = dir.join(format!(
            ".{}.qtap-{}.tmp",
            file_name.to_string_lossy(),
            std::process::id()
        ));
        let file = File::create(&tmp).map_err(tap_err)?;
        let held = Held::new(file, false);
        let handle = held.handle();
        let writer = TapWriter::new(held).map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            tap_err(e)
        })?;
        Ok((
            TapFile {
                writer: Some(writer),
                tmp,
                path: path.to_owned(),
            },
            handle,
        ))
    }

    fn write(&mut self, record: &pb::Dnstap) -> Result<(), Error> {
        match self.writer.as_mut() {
            Some(w) => w.write(record).map_err(|source| Error::Tap {
                path: self.path.clone(),
                source,
            }),
            None => Ok(()),
        }
    }

    /// Writes STOP and what is held, and renames into place.
    fn finish(&mut self) -> Result<(), Error> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let tap_err = |source| Error::Tap {
            path: self.path.clone(),
            source,
        };
        // No fsync: the promise is a complete file after errors and signals,
        // not after a power cut, and a sync would cost more than the query.
        let done = writer
            .finish()
            .and_then(Held::close)
            .and_then(|()| replace_file(&self.tmp, &self.path));
        if let Err(e) = done {
            // The file could not be completed (disk full, size limit): drop
            // the temporary file and leave any earlier trace untouched.
            let _ = std::fs::remove_file(&self.tmp);
            return Err(tap_err(e));
        }
        Ok(())
    }
}

impl Drop for TapFile {
    fn drop(&mut self) {
        // A backstop for early returns: keep whatever was recorded.
        let _ = self.finish();
    }
}

enum TapOut<'a> {
    File(TapFile),
    Stdout(TapWriter<&'a mut dyn Write>),
}

struct LiveSink<'a> {
    tap: Option<TapOut<'a>>,
    view: View,
    text: Held<&'a mut dyn Write>,
    /// Where diagnostics go; None: into `text` (when the trace is stdout).
    diag: Option<&'a mut dyn Write>,
}

impl Sink for LiveSink<'_> {
    fn record(&mut self, mut event: Event) -> Result<(), Error> {
        // Where the frame lands in the trace, as `--read` will report it.
        event.offset = match &mut self.tap {
            Some(TapOut::File(f)) => {
                let at = f.writer.as_ref().map(TapWriter::offset);
                f.write(&event.to_pb())?;
                at
            }
            Some(TapOut::Stdout(w)) => {
                let at = w.offset();
                w.write(&event.to_pb()).map_err(|source| Error::Tap {
                    path: "-".into(),
                    source,
                })?;
                Some(at)
            }
            None => None,
        };
        self.view.push(event, &mut self.text)?;
        Ok(())
    }

    fn diag(&mut self, line: &str) {
        match self.diag.as_mut() {
            Some(d) => {
                // What is held comes first, should both streams go to the
                // same place (an error shows up on the next write).
                let _ = self.text.release();
                let _ = writeln!(d, "{line}");
            }
            None => {
                let _ = writeln!(self.text, "{line}");
            }
        }
    }
}

impl LiveSink<'_> {
    fn close(mut self) -> Result<(), Error> {
        let view = std::mem::replace(&mut self.view, View::new(DisplayOpts::default(), false));
        let shown = view
            .finish(&mut self.text)
            .and_then(|()| self.text.release());
        let traced = match self.tap.take() {
            Some(TapOut::File(mut f)) => f.finish(),
            Some(TapOut::Stdout(w)) => w.finish().map(|_| ()).map_err(|source| Error::Tap {
                path: "-".into(),
                source,
            }),
            None => Ok(()),
        };
        shown?;
        traced
    }
}

/// The lookups' server addresses: each port's resolved once per run.
struct Targets<'s> {
    server: &'s ServerSpec,
    family: Option<u8>,
    known: Vec<(u16, query::Target)>,
}

impl Targets<'_> {
    async fn get(&mut self, spec: &crate::cli::QuerySpec) -> Result<query::Target, Error> {
        let port = self
            .server
            .port
            .unwrap_or(spec.opts.transport.default_port());
        if let Some((_, t)) = self.known.iter().find(|(p, _)| *p == port) {
            return Ok(t.clone());
        }
        let target = resolve(self.server, self.family, port).await?;
        self.known.push((port, target.clone()));
        Ok(target)
    }
}

async fn resolve(
    server: &ServerSpec,
    family: Option<u8>,
    port: u16,
) -> Result<query::Target, Error> {
    let fits = |a: &SocketAddr| match family {
        Some(4) => a.is_ipv4(),
        Some(6) => a.is_ipv6(),
        _ => true,
    };
    match &server.host {
        ServerHost::Addr(a) if fits(a) => {
            let mut addr = *a;
            addr.set_port(port);
            Ok(query::Target { addr, host: None })
        }
        ServerHost::Addr(a) => Err(Error::Server(format!(
            "server {} is not an IPv{} address",
            a.ip(),
            family.unwrap_or(4)
        ))),
        ServerHost::Name(host) => {
            let addrs = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map_err(|e| Error::Server(format!("couldn't get address for '{host}': {e}")))?;
            let addr = addrs.into_iter().find(fits).ok_or_else(|| {
                Error::Server(format!("couldn't get address for '{host}': not found"))
            })?;
            Ok(query::Target {
                addr,
                host: Some(host.clone()),
            })
        }
    }
}

/// What one lookup produced while it ran beside others: kept until its
/// turn comes, so output and trace stay in input order.
#[derive(Default)]
struct Buffered {
    records: Vec<Event>,
    diags: Vec<String>,
}

/// A [`Sink`] that only collects (shared with the task running the lookup,
/// so what it collected survives an interruption).
struct SharedSink(std::rc::Rc<std::cell::RefCell<Buffered>>);

impl Sink for SharedSink {
    fn record(&mut self, record: Event) -> Result<(), Error> {
        self.0.borrow_mut().records.push(record);
        Ok(())
    }

    fn diag(&mut self, line: &str) {
        self.0.borrow_mut().diags.push(line.to_owned());
    }
}

impl LiveSink<'_> {
    /// Hands over what a lookup collected, in order.
    fn drain(&mut self, buffer: &std::cell::RefCell<Buffered>) -> Result<(), Error> {
        let Buffered { records, diags } = std::mem::take(&mut *buffer.borrow_mut());
        for line in &diags {
            self.diag(line);
        }
        for record in records {
            self.record(record)?;
        }
        Ok(())
    }
}

/// A lookup's future, borrowing the run's query and labels.
type LookupFuture<'q> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Outcome, Error>> + 'q>>;

/// What the lookups of an [`InFlight`] set share with their wakers: which
/// were woken since they were last polled, and who polls the set.
#[derive(Default)]
struct Wakeups {
    woken: std::sync::Mutex<Vec<u64>>,
    poller: std::sync::Mutex<Option<std::task::Waker>>,
}

/// Wakes one lookup of an [`InFlight`] set: notes it for polling and wakes
/// whoever polls the set.
struct LaneWake {
    /// The lookup's number in the run.
    seq: u64,
    /// Noted already and not polled since.
    noted: std::sync::atomic::AtomicBool,
    shared: std::sync::Arc<Wakeups>,
}

impl std::task::Wake for LaneWake {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if self.noted.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        if let Ok(mut woken) = self.shared.woken.lock() {
            woken.push(self.seq);
        }
        let poller = self.shared.poller.lock().ok().and_then(|w| w.clone());
        if let Some(w) = poller {
            w.wake();
        }
    }
}

/// One lookup in flight: what it recorded so far, its future (None once
/// finished) and its outcome.
struct Lane<'q> {
    buffer: std::rc::Rc<std::cell::RefCell<Buffered>>,
    future: Option<LookupFuture<'q>>,
    outcome: Option<Result<Outcome, Error>>,
    wake: std::sync::Arc<LaneWake>,
}

/// Lookups in flight, in input order, polled in place: only those woken
/// since their last poll are polled again. (A task per lookup costs an
/// aligned allocation, a copy of the future and a trip through the task
/// queue; this costs a boxed future.)
struct InFlight<'q> {
    lanes: std::collections::VecDeque<Lane<'q>>,
    /// The number of the first lane.
    first: u64,
    shared: std::sync::Arc<Wakeups>,
    /// Scratch list of woken lanes.
    woken: Vec<u64>,
}

impl<'q> InFlight<'q> {
    fn new() -> InFlight<'q> {
        InFlight {
            lanes: std::collections::VecDeque::new(),
            first: 0,
            shared: std::sync::Arc::default(),
            woken: Vec::new(),
        }
    }

    fn len(&self) -> usize {
        self.lanes.len()
    }

    fn push(
        &mut self,
        buffer: std::rc::Rc<std::cell::RefCell<Buffered>>,
        future: LookupFuture<'q>,
    ) {
        let wake = std::sync::Arc::new(LaneWake {
            seq: self.first + self.lanes.len() as u64,
            noted: std::sync::atomic::AtomicBool::new(false),
            shared: self.shared.clone(),
        });
        // A new lookup is polled at once.
        std::task::Wake::wake_by_ref(&wake);
        self.lanes.push_back(Lane {
            buffer,
            future: Some(future),
            outcome: None,
            wake,
        });
    }

    /// Polls the woken lookups; ready with the first lookup's buffer and
    /// outcome once it has finished.
    #[allow(clippy::type_complexity)]
    fn poll_first(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<
        Option<(
            std::rc::Rc<std::cell::RefCell<Buffered>>,
            Result<Outcome, Error>,
        )>,
    > {
        if self.lanes.is_empty() {
            return std::task::Poll::Ready(None);
        }
        if let Ok(mut w) = self.shared.poller.lock() {
            if !w.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                *w = Some(cx.waker().clone());
            }
        }
        // One pass: a lookup woken while this pass runs (or refused by the
        // runtime's budget, which wakes it at once) is polled on the next
        // call, after the runtime has had its turn.
        if let Ok(mut woken) = self.shared.woken.lock() {
            std::mem::swap(&mut *woken, &mut self.woken);
        }
        for seq in self.woken.drain(..) {
            let Some(lane) = seq
                .checked_sub(self.first)
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| self.lanes.get_mut(i))
            else {
                continue;
            };
            lane.wake
                .noted
                .store(false, std::sync::atomic::Ordering::Release);
            let Some(future) = lane.future.as_mut() else {
                continue;
            };
            let waker = std::task::Waker::from(lane.wake.clone());
            let mut lane_cx = std::task::Context::from_waker(&waker);
            if let std::task::Poll::Ready(outcome) = future.as_mut().poll(&mut lane_cx) {
                lane.future = None;
                lane.outcome = Some(outcome);
            }
        }
        if self.lanes.front().is_some_and(|l| l.outcome.is_some()) {
            if let Some(Lane {
                buffer,
                outcome: Some(outcome),
                ..
            }) = self.lanes.pop_front()
            {
                self.first += 1;
                return std::task::Poll::Ready(Some((buffer, outcome)));
            }
        }
        std::task::Poll::Pending
    }

    /// Stops the lookups still running and hands over what they recorded.
    fn finish_all(self, sink: &mut LiveSink<'_>) -> Result<(), Error> {
        for lane in self.lanes {
            drop(lane.future);
            sink.drain(&lane.buffer)?;
        }
        Ok(())
    }
}

/// With `+parallel=N`, new lookups start once N / REFILL_SHARE places are
/// free.
const REFILL_SHARE: usize = 2;

/// `+parallel=N`: up to N lookups in flight on one thread; each one's
/// messages are shown and recorded when its turn comes (frames carry their
/// own times, so the trace still says when each message went and came).
/// Their UDP queries share one socket per server ([`query::udp::MuxPool`]).
async fn parallel_lookups(
    targets: &mut Targets<'_>,
    queries: &[crate::cli::QuerySpec],
    meta: &RecordMeta,
    parallel: usize,
    mut sink: LiveSink<'_>,
    waits: &mut Waits<'_>,
) -> Result<u8, Error> {
    let mut code = exits::OK;
    let mut waiting = queries.iter();
    let pool = std::rc::Rc::new(query::udp::MuxPool::default());
    let mut running = InFlight::new();
    let refill_at = parallel - (parallel / REFILL_SHARE).max(1);
    loop {
        // Refill in bursts: the queries go out back to back, which a
        // server answers with less work than one at a time.
        let refill = running.len() <= refill_at;
        while refill && running.len() < parallel {
            let Some(spec) = waiting.next() else { break };
            let target = match targets.get(spec).await {
                Ok(t) => t,
                Err(e) => {
                    running.finish_all(&mut sink)?;
                    sink.close()?;
                    return Err(e);
                }
            };
            let buffer = std::rc::Rc::new(std::cell::RefCell::new(Buffered::default()));
            let mut shared = SharedSink(buffer.clone());
            let mut session = query::Session::shared(pool.clone());
            running.push(
                buffer,
                Box::pin(async move {
                    let result =
                        query::lookup(spec, &target, meta, &mut session, &mut shared).await;
                    session.close().await;
                    result
                }),
            );
        }
        let joined = waits
            .until(std::future::poll_fn(|cx| running.poll_first(cx)))
            .await;
        let (buffer, result) = match joined {
            Ok(Some(done)) => done,
            Ok(None) => break,
            Err(signal_code) => {
                // Keep every message already sent or received, in order.
                running.finish_all(&mut sink)?;
                sink.diag(";; interrupted");
                sink.close()?;
                return Ok(signal_code);
            }
        };
        sink.drain(&buffer)?;
        match result {
            Ok(Outcome::Answered) => {}
            Ok(Outcome::NoReply) => {
                sink.diag(";; no servers could be reached");
                code = exits::NO_REPLY;
            }
            Err(e) => {
                running.finish_all(&mut sink)?;
                let _ = sink.close();
                return Err(e);
            }
        }
    }
    sink.close()?;
    Ok(code)
}

async fn live<'a>(
    server: &ServerSpec,
    family: Option<u8>,
    queries: &[crate::cli::QuerySpec],
    tap: Option<&TapTarget>,
    view: View,
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
) -> Result<u8, Error> {
    use std::io::IsTerminal;
    let to_stdout = tap.is_some_and(|t| t.path.as_os_str() == "-");
    let meta = RecordMeta {
        kind: tap.map(|t| t.kind).unwrap_or_default(),
        identity: tap
            .and_then(|t| t.identity.clone())
            .map(|i| Bytes::from(i.into_bytes())),
        version: Bytes::from(version_string()),
    };
    // Open the trace before anything is sent, so a bad path fails early.
    let (tap_out, mut pauses) = match tap {
        Some(t) if !to_stdout => {
            let (file, handle) = TapFile::create(&t.path)?;
            let pauses = Pauses {
                text: None,
                trace: Some(handle),
            };
            (Some(TapOut::File(file)), pauses)
        }
        _ => (None, Pauses::default()),
    };
    let mut sink = if to_stdout {
        LiveSink {
            tap: Some(TapOut::Stdout(TapWriter::new(out).map_err(|source| {
                Error::Tap {
                    path: "-".into(),
                    source,
                }
            })?)),
            view,
            text: Held::new(err, true),
            diag: None,
        }
    } else {
        // Someone watching a terminal sees each answer as it comes; a file
        // or a pipe gets the text in large pieces.
        let text = Held::new(out, std::io::stdout().is_terminal());
        pauses.text = Some(text.handle());
        LiveSink {
            tap: tap_out,
            view,
            text,
            diag: Some(err),
        }
    };
    let mut code = exits::OK;
    // Registered before anything is sent, so a signal can never find the
    // default handler and kill the process with the trace unfinished.
    use tokio::signal::unix::{signal, SignalKind};
    let signal_err = |e| Error::Internal(format!("cannot install signal handlers: {e}"));
    let mut waits = Waits {
        sigint: signal(SignalKind::interrupt()).map_err(signal_err)?,
        sigterm: signal(SignalKind::terminate()).map_err(signal_err)?,
        pause: Box::pin(tokio::time::sleep(PAUSE)),
        pauses,
    };
    let mut targets = Targets {
        server,
        family,
        known: Vec::new(),
    };
    let parallel = queries.iter().map(|q| q.opts.parallel).max().unwrap_or(1);
    if parallel > 1 {
        let local = tokio::task::LocalSet::new();
        return local
            .run_until(parallel_lookups(
                &mut targets,
                queries,
                &meta,
                usize::from(parallel),
                sink,
                &mut waits,
            ))
            .await;
    }
    let mut session = query::Session::default();
    for spec in queries {
        let target = match targets.get(spec).await {
            Ok(t) => t,
            Err(e) => {
                session.close().await;
                sink.close()?;
                return Err(e);
            }
        };
        let result = waits
            .until(query::lookup(spec, &target, &meta, &mut session, &mut sink))
            .await;
        let result = match result {
            Ok(r) => r,
            Err(signal_code) => {
                sink.diag(";; interrupted");
                session.close().await;
                sink.close()?;
                return Ok(signal_code);
            }
        };
        match result {
            Ok(Outcome::Answered) => {}
            Ok(Outcome::NoReply) => {
                sink.diag(";; no servers could be reached");
                code = exits::NO_REPLY;
            }
            Err(e) => {
                session.close().await;
                let _ = sink.close();
                return Err(e);
            }
        }
    }
    session.close().await;
    sink.close()?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::json::tests::{corpus_files, events_of};

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

#[cfg(test)]
mod live_tests {
    use super::*;

    /// A writer that counts its writes and flushes, and can be made to fail.
    #[derive(Default)]
    struct Probe {
        data: Vec<u8>,
        writes: usize,
        flushes: usize,
        fail: bool,
    }

    impl Write for &mut Probe {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.fail {
                return Err(std::io::Error::from_raw_os_error(libc::EPIPE));
            }
            self.writes += 1;
            self.data.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[test]
    fn held_output_goes_out_in_pieces_and_keeps_its_error() {
        let mut probe = Probe::default();
        {
            let mut held = Held::new(&mut probe, false);
            for _ in 0..10 {
                held.write_all(b"line\n").unwrap();
                held.flush().unwrap();
            }
            held.release().unwrap();
            held.write_all(b"last\n").unwrap();
            let pauses = Pauses::default();
            pauses.release();
            held.release().unwrap();
        }
        assert_eq!(probe.writes, 2, "one write per release");
        assert_eq!(probe.data.len(), 55);
        // A big piece goes out at once.
        let mut held = Held::new(&mut probe, false);
        held.write_all(&vec![b'x'; HELD_CHUNK]).unwrap();
        drop(held);
        assert_eq!(probe.writes, 3);
        // An error stays: every later write and release reports it.
        probe.fail = true;
        let mut held = Held::new(&mut probe, false);
        held.write_all(b"x").unwrap();
        assert!(held.release().is_err());
        probe_unfail(&held);
        let e = held.write_all(b"y").unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe);
        assert!(held.release().is_err());
    }

    fn probe_unfail(held: &Held<&mut Probe>) {
        held.0.borrow_mut().inner.fail = false;
    }

    #[test]
    fn eager_output_is_the_plain_writer() {
        let mut probe = Probe::default();
        let mut held = Held::new(&mut probe, true);
        held.write_all(b"a").unwrap();
        held.flush().unwrap();
        drop(held);
        assert_eq!(probe.writes, 1);
        assert!(probe.flushes >= 1);
    }

    #[test]
    fn paused_outputs_are_released_through_their_handles() {
        let mut text = Vec::new();
        let dir = tempfile::tempdir().unwrap();
        let file = File::create(dir.path().join("f")).unwrap();
        let mut held_text = Held::new(&mut text as &mut dyn Write, false);
        let mut held_file = Held::new(file, false);
        let pauses = Pauses {
            text: Some(held_text.handle()),
            trace: Some(held_file.handle()),
        };
        held_text.write_all(b"text").unwrap();
        held_file.write_all(b"frames").unwrap();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"");
        pauses.release();
        assert_eq!(std::fs::read(dir.path().join("f")).unwrap(), b"frames");
        drop(held_file);
        pauses.release();
        drop(held_text);
        assert_eq!(text, b"text");
    }

    #[test]
    fn replace_file_swaps_over_a_trace_and_renames_otherwise() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, path) = (dir.path().join(".t.tmp"), dir.path().join("t"));
        std::fs::write(&tmp, b"first").unwrap();
        replace_file(&tmp, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        assert!(!tmp.exists());
        std::fs::write(&tmp, b"second").unwrap();
        replace_file(&tmp, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert!(!tmp.exists(), "the old trace is gone");
        // A directory is never swapped in or out.
        let d = dir.path().join("d");
        std::fs::create_dir(&d).unwrap();
        std::fs::write(&tmp, b"third").unwrap();
        assert!(replace_file(&tmp, &d).is_err());
        assert!(d.is_dir());
        assert_eq!(std::fs::read(&tmp).unwrap(), b"third");
    }
}
