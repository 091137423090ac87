//! `--read`: the sample traces from Knot, kdig, Unbound and BIND render
//! without panics, with every message shown, damaged files are reported
//! with the right exit code, and the text matches reviewed golden files.

use std::path::{Path, PathBuf};

use crate::qtap;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
}

const CORPUS: &[&str] = &[
    "kdig-udp.fstrm",
    "kdig-tcp.fstrm",
    "kdig-tls.fstrm",
    "kdig-axfr.fstrm",
    "kdig-multi.fstrm",
    "kdig-udp-tc.fstrm",
    "knotd-auth.fstrm",
    "knotd-auth-rwq.fstrm",
    "unbound-fstrm_capture.fstrm",
    "named-all.fstrm",
    "damaged-nostop.fstrm",
    "damaged-cut-midframe.fstrm",
];

/// Messages in a file, counted from the Go `dnstap -y` rendering kept next
/// to it (one `query_message:`/`response_message:` key per message).
fn reference_message_count(name: &str) -> usize {
    let text = std::fs::read_to_string(corpus(&format!("{name}.dnstap-y.txt"))).unwrap();
    text.lines()
        .filter(|l| {
            let l = l.trim_start();
            l.starts_with("query_message:") || l.starts_with("response_message:")
        })
        .count()
}

#[test]
fn every_message_of_every_corpus_file_is_shown_with_qr() {
    for name in CORPUS {
        let out = qtap()
            .arg("--read")
            .arg(corpus(name))
            .arg("+qr")
            .output()
            .unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        // A truncated answer that was retried over TCP is summed up in dig's
        // one-line notice instead of being shown; zone transfer messages and
        // queries are shown without headers, as dig does.
        let query_blocks =
            stdout.matches(";; Sending:").count() + stdout.matches(";; Query received:").count();
        let headers = stdout.matches(";; ->>HEADER<<-").count()
            + stdout
                .matches(";; Truncated, retrying in TCP mode.")
                .count()
            + xfr_messages(&stdout)
            + (stdout.matches(";; QUERY SIZE:").count() - query_blocks);
        // Knot's responses-with-queries frames repeat the query in every
        // message of a zone transfer; qtap shows it once per transfer.
        let repeated = if name.contains("rwq") {
            xfr_messages(&stdout) - stdout.matches(";; XFR size:").count()
        } else {
            0
        };
        assert_eq!(
            headers,
            reference_message_count(name) - repeated,
            "{name}: messages shown by qtap vs dnstap -y\n{stdout}"
        );
        assert!(!stdout.contains("panicked"), "{name}");
    }
}

/// Messages counted in the `;; XFR size: N records (messages M, bytes B)` lines.
fn xfr_messages(text: &str) -> usize {
    text.lines()
        .filter_map(|l| l.strip_prefix(";; XFR size: "))
        .filter_map(|l| l.split("(messages ").nth(1))
        .filter_map(|l| l.split(',').next())
        .filter_map(|n| n.parse::<usize>().ok())
        .sum()
}

#[test]
fn exit_codes_tell_whether_data_was_lost() {
    for name in CORPUS {
        let out = qtap().arg("--read").arg(corpus(name)).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        let code = out.status.code();
        match *name {
            "damaged-cut-midframe.fstrm" => {
                assert_eq!(code, Some(8), "{name}: {stderr}");
                assert!(stderr.contains("cut short"), "{stderr}");
                assert!(stderr.contains("byte"), "{stderr}");
            }
            "damaged-nostop.fstrm" => {
                assert_eq!(code, Some(0), "{name}: {stderr}");
                assert!(stderr.contains("STOP"), "{stderr}");
            }
            _ => assert_eq!(code, Some(0), "{name}: {stderr}"),
        }
    }
}

