//! Live queries: builds each query, sends it over UDP, TCP, TLS, HTTPS or
//! QUIC with dig's timeouts, tries and TC→TCP fallback, and hands every
//! message sent or accepted to a [`Sink`] as a dnstap record, at the moment
//! it happens. With `+keepopen` a [`Session`] keeps the connection.
//!
//! The sink decides what to do with records (write the trace, render them);
//! this module never prints. Sockets live here and only here: each
//! sequential UDP try has a socket of its own, `+parallel` ones share
//! sockets ([`udp`]).

pub mod https;
pub mod quic;
pub mod spec;
pub mod stream;
pub mod tls;
pub mod udp;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::time::Instant;

use self::spec::{QuerySpec, TapType, TlsOpts, Transport};
use crate::dns::build::{encode_query_with, EdnsParams, QueryParams};
use crate::dns::wire::Message;
use crate::tap::event::{Event, MessageType, Protocol, Timestamp};
use crate::tap::pb;

/// Receives what happens during a lookup.
pub trait Sink {
    /// A message was sent or accepted: here is its dnstap record (as an
    /// [`Event`]: the sink converts it to protobuf only if it writes it).
    fn record(&mut self, record: Event) -> Result<(), crate::error::Error>;
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
pub fn check_answer(query: &[u8], resp: &[u8]) -> Result<(), String> {
    // Only the headers and the first questions matter: read just those.
    use crate::dns::wire::{first_question, Header};
    let q = Header::parse(query).map_err(|e| format!("bad query: {e}"))?;
    let r = Header::parse(resp).map_err(|_| format!("{} byte reply is not DNS", resp.len()))?;
    if !r.qr() {
        return Err(format!("reply id {} has QR=0", r.id));
    }
    if r.id != q.id {
        return Err(format!("ID mismatch: expected ID {}, got {}", q.id, r.id));
    }
    if r.qdcount == 0 {
        return Ok(());
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
        _ => Err(format!("reply id {} has a different question", r.id)),
    }
}

fn family_of(addr: &SocketAddr) -> i32 {
    match addr {
        SocketAddr::V4(_) => pb::SocketFamily::Inet as i32,
        SocketAddr::V6(_) => pb::SocketFamily::Inet6 as i32,
    }
}

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
            query_time: Some(self.query_time),
            response_time: None,
            query_message: Some(self.query.clone()),
            query_zone: None,
            response_message: None,
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

/// A byte stream DNS can run over (TCP, or TLS over TCP).
pub trait DnsStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> DnsStream for T {}

/// An open connection.
enum Conn {
    /// TCP or TLS; `http1` when it carries DoH as HTTP/1.1 (not reusable).
    Stream {
        stream: Box<dyn DnsStream>,
        local: SocketAddr,
        protocol: Protocol,
        http1: bool,
    },
    /// DoH over HTTP/2.
    H2 {
        send: h2::client::SendRequest<Bytes>,
        local: SocketAddr,
    },
    /// DoQ.
    Quic(quic::QuicConn),
}

impl Conn {
    fn reusable(&self) -> bool {
        !matches!(self, Conn::Stream { http1: true, .. })
    }

    async fn close(self) {
        if let Conn::Quic(q) = self {
            q.close().await;
        }
    }
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
    kept: Option<(Target, Transport, TlsOpts, Conn)>,
    /// The server of the last clean UDP exchange and how long its answer
    /// took (a fast server's next answer is polled for; see [`udp`]).
    udp_rtt: Option<(SocketAddr, Duration)>,
    /// Shared UDP sockets (lookups in flight together).
    shared: Option<std::rc::Rc<udp::MuxPool>>,
}

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
    pub fn shared(pool: std::rc::Rc<udp::MuxPool>) -> Session {
        Session {
            shared: Some(pool),
            ..Session::default()
        }
    }

    /// Closes whatever is still open.
    pub async fn close(mut self) {
        if let Some((_, _, _, conn)) = self.kept.take() {
            conn.close().await;
        }
    }

