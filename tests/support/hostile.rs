//! A scripted DNS responder for the cases a real server never produces:
//! wrong IDs, wrong questions, garbage, replies from another port, silence,
//! short TCP frames, slow drips.
//!
//! It owns the sockets and the script runner, plus byte-level helpers that
//! turn a query into a (possibly broken) response. It must not use a DNS
//! library: the point is to send exactly the bytes a test asks for. Input
//! from the client is parsed with bounds-checked reads only.

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// One step of a scripted reply. A behaviour returns a list of steps for
/// each query, run in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// UDP: send this datagram to the client. TCP: send it with its 2-byte
    /// length prefix.
    Send(Vec<u8>),
    /// UDP: send this datagram from a different socket (another port), which
    /// a client must ignore. TCP: like `Send`.
    SendFrom(Vec<u8>),
    /// TCP: write these bytes as they are, with no length prefix added.
    /// UDP: like `Send`.
    Raw(Vec<u8>),
    /// Wait before the next step.
    Sleep(Duration),
    /// TCP: close the connection now (later steps are skipped). UDP: ignored.
    CloseTcp,
    /// TCP: write only a 2-byte length prefix announcing this many bytes,
    /// then close. UDP: ignored.
    TcpPrefixThenClose(u16),
    /// TCP: write the length-prefixed message one byte at a time, waiting
    /// `delay` between bytes. UDP: wait `delay` once, then send.
    Drip {
        /// The DNS message (without length prefix).
        bytes: Vec<u8>,
        /// Pause between bytes.
        delay: Duration,
    },
    /// Send this message (framed on TCP) again and again, `gap` apart (no
    /// pause when zero), until the client goes away or the responder stops.
    /// Later steps are skipped.
    Flood {
        /// The DNS message (without length prefix).
        bytes: Vec<u8>,
        /// Pause between copies.
        gap: Duration,
    },
}

/// A script: given the query's wire bytes, the steps to answer it with.
pub type Behaviour = dyn Fn(&[u8]) -> Vec<Reply> + Send + Sync;

/// A scripted responder on 127.0.0.1, stopped when dropped.
pub struct Hostile {
    addr: SocketAddr,
    queries: Arc<AtomicUsize>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

/// How often the background threads look at the stop flag.
const POLL: Duration = Duration::from_millis(20);

impl Hostile {
    /// Starts a UDP responder on 127.0.0.1:0 running `behaviour` for every
    /// datagram received.
    pub fn udp<F>(behaviour: F) -> Hostile
    where
        F: Fn(&[u8]) -> Vec<Reply> + Send + Sync + 'static,
    {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind hostile UDP");
        socket
            .set_read_timeout(Some(POLL))
            .expect("set read timeout");
        let addr = socket.local_addr().expect("hostile UDP addr");
        let queries = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let queries = Arc::clone(&queries);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || run_udp(&socket, &behaviour, &queries, &stop))
        };
        Hostile {
            addr,
            queries,
            connections: Arc::new(AtomicUsize::new(0)),
            stop,
            thread: Some(thread),
        }
    }

    /// Starts a TCP responder on 127.0.0.1:0: each connection gets its own
    /// thread, reads length-prefixed queries and runs `behaviour` on each.
    pub fn tcp<F>(behaviour: F) -> Hostile
    where
        F: Fn(&[u8]) -> Vec<Reply> + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind hostile TCP");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");
        let addr = listener.local_addr().expect("hostile TCP addr");
        let queries = Arc::new(AtomicUsize::new(0));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let behaviour: Arc<Behaviour> = Arc::new(behaviour);
        let thread = {
            let queries = Arc::clone(&queries);
            let connections = Arc::clone(&connections);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            connections.fetch_add(1, Ordering::SeqCst);
                            let behaviour = Arc::clone(&behaviour);
                            let queries = Arc::clone(&queries);
                            let stop = Arc::clone(&stop);
                            std::thread::spawn(move || {
                                run_tcp(stream, behaviour.as_ref(), &queries, &stop)
                            });
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => std::thread::sleep(POLL),
                        Err(_) => std::thread::sleep(POLL),
                    }
                }
            })
        };
        Hostile {
            addr,
            queries,
            connections,
            stop,
            thread: Some(thread),
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening port as a string, ready for qtap's `-p`.
    pub fn port(&self) -> String {
        self.addr.port().to_string()
    }

    /// Queries received so far (UDP datagrams, or TCP messages).
    pub fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }

    /// The shared query counter, for tests that watch it from elsewhere.
    pub fn counter(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.queries)
    }

    /// TCP connections accepted so far (always 0 for UDP).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The UDP loop: one datagram at a time, until stopped.
