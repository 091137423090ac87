//! The JSON output format: one object per DNS message, with RFC 8427 member
//! names for the message and a `dnstap` object for the record around it.
//!
//! This module owns the shape of that object (described for consumers by
//! `schema/qtap-message.schema.json`): header fields, sections, RDATA in
//! qtap's presentation text, EDNS, the verbatim message as
//! `messageOctetsHEX`, and the dnstap context (type, producer, transport,
//! addresses, times, round-trip time, frame offset). It must not decide
//! what to show (that is the caller's loop over [`Item`]s), print, read a
//! clock or panic: any bytes give valid JSON, and a message that does not
//! parse gives an `error` member next to whatever did parse.

use serde_json::{Map, Value};

use crate::dns::name::write_name;
use crate::dns::types::{class_name, type_name};
use crate::dns::wire::{Message, Question, Record};
use crate::pair::Item;
use crate::tap::event::{Direction, Event, Protocol, Timestamp};
use crate::tap::pb;

use super::rdata::{write_rdata, RdataStyle};

/// Appends one JSON object (a single line, no trailing newline) for the DNS
/// message of the event that `item` shows: for [`Item::Query`] the query
/// message; for [`Item::Response`] the response message (if the frame also
/// carries a query message, it is included as a nested `queryMessage`
/// object only when `!query_seen`); for [`Item::Unanswered`] the query
/// message plus `"unanswered": true`. Returns false (appending nothing)
/// when the item has no message.
pub fn write_json(out: &mut String, item: &crate::pair::Item) -> bool {
    match item_object(item) {
        Some(object) => {
            out.push_str(&Value::Object(object).to_string());
            true
        }
        None => false,
    }
}

/// The object [`write_json`] serializes, or None when the item has no
/// message.
pub fn item_object(item: &Item) -> Option<Map<String, Value>> {
    let (event, query_time, field, nested) = match item {
        Item::Query(event) | Item::Unanswered(event) => {
            (event, event.query_time, MessageField::Query, None)
        }
        Item::Response {
            event,
            query_time,
            query_seen,
        } => {
            let is_response = event.direction() == Some(Direction::Response);
            let field = if is_response {
                MessageField::Response
            } else {
                MessageField::Query
            };
            let nested = if is_response && !query_seen {
                event.query_message.as_deref()
            } else {
                None
            };
            (event, *query_time, field, nested)
        }
    };
    let bytes = match field {
        MessageField::Query => event.query_message.as_deref()?,
        MessageField::Response => event.response_message.as_deref()?,
    };
    let mut object = message_object(bytes);
    if let Some(query) = nested {
        object.insert("queryMessage".into(), Value::Object(message_object(query)));
    }
    object.insert(
        "dnstap".into(),
        Value::Object(dnstap_object(event, query_time, field)),
    );
    if matches!(item, Item::Unanswered(_)) {
        object.insert("unanswered".into(), Value::Bool(true));
    }
    Some(object)
}

/// Which dnstap field the message of an object came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MessageField {
    Query,
    Response,
}

impl MessageField {
    fn name(self) -> &'static str {
        match self {
            MessageField::Query => "query_message",
            MessageField::Response => "response_message",
        }
    }
}

