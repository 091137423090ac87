//! Cutting and sharing traces: selection with `--write` (peer tools read
//! the result), and `--scrub` (no client address survives, in any
//! encoding, and the scrubbed trace still parses, pairs and renders).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use bytes::Bytes;
use qtap::render::DisplayOpts;
use qtap::scrub::{ScrubOpts, Scrubber};
use qtap::select::Filter;
use qtap::tap::event::{Event, MessageType, Protocol, Timestamp};
use qtap::tap::reader::{Item, ReaderOptions, TapReader};
use qtap::tap::writer::TapWriter;

use crate::have;

const CLIENT4: &str = "198.51.100.77";
const CLIENT6: &str = "2001:db8:77:4400::99";
const IDENTITY: &[u8] = b"resolver-7.corp.example";

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
}

fn run(tool: &str, args: &[&std::ffi::OsStr]) -> String {
    let out = Command::new(tool).args(args).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{tool} failed: {text}");
    text
}

fn payloads(path: &Path) -> Vec<Bytes> {
    TapReader::new(std::fs::File::open(path).unwrap(), ReaderOptions::default())
        .map_while(Result::ok)
        .filter_map(|i| match i {
            Item::Data { payload, .. } => Some(payload),
            Item::Warning(_) => None,
        })
        .collect()
}

fn write(inputs: &[PathBuf], filter: Filter, scrub: Option<Scrubber>, dest: &Path) -> (u8, String) {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code =
        qtap::run::write::write_files(inputs, 1 << 20, filter, scrub, dest, &mut out, &mut err)
            .unwrap();
    (code, String::from_utf8(err).unwrap())
}

fn render(path: &Path, display: DisplayOpts) -> String {
    let mut out = Vec::new();
    let mut err = Vec::new();
    qtap::run::read::read_files(
        &[path.to_path_buf()],
        1 << 20,
        display,
        false,
        &mut out,
        &mut err,
    )
    .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn selected_frames_are_written_verbatim_and_peers_read_them() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("named-all.fstrm");
    let out = dir.path().join("cut.fstrm");
    let filter = Filter::from_pairs([("msg-type", "client")], Timestamp::default()).unwrap();
    let (code, err) = write(std::slice::from_ref(&input), filter, None, &out);
    assert_eq!(code, 0, "{err}");
    let all = payloads(&input);
    let kept = payloads(&out);
    assert!(!kept.is_empty() && kept.len() < all.len());
    assert!(kept.iter().all(|k| all.contains(k)), "frames are verbatim");
    if have("kdig") {
        let text = run("kdig", &["-G".as_ref(), out.as_os_str(), "+qr".as_ref()]);
        assert!(text.contains("QUERY"), "{text}");
    }
    if have("dnstap-read") {
        let text = run("dnstap-read", &[out.as_os_str()]);
        assert_eq!(text.lines().count(), kept.len(), "{text}");
        assert!(text.lines().all(|l| l.contains(" C")), "{text}");
        run("dnstap-read", &["-p".as_ref(), out.as_os_str()]);
    }
    if have("dnstap") {
        let text = run("dnstap", &["-r".as_ref(), out.as_os_str(), "-y".as_ref()]);
        assert_eq!(text.matches("type: CLIENT_").count(), kept.len(), "{text}");
        assert!(!text.contains("RESOLVER_"));
        // Identity and version are kept.
        let orig = run("dnstap", &["-r".as_ref(), input.as_os_str(), "-y".as_ref()]);
        let id = orig.lines().find(|l| l.starts_with("identity:")).unwrap();
        assert!(text.contains(id), "{id}");
    }
    if have("fstrm_dump") {
        let text = run("fstrm_dump", &[out.as_os_str()]);
        assert!(text.contains("protobuf:dnstap.Dnstap"), "{text}");
        assert!(text.contains("STOP"), "{text}");
    }
    // Written to itself: refused, input untouched.
    let before = std::fs::read(&out).unwrap();
    let mut o = Vec::new();
    let mut e = Vec::new();
    let r = qtap::run::write::write_files(
        std::slice::from_ref(&out),
        1 << 20,
        Filter::default(),
        None,
        &out,
        &mut o,
        &mut e,
    );
    assert!(r.is_err());
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

/// A DNS message: header, one question, and an OPT record with ECS for
/// `ecs` (family 1 or 2, source prefix, address bytes), a cookie, an
/// NSID and padding.
fn message(id: u16, response: bool, qname: &[u8], ecs: (u16, u8, &[u8])) -> Vec<u8> {
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&[
        if response { 0x81 } else { 1 },
        if response { 0x80 } else { 0 },
    ]);
    m.extend_from_slice(&[0, 1, 0, u8::from(response), 0, 0, 0, 1]);
    m.extend_from_slice(qname);
    m.extend_from_slice(&[0, 1, 0, 1]);
    if response {
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    }
    let mut opts = Vec::new();
    let (family, source, addr) = ecs;
    opts.extend_from_slice(&8u16.to_be_bytes());
    opts.extend_from_slice(&(4 + addr.len() as u16).to_be_bytes());
    opts.extend_from_slice(&family.to_be_bytes());
    opts.extend_from_slice(&[source, if response { source } else { 0 }]);
    opts.extend_from_slice(addr);
    opts.extend_from_slice(&[0, 10, 0, 8, 0xc0, 0x0c, 0x1e, 0x55, 0xc0, 0x0c, 0x1e, 0x55]);
    if response {
        opts.extend_from_slice(&[0, 3, 0, 6]);
        opts.extend_from_slice(b"ns-fra");
    }
    opts.extend_from_slice(&[0, 12, 0, 4, 0xde, 0xad, 0xbe, 0xef]);
    m.extend_from_slice(&[0, 0, 41, 4, 208, 0, 0, 0x80, 0]);
    m.extend_from_slice(&(opts.len() as u16).to_be_bytes());
    m.extend_from_slice(&opts);
    m
}

