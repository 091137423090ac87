//! The dnstap files that live queries write with `--tap`: Frame Streams
//! framing (checked byte by byte here, independently of qtap's reader),
//! the frames recorded per exchange and their fields (decoded with
//! `qtap::tap::reader` and `qtap::tap::pb`), and the live/read identity:
//! what `qtap ... --tap t` prints equals what `qtap --read t` prints.
//!
//! Console output of live queries is checked in `query.rs`.

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use qtap::tap::pb;
use qtap::tap::reader::{Item, ReaderOptions, TapReader};

use crate::support::hostile::{self, a_reply, question_end};
use crate::support::{qtap, qtap_at, Hostile, Reply, Run, TestServer};

/// The Frame Streams content type of dnstap.
const CONTENT_TYPE: &[u8] = b"protobuf:dnstap.Dnstap";

/// A STOP control frame: escape, length 4, type STOP (3).
const STOP: [u8; 12] = [0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3];

const STUB_QUERY: i32 = pb::message::Type::StubQuery as i32;
const STUB_RESPONSE: i32 = pb::message::Type::StubResponse as i32;
const UDP: i32 = pb::SocketProtocol::Udp as i32;
const TCP: i32 = pb::SocketProtocol::Tcp as i32;

/// A temporary directory holding a trace path.
struct Trace {
    dir: tempfile::TempDir,
}

