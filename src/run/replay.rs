//! `--replay`: sends every query of a trace to a server again and shows
//! what changed. One thread reads the trace (or what the live collector
//! hands over, `--replay unix:…`/`tcp:…`: [`collect::listen`]), pairs it and hands the steps
//! ([`Step`]) over a bounded channel; the run's thread sends the queries
//! through the one lookup driver ([`query::lookup_message`]), up to
//! `+parallel` at once, paced by `--rate` and `--speed`, and shows each
//! case in trace order once both its new and its recorded response are
//! known. The comparison, the text and the counts are [`crate::replay`]'s.
//!
//! Memory stays bounded whatever the trace: the channel holds a few
//! hundred steps, at most `+parallel` lookups run, and the cases waiting
//! for their turn are bounded by the pairing ([`Cases`], which gives up
//! on a query whose response has not come within the next
//! [`crate::replay::cases::WINDOW`] queries).
//!
//! With `+proxy`, each query carries a PROXY v2 header whose source is
//! the client address recorded with it ([`replay_proxy`]).

use std::collections::VecDeque;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{FuturesUnordered, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::config::{ServerSpec, TapTarget};
use crate::dns::wire::first_question;
use crate::error::{exits, Error};
use crate::query::batch::UdpWindow;
use crate::query::spec::{Proxy, ProxyAddrs, QuerySpec, Transport, DEFAULT_DOH_PATH};
use crate::query::window::{Answer, Done, How, Settings};
use crate::query::{self, Outcome, RecordMeta, Session, Sink};
use crate::replay::cases::{Cases, Step};
use crate::replay::compare::{compare, Diff, Kind};
use crate::replay::summary::{Case, Class, Summary};
use crate::replay::ReplayOpts;
use crate::tap::event::{Event, Protocol};
use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader, TapWarning};

use super::collect::{self, LiveFrames, Stopper};
use super::signals::Signals;
use super::source::{Frames, Raw};
use super::targets::Targets;
use super::trace::Trace;

/// What a replay is asked to do.
pub struct Replay<'a> {
    /// The server.
    pub server: &'a ServerSpec,
    /// `-4`/`-6`.
    pub family: Option<u8>,
    /// Lookup settings for every query.
    pub template: &'a QuerySpec,
    /// `--tap`.
    pub tap: Option<&'a TapTarget>,
    /// The replay's options.
    pub opts: &'a ReplayOpts,
}

/// Steps per hand-over from the reading thread: one wake-up of the run's
/// thread per batch, not per query (the wake-ups cost more than the work
/// at tens of thousands of queries a second).
const STEPS_PER_BATCH: usize = 256;

/// Turns of the run's loop between two looks at the signals when
/// something is always ready (a few milliseconds at most).
const SIGNAL_TURNS: u32 = 64;

/// Batches the reading thread may be ahead by.
const BATCHES_AHEAD: usize = 8;

/// Records one lookup keeps (a zone transfer's messages past these are
/// not kept: only the first response is compared).
const RECORDS_KEPT: usize = 64;

/// What the reading thread hands over, in order.
enum FromReader {
    Steps(Vec<Step>),
    Warning(String),
    /// Data was lost (a damaged frame or input).
    Lost,
}

/// Frames up to this size get a copy of their own before they are
/// decoded, and their events slice it: one allocation per frame instead
/// of a copy of each message, identity and version per event, which was
/// most of the reading thread's allocations in `perf`. Bigger frames have
/// their fields copied one by one ([`owned`]), so an event never pins
/// more than this of bytes it does not use (a crafted frame's junk).
const OWN_FRAME_MAX: usize = 1024;

/// How one frame's bytes are kept by the events made from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Keep {
    /// The events slice a copy of the frame of their own: the steps they
    /// make are handed over as they are.
    Frame,
    /// The events slice a shared buffer: the steps' fields are copied
    /// ([`owned`]).
    Fields,
}

impl Keep {
    /// How a frame of `len` bytes is kept.
    fn of(len: usize) -> Keep {
        if len <= OWN_FRAME_MAX {
            Keep::Frame
        } else {
            Keep::Fields
        }
    }
}

/// Hands the steps made from one frame over to `batch`, with bytes of
/// their own: copied when the frame was kept as fields. With
/// [`Keep::Frame`] every event involved already owns its bytes (the
/// frame's own copy); the pairing keeps none ([`Cases`]).
fn hand_over(keep: Keep, steps: &mut Vec<Step>, batch: &mut Vec<Step>) {
    match keep {
        Keep::Frame => batch.append(steps),
        // The events' bytes may go with the reader's buffer.
        Keep::Fields => batch.extend(steps.drain(..).map(owned)),
    }
}

/// The end of the input: the queries still waiting for a response have
/// none, and every step left joins `batch`, which is returned.
fn last_batch(cases: Cases, mut steps: Vec<Step>, mut batch: Vec<Step>) -> Vec<Step> {
    cases.finish(&mut steps);
    batch.extend(steps.drain(..).map(owned));
    batch
}

/// `step` with bytes of its own: events from the reader share its buffer,
/// and a case waiting for its turn must not pin a whole buffer.
fn owned(step: Step) -> Step {
    fn own(e: &mut Event) {
        for b in [
            &mut e.query_message,
            &mut e.response_message,
            &mut e.query_zone,
            &mut e.identity,
            &mut e.version,
        ] {
            if let Some(v) = b.as_mut() {
                *v = Bytes::copy_from_slice(v);
            }
        }
    }
    match step {
        Step::Start {
            number,
            mut query,
            mut recorded,
        } => {
            own(&mut query);
            if let Some(Some(r)) = recorded.as_mut() {
                own(r);
            }
            Step::Start {
                number,
                query,
                recorded,
            }
        }
        Step::Fate {
            number,
            mut response,
        } => {
            if let Some(r) = response.as_mut() {
                own(r);
            }
            Step::Fate { number, response }
        }
        Step::Skipped => Step::Skipped,
    }
}

