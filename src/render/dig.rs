//! dig 9.18's text layout for one DNS message: header, OPT pseudosection,
//! the four sections with dig's tab stops, in wire order.
//!
//! Pure: appends to a `String`. The exchange-level parts (banner, trailer)
//! live in `render::mod`.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::dns::types::{self, class_name, type_name};
use crate::dns::wire::{Header, Message, Record, Section};

use super::opt::{edns_problems, write_opt_body, MALFORMED_WARNING};
use super::rdata::{write_rdata, write_unknown};
use super::text::push_u32;
use super::{idn, DisplayOpts};

/// dig's opcode mnemonics (BIND `opcodetext`).
pub fn opcode_name(op: u8) -> Cow<'static, str> {
    match op {
        0 => "QUERY".into(),
        1 => "IQUERY".into(),
        2 => "STATUS".into(),
        4 => "NOTIFY".into(),
        5 => "UPDATE".into(),
        n => format!("RESERVED{n}").into(),
    }
}

/// dig's rcode mnemonics, including extended rcodes (RFC 6895 §2.3).
pub fn rcode_name(rcode: u16) -> Cow<'static, str> {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        n => return n.to_string().into(),
    };
    name.into()
}

/// Appends tabs (and spaces) after a field so the next one starts at
/// column `stop` (tab width 8), as BIND's master-file dumper does: a field
/// that already reached the stop is followed by a one-column step, which is
/// a tab when it crosses a tab stop and a space otherwise.
#[cfg(test)]
fn pad_to(out: &mut String, line_start: usize, stop: usize) {
    let col = out.as_bytes()[line_start..].iter().fold(0, |col, &b| {
        if b == b'\t' {
            (col / 8 + 1) * 8
        } else {
            col + 1
        }
    });
    pad(out, col, stop);
}

/// [`pad_to`] for a caller that knows its column: returns the new column.
fn pad(out: &mut String, col: usize, stop: usize) -> usize {
    const TABS: &str = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
    const SPACES: &str = "                ";
    let push = |out: &mut String, run: &'static str, mut n: usize| {
        while n > 0 {
            let k = n.min(run.len());
            out.push_str(&run[..k]);
            n -= k;
        }
    };
    let to = if col >= stop { col + 1 } else { stop };
    let tabs = to / 8 - col / 8;
    if tabs > 0 {
        push(out, TABS, tabs);
        push(out, SPACES, to % 8);
    } else {
        push(out, SPACES, to - col);
    }
    to
}

/// Appends a TTL in units as dig's `+ttlunits` does (BIND's
/// `dns_ttl_totext`, short form): weeks, days, hours, minutes, seconds,
/// leaving out zero units (`1h30m`, `1w`); zero is `0s`.
pub fn push_ttl_units(out: &mut String, ttl: u32) {
    let parts = [
        (ttl / 604_800, 'w'),
        (ttl / 86_400 % 7, 'd'),
        (ttl / 3600 % 24, 'h'),
        (ttl / 60 % 60, 'm'),
        (ttl % 60, 's'),
    ];
    for (n, unit) in parts {
        if n != 0 {
            push_u32(out, n);
            out.push(unit);
        }
    }
    if ttl == 0 {
        out.push_str("0s");
    }
}

/// Column stops for TTL/class/type/rdata: dig moves the later columns left
/// when `+nottlid` or `+noclass` drops one.
fn stops(opts: &DisplayOpts) -> [usize; 4] {
    if opts.multiline {
        return [24, 24, 24, 32];
    }
    match (opts.ttlid, opts.class) {
        (true, true) => [24, 32, 40, 48],
        (true, false) | (false, true) => [24, 24, 32, 40],
        (false, false) => [24, 24, 24, 32],
    }
}