/// A resolver's trace with clients at [`CLIENT4`] and [`CLIENT6`], ECS
/// for their subnets, cookies, NSID, padding and an identity.
fn sensitive_trace(dir: &Path) -> PathBuf {
    let path = dir.join("sensitive.fstrm");
    let mut w = TapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    let c4: IpAddr = CLIENT4.parse().unwrap();
    let c6: IpAddr = CLIENT6.parse().unwrap();
    let v4 = [198u8, 51, 100];
    let v6 = [0x20u8, 0x01, 0x0d, 0xb8, 0x00, 0x77, 0x44];
    let qname = b"\x03www\x07example\x03com\x00";
    for i in 0..40u16 {
        let (client, family, prefix, addr): (IpAddr, u16, u8, &[u8]) = if i % 2 == 0 {
            (c4, 1, 24, &v4)
        } else {
            (c6, 2, 56, &v6)
        };
        let base = Event {
            offset: None,
            identity: Some(Bytes::from_static(IDENTITY)),
            version: Some(Bytes::from_static(b"resolver 9.18")),
            mtype: MessageType(5),
            family: Some(if client.is_ipv4() { 1 } else { 2 }),
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some(client),
            query_port: Some(40000 + i),
            response_addr: Some(if client.is_ipv4() {
                "192.0.2.53".parse().unwrap()
            } else {
                "2001:db8::53".parse().unwrap()
            }),
            response_port: Some(53),
            connection: None,
            query_time: Some(Timestamp {
                sec: 1_700_000_000 + u64::from(i),
                nsec: 0,
            }),
            response_time: None,
            query_message: Some(Bytes::from(message(
                i,
                false,
                qname,
                (family, prefix, addr),
            ))),
            response_message: None,
            query_zone: None,
        };
        // Upstream: the resolver asks with the client's subnet.
        let upstream = Event {
            mtype: MessageType(3),
            query_addr: base.response_addr,
            query_port: Some(5300 + i),
            response_addr: Some("203.0.113.1".parse().unwrap()),
            ..base.clone()
        };
        let mut response = Event {
            mtype: MessageType(6),
            response_time: Some(Timestamp {
                sec: 1_700_000_000 + u64::from(i),
                nsec: 2_000_000,
            }),
            query_message: None,
            response_message: Some(Bytes::from(message(i, true, qname, (family, prefix, addr)))),
            ..base.clone()
        };
        w.write(&base.to_pb()).unwrap();
        w.write(&upstream.to_pb()).unwrap();
        response.query_time = None;
        w.write(&response.to_pb()).unwrap();
    }
    w.finish().unwrap();
    path
}