/// The RFC 8427 object for one DNS message (no dnstap context): header,
/// first question, the four sections, `EDNS`, `messageOctetsHEX`, and
/// `error` when parsing stopped early. Never fails.
pub fn message_object(bytes: &[u8]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("messageOctetsHEX".into(), Value::String(hex(bytes)));
    let msg = match Message::parse(bytes) {
        Ok(msg) => msg,
        Err(e) => {
            m.insert("error".into(), Value::String(e.to_string()));
            return m;
        }
    };
    let h = &msg.header;
    m.insert("ID".into(), h.id.into());
    m.insert("QR".into(), h.qr().into());
    m.insert("Opcode".into(), h.opcode().into());
    m.insert("AA".into(), h.aa().into());
    m.insert("TC".into(), h.tc().into());
    m.insert("RD".into(), h.rd().into());
    m.insert("RA".into(), h.ra().into());
    m.insert("AD".into(), h.ad().into());
    m.insert("CD".into(), h.cd().into());
    m.insert("RCODE".into(), h.rcode().into());
    m.insert("QDCOUNT".into(), h.qdcount.into());
    m.insert("ANCOUNT".into(), h.ancount.into());
    m.insert("NSCOUNT".into(), h.nscount.into());
    m.insert("ARCOUNT".into(), h.arcount.into());
    if let Some(q) = msg.first_question() {
        m.insert("QNAME".into(), Value::String(name_text(&q.name)));
        m.insert("QTYPE".into(), q.qtype.into());
        m.insert("QTYPEname".into(), Value::String(type_name(q.qtype).into()));
        m.insert("QCLASS".into(), q.qclass.into());
        m.insert(
            "QCLASSname".into(),
            Value::String(class_name(q.qclass).into()),
        );
    }
    m.insert(
        "questionRRs".into(),
        Value::Array(msg.question.iter().map(question_object).collect()),
    );
    let sections = [
        ("answerRRs", &msg.answer),
        ("authorityRRs", &msg.authority),
        ("additionalRRs", &msg.additional),
    ];
    for (key, records) in sections {
        let list = records.iter().map(|rr| record_object(&msg, rr)).collect();
        m.insert(key.into(), Value::Array(list));
    }
    if let Some(opt) = msg.opt() {
        m.insert(
            "EDNS".into(),
            Value::Object(edns_object(opt, msg.rdata(opt))),
        );
    }
    if let Some(e) = &msg.error {
        m.insert("error".into(), Value::String(e.to_string()));
    }
    if msg.trailing > 0 {
        m.insert("trailingOctets".into(), msg.trailing.into());
    }
    m
}

fn name_text(name: &crate::dns::name::Name) -> String {
    let mut s = String::new();
    write_name(&mut s, name);
    s
}

fn question_object(q: &Question) -> Value {
    let mut m = Map::new();
    m.insert("NAME".into(), Value::String(name_text(&q.name)));
    m.insert("TYPE".into(), q.qtype.into());
    m.insert("TYPEname".into(), Value::String(type_name(q.qtype).into()));
    m.insert("CLASS".into(), q.qclass.into());
    m.insert(
        "CLASSname".into(),
        Value::String(class_name(q.qclass).into()),
    );
    Value::Object(m)
}

/// RDATA text for JSON: presentation form without dig's chunking spaces.
const JSON_RDATA: RdataStyle = RdataStyle {
    split: 0,
    unknown_format: false,
};

fn record_object(msg: &Message<'_>, rr: &Record) -> Value {
    let mut m = Map::new();
    let tname = type_name(rr.rtype);
    m.insert("NAME".into(), Value::String(name_text(&rr.name)));
    m.insert("TYPE".into(), rr.rtype.into());
    m.insert("TYPEname".into(), Value::String(tname.clone().into()));
    m.insert("CLASS".into(), rr.class.into());
    m.insert(
        "CLASSname".into(),
        Value::String(class_name(rr.class).into()),
    );
    m.insert("TTL".into(), rr.ttl.into());
    let rdata = msg.rdata(rr);
    m.insert("RDLENGTH".into(), rdata.len().into());
    m.insert("RDATAHEX".into(), Value::String(hex(rdata)));
    let mut text = String::new();
    match write_rdata(
        &mut text,
        msg.bytes,
        rr.rtype,
        rr.class,
        rr.rdata.start,
        rr.rdata.end,
        &JSON_RDATA,
    ) {
        Ok(()) => {
            m.insert(format!("rdata{tname}"), Value::String(text));
        }
        Err(e) => {
            m.insert("rdataError".into(), Value::String(e.to_string()));
        }
    }
    Value::Object(m)
}

/// The EDNS option mnemonics qtap uses, by code (IANA "DNS EDNS0 Option
/// Codes"); None for codes it does not name.
pub fn edns_option_name(code: u16) -> Option<&'static str> {
    Some(match code {
        1 => "LLQ",
        2 => "UL",
        3 => "NSID",
        5 => "DAU",
        6 => "DHU",
        7 => "N3U",
        8 => "CLIENT-SUBNET",
        9 => "EXPIRE",
        10 => "COOKIE",
        11 => "TCP-KEEPALIVE",
        12 => "PADDING",
        13 => "CHAIN",
        14 => "KEY-TAG",
        15 => "EDE",
        16 => "CLIENT-TAG",
        17 => "SERVER-TAG",
        18 => "REPORT-CHANNEL",
        19 => "ZONEVERSION",
        _ => return None,
    })
}

