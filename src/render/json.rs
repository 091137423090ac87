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
//!
//! The text is written straight into the caller's buffer, member by member
//! (no intermediate tree): `--read --format json` renders millions of
//! messages. Text that comes from the input (names, RDATA, dnstap identity)
//! is appended as it is and escaped afterwards only when it holds a
//! character JSON must escape.

use crate::civil::YEAR_10000;
use std::cell::Cell;
use std::fmt::Write as _;
use std::net::IpAddr;

use crate::dns::name::{write_name, Name};
use crate::dns::types::{
    class_name, known_type_name, CLASS_ANY, CLASS_CH, CLASS_HS, CLASS_IN, CLASS_NONE,
};
use crate::dns::wire::{Message, Question, Record};
use crate::pair::Item;
use crate::tap::event::{Direction, Event, MessageType, Protocol, Timestamp};
use crate::tap::pb;

use super::opt::edns_problems;
use super::rdata::{write_rdata, RdataStyle};

/// Appends one JSON object (a single line, no trailing newline) for the DNS
/// message of the event that `item` shows: for [`Item::Query`] the query
/// message; for [`Item::Response`] the response message (if the frame also
/// carries a query message, it is included as a nested `queryMessage`
/// object only when `!query_seen`); for [`Item::Unanswered`] the query
/// message plus `"unanswered": true`. Returns false (appending nothing)
/// when the item has no message.
///
/// Members come in reading order: header, first question, sections,
/// `EDNS`, `messageOctetsHEX`, `error`, then `unanswered`, `queryMessage`
/// and `dnstap`.
pub fn write_json(out: &mut String, item: &crate::pair::Item) -> bool {
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
        MessageField::Query => event.query_message.as_deref(),
        MessageField::Response => event.response_message.as_deref(),
    };
    let Some(bytes) = bytes else {
        return false;
    };
    // Room for the usual object, so the pushes below rarely reallocate.
    out.reserve(1024 + 4 * (bytes.len() + nested.map_or(0, <[u8]>::len)));
    out.push('{');
    write_message_members(out, bytes);
    if matches!(item, Item::Unanswered(_)) {
        out.push_str(",\"unanswered\":true");
    }
    if let Some(query) = nested {
        out.push_str(",\"queryMessage\":{");
        write_message_members(out, query);
        out.push('}');
    }
    out.push_str(",\"dnstap\":{");
    write_dnstap_members(out, event, query_time, field);
    out.push_str("}}");
    true
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

/// The members (no braces) of the RFC 8427 object for one DNS message (no
/// dnstap context): header, first question, the four sections, `EDNS`,
/// `messageOctetsHEX`, and `error` when parsing stopped early. Never fails;
/// always writes at least one member.
fn write_message_members(out: &mut String, bytes: &[u8]) {
    let msg = match Message::parse(bytes) {
        Ok(msg) => msg,
        Err(e) => {
            out.push_str("\"messageOctetsHEX\":\"");
            push_hex(out, bytes);
            out.push_str("\",\"error\":");
            push_display(out, &e);
            return;
        }
    };
    let h = &msg.header;
    out.push_str("\"ID\":");
    push_u64(out, h.id.into());
    push_bool(out, ",\"QR\":", h.qr());
    out.push_str(",\"Opcode\":");
    push_u64(out, h.opcode().into());
    push_bool(out, ",\"AA\":", h.aa());
    push_bool(out, ",\"TC\":", h.tc());
    push_bool(out, ",\"RD\":", h.rd());
    push_bool(out, ",\"RA\":", h.ra());
    push_bool(out, ",\"AD\":", h.ad());
    push_bool(out, ",\"CD\":", h.cd());
    out.push_str(",\"RCODE\":");
    push_u64(out, h.rcode().into());
    out.push_str(",\"QDCOUNT\":");
    push_u64(out, h.qdcount.into());
    out.push_str(",\"ANCOUNT\":");
    push_u64(out, h.ancount.into());
    out.push_str(",\"NSCOUNT\":");
    push_u64(out, h.nscount.into());
    out.push_str(",\"ARCOUNT\":");
    push_u64(out, h.arcount.into());
    if let Some(q) = msg.first_question() {
        out.push(',');
        write_question_members(out, q, "Q");
    }
    out.push_str(",\"questionRRs\":[");
    for (i, q) in msg.question.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_question(out, q);
    }
    let sections = [
        ("],\"answerRRs\":[", &msg.answer),
        ("],\"authorityRRs\":[", &msg.authority),
        ("],\"additionalRRs\":[", &msg.additional),
    ];
    for (open, records) in sections {
        out.push_str(open);
        for (i, rr) in records.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_record(out, &msg, rr);
        }
    }
    out.push(']');
    if let Some(opt) = msg.opt() {
        out.push_str(",\"EDNS\":{");
        write_edns_members(out, opt, msg.rdata(opt));
        out.push('}');
    }
    out.push_str(",\"messageOctetsHEX\":\"");
    push_hex(out, bytes);
    out.push('"');
    if let Some(e) = &msg.error {
        out.push_str(",\"error\":");
        push_display(out, e);
    }
    if msg.trailing > 0 {
        out.push_str(",\"trailingOctets\":");
        push_u64(out, msg.trailing as u64);
    }
    let problems = edns_problems(&msg);
    if !problems.is_empty() {
        out.push_str(",\"warnings\":[");
        for (i, p) in problems.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_display(out, &format_args!("malformed EDNS: {p}"));
        }
        out.push(']');
    }
}