/// Reads, decodes and pairs the trace at `path` on a thread of its own.
fn spawn_reader(path: &Path, max_frame: usize) -> mpsc::Receiver<FromReader> {
    let (tx, rx) = mpsc::channel(BATCHES_AHEAD);
    let path = path.to_owned();
    std::thread::spawn(move || {
        let name = crate::render::escaped(std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()));
        let send = |m: FromReader| tx.blocking_send(m).is_ok();
        let input: Box<dyn std::io::Read + Send> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            match std::fs::File::open(&path) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    send(FromReader::Warning(format!(
                        "qtap: cannot open {name}: {e}"
                    )));
                    send(FromReader::Lost);
                    return;
                }
            }
        };
        let mut reader = TapReader::new(
            std::io::BufReader::with_capacity(1 << 16, input),
            ReaderOptions {
                max_data: max_frame,
            },
        );
        let mut cases = Cases::default();
        let mut steps = Vec::new();
        let mut batch = Vec::with_capacity(STEPS_PER_BATCH);
        loop {
            let mut keep = Keep::Fields;
            match reader.next_item() {
                Ok(None) => break,
                Ok(Some(TapItem::Data { offset, payload })) => {
                    keep = Keep::of(payload.len());
                    let payload = match keep {
                        Keep::Frame => Bytes::copy_from_slice(&payload),
                        Keep::Fields => payload,
                    };
                    match Event::from_payload(Some(offset), payload) {
                        Ok(event) => cases.push(event, &mut steps),
                        Err(e) => {
                            let w =
                                format!(";; WARNING: {name}: frame at byte {offset} skipped: {e}");
                            if !(send(FromReader::Warning(w)) && send(FromReader::Lost)) {
                                return;
                            }
                        }
                    }
                }
                Ok(Some(TapItem::Warning(w))) => {
                    let lost = matches!(
                        w,
                        TapWarning::Oversize { .. } | TapWarning::TrailingBytes { .. }
                    );
                    if !send(FromReader::Steps(std::mem::take(&mut batch)))
                        || !send(FromReader::Warning(format!(";; WARNING: {name}: {w}")))
                        || (lost && !send(FromReader::Lost))
                    {
                        return;
                    }
                }
                Err(e) => {
                    send(FromReader::Steps(std::mem::take(&mut batch)));
                    send(FromReader::Warning(format!("qtap: {name}: {e}")));
                    send(FromReader::Lost);
                    break;
                }
            }
            hand_over(keep, &mut steps, &mut batch);
            // The next batch gets its room at once (grown step by step,
            // it was a tenth of this thread's time in `perf`).
            let full = || Vec::with_capacity(STEPS_PER_BATCH);
            if batch.len() >= STEPS_PER_BATCH
                && !send(FromReader::Steps(std::mem::replace(&mut batch, full())))
            {
                return;
            }
        }
        let batch = last_batch(cases, steps, batch);
        if !batch.is_empty() {
            send(FromReader::Steps(batch));
        }
    });
    rx
}

/// Decodes and pairs what a live collector hands over (`--replay
/// unix:…`), on a thread of its own, as [`spawn_reader`] does for a file;
/// a pause in the input hands over what is ready at once.
fn spawn_live_reader(mut frames: LiveFrames) -> mpsc::Receiver<FromReader> {
    let (tx, rx) = mpsc::channel(BATCHES_AHEAD);
    std::thread::spawn(move || {
        let send = |m: FromReader| tx.blocking_send(m).is_ok();
        let mut cases = Cases::default();
        let mut steps = Vec::new();
        let mut batch = Vec::with_capacity(STEPS_PER_BATCH);
        let mut waits = Waits::default();
        while let Some(raw) = frames.next_raw() {
            let mut flush = false;
            // Each frame is copied (below); a big one's fields are copied
            // out of that copy, as the file reader's are.
            let mut keep = Keep::Frame;
            match raw {
                Raw::Frame {
                    offset,
                    payload,
                    connection,
                    own: _,
                } => {
                    keep = Keep::of(payload.len());
                    match Event::from_payload(
                        Some(offset),
                        // Its own copy: a query waiting for its recorded
                        // response must not hold the whole read it came in.
                        Bytes::copy_from_slice(&payload),
                    ) {
                        Ok(mut event) => {
                            event.connection = connection;
                            cases.push(event, &mut steps);
                        }
                        Err(e) => {
                            let from = connection
                                .map(|c| String::from_utf8_lossy(&c).into_owned())
                                .unwrap_or_default();
                            let w =
                                format!(";; WARNING: {from}: frame at byte {offset} skipped: {e}");
                            if !(send(FromReader::Warning(w)) && send(FromReader::Lost)) {
                                return;
                            }
                        }
                    }
                }
                Raw::Note(note) => {
                    if !send(FromReader::Steps(std::mem::take(&mut batch)))
                        || !send(FromReader::Warning(note.line))
                        || (note.lost && !send(FromReader::Lost))
                    {
                        return;
                    }
                }
                Raw::Lost(_) => {
                    if !send(FromReader::Lost) {
                        return;
                    }
                }
                Raw::Idle | Raw::Rotate => flush = true,
            }
            // The clock is read at pauses only (at least once a second:
            // the source's tick), not per frame.
            if flush {
                if let Some(mark) = waits.tick(std::time::Instant::now(), cases.mark()) {
                    cases.expire_before(mark, &mut steps);
                }
            }
            hand_over(keep, &mut steps, &mut batch);
            if (batch.len() >= STEPS_PER_BATCH || (flush && !batch.is_empty()))
                && !send(FromReader::Steps(std::mem::take(&mut batch)))
            {
                return;
            }
        }
        // The socket file goes now, before the run can end.
        drop(frames);
        let batch = last_batch(cases, steps, batch);
        if !batch.is_empty() {
            send(FromReader::Steps(batch));
        }
    });
    rx
}

