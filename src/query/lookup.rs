//! The lookup driver, the only one for every transport: picks the message
//! ID, builds the query, sends it and takes the answer through a
//! [`DnsTransport`], checks that the answer matches the query, records
//! every message sent or accepted as it happens, falls back from a
//! truncated UDP answer to TCP, follows a zone transfer to its end, and
//! tries again as `+tries` allows, each try by its own deadline. Failures
//! are said as dig says them (`;; communications error to ...`).

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::time::Instant;

use super::conn::{connect, Conn};
use super::error::{Mismatch, QueryError};
use super::proxy::{Carrier, Prefixed, Proxy};
use super::spec::{QuerySpec, TapType, TlsOpts, Transport};
use super::udp::{MuxPool, UdpVia};
use super::DnsTransport;
use crate::dns::build::{encode_query_with, EdnsParams, QueryParams};
use crate::dns::wire::Message;
use crate::tap::event::{Event, MessageType, Protocol, Timestamp};
use crate::tap::pb;

/// Receives what happens during a lookup.
pub trait Sink {
    /// A message was sent or accepted: here is its dnstap record (as an
    /// [`Event`]: the sink converts it to protobuf only if it writes it).
    fn record(&mut self, record: Event) -> Result<(), crate::error::Error>;
    /// Whether the sink keeps the records of queries sent. One that does
    /// not (a replay without `--tap` needs only the responses) is handed
    /// none, and the lookup does not build them.
    fn keeps_queries(&self) -> bool {
        true
    }
    /// A live diagnostic line (timeouts, skipped replies), dig-style.
    fn diag(&mut self, line: &str);
}

/// How records are labelled.
#[derive(Clone, Debug)]
pub struct RecordMeta {
    /// STUB_* or TOOL_*.
    pub kind: TapType,
    /// Dnstap.identity.
    pub identity: Option<Bytes>,
    /// Dnstap.version.
    pub version: Bytes,
}

/// How a lookup ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response was accepted.
    Answered,
    /// Every try failed.
    NoReply,
}

/// The wall clock as a dnstap timestamp.
pub fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    Timestamp {
        sec: d.as_secs(),
        nsec: d.subsec_nanos(),
    }
}

/// Checks that `resp` answers `query`: QR set, same ID, same question
/// (names compared case-insensitively, RFC 5452 §9.1). A response with an
/// empty question section is accepted, as dig does (FORMERR, NOTIMP).
pub fn check_answer(query: &[u8], resp: &[u8]) -> Result<(), Mismatch> {
    // Only the headers and the first questions matter: read just those.
    use crate::dns::wire::{first_question, Header};
    let q = Header::parse(query).map_err(|e| Mismatch::BadQuery(e.to_string()))?;
    let r = Header::parse(resp).map_err(|_| Mismatch::NotDns { len: resp.len() })?;
    if !r.qr() {
        return Err(Mismatch::NotAResponse { id: r.id });
    }
    if r.id != q.id {
        return Err(Mismatch::Id {
            expected: q.id,
            got: r.id,
        });
    }
    if r.qdcount == 0 {
        return Ok(());
    }
    if r.qdcount == 1 && q.qdcount > 0 {
        if let Some(same) = same_plain_question(query, resp) {
            return if same {
                Ok(())
            } else {
                Err(Mismatch::Question { id: r.id })
            };
        }
    }
    match (first_question(query), first_question(resp)) {
        (Some(a), Some(b))
            if r.qdcount == 1
                && a.qtype == b.qtype
                && a.qclass == b.qclass
                && a.name.eq_ignore_case(&b.name) =>
        {
            Ok(())
        }
        _ => Err(Mismatch::Question { id: r.id }),
    }
}

/// Whether the first questions of `query` and `resp` are the same (name
/// compared case-insensitively, type and class), read in place when both
/// names are plain labels (no compression pointer): None otherwise, for
/// [`first_question`] to tell. Reading both names into owned ones was most
/// of a replay's answer check (callgrind).
fn same_plain_question(query: &[u8], resp: &[u8]) -> Option<bool> {
    use crate::dns::wire::HEADER_LEN;
    let mut pos = HEADER_LEN;
    loop {
        let len = usize::from(*query.get(pos)?);
        if len & 0xc0 != 0 {
            return None;
        }
        let other = usize::from(*resp.get(pos)?);
        if other & 0xc0 != 0 {
            return None;
        }
        if other != len {
            return Some(false);
        }
        let end = pos + 1 + len;
        let (a, b) = (query.get(pos + 1..end)?, resp.get(pos + 1..end)?);
        if !a.eq_ignore_ascii_case(b) {
            return Some(false);
        }
        pos = end;
        // Longer than a name may be (RFC 1035 §3.1): the parsed reading
        // refuses it.
        if pos - HEADER_LEN > 255 {
            return None;
        }
        if len == 0 {
            break;
        }
    }
    let (a, b) = (query.get(pos..pos + 4)?, resp.get(pos..pos + 4)?);
    Some(a == b)
}

