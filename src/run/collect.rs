//! The live collector: `--read unix:PATH` and `--read tcp:ADDR:PORT`.
//! qtap listens, takes any number of Frame Streams senders at once (Knot's
//! mod-dnstap, Unbound, BIND, dnsdist, another qtap), and shows every
//! message as it arrives through the one pairer and printer `--read FILE`
//! uses; `--write FILE` saves the frames (verbatim unless scrubbed).
//! [`listen`] offers the same collector as a plain [`Frames`] source to
//! another consumer (`--replay unix:…`).
//!
//! Threads: the network thread runs a current-thread tokio runtime with
//! one task per connection (the handshake of [`crate::tap::handshake`] over
//! the codec of [`crate::tap::frame`]) and hands frames over a queue; the
//! queue is a [`Frames`] source, so everything after it is what `--read
//! FILE` does: [`Selected`] decodes, selects and scrubs, and `run::read`'s
//! threaded pipeline pairs (within each connection), saves (`--write`) and
//! renders, or `run::stats` counts (`--stats`, `--rrsets`, printed when
//! the collector stops). Files and the terminal are plain blocking I/O off
//! the runtime, so a slow terminal or disk never stalls a timer or a signal.
//!
//! **Backpressure, not dropping.** A connection task that has a frame waits
//! for room in the queue (at most [`CollectOptions::queue_bytes`] held by
//! the frames in flight, whatever the number of senders) before it reads
//! more; the sender's socket buffer then fills. Every dnstap sender writes
//! from its own I/O thread through a bounded queue that drops (and counts)
//! when full, so a DNS server is never blocked by a slow collector, while
//! qtap itself never loses a frame it has read. Frames qtap does refuse
//! (oversize, undecodable, cut by a disconnect) are each named on stderr
//! and make the exit code 8.
//!
//! **Bounds.** Per connection: one partial frame (at most
//! `--max-frame-size` + 8 bytes) plus one read chunk; at most
//! [`CollectOptions::max_connections`] connections at once
//! (`--max-connections`; more are refused, reported, and make the exit
//! code 8); [`CollectOptions::queue_bytes`] in the queue
//! (`--collector-buffer`). Deadlines that
//! junk cannot extend: the handshake must reach START within
//! [`CollectOptions::handshake_timeout`] of the connection, and a frame
//! once begun must arrive whole within [`CollectOptions::frame_timeout`]
//! (a sender trickling bytes is cut off); an idle sender between frames
//! may wait forever.

use std::io::Write;
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::error::{exits, Error};
use crate::render::DisplayOpts;
use crate::run::capture::{Capture, Rotation};
use crate::run::source::{FileFrames, Frames, Note, Raw, Save, Scrub, Selected};
use crate::run::view::ReadOutput;
use crate::select::Filter;
use crate::tap::frame::{encode_control, Control, Decoded, Decoder, CONTENT_TYPE_DNSTAP};
use crate::tap::handshake::{ReaderHandshake, ReaderStep};

pub use crate::tap::endpoint::{Endpoint, SocketOpts};

/// A socket file qtap created: removed when dropped, if it is still the
/// same file (a socket somebody else put there later stays).
#[derive(Debug)]
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        if let Ok(m) = std::fs::symlink_metadata(&self.path) {
            if m.file_type().is_socket() && m.dev() == self.dev && m.ino() == self.ino {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

/// A bound listening socket, not yet serving.
#[derive(Debug)]
pub struct Listener {
    kind: ListenerKind,
    label: String,
    socket_file: Option<SocketFile>,
}

#[derive(Debug)]
enum ListenerKind {
    Unix(std::os::unix::net::UnixListener),
    Tcp(std::net::TcpListener),
}

impl Listener {
    /// The endpoint as shown in messages, with the real port for `tcp:…:0`.
    pub fn label(&self) -> &str {
        &self.label
    }
}

/// Binds `endpoint`. A Unix socket file already there is replaced only if
/// it is a socket nobody listens on (connecting is refused); anything
/// else (a file, a directory, a live socket) is an error and stays.
pub fn bind(endpoint: &Endpoint, opts: &SocketOpts) -> Result<Listener, String> {
    match endpoint {
        Endpoint::Tcp(addr) => {
            let l = std::net::TcpListener::bind(addr)
                .map_err(|e| format!("cannot listen on {endpoint}: {e}"))?;
            l.set_nonblocking(true)
                .map_err(|e| format!("cannot listen on {endpoint}: {e}"))?;
            let real = l.local_addr().unwrap_or(*addr);
            Ok(Listener {
                kind: ListenerKind::Tcp(l),
                label: format!("tcp:{real}"),
                socket_file: None,
            })
        }
        Endpoint::Unix(path) => {
            let fail = |why: String| format!("cannot listen on {endpoint}: {why}");
            let l = match std::os::unix::net::UnixListener::bind(path) {
                Ok(l) => l,
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                    let meta = std::fs::symlink_metadata(path).map_err(|e| fail(e.to_string()))?;
                    if !meta.file_type().is_socket() {
                        return Err(fail(
                            "the path exists and is not a socket (not replacing it)".into(),
                        ));
                    }
                    match std::os::unix::net::UnixStream::connect(path) {
                        Ok(_) => return Err(fail("another process is listening there".into())),
                        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                        Err(e) => return Err(fail(format!("cannot check the old socket: {e}"))),
                    }
                    // A stale socket: nobody listens. Replace it.
                    std::fs::remove_file(path).map_err(|e| fail(e.to_string()))?;
                    std::os::unix::net::UnixListener::bind(path).map_err(|e| fail(e.to_string()))?
                }
                Err(e) => return Err(fail(e.to_string())),
            };
            l.set_nonblocking(true).map_err(|e| fail(e.to_string()))?;
            let meta = std::fs::symlink_metadata(path).map_err(|e| fail(e.to_string()))?;
            let socket_file = SocketFile {
                path: path.clone(),
                dev: meta.dev(),
                ino: meta.ino(),
            };
            if let Some(mode) = opts.mode {
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
                    .map_err(|e| fail(format!("cannot set mode {mode:o}: {e}")))?;
            }
            if opts.uid.is_some() || opts.gid.is_some() {
                std::os::unix::fs::lchown(path, opts.uid, opts.gid)
                    .map_err(|e| fail(format!("cannot set the owner: {e}")))?;
            }
            Ok(Listener {
                kind: ListenerKind::Unix(l),
                label: endpoint.to_string(),
                socket_file: Some(socket_file),
            })
        }
    }
}

/// How the collector runs.
#[derive(Clone, Debug)]
pub struct CollectOptions {
    /// Largest data frame accepted (`--max-frame-size`).
    pub max_frame: usize,
    /// From connecting to START.
    pub handshake_timeout: Duration,
    /// From a frame's first byte to its last.
    pub frame_timeout: Duration,
    /// Connections served at once; more are refused with a warning.
    pub max_connections: usize,
    /// Bytes queued between the network and the renderer: the memory the
    /// queued frames hold (a run of frames handed over with its read
    /// buffer counts the whole buffer).
    pub queue_bytes: usize,
    /// Render what arrives (false: a capture daemon with `--write`).
    pub render: bool,
    /// End once every sender that connected has closed, after the
    /// first (`--until-closed`), as well as when told to stop.
    pub until_closed: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            max_frame: crate::tap::frame::DEFAULT_MAX_DATA_FRAME,
            handshake_timeout: Duration::from_secs(10),
            frame_timeout: Duration::from_secs(10),
            max_connections: 64,
            queue_bytes: 16 << 20,
            render: true,
            until_closed: false,
        }
    }
}

/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Queued messages at most (the byte budget usually binds first).
const QUEUE_MESSAGES: usize = 4096;

/// Whole data frames of one connection as they came off the socket:
/// length prefixes and payloads back to back, in a buffer of their own.
/// Handing over what one read brought, not frame by frame, keeps the
/// network thread's cost per frame to reading a length, and the buffer's
/// reference count to the rendering thread alone.
struct Chunk {
    /// Stream offset of the run's first byte.
    offset: u64,
    /// The frames, each a 4-byte big-endian length and that many bytes.
    frames: Bytes,
}

/// From the network thread to the rendering one.
enum Msg {
    /// Data frames of one connection, in order.
    Data {
        /// Which connection they came from (its escaped label).
        conn: Bytes,
        /// The frames, in stream order.
        runs: Vec<Chunk>,
        /// Their share of the queue's byte budget, released when handled.
        _permit: OwnedSemaphorePermit,
    },
    /// A line for stderr (already escaped).
    Note(String),
    /// Frames lost (refused, cut).
    Lost(u64),
    /// Start a new `--write` file (timer or SIGUSR1).
    Rotate,
}

/// How a connection ended badly: where, why, and whether a frame was lost.
struct ConnError {
    offset: u64,
    why: String,
    lost: bool,
}

fn conn_err(offset: u64, why: impl Into<String>, lost: bool) -> ConnError {
    ConnError {
        offset,
        why: why.into(),
        lost,
    }
}

/// Shared by every connection task.
struct Shared {
    opts: CollectOptions,
    tx: mpsc::Sender<Msg>,
    budget: Arc<Semaphore>,
    connections: Arc<Semaphore>,
    /// Set when the collector stops: connections stop reading, but every
    /// frame already read is still handed over.
    stopping: tokio::sync::watch::Receiver<bool>,
    /// Connections refused for want of a place (reported at exit).
    refused: Arc<std::sync::atomic::AtomicU64>,
    /// Told each time a connection ends (its place is free again).
    ended: tokio::sync::Notify,
}