/// Every way the client addresses could be written down.
fn encodings() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for text in [CLIENT4, CLIENT6] {
        let addr: IpAddr = text.parse().unwrap();
        let (bin, reverse): (Vec<u8>, String) = match addr {
            IpAddr::V4(a) => {
                let o = a.octets();
                (
                    o.to_vec(),
                    format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0]),
                )
            }
            IpAddr::V6(a) => {
                let nibbles: Vec<String> = a
                    .octets()
                    .iter()
                    .rev()
                    .flat_map(|b| [format!("{:x}", b & 15), format!("{:x}", b >> 4)])
                    .collect();
                (
                    a.octets().to_vec(),
                    format!("{}.ip6.arpa", nibbles.join(".")),
                )
            }
        };
        let hex: String = bin.iter().map(|b| format!("{b:02x}")).collect();
        out.push((format!("{text} binary"), bin.clone()));
        out.push((format!("{text} text"), text.as_bytes().to_vec()));
        out.push((format!("{text} hex"), hex.clone().into_bytes()));
        out.push((format!("{text} HEX"), hex.to_uppercase().into_bytes()));
        out.push((format!("{text} reverse"), reverse.clone().into_bytes()));
        let mut wire = Vec::new();
        for label in reverse.split('.') {
            wire.push(label.len() as u8);
            wire.extend_from_slice(label.as_bytes());
        }
        out.push((format!("{text} reverse wire"), wire));
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&bin);
        out.push((
            format!("{text} base64"),
            b64.trim_end_matches('=').as_bytes().to_vec(),
        ));
    }
    // The client subnets as ECS carries them (family, prefixes, address).
    out.push(("ECS v4".into(), vec![0, 1, 24, 0, 198, 51, 100]));
    out.push(("ECS v4 scope".into(), vec![0, 1, 24, 24, 198, 51, 100]));
    out.push((
        "ECS v6".into(),
        vec![0, 2, 56, 0, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x77, 0x44],
    ));
    out.push(("ECS v4 text".into(), b"198.51.100.0/24".to_vec()));
    out.push(("ECS v6 text".into(), b"2001:db8:77:4400::/56".to_vec()));
    out.push(("identity".into(), IDENTITY.to_vec()));
    out.push(("cookie".into(), vec![0xc0, 0x0c, 0x1e, 0x55]));
    out.push(("nsid".into(), b"ns-fra".to_vec()));
    out.push(("nsid hex".into(), b"6e732d667261".to_vec()));
    out.push(("padding".into(), vec![0xde, 0xad, 0xbe, 0xef]));
    out
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