/// The `EDNS` object of an OPT record (RFC 6891 §6.1): its CLASS is the
/// UDP payload size, its TTL the extended rcode, version and flags.
fn edns_object(opt: &Record, rdata: &[u8]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("udpSize".into(), opt.class.into());
    m.insert("extendedRCODE".into(), (opt.ttl >> 24).into());
    m.insert("version".into(), ((opt.ttl >> 16) & 0xff).into());
    let flags = opt.ttl & 0xffff;
    m.insert("flags".into(), flags.into());
    m.insert("DO".into(), (flags & 0x8000 != 0).into());
    let mut options = Vec::new();
    let mut rest = rdata;
    while !rest.is_empty() {
        let (Some(head), Some(after)) = (rest.get(..4), rest.get(4..)) else {
            break;
        };
        let code = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let Some(data) = after.get(..len) else {
            break;
        };
        let mut o = Map::new();
        o.insert("code".into(), code.into());
        if let Some(name) = edns_option_name(code) {
            o.insert("name".into(), Value::String(name.into()));
        }
        o.insert("hex".into(), Value::String(hex(data)));
        options.push(Value::Object(o));
        rest = after.get(len..).unwrap_or(&[]);
    }
    m.insert("options".into(), Value::Array(options));
    if !rest.is_empty() {
        m.insert(
            "error".into(),
            Value::String(format!(
                "malformed option data: {} bytes left over",
                rest.len()
            )),
        );
    }
    m
}

/// The `dnstap` object: the record's context. `query_time` is the item's
/// (the frame's own, else the matching query's); `queryTimePaired` says
/// when it came from the matching query record.
fn dnstap_object(
    event: &Event,
    query_time: Option<Timestamp>,
    field: MessageField,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        "type".into(),
        Value::String(event.mtype.name().into_owned()),
    );
    m.insert("messageField".into(), Value::String(field.name().into()));
    if let Some(b) = &event.identity {
        insert_bytes(&mut m, "identity", b);
    }
    if let Some(b) = &event.version {
        insert_bytes(&mut m, "version", b);
    }
    if let Some(f) = event.family {
        m.insert("socketFamily".into(), family_value(f));
    }
    if let Some(p) = event.protocol {
        m.insert("socketProtocol".into(), protocol_value(p));
    }
    if let Some(h) = event.http_protocol {
        let v = match pb::HttpProtocol::try_from(h) {
            Ok(p) => Value::String(p.as_str_name().into()),
            Err(_) => h.into(),
        };
        m.insert("httpProtocol".into(), v);
    }
    if let Some(a) = event.query_addr {
        m.insert("queryAddress".into(), Value::String(a.to_string()));
    }
    if let Some(p) = event.query_port {
        m.insert("queryPort".into(), p.into());
    }
    if let Some(a) = event.response_addr {
        m.insert("responseAddress".into(), Value::String(a.to_string()));
    }
    if let Some(p) = event.response_port {
        m.insert("responsePort".into(), p.into());
    }
    if let Some(t) = query_time {
        insert_time(&mut m, "queryTime", t);
        if event.query_time.is_none() {
            m.insert("queryTimePaired".into(), Value::Bool(true));
        }
    }
    if let Some(t) = event.response_time {
        insert_time(&mut m, "responseTime", t);
    }
    if let (Some(q), Some(r)) = (query_time, event.response_time) {
        if let Some(ns) = r.nanos_since(&q).and_then(|n| u64::try_from(n).ok()) {
            m.insert("rttNanos".into(), ns.into());
        }
    }
    if let Some(o) = event.offset {
        m.insert("frameOffset".into(), o.into());
    }
    m
}

/// A dnstap `bytes` field as a string; when it is not UTF-8, the lossy
/// text plus the exact bytes as `<key>HEX`.
fn insert_bytes(m: &mut Map<String, Value>, key: &str, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => {
            m.insert(key.into(), Value::String(s.into()));
        }
        Err(_) => {
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            m.insert(key.into(), Value::String(lossy));
            m.insert(format!("{key}HEX"), Value::String(hex(bytes)));
        }
    }
}

fn family_value(f: i32) -> Value {
    match pb::SocketFamily::try_from(f) {
        Ok(x) => Value::String(x.as_str_name().into()),
        Err(_) => f.into(),
    }
}

fn protocol_value(p: Protocol) -> Value {
    let raw = p.to_pb();
    match pb::SocketProtocol::try_from(raw) {
        Ok(x) => Value::String(x.as_str_name().into()),
        Err(_) => raw.into(),
    }
}