/// Appends one resource record line (with its newline).
pub fn write_record(out: &mut String, msg: &Message<'_>, rr: &Record, opts: &DisplayOpts) {
    // Every field is ASCII (names and text are escaped), so byte lengths
    // are columns.
    let [ttl_stop, class_stop, type_stop, rdata_stop] = stops(opts);
    let start = out.len();
    idn::write_name(out, &rr.name, opts.idn);
    let mut col = out.len() - start;
    if opts.ttlid {
        col = pad(out, col, ttl_stop);
        let before = out.len();
        if opts.ttlunits {
            push_ttl_units(out, rr.ttl);
        } else {
            push_u32(out, rr.ttl);
        }
        col += out.len() - before;
    }
    if opts.class {
        col = pad(out, col, class_stop);
        let before = out.len();
        if opts.rdata.unknown_format {
            out.push_str("CLASS");
            push_u32(out, u32::from(rr.class));
        } else {
            out.push_str(&class_name(rr.class));
        }
        col += out.len() - before;
    }
    col = pad(out, col, type_stop);
    let before = out.len();
    if opts.rdata.unknown_format {
        out.push_str("TYPE");
        push_u32(out, u32::from(rr.rtype));
    } else {
        out.push_str(&type_name(rr.rtype));
    }
    pad(out, col + out.len() - before, rdata_stop);
    let rdata_start = out.len();
    if opts.multiline {
        write_multiline_rdata(out, msg, rr, opts);
        out.push('\n');
        return;
    }
    write_rdata_or_generic(out, msg, rr, opts);
    if !opts.rdata.unknown_format {
        let rdata = msg.rdata(rr);
        if !opts.crypto {
            hide_crypto(out, rdata_start, rr.rtype, rdata);
        }
        if opts.record_comments() {
            write_key_comment(out, rr.rtype, rdata);
        }
    }
    out.push('\n');
}

/// Continuation lines of `+multiline` start here.
const CONTINUATION: &str = "\n\t\t\t\t";

/// How dig's `+multiline` lays out a type: `Paren(k)` keeps `k` fields on
/// the first line, then `(`, then each base64/hex chunk on its own line;
/// `Open(k)` starts with `( ` and the first `k` fields (or the first chunk);
/// RRSIG has a second line of four fields.
#[derive(Clone, Copy)]
enum Layout {
    Paren(usize),
    Open(usize),
    Rrsig,
    Soa,
    OneLine,
}

fn layout(rtype: u16) -> Layout {
    match rtype {
        types::DNSKEY | types::CDNSKEY | types::KEY => Layout::Paren(3),
        types::DS | types::CDS | types::TA | types::DLV => Layout::Paren(3),
        types::TLSA | types::SMIMEA | types::ZONEMD | types::CERT => Layout::Paren(3),
        types::SSHFP => Layout::Paren(2),
        types::RRSIG | types::SIG => Layout::Rrsig,
        types::OPENPGPKEY | types::DHCID => Layout::Open(0),
        types::IPSECKEY => Layout::Open(4),
        types::SOA => Layout::Soa,
        _ => Layout::OneLine,
    }
}

/// BIND's verbose duration: `2 weeks`, `1 hour`, `1 day 2 hours`.
fn duration_words(mut secs: u32) -> String {
    let units = [
        (604_800, "week"),
        (86_400, "day"),
        (3_600, "hour"),
        (60, "minute"),
        (1, "second"),
    ];
    let mut parts = Vec::new();
    for (size, name) in units {
        let n = secs / size;
        if n > 0 {
            parts.push(format!("{n} {name}{}", if n == 1 { "" } else { "s" }));
            secs %= size;
        }
    }
    if parts.is_empty() {
        "0 seconds".into()
    } else {
        parts.join(" ")
    }
}