/// How long a live replay waits, by its own clock, for a query's recorded
/// response before it counts the query as having none: the case is shown
/// then, not when a file's end would have told (a live stream has none),
/// and the cases after it are not held up. Recorders log the response of
/// an authoritative or cached answer within milliseconds; a resolver's
/// recursion takes seconds at worst.
const RECORDED_WAIT: Duration = Duration::from_secs(5);

/// How far apart the marks of [`Waits`] are at the least.
const MARK_EVERY: Duration = Duration::from_millis(100);

/// When the queries a live replay stores arrived, coarsely: marks of
/// (time, [`Cases::mark`]) taken at the source's pauses and ticks (so at
/// most a second late), at least [`MARK_EVERY`] apart, the oldest
/// dropped once [`RECORDED_WAIT`] old (a few dozen at most).
#[derive(Default)]
struct Waits {
    marks: VecDeque<(std::time::Instant, u64)>,
}

impl Waits {
    /// Notes the pairing's `mark` at `now`; returns a mark before which
    /// every query has waited [`RECORDED_WAIT`] or more, if one has
    /// become due.
    fn tick(&mut self, now: std::time::Instant, mark: u64) -> Option<u64> {
        if self
            .marks
            .back()
            .is_none_or(|(t, _)| now.saturating_duration_since(*t) >= MARK_EVERY)
        {
            self.marks.push_back((now, mark));
        }
        let mut due = None;
        while let Some(&(t, m)) = self.marks.front() {
            if now.saturating_duration_since(t) < RECORDED_WAIT {
                break;
            }
            due = Some(m);
            self.marks.pop_front();
        }
        due
    }
}

/// Listens where `--replay unix:…`/`tcp:…` says and starts reading.
fn start_live(
    live: &crate::replay::Live,
    max_frame: usize,
    err: &mut dyn Write,
) -> Result<(mpsc::Receiver<FromReader>, Stopper), Error> {
    let listener = collect::bind(&live.endpoint, &live.socket).map_err(Error::Listen)?;
    let label = listener.label().to_owned();
    let (frames, stopper) = collect::listen(
        vec![listener],
        collect::CollectOptions {
            max_frame,
            max_connections: live.max_connections,
            queue_bytes: live.queue_bytes,
            until_closed: live.until_closed,
            render: false,
            ..collect::CollectOptions::default()
        },
    )?;
    let _ = writeln!(err, ";; listening on {label}");
    Ok((spawn_live_reader(frames), stopper))
}

/// What one lookup produced.
#[derive(Default)]
struct Collected {
    /// Keep the queries' records too (`--tap` writes them).
    queries: bool,
    records: Vec<Event>,
    diags: Vec<String>,
    /// Why the lookup failed outright (not a network failure).
    failed: Option<String>,
    /// The response the UDP window accepted, after `records`: its record
    /// is made only for a trace.
    answer: Option<Answer>,
}

impl Sink for Collected {
    fn record(&mut self, record: Event) -> Result<(), Error> {
        if self.records.len() < RECORDS_KEPT {
            self.records.push(record);
        }
        Ok(())
    }

    fn keeps_queries(&self) -> bool {
        self.queries
    }

    fn diag(&mut self, line: &str) {
        self.diags.push(line.to_owned());
    }
}

impl Collected {
    /// The first new response.
    fn response(&self) -> Option<&Bytes> {
        self.records
            .iter()
            .find_map(|r| r.response_message.as_ref())
            .or(self.answer.as_ref().map(|a| &a.response))
    }

    /// The window's response as a record, with the others.
    fn settle(&mut self, meta: &RecordMeta) {
        if let Some(a) = self.answer.take() {
            if self.records.len() < RECORDS_KEPT {
                self.records.push(a.record(meta));
            }
        }
    }
}

/// One query of the replay, from its start until it is shown.
struct Slot {
    number: u64,
    /// The event the query came in (a response frame for some recorders).
    query: Box<Event>,
    recorded: Option<Option<Box<Event>>>,
    new: Option<Collected>,
}

/// The lookup settings of one replayed query: the template's, with the
/// query's question and, unless one was chosen, its recorded transport.
/// (The PROXY header needs the target's address: [`replay_proxy`].)
///
/// `spec` is a copy of the template made for an earlier query, or a fresh
/// one: only the fields set here ever differ from the template's, so
/// setting them all again makes it the template's once more (a clone of
/// the template per query, and its box, were a few percent of the run's
/// thread in callgrind).
fn case_spec(
    spec: &mut QuerySpec,
    template: &QuerySpec,
    query: &Event,
    message: &[u8],
    forced: bool,
) {
    match first_question(message) {
        Some(q) => {
            spec.name = q.name;
            spec.qtype = q.qtype;
            spec.qclass = q.qclass;
        }
        None => {
            spec.name.clone_from(&template.name);
            spec.qtype = template.qtype;
            spec.qclass = template.qclass;
        }
    }
    let transport = match query.protocol {
        _ if forced => None,
        Some(Protocol::Tcp | Protocol::DnsCryptTcp) => Some(Transport::Tcp),
        Some(Protocol::Dot) => Some(Transport::Tls),
        Some(Protocol::Doh) => Some(Transport::Https {
            path: DEFAULT_DOH_PATH.to_owned(),
            get: false,
        }),
        Some(Protocol::Doq) => Some(Transport::Quic),
        _ => Some(Transport::Udp),
    };
    let transport = transport.as_ref().unwrap_or(&template.opts.transport);
    if spec.opts.transport != *transport {
        spec.opts.transport.clone_from(transport);
    }
    spec.opts.proxy = template.opts.proxy;
}

