//! The one source of frames every `--read` driver consumes: read, decode,
//! select, scrub. Files (and stdin) and the live collector both produce
//! [`Raw`] pieces through [`Frames`]; [`Selected`] turns them into decoded,
//! selected and (with `--scrub`) scrubbed [`Piece`]s. The consumers —
//! rendering (`run::read`), saving (`run::write`, the collector's
//! capture), `--stats` and `--rrsets` (`run::stats`) — never read an input
//! themselves, so a new consumer (e.g. replay) gets files and sockets alike.

use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use bytes::Bytes;

use crate::scrub::Scrubber;
use crate::select::{Filter, Selector};
use crate::tap::event::Event;
use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader, TapWarning};

/// A line for stderr, in its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The line, already escaped.
    pub line: String,
    /// Data was skipped (the exit code becomes 8).
    pub lost: bool,
    /// What `--stats` counts it as, when it is damage.
    pub damage: Option<&'static str>,
}

impl Note {
    /// A line that reports nothing lost and no damage.
    pub fn info(line: String) -> Note {
        Note {
            line,
            lost: false,
            damage: None,
        }
    }
}

/// What an input yields, before decoding.
#[derive(Debug)]
pub enum Raw {
    /// One data frame.
    Frame {
        /// Its byte offset in its input (file or connection stream).
        offset: u64,
        /// The frame's payload (a dnstap record, not yet decoded).
        payload: Bytes,
        /// The collector connection it came in on (None: a file).
        connection: Option<Bytes>,
        /// The payload is in an allocation of its own, not in a buffer
        /// its reader goes on filling (the collector hands over each
        /// read whole): it is kept as it is, not copied first.
        own: bool,
    },
    /// A line for stderr.
    Note(Note),
    /// Frames lost before they reached the source (counted, each already
    /// named in a note).
    Lost(u64),
    /// Nothing more for now (a live input waits): what is held back for
    /// throughput should go out.
    Idle,
    /// Start a new `--write` file (the collector's timer or SIGUSR1).
    Rotate,
}

/// An input of frames: files one after the other, or the collector.
pub trait Frames {
    /// The next piece; None at the end of every input.
    fn next_raw(&mut self) -> Option<Raw>;
    /// The escaped name of the file being read (for messages about a
    /// frame that came without a connection).
    fn name(&self) -> &str;
}

/// Does a reader warning mean that data was skipped?
pub fn loses_data(w: &TapWarning) -> bool {
    matches!(
        w,
        TapWarning::Oversize { .. } | TapWarning::TrailingBytes { .. }
    )
}

/// How `--stats` counts a reader warning.
fn damage_kind(w: &TapWarning) -> &'static str {
    match w {
        TapWarning::Oversize { .. } => "oversize frame skipped",
        TapWarning::TrailingBytes { .. } => "trailing bytes",
        TapWarning::MissingStop { .. } => "missing STOP frame",
        _ => "other Frame Streams oddity",
    }
}

type Input = TapReader<Box<dyn std::io::Read + Send>>;

/// `--read FILE...` (`-` is stdin): every file in turn, with progress on
/// stderr when it is wanted (see [`super::progress`]).
pub struct FileFrames {
    files: std::collections::VecDeque<PathBuf>,
    max_frame: usize,
    reader: Option<(Input, super::progress::Progress)>,
    name: String,
}

impl FileFrames {
    /// The frames of `files`, data frames up to `max_frame` bytes.
    pub fn new(files: &[PathBuf], max_frame: usize) -> FileFrames {
        FileFrames {
            files: files.iter().cloned().collect(),
            max_frame,
            reader: None,
            name: String::new(),
        }
    }
}

