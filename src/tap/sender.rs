//! `--tap unix:PATH` and `--tap tcp:ADDR:PORT`: qtap's own records streamed
//! to a Frame Streams collector (fstrm_capture, the Go `dnstap -u/-l`,
//! another qtap, a DNS collector) with the bidirectional handshake.
//!
//! The [`TapSender`] owns a thread with its own small runtime, so the
//! lookups never wait on the collector: [`TapSender::send`] only puts the
//! frame in a bounded queue (dropping, and counting, when it is full, as
//! every dnstap sender does rather than block the DNS work). The thread
//! writes each burst of frames as soon as it is queued. If the collector
//! goes away, the thread reconnects with backoff for
//! [`SenderOptions::reconnect_for`], then gives up; frames it could not
//! deliver are counted and reported by [`TapSender::finish`]. Its warnings
//! (connection lost, made again, given up) are posted to [`Warnings`] the
//! moment they happen, for the run to print while the lookups go on.
//!
//! It owns the socket side of the sender only; the handshake rules are
//! [`super::handshake`]'s and the framing [`super::frame`]'s.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::frame::{encode_control, encode_data, Decoded, Decoder, Frame, CONTENT_TYPE_DNSTAP};
use super::handshake::{WriterHandshake, WriterStep};
use crate::tap::endpoint::Endpoint;

/// How the sender behaves.
#[derive(Clone, Debug)]
pub struct SenderOptions {
    /// Connecting and the READY/ACCEPT exchange, each time.
    pub connect_timeout: Duration,
    /// How long to keep trying after the collector went away.
    pub reconnect_for: Duration,
    /// How long [`TapSender::finish`] waits for the queue, STOP and FINISH.
    pub close_timeout: Duration,
    /// Frames queued at most while the collector is slow or away.
    pub queue_frames: usize,
}

impl Default for SenderOptions {
    fn default() -> Self {
        SenderOptions {
            connect_timeout: Duration::from_secs(5),
            reconnect_for: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            queue_frames: 10_000,
        }
    }
}

/// What happened to the frames, for the end of the run.
#[derive(Debug, Default)]
pub struct SenderReport {
    /// Frames written to a collector.
    pub delivered: u64,
    /// Frames that never reached one (queue full, collector gone).
    pub dropped: u64,
    /// Lines for stderr (already escaped).
    pub warnings: Vec<String>,
}

/// Warning lines the sender thread posts while the run goes on (already
/// escaped), with a wake-up for whoever prints them.
#[derive(Debug, Default)]
pub struct Warnings {
    lines: std::sync::Mutex<Vec<String>>,
    /// Notified once per posted line (a permit is kept if nobody waits).
    pub posted: tokio::sync::Notify,
}