#[test]
fn no_client_address_survives_scrubbing_in_any_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let input = sensitive_trace(dir.path());
    let original = std::fs::read(&input).unwrap();
    // The test can fail: every encoding is there before scrubbing (the
    // reverse forms in qtap's rendering of the PTR-free trace excepted).
    let orig_text = render(
        &input,
        DisplayOpts {
            qr: true,
            format: Some(qtap::render::Format::Yaml),
            ..DisplayOpts::default()
        },
    ) + &render(&input, DisplayOpts::default());
    for (what, needle) in encodings() {
        let in_file = find(&original, &needle);
        let in_text = find(orig_text.as_bytes(), &needle);
        if !what.contains("reverse")
            && !what.to_lowercase().contains("hex")
            && !what.contains("base64")
        {
            assert!(in_file || in_text, "{what} is not in the original trace");
        }
    }
    let out = dir.path().join("scrubbed.fstrm");
    // A fixed key, not a random one per run. A prefix-preserving pseudonym
    // may legitimately keep an address's leading bits, and Crypto-PAn (as
    // its reference implementation builds it) keeps them far more often
    // than their length suggests: bit i is flipped by AES(the address's
    // first i bits, then the pad's), and wherever an address bit equals
    // the pad's, two neighbouring bits get the same input and so the same
    // flip. The 24 bits of the clients' ECS subnet then come out unchanged
    // for about one key in 1,500 (1/2 x (3/4)^23 on average over pads;
    // one in 5,000 random keys did so when measured), and the subnet's
    // bytes "survive" though they are its pseudonym: that is the random
    // failure this test once had. With this key the clients' subnets map
    // elsewhere, which is checked first, so that a change of key fails
    // here, saying why, and not as a leak further down.
    let key = [0x5a; 32];
    let mut probe = Scrubber::new(&key, ScrubOpts::default());
    for (text, prefix_bytes) in [(CLIENT4, 3), (CLIENT6, 7)] {
        let addr: IpAddr = text.parse().unwrap();
        let octets = |a: IpAddr| match a {
            IpAddr::V4(a) => a.octets().to_vec(),
            IpAddr::V6(a) => a.octets().to_vec(),
        };
        let (orig, pseudo) = (octets(addr), octets(probe.address(addr)));
        assert_ne!(
            orig[..prefix_bytes],
            pseudo[..prefix_bytes],
            "the key maps {text}'s subnet onto itself: pick another"
        );
    }
    let scrub = Scrubber::new(
        &key,
        ScrubOpts {
            ports: true,
            names: false,
        },
    );
    let (code, err) = write(
        std::slice::from_ref(&input),
        Filter::default(),
        Some(scrub),
        &out,
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("scrubbed: 240 addresses"), "{err}");
    assert!(
        err.contains("120 client subnets, 120 cookies, 40 NSIDs"),
        "{err}"
    );
    let scrubbed = std::fs::read(&out).unwrap();
    let mut texts = vec![("file".to_string(), scrubbed.clone())];
    for display in [
        DisplayOpts::default(),
        DisplayOpts {
            qr: true,
            format: Some(qtap::render::Format::Json),
            ..DisplayOpts::default()
        },
        DisplayOpts {
            qr: true,
            format: Some(qtap::render::Format::Yaml),
            ..DisplayOpts::default()
        },
    ] {
        texts.push((
            format!("{:?}", display.format),
            render(&out, display).into_bytes(),
        ));
    }
    if have("dnstap") {
        let y = run("dnstap", &["-r".as_ref(), out.as_os_str(), "-y".as_ref()]);
        texts.push(("dnstap -y".into(), y.into_bytes()));
    }
    if have("dnstap-read") {
        let p = run("dnstap-read", &["-p".as_ref(), out.as_os_str()]);
        texts.push(("dnstap-read -p".into(), p.into_bytes()));
    }
    if have("kdig") {
        let k = run("kdig", &["-G".as_ref(), out.as_os_str(), "+qr".as_ref()]);
        texts.push(("kdig -G".into(), k.into_bytes()));
    }
    for (where_, hay) in &texts {
        for (what, needle) in encodings() {
            assert!(!find(hay, &needle), "{what} survives in {where_}");
        }
    }
    // Still parses, pairs and renders: the same exchanges, answered.
    let a = render(&input, DisplayOpts::default());
    let b = render(&out, DisplayOpts::default());
    assert_eq!(
        a.matches("Got answer").count(),
        b.matches("Got answer").count()
    );
    assert_eq!(a.matches("ANSWER SECTION").count(), 40);
    assert_eq!(a.lines().count(), b.lines().count());
    assert_eq!(payloads(&out).len(), payloads(&input).len());
}

