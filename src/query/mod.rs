//! Live queries: builds each query, sends it over UDP or TCP with dig's
//! timeouts, tries and TC→TCP fallback, and hands every message sent or
//! accepted to a [`Sink`] as a dnstap record, at the moment it happens.
//!
//! The sink decides what to do with records (write the trace, render them);
//! this module never prints. Sockets live here and only here.

pub mod stream;
pub mod udp;

use std::net::SocketAddr;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::cli::{QuerySpec, TapType, Transport};
use crate::dns::build::{encode_query, EdnsParams, QueryParams};
use crate::dns::wire::Message;
use crate::tap::event::{Event, MessageType, Protocol, Timestamp};
use crate::tap::pb;

/// Receives what happens during a lookup.
pub trait Sink {
    /// A message was sent or accepted: here is its dnstap record.
    fn record(&mut self, record: pb::Dnstap) -> Result<(), crate::error::Error>;
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
    let q = Message::parse(query).map_err(|e| format!("bad query: {e}"))?;
    let r = Message::parse(resp).map_err(|_| format!("{} byte reply is not DNS", resp.len()))?;
    if !r.header.qr() {
        return Err(format!("reply id {} has QR=0", r.header.id));
    }
    if r.header.id != q.header.id {
        return Err(format!(
            "ID mismatch: expected ID {}, got {}",
            q.header.id, r.header.id
        ));
    }
    if r.header.qdcount == 0 {
        return Ok(());
    }
    match (q.first_question(), r.first_question()) {
        (Some(a), Some(b))
            if r.header.qdcount == 1
                && a.qtype == b.qtype
                && a.qclass == b.qclass
                && a.name.eq_ignore_case(&b.name) =>
        {
            Ok(())
        }
        _ => Err(format!("reply id {} has a different question", r.header.id)),
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
            http_protocol: None,
            query_addr: Some(self.local.ip()),
            query_port: Some(self.local.port()),
            response_addr: Some(self.peer.ip()),
            response_port: Some(self.peer.port()),
            query_time: Some(self.query_time),
            response_time: None,
            query_message: Some(self.query.clone()),
            response_message: None,
        }
    }

    fn query_record(&self) -> pb::Dnstap {
        let mtype = match self.meta.kind {
            TapType::Stub => MessageType::STUB_QUERY,
            TapType::Tool => MessageType::TOOL_QUERY,
        };
        self.base(mtype).to_pb()
    }

    fn response_record(&self, response: Vec<u8>, at: Timestamp) -> pb::Dnstap {
        let mtype = match self.meta.kind {
            TapType::Stub => MessageType::STUB_RESPONSE,
            TapType::Tool => MessageType::TOOL_RESPONSE,
        };
        let mut e = self.base(mtype);
        e.response_time = Some(at);
        e.response_message = Some(Bytes::from(response));
        e.to_pb()
    }
}

fn build_query(spec: &QuerySpec) -> Vec<u8> {
    let o = &spec.opts;
    let cookie: Option<Vec<u8>> = match &o.cookie {
        None => None,
        Some(Some(given)) => Some(given.clone()),
        Some(None) => Some(rand::random::<[u8; 8]>().to_vec()),
    };
    encode_query(&QueryParams {
        id: rand::random(),
        name: &spec.name,
        qtype: spec.qtype,
        qclass: spec.qclass,
        rd: o.rd,
        ad: o.ad,
        cd: o.cd,
        aa: o.aa,
        edns: o.edns.map(|version| EdnsParams {
            version,
            udp_size: o.bufsize,
            dnssec_ok: o.dnssec,
            nsid: o.nsid,
            cookie: cookie.as_deref(),
        }),
    })
}

/// Runs one lookup against `server`: UDP with tries and TC fallback, or TCP.
pub async fn lookup(
    spec: &QuerySpec,
    server: SocketAddr,
    meta: &RecordMeta,
    sink: &mut dyn Sink,
) -> Result<Outcome, crate::error::Error> {
    let query = Bytes::from(build_query(spec));
    let timeout = Duration::from_secs(u64::from(spec.opts.timeout.max(1)));
    let tries = spec.opts.tries.max(1);
    match spec.opts.transport {
        Transport::Tcp => tcp_lookup(&query, server, meta, timeout, tries, sink).await,
        Transport::Udp => {
            for _ in 0..tries {
                match udp_try(&query, server, meta, timeout, sink).await? {
                    Some(response) => {
                        let truncated = Message::parse(&response).is_ok_and(|m| m.header.tc());
                        if truncated && !spec.opts.ignore_tc {
                            return tcp_lookup(&query, server, meta, timeout, tries, sink).await;
                        }
                        return Ok(Outcome::Answered);
                    }
                    None => continue,
                }
            }
            Ok(Outcome::NoReply)
        }
    }
}