impl Frames for FileFrames {
    fn next_raw(&mut self) -> Option<Raw> {
        loop {
            let Some((reader, progress)) = self.reader.as_mut() else {
                let path = self.files.pop_front()?;
                self.name = crate::render::escaped(path.as_os_str().as_bytes());
                match super::open_input(&path) {
                    Ok((input, len)) => {
                        let reader = TapReader::new(
                            input,
                            ReaderOptions {
                                max_data: self.max_frame,
                            },
                        );
                        let progress = super::progress::Progress::new(len, &self.name);
                        self.reader = Some((reader, progress));
                        continue;
                    }
                    Err(e) => {
                        return Some(Raw::Note(Note {
                            line: format!("qtap: cannot open {}: {e}", self.name),
                            lost: true,
                            damage: Some("input that could not be opened"),
                        }));
                    }
                }
            };
            return Some(match reader.next_item() {
                Ok(None) => {
                    self.reader = None;
                    continue;
                }
                Ok(Some(TapItem::Data { offset, payload })) => {
                    progress.frame(TapReader::position(reader));
                    Raw::Frame {
                        offset,
                        payload,
                        connection: None,
                        own: false,
                    }
                }
                Ok(Some(TapItem::Warning(w))) => Raw::Note(Note {
                    line: format!(";; WARNING: {}: {w}", self.name),
                    lost: loses_data(&w),
                    damage: Some(damage_kind(&w)),
                }),
                Err(e) => {
                    self.reader = None;
                    Raw::Note(Note {
                        line: format!("qtap: {}: {e}", self.name),
                        lost: true,
                        damage: Some("unreadable or cut input"),
                    })
                }
            });
        }
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// What [`Selected`] yields, in input order. Frames are by far the most
/// common piece, so they are not boxed (an allocation per frame).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Piece {
    /// A selected record: decoded, and its payload (scrubbed with
    /// `--scrub` when payloads are wanted, else verbatim).
    Frame(Event, Bytes),
    /// A line for stderr.
    Note(Note),
    /// A frame passed on as it came, not decoded: only from a source made
    /// [`Selected::undecoded`] (nothing selects or scrubs, and the consumer
    /// only saves).
    Undecoded(Bytes),
    /// Frames lost before decoding.
    Lost(u64),
    /// The input waits: release what is held back.
    Idle,
    /// Start a new `--write` file.
    Rotate,
}

/// Where [`Selected`] keeps the frames it hands on: a fresh allocation
/// every so often, so the reference count the frames share is not touched
/// by the reader's buffer and another thread at once (sharing the reader's
/// own buffer across threads made that count a hot spot in `--read`).
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

    fn renew(&mut self) {
        self.buf = bytes::BytesMut::with_capacity(ARENA_SIZE);
    }
}

/// `--scrub` for a [`Selected`]: which form the consumer needs.
pub struct Scrub {
    /// The scrubber (its summary goes to stderr at the end).
    pub scrubber: Scrubber,
    /// Scrub the encoded record too (for saving); else only the decoded
    /// event (for rendering and counting).
    pub payload: bool,
}

/// Read, decode, select, scrub: the one front half of every `--read`.
pub struct Selected<F: Frames> {
    frames: F,
    selector: Selector<(Event, Bytes)>,
    scrub: Option<Scrub>,
    arena: Arena,
    kept: Vec<(Event, Bytes)>,
    /// Frames are passed on undecoded ([`Selected::undecoded`]).
    undecoded: bool,
    /// Data frames read so far.
    pub read: u64,
}

impl<F: Frames> Selected<F> {
    /// Whether a selection option is in force (not everything passes).
    pub fn selects_some(&self) -> bool {
        !self.selector.filter().is_empty()
    }

    /// The frames of `frames` that `filter` selects, scrubbed by `scrub`.
    pub fn new(frames: F, filter: Filter, scrub: Option<Scrub>) -> Selected<F> {
        Selected {
            frames,
            selector: Selector::new(filter),
            scrub,
            arena: Arena::new(),
            kept: Vec::new(),
            undecoded: false,
            read: 0,
        }
    }

    /// Passes frames on undecoded ([`Piece::Undecoded`]) when nothing
    /// selects or scrubs: for a consumer that only saves (the collector's
    /// capture daemon), which then keeps every frame verbatim, even one
    /// that does not decode, at the cost of copying bytes only.
    pub fn undecoded(mut self) -> Selected<F> {
        self.undecoded = self.selector.filter().is_empty() && self.scrub.is_none();
        self
    }