/// The PROXY v2 header of one replayed query sent to `server`: with
/// `+proxy` alone, the PROXY command from the client address and port
/// recorded with the query (`query_address`/`query_port`) to the target,
/// an IPv4 address IPv4-mapped when the other is IPv6; a frame without a
/// recorded address keeps the LOCAL command of `+proxy` alone (the server
/// uses the connection's own addresses). Addresses given on the command
/// line (`+proxy=SRC-DST`) go with every query as they are.
fn replay_proxy(given: Option<Proxy>, query: &Event, server: SocketAddr) -> Option<Proxy> {
    let mut proxy = given?;
    if proxy.addrs.is_none() {
        proxy.addrs = query.query_addr.map(|ip| {
            let client = SocketAddr::new(ip, query.query_port.unwrap_or(0));
            ProxyAddrs::mapped(client, server)
        });
    }
    Some(proxy)
}

/// With `-y`/`-k`, a new response whose TSIG did not verify: the lookup
/// said so in dig's words, which become a difference of its own.
fn unverified(diags: &[String]) -> Option<Diff> {
    if !diags
        .iter()
        .any(|l| l == crate::dns::tsig::NOT_VALIDATED_LINE)
    {
        return None;
    }
    let lines = diags
        .iter()
        .filter(|l| l.starts_with(";; Couldn't verify signature"))
        .map(|l| format!("+{l}"))
        .collect();
    Some(Diff {
        kind: Kind::Tsig,
        lines,
    })
}

/// When queries go out: `--speed` (recorded times) and `--rate`.
struct Pacing {
    speed: Option<f64>,
    rate: Option<Duration>,
    /// The first paced query's recorded time (ns) and when it went out.
    base: Option<(u128, Instant)>,
    next_free: Instant,
}

impl Pacing {
    fn new(opts: &ReplayOpts) -> Pacing {
        Pacing {
            speed: opts.speed,
            rate: opts.rate.map(|qps| Duration::from_secs_f64(1.0 / qps)),
            base: None,
            next_free: Instant::now(),
        }
    }

    /// When the query recorded at `query` should go out: None for at once
    /// (no pacing: the clock is not read).
    fn when(&mut self, query: &Event) -> Option<Instant> {
        if self.speed.is_none() && self.rate.is_none() {
            return None;
        }
        let now = Instant::now();
        let mut at = now;
        if let (Some(speed), Some(t)) = (self.speed, query.query_time.or(query.response_time)) {
            let ns = u128::from(t.sec) * 1_000_000_000 + u128::from(t.nsec);
            match self.base {
                None => self.base = Some((ns, now)),
                Some((t0, i0)) => {
                    let delay = ns.saturating_sub(t0) as f64 / speed;
                    // A trace spanning more than a year is not waited for.
                    let delay = Duration::from_nanos(delay.min(3.15e16) as u64);
                    at = at.max(i0 + delay);
                }
            }
        }
        if let Some(gap) = self.rate {
            at = at.max(self.next_free);
            self.next_free = at + gap;
        }
        Some(at)
    }
}

/// The output side: cases as text or JSON, the summary, the traces.
struct Shown<'a> {
    out: &'a mut dyn Write,
    err: &'a mut dyn Write,
    json: Option<bool>,
    cases_shown: u64,
    summary: Summary,
    /// Cases that got a new response.
    answered: u64,
    tap: Option<Trace<'static>>,
    mismatches: Option<Trace<'static>>,
    /// How the window's responses are recorded.
    meta: &'a RecordMeta,
}

impl Shown<'_> {
    fn start(&mut self) -> Result<(), Error> {
        if self.json == Some(false) {
            self.out.write_all(b"{\"cases\":[")?;
        }
        Ok(())
    }

    fn case(&mut self, slot: Slot, opts: &ReplayOpts) -> Result<(), Error> {
        let Slot {
            number,
            query,
            recorded,
            new,
        } = slot;
        let recorded = recorded.flatten();
        let new = new.unwrap_or_default();
        let old = recorded.as_ref().and_then(|r| r.response_message.as_ref());
        let (class, diffs, note) = match (old, new.response()) {
            (None, _) => (Class::NoRecorded, Vec::new(), None),
            (Some(_), None) => {
                let why = new
                    .failed
                    .clone()
                    .or_else(|| {
                        new.diags
                            .iter()
                            .rev()
                            .find(|l| l.contains("error") || l.contains("timed out"))
                            .map(|l| l.trim_start_matches(";; ").to_owned())
                    })
                    .unwrap_or_else(|| "no response".to_owned());
                (Class::NoNew, Vec::new(), Some(why))
            }
            (Some(a), Some(b)) => {
                let mut d = compare(a, b, opts.compare);
                if let Some(tsig) = unverified(&new.diags) {
                    d.push(tsig);
                }
                let class = if d.is_empty() {
                    Class::Same
                } else {
                    Class::Differs
                };
                (class, d, None)
            }
        };
        if new.response().is_some() {
            self.answered += 1;
        }
        // A case that is the same is only counted: its question is read
        // and its name written out for the others alone (text, JSON, the
        // summary's names and types).
        let message = query.query_message.as_deref().unwrap_or_default();
        let question = match class {
            Class::Same => None,
            _ => Some(first_question(message)),
        };
        let (qname, qtype) = match question {
            None => (String::new(), 0),
            Some(Some(q)) => {
                let mut s = String::new();
                crate::dns::name::write_name(&mut s, &q.name);
                (s, q.qtype)
            }
            Some(None) => ("<no question>".to_owned(), 0),
        };
        let case = Case {
            number,
            offset: query.offset,
            connection: query
                .connection
                .as_ref()
                .map(|c| String::from_utf8_lossy(c).into_owned()),
            qname,
            qtype,
            class,
            diffs,
            note,
        };
        self.summary.push(&case);
        for line in &new.diags {
            let _ = writeln!(self.err, "{line}");
        }
        match self.json {
            None => self.out.write_all(case.text().as_bytes())?,
            Some(lines) if class != Class::Same => {
                let text = case.json().to_string();
                if lines {
                    writeln!(self.out, "{text}")?;
                } else {
                    if self.cases_shown > 0 {
                        self.out.write_all(b",")?;
                    }
                    self.out.write_all(text.as_bytes())?;
                }
                self.cases_shown += 1;
            }
            Some(_) => {}
        }
        let mut new = new;
        if self.tap.is_some() || (self.mismatches.is_some() && class != Class::Same) {
            new.settle(self.meta);
        }
        if let Some(trace) = self.tap.as_mut() {
            for r in &new.records {
                trace.record(r)?;
            }
        }
        if let (Some(trace), Class::Differs | Class::NoNew) = (self.mismatches.as_mut(), class) {
            trace.record(&query)?;
            if let Some(r) = recorded
                .as_ref()
                .filter(|_| query.response_message.is_none())
            {
                trace.record(r)?;
            }
            for r in new.records.iter().filter(|r| r.response_message.is_some()) {
                trace.record(r)?;
            }
        }
        Ok(())
    }

    /// The summary, and the traces closed.
    fn finish(&mut self, top: usize) -> Result<(), Error> {
        match self.json {
            None => self.out.write_all(self.summary.text(top).as_bytes())?,
            Some(true) => writeln!(self.out, "{}", self.summary.json(top))?,
            Some(false) => writeln!(self.out, "],\"summary\":{}}}", self.summary.json(top))?,
        }
        self.out.flush()?;
        if let Some(mut t) = self.tap.take() {
            t.finish()?;
        }
        if let Some(mut t) = self.mismatches.take() {
            t.finish()?;
        }
        Ok(())
    }
}