/// One `questionRRs` object.
fn write_question(out: &mut String, q: &Question) {
    out.push('{');
    write_question_members(out, q, "");
    out.push('}');
}

/// `NAME`, `TYPE`, `TYPEname`, `CLASS` and `CLASSname` of a question, each
/// name after `prefix` (`Q` for the message's own `QNAME`, ...).
fn write_question_members(out: &mut String, q: &Question, prefix: &str) {
    let key = |out: &mut String, first: bool, name: &str| {
        out.push_str(if first { "\"" } else { ",\"" });
        out.push_str(prefix);
        out.push_str(name);
        out.push_str("\":");
    };
    key(out, true, "NAME");
    push_name(out, &q.name);
    key(out, false, "TYPE");
    push_u64(out, q.qtype.into());
    key(out, false, "TYPEname");
    out.push('"');
    push_type_name(out, q.qtype);
    out.push('"');
    key(out, false, "CLASS");
    push_u64(out, q.qclass.into());
    key(out, false, "CLASSname");
    out.push('"');
    push_class_name(out, q.qclass);
    out.push('"');
}

/// RDATA text for JSON: presentation form without dig's chunking spaces.
const JSON_RDATA: RdataStyle = RdataStyle {
    split: 0,
    unknown_format: false,
    idn: false,
    expand_aaaa: false,
};