fn family_of(addr: &SocketAddr) -> i32 {
    match addr {
        SocketAddr::V4(_) => pb::SocketFamily::Inet as i32,
        SocketAddr::V6(_) => pb::SocketFamily::Inet6 as i32,
    }
}

/// What every record of one exchange shares.
struct Exchange<'a> {
    meta: &'a RecordMeta,
    protocol: Protocol,
    http: Option<i32>,
    local: SocketAddr,
    peer: SocketAddr,
    query: Bytes,
    query_time: Timestamp,
}

impl Exchange<'_> {
    fn base(&self, mtype: MessageType) -> Event {
        Event {
            offset: None,
            identity: self.meta.identity.clone(),
            version: Some(self.meta.version.clone()),
            mtype,
            family: Some(family_of(&self.peer)),
            protocol: Some(self.protocol),
            http_protocol: self.http,
            query_addr: Some(self.local.ip()),
            query_port: Some(self.local.port()),
            response_addr: Some(self.peer.ip()),
            response_port: Some(self.peer.port()),
            query_zone: None,
            query_time: Some(self.query_time),
            response_time: None,
            query_message: Some(self.query.clone()),
            response_message: None,
            connection: None,
        }
    }

    fn query_record(&self) -> Event {
        let mtype = match self.meta.kind {
            TapType::Stub => MessageType::STUB_QUERY,
            TapType::Tool => MessageType::TOOL_QUERY,
        };
        self.base(mtype)
    }

    fn response_record(&self, response: Vec<u8>, at: Timestamp) -> Event {
        let mtype = match self.meta.kind {
            TapType::Stub => MessageType::STUB_RESPONSE,
            TapType::Tool => MessageType::TOOL_RESPONSE,
        };
        let mut e = self.base(mtype);
        e.response_time = Some(at);
        e.response_message = Some(Bytes::from(response));
        e
    }
}

/// The dnstap record of a UDP query sent from `local` to `peer` at
/// `query_time` or, with `response` (its bytes and when it came), of the
/// response accepted: the records the driver makes, for the UDP window
/// ([`super::window`]).
pub(crate) fn udp_record(
    meta: &RecordMeta,
    local: SocketAddr,
    peer: SocketAddr,
    query: Bytes,
    query_time: Timestamp,
    response: Option<(Vec<u8>, Timestamp)>,
) -> Event {
    let ex = Exchange {
        meta,
        protocol: Protocol::Udp,
        http: None,
        local,
        peer,
        query,
        query_time,
    };
    match response {
        None => ex.query_record(),
        Some((r, at)) => ex.response_record(r, at),
    }
}

fn build_query(spec: &QuerySpec, id: u16) -> Vec<u8> {
    let o = &spec.opts;
    let cookie: Option<Vec<u8>> = match &o.cookie {
        None => None,
        Some(Some(given)) => Some(given.clone()),
        Some(None) => Some(rand::random::<[u8; 8]>().to_vec()),
    };
    encode_query_with(
        &QueryParams {
            id,
            name: &spec.name,
            qtype: spec.qtype,
            qclass: spec.qclass,
            rd: o.rd,
            ad: o.ad,
            cd: o.cd,
            aa: o.aa,
            ixfr_serial: spec.ixfr_serial,
            zflag: o.zflag,
            edns: o.edns.map(|version| EdnsParams {
                version,
                udp_size: o.bufsize,
                dnssec_ok: o.dnssec,
                nsid: o.nsid,
                cookie: cookie.as_deref(),
                flags: o.ednsflags,
                subnet: o.subnet,
                expire: o.expire,
                keepalive: o.keepalive,
                options: &o.ednsopts,
                padding: o.padding,
            }),
        },
        &o.header,
    )
}