/// Seconds of 9999-12-31T23:59:59Z + 1: the last instant RFC 3339 can write.
const RFC3339_END: u64 = 253_402_300_800;

/// RFC 3339 in UTC with nine fractional digits, or None for a time past
/// year 9999.
pub fn rfc3339(t: Timestamp) -> Option<String> {
    if t.sec >= RFC3339_END {
        return None;
    }
    let sec = i64::try_from(t.sec).ok()?;
    let dt = chrono::DateTime::from_timestamp(sec, t.nsec.min(999_999_999))?;
    Some(dt.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
}

/// `<key>` as RFC 3339; a time RFC 3339 cannot hold becomes `<key>Sec`
/// and `<key>Nsec` instead, so it is not lost.
fn insert_time(m: &mut Map<String, Value>, key: &str, t: Timestamp) {
    match rfc3339(t) {
        Some(s) => {
            m.insert(key.into(), Value::String(s));
        }
        None => {
            m.insert(format!("{key}Sec"), t.sec.into());
            m.insert(format!("{key}Nsec"), t.nsec.into());
        }
    }
}

/// Uppercase hex, two digits per byte, no separators.
pub fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::pair::Pairer;
    use crate::tap::event::MessageType;
    use crate::tap::reader::{Item as TapItem, ReaderOptions, TapReader};
    use bytes::Bytes;
    use std::collections::BTreeSet;
    use std::path::PathBuf;

    /// The corpus files (every `.fstrm` under tests/fixtures/corpus).
    pub(crate) fn corpus_files() -> Vec<PathBuf> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "fstrm"))
            .collect();
        files.sort();
        assert!(files.len() >= 10, "corpus missing in {}", dir.display());
        files
    }

    /// Every event of a file (up to a fatal error, as `--read` does).
    pub(crate) fn events_of(path: &std::path::Path) -> Vec<Event> {
        let bytes = std::fs::read(path).unwrap();
        let mut reader = TapReader::new(&bytes[..], ReaderOptions::default());
        let mut events = Vec::new();
        while let Ok(Some(item)) = reader.next_item() {
            if let TapItem::Data { offset, payload } = item {
                if let Ok(e) = Event::from_payload(Some(offset), payload) {
                    events.push(e);
                }
            }
        }
        events
    }

    /// The paired items of a file.
    pub(crate) fn items_of(path: &std::path::Path) -> Vec<Item> {
        let mut pairer = Pairer::default();
        let mut items = Vec::new();
        for e in events_of(path) {
            pairer.push(e, &mut items);
        }
        pairer.finish(&mut items);
        items
    }

    fn unhex(s: &str) -> Vec<u8> {
        assert!(s.len() % 2 == 0, "odd hex length");
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn json_of(item: &Item) -> Value {
        let mut out = String::new();
        assert!(write_json(&mut out, item));
        assert!(!out.contains('\n'), "one line: {out}");
        serde_json::from_str(&out).unwrap()
    }

    /// The message bytes an item shows.
    fn shown(item: &Item) -> &[u8] {
        match item {
            Item::Query(e) | Item::Unanswered(e) => e.query_message.as_deref().unwrap(),
            Item::Response { event, .. } => event.main_message().unwrap(),
        }
    }

    fn has_message(item: &Item) -> bool {
        match item {
            Item::Query(e) | Item::Unanswered(e) => e.query_message.is_some(),
            Item::Response { event, .. } => event.main_message().is_some(),
        }
    }

    #[test]
    fn hex_in_json_round_trips_for_every_corpus_message() {
        let mut checked = 0;
        for path in corpus_files() {
            for item in items_of(&path) {
                if !has_message(&item) {
                    let mut out = String::new();
                    assert!(!write_json(&mut out, &item) && out.is_empty());
                    continue;
                }
                let v = json_of(&item);
                let hexed = v["messageOctetsHEX"].as_str().unwrap();
                assert_eq!(unhex(hexed), shown(&item), "{}", path.display());
                if let Item::Response {
                    event,
                    query_seen: false,
                    ..
                } = &item
                {
                    if let Some(q) = &event.query_message {
                        let nested = v["queryMessage"]["messageOctetsHEX"].as_str().unwrap();
                        assert_eq!(unhex(nested), &q[..]);
                        checked += 1;
                    }
                }
                checked += 1;
            }
            // Every message field of every record, not only those shown.
            for e in events_of(&path) {
                for m in [&e.query_message, &e.response_message]
                    .into_iter()
                    .flatten()
                {
                    let o = message_object(m);
                    assert_eq!(unhex(o["messageOctetsHEX"].as_str().unwrap()), &m[..]);
                    checked += 1;
                }
            }
        }
        assert!(checked > 500, "only {checked} messages checked");
    }

    fn sample_event() -> Event {
        Event {
            offset: Some(42),
            identity: Some(Bytes::from_static(b"ns\x01\xff")),
            version: Some(Bytes::from_static(b"qtap 0.1.0")),
            mtype: MessageType::STUB_RESPONSE,
            family: Some(1),
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some("192.0.2.7".parse().unwrap()),
            query_port: Some(40000),
            response_addr: Some("192.0.2.53".parse().unwrap()),
            response_port: Some(53),
            query_time: None,
            response_time: Some(Timestamp {
                sec: 1_795_327_020,
                nsec: 513_845_982,
            }),
            query_message: Some(Bytes::from(query_bytes())),
            response_message: Some(Bytes::from(response_bytes())),
        }
    }

    fn query_bytes() -> Vec<u8> {
        vec![
            0x12, 0x34, 0x01, 0x20, 0, 1, 0, 0, 0, 0, 0, 1, // header, rd ad
            1, b'a', 1, b'b', 0, 0, 1, 0, 1, // a.b. A IN
            0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 12, // OPT 1232, DO
            0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8, // COOKIE
        ]
    }

    fn response_bytes() -> Vec<u8> {
        vec![
            0x12, 0x34, 0x85, 0xa0, 0, 1, 0, 2, 0, 0, 0, 1, // qr aa rd ra ad
            1, b'a', 1, b'b', 0, 0, 1, 0, 1, // question
            0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 192, 0, 2, 1, // A
            0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 3, 1, 2, 3, // bad A
            0, 0, 41, 0x04, 0xd0, 0x01, 0, 0x80, 0, 0, 5, // OPT, ext rcode 1
            0, 3, 0, 9, 1, // NSID cut short
        ]
    }

    #[test]
    fn response_object_has_rfc8427_members_and_dnstap_context() {
        let item = Item::Response {
            event: sample_event(),
            query_time: Some(Timestamp {
                sec: 1_795_327_020,
                nsec: 500_000_000,
            }),
            query_seen: false,
        };
        let v = json_of(&item);
        assert_eq!(v["ID"], 0x1234);
        assert_eq!(v["QR"], true);
        assert_eq!(v["AA"], true);
        assert_eq!(v["TC"], false);
        assert_eq!(v["RA"], true);
        assert_eq!(v["AD"], true);
        assert_eq!(v["CD"], false);
        assert_eq!(v["Opcode"], 0);
        assert_eq!(v["RCODE"], 0);
        assert_eq!(v["ANCOUNT"], 2);
        assert_eq!(v["QNAME"], "a.b.");
        assert_eq!(v["QTYPEname"], "A");
        assert_eq!(v["QCLASSname"], "IN");
        assert_eq!(v["questionRRs"][0]["NAME"], "a.b.");
        let a = &v["answerRRs"][0];
        assert_eq!(a["rdataA"], "192.0.2.1");
        assert_eq!(a["RDATAHEX"], "C0000201");
        assert_eq!(a["TTL"], 3600);
        assert_eq!(a["CLASSname"], "IN");
        // A 3-byte A record: no presentation text, but the bytes and why.
        let bad = &v["answerRRs"][1];
        assert!(bad.get("rdataA").is_none());
        assert_eq!(bad["RDATAHEX"], "010203");
        assert!(bad["rdataError"].as_str().unwrap().contains("malformed A"));
        let edns = &v["EDNS"];
        assert_eq!(edns["udpSize"], 1232);
        assert_eq!(edns["extendedRCODE"], 1);
        assert_eq!(edns["DO"], true);
        assert_eq!(edns["options"].as_array().unwrap().len(), 0);
        assert!(edns["error"].as_str().unwrap().contains("5 bytes"));
        let q = &v["queryMessage"];
        assert_eq!(q["QR"], false);
        assert_eq!(q["EDNS"]["options"][0]["name"], "COOKIE");
        assert_eq!(q["EDNS"]["options"][0]["hex"], "0102030405060708");
        assert!(q.get("dnstap").is_none());
        let d = &v["dnstap"];
        assert_eq!(d["type"], "STUB_RESPONSE");
        assert_eq!(d["identity"], "ns\u{1}\u{fffd}");
        assert_eq!(d["identityHEX"], "6E7301FF");
        assert_eq!(d["version"], "qtap 0.1.0");
        assert_eq!(d["socketFamily"], "INET");
        assert_eq!(d["socketProtocol"], "UDP");
        assert_eq!(d["queryAddress"], "192.0.2.7");
        assert_eq!(d["responsePort"], 53);
        assert_eq!(d["responseTime"], "2026-11-22T05:57:00.513845982Z");
        assert_eq!(d["queryTime"], "2026-11-22T05:57:00.500000000Z");
        assert_eq!(d["queryTimePaired"], true);
        assert_eq!(d["rttNanos"], 13_845_982);
        assert_eq!(d["frameOffset"], 42);
        assert_eq!(d["messageField"], "response_message");
    }

    #[test]
    fn query_seen_drops_the_nested_query_and_unanswered_is_marked() {
        let item = Item::Response {
            event: sample_event(),
            query_time: None,
            query_seen: true,
        };
        let v = json_of(&item);
        assert!(v.get("queryMessage").is_none());
        assert!(v["dnstap"].get("rttNanos").is_none());
        assert!(v.get("unanswered").is_none());
        let mut q = sample_event();
        q.mtype = MessageType::STUB_QUERY;
        q.response_message = None;
        let v = json_of(&Item::Unanswered(q.clone()));
        assert_eq!(v["unanswered"], true);
        assert_eq!(v["QR"], false);
        assert_eq!(v["dnstap"]["messageField"], "query_message");
        q.query_message = None;
        let mut out = String::from("x");
        assert!(!write_json(&mut out, &Item::Query(q)));
        assert_eq!(out, "x");
    }

    #[test]
    fn any_bytes_give_valid_json_with_the_hex() {
        let full = response_bytes();
        let mut variants: Vec<Vec<u8>> = (0..full.len()).map(|n| full[..n].to_vec()).collect();
        variants.push(vec![0xff; 40]);
        let mut name_loop = full.clone();
        name_loop[21] = 0xc0;
        name_loop[22] = 21; // a pointer to itself
        variants.push(name_loop);
        for bytes in variants {
            let mut e = sample_event();
            e.response_message = Some(Bytes::from(bytes.clone()));
            let v = json_of(&Item::Response {
                event: e,
                query_time: None,
                query_seen: true,
            });
            assert_eq!(unhex(v["messageOctetsHEX"].as_str().unwrap()), bytes);
            if bytes.len() < 12 {
                assert!(v["error"].as_str().unwrap().contains("truncated"));
                assert!(v.get("ID").is_none());
            } else if bytes.len() < full.len() {
                assert!(v.get("error").is_some(), "{} bytes", bytes.len());
                assert_eq!(v["ID"], u16::from_be_bytes([bytes[0], bytes[1]]));
            }
        }
    }

    #[test]
    fn times_are_rfc3339_with_nanoseconds_or_kept_raw() {
        let t = |sec, nsec| rfc3339(Timestamp { sec, nsec });
        assert_eq!(t(0, 0).unwrap(), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(t(1, 5).unwrap(), "1970-01-01T00:00:01.000000005Z");
        assert_eq!(t(RFC3339_END - 1, 999_999_999).unwrap().len(), 30);
        assert_eq!(t(RFC3339_END, 0), None);
        let mut e = sample_event();
        e.response_time = Some(Timestamp {
            sec: u64::MAX,
            nsec: 7,
        });
        let v = json_of(&Item::Response {
            event: e,
            query_time: None,
            query_seen: true,
        });
        assert_eq!(v["dnstap"]["responseTimeSec"], u64::MAX);
        assert_eq!(v["dnstap"]["responseTimeNsec"], 7);
        assert!(v["dnstap"].get("responseTime").is_none());
    }

    // ---- JSON Schema check -------------------------------------------------
    //
    // No JSON Schema validator crate is in the dependency tree, so this is a
    // small interpreter for the keywords the schema uses (draft 2020-12
    // semantics). It refuses any keyword it does not implement, so a schema
    // edit cannot silently go unchecked. `pattern` is checked through a table
    // of the exact patterns the schema uses, for the same reason.

    fn schema() -> Value {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/qtap-message.schema.json");
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn pattern_matches(pattern: &str, s: &str) -> bool {
        let all = |s: &str, f: fn(u8) -> bool| s.bytes().all(f);
        match pattern {
            "^([0-9A-F]{2})*$" => {
                s.len() % 2 == 0 && all(s, |b| matches!(b, b'0'..=b'9' | b'A'..=b'F'))
            }
            "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$" => {
                let b = s.as_bytes();
                b.len() == 30
                    && b.iter().enumerate().all(|(i, &c)| match i {
                        4 | 7 => c == b'-',
                        10 => c == b'T',
                        13 | 16 => c == b':',
                        19 => c == b'.',
                        29 => c == b'Z',
                        _ => c.is_ascii_digit(),
                    })
            }
            "^rdata[A-Z0-9-]+$" => s.strip_prefix("rdata").is_some_and(|r| {
                !r.is_empty() && all(r, |b| matches!(b, b'A'..=b'Z' | b'0'..=b'9' | b'-'))
            }),
            other => panic!("the test validator does not know pattern {other}"),
        }
    }

    fn type_ok(t: &str, v: &Value) -> bool {
        match t {
            "object" => v.is_object(),
            "array" => v.is_array(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "number" => v.is_number(),
            "integer" => v.is_i64() || v.is_u64(),
            other => panic!("unknown type {other}"),
        }
    }

    /// Validates `v` against `s`; returns the object members it evaluated
    /// (for `unevaluatedProperties`). Errors are pushed with their path.
    fn check(
        root: &Value,
        s: &Value,
        v: &Value,
        path: &str,
        errs: &mut Vec<String>,
    ) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        if let Some(b) = s.as_bool() {
            if !b {
                errs.push(format!("{path}: not allowed"));
            }
            return seen;
        }
        let s = s
            .as_object()
            .expect("schema must be an object or a boolean");
        const IGNORED: &[&str] = &[
            "$schema",
            "$id",
            "$defs",
            "$comment",
            "title",
            "description",
            "format",
            "examples",
        ];
        for (k, kv) in s {
            match k.as_str() {
                k if IGNORED.contains(&k) => {}
                "$ref" => {
                    let name = kv
                        .as_str()
                        .unwrap()
                        .strip_prefix("#/$defs/")
                        .expect("local $ref");
                    let target = &root["$defs"][name];
                    assert!(!target.is_null(), "dangling $ref {name}");
                    let before = errs.len();
                    let got = check(root, target, v, path, errs);
                    if errs.len() == before {
                        seen.extend(got);
                    }
                }
                "type" => {
                    let ok = match kv {
                        Value::String(t) => type_ok(t, v),
                        Value::Array(ts) => ts.iter().any(|t| type_ok(t.as_str().unwrap(), v)),
                        _ => panic!("bad type keyword"),
                    };
                    if !ok {
                        errs.push(format!("{path}: {v} is not of type {kv}"));
                    }
                }
                "enum" => {
                    if !kv.as_array().unwrap().contains(v) {
                        errs.push(format!("{path}: {v} not in {kv}"));
                    }
                }
                "const" => {
                    if kv != v {
                        errs.push(format!("{path}: {v} is not {kv}"));
                    }
                }
                "minimum" | "maximum" => {
                    if let (Some(n), Some(lim)) = (v.as_f64(), kv.as_f64()) {
                        let bad = if k == "minimum" { n < lim } else { n > lim };
                        if bad {
                            errs.push(format!("{path}: {n} breaks {k} {lim}"));
                        }
                    }
                }
                "pattern" => {
                    if let Some(text) = v.as_str() {
                        if !pattern_matches(kv.as_str().unwrap(), text) {
                            errs.push(format!("{path}: {text:?} does not match {kv}"));
                        }
                    }
                }
                "items" => {
                    if let Some(list) = v.as_array() {
                        for (i, x) in list.iter().enumerate() {
                            check(root, kv, x, &format!("{path}[{i}]"), errs);
                        }
                    }
                }
                "required" => {
                    if let Some(o) = v.as_object() {
                        for r in kv.as_array().unwrap() {
                            if !o.contains_key(r.as_str().unwrap()) {
                                errs.push(format!("{path}: missing {r}"));
                            }
                        }
                    }
                }
                "dependentRequired" => {
                    if let Some(o) = v.as_object() {
                        for (trigger, needs) in kv.as_object().unwrap() {
                            if o.contains_key(trigger) {
                                for r in needs.as_array().unwrap() {
                                    if !o.contains_key(r.as_str().unwrap()) {
                                        errs.push(format!("{path}: {trigger} without {r}"));
                                    }
                                }
                            }
                        }
                    }
                }
                "properties"
                | "patternProperties"
                | "additionalProperties"
                | "unevaluatedProperties" => {}
                other => panic!("the test validator does not implement keyword {other}"),
            }
        }
        if let Some(o) = v.as_object() {
            let props = s.get("properties").and_then(Value::as_object);
            let pats = s.get("patternProperties").and_then(Value::as_object);
            let mut local = BTreeSet::new();
            for (key, value) in o {
                let p = format!("{path}.{key}");
                let mut matched = false;
                if let Some(sub) = props.and_then(|m| m.get(key)) {
                    check(root, sub, value, &p, errs);
                    matched = true;
                }
                for (pat, sub) in pats.into_iter().flatten() {
                    if pattern_matches(pat, key) {
                        check(root, sub, value, &p, errs);
                        matched = true;
                    }
                }
                if !matched {
                    if let Some(add) = s.get("additionalProperties") {
                        check(root, add, value, &p, errs);
                        matched = true;
                    }
                }
                if matched {
                    local.insert(key.clone());
                }
            }
            seen.extend(local);
            if let Some(uneval) = s.get("unevaluatedProperties") {
                for (key, value) in o {
                    if !seen.contains(key) {
                        check(root, uneval, value, &format!("{path}.{key}"), errs);
                        seen.insert(key.clone());
                    }
                }
            }
        }
        seen
    }

    fn schema_errors(v: &Value) -> Vec<String> {
        let root = schema();
        let mut errs = Vec::new();
        check(&root, &root, v, "$", &mut errs);
        errs
    }

    #[test]
    fn schema_is_draft_2020_12() {
        let s = schema();
        assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }

    #[test]
    fn every_corpus_object_and_odd_messages_match_the_schema() {
        let mut n = 0;
        let mut items: Vec<Item> = corpus_files().iter().flat_map(|p| items_of(p)).collect();
        let full = response_bytes();
        for cut in [0, 5, 12, 20, 30, full.len() - 3, full.len()] {
            let mut e = sample_event();
            e.response_message = Some(Bytes::from(full[..cut].to_vec()));
            e.http_protocol = Some(2);
            e.protocol = Some(Protocol::Other(99));
            e.family = Some(7);
            items.push(Item::Response {
                event: e,
                query_time: Some(Timestamp { sec: 1, nsec: 0 }),
                query_seen: false,
            });
        }
        let mut far = sample_event();
        far.query_time = Some(Timestamp {
            sec: u64::MAX,
            nsec: 1,
        });
        items.push(Item::Unanswered(far));
        for item in &items {
            let mut out = String::new();
            if !write_json(&mut out, item) {
                continue;
            }
            let v: Value = serde_json::from_str(&out).unwrap();
            let errs = schema_errors(&v);
            assert!(errs.is_empty(), "{errs:#?}\n{out}");
            n += 1;
        }
        assert!(n > 350, "only {n} objects validated");
    }

    #[test]
    fn schema_check_rejects_wrong_objects() {
        let good = json_of(&Item::Response {
            event: sample_event(),
            query_time: None,
            query_seen: false,
        });
        assert!(schema_errors(&good).is_empty());
        type Mutation = fn(&mut Map<String, Value>);
        let mutations: [(&str, Mutation); 7] = [
            ("no hex", |o| {
                o.remove("messageOctetsHEX");
            }),
            ("lowercase hex", |o| {
                o.insert("messageOctetsHEX".into(), "ab".into());
            }),
            ("flag as number", |o| {
                o.insert("QR".into(), 1.into());
            }),
            ("unknown member", |o| {
                o.insert("Bogus".into(), 1.into());
            }),
            ("header without counts", |o| {
                o.remove("ANCOUNT");
            }),
            ("bad time", |o| {
                o["dnstap"]["responseTime"] = "2026-11-22 05:57:00Z".into();
            }),
            ("unknown nested member", |o| {
                o["queryMessage"]["dnstap"] = Value::Object(Map::new());
            }),
        ];
        for (what, mutate) in mutations {
            let mut v = good.clone();
            mutate(v.as_object_mut().unwrap());
            assert!(!schema_errors(&v).is_empty(), "{what} was accepted");
        }
    }
}