/// Runs the replay on its own runtime; returns the exit code.
pub fn run(replay: Replay<'_>, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))?;
    let local = tokio::task::LocalSet::new();
    runtime.block_on(local.run_until(drive(replay, out, err)))
}

/// One lookup of the replay; `queries`: its sink keeps the queries'
/// records too. The spec comes boxed, and goes back for the next lookup
/// ([`case_spec`]): an async fn's future keeps its arguments apart from
/// its locals, and two copies of a 624-byte spec were a third of the
/// 3.7 KiB future that each query's task allocates and moves (memcpy and
/// malloc in callgrind).
#[allow(clippy::too_many_arguments)]
async fn one(
    number: u64,
    spec: Box<QuerySpec>,
    message: Vec<u8>,
    target: Result<query::Target, String>,
    meta: &RecordMeta,
    mut session: Session,
    keep: bool,
    mut sink: Collected,
) -> (u64, Collected, Option<Session>, Box<QuerySpec>) {
    match target {
        Ok(target) => {
            let got =
                query::lookup_message(&spec, message, &target, meta, &mut session, &mut sink).await;
            match got {
                Ok(Outcome::Answered) => {}
                Ok(Outcome::NoReply) => {}
                Err(e) => sink.failed = Some(e.to_string()),
            }
        }
        Err(e) => sink.failed = Some(e),
    }
    if keep {
        (number, sink, Some(session), spec)
    } else {
        session.close().await;
        (number, sink, None, spec)
    }
}