impl Shared {
    async fn note(&self, line: String) {
        let _ = self.tx.send(Msg::Note(line)).await;
    }
}

/// Writes one control frame to the sender, within `deadline`.
async fn reply<S: AsyncWrite + Unpin>(
    stream: &mut S,
    control: &Control,
    deadline: Instant,
    at: u64,
) -> Result<(), ConnError> {
    let mut out = BytesMut::new();
    encode_control(control, &mut out).map_err(|e| conn_err(at, e.to_string(), false))?;
    match tokio::time::timeout_at(deadline, stream.write_all(&out)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(conn_err(
            at,
            format!("cannot send {}: {e}", control.kind),
            false,
        )),
        Err(_) => Err(conn_err(
            at,
            format!("timed out sending {}", control.kind),
            false,
        )),
    }
}

/// Serves one sender until STOP, an error or EOF. Ok(frames) on a clean
/// STOP. Every frame read is handed over, whatever the end.
async fn drive<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    label: &Arc<str>,
    shared: &Shared,
) -> Result<u64, ConnError> {
    let conn = Bytes::copy_from_slice(label.as_bytes());
    let mut pending = Pending::default();
    let result = drive_frames(stream, label, shared, &conn, &mut pending).await;
    flush(shared, &conn, &mut pending).await;
    result
}

/// Data frames of one connection waiting to be handed over together: one
/// message (and one share of the byte budget) per read, not per frame,
/// keeps the queue's cost per frame small.
#[derive(Default)]
struct Pending {
    /// The runs of frames read.
    runs: Vec<Chunk>,
    /// The memory they hold (what they cost in the queue's budget).
    bytes: usize,
}

impl Pending {
    /// Adds a run that holds `cost` bytes of memory.
    fn push(&mut self, run: Chunk, cost: usize) {
        self.bytes += cost;
        self.runs.push(run);
    }
}

/// Hands the pending frames over (see [`forward`]); false when the
/// collector is gone.
async fn flush(shared: &Shared, conn: &Bytes, pending: &mut Pending) -> bool {
    if pending.runs.is_empty() {
        return true;
    }
    let runs = std::mem::take(&mut pending.runs);
    let bytes = std::mem::take(&mut pending.bytes);
    forward(shared, conn, runs, bytes).await
}

/// The whole data frames of at most `max` payload bytes at the front of
/// `buf`: their length in bytes, and how many there are. Pure.
fn data_run(buf: &[u8], max: usize) -> (usize, u64) {
    let (mut at, mut frames) = (0usize, 0u64);
    while let Some(&[a, b, c, d]) = buf.get(at..at.saturating_add(4)) {
        let len = u32::from_be_bytes([a, b, c, d]) as usize;
        let end = at.saturating_add(4).saturating_add(len);
        if len == 0 || len > max || end > buf.len() {
            break;
        }
        at = end;
        frames += 1;
    }
    (at, frames)
}

/// Takes the first `n` bytes of `buf` as a buffer of their own, which
/// shares its allocation with nothing the network thread still touches;
/// returns it and the memory it holds. A large run takes the whole
/// buffer with it, and what follows (at most the start of one frame)
/// moves to a fresh one: each byte moves at most once this way, since
/// what moves is at the front of the new buffer and goes whole with the
/// next run, or stays while its frame is incomplete. A small run is
/// copied out instead, so that a sender of a frame at a time does not
/// pin a read buffer per frame.
fn take_front(buf: &mut BytesMut, n: usize) -> (Bytes, usize) {
    if n < READ_CHUNK / 2 {
        let run = Bytes::copy_from_slice(buf.get(..n).unwrap_or_default());
        buf.advance(n.min(buf.len()));
        return (run, n);
    }
    let rest = buf.get(n..).unwrap_or_default();
    let mut fresh = BytesMut::with_capacity(READ_CHUNK + rest.len());
    fresh.extend_from_slice(rest);
    let mut taken = std::mem::replace(buf, fresh);
    taken.truncate(n);
    let cost = taken.capacity();
    (taken.freeze(), cost)
}

/// [`drive`]'s work: frames decoded go to `pending`, handed over before
/// every note and every wait for more bytes.
async fn drive_frames<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    label: &Arc<str>,
    shared: &Shared,
    conn_bytes: &Bytes,
    pending: &mut Pending,
) -> Result<u64, ConnError> {
    let opts = &shared.opts;
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    let mut decoder = Decoder::new(opts.max_frame);
    let mut hs = ReaderHandshake::new(CONTENT_TYPE_DNSTAP);
    // Stream offset of buf[0].
    let mut consumed: u64 = 0;
    // Bytes of an oversize frame still to discard.
    let mut skip: u64 = 0;
    let opened = Instant::now();
    let mut frame_began: Option<Instant> = None;
    let mut drained = 0usize;
    let mut frames = 0u64;
    loop {
        let mut progressed = false;
        if skip > 0 {
            let n = skip.min(buf.len() as u64);
            buf.advance(n as usize);
            consumed += n;
            skip -= n;
            progressed = n > 0;
        }
        while skip == 0 {
            if hs.is_streaming() {
                // The common case: whole data frames, taken in one piece.
                let (run, count) = data_run(&buf, opts.max_frame);
                if run > 0 {
                    let (taken, cost) = take_front(&mut buf, run);
                    pending.push(
                        Chunk {
                            offset: consumed,
                            frames: taken,
                        },
                        cost,
                    );
                    consumed += run as u64;
                    frames += count;
                    progressed = true;
                    if pending.bytes >= READ_CHUNK && !flush(shared, conn_bytes, pending).await {
                        return Ok(frames);
                    }
                }
            }
            let before = buf.len();
            let at = consumed;
            let decoded = decoder
                .decode(&mut buf)
                .map_err(|e| conn_err(at, e.to_string(), hs.is_streaming()))?;
            consumed += (before - buf.len()) as u64;
            let frame = match decoded {
                None => break,
                Some(Decoded::Oversize { len }) => {
                    if !hs.is_streaming() {
                        return Err(conn_err(
                            at,
                            format!("data frame of {len} bytes before START"),
                            false,
                        ));
                    }
                    flush(shared, conn_bytes, pending).await;
                    shared
                        .note(format!(
                            ";; WARNING: {label}: frame at byte {at} of {len} bytes is over the {}-byte limit (--max-frame-size), skipped",
                            opts.max_frame
                        ))
                        .await;
                    let _ = shared.tx.send(Msg::Lost(1)).await;
                    skip = len;
                    progressed = true;
                    break;
                }
                Some(Decoded::Frame(f)) => f,
            };
            progressed = true;
            let step = hs
                .on_frame(frame)
                .map_err(|e| conn_err(at, e.to_string(), false))?;
            match step {
                ReaderStep::Reply(c) => {
                    reply(stream, &c, opened + opts.handshake_timeout, at).await?;
                }
                ReaderStep::Started { bidirectional } => {
                    let how = if bidirectional {
                        "bidirectional"
                    } else {
                        "unidirectional"
                    };
                    shared
                        .note(format!(";; {label}: receiving dnstap ({how})"))
                        .await;
                }
                ReaderStep::Data(payload) => {
                    // Not reached while [`data_run`] takes every data
                    // frame the handshake allows, but a frame is never
                    // dropped on that account.
                    let mut run = BytesMut::with_capacity(4 + payload.len());
                    run.extend_from_slice(&u32::try_from(payload.len()).unwrap_or(0).to_be_bytes());
                    run.extend_from_slice(&payload);
                    let cost = run.len();
                    pending.push(
                        Chunk {
                            offset: at,
                            frames: run.freeze(),
                        },
                        cost,
                    );
                    frames += 1;
                    if pending.bytes >= READ_CHUNK && !flush(shared, conn_bytes, pending).await {
                        return Ok(frames);
                    }
                }
                ReaderStep::Ignored(kind) => {
                    flush(shared, conn_bytes, pending).await;
                    shared
                        .note(format!(";; WARNING: {label}: {kind} at byte {at} ignored"))
                        .await;
                }
                ReaderStep::Stopped { reply: finish } => {
                    if let Some(c) = finish {
                        reply(stream, &c, Instant::now() + opts.handshake_timeout, at).await?;
                    }
                    if !buf.is_empty() {
                        shared
                            .note(format!(
                                ";; WARNING: {label}: {} bytes after STOP at byte {consumed} ignored",
                                buf.len()
                            ))
                            .await;
                    }
                    return Ok(frames);
                }
            }
        }
        if skip > 0 && !buf.is_empty() {
            // The rest of an oversize frame is already here.
            continue;
        }
        if !flush(shared, conn_bytes, pending).await {
            return Ok(frames);
        }
        read_more(
            stream,
            &mut buf,
            shared,
            Progress {
                streaming: hs.is_streaming(),
                opened,
                progressed,
                consumed,
                skip,
            },
            &mut frame_began,
            &mut drained,
        )
        .await?;
    }
}