impl Trace {
    fn new() -> Trace {
        Trace {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn path(&self) -> std::path::PathBuf {
        self.dir.path().join("t.dnstap")
    }

    fn arg(&self) -> String {
        self.path().to_string_lossy().into_owned()
    }
}

/// Decodes every data frame with qtap's reader; any warning fails the test.
fn decode(path: &Path) -> Vec<pb::Dnstap> {
    let file = std::fs::File::open(path).expect("open trace");
    let mut reader = TapReader::new(file, ReaderOptions::default());
    let mut records = Vec::new();
    loop {
        match reader.next_item() {
            Ok(Some(Item::Data { payload, .. })) => {
                let record = <pb::Dnstap as prost::Message>::decode(payload).expect("protobuf");
                records.push(record);
            }
            Ok(Some(Item::Warning(w))) => panic!("{}: warning {w}", path.display()),
            Ok(None) => return records,
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}

/// Splits a unidirectional Frame Streams file by hand: checks the START
/// frame (with the dnstap content type) and the final STOP, and returns the
/// data frame payloads in between.
fn raw_data_frames(bytes: &[u8]) -> Vec<&[u8]> {
    let be32 = |at: usize| -> usize {
        let b: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|s| s.try_into().ok())
            .unwrap_or_else(|| panic!("file cut at byte {at}"));
        usize::try_from(u32::from_be_bytes(b)).expect("u32 fits usize")
    };
    assert_eq!(be32(0), 0, "escape before START");
    let control_len = be32(4);
    assert_eq!(be32(8), 2, "START control type");
    assert_eq!(be32(12), 1, "CONTENT_TYPE field");
    assert_eq!(be32(16), CONTENT_TYPE.len());
    assert_eq!(&bytes[20..20 + CONTENT_TYPE.len()], CONTENT_TYPE);
    assert_eq!(control_len, 12 + CONTENT_TYPE.len(), "START length");
    let mut at = 8 + control_len;
    let mut frames = Vec::new();
    loop {
        let len = be32(at);
        if len == 0 {
            assert_eq!(&bytes[at..], &STOP, "STOP frame ends the file");
            return frames;
        }
        frames.push(bytes.get(at + 4..at + 4 + len).expect("whole data frame"));
        at += 4 + len;
    }
}

/// The `Message` of a record.
fn msg(record: &pb::Dnstap) -> &pb::Message {
    record.message.as_ref().expect("Dnstap.message")
}

/// Message types, in order.
fn types(records: &[pb::Dnstap]) -> Vec<i32> {
    records.iter().map(|r| msg(r).r#type).collect()
}

/// A time from `*_time_sec` and `*_time_nsec`.
fn time(sec: Option<u64>, nsec: Option<u32>) -> Duration {
    Duration::new(sec.expect("time sec"), nsec.expect("time nsec"))
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
}

/// The ID of a DNS message.
fn id_of(wire: &[u8]) -> u16 {
    hostile::query_id(wire).expect("message has an ID")
}

/// The raw question (name, type, class) of a DNS message.
fn question_of(wire: &[u8]) -> &[u8] {
    let end = question_end(wire).expect("message has a question");
    &wire[12..end]
}

/// Checks the fields common to every record of a UDP or TCP exchange with
/// a server on 127.0.0.1:`port` made between `before` and `after`.
fn check_envelope(
    record: &pb::Dnstap,
    protocol: i32,
    port: u16,
    before: Duration,
    after: Duration,
) {
    assert_eq!(record.r#type, pb::dnstap::Type::Message as i32);
    let version = format!("qtap {}", env!("CARGO_PKG_VERSION"));
    assert_eq!(record.version.as_deref(), Some(version.as_bytes()));
    assert_eq!(record.identity, None, "identity only with --tap-identity");
    let m = msg(record);
    assert_eq!(m.socket_family, Some(pb::SocketFamily::Inet as i32));
    assert_eq!(m.socket_protocol, Some(protocol));
    assert_eq!(m.query_address.as_deref(), Some(&[127, 0, 0, 1][..]));
    let local = m.query_port.expect("query_port");
    assert!(local != 0 && local != u32::from(port), "local port {local}");
    assert_eq!(m.response_address.as_deref(), Some(&[127, 0, 0, 1][..]));
    assert_eq!(m.response_port, Some(u32::from(port)));
    let sent = time(m.query_time_sec, m.query_time_nsec);
    assert!(
        sent >= before && sent <= after,
        "query time {sent:?} not in {before:?}..{after:?}"
    );
    assert!(
        m.query_message.as_ref().is_some_and(|q| q.len() > 12),
        "query_message"
    );
}

/// Checks a query/response pair of records.
fn check_pair(query: &pb::Dnstap, response: &pb::Dnstap) {
    let (q, r) = (msg(query), msg(response));
    assert_eq!(q.r#type, STUB_QUERY);
    assert_eq!(r.r#type, STUB_RESPONSE);
    assert_eq!(q.response_message, None);
    assert_eq!(q.response_time_sec, None);
    // The response frame repeats the query's socket, time and message.
    assert_eq!(r.query_port, q.query_port);
    assert_eq!(r.query_time_sec, q.query_time_sec);
    assert_eq!(r.query_time_nsec, q.query_time_nsec);
    assert_eq!(r.query_message, q.query_message);
    let sent = time(q.query_time_sec, q.query_time_nsec);
    let got = time(r.response_time_sec, r.response_time_nsec);
    assert!(got >= sent, "response {got:?} before query {sent:?}");
    let qwire = q.query_message.as_deref().expect("query_message");
    let rwire = r.response_message.as_deref().expect("response_message");
    assert_eq!(id_of(qwire), id_of(rwire), "IDs match");
    assert_eq!(qwire[2] & 0x80, 0, "query has QR=0");
    assert_eq!(rwire[2] & 0x80, 0x80, "response has QR=1");
    assert_eq!(question_of(qwire), question_of(rwire));
}

/// `;; MSG SIZE  rcvd: N` values, in order.
fn msg_sizes(stdout: &str) -> Vec<usize> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix(";; MSG SIZE  rcvd: "))
        .map(|n| n.parse().expect("size"))
        .collect()
}

/// Runs a live query with `--tap`, returning the run and the file bytes.
fn live(port: &str, args: &[&str], trace: &Trace) -> (Run, Vec<u8>) {
    let run = Run::of(qtap_at(port).args(args).arg("--tap").arg(trace.arg()));
    let bytes = std::fs::read(trace.path()).expect("trace file written");
    (run, bytes)
}

#[test]
fn udp_query_writes_start_query_response_stop() {
    let server = TestServer::start();
    let trace = Trace::new();
    let before = now();
    let (out, bytes) = live(&server.port(), &["www.qtap.test", "A"], &trace);
    let after = now();
    let out = out.expect_code(0);
    let raw = raw_data_frames(&bytes);
    let records = decode(&trace.path());
    assert_eq!(raw.len(), 2);
    assert_eq!(records.len(), 2);
    for (payload, record) in raw.iter().zip(&records) {
        let again = <pb::Dnstap as prost::Message>::decode(*payload).expect("raw frame decodes");
        assert_eq!(&again, record, "hand split and reader agree");
        check_envelope(record, UDP, server.udp.port(), before, after);
    }
    check_pair(&records[0], &records[1]);
    let response = msg(&records[1])
        .response_message
        .as_deref()
        .unwrap_or_default();
    assert_eq!(msg_sizes(&out.stdout), [response.len()]);
    let shown_id = out.headers()[0].rsplit("id: ").next().map(str::to_owned);
    assert_eq!(shown_id, Some(id_of(response).to_string()));
}

#[test]
fn tcp_query_records_tcp_frames() {
    let server = TestServer::start();
    let trace = Trace::new();
    let before = now();
    let (out, bytes) = live(&server.port(), &["qtap.test", "MX", "+tcp"], &trace);
    let after = now();
    out.expect_code(0);
    assert_eq!(raw_data_frames(&bytes).len(), 2);
    let records = decode(&trace.path());
    assert_eq!(types(&records), [STUB_QUERY, STUB_RESPONSE]);
    for record in &records {
        check_envelope(record, TCP, server.tcp.port(), before, after);
    }
    check_pair(&records[0], &records[1]);
}

#[test]
fn ipv6_query_records_inet6_addresses() {
    let server = TestServer::start();
    let Some(port) = server.port6() else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    let trace = Trace::new();
    Run::of(qtap().args(["@::1", "-p", &port, "www.qtap.test", "--tap", &trace.arg()]))
        .expect_code(0);
    let records = decode(&trace.path());
    assert_eq!(records.len(), 2);
    let loopback6 = std::net::Ipv6Addr::LOCALHOST.octets();
    for record in &records {
        let m = msg(record);
        assert_eq!(m.socket_family, Some(pb::SocketFamily::Inet6 as i32));
        assert_eq!(m.query_address.as_deref(), Some(&loopback6[..]));
        assert_eq!(m.response_address.as_deref(), Some(&loopback6[..]));
        assert_eq!(m.response_port.map(|p| p.to_string()), Some(port.clone()));
    }
    check_pair(&records[0], &records[1]);
}

#[test]
fn truncation_retry_records_udp_then_tcp_exchanges() {
    let server = TestServer::start();
    let trace = Trace::new();
    let before = now();
    let (out, bytes) = live(&server.port(), &["big.qtap.test", "TXT"], &trace);
    let after = now();
    out.expect_code(0);
    assert_eq!(raw_data_frames(&bytes).len(), 4);
    let records = decode(&trace.path());
    assert_eq!(
        types(&records),
        [STUB_QUERY, STUB_RESPONSE, STUB_QUERY, STUB_RESPONSE]
    );
    let protocols: Vec<_> = records.iter().map(|r| msg(r).socket_protocol).collect();
    assert_eq!(protocols, [Some(UDP), Some(UDP), Some(TCP), Some(TCP)]);
    for (record, protocol) in records.iter().zip([UDP, UDP, TCP, TCP]) {
        check_envelope(record, protocol, server.udp.port(), before, after);
    }
    check_pair(&records[0], &records[1]);
    check_pair(&records[2], &records[3]);
    let udp = msg(&records[1])
        .response_message
        .as_deref()
        .unwrap_or_default();
    let tcp = msg(&records[3])
        .response_message
        .as_deref()
        .unwrap_or_default();
    assert_eq!(udp[2] & 0x02, 0x02, "UDP response has TC=1");
    assert!(udp.len() <= 1232, "{}", udp.len());
    assert_eq!(tcp[2] & 0x02, 0, "TCP response has TC=0");
    assert_eq!(&tcp[6..8], &[0, 8], "all 8 TXT records over TCP");
    assert!(tcp.len() > 1232);
    // The TCP retry follows the UDP exchange.
    let udp_got = time(
        msg(&records[1]).response_time_sec,
        msg(&records[1]).response_time_nsec,
    );
    let tcp_sent = time(
        msg(&records[2]).query_time_sec,
        msg(&records[2]).query_time_nsec,
    );
    assert!(tcp_sent >= udp_got);
}

#[test]
fn timed_out_query_still_leaves_a_valid_trace() {
    let silent = Hostile::udp(|_| Vec::new());
    let trace = Trace::new();
    let (out, bytes) = live(
        &silent.port(),
        &["x.qtap.test", "+timeout=1", "+tries=2"],
        &trace,
    );
    out.expect_code(9);
    assert_eq!(raw_data_frames(&bytes).len(), 2);
    let records = decode(&trace.path());
    assert_eq!(types(&records), [STUB_QUERY, STUB_QUERY]);
    for record in &records {
        let m = msg(record);
        assert_eq!(m.response_message, None);
        assert_eq!(m.response_port, Some(u32::from(silent.addr().port())));
        assert!(m.query_message.is_some());
    }
    assert_eq!(silent.queries(), 2);
}

#[test]
fn ignored_replies_are_not_recorded() {
    let good = Ipv4Addr::new(192, 0, 2, 77);
    let bad = Ipv4Addr::new(192, 0, 2, 66);
    let tricky = Hostile::udp(move |q| {
        vec![
            Reply::Send(hostile::with_wrong_id(a_reply(q, bad))),
            Reply::SendFrom(a_reply(q, bad)),
            Reply::Sleep(Duration::from_millis(100)),
            Reply::Send(a_reply(q, good)),
        ]
    });
    let trace = Trace::new();
    let (out, _) = live(
        &tricky.port(),
        &["x.qtap.test", "+timeout=3", "+tries=1"],
        &trace,
    );
    out.expect_code(0);
    let records = decode(&trace.path());
    assert_eq!(types(&records), [STUB_QUERY, STUB_RESPONSE]);
    check_pair(&records[0], &records[1]);
    let response = msg(&records[1])
        .response_message
        .as_deref()
        .unwrap_or_default();
    assert!(
        response.ends_with(&good.octets()),
        "the accepted reply is recorded"
    );
}

#[test]
fn tap_type_tool_writes_tool_frames() {
    let server = TestServer::start();
    let trace = Trace::new();
    let (out, _) = live(
        &server.port(),
        &["www.qtap.test", "--tap-type", "tool"],
        &trace,
    );
    out.expect_code(0);
    let records = decode(&trace.path());
    assert_eq!(
        types(&records),
        [
            pb::message::Type::ToolQuery as i32,
            pb::message::Type::ToolResponse as i32
        ]
    );
}

#[test]
fn tap_identity_is_written_to_every_frame() {
    let server = TestServer::start();
    let trace = Trace::new();
    let (out, _) = live(
        &server.port(),
        &[
            "www.qtap.test",
            "qtap.test",
            "NS",
            "--tap-identity",
            "probe-7",
        ],
        &trace,
    );
    out.expect_code(0);
    let records = decode(&trace.path());
    assert_eq!(records.len(), 4);
    for record in &records {
        assert_eq!(record.identity.as_deref(), Some(&b"probe-7"[..]));
    }
}
