//! Runs a validated [`Config`]: live queries or `--read`, both feeding the
//! same [`View`] (pairer + renderer), so their output is identical for the
//! same trace.
//!
//! The caller (main.rs) passes the output streams in; nothing here opens
//! the terminal itself.

mod hold;

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;

use crate::config::{Config, Mode, ServerHost, ServerSpec, TapTarget};
use crate::error::{exits, Error};
use crate::pair::{Item, Pairer};
use crate::query::{self, Outcome, RecordMeta, Sink};
use crate::render::printer::Printer;
use crate::render::DisplayOpts;
use crate::tap::event::Event;
use crate::tap::file::TraceFile;
use crate::tap::pb;
use crate::tap::writer::TapWriter;

/// `Dnstap.version` of qtap's records.
pub fn version_string() -> String {
    format!("qtap {}", env!("CARGO_PKG_VERSION"))
}

/// Pairs events and shows them (live mode: one thread, eager output).
#[derive(Debug)]
pub struct View {
    pairer: Pairer,
    items: Vec<Item>,
    output: Printer,
}

impl View {
    /// A view with these display options, coloured or not.
    pub fn new(display: DisplayOpts, color: bool) -> View {
        View {
            pairer: Pairer::default(),
            items: Vec::new(),
            output: Printer::new(display, color, true),
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
        Mode::Read {
            files,
            max_frame,
            filter,
            scrub,
            output,
        } => match output {
            crate::config::ReadOutput::Render => crate::run::read::read_selected(
                &files,
                max_frame,
                filter,
                scrub.map(|s| s.scrubber()),
                config.display,
                config.color,
                out,
                err,
            ),
            crate::config::ReadOutput::Write(dest) => crate::run::write::write_files(
                &files,
                max_frame,
                filter,
                scrub.map(|s| s.scrubber()),
                &dest,
                out,
                err,
            ),
            crate::config::ReadOutput::Rrsets { json } => {
                crate::run::stats::rrsets_files(&files, max_frame, filter, json, out, err)
            }
            crate::config::ReadOutput::Stats { top, json } => {
                crate::run::stats::stats_files(&files, max_frame, filter, top, json, out, err)
            }
        },
        Mode::Hex(args) => crate::run::hex::hex_args(
            &args,
            &mut std::io::stdin().lock(),
            config.display,
            config.color,
            out,
        ),
        Mode::Wire(path) => crate::run::hex::wire_file(&path, config.display, config.color, out),
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

/// What a live run waits on beside its lookups: the signals that end it
/// (each with its exit code, 128 + its number), and the pause timer that
/// releases held output.
struct Waits<'a> {
    signals: Signals,
    pause: std::pin::Pin<Box<tokio::time::Sleep>>,
    pauses: Pauses<'a>,
}

/// SIGINT (Ctrl-C), SIGTERM, SIGHUP (closed terminal, dropped ssh
/// session) and SIGQUIT (Ctrl-\\): each ends a live run with a complete
/// trace instead of killing it.
struct Signals {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
}

impl Signals {
    /// Catches the four signals from now on.
    fn catch() -> Result<Signals, Error> {
        use tokio::signal::unix::{signal, SignalKind};
        let on = |kind| {
            signal(kind)
                .map_err(|e| Error::Internal(format!("cannot install signal handlers: {e}")))
        };
        Ok(Signals {
            int: on(SignalKind::interrupt())?,
            term: on(SignalKind::terminate())?,
            hup: on(SignalKind::hangup())?,
            quit: on(SignalKind::quit())?,
        })
    }
}

impl Waits<'_> {
    /// Runs `work` to its end, releasing held output at every pause;
    /// Err(exit code) when a signal comes first.
    async fn until<F: std::future::Future>(&mut self, work: F) -> Result<F::Output, u8> {
        tokio::pin!(work);
        loop {
            tokio::select! {
                biased;
                _ = self.signals.int.recv() => return Err(exits::SIGINT),
                _ = self.signals.term.recv() => return Err(exits::SIGTERM),
                _ = self.signals.hup.recv() => return Err(exits::SIGHUP),
                _ = self.signals.quit.recv() => return Err(exits::SIGQUIT),
                r = &mut work => return Ok(r),
                () = self.pause.as_mut() => {
                    self.pauses.release();
                    self.pause.as_mut().reset(tokio::time::Instant::now() + PAUSE);
                }
            }
        }
    }
}

/// The trace file being written ([`TraceFile`] decides where the bytes go
/// and how they reach the path). The frames are held and written in large
/// pieces: at pauses, every [`HELD_CHUNK`] bytes and at the end, always
/// before the trace is committed.
struct TapFile {
    writer: Option<TapWriter<Held<File>>>,
    trace: Option<TraceFile>,
    path: PathBuf,
}

impl TapFile {
    /// The file, and a handle to release what it holds at pauses. Warns on
    /// `err` about temporary files that killed runs left beside it.
    #[allow(clippy::type_complexity)]
    fn create(
        path: &Path,
        err: &mut dyn Write,
    ) -> Result<(TapFile, std::rc::Weak<std::cell::RefCell<HeldState<File>>>), Error> {
        let tap_err = |source| Error::Tap {
            path: path.to_owned(),
            source,
        };
        for line in crate::tap::file::stale_leftovers(path) {
            let _ = writeln!(err, "{line}");
        }
        let (trace, file) = TraceFile::create(path).map_err(tap_err)?;
        let held = Held::new(file, false);
        let handle = held.handle();
        let writer = TapWriter::new(held).map_err(tap_err)?;
        Ok((
            TapFile {
                writer: Some(writer),
                trace: Some(trace),
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

    /// Writes STOP and what is held, and commits the trace (a run that
    /// recorded nothing leaves the path as it was).
    fn finish(&mut self) -> Result<(), Error> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let recorded = writer.frames_written() > 0;
        // No fsync: the promise is a complete file after errors and signals,
        // not after a power cut, and a sync would cost more than the query.
        // Should the file not be completed (disk full, size limit), the
        // temporary file goes and any earlier trace stays untouched.
        let trace = self.trace.take();
        writer
            .finish()
            .and_then(Held::close)
            .and_then(|()| trace.map_or(Ok(()), |t| t.commit(recorded)))
            .map_err(|source| Error::Tap {
                path: self.path.clone(),
                source,
            })
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
/// turn comes, so output and trace stay in input order (memory bounded by
/// [`HOLD_BUDGET`] for all of them, see [`hold`]).
type Buffered = hold::Hold;

/// Bytes all `+parallel` lookups waiting for their turn keep in memory
/// together; the rest waits in a temporary file.
const HOLD_BUDGET: usize = 8 << 20;

/// A [`Sink`] that only collects (shared with the task running the lookup,
/// so what it collected survives an interruption).
struct SharedSink(std::rc::Rc<std::cell::RefCell<Buffered>>);

fn hold_error(e: &std::io::Error) -> Error {
    Error::Internal(format!(
        "cannot keep a +parallel lookup's output in a temporary file: {e}"
    ))
}

impl Sink for SharedSink {
    fn record(&mut self, record: Event) -> Result<(), Error> {
        self.0
            .borrow_mut()
            .push(hold::Produced::Record(record))
            .map_err(|e| hold_error(&e))
    }

    fn diag(&mut self, line: &str) {
        // Should the file fail, the next record says so.
        let _ = self
            .0
            .borrow_mut()
            .push(hold::Produced::Diag(line.to_owned()));
    }
}

impl LiveSink<'_> {
    /// Hands over what a lookup collected so far, in order.
    fn drain(&mut self, buffer: &std::cell::RefCell<Buffered>) -> Result<(), Error> {
        loop {
            let next = buffer.borrow_mut().pop();
            match next {
                None => return Ok(()),
                Some(Err(e)) => return Err(hold_error(&e)),
                Some(Ok(hold::Produced::Diag(line))) => self.diag(&line),
                Some(Ok(hold::Produced::Record(record))) => self.record(record)?,
            }
        }
    }
}

/// What the lookups in flight have for the output.
enum Turn {
    /// The first lookup produced more (it is shown as it runs).
    Output(std::rc::Rc<std::cell::RefCell<Buffered>>),
    /// The first lookup finished: the rest of its output, and its outcome.
    Done(
        std::rc::Rc<std::cell::RefCell<Buffered>>,
        Result<Outcome, Error>,
    ),
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

    /// Polls the woken lookups; ready with the first lookup's buffer
    /// when it has produced something, and with its outcome too once it
    /// has finished.
    fn poll_first(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<Turn>> {
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
                return std::task::Poll::Ready(Some(Turn::Done(buffer, outcome)));
            }
        }
        if let Some(first) = self.lanes.front() {
            if !first.buffer.borrow().is_empty() {
                return std::task::Poll::Ready(Some(Turn::Output(first.buffer.clone())));
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
/// messages are shown and recorded when its turn comes, the first one's as
/// they come (frames carry their own times, so the trace still says when
/// each message went and came).
/// Their UDP queries share sockets per server, each carrying a limited
/// number of exchanges ([`query::udp::MuxPool`]).
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
    let spill = hold::Spill::new(HOLD_BUDGET);
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
            let buffer = std::rc::Rc::new(std::cell::RefCell::new(Buffered::new(spill.clone())));
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
            Ok(Some(Turn::Output(buffer))) => {
                sink.drain(&buffer)?;
                continue;
            }
            Ok(Some(Turn::Done(buffer, result))) => (buffer, result),
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
    // Signals are caught only once it is open: a FIFO's open waits for a
    // reader, and Ctrl-C must still end that wait.
    let (tap_out, mut pauses) = match tap {
        Some(t) if !to_stdout => {
            let (file, handle) = TapFile::create(&t.path, &mut *err)?;
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
    // Caught before anything is sent, so a signal can never find the
    // default handler and kill the process with the trace unfinished.
    let mut waits = Waits {
        signals: Signals::catch()?,
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
}
