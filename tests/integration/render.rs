//! Rendering of crafted messages through the library's one path to the
//! screen (`run::View`, as live queries and `--read` use it): `+idn` on
//! names only, and malformed EDNS shown with warnings, in text and in the
//! structured formats.

use bytes::Bytes;
use qtap::render::DisplayOpts;
use qtap::run::View;
use qtap::tap::event::{Event, MessageType, Protocol, Timestamp};

/// One resource record for [`message`]: owner labels, type, class, TTL, RDATA.
struct Rr {
    owner: Vec<u8>,
    rtype: u16,
    class: u16,
    ttl: u32,
    rdata: Vec<u8>,
}

/// A name in wire form from its labels (bytes as given, no checks).
fn wire_name(labels: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for label in labels {
        out.push(u8::try_from(label.len()).unwrap());
        out.extend_from_slice(label);
    }
    out.push(0);
    out
}

fn rr(owner: Vec<u8>, rtype: u16, rdata: Vec<u8>) -> Rr {
    Rr {
        owner,
        rtype,
        class: 1,
        ttl: 300,
        rdata,
    }
}

/// An OPT record: UDP size 1232, DO clear, the given option bytes.
fn opt(owner: Vec<u8>, options: Vec<u8>) -> Rr {
    Rr {
        owner,
        rtype: 41,
        class: 1232,
        ttl: 0,
        rdata: options,
    }
}