async fn drive(replay: Replay<'_>, out: &mut dyn Write, err: &mut dyn Write) -> Result<u8, Error> {
    let opts = replay.opts;
    let meta = RecordMeta {
        kind: replay.tap.map(|t| t.kind).unwrap_or_default(),
        identity: replay
            .tap
            .and_then(|t| t.identity.clone())
            .map(|i| Bytes::from(i.into_bytes())),
        version: Bytes::from(super::version_string()),
    };
    let tap = match replay.tap {
        Some(t) => Some(Trace::create(&t.path, err)?),
        None => None,
    };
    let mismatches = match &opts.mismatches {
        Some(p) => Some(Trace::create(p, err)?),
        None => None,
    };
    let mut shown = Shown {
        out,
        err,
        json: opts.json,
        cases_shown: 0,
        summary: Summary::default(),
        answered: 0,
        tap,
        mismatches,
        meta: &meta,
    };
    let mut signals = Signals::catch()?;
    let (mut rx, mut stopper) = match &opts.live {
        Some(live) => {
            let (rx, stopper) = start_live(live, opts.max_frame, shown.err)?;
            (rx, Some(stopper))
        }
        None => (spawn_reader(&opts.file, opts.max_frame), None),
    };
    shown.start()?;
    let parallel = usize::from(replay.template.opts.parallel.max(1));
    let keep = parallel == 1;
    let pool = std::rc::Rc::new(query::udp::MuxPool::default());
    let mut spare: Option<Session> = None;
    // The specs of lookups done, for the next ones (at most +parallel).
    let mut specs: Vec<Box<QuerySpec>> = Vec::new();
    let mut targets = Targets::new(replay.server, replay.family);
    let mut pacing = Pacing::new(opts);
    let mut slots: VecDeque<Slot> = VecDeque::new();
    let mut running = FuturesUnordered::new();
    // UDP queries go through the window (no task per query) when nothing
    // asks for the driver's per-lookup handling ([`window_fits`]).
    let mut window: Option<UdpWindow> = None;
    let mut window_fits = window_fits(replay.template);
    let mut held: Option<Ready> = None;
    let mut input_done = false;
    // The batch being taken, step by step (a batch is taken only once
    // the last is done, so it is iterated where it came, not moved).
    let mut pending = Vec::new().into_iter();
    let mut lost = false;
    let mut stopping = false;
    let signal = signals.recv();
    tokio::pin!(signal);
    let mut turns = 0u32;
    let stopped = loop {
        let mut start = None;
        // Steps already handed over go first, without waiting.
        let in_window = |w: &Option<UdpWindow>| w.as_ref().map_or(0, UdpWindow::live);
        while held.is_none() && start.is_none() && running.len() + in_window(&window) < parallel {
            let Some(step) = pending.next() else {
                break;
            };
            take_step(
                step,
                &mut slots,
                &mut shown,
                &mut pacing,
                &mut held,
                &mut start,
            );
        }
        // Show the cases whose turn has come (a new response just in, or
        // a recorded one just taken: either may be the last one missing).
        while slots
            .front()
            .is_some_and(|s| s.recorded.is_some() && s.new.is_some())
        {
            if let Some(slot) = slots.pop_front() {
                shown.case(slot, opts)?;
            }
        }
        if input_done
            && pending.len() == 0
            && running.is_empty()
            && in_window(&window) == 0
            && held.is_none()
            && start.is_none()
        {
            break None;
        }
        let can_take = start.is_none()
            && !input_done
            && pending.len() == 0
            && held.is_none()
            && running.len() + in_window(&window) < parallel;
        let wake = held.as_ref().map_or_else(Instant::now, |h| h.0);
        // The signals are looked at every SIGNAL_TURNS turns and whenever
        // nothing else is ready (a look at them cost a tenth of the
        // thread's instructions in callgrind when it came first each turn).
        turns = turns.wrapping_add(1);
        let mut caught = None;
        if start.is_none() && !stopping && turns.is_multiple_of(SIGNAL_TURNS) {
            let now = std::future::poll_fn(|cx| {
                Poll::Ready(std::future::Future::poll(signal.as_mut(), cx))
            })
            .await;
            if let Poll::Ready(code) = now {
                caught = Some(code);
            }
        }
        // A query ready to go starts before anything else is waited for.
        if start.is_none() && caught.is_none() {
            let window_busy = in_window(&window) > 0;
            tokio::select! {
                biased;
                done = window_done(&mut window), if window_busy => {
                    let number = done.tag;
                    let Some(slot) = slot_of(&mut slots, number) else {
                        continue;
                    };
                    let mut sink = Collected {
                        queries: shown.tap.is_some(),
                        records: done.records,
                        diags: done.diags,
                        failed: None,
                        answer: done.answer,
                    };
                    if done.how != How::Truncated {
                        slot.new = Some(sink);
                        continue;
                    }
                    let query = sink.answer.as_ref().map(|a| a.query.clone()).unwrap_or_default();
                    sink.settle(&meta);
                    // A truncated answer: asked again over TCP by the
                    // driver, as a lookup's would be.
                    let mut spec = specs
                        .pop()
                        .unwrap_or_else(|| Box::new(replay.template.clone()));
                    case_spec(&mut spec, replay.template, &slot.query, &query, false);
                    spec.opts.transport = Transport::Tcp;
                    let target = targets.get(&spec).await.map_err(|e| e.to_string());
                    let session = spare.take().unwrap_or_else(|| Session::shared(pool.clone()));
                    running.push(one(
                        number, spec, query.to_vec(), target, &meta, session, keep, sink,
                    ));
                }
                Some((number, got, session, spec)) = running.next(), if !running.is_empty() => {
                    spare = spare.or(session);
                    specs.push(spec);
                    if let Some(slot) = slot_of(&mut slots, number) {
                        slot.new = Some(got);
                    }
                }
                () = tokio::time::sleep_until(wake), if held.is_some() => start = held.take(),
                msg = rx.recv(), if can_take => match msg {
                    None => input_done = true,
                    Some(FromReader::Warning(w)) => { let _ = writeln!(shown.err, "{w}"); }
                    Some(FromReader::Lost) => lost = true,
                    Some(FromReader::Steps(steps)) => pending = steps.into_iter(),
                },
                code = &mut signal, if !stopping => caught = Some(code),
            }
        }
        if let Some(code) = caught {
            match stopper.as_mut() {
                // A live replay ends on a signal: the collector stops,
                // what it read is replayed, the summary follows.
                Some(s) => {
                    s.stop();
                    stopping = true;
                }
                None => break Some(code),
            }
        }
        if let Some((_, number, query, recorded)) = start {
            let message = query.query_message.clone().unwrap_or_default();
            let cookie: [u8; 8] = rand::random();
            let message = crate::replay::rewrite::rewrite(&message, opts.edns, cookie);
            if window_fits && by_udp(&query, opts.transport_forced, replay.template) {
                if window.is_none() {
                    let mut udp = replay.template.clone();
                    udp.opts.transport = Transport::Udp;
                    match targets.get(&udp).await {
                        Ok(t) => {
                            let o = &replay.template.opts;
                            window = Some(UdpWindow::new(Settings {
                                server: t.addr,
                                meta: meta.clone(),
                                timeout: Duration::from_secs(u64::from(o.timeout.max(1))),
                                tries: o.tries.max(1),
                                ignore_tc: o.ignore_tc,
                                keep_queries: shown.tap.is_some(),
                            }));
                        }
                        // The driver says why, query by query.
                        Err(_) => window_fits = false,
                    }
                }
                if let Some(w) = window.as_mut() {
                    slots.push_back(Slot {
                        number,
                        query,
                        recorded,
                        new: None,
                    });
                    w.start(number, message);
                    continue;
                }
            }
            let mut spec = specs
                .pop()
                .unwrap_or_else(|| Box::new(replay.template.clone()));
            case_spec(
                &mut spec,
                replay.template,
                &query,
                &message,
                opts.transport_forced,
            );
            let target = targets.get(&spec).await.map_err(|e| e.to_string());
            if let Ok(t) = &target {
                spec.opts.proxy = replay_proxy(spec.opts.proxy, &query, t.addr);
            }
            let session = spare.take().unwrap_or_else(|| match keep {
                true => Session::default(),
                false => Session::shared(pool.clone()),
            });
            slots.push_back(Slot {
                number,
                query,
                recorded,
                new: None,
            });
            let sink = Collected {
                queries: shown.tap.is_some(),
                ..Collected::default()
            };
            running.push(one(
                number, spec, message, target, &meta, session, keep, sink,
            ));
        }
    };
    drop(running);
    drop(window);
    if let Some(s) = spare {
        s.close().await;
    }
    if let Some(code) = stopped {
        // The exchanges that took place are shown, counted and recorded:
        // the recorded responses already handed over go to their cases,
        // and a case whose recorded response the trace had not told by
        // now has none as far as this run goes. Lookups still in flight
        // were cut: they are not counted.
        for step in pending.by_ref() {
            if let Step::Fate { number, response } = step {
                if let Some(slot) = slot_of(&mut slots, number) {
                    slot.recorded = Some(response);
                }
            }
        }
        for mut slot in slots.drain(..) {
            if slot.new.is_some() {
                slot.recorded.get_or_insert(None);
                shown.case(slot, opts)?;
            }
        }
        let _ = writeln!(shown.err, ";; interrupted");
        shown.finish(opts.top)?;
        return Ok(code);
    }
    shown.finish(opts.top)?;
    let s = &shown.summary;
    Ok(if lost {
        exits::DATA_LOST
    } else if s.total() > 0 && shown.answered == 0 {
        exits::NO_REPLY
    } else if s.count(Class::Differs) + s.count(Class::NoNew) > 0 {
        exits::REPLAY_DIFFERS
    } else {
        exits::OK
    })
}