/// One UDP try. Ok(None): this try failed (already reported).
async fn udp_try(
    query: &Bytes,
    server: SocketAddr,
    meta: &RecordMeta,
    timeout: Duration,
    sink: &mut dyn Sink,
) -> Result<Option<Vec<u8>>, crate::error::Error> {
    let conn = match udp::UdpConn::connect(server).await {
        Ok(c) => c,
        Err(e) => {
            sink.diag(&format!(";; communications error to {}: {e}", hash(server)));
            return Ok(None);
        }
    };
    let ex = Exchange {
        meta,
        protocol: Protocol::Udp,
        local: conn.local,
        peer: server,
        query: query.clone(),
        query_time: now(),
    };
    if let Err(e) = conn.send(query).await {
        sink.diag(&format!(";; communications error to {}: {e}", hash(server)));
        return Ok(None);
    }
    sink.record(ex.query_record())?;
    let deadline = Instant::now() + timeout;
    let mut skipped = Vec::new();
    let got = conn
        .recv_matching(
            deadline,
            |r| check_answer(query, r),
            |why| skipped.push(why),
        )
        .await;
    for why in skipped {
        sink.diag(&format!(
            ";; Warning: ignoring reply from {}: {why}",
            hash(server)
        ));
    }
    match got {
        Ok(response) => {
            let at = now();
            sink.record(ex.response_record(response.clone(), at))?;
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
            // Give an ICMP error the rest of the timeout, as a later try.
            Ok(None)
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

async fn tcp_lookup(
    query: &Bytes,
    server: SocketAddr,
    meta: &RecordMeta,
    timeout: Duration,
    tries: u32,
    sink: &mut dyn Sink,
) -> Result<Outcome, crate::error::Error> {
    for _ in 0..tries {
        let deadline = Instant::now() + timeout;
        match tcp_try(query, server, meta, deadline, sink).await? {
            Ok(()) => return Ok(Outcome::Answered),
            Err(why) => {
                sink.diag(&format!(
                    ";; communications error to {}: {why}",
                    hash(server)
                ));
                if why == "connection refused" {
                    break;
                }
            }
        }
    }
    Ok(Outcome::NoReply)
}

/// One TCP connection: connect, send, read replies until one matches.
async fn tcp_try(
    query: &Bytes,
    server: SocketAddr,
    meta: &RecordMeta,
    deadline: Instant,
    sink: &mut dyn Sink,
) -> Result<Result<(), String>, crate::error::Error> {
    let mut stream = match tokio::time::timeout_at(deadline, TcpStream::connect(server)).await {
        Err(_) => return Ok(Err("timed out".into())),
        Ok(Err(e)) => return Ok(Err(io_text(&e))),
        Ok(Ok(s)) => s,
    };
    let local = match stream.local_addr() {
        Ok(a) => a,
        Err(e) => return Ok(Err(io_text(&e))),
    };
    let ex = Exchange {
        meta,
        protocol: Protocol::Tcp,
        local,
        peer: server,
        query: query.clone(),
        query_time: now(),
    };
    match tokio::time::timeout_at(deadline, stream::send_framed(&mut stream, query)).await {
        Err(_) => return Ok(Err("timed out".into())),
        Ok(Err(e)) => return Ok(Err(io_text(&e))),
        Ok(Ok(())) => {}
    }
    sink.record(ex.query_record())?;
    loop {
        let response =
            match tokio::time::timeout_at(deadline, stream::recv_framed(&mut stream)).await {
                Err(_) => return Ok(Err("timed out".into())),
                Ok(Err(e)) => return Ok(Err(io_text(&e))),
                Ok(Ok(r)) => r,
            };
        match check_answer(query, &response) {
            Ok(()) => {
                let at = now();
                sink.record(ex.response_record(response, at))?;
                return Ok(Ok(()));
            }
            Err(why) => sink.diag(&format!(
                ";; Warning: ignoring reply from {}: {why}",
                hash(server)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