    fn take(&mut self, target: &Target, spec: &QuerySpec) -> Option<Conn> {
        match self.kept.take() {
            Some((t, tr, tls, conn))
                if &t == target && tr == spec.opts.transport && tls == spec.opts.tls =>
            {
                Some(conn)
            }
            Some((_, _, _, conn)) => {
                drop(conn);
                None
            }
            None => None,
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

/// Why one try failed, and whether another try could help.
struct Failure {
    text: String,
    retry: bool,
}

impl Failure {
    fn retry(text: impl Into<String>) -> Failure {
        Failure {
            text: text.into(),
            retry: true,
        }
    }
    fn fatal(text: impl Into<String>) -> Failure {
        Failure {
            text: text.into(),
            retry: false,
        }
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
    // RFC 9250 §4.2.1: the ID is 0 on DoQ.
    let id = if spec.opts.transport == Transport::Quic {
        0
    } else {
        spec.opts
            .qid
            .unwrap_or_else(|| session.pick_id(target.addr))
    };
    let query = Bytes::from(build_query(spec, id));
    let timeout = Duration::from_secs(u64::from(spec.opts.timeout.max(1)));
    let tries = spec.opts.tries.max(1);
    if spec.opts.transport != Transport::Udp {
        // Boxed: the connection transports' state is large, and a UDP
        // lookup (the common case, many at once with +parallel) need not
        // carry it.
        return Box::pin(conn_lookup(
            spec, &query, target, meta, timeout, tries, session, sink,
        ))
        .await;
    }
    for _ in 0..tries {
        if let Some(response) = udp_try(&query, target.addr, meta, timeout, session, sink).await? {
            let truncated = crate::dns::wire::Header::parse(&response).is_ok_and(|h| h.tc());
            if truncated && !spec.opts.ignore_tc {
                let mut tcp = spec.clone();
                tcp.opts.transport = Transport::Tcp;
                return Box::pin(conn_lookup(
                    &tcp, &query, target, meta, timeout, tries, session, sink,
                ))
                .await;
            }
            return Ok(Outcome::Answered);
        }
    }
    Ok(Outcome::NoReply)
}

/// The socket one UDP try goes out on.
enum Via {
    /// A socket of its own (new, or kept from the last clean exchange).
    Own(udp::UdpConn),
    /// A shared socket, holding the message ID.
    Shared(udp::Ticket),
}

impl Via {
    fn local(&self) -> SocketAddr {
        match self {
            Via::Own(c) => c.local,
            Via::Shared(t) => t.local(),
        }
    }

    async fn send(&self, msg: &[u8]) -> std::io::Result<()> {
        match self {
            Via::Own(c) => c.send(msg).await,
            Via::Shared(t) => t.send(msg).await,
        }
    }

    async fn recv_matching(
        &mut self,
        deadline: Instant,
        check: impl FnMut(&[u8]) -> udp::Verdict,
        skipped: impl FnMut(String),
    ) -> Result<Vec<u8>, udp::RecvError> {
        match self {
            Via::Own(c) => c.recv_matching(deadline, check, skipped).await,
            Via::Shared(t) => t.recv_matching(deadline, check, skipped).await,
        }
    }
}

/// The socket for a try: the shared one when the run has it and the ID is
/// free there, else a new one.
async fn udp_socket(
    query: &[u8],
    server: SocketAddr,
    session: &mut Session,
) -> std::io::Result<Via> {
    if let Some(pool) = session.shared.clone() {
        if let Ok(h) = crate::dns::wire::Header::parse(query) {
            if let Some(ticket) = pool.register(server, h.id).await {
                return Ok(Via::Shared(ticket));
            }
        }
    }
    let mut conn = udp::UdpConn::connect(server).await?;
    if let Some((_, rtt)) = session.udp_rtt.filter(|(to, _)| *to == server) {
        conn.expect_rtt(rtt);
    }
    Ok(Via::Own(conn))
}

/// One UDP try. Ok(None): this try failed (already reported).
async fn udp_try(
    query: &Bytes,
    server: SocketAddr,
    meta: &RecordMeta,
    timeout: Duration,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Option<Vec<u8>>, crate::error::Error> {
    let mut via = match udp_socket(query, server, session).await {
        Ok(v) => v,
        Err(e) => {
            sink.diag(&format!(";; communications error to {}: {e}", hash(server)));
            return Ok(None);
        }
    };
    let ex = Exchange {
        meta,
        protocol: Protocol::Udp,
        http: None,
        local: via.local(),
        peer: server,
        query: query.clone(),
        query_time: now(),
    };
    if let Err(e) = via.send(query).await {
        sink.diag(&format!(
            ";; communications error to {}: {}",
            hash(server),
            io_text(&e)
        ));
        return Ok(None);
    }
    sink.record(ex.query_record())?;
    let deadline = Instant::now() + timeout;
    let mut skips = Skips::new(server);
    let check = |r: &[u8]| match check_answer(query, r) {
        Ok(()) => udp::Verdict::Accept,
        Err(why) => udp::Verdict::Skip(why),
    };
    let got = via
        .recv_matching(deadline, check, |why| skips.note(sink, &why))
        .await;
    skips.finish(sink);
    match got {
        Ok(response) => {
            let at = now();
            sink.record(ex.response_record(response.clone(), at))?;
            if let Via::Own(conn) = via {
                session.udp_rtt = conn.rtt().map(|rtt| (server, rtt));
            }
            Ok(Some(response))
        }
        Err(udp::RecvError::Timeout) => {
            sink.diag(&format!(
                ";; communications error to {}: timed out",
                hash(server)
            ));
            Ok(None)
        }
        Err(udp::RecvError::Io(e)) => {
            sink.diag(&format!(
                ";; communications error to {}: {}",
                hash(server),
                io_text(&e)
            ));
            // An ICMP error (connection refused) ends this try at once,
            // as dig's does; the next try starts straight away.
            Ok(None)
        }
    }
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
    fn note(&mut self, sink: &mut dyn Sink, why: &str) {
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

fn io_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        std::io::ErrorKind::ConnectionReset => "connection reset".into(),
        std::io::ErrorKind::UnexpectedEof => "end of file".into(),
        _ => e.to_string(),
    }
}

/// `addr#port`, as dig writes servers.
pub fn hash(addr: SocketAddr) -> String {
    format!("{}#{}", addr.ip(), addr.port())
}

#[allow(clippy::too_many_arguments)]
async fn conn_lookup(
    spec: &QuerySpec,
    query: &Bytes,
    target: &Target,
    meta: &RecordMeta,
    timeout: Duration,
    tries: u32,
    session: &mut Session,
    sink: &mut dyn Sink,
) -> Result<Outcome, crate::error::Error> {
    for _ in 0..tries {
        let deadline = Instant::now() + timeout;
        let kept = if spec.opts.keepopen {
            session.take(target, spec)
        } else {
            None
        };
        let reused = kept.is_some();
        let conn = match kept {
            Some(c) => c,
            None => match tokio::time::timeout_at(deadline, connect(spec, target, sink)).await {
                Err(_) => {
                    sink.diag(&format!(
                        ";; communications error to {}: timed out",
                        hash(target.addr)
                    ));
                    continue;
                }
                Ok(Err(f)) => {
                    sink.diag(&format!(
                        ";; communications error to {}: {}",
                        hash(target.addr),
                        f.text
                    ));
                    if f.retry {
                        continue;
                    }
                    break;
                }
                Ok(Ok(c)) => c,
            },
        };
        let (result, conn) = exchange(conn, spec, query, target, meta, deadline, sink).await?;
        match result {
            Ok(()) => {
                if let Some(conn) = conn {
                    if spec.opts.keepopen && conn.reusable() {
                        session.kept = Some((
                            target.clone(),
                            spec.opts.transport.clone(),
                            spec.opts.tls.clone(),
                            conn,
                        ));
                    } else {
                        conn.close().await;
                    }
                }
                return Ok(Outcome::Answered);
            }
            Err(f) => {
                sink.diag(&format!(
                    ";; communications error to {}: {}",
                    hash(target.addr),
                    f.text
                ));
                if let Some(conn) = conn {
                    conn.close().await;
                }
                // A kept connection the server closed meanwhile is retried fresh.
                if !(f.retry || reused) {
                    break;
                }
            }
        }
    }
    Ok(Outcome::NoReply)
}

async fn tcp_connect(addr: SocketAddr) -> Result<(TcpStream, SocketAddr), Failure> {
    let stream = TcpStream::connect(addr).await.map_err(|e| {
        let retry = e.kind() != std::io::ErrorKind::ConnectionRefused;
        Failure {
            text: io_text(&e),
            retry,
        }
    })?;
    let local = stream
        .local_addr()
        .map_err(|e| Failure::retry(io_text(&e)))?;
    let _ = stream.set_nodelay(true);
    Ok((stream, local))
}

/// The TLS configuration and the names to use for one connection.
fn tls_setup(
    spec: &QuerySpec,
    target: &Target,
    alpn: &[&[u8]],
) -> Result<(rustls::ClientConfig, rustls::pki_types::ServerName<'static>), Failure> {
    let opts = &spec.opts.tls;
    let verify_as =
        tls::verify_name(opts, target.host.as_deref(), target.addr.ip()).map_err(Failure::fatal)?;
    let sni = match &opts.sni {
        Some(name) => rustls::pki_types::ServerName::try_from(name.clone())
            .map_err(|_| Failure::fatal(format!("invalid SNI name {name:?}")))?,
        None => verify_as.clone(),
    };
    let config = tls::client_config(opts, alpn, (sni != verify_as).then_some(verify_as))
        .map_err(Failure::fatal)?;
    Ok((config, sni))
}

async fn tls_handshake(
    spec: &QuerySpec,
    target: &Target,
    alpn: &[&[u8]],
    sink: &mut dyn Sink,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, SocketAddr), Failure> {
    let (config, sni) = tls_setup(spec, target, alpn)?;
    let (tcp, local) = tcp_connect(target.addr).await?;
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let stream = connector
        .connect(sni, tcp)
        .await
        .map_err(|e| Failure::fatal(tls::error_text(&e)))?;
    if spec.opts.tls.info {
        sink.diag(&format!(";; TLS handshake with {}", hash(target.addr)));
        for line in tls::describe(stream.get_ref().1) {
            sink.diag(&line);
        }
    }
    Ok((stream, local))
}

/// Opens a connection for the spec's transport.
async fn connect(spec: &QuerySpec, target: &Target, sink: &mut dyn Sink) -> Result<Conn, Failure> {
    match &spec.opts.transport {
        Transport::Udp | Transport::Tcp => {
            let (stream, local) = tcp_connect(target.addr).await?;
            Ok(Conn::Stream {
                stream: Box::new(stream),
                local,
                protocol: Protocol::Tcp,
                http1: false,
            })
        }
        Transport::Tls => {
            let (stream, local) = tls_handshake(spec, target, &[b"dot"], sink).await?;
            Ok(Conn::Stream {
                stream: Box::new(stream),
                local,
                protocol: Protocol::Dot,
                http1: false,
            })
        }
        Transport::Https { .. } => {
            let (stream, local) = tls_handshake(spec, target, &[b"h2", b"http/1.1"], sink).await?;
            if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                let (send, connection) = h2::client::handshake(stream)
                    .await
                    .map_err(|e| Failure::retry(format!("HTTP/2 handshake failed: {e}")))?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(Conn::H2 { send, local })
            } else {
                Ok(Conn::Stream {
                    stream: Box::new(stream),
                    local,
                    protocol: Protocol::Doh,
                    http1: true,
                })
            }
        }
        Transport::Quic => {
            let (config, sni) = tls_setup(spec, target, &[quic::ALPN_DOQ])?;
            let name = match &sni {
                rustls::pki_types::ServerName::DnsName(n) => n.as_ref().to_owned(),
                rustls::pki_types::ServerName::IpAddress(ip) => {
                    std::net::IpAddr::from(*ip).to_string()
                }
                _ => target.addr.ip().to_string(),
            };
            let conn = quic::connect(target.addr, config, &name)
                .await
                .map_err(Failure::fatal)?;
            if spec.opts.tls.info {
                sink.diag(&format!(";; QUIC handshake with {}", hash(target.addr)));
                for line in conn.describe() {
                    sink.diag(&line);
                }
            }
            Ok(Conn::Quic(conn))
        }
    }
}

/// `host[:port]` for HTTP.
fn authority(target: &Target) -> String {
    let host = match &target.host {
        Some(h) => h.clone(),
        None => match target.addr {
            SocketAddr::V4(a) => a.ip().to_string(),
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
        },
    };
    if target.addr.port() == 443 {
        host
    } else {
        format!("{host}:{}", target.addr.port())
    }
}

/// One query over an open connection; hands the connection back when it
/// is still usable.
async fn exchange(
    conn: Conn,
    spec: &QuerySpec,
    query: &Bytes,
    target: &Target,
    meta: &RecordMeta,
    deadline: Instant,
    sink: &mut dyn Sink,
) -> Result<(Result<(), Failure>, Option<Conn>), crate::error::Error> {
    let (local, protocol, http) = match &conn {
        Conn::Stream {
            local,
            protocol,
            http1,
            ..
        } => (
            *local,
            *protocol,
            http1.then_some(pb::HttpProtocol::Http1 as i32),
        ),
        Conn::H2 { local, .. } => (*local, Protocol::Doh, Some(pb::HttpProtocol::Http2 as i32)),
        Conn::Quic(q) => (q.local, Protocol::Doq, None),
    };
    let ex = Exchange {
        meta,
        protocol,
        http,
        local,
        peer: target.addr,
        query: query.clone(),
        query_time: now(),
    };
    let (path, get) = match &spec.opts.transport {
        Transport::Https { path, get } => (path.clone(), *get),
        _ => (String::new(), false),
    };
    let auth = authority(target);
    let request = https::Request {
        authority: &auth,
        path: &path,
        get,
    };
    let timed_out = || Failure::retry("timed out");
    match conn {
        Conn::Stream {
            mut stream,
            local,
            protocol,
            http1: false,
        } => {
            match tokio::time::timeout_at(deadline, stream::send_framed(&mut stream, query)).await {
                Err(_) => return Ok((Err(timed_out()), None)),
                Ok(Err(e)) => return Ok((Err(Failure::retry(io_text(&e))), None)),
                Ok(Ok(())) => {}
            }
            sink.record(ex.query_record())?;
            let mut skips = Skips::new(target.addr);
            let got =
                stream_answer(&mut stream, spec, query, &ex, deadline, &mut skips, sink).await;
            skips.finish(sink);
            let conn = Conn::Stream {
                stream,
                local,
                protocol,
                http1: false,
            };
            match got? {
                Ok(()) => Ok((Ok(()), Some(conn))),
                Err(f) => Ok((Err(f), None)),
            }
        }
        Conn::Stream { stream, .. } => {
            sink.record(ex.query_record())?;
            let got =
                tokio::time::timeout_at(deadline, https::http1_exchange(stream, &request, query))
                    .await;
            let result = finish_response(got, query, &ex, target, sink)?;
            Ok((result, None))
        }
        Conn::H2 { mut send, local } => {
            sink.record(ex.query_record())?;
            let got =
                tokio::time::timeout_at(deadline, https::h2_exchange(&mut send, &request, query))
                    .await;
            let result = finish_response(got, query, &ex, target, sink)?;
            let keep = result.is_ok().then_some(Conn::H2 { send, local });
            Ok((result, keep))
        }
        Conn::Quic(q) => {
            sink.record(ex.query_record())?;
            let got = tokio::time::timeout_at(deadline, q.exchange(query)).await;
            let result = finish_response(got, query, &ex, target, sink)?;
            Ok((result, Some(Conn::Quic(q))))
        }
    }
}

/// One frame from a stream, by `deadline`. Checked before reading too: a
/// server that sends frames faster than they are read keeps every read
/// ready at once, and a read that never waits never sees its timer.
async fn recv_by(
    stream: &mut Box<dyn DnsStream>,
    deadline: Instant,
) -> Option<std::io::Result<Vec<u8>>> {
    if Instant::now() >= deadline {
        return None;
    }
    tokio::time::timeout_at(deadline, stream::recv_framed(stream))
        .await
        .ok()
}

/// Reads the answer to `query` from a stream (TCP, TLS), skipping other
/// messages until `deadline`, then the rest of a zone transfer, each
/// message within the timeout of the last accepted one. Skipped messages
/// are not progress: they never move a deadline.
async fn stream_answer(
    stream: &mut Box<dyn DnsStream>,
    spec: &QuerySpec,
    query: &[u8],
    ex: &Exchange<'_>,
    deadline: Instant,
    skips: &mut Skips,
    sink: &mut dyn Sink,
) -> Result<Result<(), Failure>, crate::error::Error> {
    use crate::dns::xfr::{Progress, XfrTracker};
    let response = loop {
        let response = match recv_by(stream, deadline).await {
            None => return Ok(Err(Failure::retry("timed out"))),
            Some(Err(e)) => return Ok(Err(Failure::retry(io_text(&e)))),
            Some(Ok(r)) => r,
        };
        match check_answer(query, &response) {
            Ok(()) => break response,
            Err(why) => skips.note(sink, &why),
        }
    };
    let xfr = crate::dns::xfr::is_xfr(spec.qtype).then(|| {
        let mut t = XfrTracker::new(spec.qtype);
        let progress = Message::parse(&response).map_or(Progress::Failed, |m| t.feed(&m));
        (t, progress)
    });
    sink.record(ex.response_record(response, now()))?;
    let Some((mut tracker, mut progress)) = xfr else {
        return Ok(Ok(()));
    };
    // The rest of the transfer: one message after another, each accepted
    // one within the full timeout of the last, each recorded.
    let per_message = Duration::from_secs(u64::from(spec.opts.timeout.max(1)));
    let mut idle_until = Instant::now() + per_message;
    while progress == Progress::More {
        let next = match recv_by(stream, idle_until).await {
            None => return Ok(Err(Failure::fatal("transfer timed out"))),
            Some(Err(e)) => {
                return Ok(Err(Failure::fatal(format!(
                    "transfer ended early: {}",
                    io_text(&e)
                ))))
            }
            Some(Ok(r)) => r,
        };
        if let Err(why) = check_answer(query, &next) {
            skips.note(sink, &why);
            continue;
        }
        idle_until = Instant::now() + per_message;
        progress = Message::parse(&next).map_or(Progress::Failed, |m| tracker.feed(&m));
        sink.record(ex.response_record(next, now()))?;
    }
    Ok(Ok(()))
}

/// Checks and records a response that came as one message (HTTP, QUIC).
fn finish_response(
    got: Result<Result<Vec<u8>, String>, tokio::time::error::Elapsed>,
    query: &[u8],
    ex: &Exchange<'_>,
    target: &Target,
    sink: &mut dyn Sink,
) -> Result<Result<(), Failure>, crate::error::Error> {
    let response = match got {
        Err(_) => return Ok(Err(Failure::retry("timed out"))),
        Ok(Err(text)) => return Ok(Err(Failure::fatal(text))),
        Ok(Ok(r)) => r,
    };
    match check_answer(query, &response) {
        Ok(()) => {
            sink.record(ex.response_record(response, now()))?;
            Ok(Ok(()))
        }
        Err(why) => {
            let _ = target;
            Ok(Err(Failure::fatal(format!("bad reply: {why}"))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::build::encode_query;
    use crate::dns::name::Name;

    fn query(id: u16, name: &str) -> Vec<u8> {
        let name = Name::from_text(name).unwrap();
        encode_query(&QueryParams {
            id,
            name: &name,
            qtype: 1,
            qclass: 1,
            rd: true,
            ad: false,
            cd: false,
            aa: false,
            edns: None,
            ixfr_serial: None,
            zflag: false,
        })
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
                let spec = crate::cli::parse(["qtap", "x.example"])
                    .unwrap()
                    .queries
                    .remove(0);
                let q = query(100, "x.example");
                let mut wrong = as_response(query(101, "x.example"));
                let mut frame = (wrong.len() as u16).to_be_bytes().to_vec();
                frame.append(&mut wrong);
                let mut stream: Box<dyn DnsStream> = Box::new(Endless { frame, at: 0 });
                let meta = RecordMeta {
                    kind: TapType::Stub,
                    identity: None,
                    version: Bytes::new(),
                };
                let addr: SocketAddr = "127.0.0.1:53".parse().unwrap();
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
                let got =
                    stream_answer(&mut stream, &spec, &q, &ex, deadline, &mut skips, &mut sink)
                        .await;
                let timed_out =
                    matches!(got, Ok(Err(Failure { ref text, .. })) if text == "timed out");
                skips.finish(&mut sink);
                (timed_out, sink.0)
            })
        });
        let (timed_out, lines) = ended.expect("the deadline ended the exchange");
        assert!(timed_out);
        assert_eq!(lines, SKIPS_SAID + 1, "the first few, then one summary");
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
        assert!(std::mem::size_of_val(&future) < 2048);
    }
}