fn run_udp(socket: &UdpSocket, behaviour: &Behaviour, queries: &AtomicUsize, stop: &AtomicBool) {
    let mut buf = vec![0u8; 65535];
    while !stop.load(Ordering::SeqCst) {
        let (len, peer) = match socket.recv_from(&mut buf) {
            Ok(got) => got,
            Err(_) => continue,
        };
        queries.fetch_add(1, Ordering::SeqCst);
        let query = buf.get(..len).unwrap_or_default().to_vec();
        for step in behaviour(&query) {
            match step {
                Reply::Send(bytes) | Reply::Raw(bytes) => {
                    let _ = socket.send_to(&bytes, peer);
                }
                Reply::SendFrom(bytes) => {
                    if let Ok(other) = UdpSocket::bind("127.0.0.1:0") {
                        let _ = other.send_to(&bytes, peer);
                    }
                }
                Reply::Sleep(pause) => std::thread::sleep(pause),
                Reply::Drip { bytes, delay } => {
                    std::thread::sleep(delay);
                    let _ = socket.send_to(&bytes, peer);
                }
                Reply::CloseTcp | Reply::TcpPrefixThenClose(_) => {}
                Reply::Flood { bytes, gap } => {
                    flood(&bytes, gap, stop, |b| socket.send_to(b, peer).is_ok());
                    break;
                }
            }
        }
    }
}

/// One TCP connection: read a length-prefixed query, run the script, repeat
/// until the client closes, a step closes, or the responder stops.
fn run_tcp(mut stream: TcpStream, behaviour: &Behaviour, queries: &AtomicUsize, stop: &AtomicBool) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(POLL));
    let _ = stream.set_nodelay(true);
    loop {
        let Some(query) = read_frame(&mut stream, stop) else {
            return;
        };
        queries.fetch_add(1, Ordering::SeqCst);
        for step in behaviour(&query) {
            let alive = match step {
                Reply::Send(bytes) | Reply::SendFrom(bytes) => {
                    stream.write_all(&framed(&bytes)).is_ok()
                }
                Reply::Raw(bytes) => stream.write_all(&bytes).is_ok(),
                Reply::Sleep(pause) => {
                    std::thread::sleep(pause);
                    true
                }
                Reply::CloseTcp => false,
                Reply::TcpPrefixThenClose(len) => {
                    let _ = stream.write_all(&len.to_be_bytes());
                    false
                }
                Reply::Flood { bytes, gap } => {
                    let frame = framed(&bytes);
                    flood(&frame, gap, stop, |b| stream.write_all(b).is_ok());
                    false
                }
                Reply::Drip { bytes, delay } => framed(&bytes).iter().all(|b| {
                    std::thread::sleep(delay);
                    stream.write_all(&[*b]).is_ok() && stream.flush().is_ok()
                }),
            };
            if !alive {
                let _ = stream.flush();
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

/// Sends `bytes` with `send` until it fails or the responder stops.
fn flood(bytes: &[u8], gap: Duration, stop: &AtomicBool, mut send: impl FnMut(&[u8]) -> bool) {
    while !stop.load(Ordering::SeqCst) && send(bytes) {
        if !gap.is_zero() {
            std::thread::sleep(gap);
        }
    }
}

/// Reads one 2-byte length-prefixed message; `None` on EOF, error or stop.
fn read_frame(stream: &mut TcpStream, stop: &AtomicBool) -> Option<Vec<u8>> {
    let mut prefix = [0u8; 2];
    read_full(stream, &mut prefix, stop)?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    read_full(stream, &mut body, stop)?;
    Some(body)
}

/// `read_exact` that tolerates the poll timeout and gives up on stop.
fn read_full(stream: &mut TcpStream, buf: &mut [u8], stop: &AtomicBool) -> Option<()> {
    let mut filled = 0;
    while filled < buf.len() {
        if stop.load(Ordering::SeqCst) {
            return None;
        }
        match stream.read(buf.get_mut(filled..)?) {
            Ok(0) => return None,
            Ok(n) => filled += n,
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) => {}
            Err(_) => return None,
        }
    }
    Some(())
}

/// A message with its RFC 1035 §4.2.2 two-byte length prefix.
pub fn framed(msg: &[u8]) -> Vec<u8> {
    let len = u16::try_from(msg.len()).unwrap_or(u16::MAX);
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(msg);
    out
}

// ---- byte-level message helpers (RFC 1035 §4.1) ----

/// The message ID, if the message has a header.
pub fn query_id(msg: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*msg.first()?, *msg.get(1)?]))
}