#[test]
fn the_same_key_gives_the_same_pseudonyms() {
    let dir = tempfile::tempdir().unwrap();
    let input = sensitive_trace(dir.path());
    let key = [0x42u8; 32];
    let (a, b) = (dir.path().join("a.fstrm"), dir.path().join("b.fstrm"));
    for out in [&a, &b] {
        let s = Scrubber::new(&key, ScrubOpts::default());
        let (code, err) = write(
            std::slice::from_ref(&input),
            Filter::default(),
            Some(s),
            out,
        );
        assert_eq!(code, 0, "{err}");
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn rendering_with_scrub_shows_no_client_address() {
    let dir = tempfile::tempdir().unwrap();
    let input = sensitive_trace(dir.path());
    for format in [
        None,
        Some(qtap::render::Format::Yaml),
        Some(qtap::render::Format::Json),
    ] {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = qtap::run::read::read_selected(
            std::slice::from_ref(&input),
            1 << 20,
            Filter::from_pairs([("addr", CLIENT4)], Timestamp::default()).unwrap(),
            Some(Scrubber::random(ScrubOpts::default())),
            DisplayOpts {
                qr: true,
                format,
                ..DisplayOpts::default()
            },
            false,
            &mut out,
            &mut err,
        )
        .unwrap();
        assert_eq!(code, 0);
        let err = String::from_utf8(err).unwrap();
        assert!(
            err.contains(";; scrubbed: 80 addresses, 40 identities removed"),
            "{err}"
        );
        assert!(out.len() > 1000);
        for (what, needle) in encodings() {
            assert!(!find(&out, &needle), "{what} survives in {format:?}");
        }
    }
}

fn stats(inputs: &[PathBuf], filter: Filter, json: bool) -> String {
    let mut out = Vec::new();
    let mut err = Vec::new();
    qtap::run::stats::stats_files(inputs, 1 << 20, filter, 10, json, &mut out, &mut err).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn stats_count_what_the_peers_count() {
    let dir = tempfile::tempdir().unwrap();
    let input = sensitive_trace(dir.path());
    let text = stats(std::slice::from_ref(&input), Filter::default(), false);
    assert!(text.contains(";; frames: 120, DNS messages: 120"), "{text}");
    assert!(
        text.contains("answered queries: 40, unanswered queries: 40, unsolicited responses: 0"),
        "{text}"
    );
    assert!(text.contains("www.example.com."), "{text}");
    assert!(text.contains("2.000"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&stats(
        std::slice::from_ref(&input),
        Filter::default(),
        true,
    ))
    .unwrap();
    assert_eq!(v["message_types"]["CLIENT_QUERY"], 40);
    assert_eq!(v["message_types"]["RESOLVER_QUERY"], 40);
    assert_eq!(v["latency"][0]["p50_ns"], 2_000_000);
    assert_eq!(v["top_clients"][0]["count"], 20);
    // With a selection.
    let f = Filter::from_pairs([("addr", CLIENT6)], Timestamp::default()).unwrap();
    let v: serde_json::Value =
        serde_json::from_str(&stats(std::slice::from_ref(&input), f, true)).unwrap();
    assert_eq!(v["frames"], 120, "frames read");
    assert_eq!(v["messages"], 40, "messages selected");
    assert_eq!(v["selection"], true);
    let f = Filter::from_pairs([("addr", CLIENT6)], Timestamp::default()).unwrap();
    let text = stats(std::slice::from_ref(&input), f, false);
    assert!(
        text.contains(";; frames read: 120, DNS messages selected: 40"),
        "{text}"
    );
    // The corpus, against dnstap-read's count of frames.
    let named = corpus("named-all.fstrm");
    let v: serde_json::Value = serde_json::from_str(&stats(
        std::slice::from_ref(&named),
        Filter::default(),
        true,
    ))
    .unwrap();
    if have("dnstap-read") {
        let lines = run("dnstap-read", &[named.as_os_str()]).lines().count();
        assert_eq!(v["frames"], lines as u64);
    }
    let damaged = stats(
        &[corpus("damaged-cut-midframe.fstrm")],
        Filter::default(),
        false,
    );
    assert!(!damaged.contains("damage found: 0"), "{damaged}");
}

#[test]
fn cli_bad_selection_values_give_one_line_and_exit_1() {
    let named = corpus("named-all.fstrm");
    for (opt, value) in [
        ("--qtype", "NOPE"),
        ("--rcode", "WHAT"),
        ("--addr", "10.0.0.0/40"),
        ("--since", "yesterday"),
        ("--slower-than", "fast"),
        ("--qname-regex", "(a"),
        ("--proto", "sctp"),
    ] {
        let out = crate::qtap()
            .arg("--read")
            .arg(&named)
            .args([opt, value])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{opt} {value}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(&format!("qtap: {opt} ")), "{err}");
        assert!(out.stdout.is_empty());
    }
    for args in [
        &["--stats"][..],
        &["--write", "x"],
        &["--qname", "a"],
        &["--scrub"],
    ] {
        let out = crate::qtap().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
    }
}

#[test]
fn cli_select_write_scrub_stats_and_hex_from_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let input = sensitive_trace(dir.path());
    let out = dir.path().join("cut.fstrm");
    // Selection and --write, reading stdin.
    let a = crate::qtap()
        .args(["--read", "-", "--addr", CLIENT6, "--scrub", "--write"])
        .arg(&out)
        .pipe_stdin(&input)
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(a.status.code(), Some(0));
    let err = String::from_utf8(a.stderr).unwrap();
    assert!(err.contains(";; scrubbed: 80 addresses"), "{err}");
    assert_eq!(payloads(&out).len(), 40);
    let bytes = std::fs::read(&out).unwrap();
    for (what, needle) in encodings() {
        assert!(!find(&bytes, &needle), "{what}");
    }
    // --write - to a pipe, read back by qtap from stdin.
    let piped = crate::qtap()
        .arg("--read")
        .arg(&input)
        .args([
            "--qtype",
            "A",
            "--msg-type",
            "client_response",
            "--write",
            "-",
        ])
        .output()
        .unwrap();
    assert_eq!(piped.status.code(), Some(0));
    let shown = crate::qtap()
        .args(["--read", "-", "+short"])
        .write_stdin(piped.stdout)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(shown.stdout).unwrap(),
        "192.0.2.1\n".repeat(40)
    );
    // --stats as JSON.
    let s = crate::qtap()
        .arg("--read")
        .arg(&input)
        .args(["--stats", "--format", "json", "--top", "1"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&s.stdout).unwrap();
    assert_eq!(v["frames"], 120);
    assert_eq!(v["top_qnames"].as_array().unwrap().len(), 1);
    // --hex, one message per line from stdin.
    let h = crate::qtap()
        .args(["--hex", "-", "+short"])
        .write_stdin(
            "# a comment\n12348180000100010000000003777777076578616d706c6503636f6d0000010001c00c000100010000012c0004c0000201\n",
        )
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(h.stdout).unwrap(), "192.0.2.1\n");
    let bad = crate::qtap().args(["--hex", "zz"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let wire = dir.path().join("m.bin");
    std::fs::write(
        &wire,
        [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 3, b'w'],
    )
    .unwrap();
    let w = crate::qtap().arg("--wire").arg(&wire).output().unwrap();
    assert_eq!(w.status.code(), Some(0));
    assert!(String::from_utf8(w.stdout).unwrap().contains("id: 4660"));
}

#[test]
fn rrsets_cli_text_and_json_lines() {
    let named = corpus("named-all.fstrm");
    let text = crate::qtap()
        .arg("--read")
        .arg(&named)
        .arg("--rrsets")
        .output()
        .unwrap();
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.starts_with(";; bailiwick: "), "{text}");
    assert!(text.contains(";; first seen: 2026-"), "{text}");
    assert!(text.contains(";; bailiwick from: query_zone"), "{text}");
    let lines = crate::qtap()
        .arg("--read")
        .arg(&named)
        .args(["--rrsets", "--format", "jsonl", "--qtype", "PTR"])
        .output()
        .unwrap();
    let lines = String::from_utf8(lines.stdout).unwrap();
    assert!(!lines.is_empty());
    for l in lines.lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        for field in [
            "rrname",
            "rrtype",
            "bailiwick",
            "rdata",
            "time_first",
            "time_last",
            "count",
        ] {
            assert!(!v[field].is_null(), "{field} in {l}");
        }
    }
    assert!(lines.contains("\"rrtype\":\"PTR\""), "{lines}");
}

#[test]
fn scrub_names_hides_reverse_names() {
    let named = corpus("named-all.fstrm");
    let run = |extra: &[&str]| {
        let out = crate::qtap()
            .arg("--read")
            .arg(&named)
            .args(["--qtype", "PTR", "--format", "yaml", "+qr"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(run(&["--scrub"]).contains("in-addr.arpa."));
    let hashed = run(&["--scrub", "--scrub-names"]);
    assert!(!hashed.contains("in-addr"), "{hashed}");
    assert!(hashed.contains("PTR"), "{hashed}");
    let bad = crate::qtap()
        .arg("--read")
        .arg(&named)
        .arg("--scrub-names")
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
}

/// Runs `command` (a shell line) under `script`, with a pseudo-terminal for
/// its standard streams; returns what reached the terminal. `timeout`
/// turns a hang into a failure.
fn under_a_terminal(command: &str) -> String {
    let out = Command::new("script")
        .args([
            "-q",
            "-e",
            "-c",
            &format!("timeout 60 {command}"),
            "/dev/null",
        ])
        .env("TERM", "xterm")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{command}: {:?} {text}", out.status);
    text
}

#[test]
fn plain_read_shows_progress_only_on_a_terminal_stderr_with_stdout_redirected() {
    if !have("script") || !have("timeout") {
        return;
    }
    // Enough frames for the bar to move (it is updated every 4096).
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("long-trace.fstrm");
    let mut writer = TapWriter::new(std::fs::File::create(&trace).unwrap()).unwrap();
    let frames = payloads(&corpus("kdig-udp.fstrm"));
    for payload in frames.iter().cycle().take(20_000) {
        writer.write_payload(payload).unwrap();
    }
    writer.finish().unwrap();
    let qtap = assert_cmd::cargo::cargo_bin("qtap");
    let quote = |p: &Path| format!("'{}'", p.display());
    let rendered = dir.path().join("out.txt");
    // stderr a terminal, stdout a file: the bar, named after the input.
    let terminal = under_a_terminal(&format!(
        "{} --read {} > {}",
        quote(&qtap),
        quote(&trace),
        quote(&rendered)
    ));
    assert!(terminal.contains("long-trace.fstrm"), "{terminal:?}");
    assert!(terminal.contains("KiB"), "{terminal:?}");
    let text = std::fs::read_to_string(&rendered).unwrap();
    assert_eq!(text.matches(";; ANSWER SECTION:").count(), 10_000);
    // Both on the terminal: the output only, no bar.
    let both = under_a_terminal(&format!("{} --read {}", quote(&qtap), quote(&trace)));
    assert!(both.contains(";; ANSWER SECTION:"));
    assert!(!both.contains("KiB"), "a bar among the output");
    // stderr not a terminal: nothing on it.
    let out = Command::new(&qtap)
        .arg("--read")
        .arg(&trace)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );
}