#[test]
fn responses_are_paired_with_queries_for_query_time() {
    // Knot logs queries and responses as separate frames: pairing gives the time.
    let out = qtap()
        .arg("--read")
        .arg(corpus("knotd-auth.fstrm"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    // 48 answers and one zone transfer of 2 messages.
    let transfers = stdout.matches(";; XFR size:").count();
    assert_eq!(transfers, 1);
    assert_eq!(xfr_messages(&stdout), 2);
    assert_eq!(stdout.matches(";; Sent answer:").count(), 48);
    assert_eq!(
        stdout.matches(";; Query time: ").count(),
        48 + transfers,
        "{stdout}"
    );
    assert!(!stdout.contains("no response recorded"));
}

#[test]
fn unanswered_queries_are_reported() {
    // The cut file loses its last response: its query must still be reported.
    let out = qtap()
        .arg("--read")
        .arg(corpus("damaged-cut-midframe.fstrm"))
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(";; no response recorded for query"),
        "{stdout}"
    );
}

#[test]
fn several_files_and_stdin() {
    let file = corpus("kdig-udp.fstrm");
    let one = qtap().arg("--read").arg(&file).output().unwrap();
    let two = qtap().arg("--read").arg(&file).arg(&file).output().unwrap();
    let one = String::from_utf8(one.stdout).unwrap();
    let two = String::from_utf8(two.stdout).unwrap();
    assert_eq!(two.matches(";; Got answer:").count(), 2);
    let stdin = qtap()
        .arg("--read")
        .arg("-")
        .pipe_stdin(&file)
        .unwrap()
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(stdin.stdout).unwrap(), one);
}

#[test]
fn unopenable_inputs_fail_with_code_8() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.fstrm");
    let empty = dir.path().join("empty.fstrm");
    std::fs::write(&empty, b"").unwrap();
    for path in [missing, empty, dir.path().to_owned()] {
        let out = qtap().arg("--read").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(8), "{}: {stderr}", path.display());
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(&*path.display().to_string()), "{stderr}");
    }
}

#[test]
fn corpus_renders_match_golden_files() {
    let golden_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden");
    let bless = std::env::var_os("QTAP_BLESS").is_some();
    for name in CORPUS {
        for (suffix, extra) in [("txt", None), ("qr.txt", Some("+qr"))] {
            let mut cmd = qtap();
            cmd.arg("--read").arg(corpus(name));
            if let Some(e) = extra {
                cmd.arg(e);
            }
            let out = cmd.output().unwrap();
            let got = String::from_utf8(out.stdout).unwrap();
            let path = golden_dir.join(format!("{name}.{suffix}"));
            if bless {
                std::fs::write(&path, &got).unwrap();
                continue;
            }
            let want = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e} (run with QTAP_BLESS=1)", path.display()));
            if got != want {
                let line = got
                    .lines()
                    .zip(want.lines())
                    .position(|(a, b)| a != b)
                    .unwrap_or(0);
                panic!(
                    "{} differs from golden at line {}:\n got: {:?}\nwant: {:?}",
                    path.display(),
                    line + 1,
                    got.lines().nth(line),
                    want.lines().nth(line)
                );
            }
        }
    }
}

#[test]
fn color_only_adds_escapes() {
    for name in ["kdig-multi.fstrm", "named-all.fstrm", "kdig-axfr.fstrm"] {
        let plain = qtap()
            .args(["--color=never", "--read"])
            .arg(corpus(name))
            .arg("+qr")
            .output()
            .unwrap();
        let colored = qtap()
            .args(["--color=always", "--read"])
            .arg(corpus(name))
            .arg("+qr")
            .output()
            .unwrap();
        let colored = String::from_utf8(colored.stdout).unwrap();
        assert!(colored.contains("\u{1b}["), "{name}: no colour");
        assert_eq!(
            qtap::render::color::strip_escapes(&colored),
            String::from_utf8(plain.stdout).unwrap(),
            "{name}"
        );
    }
    // auto: not a terminal here, so no colour; NO_COLOR is honoured too.
    let auto = qtap()
        .arg("--read")
        .arg(corpus("kdig-udp.fstrm"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&auto.stdout).contains('\u{1b}'));
}