/// RDATA in dig's `+multiline` form (parentheses, 44-character chunks,
/// comments for SOA timers and keys).
fn write_multiline_rdata(out: &mut String, msg: &Message<'_>, rr: &Record, opts: &DisplayOpts) {
    let mut chunked = opts.clone();
    if chunked.rdata.split == crate::render::rdata::RdataStyle::default().split {
        chunked.rdata.split = 44;
    }
    let mut text = String::new();
    write_rdata_or_generic(&mut text, msg, rr, &chunked);
    let rdata = msg.rdata(rr);
    if !opts.crypto && !opts.rdata.unknown_format {
        hide_crypto(&mut text, 0, rr.rtype, rdata);
    }
    let generic = text.starts_with("\\# ");
    let kind = if generic {
        Layout::Open(0)
    } else if opts.rdata.unknown_format {
        Layout::OneLine
    } else {
        layout(rr.rtype)
    };
    let mut tokens: Vec<&str> = text.split(' ').collect();
    // `[key id = N]` from +nocrypto is one chunk.
    let hidden_key;
    if is_key(rr.rtype) && text.ends_with(']') && tokens.len() > 3 {
        hidden_key = tokens[3..].join(" ");
        tokens.truncate(3);
        tokens.push(&hidden_key);
    }
    let comment =
        opts.record_comments() && !generic && matches!(rr.rtype, types::DNSKEY | types::CDNSKEY);
    match kind {
        Layout::OneLine => out.push_str(&text),
        Layout::Paren(k) if tokens.len() > k => {
            out.push_str(&tokens[..k].join(" "));
            out.push_str(" (");
            for chunk in &tokens[k..] {
                out.push_str(CONTINUATION);
                out.push_str(chunk);
            }
            if comment {
                out.push_str(CONTINUATION);
                out.push(')');
                let mut c = String::new();
                write_key_comment(&mut c, rr.rtype, rdata);
                out.push_str(" ; ");
                out.push_str(c.trim_start().trim_start_matches("; "));
            } else {
                out.push_str(" )");
            }
        }
        Layout::Open(k) => write_open(out, &text, &tokens, k, generic, rr.rtype, rdata),
        Layout::Rrsig if tokens.len() > 8 => {
            out.push_str(&tokens[..4].join(" "));
            out.push_str(" (");
            out.push_str(CONTINUATION);
            out.push_str(&tokens[4..8].join(" "));
            for chunk in &tokens[8..] {
                out.push_str(CONTINUATION);
                out.push_str(chunk);
            }
            out.push_str(" )");
        }
        Layout::Soa if tokens.len() == 7 => write_soa(out, &tokens, opts.record_comments()),
        _ => out.push_str(&text),
    }
}

/// `+multiline` RDATA opened with a parenthesis before its `k`-th token
/// (`\# N ( hex…)` for the generic form), one chunk per line after it.
fn write_open(
    out: &mut String,
    text: &str,
    tokens: &[&str],
    k: usize,
    generic: bool,
    rtype: u16,
    rdata: &[u8],
) {
    // `\# N ( hex...)`: the length stays in front.
    let (head, rest) = if generic {
        if tokens.len() <= 2 {
            out.push_str(text);
            return;
        }
        (tokens[..2].join(" ") + " ", &tokens[2..])
    } else {
        (String::new(), tokens)
    };
    out.push_str(&head);
    out.push_str("( ");
    let first = k.max(1).min(rest.len());
    out.push_str(&rest[..first].join(" "));
    for chunk in &rest[first..] {
        out.push_str(CONTINUATION);
        out.push_str(chunk);
    }
    out.push_str(" )");
    if rtype == types::DHCID && !generic && rdata.len() >= 3 {
        // dig's note: identifier type, digest type, digest length.
        let _ = write!(
            out,
            " ; {} {} {}",
            u16::from_be_bytes([rdata[0], rdata[1]]),
            rdata[2],
            rdata.len() - 3
        );
    }
}

/// `+multiline` SOA: the two names, then one timer a line, with their
/// names and durations as comments when `comments`.
fn write_soa(out: &mut String, tokens: &[&str], comments: bool) {
    let [mname, rname, timers @ ..] = tokens else {
        return;
    };
    out.push_str(mname);
    out.push(' ');
    out.push_str(rname);
    out.push_str(" (");
    let labels = ["serial", "refresh", "retry", "expire", "minimum"];
    for (i, (value, label)) in timers.iter().zip(labels).enumerate() {
        out.push_str(CONTINUATION);
        if comments {
            let _ = write!(out, "{value:<10} ; {label}");
            if i > 0 {
                let secs = value.parse().unwrap_or(0);
                let _ = write!(out, " ({})", duration_words(secs));
            }
        } else {
            out.push_str(value);
        }
    }
    if comments {
        out.push_str(CONTINUATION);
    }
    out.push(')');
}