/// Offset just past the first question (name, type, class), if the message
/// has one that fits.
pub fn question_end(msg: &[u8]) -> Option<usize> {
    let mut at = 12;
    loop {
        let len = usize::from(*msg.get(at)?);
        if len == 0 {
            at += 1;
            break;
        }
        if len & 0xC0 != 0 {
            // A pointer ends the name (queries do not use them, but be safe).
            msg.get(at + 1)?;
            at += 2;
            break;
        }
        at += 1 + len;
    }
    let end = at + 4;
    (end <= msg.len()).then_some(end)
}

/// The question's QTYPE, if present.
pub fn query_type(msg: &[u8]) -> Option<u16> {
    let end = question_end(msg)?;
    Some(u16::from_be_bytes([*msg.get(end - 4)?, *msg.get(end - 3)?]))
}

/// A response skeleton for `query`: its header and first question, with QR
/// and AA set, RD copied, rcode NOERROR and counts 1/0/0/0 (the query's OPT
/// record is dropped). A query too short to parse yields just a 12-byte
/// header with QR set.
pub fn echo_question(query: &[u8]) -> Vec<u8> {
    let end = question_end(query).unwrap_or(0);
    let mut msg = query.get(..end).map(<[u8]>::to_vec).unwrap_or_default();
    if msg.len() < 12 {
        msg = query
            .get(..12)
            .map(<[u8]>::to_vec)
            .unwrap_or_else(|| vec![0; 12]);
    }
    let rd = msg.get(2).copied().unwrap_or(0) & 0x01;
    msg[2] = 0x80 | 0x04 | rd; // QR AA, keep RD
    msg[3] = 0x00;
    let qd = u8::from(end > 0);
    msg[4..12].copy_from_slice(&[0, qd, 0, 0, 0, 0, 0, 0]);
    msg
}

/// `msg` with its ID replaced.
pub fn with_id(mut msg: Vec<u8>, id: u16) -> Vec<u8> {
    if let Some(head) = msg.get_mut(..2) {
        head.copy_from_slice(&id.to_be_bytes());
    }
    msg
}

/// `msg` with the ID changed to one that does not match the original.
pub fn with_wrong_id(msg: Vec<u8>) -> Vec<u8> {
    let id = query_id(&msg).unwrap_or(0);
    with_id(msg, id ^ 0x5A5A)
}

