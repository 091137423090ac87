//! [`TapReader`]: reads a dnstap Frame Streams file from any `std::io::Read`
//! and yields its data frames, in order, with their byte offsets.
//!
//! This module owns the stream-level rules of a unidirectional Frame Streams
//! file: START first (with content type `protobuf:dnstap.Dnstap`), data
//! frames, STOP last. It is lenient where the peer tools are (a missing
//! content type, a missing STOP, a leftover READY/ACCEPT handshake, unknown
//! control frames, two files concatenated) and reports each oddity as a
//! [`TapWarning`]; what makes the stream unreadable is a [`TapError`]. Every
//! warning and error carries the byte offset it concerns.
//!
//! It must not decode the protobuf payloads (that is `tap::event`'s job) nor
//! print anything. Memory stays bounded by the data frame limit: an oversize
//! frame is read and dropped in chunks, never allocated whole.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, Read};

use bytes::{Buf, Bytes, BytesMut};

use super::frame::{
    Control, ControlType, Decoded, Decoder, Frame, FrameError, CONTENT_TYPE_DNSTAP,
    DEFAULT_MAX_DATA_FRAME,
};

/// How many bytes one `read` call asks the inner reader for.
const READ_CHUNK: usize = 64 * 1024;

/// Options of a [`TapReader`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Largest data frame payload returned; longer frames are skipped with
    /// a [`TapWarning::Oversize`]. Defaults to [`DEFAULT_MAX_DATA_FRAME`].
    pub max_data: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            max_data: DEFAULT_MAX_DATA_FRAME,
        }
    }
}

/// One thing read from the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// One data frame.
    Data {
        /// Byte offset of the frame's length field within the stream.
        offset: u64,
        /// The frame's payload (a serialized `pb::Dnstap`, not yet decoded).
        payload: Bytes,
    },
    /// Something odd but recoverable; reading goes on.
    Warning(TapWarning),
}

/// A recoverable oddity in the stream. Display gives one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TapWarning {
    /// The input ended at a frame boundary without a STOP frame (the writer
    /// was probably interrupted); everything before it was read.
    MissingStop {
        /// Where the input ended.
        offset: u64,
    },
    /// The START frame has no content type; it is assumed to be dnstap
    /// (as kdig and golang-dnstap do).
    MissingContentType {
        /// Offset of the START frame.
        offset: u64,
    },
    /// The stream does not begin with a START frame; data frames are read
    /// anyway.
    NoStart {
        /// Offset of the first data frame.
        offset: u64,
    },
    /// A READY or ACCEPT frame of the bidirectional handshake (a socket
    /// capture saved verbatim) was skipped.
    Handshake {
        /// Offset of the control frame.
        offset: u64,
        /// READY or ACCEPT.
        kind: ControlType,
    },
    /// A control frame that does not belong here (unknown type, or a known
    /// type out of place) was skipped.
    UnexpectedControl {
        /// Offset of the control frame.
        offset: u64,
        /// Its type.
        kind: ControlType,
    },
    /// A data frame longer than the limit was skipped.
    Oversize {
        /// Offset of the frame.
        offset: u64,
        /// Its payload length.
        len: u64,
        /// The limit ([`ReaderOptions::max_data`]).
        max: usize,
    },
    /// Another stream (a new START) follows a STOP, as when two files are
    /// concatenated; it is read too.
    ConcatenatedStream {
        /// Offset of the second START frame.
        offset: u64,
    },
    /// Bytes after the STOP frame that are not another stream were ignored.
    TrailingBytes {
        /// Offset of the first ignored byte.
        offset: u64,
        /// How many bytes were ignored.
        count: u64,
    },
}

impl TapWarning {
    /// The byte offset in the stream this warning is about.
    pub fn offset(&self) -> u64 {
        match self {
            TapWarning::MissingStop { offset }
            | TapWarning::MissingContentType { offset }
            | TapWarning::NoStart { offset }
            | TapWarning::Handshake { offset, .. }
            | TapWarning::UnexpectedControl { offset, .. }
            | TapWarning::Oversize { offset, .. }
            | TapWarning::ConcatenatedStream { offset }
            | TapWarning::TrailingBytes { offset, .. } => *offset,
        }
    }
}