fn is_key(rtype: u16) -> bool {
    matches!(rtype, types::DNSKEY | types::CDNSKEY | types::KEY)
}

/// dig's `+nocrypto`: keys become `[key id = N]`, signatures `[omitted]`.
fn hide_crypto(out: &mut String, rdata_start: usize, rtype: u16, rdata: &[u8]) {
    let keep_fields = match rtype {
        _ if is_key(rtype) => 3,
        types::RRSIG | types::SIG => 8,
        types::DS | types::CDS | types::TA | types::DLV | types::ZONEMD => 3,
        types::OPENPGPKEY => {
            out.truncate(rdata_start);
            out.push_str("[omitted]");
            return;
        }
        _ => return,
    };
    let text = &out[rdata_start..];
    let Some(cut) = text
        .match_indices(' ')
        .nth(keep_fields - 1)
        .map(|(i, _)| rdata_start + i)
    else {
        return;
    };
    out.truncate(cut);
    if is_key(rtype) {
        out.push_str(" [key id = ");
        push_u32(out, u32::from(key_tag(rdata)));
        out.push(']');
    } else {
        out.push_str(" [omitted]");
    }
}

/// The key tag of a DNSKEY RDATA (RFC 4034 Appendix B).
pub fn key_tag(rdata: &[u8]) -> u16 {
    if rdata.get(3) == Some(&1) {
        // RSA/MD5: the third-to-last and second-to-last octets of the modulus.
        let n = rdata.len();
        return match (n >= 3).then(|| (rdata[n - 3], rdata[n - 2])) {
            Some((a, b)) => u16::from_be_bytes([a, b]),
            None => 0,
        };
    }
    let mut acc: u32 = 0;
    for (i, b) in rdata.iter().enumerate() {
        acc += if i % 2 == 0 {
            u32::from(*b) << 8
        } else {
            u32::from(*b)
        };
    }
    acc += (acc >> 16) & 0xffff;
    (acc & 0xffff) as u16
}

/// dig's `+rrcomments` for keys: `  ; KSK; alg = ECDSAP256SHA256 ; key id = 19585`.
fn write_key_comment(out: &mut String, rtype: u16, rdata: &[u8]) {
    if !matches!(rtype, types::DNSKEY | types::CDNSKEY) || rdata.len() < 4 {
        return;
    }
    let flags = u16::from_be_bytes([rdata[0], rdata[1]]);
    out.push_str(if flags & 1 != 0 { "  ; KSK" } else { "  ; ZSK" });
    out.push_str("; alg = ");
    match super::rdata::secalg_name(rdata[3]) {
        Some(name) => out.push_str(name),
        None => push_u32(out, u32::from(rdata[3])),
    }
    out.push_str(" ; key id = ");
    push_u32(out, u32::from(key_tag(rdata)));
}

/// Appends the RDATA of `rr` in presentation form, or in the RFC 3597
/// generic form when it does not parse as its type.
pub fn write_rdata_or_generic(
    out: &mut String,
    msg: &Message<'_>,
    rr: &Record,
    opts: &DisplayOpts,
) {
    if opts.rdata.unknown_format {
        // dig shows the RDATA as it holds it: with names decompressed.
        match decompressed_rdata(msg, rr) {
            Some(bytes) => write_unknown(out, &bytes, &opts.rdata),
            None => write_unknown(out, msg.rdata(rr), &opts.rdata),
        }
        return;
    }
    let ok = write_rdata(
        out,
        msg.bytes,
        rr.rtype,
        rr.class,
        rr.rdata.start,
        rr.rdata.end,
        &opts.rdata_style(),
    );
    if ok.is_err() {
        write_unknown(out, msg.rdata(rr), &opts.rdata);
    }
}