/// Hands data frames to the renderer, once the queue's byte budget has
/// room for them (backpressure); false when the collector is gone.
async fn forward(shared: &Shared, conn: &Bytes, runs: Vec<Chunk>, bytes: usize) -> bool {
    let cost = bytes.clamp(1, shared.opts.queue_bytes.max(1));
    let cost = u32::try_from(cost).unwrap_or(u32::MAX);
    let Ok(permit) = shared.budget.clone().acquire_many_owned(cost).await else {
        return false;
    };
    let msg = Msg::Data {
        conn: conn.clone(),
        runs,
        _permit: permit,
    };
    shared.tx.send(msg).await.is_ok()
}

/// Where a connection's reading stands, for [`read_more`].
struct Progress {
    /// START was seen.
    streaming: bool,
    /// When the connection was accepted.
    opened: Instant,
    /// The last pass took bytes out of the buffer.
    progressed: bool,
    /// Stream offset of the buffer's first byte.
    consumed: u64,
    /// Bytes of an oversize frame still to discard.
    skip: u64,
}

/// Bytes a connection reads at most once the collector stops: what the
/// sender had written by then (its socket's buffer, a few hundred KiB by
/// default) is read and handed over, not dropped unread; a sender that
/// goes on writing cannot keep the collector reading.
const DRAIN_MAX: usize = 8 << 20;

/// Reads more of the stream into `buf` before the deadline of what is
/// awaited (the handshake, the frame begun, or none between frames);
/// an error ends the connection (timeout, EOF, read error, the collector
/// stopping). Once the collector stops, only what is there to read at
/// once is read (`drained` counts it, up to [`DRAIN_MAX`]).
async fn read_more<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    shared: &Shared,
    at: Progress,
    frame_began: &mut Option<Instant>,
    drained: &mut usize,
) -> Result<(), ConnError> {
    let opts = &shared.opts;
    let Progress {
        streaming,
        opened,
        progressed,
        consumed,
        skip,
    } = at;
    let deadline = if buf.is_empty() && skip == 0 {
        *frame_began = None;
        (!streaming).then_some(opened + opts.handshake_timeout)
    } else {
        if progressed || frame_began.is_none() {
            *frame_began = Some(Instant::now());
        }
        let frame_end = frame_began.map(|t| t + opts.frame_timeout);
        if streaming {
            frame_end
        } else {
            let hs_end = opened + opts.handshake_timeout;
            Some(frame_end.map_or(hs_end, |f| f.min(hs_end)))
        }
    };
    buf.reserve(READ_CHUNK);
    let mut stopping = shared.stopping.clone();
    let read = async {
        if !*stopping.borrow_and_update() {
            tokio::select! {
                r = stream.read_buf(&mut *buf) => return r,
                _ = stopping.changed() => {}
            }
        }
        // Stopping: what is there already, and no more.
        if *drained < DRAIN_MAX {
            if let Some(Ok(n)) = futures_util::FutureExt::now_or_never(stream.read_buf(&mut *buf)) {
                if n > 0 {
                    *drained += n;
                    return Ok(n);
                }
            }
        }
        Err(std::io::Error::other(STOPPING))
    };
    let n = match deadline {
        Some(d) => match tokio::time::timeout_at(d, read).await {
            Ok(r) => r,
            Err(_) => {
                let what = if !streaming {
                    format!(
                        "no START within {} s of connecting",
                        opts.handshake_timeout.as_secs_f64()
                    )
                } else {
                    format!(
                        "frame not complete within {} s",
                        opts.frame_timeout.as_secs_f64()
                    )
                };
                return Err(conn_err(consumed, what, streaming));
            }
        },
        None => read.await,
    }
    .map_err(|e| {
        if e.to_string() == STOPPING {
            stopped(buf, consumed, skip, streaming)
        } else {
            conn_err(consumed, format!("read error: {e}"), !buf.is_empty())
        }
    })?;
    if n == 0 {
        let end = consumed + buf.len() as u64;
        if !buf.is_empty() || skip > 0 {
            return Err(conn_err(
                consumed,
                if end == consumed {
                    "connection closed in the middle of a frame".to_owned()
                } else {
                    format!(
                        "connection closed in the middle of a frame (stream ends at byte {end})"
                    )
                },
                streaming,
            ));
        }
        let why = if streaming {
            "connection closed without STOP"
        } else {
            "connection closed before START"
        };
        return Err(conn_err(end, why, false));
    }
    Ok(())
}

/// The marker of a read cut short because the collector stops.
const STOPPING: &str = "the collector is stopping";

/// How a connection ends when the collector stops: cleanly between frames,
/// with a lost frame in the middle of one.
fn stopped(buf: &BytesMut, consumed: u64, skip: u64, streaming: bool) -> ConnError {
    let partial = !buf.is_empty() || skip > 0;
    let why = if partial {
        "collector stopping in the middle of a frame"
    } else {
        STOPPING
    };
    conn_err(consumed, why, partial && streaming)
}

/// One connection, start to end; the outcome goes to stderr.
async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    label: Arc<str>,
    shared: Arc<Shared>,
    _slot: OwnedSemaphorePermit,
) {
    match drive(&mut stream, &label, &shared).await {
        Ok(frames) => {
            shared
                .note(format!(";; {label}: stream stopped after {frames} frames"))
                .await;
        }
        Err(e) if e.why == STOPPING => {
            shared
                .note(format!(
                    ";; {label}: closed at byte {} (the collector is stopping)",
                    e.offset
                ))
                .await;
        }
        Err(e) => {
            shared.note(warning_line(&label, &e)).await;
            if e.lost {
                let _ = shared.tx.send(Msg::Lost(1)).await;
            }
        }
    }
    let _ = stream.shutdown().await;
}

/// The warning for a connection that ended on `e`: where, and that qtap
/// closed it, unless the peer did (which `e` says already).
fn warning_line(label: &str, e: &ConnError) -> String {
    let closed = match e.why.starts_with("connection closed") {
        true => "",
        false => "; connection closed",
    };
    format!(
        ";; WARNING: {label}: {} at byte {}{closed}",
        e.why, e.offset
    )
}

/// A place for one more connection, or a warning and None.
async fn slot(shared: &Arc<Shared>, what: &str) -> Option<OwnedSemaphorePermit> {
    match shared.connections.clone().try_acquire_owned() {
        Ok(p) => Some(p),
        Err(_) => {
            shared
                .refused
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            shared
                .note(format!(
                    ";; WARNING: {what}: refused, {} connections already (--max-connections)",
                    shared.opts.max_connections
                ))
                .await;
            None
        }
    }
}

/// Accepts on one listener forever.
async fn accept_loop(kind: ListenerKind, label: String, shared: Arc<Shared>) {
    let mut n = 0u64;
    let pause = || tokio::time::sleep(Duration::from_millis(100));
    match kind {
        ListenerKind::Unix(l) => {
            let Ok(l) = tokio::net::UnixListener::from_std(l) else {
                return;
            };
            loop {
                let stream = match l.accept().await {
                    Ok((s, _)) => s,
                    Err(e) => {
                        shared
                            .note(format!(";; WARNING: {label}: accept: {e}"))
                            .await;
                        pause().await;
                        continue;
                    }
                };
                n += 1;
                let pid = stream
                    .peer_cred()
                    .ok()
                    .and_then(|c| c.pid())
                    .map(|p| format!(" pid {p}"))
                    .unwrap_or_default();
                let conn: Arc<str> = format!("{label}#{n}{pid}").into();
                if let Some(s) = slot(&shared, &conn).await {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        connection(stream, conn, shared.clone(), s).await;
                        shared.ended.notify_one();
                    });
                }
            }
        }
        ListenerKind::Tcp(l) => {
            let Ok(l) = tokio::net::TcpListener::from_std(l) else {
                return;
            };
            loop {
                let (stream, peer) = match l.accept().await {
                    Ok(v) => v,
                    Err(e) => {
                        shared
                            .note(format!(";; WARNING: {label}: accept: {e}"))
                            .await;
                        pause().await;
                        continue;
                    }
                };
                n += 1;
                let _ = stream.set_nodelay(true);
                let conn: Arc<str> = format!("{label}#{n} from {peer}").into();
                if let Some(s) = slot(&shared, &conn).await {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        connection(stream, conn, shared.clone(), s).await;
                        shared.ended.notify_one();
                    });
                }
            }
        }
    }
}

/// What ends the collector.
pub enum Stop {
    /// SIGINT, SIGTERM, SIGHUP or SIGQUIT (the normal end of a capture).
    Signals,
    /// This channel firing or closing (tests, embedding).
    Channel(tokio::sync::oneshot::Receiver<()>),
}