impl fmt::Display for TapWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TapWarning::MissingStop { offset } => write!(
                f,
                "no STOP frame: the stream ends at byte {offset} (was the writer interrupted?)"
            ),
            TapWarning::MissingContentType { offset } => write!(
                f,
                "START frame at byte {offset} has no content type; assuming protobuf:dnstap.Dnstap"
            ),
            TapWarning::NoStart { offset } => write!(
                f,
                "no START frame: data frame at byte {offset} comes first; reading data frames anyway"
            ),
            TapWarning::Handshake { offset, kind } => write!(
                f,
                "skipped {kind} control frame at byte {offset} (bidirectional handshake)"
            ),
            TapWarning::UnexpectedControl {
                offset,
                kind: crate::tap::frame::ControlType::Unknown(v),
            } => write!(f, "skipped control frame of unknown type {v} at byte {offset}"),
            TapWarning::UnexpectedControl { offset, kind } => {
                write!(f, "skipped unexpected {kind} control frame at byte {offset}")
            }
            TapWarning::Oversize { offset, len, max } => write!(
                f,
                "skipped data frame at byte {offset}: {len} bytes is over the {max}-byte limit"
            ),
            TapWarning::ConcatenatedStream { offset } => write!(
                f,
                "another stream starts at byte {offset} after STOP; reading it too"
            ),
            TapWarning::TrailingBytes { offset, count } => {
                write!(f, "ignored {count} trailing bytes after STOP at byte {offset}")
            }
        }
    }
}

/// Why a stream cannot be read further. Display gives one line.
#[derive(Debug, thiserror::Error)]
pub enum TapError {
    /// The inner reader failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// The input is empty.
    #[error("empty file (no START frame)")]
    Empty,
    /// The input ended before any START or data frame.
    #[error("no START frame before the end of the input at byte {offset}")]
    NoStart {
        /// Where the input ended.
        offset: u64,
    },
    /// The input ended in the middle of a frame.
    #[error("frame at byte {offset} is cut short: {got} of {needed} bytes present")]
    Truncated {
        /// Offset of the partial frame.
        offset: u64,
        /// Bytes the whole frame needs (header included), as far as known.
        needed: u64,
        /// Bytes present.
        got: u64,
    },
    /// The START frame announces another content type.
    #[error(
        "START frame at byte {offset} has content type \"{found}\", not \"protobuf:dnstap.Dnstap\""
    )]
    ContentType {
        /// Offset of the START frame.
        offset: u64,
        /// The content type found, with non-printable bytes escaped.
        found: String,
    },
    /// A control frame is malformed or too large.
    #[error("bad control frame at byte {offset}: {cause}")]
    Frame {
        /// Offset of the control frame.
        offset: u64,
        /// What is wrong with it.
        cause: FrameError,
    },
}

/// Where the reader is in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before START (at the beginning, or after a STOP once another START
    /// has been seen ahead).
    ExpectStart,
    /// Between START and STOP.
    InStream,
    /// After STOP: the end, another stream, or trailing bytes.
    AfterStop,
    /// Nothing more will be yielded.
    Done,
}

/// An oversize data frame whose payload is being discarded.
#[derive(Debug, Clone, Copy)]
struct Skip {
    offset: u64,
    len: u64,
    remaining: u64,
}

/// Reads a dnstap Frame Streams file; see the module documentation.
///
/// Buffered internally (64 KiB reads), so the inner reader need not be.
/// Also an [`Iterator`] of `Result<Item, TapError>`, which ends after the
/// first error.
#[derive(Debug)]
pub struct TapReader<R: Read> {
    inner: R,
    opts: ReaderOptions,
    decoder: Decoder,
    buf: BytesMut,
    chunk: Box<[u8]>,
    /// Stream offset of `buf[0]`.
    pos: u64,
    bytes_read: u64,
    eof: bool,
    state: State,
    skip: Option<Skip>,
    queue: VecDeque<Item>,
}

impl<R: Read> TapReader<R> {
    /// A reader over `inner`. Nothing is read until [`Self::next_item`].
    pub fn new(inner: R, opts: ReaderOptions) -> Self {
        TapReader {
            inner,
            opts,
            decoder: Decoder::new(opts.max_data),
            buf: BytesMut::new(),
            chunk: vec![0; READ_CHUNK].into_boxed_slice(),
            pos: 0,
            bytes_read: 0,
            eof: false,
            state: State::ExpectStart,
            skip: None,
            queue: VecDeque::new(),
        }
    }

