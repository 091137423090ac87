//! The YAML output format, laid out like golang-dnstap's `dnstap -y`: one
//! document per record (`type: MESSAGE`, identity, version, `message:` with
//! its fields in that tool's order and wording), each message as a
//! `|` block scalar, and `---` after each document.
//!
//! This module owns only that layout. The message text inside the block
//! scalars is qtap's own dig text (`render::dig::write_message`), not the Go
//! tool's, and what qtap knows beyond the record (the round-trip time, the
//! query time found by pairing, an unanswered query) comes as extra keys at
//! the end of `message:`, so the lines the Go tool prints stay the same.
//! It must not print, read a clock or panic on any input.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::dns::name::{write_name, Name};
use crate::pair::Item;
use crate::tap::event::{Direction, Event, Timestamp};
use crate::tap::pb;

use super::dig::{find_cookie, write_message};
use super::DisplayOpts;

/// Appends one YAML document for the item, laid out like golang-dnstap's
/// `dnstap -y`, ending with `---\n`. The record's fields come in that
/// tool's order; `query_message: |` / `response_message: |` hold qtap's
/// dig text of each message the record carries, indented 4 spaces. Extra
/// keys at the end of `message:`: `query_time` (when only pairing found
/// it, marked by a comment), `rtt_ms`, `unanswered: true`. Returns false
/// (appending nothing) when the item has no message.
pub fn write_yaml(out: &mut String, item: &crate::pair::Item) -> bool {
    let (event, query_time) = match item {
        Item::Query(e) | Item::Unanswered(e) => {
            if e.query_message.is_none() {
                return false;
            }
            (e, e.query_time)
        }
        Item::Response {
            event, query_time, ..
        } => {
            if event.main_message().is_none() {
                return false;
            }
            (event, *query_time)
        }
    };
    write_envelope(out, event);
    // Extras, after everything the Go tool prints.
    if event.query_time.is_none() {
        if let Some(t) = query_time {
            out.push_str("  query_time: ");
            write_time(out, t);
            out.push_str(" # from the matching query record\n");
        }
    }
    if let (Some(q), Some(r)) = (query_time, event.response_time) {
        if let Some(ns) = r.nanos_since(&q) {
            let _ = writeln!(out, "  rtt_ms: {}.{:06}", ns / 1_000_000, ns % 1_000_000);
        }
    }
    if matches!(item, Item::Unanswered(_)) {
        out.push_str("  unanswered: true\n");
    }
    out.push_str("---\n");
    true
}