/// `msg` with the TC (truncated) bit set.
pub fn with_tc(mut msg: Vec<u8>) -> Vec<u8> {
    if let Some(flags) = msg.get_mut(2) {
        *flags |= 0x02;
    }
    msg
}

/// `msg` with its RCODE (low 4 bits) replaced.
pub fn with_rcode(mut msg: Vec<u8>, rcode: u8) -> Vec<u8> {
    if let Some(flags) = msg.get_mut(3) {
        *flags = (*flags & 0xF0) | (rcode & 0x0F);
    }
    msg
}

/// `msg` with the question's QTYPE replaced (a "wrong question" reply).
pub fn with_qtype(mut msg: Vec<u8>, qtype: u16) -> Vec<u8> {
    if let Some(end) = question_end(&msg) {
        if let Some(slot) = msg.get_mut(end - 4..end - 2) {
            slot.copy_from_slice(&qtype.to_be_bytes());
        }
    }
    msg
}

/// `msg` with the question's name replaced by `name` (dotted, ASCII). Only
/// valid before answers are added, since it shifts what follows.
pub fn with_qname(msg: Vec<u8>, name: &str) -> Vec<u8> {
    let Some(end) = question_end(&msg) else {
        return msg;
    };
    let mut out = msg.get(..12).map(<[u8]>::to_vec).unwrap_or_default();
    out.extend(encode_name(name));
    out.extend_from_slice(msg.get(end - 4..).unwrap_or_default());
    out
}

/// A dotted ASCII name in uncompressed wire form.
pub fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let bytes = label.as_bytes();
        let len = bytes.len().min(63);
        out.push(u8::try_from(len).unwrap_or(63));
        out.extend_from_slice(bytes.get(..len).unwrap_or_default());
    }
    out.push(0);
    out
}

/// `msg` with an answer `<question name> ttl IN A addr` appended (owner is
/// a compression pointer to the question) and ANCOUNT incremented.
pub fn add_a(mut msg: Vec<u8>, ttl: u32, addr: Ipv4Addr) -> Vec<u8> {
    msg.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1]);
    msg.extend_from_slice(&ttl.to_be_bytes());
    msg.extend_from_slice(&[0, 4]);
    msg.extend_from_slice(&addr.octets());
    if let Some(count) = msg.get_mut(6..8) {
        let n = u16::from_be_bytes([count[0], count[1]]).saturating_add(1);
        count.copy_from_slice(&n.to_be_bytes());
    }
    msg
}

/// `msg` with an answer `<question name> ttl IN SOA ns. admin. serial 1 1 1 1`
/// appended (owner is a compression pointer to the question) and ANCOUNT
/// incremented: the first (or last) message of a zone transfer.
pub fn add_soa(mut msg: Vec<u8>, serial: u32) -> Vec<u8> {
    let mut rdata = encode_name("ns");
    rdata.extend(encode_name("admin"));
    rdata.extend_from_slice(&serial.to_be_bytes());
    for _ in 0..4 {
        rdata.extend_from_slice(&1u32.to_be_bytes());
    }
    msg.extend_from_slice(&[0xC0, 12, 0, 6, 0, 1]);
    msg.extend_from_slice(&300u32.to_be_bytes());
    msg.extend_from_slice(&u16::try_from(rdata.len()).unwrap_or(0).to_be_bytes());
    msg.extend(rdata);
    if let Some(count) = msg.get_mut(6..8) {
        let n = u16::from_be_bytes([count[0], count[1]]).saturating_add(1);
        count.copy_from_slice(&n.to_be_bytes());
    }
    msg
}

/// The well-formed answer to `query`: its question plus one A record.
pub fn a_reply(query: &[u8], addr: Ipv4Addr) -> Vec<u8> {
    add_a(echo_question(query), 300, addr)
}

/// `len` deterministic junk bytes that do not parse as a DNS message (the
/// header claims 0xFFFF records in each section).
pub fn garbage(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x1234_5678;
    (0..len)
        .map(|i| {
            if (4..12).contains(&i) {
                return 0xFF;
            }
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_be_bytes()[0]
        })
        .collect()
}