/// The RDATA of a record whose type may carry compressed names, with those
/// names expanded (None for types without names, or when it does not parse).
fn decompressed_rdata(msg: &Message<'_>, rr: &Record) -> Option<Vec<u8>> {
    use crate::dns::name::read_name;
    let (start, end) = (rr.rdata.start, rr.rdata.end);
    let fixed = |from: usize, len: usize| msg.bytes.get(from..from + len);
    let mut out = Vec::new();
    let name = |at: usize, out: &mut Vec<u8>| -> Option<usize> {
        let (n, next) = read_name(msg.bytes, at).ok()?;
        out.extend_from_slice(n.as_wire());
        Some(next)
    };
    let done = match rr.rtype {
        types::NS | 3 | 4 | types::CNAME | 7 | 8 | 9 | types::PTR | types::DNAME => {
            name(start, &mut out)?
        }
        types::MX | types::AFSDB | types::RT | types::KX => {
            out.extend_from_slice(fixed(start, 2)?);
            name(start + 2, &mut out)?
        }
        types::SOA => {
            let after = name(start, &mut out)?;
            let after = name(after, &mut out)?;
            out.extend_from_slice(fixed(after, 20)?);
            after + 20
        }
        types::MINFO | types::RP => {
            let after = name(start, &mut out)?;
            name(after, &mut out)?
        }
        types::SRV => {
            out.extend_from_slice(fixed(start, 6)?);
            name(start + 6, &mut out)?
        }
        _ => return None,
    };
    (done == end).then_some(out)
}

fn write_question_line(out: &mut String, msg: &Message<'_>, opts: &DisplayOpts) {
    for q in &msg.question {
        out.push(';');
        let start = out.len();
        idn::write_name(out, &q.name, opts.idn);
        // The question has no TTL column: the name runs up to the class.
        let [_, class_stop, type_stop, _] = stops(opts);
        let col = pad(out, out.len() - start, class_stop);
        let before = out.len();
        if opts.rdata.unknown_format {
            out.push_str("CLASS");
            push_u32(out, u32::from(q.qclass));
        } else {
            out.push_str(&class_name(q.qclass));
        }
        pad(out, col + out.len() - before, type_stop);
        if opts.rdata.unknown_format {
            out.push_str("TYPE");
            push_u32(out, u32::from(q.qtype));
        } else {
            out.push_str(&type_name(q.qtype));
        }
        out.push('\n');
    }
}

fn write_header(out: &mut String, msg: &Message<'_>, is_response: bool) {
    let h: &Header = &msg.header;
    out.push_str(";; ->>HEADER<<- opcode: ");
    out.push_str(&opcode_name(h.opcode()));
    out.push_str(", status: ");
    out.push_str(&rcode_name(msg.rcode()));
    out.push_str(", id: ");
    push_u32(out, u32::from(h.id));
    out.push('\n');
    out.push_str(";; flags:");
    for (set, name) in [
        (h.qr(), " qr"),
        (h.aa(), " aa"),
        (h.tc(), " tc"),
        (h.rd(), " rd"),
        (h.ra(), " ra"),
        (h.ad(), " ad"),
        (h.cd(), " cd"),
    ] {
        if set {
            out.push_str(name);
        }
    }
    if h.z() {
        out.push_str("; MBZ: 0x4");
    }
    if h.opcode() == 5 {
        let _ = writeln!(
            out,
            "; ZONE: {}, PREREQ: {}, UPDATE: {}, ADDITIONAL: {}",
            h.qdcount, h.ancount, h.nscount, h.arcount
        );
    } else {
        for (label, n) in [
            ("; QUERY: ", h.qdcount),
            (", ANSWER: ", h.ancount),
            (", AUTHORITY: ", h.nscount),
            (", ADDITIONAL: ", h.arcount),
        ] {
            out.push_str(label);
            push_u32(out, u32::from(n));
        }
        out.push('\n');
    }
    if is_response && h.rd() && !h.ra() {
        out.push_str(";; WARNING: recursion requested but not available\n");
    }
}

/// Appends a whole message in dig's layout (without the `;; Got answer:`
/// line and the trailer). `client_cookie` is the COOKIE the query sent, to
/// judge the server's.
pub fn write_message(
    out: &mut String,
    bytes: &[u8],
    is_response: bool,
    client_cookie: Option<&[u8]>,
    opts: &DisplayOpts,
) {
    match Message::parse(bytes) {
        Ok(msg) => write_parsed(out, &msg, is_response, client_cookie, opts),
        Err(_) => {
            let _ = writeln!(
                out,
                ";; WARNING: message of {} bytes is too short for a DNS header",
                bytes.len()
            );
            write_hex_dump(out, bytes);
        }
    }
}