/// Everything golang-dnstap prints for a record, up to (not including)
/// its `---`.
fn write_envelope(out: &mut String, event: &Event) {
    out.push_str("type: MESSAGE\n");
    if let Some(id) = &event.identity {
        out.push_str("identity: ");
        go_quote(out, id);
        out.push('\n');
    }
    if let Some(v) = &event.version {
        out.push_str("version: ");
        go_quote(out, v);
        out.push('\n');
    }
    if let Some(c) = &event.connection {
        // qtap's collector only: which sender it came from.
        out.push_str("connection: ");
        go_quote(out, c);
        out.push('\n');
    }
    out.push_str("message:\n  type: ");
    match pb::message::Type::try_from(event.mtype.0) {
        Ok(t) => out.push_str(t.as_str_name()),
        Err(_) => {
            let _ = write!(out, "{}", event.mtype.0);
        }
    }
    out.push('\n');
    if let Some(t) = event.query_time {
        out.push_str("  query_time: ");
        write_time(out, t);
        out.push('\n');
    }
    if let Some(t) = event.response_time {
        out.push_str("  response_time: ");
        write_time(out, t);
        out.push('\n');
    }
    if let Some(f) = event.family {
        out.push_str("  socket_family: ");
        match pb::SocketFamily::try_from(f) {
            Ok(x) => out.push_str(x.as_str_name()),
            Err(_) => {
                let _ = write!(out, "{f}");
            }
        }
        out.push('\n');
    }
    if let Some(p) = event.protocol {
        out.push_str("  socket_protocol: ");
        let raw = p.to_pb();
        match pb::SocketProtocol::try_from(raw) {
            Ok(x) => out.push_str(x.as_str_name()),
            Err(_) => {
                let _ = write!(out, "{raw}");
            }
        }
        out.push('\n');
    }
    if let Some(a) = event.query_addr {
        out.push_str("  query_address: ");
        write_go_ip(out, a);
        out.push('\n');
    }
    if let Some(a) = event.response_addr {
        out.push_str("  response_address: ");
        write_go_ip(out, a);
        out.push('\n');
    }
    if let Some(p) = event.query_port {
        let _ = writeln!(out, "  query_port: {p}");
    }
    if let Some(p) = event.response_port {
        let _ = writeln!(out, "  response_port: {p}");
    }
    if let Some(zone) = &event.query_zone {
        // As the Go tool: the name quoted, or a comment when it does not parse.
        match Name::from_wire(zone) {
            Ok(name) => {
                let mut text = String::new();
                write_name(&mut text, &name);
                out.push_str("  query_zone: ");
                go_quote(out, text.as_bytes());
                out.push('\n');
            }
            Err(_) => out.push_str("  # query_zone: parse failed\n"),
        }
    }
    if let Some(q) = &event.query_message {
        out.push_str("  query_message: |\n");
        let mut text = String::new();
        write_message(&mut text, q, false, None, &DisplayOpts::default());
        write_block(out, &text);
    }
    if let Some(r) = &event.response_message {
        out.push_str("  response_message: |\n");
        let is_response = event.direction() != Some(Direction::Query);
        let cookie = event.query_message.as_deref().and_then(find_cookie);
        let mut text = String::new();
        write_message(
            &mut text,
            r,
            is_response,
            cookie.as_deref(),
            &DisplayOpts::default(),
        );
        write_block(out, &text);
    }
}

/// The body of a block scalar as golang-dnstap writes it: the text trimmed,
/// every line (empty ones too) indented 4 spaces.
fn write_block(out: &mut String, text: &str) {
    let text = text.trim();
    for line in text.split('\n') {
        out.push_str("    ");
        out.push_str(line);
        out.push('\n');
    }
}

/// `!!timestamp` in Go's `2006-01-02 15:04:05.999999999` (UTC): the
/// fraction without trailing zeros, none at all for a whole second. A time
/// past year 9999 is written as a quoted Unix time instead.
fn write_time(out: &mut String, t: Timestamp) {
    let Some(dt) = crate::civil::utc_text(t.sec) else {
        let _ = write!(out, "\"unix {}.{:09}\"", t.sec, t.nsec);
        return;
    };
    let _ = write!(out, "!!timestamp {dt}");
    if t.nsec != 0 {
        let frac = format!("{:09}", t.nsec.min(999_999_999));
        out.push('.');
        out.push_str(frac.trim_end_matches('0'));
    }
}

/// An address as Go's `net.IP.String()` writes it: an IPv4-mapped IPv6
/// address in dotted form.
fn write_go_ip(out: &mut String, addr: IpAddr) {
    let addr = match addr {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(addr, IpAddr::V4),
        v4 => v4,
    };
    let _ = write!(out, "{addr}");
}

/// Go's `strconv.Quote` of bytes: a double-quoted string with `\"`, `\\`,
/// `\a \b \f \n \r \t \v`, `\xNN` for other ASCII controls and for bytes
/// that are not UTF-8, `\uNNNN`/`\UNNNNNNNN` for characters that are not
/// printable. Every escape is also a YAML double-quoted escape.
pub fn go_quote(out: &mut String, bytes: &[u8]) {
    out.push('"');
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\u{7}' => out.push_str("\\a"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{b}' => out.push_str("\\v"),
                c if u32::from(c) < 0x20 || c == '\u{7f}' => {
                    let _ = write!(out, "\\x{:02x}", u32::from(c));
                }
                c if is_printable(c) => out.push(c),
                c if u32::from(c) < 0x10000 => {
                    let _ = write!(out, "\\u{:04x}", u32::from(c));
                }
                c => {
                    let _ = write!(out, "\\U{:08x}", u32::from(c));
                }
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out.push('"');
}