    /// The next data frame or warning.
    ///
    /// `Ok(None)` at a clean end: after STOP, or at EOF exactly at a frame
    /// boundary (a [`TapWarning::MissingStop`] is yielded first). `Err` is
    /// fatal: a frame cut short at EOF, a malformed control frame, a wrong
    /// content type, an empty input or an I/O error; after it, `Ok(None)`.
    pub fn next_item(&mut self) -> Result<Option<Item>, TapError> {
        let result = self.step();
        if result.is_err() {
            self.state = State::Done;
            self.queue.clear();
        }
        result
    }

    /// Bytes read from the inner reader so far (may run ahead of what has
    /// been yielded, by up to one buffer).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Stream offset of the first byte not yet consumed as part of a frame.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Gives back the inner reader; buffered unread bytes are lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    fn step(&mut self) -> Result<Option<Item>, TapError> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Ok(Some(item));
            }
            match self.state {
                State::Done => return Ok(None),
                State::AfterStop => {
                    if let Some(item) = self.after_stop()? {
                        return Ok(Some(item));
                    }
                    continue;
                }
                State::ExpectStart | State::InStream => {}
            }
            if self.skip.is_some() {
                self.discard()?;
                continue;
            }
            let frame_at = self.pos;
            let before = self.buf.len();
            match self.decoder.decode(&mut self.buf) {
                Err(cause) => {
                    return Err(TapError::Frame {
                        offset: frame_at,
                        cause,
                    })
                }
                Ok(Some(decoded)) => {
                    self.pos += (before - self.buf.len()) as u64;
                    self.handle(decoded, frame_at)?;
                }
                Ok(None) if self.eof => return self.at_eof(),
                Ok(None) => self.fill()?,
            }
        }
    }

    /// Acts on one decoded frame, queueing what it yields.
    fn handle(&mut self, decoded: Decoded, at: u64) -> Result<(), TapError> {
        if self.state == State::ExpectStart {
            match &decoded {
                Decoded::Frame(Frame::Control(c)) => {
                    match c.kind {
                        ControlType::Start => {
                            self.check_content_type(c, at)?;
                            self.state = State::InStream;
                        }
                        ControlType::Ready | ControlType::Accept => {
                            self.warn(TapWarning::Handshake {
                                offset: at,
                                kind: c.kind,
                            });
                        }
                        kind => self.warn(TapWarning::UnexpectedControl { offset: at, kind }),
                    }
                    return Ok(());
                }
                Decoded::Frame(Frame::Data(_)) | Decoded::Oversize { .. } => {
                    self.warn(TapWarning::NoStart { offset: at });
                    self.state = State::InStream;
                }
            }
        }
        match decoded {
            Decoded::Frame(Frame::Data(payload)) => {
                self.queue.push_back(Item::Data {
                    offset: at,
                    payload,
                });
            }
            Decoded::Oversize { len } => {
                self.skip = Some(Skip {
                    offset: at,
                    len,
                    remaining: len,
                });
            }
            Decoded::Frame(Frame::Control(c)) => match c.kind {
                ControlType::Stop => self.state = State::AfterStop,
                ControlType::Start => {
                    self.check_content_type(&c, at)?;
                    self.warn(TapWarning::UnexpectedControl {
                        offset: at,
                        kind: c.kind,
                    });
                }
                kind => self.warn(TapWarning::UnexpectedControl { offset: at, kind }),
            },
        }
        Ok(())
    }

    fn warn(&mut self, warning: TapWarning) {
        self.queue.push_back(Item::Warning(warning));
    }

    /// Accepts a START whose content type is dnstap or absent (with a
    /// warning); START may carry only one, but any dnstap one is accepted.
    fn check_content_type(&mut self, start: &Control, at: u64) -> Result<(), TapError> {
        match start.content_types.first() {
            None => {
                self.warn(TapWarning::MissingContentType { offset: at });
                Ok(())
            }
            Some(_)
                if start
                    .content_types
                    .iter()
                    .any(|ct| ct.as_ref() == CONTENT_TYPE_DNSTAP) =>
            {
                Ok(())
            }
            Some(found) => Err(TapError::ContentType {
                offset: at,
                found: found.escape_ascii().to_string(),
            }),
        }
    }

    /// After STOP: the clean end, another START (a second stream), or
    /// trailing bytes, which are counted and dropped.
    fn after_stop(&mut self) -> Result<Option<Item>, TapError> {
        const START_HEADER: usize = 12;
        if self.buf.len() < START_HEADER && !self.eof {
            self.fill()?;
            return Ok(None);
        }
        if self.buf.is_empty() {
            self.state = State::Done;
            return Ok(None);
        }
        let escape = self.buf.get(0..4) == Some(&[0, 0, 0, 0][..]);
        let start = self.buf.get(8..12) == Some(&[0, 0, 0, 2][..]);
        if escape && start {
            self.state = State::ExpectStart;
            return Ok(Some(Item::Warning(TapWarning::ConcatenatedStream {
                offset: self.pos,
            })));
        }
        let offset = self.pos;
        let count = self.drain()?;
        self.state = State::Done;
        Ok(Some(Item::Warning(TapWarning::TrailingBytes {
            offset,
            count,
        })))
    }

    /// Drops the buffer and the rest of the input, returning how many bytes
    /// that was.
    fn drain(&mut self) -> Result<u64, TapError> {
        let mut count = self.buf.len() as u64;
        self.buf.clear();
        while !self.eof {
            let n = self.read_chunk()?;
            count += n as u64;
        }
        self.pos += count;
        Ok(count)
    }

    /// Discards buffered payload of the oversize frame being skipped,
    /// reading more as needed.
    fn discard(&mut self) -> Result<(), TapError> {
        let Some(mut skip) = self.skip else {
            return Ok(());
        };
        let n = usize::try_from(skip.remaining)
            .unwrap_or(usize::MAX)
            .min(self.buf.len());
        self.buf.advance(n);
        self.pos += n as u64;
        skip.remaining -= n as u64;
        if skip.remaining == 0 {
            self.skip = None;
            self.warn(TapWarning::Oversize {
                offset: skip.offset,
                len: skip.len,
                max: self.opts.max_data,
            });
            return Ok(());
        }
        self.skip = Some(skip);
        if self.eof {
            return Err(TapError::Truncated {
                offset: skip.offset,
                needed: 4 + skip.len,
                got: 4 + skip.len - skip.remaining,
            });
        }
        self.fill()
    }

    /// EOF with no whole frame buffered.
    fn at_eof(&mut self) -> Result<Option<Item>, TapError> {
        if !self.buf.is_empty() {
            let got = self.buf.len() as u64;
            let needed = self
                .decoder
                .pending_frame_len(&self.buf)
                .unwrap_or(if got < 4 { 4 } else { 8 });
            return Err(TapError::Truncated {
                offset: self.pos,
                needed,
                got,
            });
        }
        match self.state {
            State::ExpectStart if self.pos == 0 => Err(TapError::Empty),
            State::ExpectStart => Err(TapError::NoStart { offset: self.pos }),
            State::InStream => {
                self.state = State::Done;
                Ok(Some(Item::Warning(TapWarning::MissingStop {
                    offset: self.pos,
                })))
            }
            State::AfterStop | State::Done => {
                self.state = State::Done;
                Ok(None)
            }
        }
    }

    /// Appends one read's worth of input to the buffer (or notes EOF).
    fn fill(&mut self) -> Result<(), TapError> {
        let n = self.read_chunk()?;
        if let Some(bytes) = self.chunk.get(..n) {
            self.buf.extend_from_slice(bytes);
        }
        Ok(())
    }

    /// Reads into the scratch chunk, retrying on `Interrupted`; 0 means EOF.
    fn read_chunk(&mut self) -> Result<usize, TapError> {
        loop {
            match self.inner.read(&mut self.chunk) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => {
                    let n = n.min(self.chunk.len());
                    self.bytes_read += n as u64;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl<R: Read> Iterator for TapReader<R> {
    type Item = Result<Item, TapError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::frame::{encode, CONTROL_FRAME_LENGTH_MAX};
    use crate::tap::pb;
    use prost::Message as _;

    const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/corpus/");

    fn corpus(name: &str) -> Vec<u8> {
        std::fs::read(format!("{CORPUS}{name}")).unwrap()
    }

    /// Everything a reader yields, and how it ended.
    #[derive(Debug)]
    struct Outcome {
        data: Vec<(u64, Bytes)>,
        warnings: Vec<TapWarning>,
        items: Vec<Item>,
        error: Option<TapError>,
    }

    fn read_with<R: Read>(inner: R, opts: ReaderOptions) -> Outcome {
        let mut reader = TapReader::new(inner, opts);
        let mut out = Outcome {
            data: vec![],
            warnings: vec![],
            items: vec![],
            error: None,
        };
        loop {
            match reader.next_item() {
                Ok(Some(item)) => {
                    match &item {
                        Item::Data { offset, payload } => out.data.push((*offset, payload.clone())),
                        Item::Warning(w) => out.warnings.push(w.clone()),
                    }
                    out.items.push(item);
                    assert!(out.items.len() < 1_000_000, "reader does not end");
                }
                Ok(None) => break,
                Err(e) => {
                    out.error = Some(e);
                    // Fused after an error.
                    assert!(matches!(reader.next_item(), Ok(None)));
                    break;
                }
            }
        }
        out
    }

    fn read(bytes: &[u8]) -> Outcome {
        read_with(bytes, ReaderOptions::default())
    }

    fn frames(list: &[Frame]) -> Vec<u8> {
        let mut out = BytesMut::new();
        for f in list {
            encode(f, &mut out).unwrap();
        }
        out.to_vec()
    }

    fn start() -> Frame {
        Frame::Control(Control::start(CONTENT_TYPE_DNSTAP))
    }

    fn stop() -> Frame {
        Frame::Control(Control::stop())
    }

    fn ctl(kind: ControlType, cts: &[&[u8]]) -> Frame {
        Frame::Control(Control {
            kind,
            content_types: cts.iter().map(|c| Bytes::copy_from_slice(c)).collect(),
        })
    }

    fn data(p: &[u8]) -> Frame {
        Frame::Data(Bytes::copy_from_slice(p))
    }

    /// A `Read` that hands out at most `step` bytes per call.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    #[test]
    fn corpus_files_read_to_the_right_number_of_frames() {
        // (file, data frames, ends with a STOP)
        let table = [
            ("kdig-udp.fstrm", 2, true),
            ("kdig-tcp.fstrm", 2, true),
            ("kdig-tls.fstrm", 2, true),
            ("kdig-axfr.fstrm", 3, true),
            ("kdig-multi.fstrm", 12, true),
            ("kdig-udp-tc.fstrm", 4, true),
            ("knotd-auth.fstrm", 100, true),
            ("knotd-auth-rwq.fstrm", 50, true),
            ("unbound-fstrm_capture.fstrm", 72, true),
            ("named-all.fstrm", 46, true),
            ("damaged-nostop.fstrm", 72, false),
        ];
        for (name, count, has_stop) in table {
            let bytes = corpus(name);
            let out = read(&bytes);
            assert!(out.error.is_none(), "{name}: {:?}", out.error);
            assert_eq!(out.data.len(), count, "{name}");
            if has_stop {
                assert!(out.warnings.is_empty(), "{name}: {:?}", out.warnings);
            } else {
                assert_eq!(
                    out.warnings,
                    vec![TapWarning::MissingStop {
                        offset: bytes.len() as u64
                    }],
                    "{name}"
                );
                assert!(matches!(out.items.last(), Some(Item::Warning(_))));
            }
            for (offset, payload) in &out.data {
                // The offset points at the frame's length field.
                let at = *offset as usize;
                let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
                assert_eq!(len, payload.len(), "{name} @{offset}");
                assert_eq!(
                    &bytes[at + 4..at + 4 + len],
                    &payload[..],
                    "{name} @{offset}"
                );
                let record = pb::Dnstap::decode(payload.clone())
                    .unwrap_or_else(|e| panic!("{name} @{offset}: {e}"));
                assert_eq!(record.r#type(), pb::dnstap::Type::Message, "{name}");
                assert!(record.message.is_some(), "{name} @{offset}");
            }
            // The START frame is 42 bytes, so the first data frame follows it.
            assert_eq!(out.data.first().map(|d| d.0), Some(42), "{name}");
        }
    }

    #[test]
    fn corpus_cut_midframe_yields_intact_prefix_then_truncated() {
        let bytes = corpus("damaged-cut-midframe.fstrm");
        let out = read(&bytes);
        assert_eq!(out.data.len(), 11);
        assert!(out.warnings.is_empty());
        match out.error {
            Some(TapError::Truncated {
                offset,
                needed,
                got,
            }) => {
                let len = u32::from_be_bytes(
                    bytes[offset as usize..offset as usize + 4]
                        .try_into()
                        .unwrap(),
                );
                assert_eq!(needed, 4 + u64::from(len));
                assert_eq!(offset + got, bytes.len() as u64);
                assert!(got < needed);
                let (last_at, last) = out.data.last().unwrap();
                assert_eq!(offset, last_at + 4 + last.len() as u64);
            }
            other => panic!("{other:?}"),
        }
        // The intact frames are the same as in the file it was cut from.
        let whole = read(&corpus("kdig-multi.fstrm"));
        assert_eq!(out.data[..], whole.data[..11]);
    }

    #[test]
    fn truncated_error_reads_as_one_clear_line() {
        let e = TapError::Truncated {
            offset: 1234,
            needed: 130,
            got: 57,
        };
        assert_eq!(
            e.to_string(),
            "frame at byte 1234 is cut short: 57 of 130 bytes present"
        );
    }

    #[test]
    fn small_reads_give_the_same_result() {
        let bytes = corpus("kdig-multi.fstrm");
        let whole = read(&bytes);
        for step in [1, 3, 7, 100] {
            let out = read_with(
                Trickle {
                    bytes: &bytes,
                    step,
                },
                ReaderOptions::default(),
            );
            assert_eq!(out.items, whole.items, "step {step}");
            assert!(out.error.is_none());
        }
    }

    #[test]
    fn stream_cut_at_every_offset_yields_prefix_and_never_panics() {
        let bytes = corpus("kdig-multi.fstrm");
        let whole = read(&bytes);
        assert_eq!(whole.data.len(), 12);
        // Frame boundaries: after START, after each data frame.
        let mut boundaries = vec![42u64];
        boundaries.extend(whole.data.iter().map(|(o, p)| o + 4 + p.len() as u64));
        for cut in 0..=bytes.len() {
            let out = read(&bytes[..cut]);
            let cut64 = cut as u64;
            let complete: Vec<_> = whole
                .data
                .iter()
                .filter(|(o, p)| o + 4 + p.len() as u64 <= cut64)
                .cloned()
                .collect();
            assert_eq!(out.data, complete, "cut {cut}");
            if cut == bytes.len() {
                assert!(out.error.is_none() && out.warnings.is_empty());
            } else if cut == 0 {
                assert!(
                    matches!(out.error, Some(TapError::Empty)),
                    "{:?}",
                    out.error
                );
            } else if boundaries.contains(&cut64) {
                assert!(out.error.is_none(), "cut {cut}: {:?}", out.error);
                assert_eq!(
                    out.warnings,
                    vec![TapWarning::MissingStop { offset: cut64 }]
                );
            } else {
                assert!(out.warnings.is_empty(), "cut {cut}: {:?}", out.warnings);
                match out.error {
                    Some(TapError::Truncated {
                        offset,
                        got,
                        needed,
                    }) => {
                        assert_eq!(offset + got, cut64, "cut {cut}");
                        assert!(got < needed, "cut {cut}");
                    }
                    other => panic!("cut {cut}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn two_concatenated_streams_are_both_read() {
        let a = corpus("kdig-udp.fstrm");
        let b = corpus("kdig-tcp.fstrm");
        let both = [a.clone(), b.clone()].concat();
        let out = read(&both);
        assert!(out.error.is_none());
        assert_eq!(out.data.len(), 4);
        assert_eq!(
            out.warnings,
            vec![TapWarning::ConcatenatedStream {
                offset: a.len() as u64
            }]
        );
        let second = read(&b);
        assert_eq!(out.data[2].1, second.data[0].1);
        assert_eq!(out.data[2].0, a.len() as u64 + second.data[0].0);
    }

    #[test]
    fn missing_content_type_is_accepted_with_a_warning() {
        let bytes = frames(&[ctl(ControlType::Start, &[]), data(b"one"), stop()]);
        let out = read(&bytes);
        assert!(out.error.is_none());
        assert_eq!(
            out.items,
            vec![
                Item::Warning(TapWarning::MissingContentType { offset: 0 }),
                Item::Data {
                    offset: 12,
                    payload: Bytes::from_static(b"one")
                },
            ]
        );
    }

    #[test]
    fn wrong_content_type_is_an_error() {
        let bytes = frames(&[
            ctl(ControlType::Start, &[b"protobuf:other\x1b"]),
            data(b"x"),
            stop(),
        ]);
        let out = read(&bytes);
        assert!(out.data.is_empty());
        match out.error {
            Some(e @ TapError::ContentType { .. }) => {
                let TapError::ContentType { offset, found } = &e else {
                    unreachable!()
                };
                assert_eq!(*offset, 0);
                assert_eq!(found, "protobuf:other\\x1b");
                assert!(e.to_string().contains("protobuf:other\\x1b"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn wrong_content_type_in_second_stream_is_an_error() {
        let bytes = frames(&[
            start(),
            data(b"a"),
            stop(),
            ctl(ControlType::Start, &[b"text"]),
            data(b"b"),
        ]);
        let out = read(&bytes);
        assert_eq!(out.data.len(), 1);
        assert!(matches!(
            out.error,
            Some(TapError::ContentType { offset: 59, .. })
        ));
    }

    #[test]
    fn empty_input_is_an_error() {
        let out = read(b"");
        assert!(out.items.is_empty());
        let e = out.error.unwrap();
        assert!(matches!(e, TapError::Empty));
        assert_eq!(e.to_string(), "empty file (no START frame)");
    }

    #[test]
    fn only_a_handshake_is_an_error() {
        let bytes = frames(&[ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP])]);
        let out = read(&bytes);
        assert_eq!(out.warnings.len(), 1);
        assert!(matches!(
            out.error,
            Some(TapError::NoStart { offset }) if offset == bytes.len() as u64
        ));
    }

    #[test]
    fn handshake_frames_before_start_are_skipped_with_warnings() {
        let bytes = frames(&[
            ctl(ControlType::Ready, &[b"a", CONTENT_TYPE_DNSTAP]),
            ctl(ControlType::Accept, &[CONTENT_TYPE_DNSTAP]),
            start(),
            data(b"d"),
            stop(),
            ctl(ControlType::Finish, &[]),
        ]);
        let out = read(&bytes);
        assert!(out.error.is_none());
        assert_eq!(out.data.len(), 1);
        assert!(matches!(
            out.warnings[..],
            [
                TapWarning::Handshake {
                    offset: 0,
                    kind: ControlType::Ready
                },
                TapWarning::Handshake {
                    kind: ControlType::Accept,
                    ..
                },
                // FINISH after STOP is not another stream.
                TapWarning::TrailingBytes { count: 12, .. },
            ]
        ));
    }

    #[test]
    fn data_before_start_is_read_with_a_warning() {
        let bytes = frames(&[data(b"early"), data(b"late"), stop()]);
        let out = read(&bytes);
        assert!(out.error.is_none());
        assert_eq!(
            out.items[0],
            Item::Warning(TapWarning::NoStart { offset: 0 })
        );
        assert_eq!(out.data.len(), 2);
        assert_eq!(out.warnings.len(), 1);
    }

    #[test]
    fn unknown_control_frames_mid_stream_are_skipped() {
        let bytes = frames(&[
            start(),
            data(b"a"),
            ctl(ControlType::Unknown(99), &[b"zz"]),
            ctl(ControlType::Ready, &[]),
            data(b"b"),
            stop(),
        ]);
        let out = read(&bytes);
        assert!(out.error.is_none());
        assert_eq!(out.data.len(), 2);
        assert_eq!(
            out.warnings,
            vec![
                TapWarning::UnexpectedControl {
                    offset: 47,
                    kind: ControlType::Unknown(99)
                },
                TapWarning::UnexpectedControl {
                    offset: 47 + 22,
                    kind: ControlType::Ready
                },
            ]
        );
        assert!(out.warnings[0].to_string().contains("byte 47"));
    }

    #[test]
    fn trailing_bytes_after_stop_are_counted_and_ignored() {
        let mut bytes = frames(&[start(), data(b"a"), stop()]);
        let stop_end = bytes.len() as u64;
        bytes.extend_from_slice(&[0xde; 100_000]);
        let out = read(&bytes);
        assert!(out.error.is_none());
        assert_eq!(out.data.len(), 1);
        assert_eq!(
            out.warnings,
            vec![TapWarning::TrailingBytes {
                offset: stop_end,
                count: 100_000
            }]
        );
        // A few bytes only (shorter than a control header) count too.
        let mut short = frames(&[start(), stop()]);
        short.extend_from_slice(b"\n");
        let out = read(&short);
        assert_eq!(
            out.warnings,
            vec![TapWarning::TrailingBytes {
                offset: 54,
                count: 1
            }]
        );
    }

    #[test]
    fn oversize_data_frame_is_skipped_and_reading_goes_on() {
        let big = vec![7u8; 200_000];
        let bytes = frames(&[start(), data(b"a"), data(&big), data(b"b"), stop()]);
        let opts = ReaderOptions { max_data: 1000 };
        for step in [usize::MAX, 4096] {
            let out = read_with(
                Trickle {
                    bytes: &bytes,
                    step,
                },
                opts,
            );
            assert!(out.error.is_none(), "{:?}", out.error);
            let payloads: Vec<_> = out.data.iter().map(|d| &d.1[..]).collect();
            assert_eq!(payloads, vec![&b"a"[..], &b"b"[..]]);
            assert_eq!(
                out.warnings,
                vec![TapWarning::Oversize {
                    offset: 47,
                    len: 200_000,
                    max: 1000
                }]
            );
            assert_eq!(out.data[1].0, 47 + 4 + 200_000);
        }
    }

    #[test]
    fn oversize_data_frame_cut_short_is_truncated() {
        let mut bytes = frames(&[start()]);
        bytes.extend_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        bytes.extend_from_slice(&[1; 5000]);
        let out = read(&bytes);
        assert!(out.warnings.is_empty());
        match out.error {
            Some(TapError::Truncated {
                offset,
                needed,
                got,
            }) => {
                assert_eq!(offset, 42);
                assert_eq!(needed, 4 + u64::from(u32::MAX));
                assert_eq!(got, 5004);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_control_frames_are_fatal() {
        let mut bytes = frames(&[start(), data(b"a")]);
        let at = bytes.len() as u64;
        bytes.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0x10, 0]);
        bytes.extend_from_slice(&[0; 4096]);
        let out = read(&bytes);
        assert_eq!(out.data.len(), 1);
        match out.error {
            Some(e @ TapError::Frame { .. }) => {
                assert!(matches!(
                    e,
                    TapError::Frame {
                        offset,
                        cause: FrameError::ControlTooLarge { len: 4096, max: CONTROL_FRAME_LENGTH_MAX }
                    } if offset == at
                ));
                assert!(e.to_string().starts_with("bad control frame at byte 47: "));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn start_mid_stream_is_skipped_with_a_warning() {
        let bytes = frames(&[start(), data(b"a"), start(), data(b"b"), stop()]);
        let out = read(&bytes);
        assert!(out.error.is_none());
        assert_eq!(out.data.len(), 2);
        assert_eq!(
            out.warnings,
            vec![TapWarning::UnexpectedControl {
                offset: 47,
                kind: ControlType::Start
            }]
        );
    }

    #[test]
    fn io_errors_are_fatal() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::new(io::ErrorKind::PermissionDenied, "nope"))
            }
        }
        let out = read_with(Failing, ReaderOptions::default());
        assert!(matches!(out.error, Some(TapError::Io(e)) if e.to_string() == "nope"));
    }

    #[test]
    fn iterator_yields_items_then_ends() {
        let bytes = frames(&[start(), data(b"a"), data(b"b"), stop()]);
        let reader = TapReader::new(&bytes[..], ReaderOptions::default());
        let items: Vec<_> = reader.collect::<Result<_, _>>().unwrap();
        assert_eq!(items.len(), 2);
        let mut reader = TapReader::new(&b"\0\0"[..], ReaderOptions::default());
        assert!(matches!(
            reader.next(),
            Some(Err(TapError::Truncated { .. }))
        ));
        assert!(reader.next().is_none());
    }

    #[test]
    fn bytes_read_and_position_track_the_input() {
        let bytes = frames(&[start(), data(b"abc"), stop()]);
        let mut reader = TapReader::new(&bytes[..], ReaderOptions::default());
        assert_eq!(reader.bytes_read(), 0);
        assert!(matches!(
            reader.next_item(),
            Ok(Some(Item::Data { offset: 42, .. }))
        ));
        assert_eq!(reader.position(), 49);
        assert!(matches!(reader.next_item(), Ok(None)));
        assert_eq!(reader.bytes_read(), bytes.len() as u64);
        assert_eq!(reader.position(), bytes.len() as u64);
    }

    #[test]
    fn warnings_read_as_one_line_with_their_offset() {
        let all = [
            TapWarning::MissingStop { offset: 11 },
            TapWarning::MissingContentType { offset: 11 },
            TapWarning::NoStart { offset: 11 },
            TapWarning::Handshake {
                offset: 11,
                kind: ControlType::Ready,
            },
            TapWarning::UnexpectedControl {
                offset: 11,
                kind: ControlType::Unknown(7),
            },
            TapWarning::Oversize {
                offset: 11,
                len: 5,
                max: 4,
            },
            TapWarning::ConcatenatedStream { offset: 11 },
            TapWarning::TrailingBytes {
                offset: 11,
                count: 3,
            },
        ];
        for w in all {
            let s = w.to_string();
            assert_eq!(w.offset(), 11);
            assert!(s.contains("byte 11"), "{s}");
            assert!(!s.contains('\n'), "{s}");
        }
    }
}