/// Which SOA records of an answer section are shown: all of them, or, for
/// dig's `+onesoa` zone transfers, the first of the first message only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoaShown {
    /// Every SOA record.
    All,
    /// The first SOA record of the message only.
    First,
    /// No SOA record.
    None,
}

/// [`write_message`] for a message the caller already parsed.
pub fn write_parsed(
    out: &mut String,
    msg: &Message<'_>,
    is_response: bool,
    client_cookie: Option<&[u8]>,
    opts: &DisplayOpts,
) {
    write_parsed_with(out, msg, is_response, client_cookie, opts, SoaShown::All);
}

/// [`write_parsed`], showing the answer section's SOA records as `soa`
/// says.
pub fn write_parsed_with(
    out: &mut String,
    msg: &Message<'_>,
    is_response: bool,
    client_cookie: Option<&[u8]>,
    opts: &DisplayOpts,
    soa: SoaShown,
) {
    let bytes = msg.bytes;
    if opts.comments {
        write_header(out, msg, is_response);
    }
    if msg.trailing > 0 {
        let _ = writeln!(
            out,
            ";; WARNING: Message has {} extra byte{} at end",
            msg.trailing,
            if msg.trailing == 1 { "" } else { "s" }
        );
    }
    let edns_problems = edns_problems(msg);
    if !edns_problems.is_empty() {
        out.push_str(MALFORMED_WARNING);
        out.push('\n');
        for p in &edns_problems {
            let _ = writeln!(out, ";; WARNING: malformed EDNS: {p}");
        }
    }
    if opts.comments {
        out.push('\n');
        if let Some(opt) = msg.opt() {
            out.push_str(";; OPT PSEUDOSECTION:\n");
            write_opt_body(out, opt.class, opt.ttl, msg.rdata(opt), client_cookie);
        }
    }
    let update = msg.header.opcode() == 5;
    let first_opt = msg.opt();
    if opts.question && !msg.question.is_empty() {
        if opts.comments {
            out.push_str(if update {
                ";; ZONE SECTION:\n"
            } else {
                ";; QUESTION SECTION:\n"
            });
        }
        write_question_line(out, msg, opts);
        if opts.comments {
            out.push('\n');
        }
    }
    let sections = [
        (Section::Answer, opts.answer, "ANSWER", "PREREQUISITE"),
        (Section::Authority, opts.authority, "AUTHORITY", "UPDATE"),
        (
            Section::Additional,
            opts.additional,
            "ADDITIONAL",
            "ADDITIONAL",
        ),
    ];
    let first_soa = msg.answer.iter().position(|r| r.rtype == types::SOA);
    for (section, shown, name, update_name) in sections {
        let records = || {
            msg.section(section)
                .iter()
                .enumerate()
                .filter(move |(i, r)| {
                    section != Section::Answer
                        || r.rtype != types::SOA
                        || match soa {
                            SoaShown::All => true,
                            SoaShown::First => Some(*i) == first_soa,
                            SoaShown::None => false,
                        }
                })
                .map(|(_, r)| r)
                .filter(|r| section != Section::Additional || !is_pseudo(first_opt, r))
        };
        if !shown || records().next().is_none() {
            continue;
        }
        if opts.comments {
            out.push_str(";; ");
            out.push_str(if update { update_name } else { name });
            out.push_str(" SECTION:\n");
        }
        for rr in records() {
            write_record(out, msg, rr, opts);
        }
        if opts.comments {
            out.push('\n');
        }
    }
    let tsig = || msg.additional.iter().filter(|r| r.rtype == types::TSIG);
    if opts.additional && tsig().next().is_some() {
        if opts.comments {
            out.push_str(";; TSIG PSEUDOSECTION:\n");
        }
        for rr in tsig() {
            write_record(out, msg, rr, opts);
        }
        if opts.comments {
            out.push('\n');
        }
    }
    if let Some(err) = &msg.error {
        let parsed =
            msg.question.len() + msg.answer.len() + msg.authority.len() + msg.additional.len();
        let announced = usize::from(msg.header.qdcount)
            + usize::from(msg.header.ancount)
            + usize::from(msg.header.nscount)
            + usize::from(msg.header.arcount);
        let _ = writeln!(
            out,
            ";; WARNING: malformed message: {err}; {parsed} of {announced} entries parsed"
        );
        write_hex_dump(out, bytes);
        out.push('\n');
    }
}