#[test]
fn as_many_frames_as_dnstap_read_sees() {
    if !crate::have("dnstap-read") {
        return;
    }
    for name in CORPUS {
        if name.starts_with("damaged") {
            continue;
        }
        let peer = std::process::Command::new("dnstap-read")
            .arg(corpus(name))
            .output()
            .unwrap();
        let peer_frames = String::from_utf8_lossy(&peer.stdout).lines().count();
        // qtap: every frame is either a query or a response of the pairing.
        let file = std::fs::File::open(corpus(name)).unwrap();
        let mut reader = qtap::tap::reader::TapReader::new(file, Default::default());
        let mut frames = 0;
        while let Some(item) = reader.next_item().unwrap() {
            if let qtap::tap::reader::Item::Data { payload, .. } = item {
                qtap::tap::event::Event::from_payload(None, payload).unwrap();
                frames += 1;
            }
        }
        assert_eq!(frames, peer_frames, "{name}");
    }
}

#[test]
fn waiting_queries_with_big_identities_are_paired_and_reported_in_order() {
    // 600 queries carrying the same 60 KiB identity (36 MB of identities,
    // more than the pairer's byte budget if each query kept its own copy),
    // then the responses to the even ones (without a query time of their
    // own): every response finds its query's time and the odd queries are
    // reported unanswered, in order.
    use qtap::dns::build::{encode_query, QueryParams};
    use qtap::dns::name::Name;
    use qtap::tap::event::{Event, MessageType, Protocol, Timestamp};
    use qtap::tap::writer::TapWriter;
    let identity = bytes::Bytes::from(vec![b'n'; 60 * 1024]);
    let event = |i: u16, response: bool| {
        let name = Name::from_text(&format!("q{i}.example")).unwrap();
        let mut msg = encode_query(&QueryParams {
            id: i,
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
        });
        if response {
            msg[2] |= 0x80;
        }
        let msg = Some(bytes::Bytes::from(msg));
        let t = Some(Timestamp {
            sec: 1_700_000_000 + u64::from(i),
            nsec: 0,
        });
        Event {
            offset: None,
            identity: Some(identity.clone()),
            version: Some(bytes::Bytes::from_static(b"test")),
            mtype: if response {
                MessageType::STUB_RESPONSE
            } else {
                MessageType::STUB_QUERY
            },
            family: Some(1),
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some("127.0.0.1".parse().unwrap()),
            query_port: Some(40_000 + i),
            response_addr: Some("127.0.0.2".parse().unwrap()),
            response_port: Some(53),
            query_zone: None,
            query_time: if response { None } else { t },
            response_time: if response { t } else { None },
            query_message: if response { None } else { msg.clone() },
            response_message: if response { msg } else { None },
            connection: None,
        }
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big-identities.fstrm");
    let mut writer = TapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    for i in 0..600 {
        writer.write(&event(i, false).to_pb()).unwrap();
    }
    for i in (0..600).step_by(2) {
        writer.write(&event(i, true).to_pb()).unwrap();
    }
    writer.finish().unwrap();
    let out = qtap().arg("--read").arg(&path).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.matches(";; Query time: ").count(), 300);
    let unanswered: Vec<&str> = stdout
        .split(";; no response recorded for query")
        .skip(1)
        .map(|block| {
            block
                .split_whitespace()
                .find(|w| w.starts_with('q'))
                .unwrap_or("")
        })
        .collect();
    let expected: Vec<String> = (1..600)
        .step_by(2)
        .map(|i| format!("q{i}.example."))
        .collect();
    assert_eq!(unanswered, expected);
}

#[test]
fn lookup_options_with_read_are_ignored_with_a_warning() {
    let file = corpus("kdig-udp.fstrm");
    let run = |opts: &[&str]| {
        let out = qtap().arg("--read").arg(&file).args(opts).output().unwrap();
        assert!(out.status.success(), "{opts:?}");
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (plain, quiet) = run(&["+multiline"]);
    assert_eq!(quiet, "", "display options alone: no warning");
    // Transport, EDNS and retry options send nothing here: said once, on
    // one line, each option named once, and the rendering is unchanged.
    let (text, warned) = run(&["+tcp", "+multiline", "+bufsize=100", "+tries=1", "+tcp"]);
    assert_eq!(text, plain);
    assert_eq!(
        warned,
        ";; WARNING: --read sends no query: +tcp +bufsize=100 +tries=1 ignored (only display options apply)\n"
    );
    // An option that changes what is shown is not one of them.
    let (_, quiet) = run(&["+trace", "+short", "+noqr"]);
    assert_eq!(quiet, "");
}