impl Warnings {
    fn post(&self, line: String) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line);
        }
        self.posted.notify_one();
    }

    /// The lines posted since the last call.
    pub fn take(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// A connection past START, with its handshake state.
struct Link {
    conn: Box<dyn Conn>,
    hs: WriterHandshake,
}

/// Connects and does READY → ACCEPT → START, within `timeout`.
async fn open(endpoint: &Endpoint, timeout: Duration) -> Result<Link, String> {
    let work = async {
        let mut conn: Box<dyn Conn> = match endpoint {
            Endpoint::Unix(p) => Box::new(
                tokio::net::UnixStream::connect(p)
                    .await
                    .map_err(|e| e.to_string())?,
            ),
            Endpoint::Tcp(a) => {
                let s = tokio::net::TcpStream::connect(a)
                    .await
                    .map_err(|e| e.to_string())?;
                let _ = s.set_nodelay(true);
                Box::new(s)
            }
        };
        let (mut hs, ready) = WriterHandshake::new(CONTENT_TYPE_DNSTAP);
        let mut out = BytesMut::new();
        encode_control(&ready, &mut out).map_err(|e| e.to_string())?;
        conn.write_all(&out).await.map_err(|e| e.to_string())?;
        let frame = read_control(&mut conn).await?;
        match hs.on_frame(frame).map_err(|e| format!("refused: {e}"))? {
            WriterStep::Start(start) => {
                out.clear();
                encode_control(&start, &mut out).map_err(|e| e.to_string())?;
                conn.write_all(&out).await.map_err(|e| e.to_string())?;
                Ok(Link { conn, hs })
            }
            WriterStep::Finished => Err("FINISH instead of ACCEPT".to_owned()),
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| Err(format!("no ACCEPT within {} s", timeout.as_secs_f64())))
}

/// Reads one control frame from the collector (at most 512 bytes + 8).
async fn read_control(conn: &mut Box<dyn Conn>) -> Result<Frame, String> {
    let mut buf = BytesMut::with_capacity(600);
    // Data frames are refused outright: a collector sends none.
    let mut decoder = Decoder::new(0);
    loop {
        match decoder.decode(&mut buf).map_err(|e| e.to_string())? {
            Some(Decoded::Frame(f)) => return Ok(f),
            Some(Decoded::Oversize { len }) => {
                return Err(format!("the collector sent a data frame of {len} bytes"))
            }
            None => {}
        }
        if conn.read_buf(&mut buf).await.map_err(|e| e.to_string())? == 0 {
            return Err("the collector closed the connection".to_owned());
        }
    }
}

/// Sends frames to a collector from its own thread; see the module
/// documentation.
pub struct TapSender {
    tx: Option<tokio::sync::mpsc::Sender<Bytes>>,
    dropped: Arc<AtomicU64>,
    /// Frames handed to the thread: none is delivered until FINISH says
    /// so, so all of them are lost if the thread cannot report.
    queued: AtomicU64,
    thread: Option<std::thread::JoinHandle<SenderReport>>,
    done: std::sync::mpsc::Receiver<()>,
    close_timeout: Duration,
    label: String,
    warnings: Arc<Warnings>,
}

impl TapSender {
    /// Connects to `endpoint` and completes the handshake before returning,
    /// so a collector that is absent or refuses dnstap fails here, before
    /// any query is sent.
    pub fn connect(endpoint: &Endpoint, opts: SenderOptions) -> Result<TapSender, String> {
        let label = endpoint.to_string();
        let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(opts.queue_frames.max(1));
        let (ready_tx, ready_rx) = std::sync::mpsc::sync_channel(1);
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel(1);
        let dropped = Arc::new(AtomicU64::new(0));
        let endpoint = endpoint.clone();
        let thread_opts = opts.clone();
        let thread_dropped = dropped.clone();
        let thread_label = label.clone();
        let warnings = Arc::new(Warnings::default());
        let thread_warnings = warnings.clone();
        let thread = std::thread::Builder::new()
            .name("qtap-tap".into())
            .spawn(move || {
                let report = run_thread(
                    endpoint,
                    thread_opts,
                    rx,
                    ready_tx,
                    thread_dropped,
                    &thread_label,
                    &thread_warnings,
                );
                let _ = done_tx.send(());
                report
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(TapSender {
                tx: Some(tx),
                dropped,
                queued: AtomicU64::new(0),
                thread: Some(thread),
                done: done_rx,
                close_timeout: opts.close_timeout,
                label,
                warnings,
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(format!("collector {label}: {e}"))
            }
            Err(_) => Err(format!("collector {label}: the sender thread ended")),
        }
    }

    /// Queues one encoded record; never waits. A full queue drops the
    /// frame and counts it.
    pub fn send(&self, payload: Bytes) {
        let Some(tx) = &self.tx else { return };
        if tx.try_send(payload).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        } else {
            self.queued.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Where the sender posts its warnings as they happen.
    pub fn warnings(&self) -> Arc<Warnings> {
        self.warnings.clone()
    }

    /// Ends the stream: the queue is written, STOP sent and FINISH awaited,
    /// within the close timeout. What was not delivered is in the report,
    /// with the warnings not taken from [`TapSender::warnings`] yet.
    pub fn finish(mut self) -> SenderReport {
        drop(self.tx.take());
        // The thread has its own close timeout; a little more here, so its
        // report is not lost to a race.
        let wait = self.close_timeout + Duration::from_secs(1);
        let mut report = match self.done.recv_timeout(wait) {
            Ok(()) => self
                .thread
                .take()
                .and_then(|t| t.join().ok())
                .unwrap_or_default(),
            // The thread is stuck (a collector that stopped reading): no
            // FINISH came, so nothing queued is known to be delivered.
            Err(_) => SenderReport {
                warnings: vec![format!(
                    ";; WARNING: collector {}: could not close the stream within {} s",
                    self.label,
                    self.close_timeout.as_secs_f64()
                )],
                dropped: self.queued.load(Ordering::Relaxed),
                ..SenderReport::default()
            },
        };
        report.dropped += self.dropped.load(Ordering::Relaxed);
        let mut warnings = self.warnings.take();
        warnings.append(&mut report.warnings);
        report.warnings = warnings;
        report
    }
}

/// The sender thread: handshake (reported on `ready`), then frames until
/// the queue closes, then STOP/FINISH.
fn run_thread(
    endpoint: Endpoint,
    opts: SenderOptions,
    mut rx: tokio::sync::mpsc::Receiver<Bytes>,
    ready: std::sync::mpsc::SyncSender<Result<(), String>>,
    dropped: Arc<AtomicU64>,
    label: &str,
    warnings: &Warnings,
) -> SenderReport {
    let mut report = SenderReport::default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot start the async runtime: {e}")));
            return report;
        }
    };
    runtime.block_on(async {
        let mut conn = match open(&endpoint, opts.connect_timeout).await {
            Ok(c) => {
                let _ = ready.send(Ok(()));
                Some(c)
            }
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        let mut batch = BytesMut::new();
        let mut count;
        // Frames written on the current connection: delivered only once its
        // FINISH comes (Frame Streams acknowledges nothing else), so they
        // count as lost should the connection end without one.
        let mut on_link = 0u64;
        loop {
            let Some(first) = rx.recv().await else { break };
            batch.clear();
            count = 0u64;
            let mut next = Some(first);
            while let Some(p) = next {
                if encode_data(&p, &mut batch).is_ok() {
                    count += 1;
                }
                next = if batch.len() < 64 * 1024 {
                    rx.try_recv().ok()
                } else {
                    None
                };
            }
            let Some(link) = conn.as_mut() else {
                report.dropped += count;
                continue;
            };
            if write_within(link, &batch, opts.close_timeout).await {
                on_link += count;
                continue;
            }
            // The collector went away with what it had not read: try again
            // for a while, then give up.
            report.dropped += std::mem::take(&mut on_link);
            warnings.post(format!(
                ";; WARNING: collector {label}: connection lost; reconnecting for up to {} s",
                opts.reconnect_for.as_secs_f64()
            ));
            conn = reconnect(&endpoint, &opts, label, &rx, warnings).await;
            let resent = match conn.as_mut() {
                Some(link) => write_within(link, &batch, opts.close_timeout).await,
                None => false,
            };
            if resent {
                on_link += count;
            } else {
                report.dropped += count;
                if conn.take().is_some() {
                    warnings.post(format!(
                        ";; WARNING: collector {label}: lost again after reconnecting; giving up"
                    ));
                }
            }
        }
        if let Some(link) = conn.as_mut() {
            match close(link, opts.close_timeout).await {
                Ok(()) => report.delivered += on_link,
                Err(e) => {
                    report.dropped += on_link;
                    report
                        .warnings
                        .push(format!(";; WARNING: collector {label}: {e}"));
                }
            }
        }
    });
    report.dropped += dropped.swap(0, Ordering::Relaxed);
    report
}

/// Writes `bytes` to the collector within `timeout`: one that stops
/// reading for that long is taken as gone (the lookups go on; what it did
/// not take counts as not delivered).
async fn write_within(link: &mut Link, bytes: &[u8], timeout: Duration) -> bool {
    matches!(
        tokio::time::timeout(timeout, link.conn.write_all(bytes)).await,
        Ok(Ok(()))
    )
}

/// Reconnects with backoff (50 ms doubling to 1 s) for `reconnect_for`,
/// or until the run ends (the queue is closed): the lookups never wait for
/// a collector that is gone.
async fn reconnect(
    endpoint: &Endpoint,
    opts: &SenderOptions,
    label: &str,
    rx: &tokio::sync::mpsc::Receiver<Bytes>,
    warnings: &Warnings,
) -> Option<Link> {
    let give_up = Instant::now() + opts.reconnect_for;
    let mut wait = Duration::from_millis(50);
    let mut last = String::from("the run ended first");
    while Instant::now() < give_up && !rx.is_closed() {
        match open(endpoint, opts.connect_timeout.min(opts.reconnect_for)).await {
            Ok(c) => {
                warnings.post(format!(
                    ";; WARNING: collector {label}: connection lost and made again"
                ));
                return Some(c);
            }
            Err(e) => last = e,
        }
        tokio::time::sleep(wait.min(give_up.saturating_duration_since(Instant::now()))).await;
        wait = (wait * 2).min(Duration::from_secs(1));
    }
    warnings.post(format!(
        ";; WARNING: collector {label}: connection lost, could not reconnect ({last}); later frames are not sent"
    ));
    None
}

/// STOP, then FINISH awaited.
async fn close(link: &mut Link, timeout: Duration) -> Result<(), String> {
    let Link { conn, hs } = link;
    let work = async {
        let stop = hs.stop();
        let mut out = BytesMut::new();
        encode_control(&stop, &mut out).map_err(|e| e.to_string())?;
        conn.write_all(&out).await.map_err(|e| e.to_string())?;
        conn.flush().await.map_err(|e| e.to_string())?;
        let frame = read_control(conn).await?;
        hs.on_frame(frame).map_err(|e| e.to_string())?;
        let _ = conn.shutdown().await;
        Ok(())
    };
    tokio::time::timeout(timeout, work)
        .await
        .unwrap_or_else(|_| Err(format!("no FINISH within {} s", timeout.as_secs_f64())))
}