/// The network thread: serves until told to stop or the renderer is gone.
fn network(
    listeners: Vec<(ListenerKind, String)>,
    opts: CollectOptions,
    rotate_every: Option<Duration>,
    tx: mpsc::Sender<Msg>,
    stop: Stop,
    ready: std::sync::mpsc::SyncSender<Result<(), String>>,
    refused: Arc<std::sync::atomic::AtomicU64>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot start the async runtime: {e}")));
            return;
        }
    };
    runtime.block_on(async move {
        let (stop_tx, stopping) = tokio::sync::watch::channel(false);
        let max_connections = opts.max_connections.max(1);
        let shared = Arc::new(Shared {
            stopping,
            refused,
            budget: Arc::new(Semaphore::new(opts.queue_bytes.max(1))),
            connections: Arc::new(Semaphore::new(max_connections)),
            opts,
            tx: tx.clone(),
            ended: tokio::sync::Notify::new(),
        });
        // Caught before anyone is told we listen, so a signal never finds
        // the default action.
        let signals = match &stop {
            Stop::Signals => match super::signals::Signals::catch().map_err(|e| e.to_string()) {
                Ok(s) => Some(s),
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            },
            Stop::Channel(_) => None,
        };
        let mut accepting = Vec::new();
        for (kind, label) in listeners {
            accepting.push(tokio::spawn(accept_loop(kind, label, shared.clone())));
        }
        if let Some(every) = rotate_every {
            tokio::spawn(rotation_timer(every, tx.clone()));
        }
        if signals.is_some() {
            // SIGUSR1: a new --write file now (and never the default
            // action, which would kill the capture).
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()) {
                Ok(mut usr1) => {
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        while usr1.recv().await.is_some() {
                            if tx.send(Msg::Rotate).await.is_err() {
                                return;
                            }
                        }
                    });
                }
                Err(e) => {
                    let _ = ready.send(Err(format!("cannot install signal handlers: {e}")));
                    return;
                }
            }
        }
        let _ = ready.send(Ok(()));
        let until_stopped = async move {
            match (stop, signals) {
                (_, Some(mut s)) => {
                    s.recv().await;
                }
                (Stop::Channel(rx), None) => {
                    let _ = rx.await;
                }
                (Stop::Signals, None) => std::future::pending().await,
            }
        };
        let all_closed = {
            let shared = shared.clone();
            async move {
                if !shared.opts.until_closed {
                    return std::future::pending().await;
                }
                // A connection's place is given back when its task ends:
                // every place free means every sender that came has gone.
                loop {
                    shared.ended.notified().await;
                    if shared.connections.available_permits() == max_connections {
                        return;
                    }
                }
            }
        };
        tokio::select! {
            () = until_stopped => {}
            () = all_closed => {}
            () = tx.closed() => {}
        }
        // Stop taking connections and reading; let every connection hand
        // over the frames it has read (the renderer is still draining the
        // queue), for a bounded time.
        for a in accepting {
            a.abort();
        }
        let _ = stop_tx.send(true);
        let all = u32::try_from(max_connections).unwrap_or(u32::MAX);
        let _ = tokio::time::timeout(Duration::from_secs(5), shared.connections.acquire_many(all))
            .await;
    });
    // Dropping the runtime ends every task; their senders go with them.
}

/// Asks for a new `--write` file at every multiple of `every` on the wall
/// clock (the time is read again each round, so the files follow the
/// clock, not a drifting count).
async fn rotation_timer(every: Duration, tx: mpsc::Sender<Msg>) {
    loop {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        tokio::time::sleep(crate::run::capture::until_boundary(now, every)).await;
        if tx.send(Msg::Rotate).await.is_err() {
            return;
        }
    }
}

/// The collector as a [`Frames`] source: the plain files first, then what
/// the network thread hands over, with [`Raw::Idle`] whenever the queue
/// runs dry (so what waits goes out before the source blocks).
struct CollectorFrames {
    files: FileFrames,
    files_done: bool,
    rx: mpsc::Receiver<Msg>,
    /// The runs of the message being taken apart (the first one from
    /// `run_at` on), its connection, and its share of the byte budget
    /// (released once they are all taken).
    batch: std::collections::VecDeque<Chunk>,
    run_at: usize,
    batch_conn: Bytes,
    batch_permit: Option<OwnedSemaphorePermit>,
    /// Idle was just reported: the next empty queue is waited on.
    idle: bool,
}

impl CollectorFrames {
    /// The frames of `files` (data frames up to `max_frame` bytes), then
    /// those the network thread queues on `rx`.
    fn new(files: &[PathBuf], max_frame: usize, rx: mpsc::Receiver<Msg>) -> CollectorFrames {
        CollectorFrames {
            files: FileFrames::new(files, max_frame),
            files_done: files.is_empty(),
            rx,
            batch: Default::default(),
            run_at: 0,
            batch_conn: Bytes::new(),
            batch_permit: None,
            idle: false,
        }
    }
}

/// Waits for the network thread to listen (or to say why it cannot).
fn listening(ready: &std::sync::mpsc::Receiver<Result<(), String>>) -> Result<(), Error> {
    match ready.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Error::Internal(e)),
        Err(_) => Err(Error::Internal("the network thread ended".into())),
    }
}

/// How long the queue must stay empty before the source reports a pause
/// (and what waits is written out): short next to what a person notices.
const IDLE_GRACE: Duration = Duration::from_micros(500);

impl Frames for CollectorFrames {
    fn next_raw(&mut self) -> Option<Raw> {
        if !self.files_done {
            match self.files.next_raw() {
                Some(raw) => return Some(raw),
                None => self.files_done = true,
            }
        }
        while let Some(run) = self.batch.front() {
            if let Some((at, payload)) = next_in_run(&run.frames, &mut self.run_at) {
                return Some(Raw::Frame {
                    offset: run.offset + at as u64,
                    payload,
                    connection: Some(self.batch_conn.clone()),
                    own: true,
                });
            }
            self.batch.pop_front();
            self.run_at = 0;
        }
        self.batch_permit = None;
        let msg = match self.rx.try_recv() {
            Ok(m) => m,
            Err(mpsc::error::TryRecvError::Empty) => {
                if !self.idle {
                    // A moment's grace first: while a sender streams, the
                    // next read is rarely further away, and a pause
                    // reported for each gap would cut the work into
                    // batches of a few frames.
                    std::thread::sleep(IDLE_GRACE);
                    if !self.rx.is_empty() {
                        return self.next_raw();
                    }
                    self.idle = true;
                    return Some(Raw::Idle);
                }
                self.rx.blocking_recv()?
            }
            Err(mpsc::error::TryRecvError::Disconnected) => return None,
        };
        self.idle = false;
        Some(match msg {
            Msg::Data {
                conn,
                runs,
                _permit,
            } => {
                self.batch = runs.into();
                self.run_at = 0;
                // A copy per message: the frames of this message share
                // its count, not every frame of the connection (the
                // drawing threads drop them while this one clones).
                self.batch_conn = Bytes::copy_from_slice(&conn);
                self.batch_permit = Some(_permit);
                return self.next_raw();
            }
            Msg::Note(line) => Raw::Note(Note::info(line)),
            Msg::Lost(n) => Raw::Lost(n),
            Msg::Rotate => Raw::Rotate,
        })
    }

    fn name(&self) -> &str {
        self.files.name()
    }
}

/// The frame of `run` at `*at` (its position, and its payload), moving
/// `*at` past it; None at the end of the run (or, which the network
/// thread never hands over, a cut frame).
fn next_in_run(run: &Bytes, at: &mut usize) -> Option<(usize, Bytes)> {
    let start = *at;
    let &[a, b, c, d] = run.get(start..start.checked_add(4)?)? else {
        return None;
    };
    let len = u32::from_be_bytes([a, b, c, d]) as usize;
    let end = start.checked_add(4)?.checked_add(len)?;
    if len == 0 || end > run.len() {
        return None;
    }
    *at = end;
    Some((start, run.slice(start + 4..end)))
}

/// Saves nothing (`--no-output` without `--write`).
struct Discard;

impl Save for Discard {
    fn save(&mut self, _: &[u8]) -> Result<Option<u64>, Error> {
        Ok(None)
    }
}

/// What the collector makes of what it receives, besides the screen.
#[derive(Clone, Debug, Default)]
pub struct Output {
    /// `--write FILE`: the frames selected, as a Frame Streams file (a
    /// strftime-style template with `%`).
    pub write: Option<PathBuf>,
    /// When to start a new `--write` file.
    pub rotation: Rotation,
    /// The selection options: only what they select is shown and saved.
    pub filter: Filter,
    /// `--scrub`: what is shown and saved is scrubbed.
    pub scrub: Option<crate::scrub::ScrubSpec>,
    /// `--stats` or `--rrsets` (printed when the collector stops) instead
    /// of rendering.
    pub summary: Option<crate::run::view::ReadOutput>,
}