/// Whether the replay's UDP queries can go through the window
/// ([`UdpWindow`]): several at once, and nothing that needs the lookup
/// driver's handling of each (TSIG signs and verifies each exchange,
/// `+proxy` heads each datagram with its client's address, `+qid` gives
/// every query the same ID, which a shared socket cannot carry).
fn window_fits(template: &QuerySpec) -> bool {
    let o = &template.opts;
    o.parallel > 1 && o.tsig.is_none() && o.proxy.is_none() && o.qid.is_none()
}

/// Whether a replayed query goes over UDP ([`case_spec`]'s choice).
fn by_udp(query: &Event, forced: bool, template: &QuerySpec) -> bool {
    if forced {
        return template.opts.transport == Transport::Udp;
    }
    !matches!(
        query.protocol,
        Some(Protocol::Tcp | Protocol::DnsCryptTcp | Protocol::Dot | Protocol::Doh | Protocol::Doq)
    )
}

/// The next query the window is done with (never, without a window).
async fn window_done(window: &mut Option<UdpWindow>) -> Done {
    match window {
        Some(w) => w.next_done().await,
        None => std::future::pending().await,
    }
}

/// A query waiting for its send time, or ready to go.
type Ready = (Instant, u64, Box<Event>, Option<Option<Box<Event>>>);

/// Takes one step of the trace: a query is held until its time or made
/// ready to start, a recorded response goes to its case.
fn take_step(
    step: Step,
    slots: &mut VecDeque<Slot>,
    shown: &mut Shown<'_>,
    pacing: &mut Pacing,
    held: &mut Option<Ready>,
    start: &mut Option<Ready>,
) {
    match step {
        Step::Skipped => shown.summary.skipped += 1,
        Step::Fate { number, response } => {
            if let Some(slot) = slot_of(slots, number) {
                slot.recorded = Some(response);
            }
        }
        Step::Start {
            number,
            query,
            recorded,
        } => {
            match pacing.when(&query) {
                Some(at) if at > Instant::now() => *held = Some((at, number, query, recorded)),
                // Its time is not looked at again: any will do.
                _ => *start = Some((pacing.next_free, number, query, recorded)),
            }
        }
    }
}