/// Junk that carries the query's ID (so only parsing can reject it).
pub fn garbage_with_id(query: &[u8], len: usize) -> Vec<u8> {
    with_id(garbage(len.max(2)), query_id(query).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    //! The helpers and both transports, exercised with std sockets.

    use super::*;

    /// A query for `www.qtap.test. A` with ID 0x1234, RD set, and an OPT.
    fn sample_query() -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
        q.extend(encode_name("www.qtap.test."));
        q.extend_from_slice(&[0, 1, 0, 1]);
        q.extend_from_slice(&[0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]);
        q
    }

    #[test]
    fn echo_question_builds_a_response_header() {
        let q = sample_query();
        let r = echo_question(&q);
        assert_eq!(query_id(&r), Some(0x1234));
        assert_eq!(r[2], 0x85);
        assert_eq!(&r[4..12], &[0, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(question_end(&r), Some(r.len()));
        assert_eq!(query_type(&r), Some(1));
    }

    #[test]
    fn helpers_edit_the_right_bytes() {
        let q = sample_query();
        let r = a_reply(&q, Ipv4Addr::new(192, 0, 2, 9));
        assert_eq!(&r[6..8], &[0, 1]);
        assert_eq!(&r[r.len() - 4..], &[192, 0, 2, 9]);
        assert_eq!(query_id(&with_wrong_id(r.clone())), Some(0x1234 ^ 0x5A5A));
        assert_eq!(with_tc(r.clone())[2] & 0x02, 0x02);
        assert_eq!(with_rcode(r.clone(), 3)[3] & 0x0F, 3);
        assert_eq!(query_type(&with_qtype(r.clone(), 16)), Some(16));
        let renamed = with_qname(echo_question(&q), "other.qtap.test");
        assert_eq!(&renamed[12..18], b"\x05other");
        assert_eq!(query_type(&renamed), Some(1));
        assert_eq!(query_id(&garbage_with_id(&q, 40)), Some(0x1234));
        assert!(question_end(&garbage(3)).is_none());
        assert!(echo_question(&[1, 2, 3]).len() == 12);
    }

    #[test]
    fn udp_counts_queries_and_replies_from_the_same_or_another_port() {
        let hostile = Hostile::udp(|q| {
            vec![
                Reply::SendFrom(with_id(q.to_vec(), 1)),
                Reply::Send(with_id(q.to_vec(), 2)),
            ]
        });
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        client.send_to(&sample_query(), hostile.addr()).unwrap();
        let mut buf = [0u8; 512];
        let mut froms = Vec::new();
        for _ in 0..2 {
            let (n, from) = client.recv_from(&mut buf).unwrap();
            froms.push((query_id(&buf[..n]), from == hostile.addr()));
        }
        froms.sort();
        assert_eq!(froms, vec![(Some(1), false), (Some(2), true)]);
        assert_eq!(hostile.queries(), 1);
    }

    #[test]
    fn tcp_frames_replies_and_closes_after_a_short_prefix() {
        let hostile = Hostile::tcp(|q| {
            vec![
                Reply::Send(a_reply(q, Ipv4Addr::LOCALHOST)),
                Reply::TcpPrefixThenClose(300),
            ]
        });
        let mut stream = TcpStream::connect(hostile.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        stream.write_all(&framed(&sample_query())).unwrap();
        let mut all = Vec::new();
        stream.read_to_end(&mut all).unwrap();
        let expected = framed(&a_reply(&sample_query(), Ipv4Addr::LOCALHOST));
        assert_eq!(&all[..expected.len()], &expected[..]);
        assert_eq!(&all[expected.len()..], &300u16.to_be_bytes());
        assert_eq!(hostile.queries(), 1);
        assert_eq!(hostile.connections(), 1);
    }
}