/// Runs the collector on `listeners` (bound with [`bind`]), after
/// rendering `files`, until `stop`. Returns the exit code: 0, or 8 when
/// frames were lost or connections refused.
#[allow(clippy::too_many_arguments)]
pub fn collect(
    listeners: Vec<Listener>,
    files: &[PathBuf],
    output: Output,
    opts: CollectOptions,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
    stop: Stop,
) -> Result<u8, Error> {
    let mut capture = match &output.write {
        Some(p) => Some(Capture::create(p, output.rotation.clone())?),
        None => None,
    };
    let mut socket_files = Vec::new();
    let mut serving = Vec::new();
    let mut labels = Vec::new();
    for l in listeners {
        socket_files.extend(l.socket_file);
        labels.push(l.label.clone());
        serving.push((l.kind, l.label));
    }
    let (tx, rx) = mpsc::channel(QUEUE_MESSAGES);
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let max_frame = opts.max_frame;
    let render = opts.render;
    let rotate_every = capture.as_ref().and(output.rotation.interval);
    let refused = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let refused_net = refused.clone();
    let result = std::thread::scope(|scope| -> Result<u64, Error> {
        let net = std::thread::Builder::new()
            .name("qtap-net".into())
            .spawn_scoped(scope, move || {
                network(serving, opts, rotate_every, tx, stop, ready_tx, refused_net)
            })
            .map_err(|e| Error::Internal(format!("cannot start a thread: {e}")))?;
        listening(&ready_rx)?;
        for label in &labels {
            let _ = writeln!(err, ";; listening on {label}");
        }
        let frames = CollectorFrames::new(files, max_frame, rx);
        let scrub = output.scrub.as_ref().map(|s| Scrub {
            scrubber: s.scrubber(),
            payload: capture.is_some(),
        });
        let selected = Selected::new(frames, output.filter.clone(), scrub);
        let lost = match &output.summary {
            Some(ReadOutput::Stats { top, json }) => {
                super::stats::stats_of(selected, *top, *json, out, err)
            }
            Some(ReadOutput::Rrsets { json }) => super::stats::rrsets_of(selected, *json, out, err),
            _ if render => {
                let save = capture.as_mut().map(|c| c as &mut (dyn Save + Send));
                super::read::render(selected, save, display, color, out, err)
            }
            _ => {
                // A capture daemon keeps every frame as it came.
                let mut selected = selected.undecoded();
                let report = match capture.as_mut() {
                    Some(c) => super::write::save_all(&mut selected, c, err),
                    None => super::write::save_all(&mut selected, &mut Discard, err),
                };
                if let (Ok(_), Some(s)) = (&report, selected.scrub_summary()) {
                    let _ = writeln!(err, "{s}");
                }
                drop(selected);
                report.map(|r| r.lost)
            }
        };
        // The source (and its queue) is gone: the network thread stops.
        let _ = net.join();
        lost
    });
    // Whatever happened, the capture is closed and the sockets go.
    let saved = capture.as_mut().map_or(Ok(()), Capture::finish);
    drop(socket_files);
    let lost = result?;
    saved?;
    let refused = refused.load(std::sync::atomic::Ordering::Relaxed);
    if refused > 0 {
        let _ = writeln!(
            err,
            ";; WARNING: {refused} connections refused (--max-connections); what they sent was not received"
        );
    }
    if lost > 0 {
        let _ = writeln!(err, ";; WARNING: {lost} frames lost (see above)");
    }
    if lost > 0 || refused > 0 {
        return Ok(exits::DATA_LOST);
    }
    Ok(exits::OK)
}

/// The collector as a [`Frames`] source for another consumer
/// (`--replay unix:PATH`): the network thread serves `listeners` and the
/// frames come out of [`LiveFrames::next_raw`] as they arrive, with
/// [`Raw::Idle`] at every pause and at least once every [`TICK`] (so a
/// consumer keeping time of its own, such as how long a query has waited
/// for its response, runs while no frame comes). It ends (the source returns None once
/// the connections have handed over what they read) when the [`Stopper`]
/// is used or dropped. The socket files go when the source is dropped.
pub struct LiveFrames {
    frames: CollectorFrames,
    refused: Arc<std::sync::atomic::AtomicU64>,
    reported: bool,
    _socket_files: Vec<SocketFile>,
}

/// How often a [`LiveFrames`] source reports [`Raw::Idle`] at the least.
pub const TICK: Duration = Duration::from_secs(1);

/// Ends a [`LiveFrames`] source: the collector stops taking connections
/// and lets each hand over what it has read (for at most 5 s).
pub struct Stopper(Option<tokio::sync::oneshot::Sender<()>>);

impl Stopper {
    /// Stops the collector (again: nothing).
    pub fn stop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// Starts serving `listeners` for a consumer of frames; returns once they
/// listen (the labels are in [`Listener::label`], for the caller to say).
pub fn listen(
    listeners: Vec<Listener>,
    opts: CollectOptions,
) -> Result<(LiveFrames, Stopper), Error> {
    let mut socket_files = Vec::new();
    let mut serving = Vec::new();
    for l in listeners {
        socket_files.extend(l.socket_file);
        serving.push((l.kind, l.label));
    }
    let (tx, rx) = mpsc::channel(QUEUE_MESSAGES);
    let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let refused = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let refused_net = refused.clone();
    let max_frame = opts.max_frame;
    std::thread::Builder::new()
        .name("qtap-net".into())
        .spawn(move || {
            network(
                serving,
                opts,
                // The timer that rotates --write files elsewhere: here its
                // Rotate comes out as Idle.
                Some(TICK),
                tx,
                Stop::Channel(stop_rx),
                ready_tx,
                refused_net,
            )
        })
        .map_err(|e| Error::Internal(format!("cannot start a thread: {e}")))?;
    listening(&ready_rx)?;
    let frames = CollectorFrames::new(&[], max_frame, rx);
    Ok((
        LiveFrames {
            frames,
            refused,
            reported: false,
            _socket_files: socket_files,
        },
        Stopper(Some(stop_tx)),
    ))
}

impl Frames for LiveFrames {
    fn next_raw(&mut self) -> Option<Raw> {
        match self.frames.next_raw() {
            Some(Raw::Rotate) => Some(Raw::Idle),
            Some(raw) => Some(raw),
            None if self.reported => None,
            None => {
                // At the end, the connections refused (what they sent was
                // lost).
                self.reported = true;
                let refused = self.refused.load(std::sync::atomic::Ordering::Relaxed);
                (refused > 0).then(|| {
                    Raw::Note(Note {
                        line: format!(
                            ";; WARNING: {refused} connections refused (--max-connections); what they sent was not received"
                        ),
                        lost: true,
                        damage: None,
                    })
                })
            }
        }
    }