/// The OPT record (the first in the additional section; any other is
/// malformed and listed as a record) and TSIG records are shown as
/// pseudosections, not as records.
fn is_pseudo(first_opt: Option<&Record>, rr: &Record) -> bool {
    rr.rtype == types::TSIG || first_opt.is_some_and(|opt| std::ptr::eq(opt, rr))
}

/// Appends `bytes` as hex, 32 bytes per `;; ` line.
pub fn write_hex_dump(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let _ = writeln!(out, ";; MESSAGE BYTES ({}):", bytes.len());
    for chunk in bytes.chunks(32) {
        out.push_str(";; ");
        for b in chunk {
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        out.push('\n');
    }
}

/// Appends dig `+short` output: the RDATA of each answer record, one per
/// line.
///
/// `identify` (dig's `+identify`) ends every line, as in
/// `192.0.2.1 from server 192.0.2.53 in 3 ms.`; empty otherwise.
pub fn write_short(out: &mut String, bytes: &[u8], opts: &DisplayOpts, identify: &str) {
    let Ok(msg) = Message::parse(bytes) else {
        return;
    };
    for rr in &msg.answer {
        write_rdata_or_generic(out, &msg, rr, opts);
        out.push_str(identify);
        out.push('\n');
    }
}

/// The COOKIE option (code 10) bytes of a message's OPT record, if any.
pub fn find_cookie(bytes: &[u8]) -> Option<Vec<u8>> {
    find_cookie_in(&Message::parse(bytes).ok()?)
}

/// [`find_cookie`] for a parsed message.
pub fn find_cookie_in(msg: &Message<'_>) -> Option<Vec<u8>> {
    let opt = msg.opt()?;
    let mut data = msg.rdata(opt);
    while data.len() >= 4 {
        let code = u16::from_be_bytes([data[0], data[1]]);
        let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
        let value = data.get(4..4 + len)?;
        if code == 10 {
            return Some(value.to_vec());
        }
        data = &data[4 + len..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_units_leave_out_zero_units() {
        let units = |ttl| {
            let mut s = String::new();
            push_ttl_units(&mut s, ttl);
            s
        };
        assert_eq!(units(0), "0s");
        assert_eq!(units(59), "59s");
        assert_eq!(units(5400), "1h30m");
        assert_eq!(units(604_800), "1w");
        assert_eq!(units(694_861), "1w1d1h1m1s");
        assert_eq!(units(u32::MAX), "7101w3d6h28m15s");
    }

    #[test]
    fn pad_to_uses_tabs_then_a_single_space_when_full() {
        let mut s = String::from("example.com.");
        pad_to(&mut s, 0, 24);
        assert_eq!(s, "example.com.\t\t");
        let mut s = String::from("a-very-long-owner-name.exam.");
        pad_to(&mut s, 0, 24);
        assert_eq!(s, "a-very-long-owner-name.exam. ");
        let mut s = String::from("a.\t\t3600");
        pad_to(&mut s, 0, 32);
        assert_eq!(s, "a.\t\t3600\t\t");
        let mut s = String::from("exactly-twenty-four-col.");
        assert_eq!(s.len(), 24);
        pad_to(&mut s, 0, 24);
        assert!(s.ends_with(". "));
        // Overflowing at column 31: the one-column step crosses a tab stop.
        let mut s = "x".repeat(31);
        pad_to(&mut s, 0, 24);
        assert!(s.ends_with("x\t"));
    }

    #[test]
    fn rcode_and_opcode_names() {
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(16), "BADVERS");
        assert_eq!(rcode_name(12), "12");
        assert_eq!(opcode_name(5), "UPDATE");
        assert_eq!(opcode_name(9), "RESERVED9");
    }
}