/// Where a lookup goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Address and port.
    pub addr: SocketAddr,
    /// The server's host name when it was given by name (TLS verifies it).
    pub host: Option<String>,
}

/// What lookups keep between them: the `+keepopen` connection, how fast
/// the server answered the last UDP exchange, or the run's shared UDP
/// sockets (`+parallel`).
///
/// Sequential lookups never keep a UDP socket: each try goes out from a
/// fresh one, on a port of the kernel's choosing, as dig's do (source-port
/// randomisation, RFC 5452 §9.2, is half of what a spoofer has to guess).
#[derive(Default)]
pub struct Session {
    /// Boxed: a connection's state runs to kilobytes, and a session rides
    /// in every `+parallel` lookup's future, which is moved as a whole
    /// when the lookup starts (the copy showed in `perf` as `memmove`).
    kept: Option<Box<Kept>>,
    /// The server of the last clean UDP exchange and how long its answer
    /// took (a fast server's next answer is polled for; see [`super::udp`]).
    udp_rtt: Option<(SocketAddr, Duration)>,
    /// Shared UDP sockets (lookups in flight together).
    shared: Option<std::rc::Rc<MuxPool>>,
}

/// A `+keepopen` connection and what it was opened for.
type Kept = (Target, Transport, TlsOpts, Option<Proxy>, Conn);

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("kept", &self.kept.as_ref().map(|k| (&k.0, &k.1)))
            .field("udp_rtt", &self.udp_rtt)
            .finish()
    }
}

impl Session {
    /// A session whose UDP exchanges go through the run's shared sockets
    /// (inside a [`tokio::task::LocalSet`]).
    pub fn shared(pool: std::rc::Rc<MuxPool>) -> Session {
        Session {
            shared: Some(pool),
            ..Session::default()
        }
    }

    /// Closes whatever is still open.
    pub async fn close(mut self) {
        if let Some(kept) = self.kept.take() {
            // Boxed: closing a QUIC or TLS connection is a large future,
            // and this one lives in every lookup's even when nothing is
            // kept (the parallel case).
            Box::pin(kept.4.close()).await;
        }
    }

    /// The kept connection, if it is to the same server, over the same
    /// transport and TLS settings, and opened with the same PROXY header.
    fn take(&mut self, target: &Target, spec: &QuerySpec) -> Option<Conn> {
        let kept = *self.kept.take()?;
        match kept {
            (t, tr, tls, proxy, conn)
                if &t == target
                    && tr == spec.opts.transport
                    && tls == spec.opts.tls
                    && proxy == spec.opts.proxy =>
            {
                Some(conn)
            }
            (_, _, _, _, conn) => {
                drop(conn);
                None
            }
        }
    }

    /// A fresh random message ID, one not in use on the shared socket to
    /// `server` if there is one.
    fn pick_id(&self, server: SocketAddr) -> u16 {
        let mut id: u16 = rand::random();
        // Busy sockets have plenty of free IDs left; should there be none,
        // the exchange goes out on a socket of its own.
        if let Some(pool) = &self.shared {
            for _ in 0..64 {
                if pool.is_free(server, id) {
                    break;
                }
                id = rand::random();
            }
        }
        id
    }
}

/// One lookup's fixed parts: what to ask, where, and its limits.
struct Plan<'a> {
    spec: &'a QuerySpec,
    target: &'a Target,
    meta: &'a RecordMeta,
    /// The query message (signed, with `-y`/`-k`).
    query: Bytes,
    /// With `-y`/`-k`: the key and the query's MAC, which every exchange's
    /// answers are verified against (RFC 8945 §5.3).
    tsig: Option<(&'a crate::dns::tsig::Key, Vec<u8>)>,
    /// Each try's (and each transfer message's) time limit.
    timeout: Duration,
    tries: u32,
}

/// The ID of a lookup's query: 0 on DoQ (RFC 9250 §4.2.1), else `+qid`'s
/// or one the session picks for `target`.
fn query_id(spec: &QuerySpec, target: &Target, session: &Session) -> u16 {
    if spec.opts.transport == Transport::Quic {
        0
    } else {
        spec.opts
            .qid
            .unwrap_or_else(|| session.pick_id(target.addr))
    }
}