    fn name(&self) -> &str {
        "collector"
    }
}

/// `--read` with `unix:`/`tcp:` inputs: binds every socket (a bad one
/// stops the run before anything is read), renders the plain files, then
/// serves until SIGINT, SIGTERM, SIGHUP or SIGQUIT.
#[allow(clippy::too_many_arguments)]
pub fn run(
    inputs: &[PathBuf],
    opts: CollectOptions,
    output: Output,
    socket: &SocketOpts,
    display: DisplayOpts,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<u8, Error> {
    let mut listeners = Vec::new();
    let mut files = Vec::new();
    for input in inputs {
        match Endpoint::parse(input.as_os_str()) {
            Some(endpoint) => {
                let endpoint = endpoint.map_err(Error::Config)?;
                listeners.push(bind(&endpoint, socket).map_err(Error::Listen)?);
            }
            None => files.push(input.clone()),
        }
    }
    if let Some(w) = &output.write {
        // The first file's name: it may not be one of the inputs.
        let first = crate::run::capture::expand(w, crate::run::capture::unix_now())
            .map_err(Error::Config)?;
        super::write::check_not_an_input(&first, &files)?;
    }
    collect(
        listeners,
        &files,
        output,
        opts,
        display,
        color,
        out,
        err,
        Stop::Signals,
    )
}

/// `--socket-owner USER[:GROUP]`: numbers, or names looked up in
/// `etc`/passwd and `etc`/group (read whole, at most 4 MiB each).
pub fn parse_owner(
    text: &str,
    etc: &std::path::Path,
) -> Result<(Option<u32>, Option<u32>), String> {
    let (user, group) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text, None),
    };
    let shown = |p: &std::path::Path| {
        use std::os::unix::ffi::OsStrExt;
        crate::render::escaped(p.as_os_str().as_bytes())
    };
    let lookup = |name: &str, file: &str, what: &str| -> Result<Option<u32>, String> {
        if name.is_empty() {
            return Ok(None);
        }
        if let Ok(n) = name.parse::<u32>() {
            return Ok(Some(n));
        }
        let path = etc.join(file);
        let data = crate::fsutil::read_bounded(&path, 4 << 20)
            .map_err(|e| format!("cannot read {}: {e}", shown(&path)))?;
        String::from_utf8_lossy(&data)
            .lines()
            .find_map(|line| {
                let cols: Vec<&str> = line.split(':').collect();
                (cols.first() == Some(&name))
                    .then(|| cols.get(2).and_then(|v| v.parse().ok()))
                    .flatten()
            })
            .map(Some)
            .ok_or_else(|| format!("no {what} named {name:?} in {}", shown(&path)))
    };
    let uid = lookup(user, "passwd", "user")?;
    let gid = match group {
        Some(g) => lookup(g, "group", "group")?,
        None => None,
    };
    Ok((uid, gid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::frame::{encode, ControlType, Frame};
    use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader};
    use crate::tap::writer::TapWriter;
    use std::io::Read;
    use std::net::SocketAddr;
    use std::os::unix::net::UnixStream;
    use std::path::Path;

    fn corpus(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/corpus")
            .join(name)
    }

    /// The data payloads of a corpus file.
    fn payloads(name: &str) -> Vec<Bytes> {
        let bytes = std::fs::read(corpus(name)).unwrap();
        let mut reader = TapReader::new(&bytes[..], ReaderOptions::default());
        let mut out = Vec::new();
        while let Ok(Some(item)) = reader.next_item() {
            if let TapItem::Data { payload, .. } = item {
                out.push(payload);
            }
        }
        assert!(out.len() > 3, "{name}");
        out
    }

    fn ctl(kind: ControlType, cts: &[&[u8]]) -> Vec<u8> {
        let mut b = BytesMut::new();
        encode(
            &Frame::Control(Control {
                kind,
                content_types: cts.iter().map(|c| Bytes::copy_from_slice(c)).collect(),
            }),
            &mut b,
        )
        .unwrap();
        b.to_vec()
    }

    fn data(payload: &[u8]) -> Vec<u8> {
        let mut b = (payload.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(payload);
        b
    }

    /// A whole stream of `payloads`, bidirectional (READY first) or not.
    fn stream_of(payloads: &[Bytes], bidirectional: bool) -> Vec<u8> {
        let mut s = Vec::new();
        if bidirectional {
            s.extend(ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]));
        }
        s.extend(ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]));
        for p in payloads {
            s.extend(data(p));
        }
        s.extend(ctl(ControlType::Stop, &[]));
        s
    }

    /// A connection's reading once the collector has stopped: what the
    /// sender had written by then is read and handed over, and what it
    /// writes afterwards is not waited for.
    #[test]
    fn frames_written_before_the_stop_are_read_not_dropped() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut rx) = mpsc::channel(1024);
            // Stopped before the connection reads a byte.
            let (_stop, stopping) = tokio::sync::watch::channel(true);
            let shared = Shared {
                opts: test_opts(),
                tx,
                budget: Arc::new(Semaphore::new(1 << 24)),
                connections: Arc::new(Semaphore::new(4)),
                stopping,
                refused: Arc::default(),
                ended: tokio::sync::Notify::new(),
            };
            let payloads: Vec<Bytes> = (0..300u16)
                .map(|i| Bytes::from(vec![(i % 251) as u8; 700]))
                .collect();
            let mut stream = stream_of(&payloads, false);
            // The STOP is not written: the sender is still going.
            stream.truncate(stream.len() - ctl(ControlType::Stop, &[]).len());
            let (mut client, mut server) = tokio::io::duplex(1 << 20);
            tokio::io::AsyncWriteExt::write_all(&mut client, &stream)
                .await
                .unwrap();
            let label: Arc<str> = Arc::from("test#1");
            let got = drive(&mut server, &label, &shared).await;
            let Err(e) = got else {
                panic!("ended cleanly without STOP")
            };
            assert_eq!(e.why, STOPPING);
            assert_eq!(e.offset, stream.len() as u64, "every byte read");
            let mut frames = 0;
            while let Ok(msg) = rx.try_recv() {
                if let Msg::Data { runs, .. } = msg {
                    for r in runs {
                        frames += data_run(&r.frames, usize::MAX).1;
                    }
                }
            }
            assert_eq!(frames, 300);
        });
    }

    /// Reads everything until the peer closes (a deadline keeps a broken
    /// test from hanging).
    fn read_to_close(s: &mut UnixStream) -> Vec<u8> {
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        got
    }

    struct Run {
        code: u8,
        out: String,
        err: String,
    }

    fn test_opts() -> CollectOptions {
        CollectOptions {
            handshake_timeout: Duration::from_millis(400),
            frame_timeout: Duration::from_millis(400),
            ..CollectOptions::default()
        }
    }

    /// Runs a collector on a Unix socket in a fresh directory, lets
    /// `script` talk to it, then stops it.
    fn with_collector(
        opts: CollectOptions,
        write: Option<PathBuf>,
        script: impl FnOnce(&Path),
    ) -> Run {
        with_output(
            opts,
            Output {
                write,
                ..Output::default()
            },
            script,
        )
    }

    fn with_output(opts: CollectOptions, output: Output, script: impl FnOnce(&Path)) -> Run {
        with_display(opts, output, DisplayOpts::default(), script)
    }

    fn with_display(
        opts: CollectOptions,
        output: Output,
        display: DisplayOpts,
        script: impl FnOnce(&Path),
    ) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("c.sock");
        let listener = bind(&Endpoint::Unix(sock.clone()), &SocketOpts::default()).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let handle = std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut err = Vec::new();
            let code = collect(
                vec![listener],
                &[],
                output,
                opts,
                display,
                false,
                &mut out,
                &mut err,
                Stop::Channel(stop_rx),
            )
            .unwrap();
            (code, out, err)
        });
        script(&sock);
        let _ = stop_tx.send(());
        let (code, out, err) = handle.join().unwrap();
        assert!(!sock.exists(), "the socket file is removed at exit");
        Run {
            code,
            out: String::from_utf8(out).unwrap(),
            err: String::from_utf8(err).unwrap(),
        }
    }

    /// What `--read` shows for these payloads written as a file.
    fn read_of(payloads: &[Bytes]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.fstrm");
        let mut w = TapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
        for p in payloads {
            w.write_payload(p).unwrap();
        }
        w.finish().unwrap();
        let (_, out, _) = crate::testutil::read_files_plain(&[path], DisplayOpts::default());
        String::from_utf8(out).unwrap()
    }

    /// Sends a whole good stream; returns what the collector sent back.
    fn good_sender(sock: &Path, payloads: &[Bytes], bidirectional: bool) -> Vec<u8> {
        let mut s = UnixStream::connect(sock).unwrap();
        s.write_all(&stream_of(payloads, bidirectional)).unwrap();
        read_to_close(&mut s)
    }

    #[test]
    fn a_data_run_is_whole_data_frames_within_the_limit() {
        let mut buf = data(b"abc");
        buf.extend(data(b"defgh"));
        let two = buf.len();
        // A control frame, an oversize frame, a cut frame or a cut length
        // ends the run.
        for tail in [
            ctl(ControlType::Stop, &[]),
            data(&[7; 11]),
            data(b"ijk")[..5].to_vec(),
            vec![0, 0],
        ] {
            let mut b = buf.clone();
            b.extend(&tail);
            assert_eq!(data_run(&b, 10), (two, 2), "{tail:?}");
        }
        assert_eq!(data_run(&buf, 4), (7, 1));
        assert_eq!(data_run(&[], 10), (0, 0));
        assert_eq!(data_run(&[0xff, 0xff, 0xff, 0xff, 1], usize::MAX), (0, 0));
    }

    #[test]
    fn frames_come_out_of_a_run_with_their_offsets() {
        let mut buf = data(b"abc");
        buf.extend(data(b"defgh"));
        let run = Bytes::from(buf.clone());
        let mut at = 0;
        assert_eq!(
            next_in_run(&run, &mut at),
            Some((0, Bytes::from_static(b"abc")))
        );
        assert_eq!(
            next_in_run(&run, &mut at),
            Some((7, Bytes::from_static(b"defgh")))
        );
        assert_eq!(next_in_run(&run, &mut at), None);
        // A cut frame is never read past.
        let cut = Bytes::from(buf[..buf.len() - 1].to_vec());
        let mut at = 7;
        assert_eq!(next_in_run(&cut, &mut at), None);
        assert_eq!(at, 7);
    }

    #[test]
    fn taking_a_run_leaves_the_partial_frame_in_a_buffer_of_its_own() {
        // A large run takes the buffer along, and costs all of it.
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        buf.extend_from_slice(&vec![1; READ_CHUNK - 4]);
        buf.extend_from_slice(b"6789");
        let (run, cost) = take_front(&mut buf, READ_CHUNK - 4);
        assert_eq!(run.len(), READ_CHUNK - 4);
        assert!(cost >= READ_CHUNK, "{cost}");
        assert_eq!(&buf[..], b"6789");
        assert!(buf.capacity() >= READ_CHUNK);
        buf.extend_from_slice(b"ab");
        assert!(run.iter().all(|&b| b == 1), "the run is not touched");
        // A small one is copied out and costs its length.
        let mut buf = BytesMut::with_capacity(READ_CHUNK);
        buf.extend_from_slice(b"0123456789");
        let (run, cost) = take_front(&mut buf, 6);
        assert_eq!((&run[..], cost), (&b"012345"[..], 6));
        assert_eq!(&buf[..], b"6789");
    }

    #[test]
    fn a_stream_in_any_pieces_is_received_whole_with_its_offsets() {
        let opts = CollectOptions {
            // Slow pieces: the zone transfer's frame takes a while.
            frame_timeout: Duration::from_secs(30),
            ..test_opts()
        };
        // All at once (frames taken many to a read, read buffers handed
        // over whole), and in pieces that cut lengths and payloads at
        // every place.
        for (piece, copies) in [(usize::MAX, 4), (7, 1)] {
            let good: Vec<Bytes> = (0..copies)
                .flat_map(|_| payloads("knotd-auth-rwq.fstrm"))
                .collect();
            let mut p = good.clone();
            p.insert(3, Bytes::from_static(b"\xff\xffnot a dnstap record"));
            let stream = stream_of(&p, true);
            assert!(copies == 1 || stream.len() > 2 * READ_CHUNK);
            // Where the bad frame starts in the stream.
            let at = stream_of(&p[..3], true).len() - ctl(ControlType::Stop, &[]).len();
            let run = with_collector(opts.clone(), None, |sock| {
                let mut s = UnixStream::connect(sock).unwrap();
                for bytes in stream.chunks(piece) {
                    if s.write_all(bytes).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_micros(100));
                }
                read_to_close(&mut s);
            });
            assert!(run.out == read_of(&good), "pieces of {piece}: {}", run.err);
            assert!(
                run.err.contains(&format!("frame at byte {at} skipped")),
                "{}",
                run.err
            );
            assert!(
                run.err
                    .contains(&format!("stream stopped after {} frames", p.len())),
                "{}",
                run.err
            );
        }
    }

    #[test]
    fn bidirectional_sender_gets_accept_and_finish_and_is_rendered_like_read() {
        let p = payloads("knotd-auth-rwq.fstrm");
        let mut back = Vec::new();
        let run = with_collector(test_opts(), None, |sock| {
            back = good_sender(sock, &p, true);
        });
        let mut want = ctl(ControlType::Accept, &[CONTENT_TYPE_DNSTAP]);
        want.extend(ctl(ControlType::Finish, &[]));
        assert_eq!(back, want, "ACCEPT, then FINISH");
        assert_eq!(run.out, read_of(&p));
        assert_eq!(run.code, exits::OK, "{}", run.err);
        assert!(run.err.contains("(bidirectional)"), "{}", run.err);
        assert!(
            run.err.contains(&format!("after {} frames", p.len())),
            "{}",
            run.err
        );
    }

    #[test]
    fn unidirectional_sender_is_taken_without_replies() {
        let p = payloads("named-all.fstrm");
        let mut back = Vec::new();
        let run = with_collector(test_opts(), None, |sock| {
            back = good_sender(sock, &p, false);
        });
        assert!(back.is_empty(), "no ACCEPT or FINISH: {back:?}");
        assert_eq!(run.out, read_of(&p));
        assert_eq!(run.code, exits::OK, "{}", run.err);
    }

    #[test]
    fn many_senders_at_once_each_in_arrival_order() {
        let a = payloads("knotd-auth-rwq.fstrm");
        let b = payloads("named-all.fstrm");
        let run = with_collector(test_opts(), None, |sock| {
            // Both connected and half-way at the same time.
            let mut s1 = UnixStream::connect(sock).unwrap();
            let mut s2 = UnixStream::connect(sock).unwrap();
            let one = stream_of(&a, true);
            let two = stream_of(&b, true);
            s1.write_all(&one[..one.len() / 2]).unwrap();
            s2.write_all(&two[..two.len() / 2]).unwrap();
            s1.write_all(&one[one.len() / 2..]).unwrap();
            s2.write_all(&two[two.len() / 2..]).unwrap();
            read_to_close(&mut s1);
            read_to_close(&mut s2);
        });
        assert_eq!(run.code, exits::OK, "{}", run.err);
        assert_eq!(run.err.matches("stream stopped").count(), 2, "{}", run.err);
        // Every message of both streams is there.
        let all = read_of(&[a.clone(), b.clone()].concat());
        let count = |t: &str| t.matches(";; ->>HEADER<<-").count();
        assert_eq!(count(&run.out), count(&all));
    }

    /// A hostile connection (run by `hostile`) is cut with a warning naming
    /// the peer and the offset, and a good sender, connected while the
    /// hostile one is open, is still served in full.
    fn hostile_case(hostile: impl FnOnce(&mut UnixStream), warning: &str, lost: bool) -> Run {
        let p = payloads("knotd-auth-rwq.fstrm");
        let run = with_collector(test_opts(), None, |sock| {
            let mut bad = UnixStream::connect(sock).unwrap();
            let good = good_sender(sock, &p, true);
            assert!(!good.is_empty());
            hostile(&mut bad);
            read_to_close(&mut bad);
        });
        assert_eq!(run.out, read_of(&p), "the good sender is unaffected");
        let line = run
            .err
            .lines()
            .find(|l| l.contains(warning))
            .unwrap_or_else(|| panic!("no {warning:?} in:\n{}", run.err));
        assert!(line.starts_with(";; WARNING: unix:"), "{line}");
        assert!(line.contains(" at byte "), "{line}");
        assert!(line.contains("connection closed"), "{line}");
        let want = if lost { exits::DATA_LOST } else { exits::OK };
        assert_eq!(run.code, want, "{}", run.err);
        run
    }

    #[test]
    fn hostile_disconnect_mid_frame() {
        let p = payloads("knotd-auth-rwq.fstrm");
        let run = hostile_case(
            |s| {
                let mut bytes = ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]);
                bytes.extend(ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]));
                let frame = data(&p[0]);
                bytes.extend(&frame[..frame.len() / 2]);
                s.write_all(&bytes).unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
            },
            "in the middle of a frame",
            true,
        );
        assert!(run.err.contains("frames lost"), "{}", run.err);
    }

    #[test]
    fn hostile_garbage() {
        hostile_case(
            |s| s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap(),
            "before START",
            false,
        );
    }

    #[test]
    fn hostile_garbage_control_frame() {
        hostile_case(
            |s| {
                s.write_all(&[0, 0, 0, 0, 0, 0, 0, 6, 1, 2, 3, 4, 5, 6])
                    .unwrap()
            },
            "control field",
            false,
        );
    }

    #[test]
    fn hostile_oversize_control_frame() {
        hostile_case(
            |s| {
                let mut b = vec![0, 0, 0, 0, 0, 0, 2, 1];
                b.extend(vec![0u8; 513]);
                s.write_all(&b).unwrap()
            },
            "over the 512-byte limit",
            false,
        );
    }

    #[test]
    fn hostile_oversize_data_frame_is_skipped_and_the_stream_goes_on() {
        let p = payloads("named-all.fstrm");
        let opts = CollectOptions {
            max_frame: 2000,
            ..test_opts()
        };
        let run = with_collector(opts, None, |sock| {
            let mut s = UnixStream::connect(sock).unwrap();
            let mut bytes = ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]);
            bytes.extend(ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]));
            bytes.extend(data(&p[0]));
            bytes.extend(data(&vec![0x55; 5000]));
            bytes.extend(data(&p[1]));
            bytes.extend(ctl(ControlType::Stop, &[]));
            s.write_all(&bytes).unwrap();
            read_to_close(&mut s);
        });
        assert!(
            run.err
                .contains("of 5000 bytes is over the 2000-byte limit"),
            "{}",
            run.err
        );
        assert_eq!(run.out, read_of(&p[..2]));
        assert_eq!(run.code, exits::DATA_LOST);
    }

    #[test]
    fn hostile_wrong_content_type_is_refused_without_accept() {
        let mut back = Vec::new();
        let run = hostile_case(
            |s| {
                s.write_all(&ctl(ControlType::Ready, &[b"protobuf:other\x1b[31m"]))
                    .unwrap();
            },
            "do not include protobuf:dnstap.Dnstap",
            false,
        );
        assert!(!run.err.contains('\x1b'), "escaped: {}", run.err);
        // And a unidirectional START of another type.
        let run2 = hostile_case(
            |s| {
                s.write_all(&ctl(ControlType::Start, &[b"text/plain"]))
                    .unwrap();
            },
            "START announces content type text/plain",
            false,
        );
        back.push(run2.code);
    }

    #[test]
    fn hostile_never_finishes_the_handshake() {
        hostile_case(
            |s| {
                s.write_all(&ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]))
                    .unwrap();
                // ACCEPT comes; START never does.
            },
            "no START within",
            false,
        );
        hostile_case(|_| {}, "no START within", false);
    }

    #[test]
    fn hostile_trickle_is_cut_off() {
        let p = payloads("knotd-auth-rwq.fstrm");
        hostile_case(
            |s| {
                let mut bytes = ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]);
                bytes.extend(data(&p[0]));
                s.write_all(&bytes[..40]).unwrap();
                for b in &bytes[40..] {
                    if s.write_all(&[*b]).is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            },
            "frame not complete within",
            true,
        );
    }

    #[test]
    fn too_many_connections_are_refused_and_the_rest_served() {
        let p = payloads("knotd-auth-rwq.fstrm");
        let opts = CollectOptions {
            max_connections: 1,
            handshake_timeout: Duration::from_secs(20),
            ..test_opts()
        };
        let run = with_collector(opts, None, |sock| {
            let mut first = UnixStream::connect(sock).unwrap();
            first
                .write_all(&ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]))
                .unwrap();
            // Once ACCEPT is back the first one holds the only place.
            let mut accept = vec![0u8; ctl(ControlType::Accept, &[CONTENT_TYPE_DNSTAP]).len()];
            first.read_exact(&mut accept).unwrap();
            let mut second = UnixStream::connect(sock).unwrap();
            assert!(read_to_close(&mut second).is_empty());
            let mut rest = ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]);
            for x in &p {
                rest.extend(data(x));
            }
            rest.extend(ctl(ControlType::Stop, &[]));
            first.write_all(&rest).unwrap();
            read_to_close(&mut first);
        });
        assert!(
            run.err.contains("refused, 1 connections already"),
            "{}",
            run.err
        );
        assert_eq!(run.out, read_of(&p));
    }

    #[test]
    fn stopping_hands_over_every_frame_already_read() {
        let p = payloads("knotd-auth-rwq.fstrm");
        // A queue of one byte: each frame waits for the one before to be
        // taken, so frames are still in the connection when the stop comes.
        let opts = CollectOptions {
            queue_bytes: 1,
            ..test_opts()
        };
        let mut client = None;
        let run = with_collector(opts, None, |sock| {
            let mut s = UnixStream::connect(sock).unwrap();
            let mut bytes = ctl(ControlType::Ready, &[CONTENT_TYPE_DNSTAP]);
            bytes.extend(ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]));
            for x in &p {
                bytes.extend(data(x));
            }
            s.write_all(&bytes).unwrap();
            let mut accept = vec![0u8; ctl(ControlType::Accept, &[CONTENT_TYPE_DNSTAP]).len()];
            s.read_exact(&mut accept).unwrap();
            // No STOP: the sender is still connected when qtap stops.
            client = Some(s);
        });
        assert_eq!(run.out, read_of(&p), "{}", run.err);
        assert_eq!(run.code, exits::OK, "{}", run.err);
        assert!(run.err.contains("the collector is stopping"), "{}", run.err);
    }

    #[test]
    fn capture_daemon_saves_every_frame_as_it_came_even_one_that_does_not_decode() {
        let mut p = payloads("knotd-auth-rwq.fstrm");
        p.insert(2, Bytes::from_static(b"\xff\xffnot a dnstap record"));
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("saved.fstrm");
        let opts = CollectOptions {
            render: false,
            ..test_opts()
        };
        let run = with_collector(opts, Some(saved.clone()), |sock| {
            good_sender(sock, &p, true);
        });
        assert_eq!(run.code, exits::OK, "{}", run.err);
        assert!(run.out.is_empty());
        let mut want = ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]);
        for x in &p {
            want.extend(data(x));
        }
        want.extend(ctl(ControlType::Stop, &[]));
        assert_eq!(std::fs::read(&saved).unwrap(), want);
    }

    #[test]
    fn write_saves_frames_verbatim_with_start_and_stop() {
        let p = payloads("knotd-auth-rwq.fstrm");
        let dir = tempfile::tempdir().unwrap();
        let saved = dir.path().join("saved.fstrm");
        let run = with_collector(test_opts(), Some(saved.clone()), |sock| {
            good_sender(sock, &p, true);
        });
        assert_eq!(run.code, exits::OK);
        let bytes = std::fs::read(&saved).unwrap();
        let mut want = ctl(ControlType::Start, &[CONTENT_TYPE_DNSTAP]);
        for x in &p {
            want.extend(data(x));
        }
        want.extend(ctl(ControlType::Stop, &[]));
        assert_eq!(bytes, want);
        assert_eq!(run.out, read_of(&p));
    }

    #[test]
    fn write_rotates_on_the_clock_and_every_file_is_complete() {
        let p = payloads("knotd-auth-rwq.fstrm");
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("cap-%H%M%S.fstrm");
        let output = Output {
            write: Some(template),
            rotation: Rotation {
                interval: Some(Duration::from_secs(1)),
                ..Rotation::default()
            },
            ..Output::default()
        };
        let done = |d: &Path| {
            std::fs::read_dir(d)
                .unwrap()
                .filter(|e| {
                    let e = e.as_ref().unwrap();
                    e.file_name().to_string_lossy().starts_with("cap-")
                })
                .count()
        };
        let run = with_output(test_opts(), output, |sock| {
            good_sender(sock, &p[..10], true);
            // The clock moves on: a file completes, a new one starts.
            let start = std::time::Instant::now();
            while done(dir.path()) < 1 {
                assert!(start.elapsed() < Duration::from_secs(20));
                std::thread::sleep(Duration::from_millis(50));
            }
            good_sender(sock, &p[10..], true);
        });
        assert_eq!(run.code, exits::OK, "{}", run.err);
        let mut frames = 0;
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.starts_with("cap-"), "no temporary file left: {name}");
            let bytes = std::fs::read(&path).unwrap();
            let mut r = TapReader::new(&bytes[..], ReaderOptions::default());
            while let Some(item) = r.next_item().unwrap() {
                match item {
                    TapItem::Data { .. } => frames += 1,
                    TapItem::Warning(w) => panic!("{name}: {w}"),
                }
            }
        }
        assert!(done(dir.path()) >= 2);
        assert_eq!(frames, p.len(), "every frame in exactly one file");
    }

    #[test]
    fn structured_output_names_the_connection() {
        let p = payloads("knotd-auth-rwq.fstrm");
        for format in [crate::render::Format::Jsonl, crate::render::Format::Yaml] {
            let display = DisplayOpts {
                format: Some(format),
                ..DisplayOpts::default()
            };
            let run = with_display(test_opts(), Output::default(), display, |sock| {
                good_sender(sock, &p[..3], true);
            });
            let want = match format {
                crate::render::Format::Jsonl => "\"connection\":\"unix:",
                _ => "connection: \"unix:",
            };
            assert_eq!(run.out.matches(want).count(), 3, "{}", run.out);
            assert!(run.out.contains("c.sock#1 pid "), "{}", run.out);
        }
    }

    #[test]
    fn stale_socket_is_replaced_but_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sock");
        // A stale socket: bound, then its listener gone.
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert!(path.exists());
        let l = bind(&Endpoint::Unix(path.clone()), &SocketOpts::default()).unwrap();
        // A live one is not taken over.
        let e = bind(&Endpoint::Unix(path.clone()), &SocketOpts::default()).unwrap_err();
        assert!(e.contains("another process is listening"), "{e}");
        drop(l);
        assert!(!path.exists(), "removed with its listener");
        // A regular file is never removed.
        std::fs::write(&path, b"precious").unwrap();
        let e = bind(&Endpoint::Unix(path.clone()), &SocketOpts::default()).unwrap_err();
        assert!(e.contains("not a socket"), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"precious");
    }

    #[test]
    fn socket_owner_takes_numbers_and_names() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("passwd"),
            "root:x:0:0::/root:/bin/sh\nbind:x:107:113::/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("group"), "root:x:0:\nbind:x:113:\n").unwrap();
        assert_eq!(
            parse_owner("1000:1001", dir.path()),
            Ok((Some(1000), Some(1001)))
        );
        assert_eq!(parse_owner("bind", dir.path()), Ok((Some(107), None)));
        assert_eq!(
            parse_owner("bind:bind", dir.path()),
            Ok((Some(107), Some(113)))
        );
        assert_eq!(parse_owner(":bind", dir.path()), Ok((None, Some(113))));
        assert!(parse_owner("nobody-here", dir.path())
            .unwrap_err()
            .contains("no user"));
        assert!(parse_owner("0:nogroup", dir.path())
            .unwrap_err()
            .contains("no group"));
        // A path reaches stderr escaped.
        let odd = dir.path().join("etc\x1b[31m");
        std::fs::create_dir(&odd).unwrap();
        let e = parse_owner("bind", &odd).unwrap_err();
        assert!(!e.contains('\x1b'), "{e:?}");
        assert!(e.contains("etc\\027[31m/passwd"), "{e:?}");
    }

    #[test]
    fn a_connection_cut_says_closed_once() {
        let cut = conn_err(
            10,
            "connection closed in the middle of a frame (stream ends at byte 12)",
            true,
        );
        assert_eq!(
            warning_line("unix:#1", &cut),
            ";; WARNING: unix:#1: connection closed in the middle of a frame \
             (stream ends at byte 12) at byte 10"
        );
        let bad = conn_err(4, "frame of 9999999 bytes over the limit", true);
        assert_eq!(
            warning_line("unix:#1", &bad),
            ";; WARNING: unix:#1: frame of 9999999 bytes over the limit at byte 4; connection closed"
        );
    }

    #[test]
    fn socket_mode_is_set() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.sock");
        let opts = SocketOpts {
            mode: Some(0o620),
            ..SocketOpts::default()
        };
        let _l = bind(&Endpoint::Unix(path.clone()), &opts).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o620);
    }

    #[test]
    fn endpoints_parse_and_plain_paths_stay_files() {
        use std::ffi::OsStr;
        assert_eq!(
            Endpoint::parse(OsStr::new("unix:/run/x.sock")),
            Some(Ok(Endpoint::Unix("/run/x.sock".into())))
        );
        assert_eq!(
            Endpoint::parse(OsStr::new("tcp:127.0.0.1:6000")),
            Some(Ok(Endpoint::Tcp("127.0.0.1:6000".parse().unwrap())))
        );
        assert_eq!(
            Endpoint::parse(OsStr::new("tcp:[::1]:6000")),
            Some(Ok(Endpoint::Tcp("[::1]:6000".parse().unwrap())))
        );
        assert!(matches!(
            Endpoint::parse(OsStr::new("tcp:nowhere")),
            Some(Err(_))
        ));
        assert!(matches!(Endpoint::parse(OsStr::new("unix:")), Some(Err(_))));
        assert_eq!(Endpoint::parse(OsStr::new("trace.fstrm")), None);
        assert_eq!(Endpoint::parse(OsStr::new("./unix:odd")), None);
    }

    #[test]
    fn tcp_listener_serves_too() {
        let p = payloads("knotd-auth-rwq.fstrm");
        let listener = bind(
            &Endpoint::Tcp("127.0.0.1:0".parse().unwrap()),
            &SocketOpts::default(),
        )
        .unwrap();
        let addr: SocketAddr = listener
            .label()
            .strip_prefix("tcp:")
            .unwrap()
            .parse()
            .unwrap();
        assert_ne!(addr.port(), 0);
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
        let handle = std::thread::spawn(move || {
            let (mut out, mut err) = (Vec::new(), Vec::new());
            let code = collect(
                vec![listener],
                &[],
                Output::default(),
                test_opts(),
                DisplayOpts::default(),
                false,
                &mut out,
                &mut err,
                Stop::Channel(stop_rx),
            )
            .unwrap();
            (code, out, err)
        });
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(&stream_of(&p, true)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut back = Vec::new();
        let _ = s.read_to_end(&mut back);
        let _ = stop_tx.send(());
        let (code, out, err) = handle.join().unwrap();
        assert_eq!(code, exits::OK);
        assert_eq!(String::from_utf8(out).unwrap(), read_of(&p));
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.contains(&format!(
                "from 127.0.0.1:{}",
                s.local_addr().unwrap().port()
            )),
            "{err}"
        );
    }
}