/// A response (QR, RD, RA, ID 0x1234) to `qname` A with these sections.
fn message(qname: &[u8], answer: &[Rr], additional: &[Rr]) -> Vec<u8> {
    let mut out = vec![0x12, 0x34, 0x81, 0x80, 0, 1];
    for n in [answer.len(), 0, additional.len()] {
        out.extend_from_slice(&u16::try_from(n).unwrap().to_be_bytes());
    }
    out.extend_from_slice(qname);
    out.extend_from_slice(&[0, 1, 0, 1]);
    for r in answer.iter().chain(additional) {
        out.extend_from_slice(&r.owner);
        out.extend_from_slice(&r.rtype.to_be_bytes());
        out.extend_from_slice(&r.class.to_be_bytes());
        out.extend_from_slice(&r.ttl.to_be_bytes());
        out.extend_from_slice(&u16::try_from(r.rdata.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&r.rdata);
    }
    out
}

/// A tool response event carrying `response` (and no query).
fn response_event(response: Vec<u8>) -> Event {
    Event {
        offset: None,
        identity: Some(Bytes::from_static(b"xn--bcher-kva")),
        version: Some(Bytes::from_static(b"xn--mnchen-3ya 1.0")),
        mtype: MessageType::TOOL_RESPONSE,
        family: Some(1),
        protocol: Some(Protocol::Udp),
        http_protocol: None,
        query_addr: Some("127.0.0.1".parse().unwrap()),
        query_port: Some(40000),
        response_addr: Some("127.0.0.2".parse().unwrap()),
        response_port: Some(53),
        query_time: Some(Timestamp {
            sec: 1_700_000_000,
            nsec: 0,
        }),
        response_time: Some(Timestamp {
            sec: 1_700_000_000,
            nsec: 1_000_000,
        }),
        query_message: None,
        query_zone: None,
        response_message: Some(Bytes::from(response)),
        connection: None,
    }
}

/// The text `View` shows for these events.
fn shown(opts: DisplayOpts, events: Vec<Event>) -> String {
    let mut out = Vec::new();
    let mut view = View::new(opts, false);
    for e in events {
        view.push(e, &mut out).unwrap();
    }
    view.finish(&mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// A label made with plain Punycode (no IDNA checks), as a hostile zone can hold it.
fn raw_a_label(unicode: &str) -> Vec<u8> {
    format!("xn--{}", idna::punycode::encode_str(unicode).unwrap()).into_bytes()
}

#[test]
fn idn_shows_valid_names_in_unicode_and_nothing_else() {
    let bucher: &[u8] = b"xn--bcher-kva";
    let rlo = raw_a_label("abc\u{202E}gnpexe");
    let lsep = raw_a_label("line\u{2028}break");
    let dot = raw_a_label("paypal\u{FF0E}com");
    let qname = wire_name(&[bucher, b"example"]);
    let mut txt = vec![13];
    txt.extend_from_slice(bucher);
    let answer = [
        rr(qname.clone(), 16, txt),
        rr(qname.clone(), 5, wire_name(&[&rlo, b"example"])),
        rr(
            wire_name(&[&lsep, b"example"]),
            2,
            wire_name(&[&dot, b"example"]),
        ),
        rr(qname.clone(), 15, {
            let mut mx = vec![0, 10];
            mx.extend(wire_name(&[b"mail", b"xn--mnchen-3ya", b"de"]));
            mx
        }),
    ];
    let opts = DisplayOpts {
        idn: true,
        ..DisplayOpts::default()
    };
    let text = shown(opts, vec![response_event(message(&qname, &answer, &[]))]);
    // Names: the question, owners, the banner and names inside RDATA.
    assert!(text.contains(";bücher.example."), "{text}");
    assert!(text.contains("\nbücher.example."), "{text}");
    assert!(text.contains(" bücher.example. A\n"), "{text}");
    assert!(text.contains("MX\t10 mail.münchen.de.\n"), "{text}");
    // Not names: TXT data, the banner's version and identity.
    assert!(text.contains("\"xn--bcher-kva\""), "{text}");
    assert!(
        text.contains("xn--mnchen-3ya 1.0 (xn--bcher-kva)"),
        "{text}"
    );
    // Hostile A-labels stay A-labels.
    for label in [&rlo, &lsep, &dot] {
        let a_label = std::str::from_utf8(label).unwrap();
        assert!(text.contains(a_label), "{a_label} missing in {text}");
    }
    for bad in ['\u{202E}', '\u{2028}', '\u{FF0E}'] {
        assert!(!text.contains(bad), "{bad:?} shown in {text}");
    }
}

/// A response whose first OPT carries NSID and then a COOKIE option that
/// claims 8 bytes with 3 left, followed by a second OPT record.
fn bad_edns_response() -> Vec<u8> {
    let qname = wire_name(&[b"example"]);
    let mut options = vec![0, 3, 0, 4];
    options.extend_from_slice(b"abcd");
    options.extend_from_slice(&[0, 10, 0, 8, 1, 2, 3]);
    let additional = [
        opt(wire_name(&[]), options),
        opt(wire_name(&[]), Vec::new()),
    ];
    message(&qname, &[], &additional)
}

fn with_format(format: qtap::render::Format) -> DisplayOpts {
    DisplayOpts {
        format: Some(format),
        ..DisplayOpts::default()
    }
}

#[test]
fn malformed_edns_is_shown_with_warnings_in_text() {
    let text = shown(
        DisplayOpts::default(),
        vec![response_event(bad_edns_response())],
    );
    assert!(
        text.contains(";; Warning: Message parser reports malformed message packet.\n"),
        "{text}"
    );
    assert!(
        text.contains(";; WARNING: malformed EDNS: 2 OPT records;"),
        "{text}"
    );
    assert!(
        text.contains(
            ";; WARNING: malformed EDNS: option 10 claims 8 bytes, 3 left in the OPT record\n"
        ),
        "{text}"
    );
    // What is there is still shown: NSID, the cut option, the second OPT.
    assert!(text.contains("; NSID: 61 62 63 64 (\"abcd\")\n"), "{text}");
    assert!(text.contains("; COOKIE: 01 02 03"), "{text}");
    let additional = text
        .split(";; ADDITIONAL SECTION:\n")
        .nth(1)
        .unwrap_or_else(|| panic!("no ADDITIONAL SECTION in {text}"));
    assert!(
        additional.starts_with(".\t\t\t0\tCLASS1232 OPT\t\\# 0\n"),
        "{text}"
    );

    let qname = wire_name(&[b"example"]);
    let owned = message(&qname, &[], &[opt(wire_name(&[b"evil"]), Vec::new())]);
    let text = shown(DisplayOpts::default(), vec![response_event(owned)]);
    assert!(
        text.contains(";; WARNING: malformed EDNS: OPT record owned by evil., not the root\n"),
        "{text}"
    );
    let good = message(&qname, &[], &[opt(wire_name(&[]), Vec::new())]);
    let text = shown(DisplayOpts::default(), vec![response_event(good)]);
    assert!(!text.contains("WARNING"), "{text}");
    assert!(!text.contains("Warning"), "{text}");
}

#[test]
fn malformed_edns_is_shown_with_warnings_in_json_and_yaml() {
    let json = shown(
        with_format(qtap::render::Format::Json),
        vec![response_event(bad_edns_response())],
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let object = &v[0];
    let warnings: Vec<&str> = object["warnings"]
        .as_array()
        .unwrap_or_else(|| panic!("no warnings in {json}"))
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert_eq!(warnings.len(), 2, "{json}");
    assert!(
        warnings[0].starts_with("malformed EDNS: 2 OPT records"),
        "{json}"
    );
    assert!(warnings[1].contains("option 10 claims 8 bytes"), "{json}");
    let options = object["EDNS"]["options"].as_array().unwrap();
    assert_eq!(options.len(), 2, "{json}");
    assert_eq!(options[1]["code"], 10);
    assert_eq!(options[1]["hex"], "010203");
    assert_eq!(options[1]["declaredLength"], 8);
    let opts: Vec<_> = object["additionalRRs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["TYPE"] == 41)
        .collect();
    assert_eq!(opts.len(), 2, "{json}");

    let yaml = shown(
        with_format(qtap::render::Format::Yaml),
        vec![response_event(bad_edns_response())],
    );
    assert!(yaml.contains("malformed EDNS: 2 OPT records"), "{yaml}");
    assert!(
        yaml.contains("malformed EDNS: option 10 claims 8 bytes"),
        "{yaml}"
    );
}

/// The tool query for `bad_edns_response`'s question, ID 0x1234, unanswered.
fn query_event() -> Event {
    let mut query = message(&wire_name(&[b"example"]), &[], &[]);
    query[2] = 0x01; // RD, not QR
    query[3] = 0;
    Event {
        mtype: MessageType::TOOL_QUERY,
        response_time: None,
        response_message: None,
        query_message: Some(Bytes::from(query)),
        ..response_event(Vec::new())
    }
}

#[test]
fn with_qr_an_unanswered_query_is_one_structured_object() {
    for (qr, format) in [
        (true, qtap::render::Format::Json),
        (false, qtap::render::Format::Json),
        (true, qtap::render::Format::Jsonl),
        (true, qtap::render::Format::Yaml),
    ] {
        let opts = DisplayOpts {
            qr,
            ..with_format(format)
        };
        let out = shown(opts, vec![query_event()]);
        // Every object carries the message ID once, as "ID":4660 in JSON
        // and in the dig text of YAML's query_message block.
        let shown = out.matches("\"ID\":4660").count() + out.matches(", id: 4660").count();
        assert_eq!(shown, 1, "qr={qr} {format:?}: {out}");
        assert_eq!(
            out.contains("\"unanswered\":true"),
            !qr && format != qtap::render::Format::Yaml,
            "{out}"
        );
    }
}

#[test]
fn with_qr_an_unanswered_query_is_one_object_when_read_from_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unanswered.fstrm");
    let mut writer =
        qtap::tap::writer::TapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    writer.write(&query_event().to_pb()).unwrap();
    writer.finish().unwrap();
    for qr in ["+qr", "+noqr"] {
        let out = crate::qtap()
            .args(["--format", "json", qr, "--read"])
            .arg(&path)
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            v.as_array().unwrap().len(),
            1,
            "{qr}: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn query_zone_is_shown_in_json_and_yaml() {
    let mut event = query_event();
    event.mtype = MessageType(3); // RESOLVER_QUERY, as Unbound records it
    event.query_zone = Some(Bytes::from(wire_name(&[b"lab", b"test"])));
    let opts = DisplayOpts {
        qr: true,
        ..with_format(qtap::render::Format::Json)
    };
    let json = shown(opts, vec![event.clone()]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["dnstap"]["queryZone"], "lab.test.", "{json}");
    let opts = DisplayOpts {
        qr: true,
        ..with_format(qtap::render::Format::Yaml)
    };
    let yaml = shown(opts, vec![event.clone()]);
    assert!(
        yaml.contains("  response_port: 53\n  query_zone: \"lab.test.\"\n  query_message: |\n"),
        "{yaml}"
    );
    // A zone that is not a name: its bytes in JSON, the Go tool's comment in YAML.
    event.query_zone = Some(Bytes::from_static(b"\x05ab"));
    let opts = DisplayOpts {
        qr: true,
        ..with_format(qtap::render::Format::Json)
    };
    let json = shown(opts, vec![event.clone()]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["dnstap"]["queryZoneHEX"], "056162", "{json}");
    let opts = DisplayOpts {
        qr: true,
        ..with_format(qtap::render::Format::Yaml)
    };
    assert!(shown(opts, vec![event]).contains("  # query_zone: parse failed\n"));
}