    /// Appends the next pieces to `out` (none, when a frame is not selected
    /// yet); false at the end of the input.
    pub fn next(&mut self, out: &mut Vec<Piece>) -> bool {
        let Some(raw) = self.frames.next_raw() else {
            return false;
        };
        match raw {
            Raw::Frame {
                offset,
                payload,
                connection,
                own,
            } => {
                self.read += 1;
                if self.undecoded {
                    out.push(Piece::Undecoded(payload));
                    return true;
                }
                let payload = if own {
                    payload
                } else {
                    self.arena.copy(&payload)
                };
                match Event::from_payload(Some(offset), payload.clone()) {
                    Ok(mut event) => {
                        event.connection = connection;
                        self.selector.push((event, payload), &mut self.kept);
                        for (event, payload) in self.kept.drain(..) {
                            out.push(match scrubbed(self.scrub.as_mut(), event, payload) {
                                Ok((event, payload)) => Piece::Frame(event, payload),
                                Err(n) => Piece::Note(n),
                            });
                        }
                    }
                    Err(e) => {
                        let name = connection
                            .as_deref()
                            .map(String::from_utf8_lossy)
                            .unwrap_or_else(|| self.frames.name().into());
                        out.push(Piece::Note(Note {
                            line: format!(
                                ";; WARNING: {name}: frame at byte {offset} skipped: {e}"
                            ),
                            lost: true,
                            damage: Some("frame that is not a dnstap message"),
                        }));
                    }
                }
            }
            Raw::Note(n) => out.push(Piece::Note(n)),
            Raw::Lost(n) => out.push(Piece::Lost(n)),
            Raw::Idle => out.push(Piece::Idle),
            Raw::Rotate => out.push(Piece::Rotate),
        }
        true
    }

    /// Lets go of the frames' current allocation: what is still held (a
    /// query waiting for its response) gets its own copy.
    pub fn detach(&mut self) {
        self.selector.detach();
        self.arena.renew();
    }

    /// The scrubber's summary, for the end of the run.
    pub fn scrub_summary(&self) -> Option<String> {
        self.scrub.as_ref().map(|s| s.scrubber.summary())
    }
}

/// Scrubs one selected record as the consumer needs it; a record whose
/// encoding cannot be rewritten is left out with a note.
fn scrubbed(
    scrub: Option<&mut Scrub>,
    event: Event,
    payload: Bytes,
) -> Result<(Event, Bytes), Note> {
    let Some(scrub) = scrub else {
        return Ok((event, payload));
    };
    let offset = event.offset;
    if !scrub.payload {
        let mut event = event;
        scrub.scrubber.scrub_event(&mut event);
        return Ok((event, payload));
    }
    let left_out = |e: &dyn std::fmt::Display| Note {
        line: format!(
            ";; WARNING: frame at byte {} left out: {e}",
            offset.unwrap_or(0)
        ),
        lost: true,
        damage: Some("frame that could not be scrubbed"),
    };
    let clean = Bytes::from(
        scrub
            .scrubber
            .scrub_payload(&payload)
            .map_err(|e| left_out(&e))?,
    );
    let mut clean_event = Event::from_payload(offset, clean.clone()).map_err(|e| left_out(&e))?;
    clean_event.connection = event.connection;
    Ok((clean_event, clean))
}

/// Where selected frames are saved (`--write`): a new trace file, stdout,
/// or the collector's rotating capture.
pub trait Save {
    /// Saves one frame; its byte offset in the output when known.
    fn save(&mut self, payload: &[u8]) -> Result<Option<u64>, crate::error::Error>;
    /// The input pauses: what is buffered goes out.
    fn release(&mut self) -> Result<(), crate::error::Error> {
        Ok(())
    }
    /// Start a new file (rotation); nothing for a single output.
    fn rotate(&mut self) -> Result<(), crate::error::Error> {
        Ok(())
    }
}

impl<W: std::io::Write> Save for crate::tap::writer::TapWriter<W> {
    fn save(&mut self, payload: &[u8]) -> Result<Option<u64>, crate::error::Error> {
        let at = self.offset();
        self.write_payload(payload)?;
        Ok(Some(at))
    }
}

impl Save for super::capture::Capture {
    fn save(&mut self, payload: &[u8]) -> Result<Option<u64>, crate::error::Error> {
        self.write(payload)
    }
    fn release(&mut self) -> Result<(), crate::error::Error> {
        super::capture::Capture::release(self)
    }
    fn rotate(&mut self) -> Result<(), crate::error::Error> {
        super::capture::Capture::rotate(self)
    }
}