/// Runs one lookup: UDP with tries and TC fallback, or a connection-based
/// transport.
pub async fn lookup(
    spec: &QuerySpec,
    target: &Target,
    meta: &RecordMeta,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Outcome, crate::error::Error> {
    let id = query_id(spec, target, session);
    let query = build_query(spec, id);
    send_lookup(spec, query, target, meta, session, sink).await
}

/// Runs one lookup of a message given whole (`--replay`): `message` as
/// recorded, apart from its ID, which is picked as for any lookup (the
/// message is taken, not copied: it is the query sent). The transport,
/// limits and TSIG come from `spec`, whose question should be the
/// message's (it decides whether a zone transfer is followed).
pub async fn lookup_message(
    spec: &QuerySpec,
    mut message: Vec<u8>,
    target: &Target,
    meta: &RecordMeta,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Outcome, crate::error::Error> {
    let id = query_id(spec, target, session);
    if let Some(bytes) = message.get_mut(..2) {
        bytes.copy_from_slice(&id.to_be_bytes());
    }
    send_lookup(spec, message, target, meta, session, sink).await
}

/// The lookup of a built `query`: signed (with `-y`/`-k`), then sent over
/// UDP with tries and TC fallback, or a connection-based transport.
async fn send_lookup(
    spec: &QuerySpec,
    mut query: Vec<u8>,
    target: &Target,
    meta: &RecordMeta,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Outcome, crate::error::Error> {
    // Signed once, when built: every try sends the same bytes (a few
    // seconds apart at most, well within the 300 s fudge).
    let tsig = match &spec.opts.tsig {
        Some(key) => {
            let mac = crate::dns::tsig::sign_query(
                &mut query,
                key,
                now().sec,
                crate::dns::tsig::DEFAULT_FUDGE,
            )
            .map_err(|e| crate::error::Error::Internal(format!("cannot sign the query: {e}")))?;
            Some((key, mac))
        }
        None => None,
    };
    let plan = Plan {
        spec,
        target,
        meta,
        query: Bytes::from(query),
        tsig,
        timeout: Duration::from_secs(u64::from(spec.opts.timeout.max(1))),
        tries: spec.opts.tries.max(1),
    };
    if spec.opts.transport != Transport::Udp {
        // Boxed: the connection transports' state is large, and a UDP
        // lookup (the common case, many at once with +parallel) need not
        // carry it.
        return Box::pin(conn_lookup(&plan, session, sink)).await;
    }
    for _ in 0..plan.tries {
        match udp_try(&plan, session, sink).await? {
            Ok(truncated) if truncated && !spec.opts.ignore_tc => {
                let mut tcp = spec.clone();
                tcp.opts.transport = Transport::Tcp;
                let plan = Plan { spec: &tcp, ..plan };
                return Box::pin(conn_lookup(&plan, session, sink)).await;
            }
            Ok(_) => return Ok(Outcome::Answered),
            // Every UDP failure ends only its try; an ICMP error (connection
            // refused) ends it at once, as dig's does, and the next try
            // starts straight away.
            Err(e) => say_failure(sink, target.addr, &e),
        }
    }
    Ok(Outcome::NoReply)
}

/// Says why a try failed, as dig does.
fn say_failure(sink: &mut dyn Sink, server: SocketAddr, e: &QueryError) {
    sink.diag(&format!(";; communications error to {}: {e}", hash(server)));
}

/// One UDP try, from a socket of its own or a shared one. Ok(truncated)
/// when answered.
async fn udp_try(
    plan: &Plan<'_>,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Result<bool, QueryError>, crate::error::Error> {
    let server = plan.target.addr;
    let rtt = session
        .udp_rtt
        .filter(|(to, _)| *to == server)
        .map(|(_, rtt)| rtt);
    let mut via = match UdpVia::open(&plan.query, server, session.shared.as_deref(), rtt).await {
        Ok(via) => via,
        Err(e) => return Ok(Err(e.into())),
    };
    // Each try's time runs from its send, as dig's. With +proxy, every
    // datagram opens with the header.
    let got = match &plan.spec.opts.proxy {
        Some(proxy) => {
            let header = proxy.header(Carrier::Datagram);
            // Boxed: the plain exchange's future need not make room for
            // this one's beside it in every UDP lookup's future.
            Box::pin(exchange(
                &mut Prefixed::new(&mut via, &header),
                plan,
                None,
                sink,
            ))
            .await?
        }
        None => exchange(&mut via, plan, None, sink).await?,
    };
    if let (Ok(_), UdpVia::Own(_)) = (&got, &via) {
        session.udp_rtt = via.rtt().map(|rtt| (server, rtt));
    }
    Ok(got)
}

/// The lookup over a connection transport: each try on the kept
/// connection or a new one, by its own deadline.
async fn conn_lookup(
    plan: &Plan<'_>,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Outcome, crate::error::Error> {
    let (spec, target) = (plan.spec, plan.target);
    for _ in 0..plan.tries {
        let deadline = Instant::now() + plan.timeout;
        let kept = if spec.opts.keepopen {
            session.take(target, spec)
        } else {
            None
        };
        let reused = kept.is_some();
        let mut conn = match kept {
            Some(c) => c,
            None => match tokio::time::timeout_at(deadline, connect(spec, target, sink)).await {
                Ok(Ok(c)) => c,
                Ok(Err(e)) if !e.is_retryable() => {
                    say_failure(sink, target.addr, &e);
                    break;
                }
                Ok(Err(e)) => {
                    say_failure(sink, target.addr, &e);
                    continue;
                }
                Err(_) => {
                    say_failure(sink, target.addr, &QueryError::Timeout);
                    continue;
                }
            },
        };
        match exchange(&mut conn, plan, Some(deadline), sink).await? {
            Ok(_) => {
                if spec.opts.keepopen && conn.reusable() {
                    session.kept = Some(Box::new((
                        target.clone(),
                        spec.opts.transport.clone(),
                        spec.opts.tls.clone(),
                        spec.opts.proxy,
                        conn,
                    )));
                } else {
                    conn.close().await;
                }
                return Ok(Outcome::Answered);
            }
            Err(e) => {
                say_failure(sink, target.addr, &e);
                conn.close().await;
                // A kept connection the server closed meanwhile is retried fresh.
                if !(e.is_retryable() || reused) {
                    break;
                }
            }
        }
    }
    Ok(Outcome::NoReply)
}

/// One exchange over any transport: sends the query and records it, then
/// takes the answer and (for a zone transfer) the rest. `deadline`: the
/// try's, or None for one that starts when the query is out. Ok(truncated)
/// when answered; the outer error is the sink's.
async fn exchange<T: DnsTransport>(
    t: &mut T,
    plan: &Plan<'_>,
    deadline: Option<Instant>,
    sink: &mut dyn Sink,
) -> Result<Result<bool, QueryError>, crate::error::Error> {
    let ex = Exchange {
        meta: plan.meta,
        protocol: t.protocol(),
        http: t.http_protocol(),
        local: t.local(),
        peer: plan.target.addr,
        query: plan.query.clone(),
        query_time: now(),
    };
    let by = |deadline: Option<Instant>| deadline.unwrap_or_else(|| Instant::now() + plan.timeout);
    if let Err(e) = t.send(&plan.query, by(deadline)).await {
        return Ok(Err(e));
    }
    if sink.keeps_queries() {
        sink.record(ex.query_record())?;
    }
    let mut skips = Skips::new(ex.peer);
    let xfr = crate::dns::xfr::is_xfr(plan.spec.qtype).then_some(plan.spec.qtype);
    let mut tsig = plan
        .tsig
        .as_ref()
        .map(|(key, mac)| Box::new(crate::dns::tsig::Checker::new((*key).clone(), mac.clone())));
    let got = answers(
        t,
        &ex,
        xfr,
        by(deadline),
        plan.timeout,
        &mut skips,
        tsig.as_deref_mut(),
        sink,
    )
    .await;
    skips.finish(sink);
    if let (Ok(Ok(_)), Some(checker)) = (&got, tsig.as_deref_mut()) {
        for line in checker.end() {
            sink.diag(&line);
        }
    }
    got
}

/// Verifies one accepted answer message's TSIG, saying dig's line when it
/// does not verify. The message is shown either way, as dig shows it.
fn verify(tsig: &mut Option<&mut crate::dns::tsig::Checker>, msg: &[u8], sink: &mut dyn Sink) {
    if let Some(checker) = tsig.as_deref_mut() {
        if let Some(line) = checker.message(msg, now().sec) {
            sink.diag(&line);
        }
    }
}

/// Takes the answer by `deadline`, skipping other messages, and records
/// it; then, for a zone transfer (`xfr`: its type) over a transport where
/// more messages follow, the rest of the transfer, each accepted message
/// within `per_message` of the last, each recorded. Skipped messages are
/// not progress: they never move a deadline. With `tsig`, every accepted
/// message is verified. Ok(truncated) when answered.
#[allow(clippy::too_many_arguments)]
async fn answers<T: DnsTransport>(
    t: &mut T,
    ex: &Exchange<'_>,
    xfr: Option<u16>,
    deadline: Instant,
    per_message: Duration,
    skips: &mut Skips,
    mut tsig: Option<&mut crate::dns::tsig::Checker>,
    sink: &mut dyn Sink,
) -> Result<Result<bool, QueryError>, crate::error::Error> {
    use crate::dns::xfr::{Progress, XfrTracker};
    let query = ex.query.clone();
    let mut check = |msg: &[u8]| check_answer(&query, msg);
    let got = t
        .recv(deadline, &mut check, &mut |why| skips.note(sink, &why))
        .await;
    let response = match got {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let truncated = crate::dns::wire::Header::parse(&response).is_ok_and(|h| h.tc());
    let xfr = xfr.filter(|_| t.continues()).map(|qtype| {
        let mut tracker = XfrTracker::new(qtype);
        let progress = Message::parse(&response).map_or(Progress::Failed, |m| tracker.feed(&m));
        (tracker, progress)
    });
    verify(&mut tsig, &response, sink);
    sink.record(ex.response_record(response, now()))?;
    let Some((mut tracker, mut progress)) = xfr else {
        return Ok(Ok(truncated));
    };
    let mut idle_until = Instant::now() + per_message;
    while progress == Progress::More {
        let got = t
            .recv(idle_until, &mut check, &mut |why| skips.note(sink, &why))
            .await;
        let next = match got {
            Ok(m) => m,
            Err(e) => return Ok(Err(e.in_transfer())),
        };
        idle_until = Instant::now() + per_message;
        progress = Message::parse(&next).map_or(Progress::Failed, |m| tracker.feed(&m));
        verify(&mut tsig, &next, sink);
        sink.record(ex.response_record(next, now()))?;
    }
    Ok(Ok(truncated))
}

/// The warnings about replies skipped during one try: the first few are
/// said as they come, the rest only counted, and the count said when the
/// try ends, so a server flooding wrong replies cannot flood the screen
/// (or, with `+parallel`, the memory holding a lookup's lines).
struct Skips {
    server: SocketAddr,
    said: usize,
    more: u64,
}

/// Skipped replies reported one by one in a try; later ones are counted.
const SKIPS_SAID: usize = 5;

impl Skips {
    fn new(server: SocketAddr) -> Skips {
        Skips {
            server,
            said: 0,
            more: 0,
        }
    }

    /// One reply skipped, for this reason.
    fn note(&mut self, sink: &mut dyn Sink, why: &Mismatch) {
        if self.said < SKIPS_SAID {
            self.said += 1;
            sink.diag(&format!(
                ";; Warning: ignoring reply from {}: {why}",
                hash(self.server)
            ));
        } else {
            self.more += 1;
        }
    }

    /// The try is over: says how many went unsaid.
    fn finish(self, sink: &mut dyn Sink) {
        if self.more > 0 {
            sink.diag(&format!(
                ";; Warning: ignoring reply from {}: ... and {} more like it",
                hash(self.server),
                self.more
            ));
        }
    }
}

/// `addr#port`, as dig writes servers.
pub fn hash(addr: SocketAddr) -> String {
    format!("{}#{}", addr.ip(), addr.port())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::name::Name;
    use crate::query::stream::StreamConn;
    use tokio::io::{AsyncRead, AsyncWrite};

    fn query(id: u16, name: &str) -> Vec<u8> {
        crate::testutil::query_message(id, name, 1)
    }

    #[test]
    fn the_query_id_is_qids_but_always_0_on_doq() {
        let mut spec = QuerySpec {
            name: Name::from_text("x.example").unwrap(),
            qtype: 1,
            qclass: 1,
            ixfr_serial: None,
            opts: crate::query::spec::QueryOpts::default(),
        };
        spec.opts.qid = Some(4242);
        let target = Target {
            addr: "127.0.0.1:53".parse().unwrap(),
            host: None,
        };
        let session = Session::default();
        assert_eq!(query_id(&spec, &target, &session), 4242);
        spec.opts.transport = Transport::Quic;
        assert_eq!(query_id(&spec, &target, &session), 0);
    }

    fn as_response(mut q: Vec<u8>) -> Vec<u8> {
        q[2] |= 0x80;
        q
    }

    #[test]
    fn answer_must_match_id_question_and_be_a_response() {
        let q = query(100, "www.example");
        assert!(check_answer(&q, &as_response(query(100, "WWW.Example"))).is_ok());
        assert!(
            check_answer(&q, &query(100, "www.example")).is_err(),
            "QR=0"
        );
        assert!(check_answer(&q, &as_response(query(101, "www.example"))).is_err());
        assert!(check_answer(&q, &as_response(query(100, "other.example"))).is_err());
        assert!(check_answer(&q, b"garbage").is_err());
        // The in-place reading agrees with the parsed one.
        assert_eq!(
            same_plain_question(&q, &query(7, "WWW.EXAMPLE")),
            Some(true)
        );
        assert_eq!(
            same_plain_question(&q, &query(7, "www.exampla")),
            Some(false)
        );
        assert_eq!(
            same_plain_question(&q, &query(7, "www.example.")),
            Some(true)
        );
        assert_eq!(
            same_plain_question(&q, &query(7, "www.example.com")),
            Some(false)
        );
        assert_eq!(same_plain_question(&q, &query(7, "www")), Some(false));
        let mut other_type = query(100, "www.example");
        let n = other_type.len();
        other_type[n - 3] = 28;
        assert!(check_answer(&q, &as_response(other_type)).is_err());
        // A compression pointer in the reply's question: left to the
        // parsed reading (which refuses this forward one).
        let mut pointer = as_response(query(100, "www.example"));
        pointer.truncate(12);
        pointer.extend_from_slice(&[3, b'w', b'w', b'w', 0xc0, 26, 0, 1, 0, 1]);
        pointer.extend_from_slice(&[7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 0]);
        assert_eq!(same_plain_question(&q, &pointer), None);
        assert!(check_answer(&q, &pointer).is_err());
        // Cut short: not the same.
        assert!(check_answer(&q, &as_response(q[..20].to_vec())).is_err());
        // A name of 256 bytes with its root: refused by the parsed reading,
        // left to it by the in-place one.
        let mut long = vec![0u8, 7, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for len in [63u8, 63, 63, 62] {
            long.push(len);
            long.extend(std::iter::repeat_n(b'a', usize::from(len)));
        }
        long.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert!(crate::dns::wire::first_question(&long).is_none());
        assert_eq!(same_plain_question(&long, &as_response(long.clone())), None);
        // 255 bytes: a name, read in place.
        let mut max = long[..12].to_vec();
        for len in [63u8, 63, 63, 61] {
            max.push(len);
            max.extend(std::iter::repeat_n(b'a', usize::from(len)));
        }
        max.extend_from_slice(&[0, 0, 1, 0, 1]);
        assert!(crate::dns::wire::first_question(&max).is_some());
        assert_eq!(
            same_plain_question(&max, &as_response(max.clone())),
            Some(true)
        );
        let mut empty_question = as_response(query(100, "www.example"));
        empty_question.truncate(12);
        empty_question[5] = 0;
        assert!(check_answer(&q, &empty_question).is_ok());
    }

    struct Discard;

    impl Sink for Discard {
        fn record(&mut self, _: Event) -> Result<(), crate::error::Error> {
            Ok(())
        }
        fn diag(&mut self, _: &str) {}
    }

    /// A stream that always has another frame ready: a wrong reply, then
    /// the next, without ever making the reader wait.
    struct Endless {
        frame: Vec<u8>,
        at: usize,
    }

    impl AsyncRead for Endless {
        fn poll_read(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &mut tokio::io::ReadBuf<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            while buf.remaining() > 0 {
                let byte = self.frame[self.at % self.frame.len()];
                buf.put_slice(&[byte]);
                self.at += 1;
            }
            std::task::Poll::Ready(Ok(()))
        }
    }

    impl AsyncWrite for Endless {
        fn poll_write(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            std::task::Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    /// Counts the lines said.
    #[derive(Default)]
    struct Count(usize);

    impl Sink for Count {
        fn record(&mut self, _: Event) -> Result<(), crate::error::Error> {
            Ok(())
        }
        fn diag(&mut self, _: &str) {
            self.0 += 1;
        }
    }

    /// Runs `f` on a thread of its own; None when it has not ended within
    /// 10 s (the thread is left to spin: the test fails either way).
    fn within_10s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(Duration::from_secs(10)).ok()
    }

    #[test]
    fn stream_deadline_holds_when_every_read_is_ready_at_once() {
        let ended = within_10s(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let q = query(100, "x.example");
                let mut wrong = as_response(query(101, "x.example"));
                let mut frame = (wrong.len() as u16).to_be_bytes().to_vec();
                frame.append(&mut wrong);
                let addr: SocketAddr = "127.0.0.1:53".parse().unwrap();
                let mut stream = StreamConn::new(Endless { frame, at: 0 }, addr, Protocol::Tcp);
                let meta = RecordMeta {
                    kind: TapType::Stub,
                    identity: None,
                    version: Bytes::new(),
                };
                let ex = Exchange {
                    meta: &meta,
                    protocol: Protocol::Tcp,
                    http: None,
                    local: addr,
                    peer: addr,
                    query: Bytes::from(q.clone()),
                    query_time: now(),
                };
                let deadline = Instant::now() + Duration::from_millis(200);
                let (mut skips, mut sink) = (Skips::new(addr), Count::default());
                let got = answers(
                    &mut stream,
                    &ex,
                    None,
                    deadline,
                    Duration::from_secs(5),
                    &mut skips,
                    None,
                    &mut sink,
                )
                .await;
                let timed_out = matches!(got, Ok(Err(QueryError::Timeout)));
                skips.finish(&mut sink);
                (timed_out, sink.0)
            })
        });
        let (timed_out, lines) = ended.expect("the deadline ended the exchange");
        assert!(timed_out);
        assert_eq!(lines, SKIPS_SAID + 1, "the first few, then one summary");
    }

    /// Keeps what it is handed; `queries`: whether it keeps query records.
    struct Keep {
        queries: bool,
        records: Vec<Event>,
    }

    impl Sink for Keep {
        fn record(&mut self, record: Event) -> Result<(), crate::error::Error> {
            self.records.push(record);
            Ok(())
        }
        fn keeps_queries(&self) -> bool {
            self.queries
        }
        fn diag(&mut self, _: &str) {}
    }

    #[test]
    fn a_sink_that_keeps_no_queries_is_handed_only_the_responses() {
        let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = server.local_addr().unwrap();
        let echo = std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            for _ in 0..2 {
                let (n, from) = server.recv_from(&mut buf).unwrap();
                buf[2] |= 0x80;
                server.send_to(&buf[..n], from).unwrap();
            }
        });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let spec = crate::cli::parse(["qtap", "x.example"])
            .unwrap()
            .queries
            .remove(0);
        let target = Target { addr, host: None };
        let meta = RecordMeta {
            kind: TapType::Stub,
            identity: None,
            version: Bytes::new(),
        };
        for queries in [true, false] {
            let mut sink = Keep {
                queries,
                records: Vec::new(),
            };
            let mut session = Session::default();
            let got = rt.block_on(lookup(&spec, &target, &meta, &mut session, &mut sink));
            assert_eq!(got.unwrap(), Outcome::Answered);
            let kinds: Vec<bool> = sink
                .records
                .iter()
                .map(|r| r.response_message.is_some())
                .collect();
            let expected: &[bool] = if queries { &[false, true] } else { &[true] };
            assert_eq!(kinds, expected, "queries kept: {queries}");
        }
        echo.join().unwrap();
    }

    #[test]
    fn a_session_stays_small() {
        // Every +parallel lookup's future carries a session (moved whole
        // when the lookup starts): the kept connection is boxed.
        assert!(
            std::mem::size_of::<Session>() <= 64,
            "{}",
            std::mem::size_of::<Session>()
        );
    }

    #[test]
    fn a_lookup_future_stays_small() {
        // +parallel keeps one future per lookup in flight: the connection
        // transports' large state is boxed, so a UDP lookup's stays small.
        let spec = crate::cli::parse(["qtap", "x.example"])
            .unwrap()
            .queries
            .remove(0);
        let target = Target {
            addr: "127.0.0.1:53".parse().unwrap(),
            host: None,
        };
        let meta = RecordMeta {
            kind: TapType::Stub,
            identity: None,
            version: Bytes::new(),
        };
        let (mut session, mut sink) = (Session::default(), Discard);
        let future = lookup(&spec, &target, &meta, &mut session, &mut sink);
        assert!(
            std::mem::size_of_val(&future) < 2048,
            "{}",
            std::mem::size_of_val(&future)
        );
    }
}