/// Close to Go's `unicode.IsPrint`: no controls, no spaces but U+0020, no
/// format characters (bidi marks, zero widths, BOM) and no noncharacters.
fn is_printable(c: char) -> bool {
    let n = u32::from(c);
    if c == ' ' {
        return true;
    }
    !(c.is_control()
        || c.is_whitespace()
        || n == 0xad
        || (0x600..=0x605).contains(&n)
        || n == 0x61c
        || n == 0x6dd
        || n == 0x70f
        || n == 0x180e
        || (0x200b..=0x200f).contains(&n)
        || (0x202a..=0x202e).contains(&n)
        || (0x2060..=0x206f).contains(&n)
        || n == 0xfeff
        || (0xfff9..=0xfffb).contains(&n)
        || (0xe000..=0xf8ff).contains(&n)
        || (n & 0xfffe) == 0xfffe
        || (0xfdd0..=0xfdef).contains(&n)
        || n >= 0xf0000)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tap::event::{MessageType, Protocol};
    use crate::testutil::{corpus_files, items_of};
    use bytes::Bytes;
    use std::path::Path;

    fn yaml_of(items: &[Item]) -> String {
        let mut out = String::new();
        for item in items {
            write_yaml(&mut out, item);
        }
        out
    }

    /// The lines golang-dnstap would print for the records: every line but
    /// the message text (4-space indented) and qtap's extra keys (2-space
    /// keys after a message block).
    fn key_lines(text: &str) -> Vec<&str> {
        let mut keep = Vec::new();
        let mut after_block = false;
        for line in text.lines() {
            if line.starts_with("    ") {
                continue;
            }
            if line == "---" {
                after_block = false;
            } else if line.starts_with("  ") && after_block && !line.ends_with(": |") {
                continue;
            }
            if line.ends_with("_message: |") {
                after_block = true;
            }
            keep.push(line);
        }
        keep
    }

    /// Documents of the Go tool's output for a corpus file, in record order.
    fn go_output(path: &Path) -> String {
        let mut p = path.as_os_str().to_owned();
        p.push(".dnstap-y.txt");
        std::fs::read_to_string(p).unwrap()
    }

    /// Items in record order (queries and responses, no end-of-stream
    /// reports), as the Go tool prints one document per record.
    fn record_items(path: &Path) -> Vec<Item> {
        items_of(path)
            .into_iter()
            .filter(|i| !matches!(i, Item::Unanswered(_)))
            .collect()
    }

    #[test]
    fn kdig_udp_key_lines_equal_the_go_tool() {
        let path = corpus_files()
            .into_iter()
            .find(|p| p.ends_with("kdig-udp.fstrm"))
            .unwrap();
        let ours = yaml_of(&record_items(&path));
        let go = go_output(&path);
        assert_eq!(key_lines(&ours), key_lines(&go), "\n{ours}");
        assert_eq!(key_lines(&ours).len(), 26);
        // The response record has no query time; pairing gives it, and the
        // round trip between the Go tool's two times (…00.000108092 and
        // …00.000333) is 224908 ns.
        assert!(ours.contains(
            "  query_time: !!timestamp 2026-11-22 05:57:00.000108092 # from the matching query record\n  rtt_ms: 0.224908\n---\n"
        ));
    }

    #[test]
    fn every_corpus_file_has_the_go_tool_key_lines() {
        for path in corpus_files() {
            let ours = yaml_of(&record_items(&path));
            let go = go_output(&path);
            // The Go tool's "parse failed" comments replace a block qtap
            // always writes.
            let go_lines: Vec<&str> = key_lines(&go)
                .into_iter()
                .map(|l| l.split(" # parse failed").next().unwrap_or(l))
                .collect();
            let go_lines: Vec<String> = go_lines
                .iter()
                .map(|l| {
                    if l.ends_with("_message:") {
                        format!("{l} |")
                    } else {
                        (*l).to_owned()
                    }
                })
                .collect();
            let ours = key_lines(&ours);
            assert_eq!(ours.len(), go_lines.len(), "{}", path.display());
            for (a, b) in ours.iter().zip(&go_lines) {
                assert_eq!(a, b, "{}", path.display());
            }
        }
    }

    #[test]
    fn block_holds_qtap_dig_text_indented() {
        let path = corpus_files()
            .into_iter()
            .find(|p| p.ends_with("kdig-udp.fstrm"))
            .unwrap();
        let items = record_items(&path);
        let mut out = String::new();
        assert!(write_yaml(&mut out, &items[1]));
        let Item::Response { event, .. } = &items[1] else {
            panic!("second item is the response");
        };
        let mut text = String::new();
        let bytes = event.response_message.as_deref().unwrap();
        write_message(&mut text, bytes, true, None, &DisplayOpts::default());
        let block: Vec<String> = text.trim().lines().map(|l| format!("    {l}")).collect();
        let start = out.find("  response_message: |\n").unwrap() + 22;
        let got: Vec<&str> = out[start..].lines().take(block.len()).collect();
        assert_eq!(got, block);
        assert!(block.iter().any(|l| l.contains("192.0.2.80")));
    }

    fn event() -> Event {
        Event {
            offset: None,
            identity: Some(Bytes::from_static(b"a\"b\\c\n\x01\xff\xe2\x80\x8b\xc3\xa9")),
            version: None,
            mtype: MessageType::STUB_QUERY,
            family: Some(2),
            protocol: Some(Protocol::Doq),
            http_protocol: None,
            query_addr: Some("::ffff:192.0.2.1".parse().unwrap()),
            query_port: None,
            response_addr: Some("2001:db8::1".parse().unwrap()),
            response_port: Some(853),
            query_time: Some(Timestamp { sec: 0, nsec: 0 }),
            response_time: None,
            query_message: Some(Bytes::from_static(&[0xab, 0xcd, 1])),
            query_zone: None,
            response_message: None,
            connection: None,
        }
    }

    #[test]
    fn quoting_times_addresses_and_odd_messages() {
        let mut out = String::new();
        assert!(write_yaml(&mut out, &Item::Unanswered(event())));
        let expected_head = "type: MESSAGE\n\
            identity: \"a\\\"b\\\\c\\n\\x01\\xff\\u200bé\"\n\
            message:\n  type: STUB_QUERY\n\
            \x20 query_time: !!timestamp 1970-01-01 00:00:00\n\
            \x20 socket_family: INET6\n  socket_protocol: DOQ\n\
            \x20 query_address: 192.0.2.1\n  response_address: 2001:db8::1\n\
            \x20 response_port: 853\n  query_message: |\n    ;; WARNING: message of 3 bytes";
        assert!(out.starts_with(expected_head), "{out}");
        assert!(
            out.ends_with("    ;; abcd01\n  unanswered: true\n---\n"),
            "{out}"
        );
        let mut e = event();
        e.query_message = None;
        let mut out = String::from("x");
        assert!(!write_yaml(&mut out, &Item::Query(e)));
        assert_eq!(out, "x");
    }

    #[test]
    fn go_time_format_trims_the_fraction() {
        let t = |sec, nsec| {
            let mut s = String::new();
            write_time(&mut s, Timestamp { sec, nsec });
            s
        };
        assert_eq!(t(1, 500_000_000), "!!timestamp 1970-01-01 00:00:01.5");
        assert_eq!(t(1, 7), "!!timestamp 1970-01-01 00:00:01.000000007");
        assert_eq!(t(u64::MAX, 1), "\"unix 18446744073709551615.000000001\"");
    }
}