/// The waiting case numbered `number`.
fn slot_of(slots: &mut VecDeque<Slot>, number: u64) -> Option<&mut Slot> {
    let first = slots.front()?.number;
    let i = usize::try_from(number.checked_sub(first)?).ok()?;
    slots.get_mut(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::event::MessageType;

    #[test]
    fn waits_give_up_on_what_came_before_a_mark_that_old() {
        let t0 = std::time::Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut w = Waits::default();
        assert_eq!(w.tick(at(0), 3), None);
        // Marks closer than MARK_EVERY are not kept.
        assert_eq!(w.tick(at(50), 4), None);
        assert_eq!(w.tick(at(200), 7), None);
        assert_eq!(w.tick(at(4_999), 9), None);
        assert_eq!(w.tick(at(5_000), 9), Some(3));
        // The newest mark that is due wins; the due ones are dropped.
        assert_eq!(w.tick(at(6_000), 12), Some(7));
        assert_eq!(w.tick(at(6_050), 12), None);
        assert!(w.marks.len() <= 3, "{:?}", w.marks);
    }

    fn query(addr: Option<&str>, port: Option<u16>) -> Event {
        Event {
            offset: None,
            identity: None,
            version: None,
            mtype: MessageType(5), // CLIENT_QUERY
            family: None,
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: addr.map(|a| a.parse().unwrap()),
            query_port: port,
            response_addr: None,
            response_port: None,
            query_time: None,
            query_zone: None,
            response_time: None,
            query_message: None,
            response_message: None,
            connection: None,
        }
    }

    /// Whether `b` points into `buf`.
    fn inside(b: &Option<Bytes>, buf: &Bytes) -> bool {
        let range = buf.as_ptr_range();
        b.as_ref().is_some_and(|b| range.contains(&b.as_ptr()))
    }

    #[test]
    fn small_frames_are_kept_whole_and_big_ones_field_by_field() {
        assert_eq!(Keep::of(0), Keep::Frame);
        assert_eq!(Keep::of(OWN_FRAME_MAX), Keep::Frame);
        assert_eq!(Keep::of(OWN_FRAME_MAX + 1), Keep::Fields);
        // A step whose event slices a shared buffer.
        let buf = Bytes::from(vec![7u8; 4096]);
        let step = || {
            let mut q = query(Some("192.0.2.7"), Some(1));
            q.query_message = Some(buf.slice(0..40));
            q.identity = Some(buf.slice(100..110));
            Step::Start {
                number: 1,
                query: Box::new(q),
                recorded: None,
            }
        };
        let mut batch = Vec::new();
        // Kept whole: handed over as it is (its frame is its own already).
        hand_over(Keep::Frame, &mut vec![step()], &mut batch);
        // Kept field by field: its bytes are copied off the buffer.
        hand_over(Keep::Fields, &mut vec![step()], &mut batch);
        let events: Vec<&Event> = batch
            .iter()
            .map(|s| match s {
                Step::Start { query, .. } => &**query,
                _ => unreachable!(),
            })
            .collect();
        assert!(inside(&events[0].query_message, &buf));
        assert!(!inside(&events[1].query_message, &buf));
        assert!(!inside(&events[1].identity, &buf));
        assert_eq!(events[1].query_message.as_deref(), Some(&[7u8; 40][..]));
    }

    #[test]
    fn a_spec_used_before_is_the_template_but_for_the_query() {
        use crate::dns::name::Name;
        let name = |n: &str| Name::from_text(n).unwrap();
        let message = |n: &str, qtype: u16| crate::testutil::query_message(1, n, qtype);
        let mut template = QuerySpec {
            name: name("template.example"),
            qtype: 6,
            qclass: 3,
            ixfr_serial: None,
            opts: crate::query::spec::QueryOpts::default(),
        };
        template.opts.proxy = Some(Proxy::default());
        let mut tcp = query(Some("192.0.2.7"), Some(1));
        tcp.protocol = Some(Protocol::Tcp);
        let mut spec = template.clone();
        // A TCP query with its question, its PROXY header set afterwards.
        case_spec(
            &mut spec,
            &template,
            &tcp,
            &message("www.example", 28),
            false,
        );
        assert_eq!((spec.name.clone(), spec.qtype), (name("www.example"), 28));
        assert_eq!(spec.opts.transport, Transport::Tcp);
        spec.opts.proxy = replay_proxy(spec.opts.proxy, &tcp, "127.0.0.1:53".parse().unwrap());
        // The same spec for a query with no question over DoH: the
        // template's question, its PROXY option, the recorded transport.
        let mut doh = query(None, None);
        doh.protocol = Some(Protocol::Doh);
        case_spec(&mut spec, &template, &doh, b"", false);
        let mut want = template.clone();
        want.opts.transport = Transport::Https {
            path: DEFAULT_DOH_PATH.to_owned(),
            get: false,
        };
        assert_eq!(spec, want);
        // A chosen transport stays the template's.
        case_spec(&mut spec, &template, &tcp, b"", true);
        assert_eq!(spec, template);
    }

    #[test]
    fn a_tsig_that_did_not_verify_is_a_difference() {
        let said = |lines: &[&str]| lines.iter().map(|l| l.to_string()).collect::<Vec<_>>();
        assert_eq!(unverified(&said(&[";; some other line"])), None);
        let d = unverified(&said(&[
            ";; Couldn't verify signature: tsig indicates error",
            crate::dns::tsig::NOT_VALIDATED_LINE,
        ]))
        .unwrap();
        assert_eq!(d.kind, Kind::Tsig);
        assert_eq!(
            d.lines,
            ["+;; Couldn't verify signature: tsig indicates error"]
        );
    }

    #[test]
    fn the_proxy_header_carries_the_recorded_client() {
        let server: SocketAddr = "127.0.0.1:5300".parse().unwrap();
        let plus = Some(Proxy::default());
        let got = replay_proxy(plus, &query(Some("192.0.2.7"), Some(4242)), server).unwrap();
        assert_eq!(
            got.addrs,
            Some(ProxyAddrs::new("192.0.2.7:4242".parse().unwrap(), server).unwrap())
        );
        // No recorded port: 0. No recorded address: LOCAL, as +proxy alone.
        let got = replay_proxy(plus, &query(Some("192.0.2.7"), None), server).unwrap();
        assert_eq!(got.addrs.unwrap().source(), "192.0.2.7:0".parse().unwrap());
        assert_eq!(replay_proxy(plus, &query(None, Some(1)), server), plus);
        // Mixed families: one IPv6 header, no error.
        let v6: SocketAddr = "[::1]:53".parse().unwrap();
        let got = replay_proxy(plus, &query(Some("192.0.2.7"), Some(1)), v6).unwrap();
        assert_eq!(
            got.addrs.unwrap().source(),
            "[::ffff:192.0.2.7]:1".parse().unwrap()
        );
        // +proxy-plain is kept; addresses given on the command line win.
        let plain = Some(Proxy {
            addrs: None,
            plain: true,
        });
        assert!(
            replay_proxy(plain, &query(Some("192.0.2.7"), Some(1)), server)
                .unwrap()
                .plain
        );
        let given = Some(Proxy {
            addrs: Some(ProxyAddrs::new("198.51.100.1:1".parse().unwrap(), server).unwrap()),
            plain: false,
        });
        assert_eq!(
            replay_proxy(given, &query(Some("192.0.2.7"), Some(1)), server),
            given
        );
        assert_eq!(
            replay_proxy(None, &query(Some("192.0.2.7"), Some(1)), server),
            None
        );
    }
}