/// One resource record object: owner, type, class, TTL, the RDATA as hex,
/// and either its presentation text as `rdata<TYPE>` or `rdataError`.
fn write_record(out: &mut String, msg: &Message<'_>, rr: &Record) {
    out.push_str("{\"NAME\":");
    push_name(out, &rr.name);
    out.push_str(",\"TYPE\":");
    push_u64(out, rr.rtype.into());
    out.push_str(",\"TYPEname\":\"");
    push_type_name(out, rr.rtype);
    out.push_str("\",\"CLASS\":");
    push_u64(out, rr.class.into());
    out.push_str(",\"CLASSname\":\"");
    push_class_name(out, rr.class);
    out.push_str("\",\"TTL\":");
    push_u64(out, rr.ttl.into());
    let rdata = msg.rdata(rr);
    out.push_str(",\"RDLENGTH\":");
    push_u64(out, rdata.len() as u64);
    out.push_str(",\"RDATAHEX\":\"");
    push_hex(out, rdata);
    let mark = out.len();
    out.push_str("\",\"rdata");
    push_type_name(out, rr.rtype);
    out.push_str("\":\"");
    let text = out.len();
    match write_rdata(
        out,
        msg.bytes,
        rr.rtype,
        rr.class,
        rr.rdata.start,
        rr.rdata.end,
        &JSON_RDATA,
    ) {
        Ok(()) => {
            escape_from(out, text);
            out.push_str("\"}");
        }
        Err(e) => {
            out.truncate(mark);
            out.push_str("\",\"rdataError\":");
            push_display(out, &e);
            out.push('}');
        }
    }
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

/// The members of the `EDNS` object of an OPT record (RFC 6891 §6.1): its
/// CLASS is the UDP payload size, its TTL the extended rcode, version and
/// flags; then the options, and `error` when they do not fill the RDATA.
fn write_edns_members(out: &mut String, opt: &Record, rdata: &[u8]) {
    out.push_str("\"udpSize\":");
    push_u64(out, opt.class.into());
    out.push_str(",\"extendedRCODE\":");
    push_u64(out, (opt.ttl >> 24).into());
    out.push_str(",\"version\":");
    push_u64(out, ((opt.ttl >> 16) & 0xff).into());
    let flags = opt.ttl & 0xffff;
    out.push_str(",\"flags\":");
    push_u64(out, flags.into());
    push_bool(out, ",\"DO\":", flags & 0x8000 != 0);
    out.push_str(",\"options\":[");
    let mut rest = rdata;
    let mut first = true;
    while !rest.is_empty() {
        let (Some(head), Some(after)) = (rest.get(..4), rest.get(4..)) else {
            break;
        };
        let code = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        // An option running past the RDATA is shown with what is there.
        let data = after.get(..len).unwrap_or(after);
        if !first {
            out.push(',');
        }
        first = false;
        out.push_str("{\"code\":");
        push_u64(out, code.into());
        if let Some(name) = edns_option_name(code) {
            out.push_str(",\"name\":\"");
            out.push_str(name);
            out.push('"');
        }
        out.push_str(",\"hex\":\"");
        push_hex(out, data);
        out.push('"');
        if data.len() < len {
            out.push_str(",\"declaredLength\":");
            push_u64(out, len as u64);
            out.push('}');
            // `rest` keeps the cut option: `error` below counts its bytes.
            break;
        }
        out.push('}');
        rest = after.get(len..).unwrap_or(&[]);
    }
    out.push(']');
    if !rest.is_empty() {
        out.push_str(",\"error\":\"malformed option data: ");
        push_u64(out, rest.len() as u64);
        out.push_str(" bytes left over\"");
    }
}

/// The members of the `dnstap` object: the record's context. `query_time`
/// is the item's (the frame's own, else the matching query's);
/// `queryTimePaired` says when it came from the matching query record.
fn write_dnstap_members(
    out: &mut String,
    event: &Event,
    query_time: Option<Timestamp>,
    field: MessageField,
) {
    out.push_str("\"type\":\"");
    push_message_type(out, event.mtype);
    out.push_str("\",\"messageField\":\"");
    out.push_str(field.name());
    out.push('"');
    if let Some(b) = &event.identity {
        push_bytes_member(out, "identity", b);
    }
    if let Some(b) = &event.version {
        push_bytes_member(out, "version", b);
    }
    if let Some(b) = &event.connection {
        push_bytes_member(out, "connection", b);
    }
    if let Some(f) = event.family {
        out.push_str(",\"socketFamily\":");
        match pb::SocketFamily::try_from(f) {
            Ok(x) => push_plain_str(out, x.as_str_name()),
            Err(_) => push_i64(out, f.into()),
        }
    }
    if let Some(p) = event.protocol {
        out.push_str(",\"socketProtocol\":");
        push_protocol(out, p);
    }
    if let Some(h) = event.http_protocol {
        out.push_str(",\"httpProtocol\":");
        match pb::HttpProtocol::try_from(h) {
            Ok(p) => push_plain_str(out, p.as_str_name()),
            Err(_) => push_i64(out, h.into()),
        }
    }
    if let Some(a) = event.query_addr {
        out.push_str(",\"queryAddress\":\"");
        push_addr(out, a);
        out.push('"');
    }
    if let Some(p) = event.query_port {
        out.push_str(",\"queryPort\":");
        push_u64(out, p.into());
    }
    if let Some(a) = event.response_addr {
        out.push_str(",\"responseAddress\":\"");
        push_addr(out, a);
        out.push('"');
    }
    if let Some(p) = event.response_port {
        out.push_str(",\"responsePort\":");
        push_u64(out, p.into());
    }
    if let Some(zone) = &event.query_zone {
        match Name::from_wire(zone) {
            Ok(name) => {
                out.push_str(",\"queryZone\":");
                push_name(out, &name);
            }
            Err(_) => {
                out.push_str(",\"queryZoneHEX\":\"");
                push_hex(out, zone);
                out.push('"');
            }
        }
    }
    if let Some(t) = query_time {
        push_time_member(out, "queryTime", t);
        if event.query_time.is_none() {
            out.push_str(",\"queryTimePaired\":true");
        }
    }
    if let Some(t) = event.response_time {
        push_time_member(out, "responseTime", t);
    }
    if let (Some(q), Some(r)) = (query_time, event.response_time) {
        if let Some(ns) = r.nanos_since(&q).and_then(|n| u64::try_from(n).ok()) {
            out.push_str(",\"rttNanos\":");
            push_u64(out, ns);
        }
    }
    if let Some(o) = event.offset {
        out.push_str(",\"frameOffset\":");
        push_u64(out, o);
    }
}

/// `,"<key>":` and a dnstap `bytes` field as a string; when it is not
/// UTF-8, the lossy text plus the exact bytes as `<key>HEX`.
fn push_bytes_member(out: &mut String, key: &str, bytes: &[u8]) {
    out.push_str(",\"");
    out.push_str(key);
    out.push_str("\":\"");
    if let Ok(s) = std::str::from_utf8(bytes) {
        push_escaped(out, s);
        out.push('"');
        return;
    }
    // As `String::from_utf8_lossy`: one U+FFFD per invalid sequence.
    for chunk in bytes.utf8_chunks() {
        push_escaped(out, chunk.valid());
        if !chunk.invalid().is_empty() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
    out.push_str("\",\"");
    out.push_str(key);
    out.push_str("HEX\":\"");
    push_hex(out, bytes);
    out.push('"');
}

/// The dnstap message type's name, as [`MessageType::name`] gives it.
fn push_message_type(out: &mut String, t: MessageType) {
    match pb::message::Type::try_from(t.0) {
        Ok(x) => out.push_str(x.as_str_name()),
        Err(_) => {
            out.push_str("TYPE");
            push_i64(out, t.0.into());
        }
    }
}

/// The socket protocol: its schema name, else the raw number.
fn push_protocol(out: &mut String, p: Protocol) {
    let raw = p.to_pb();
    match pb::SocketProtocol::try_from(raw) {
        Ok(x) => push_plain_str(out, x.as_str_name()),
        Err(_) => push_i64(out, raw.into()),
    }
}

/// An address as `IpAddr`'s `Display` writes it.
fn push_addr(out: &mut String, a: IpAddr) {
    match a {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                push_u64(out, octet.into());
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// RFC 3339 in UTC with nine fractional digits, or None for a time past
/// year 9999.
pub fn rfc3339(t: Timestamp) -> Option<String> {
    let mut s = String::with_capacity(30);
    push_rfc3339(&mut s, t).then_some(s)
}

/// Appends [`rfc3339`]'s text (a nanosecond count past 999999999 is written
/// as 999999999); false, appending nothing, for a time past year 9999.
fn push_rfc3339(out: &mut String, t: Timestamp) -> bool {
    if t.sec >= YEAR_10000 {
        return false;
    }
    let (year, month, day) = crate::civil::civil_from_days(t.sec / 86_400);
    let secs = t.sec % 86_400;
    let mut b = *b"0000-00-00T00:00:00.000000000Z";
    put_digits(&mut b[0..4], year);
    put_digits(&mut b[5..7], month);
    put_digits(&mut b[8..10], day);
    put_digits(&mut b[11..13], secs / 3600);
    put_digits(&mut b[14..16], secs / 60 % 60);
    put_digits(&mut b[17..19], secs % 60);
    put_digits(&mut b[20..29], t.nsec.min(999_999_999).into());
    push_ascii(out, &b);
    true
}

/// Writes `n` as decimal digits filling `dst` (zero-padded on the left;
/// higher digits that do not fit are dropped).
fn put_digits(dst: &mut [u8], mut n: u64) {
    for d in dst.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// `,"<key>":` and the time as RFC 3339; a time RFC 3339 cannot hold
/// becomes `<key>Sec` and `<key>Nsec` instead, so it is not lost.
fn push_time_member(out: &mut String, key: &str, t: Timestamp) {
    out.push_str(",\"");
    out.push_str(key);
    if t.sec < YEAR_10000 {
        out.push_str("\":\"");
        push_rfc3339(out, t);
        out.push('"');
    } else {
        out.push_str("Sec\":");
        push_u64(out, t.sec);
        out.push_str(",\"");
        out.push_str(key);
        out.push_str("Nsec\":");
        push_u64(out, t.nsec.into());
    }
}

/// Uppercase hex, two digits per byte, no separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    push_hex(&mut s, bytes);
    s
}

/// Appends [`hex`]'s text.
fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut buf = [0u8; 64];
    for chunk in bytes.chunks(32) {
        for (pair, b) in buf.chunks_exact_mut(2).zip(chunk) {
            pair[0] = HEX[usize::from(b >> 4)];
            pair[1] = HEX[usize::from(b & 0xf)];
        }
        push_ascii(out, &buf[..chunk.len() * 2]);
    }
}

/// A record type's mnemonic, as `type_name` gives it, without allocating.
fn push_type_name(out: &mut String, rtype: u16) {
    match known_type_name(rtype) {
        Some(s) => out.push_str(s),
        None => {
            out.push_str("TYPE");
            push_u64(out, rtype.into());
        }
    }
}

/// A class mnemonic, as [`class_name`] gives it, without allocating.
fn push_class_name(out: &mut String, class: u16) {
    match class {
        0 | CLASS_IN | CLASS_CH | CLASS_HS | CLASS_NONE | CLASS_ANY => {
            out.push_str(&class_name(class));
        }
        n => {
            out.push_str("CLASS");
            push_u64(out, n.into());
        }
    }
}

/// `key` (the member's `,"name":` text) and `true` or `false`.
fn push_bool(out: &mut String, key: &str, v: bool) {
    out.push_str(key);
    out.push_str(if v { "true" } else { "false" });
}

/// A domain name in presentation form as a JSON string.
fn push_name(out: &mut String, name: &Name) {
    out.push('"');
    let start = out.len();
    write_name(out, name);
    escape_from(out, start);
    out.push('"');
}

/// A value's `Display` text as a JSON string.
fn push_display(out: &mut String, v: &dyn std::fmt::Display) {
    out.push('"');
    let start = out.len();
    let _ = write!(out, "{v}");
    escape_from(out, start);
    out.push('"');
}

/// A string that needs no escaping (a fixed name) in quotes.
fn push_plain_str(out: &mut String, s: &str) {
    out.push('"');
    out.push_str(s);
    out.push('"');
}

/// True for a byte JSON does not allow raw inside a string.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

thread_local! {
    /// Scratch space for [`escape_from`]'s slow path.
    static SCRATCH: Cell<String> = const { Cell::new(String::new()) };
}

/// Escapes, in place, the text appended to `out` since `start` (a length
/// `out` had), when it holds anything JSON must escape.
fn escape_from(out: &mut String, start: usize) {
    match out.get(start..) {
        Some(tail) if tail.bytes().any(needs_escape) => {}
        _ => return,
    }
    let mut raw = SCRATCH.take();
    raw.clear();
    raw.push_str(out.get(start..).unwrap_or_default());
    out.truncate(start);
    push_escaped(out, &raw);
    SCRATCH.set(raw);
}

/// Appends `s` with JSON string escapes: `\"`, `\\`, and `\u00XX` for
/// control characters.
fn push_escaped(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.push_str(s.get(plain..i).unwrap_or_default());
        plain = i + 1;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
    }
    out.push_str(s.get(plain..).unwrap_or_default());
}

/// Appends `n` in decimal.
#[inline]
fn push_u64(out: &mut String, n: u64) {
    // Most numbers (flags, counts, type, class) are one digit.
    if n < 10 {
        out.push(char::from(b'0' + n as u8));
    } else {
        out.push_str(itoa::Buffer::new().format(n));
    }
}

/// Appends `n` in decimal, with a `-` when negative.
fn push_i64(out: &mut String, n: i64) {
    if n < 0 {
        out.push('-');
    }
    push_u64(out, n.unsigned_abs());
}

/// Appends bytes known to be ASCII.
fn push_ascii(out: &mut String, bytes: &[u8]) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        out.push_str(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dns::types::{class_name, type_name};
    use crate::testutil::{corpus_files, events_of, items_of, unhex};
    use bytes::Bytes;
    use serde_json::{Map, Value};
    use std::collections::BTreeSet;
    use std::path::PathBuf;

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
                    let mut e = e.clone();
                    e.query_message = Some(m.clone());
                    let o = json_of(&Item::Query(e));
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
            query_zone: None,
            response_message: Some(Bytes::from(response_bytes())),
            connection: None,
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
        // The option running past the RDATA is shown as far as it goes.
        assert_eq!(edns["options"].as_array().unwrap().len(), 1);
        assert!(edns["options"][0]["declaredLength"].as_u64().unwrap() > 1);
        assert!(edns["error"].as_str().unwrap().contains("5 bytes"));
        assert!(v["warnings"][0].as_str().unwrap().contains("claims"));
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
        assert_eq!(t(YEAR_10000 - 1, 999_999_999).unwrap().len(), 30);
        assert_eq!(t(YEAR_10000, 0), None);
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

    /// Panics when an object in `json` (valid, compact JSON text) repeats a
    /// key: a parsed `Value` would hide it.
    fn assert_unique_keys(json: &str) {
        let b = json.as_bytes();
        let mut stack: Vec<Option<BTreeSet<String>>> = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'{' => stack.push(Some(BTreeSet::new())),
                b'[' => stack.push(None),
                b'}' | b']' => {
                    stack.pop();
                }
                b'"' => {
                    let start = i;
                    i += 1;
                    while b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    if b.get(i + 1) == Some(&b':') {
                        let key: String = serde_json::from_str(&json[start..=i]).unwrap();
                        if let Some(Some(keys)) = stack.last_mut() {
                            assert!(keys.insert(key.clone()), "duplicate {key}: {json}");
                        }
                    }
                }
                _ => {}
            }
            i += 1;
        }
        assert!(stack.is_empty(), "unbalanced: {json}");
    }

    /// The keys of an object, sorted.
    fn keys(v: &Value) -> Vec<&str> {
        let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        k.sort_unstable();
        k
    }

    /// Checks one message object against values computed here from the
    /// bytes (header bits by hand, records through the parser and the
    /// RDATA writer); returns the number of records checked.
    fn check_message(v: &Value, bytes: &[u8]) -> usize {
        assert_eq!(unhex(v["messageOctetsHEX"].as_str().unwrap()), bytes);
        if bytes.len() < 12 {
            assert!(v["error"].is_string());
            assert!(v.get("ID").is_none());
            return 0;
        }
        let word = |i: usize| u16::from_be_bytes([bytes[i], bytes[i + 1]]);
        let flags = word(2);
        assert_eq!(v["ID"], word(0));
        let bits = [
            ("QR", 15),
            ("AA", 10),
            ("TC", 9),
            ("RD", 8),
            ("RA", 7),
            ("AD", 5),
            ("CD", 4),
        ];
        for (key, bit) in bits {
            assert_eq!(v[key], (flags >> bit) & 1 == 1, "{key}");
        }
        assert_eq!(v["Opcode"], (flags >> 11) & 0xf);
        assert_eq!(v["RCODE"], flags & 0xf);
        for (key, at) in [
            ("QDCOUNT", 4),
            ("ANCOUNT", 6),
            ("NSCOUNT", 8),
            ("ARCOUNT", 10),
        ] {
            assert_eq!(v[key], word(at), "{key}");
        }
        let msg = Message::parse(bytes).unwrap();
        assert_eq!(v.get("error").is_some(), msg.error.is_some());
        let trailing = v.get("trailingOctets").map_or(0, |t| t.as_u64().unwrap());
        assert_eq!(trailing, msg.trailing as u64);
        match msg.first_question() {
            Some(q) => {
                assert_eq!(v["QNAME"], q.name.to_string());
                assert_eq!(v["QTYPE"], q.qtype);
                assert_eq!(v["QTYPEname"], *type_name(q.qtype));
                assert_eq!(v["QCLASS"], q.qclass);
                assert_eq!(v["QCLASSname"], *class_name(q.qclass));
            }
            None => assert!(v.get("QNAME").is_none()),
        }
        let questions = v["questionRRs"].as_array().unwrap();
        assert_eq!(questions.len(), msg.question.len());
        for (o, q) in questions.iter().zip(&msg.question) {
            assert_eq!(keys(o), ["CLASS", "CLASSname", "NAME", "TYPE", "TYPEname"]);
            assert_eq!(o["NAME"], q.name.to_string());
            assert_eq!(o["TYPE"], q.qtype);
            assert_eq!(o["TYPEname"], *type_name(q.qtype));
            assert_eq!(o["CLASS"], q.qclass);
            assert_eq!(o["CLASSname"], *class_name(q.qclass));
        }
        let mut n = 0;
        let sections = [
            ("answerRRs", &msg.answer),
            ("authorityRRs", &msg.authority),
            ("additionalRRs", &msg.additional),
        ];
        for (key, records) in sections {
            let list = v[key].as_array().unwrap();
            assert_eq!(list.len(), records.len(), "{key}");
            for (o, rr) in list.iter().zip(records) {
                let rdata = &bytes[rr.rdata.clone()];
                assert_eq!(o["NAME"], rr.name.to_string());
                assert_eq!(o["TYPE"], rr.rtype);
                assert_eq!(o["TYPEname"], *type_name(rr.rtype));
                assert_eq!(o["CLASS"], rr.class);
                assert_eq!(o["CLASSname"], *class_name(rr.class));
                assert_eq!(o["TTL"], rr.ttl);
                assert_eq!(o["RDLENGTH"], rdata.len());
                assert_eq!(unhex(o["RDATAHEX"].as_str().unwrap()), rdata);
                let mut text = String::new();
                let (start, end) = (rr.rdata.start, rr.rdata.end);
                let style = RdataStyle {
                    split: 0,
                    ..RdataStyle::default()
                };
                let text_key =
                    match write_rdata(&mut text, bytes, rr.rtype, rr.class, start, end, &style) {
                        Ok(()) => {
                            let key = format!("rdata{}", type_name(rr.rtype));
                            assert_eq!(o[&key], text);
                            key
                        }
                        Err(_) => {
                            assert!(o["rdataError"].is_string());
                            "rdataError".to_string()
                        }
                    };
                let mut want = vec![
                    "CLASS",
                    "CLASSname",
                    "NAME",
                    "RDATAHEX",
                    "RDLENGTH",
                    "TTL",
                    "TYPE",
                    "TYPEname",
                ];
                want.push(&text_key);
                want.sort_unstable();
                assert_eq!(keys(o), want);
                n += 1;
            }
        }
        match msg.opt() {
            Some(opt) => {
                let e = &v["EDNS"];
                assert_eq!(e["udpSize"], opt.class);
                assert_eq!(e["extendedRCODE"], opt.ttl >> 24);
                assert_eq!(e["version"], (opt.ttl >> 16) & 0xff);
                assert_eq!(e["flags"], opt.ttl & 0xffff);
                assert_eq!(e["DO"], opt.ttl & 0x8000 != 0);
                // The options, put back in wire form, are the RDATA up to
                // the leftover the error counts.
                let mut wire = Vec::new();
                for o in e["options"].as_array().unwrap() {
                    let code = u16::try_from(o["code"].as_u64().unwrap()).unwrap();
                    assert_eq!(
                        o.get("name").and_then(Value::as_str),
                        edns_option_name(code)
                    );
                    let data = unhex(o["hex"].as_str().unwrap());
                    wire.extend(code.to_be_bytes());
                    wire.extend(u16::try_from(data.len()).unwrap().to_be_bytes());
                    wire.extend(data);
                }
                let rdata = &bytes[opt.rdata.clone()];
                assert_eq!(&rdata[..wire.len()], &wire[..]);
                let left = rdata.len() - wire.len();
                match e.get("error") {
                    Some(err) => assert_eq!(
                        *err,
                        format!("malformed option data: {left} bytes left over")
                    ),
                    None => assert_eq!(left, 0),
                }
            }
            None => assert!(v.get("EDNS").is_none()),
        }
        n
    }

    /// Checks a `dnstap` object against the event it describes.
    fn check_dnstap(d: &Value, event: &Event, query_time: Option<Timestamp>) {
        let time = |t: Timestamp| {
            chrono::DateTime::from_timestamp(i64::try_from(t.sec).unwrap(), t.nsec)
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
        };
        assert_eq!(d["type"], *event.mtype.name());
        for (key, field) in [("identity", &event.identity), ("version", &event.version)] {
            match field {
                Some(b) => {
                    assert_eq!(d[key], *String::from_utf8_lossy(b));
                    let hexed = d
                        .get(format!("{key}HEX"))
                        .map(|h| unhex(h.as_str().unwrap()));
                    let want = std::str::from_utf8(b).is_err().then(|| b.to_vec());
                    assert_eq!(hexed, want);
                }
                None => assert!(d.get(key).is_none()),
            }
        }
        let addr = |a: Option<std::net::IpAddr>| a.map(|a| Value::from(a.to_string()));
        assert_eq!(d.get("queryAddress").cloned(), addr(event.query_addr));
        assert_eq!(d.get("responseAddress").cloned(), addr(event.response_addr));
        assert_eq!(
            d.get("queryPort").cloned(),
            event.query_port.map(Value::from)
        );
        assert_eq!(
            d.get("responsePort").cloned(),
            event.response_port.map(Value::from)
        );
        assert_eq!(d.get("frameOffset").cloned(), event.offset.map(Value::from));
        assert_eq!(
            d.get("queryTime").cloned(),
            query_time.map(|t| time(t).into())
        );
        let paired = query_time.is_some() && event.query_time.is_none();
        assert_eq!(d.get("queryTimePaired").is_some(), paired);
        let response = event.response_time;
        assert_eq!(
            d.get("responseTime").cloned(),
            response.map(|t| time(t).into())
        );
        let nanos = |t: Timestamp| i128::from(t.sec) * 1_000_000_000 + i128::from(t.nsec);
        let rtt = match (query_time, response) {
            (Some(q), Some(r)) if nanos(r) >= nanos(q) => {
                Some(Value::from(u64::try_from(nanos(r) - nanos(q)).unwrap()))
            }
            _ => None,
        };
        assert_eq!(d.get("rttNanos").cloned(), rtt);
        let family = event.family.map(|f| match f {
            1 => Value::from("INET"),
            2 => Value::from("INET6"),
            n => Value::from(n),
        });
        assert_eq!(d.get("socketFamily").cloned(), family);
        let protocol = event.protocol.map(|p| match p {
            Protocol::Udp => Value::from("UDP"),
            Protocol::Tcp => Value::from("TCP"),
            Protocol::Dot => Value::from("DOT"),
            Protocol::Doh => Value::from("DOH"),
            Protocol::DnsCryptUdp => Value::from("DNSCryptUDP"),
            Protocol::DnsCryptTcp => Value::from("DNSCryptTCP"),
            Protocol::Doq => Value::from("DOQ"),
            Protocol::Other(n) => Value::from(n),
        });
        assert_eq!(d.get("socketProtocol").cloned(), protocol);
    }

    #[test]
    fn corpus_objects_hold_independently_computed_values() {
        let (mut objects, mut records) = (0, 0);
        for path in corpus_files() {
            for item in items_of(&path) {
                let mut out = String::new();
                if !write_json(&mut out, &item) {
                    continue;
                }
                assert_unique_keys(&out);
                let v: Value = serde_json::from_str(&out).unwrap();
                let (event, query_time) = match &item {
                    Item::Query(e) | Item::Unanswered(e) => (e, e.query_time),
                    Item::Response {
                        event, query_time, ..
                    } => (event, *query_time),
                };
                records += check_message(&v, shown(&item));
                if let Some(q) = v.get("queryMessage") {
                    records += check_message(q, event.query_message.as_deref().unwrap());
                }
                check_dnstap(&v["dnstap"], event, query_time);
                assert_eq!(
                    v.get("unanswered").is_some(),
                    matches!(item, Item::Unanswered(_))
                );
                objects += 1;
            }
        }
        assert!(
            objects > 300 && records > 1000,
            "{objects} objects, {records} records"
        );
    }

    #[test]
    fn odd_text_is_escaped_and_parses_back() {
        let mut bytes = vec![
            0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, // header
            4, b'a', b'"', b'\\', b'\n', 1, b'x', 0, 0, 16, 0, 1, // question, TXT
            0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 9, // TXT record
            8, b'"', b'\\', 1, b'x', 0x1f, 0x7f, 0xc3, 0xa9, // one string
        ];
        bytes.push(0); // a trailing byte
        let mut e = sample_event();
        e.identity = Some(Bytes::from_static(b"a\"b\\c\nd\te\x01"));
        e.version = Some(Bytes::from_static(b"v\x0a\xff\"\xc3\xa9"));
        e.response_message = Some(Bytes::from(bytes));
        e.query_addr = Some("2001:db8::1".parse().unwrap());
        e.response_addr = Some("::ffff:192.0.2.1".parse().unwrap());
        let mut out = String::new();
        assert!(write_json(
            &mut out,
            &Item::Response {
                event: e,
                query_time: None,
                query_seen: true,
            }
        ));
        assert!(out.bytes().all(|b| b >= 0x20), "raw control byte: {out}");
        assert_unique_keys(&out);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["QNAME"], r#"a\"\\\010.x."#);
        assert_eq!(v["answerRRs"][0]["NAME"], r#"a\"\\\010.x."#);
        assert_eq!(
            v["answerRRs"][0]["rdataTXT"],
            r#""\"\\\001x\031\127\195\169""#
        );
        assert_eq!(v["trailingOctets"], 1);
        let d = &v["dnstap"];
        assert_eq!(d["identity"], "a\"b\\c\nd\te\u{1}");
        assert!(d.get("identityHEX").is_none());
        assert_eq!(d["version"], "v\n\u{fffd}\"é");
        assert_eq!(d["versionHEX"], "760AFF22C3A9");
        assert_eq!(d["queryAddress"], "2001:db8::1");
        assert_eq!(d["responseAddress"], "::ffff:192.0.2.1");
        let mut s = String::new();
        push_escaped(&mut s, "\u{0}\u{1f} \"\\/\u{7f}é");
        assert_eq!(s, r#"\u0000\u001f \"\\/"#.to_string() + "\u{7f}é");
    }

    #[test]
    fn helpers_match_the_shared_tables_and_std() {
        for n in 0..=u16::MAX {
            let mut s = String::new();
            push_type_name(&mut s, n);
            assert_eq!(s, type_name(n));
            s.clear();
            push_class_name(&mut s, n);
            assert_eq!(s, class_name(n));
        }
        for t in (-3..40).chain([i32::MIN, i32::MAX]) {
            let mut s = String::new();
            push_message_type(&mut s, MessageType(t));
            assert_eq!(s, MessageType(t).name());
        }
        let mut tens: Vec<u64> = (0..20).map(|p| 10u64.pow(p)).collect();
        tens.extend(tens.clone().iter().map(|t| t - 1));
        tens.extend([u64::MAX, 65535, 3600, 123_456_789]);
        for n in tens {
            let mut s = String::new();
            push_u64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for n in [i64::MIN, -1, 0, i64::from(i32::MIN), i64::MAX] {
            let mut s = String::new();
            push_i64(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        let addrs = [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.20.3",
            "::",
            "::1",
            "fe80::1:2",
        ];
        for a in addrs {
            let a: std::net::IpAddr = a.parse().unwrap();
            let mut s = String::new();
            push_addr(&mut s, a);
            assert_eq!(s, a.to_string());
        }
    }

    #[test]
    fn rfc3339_matches_chrono_across_the_range() {
        let days = [0, 59, 365 + 59, 10_957 + 59, 47_541 + 59, 2_932_896];
        let seconds = (0..YEAR_10000)
            .step_by(97_654_321)
            .chain(days.iter().flat_map(|d| [d * 86_400, d * 86_400 + 86_399]))
            .chain([YEAR_10000 - 1]);
        for sec in seconds {
            for nsec in [0, 1, 999_999_999, 1_500_000_000] {
                let dt = chrono::DateTime::from_timestamp(sec as i64, nsec.min(999_999_999));
                let want = dt
                    .unwrap()
                    .to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
                assert_eq!(rfc3339(Timestamp { sec, nsec }).unwrap(), want, "{sec}");
            }
        }
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
                s.len().is_multiple_of(2) && all(s, |b| matches!(b, b'0'..=b'9' | b'A'..=b'F'))
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
