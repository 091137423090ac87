//! qtap against a real authoritative server, Knot DNS (`knotd`, started by
//! the test on a free loopback port with tests/fixtures/zones/lab.test.zone),
//! and its text compared with the real `dig` against the same server, for
//! every record in the zone. Skips, saying so, where knotd or dig is not
//! installed (CI installs both).

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::{have, qtap};

pub(crate) struct Knot {
    child: Child,
    pub(crate) port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn zone_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zones/lab.test.zone")
}

/// A TXT RRset of about 3 KB, so UDP answers with a 1232-byte limit are truncated.
fn big_rrset() -> String {
    (0..40)
        .map(|i| format!("big TXT \"{i:02} {}\"\n", "x".repeat(70)))
        .collect()
}

/// Starts knotd in `dir` with the given `acl:`/`zone:` sections on a free
/// port and waits until it answers for `probe` SOA.
pub(crate) fn launch(dir: tempfile::TempDir, zones: &str, probe: &str) -> Knot {
    std::fs::create_dir(dir.path().join("run")).unwrap();
    let port = crate::free_udp_tcp_port();
    let d = dir.path().display();
    let conf = format!(
        "server:\n    rundir: \"{d}/run\"\n    listen: 127.0.0.1@{port}\n\
         database:\n    storage: \"{d}\"\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n\
         {zones}\
         log:\n  - target: stderr\n    any: error\n"
    );
    let conf_path = dir.path().join("knot.conf");
    std::fs::write(&conf_path, conf).unwrap();
    let child = crate::start_knotd(&conf_path);
    let knot = Knot {
        child,
        port,
        _dir: dir,
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let out = qtap()
            .args([
                "@127.0.0.1",
                "-p",
                &port.to_string(),
                probe,
                "SOA",
                "+short",
            ])
            .args(["+timeout=1", "+tries=1"])
            .output()
            .unwrap();
        if out.status.success() {
            return knot;
        }
    }
    panic!("knotd did not start on port {port}");
}

pub(crate) fn start_knot() -> Option<Knot> {
    if !have("knotd") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut zone = std::fs::read_to_string(zone_path()).unwrap();
    zone.push_str(&big_rrset());
    std::fs::write(dir.path().join("lab.test.zone"), zone).unwrap();
    let zones = "zone:\n  - domain: lab.test\n    file: \"lab.test.zone\"\n";
    Some(launch(dir, zones, "lab.test"))
}

/// Drops what legitimately differs between two runs: banners, IDs, cookies, times.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("; <<>>")
            || line.starts_with("; (")
            || line.starts_with(";; global options")
        {
            continue;
        }
        let line = if line.starts_with(";; WHEN:") {
            ";; WHEN: X".to_owned()
        } else if line.starts_with(";; Query time:") {
            ";; Query time: X".to_owned()
        } else if let Some(i) = line.find("id: ") {
            format!("{}id: X", &line[..i])
        } else if let Some(rest) = line.strip_prefix("; COOKIE: ") {
            format!(
                "; COOKIE: X{}",
                rest.split_once(' ')
                    .map_or(String::new(), |(_, t)| format!(" {t}"))
            )
        } else {
            line.to_owned()
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// (owner, type) of every record in the zone file, in file order, once each.
fn zone_queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(zone_path()).unwrap();
    let mut seen = Vec::new();
    for line in text.lines() {
        if line.starts_with('$') || line.starts_with(';') || line.trim().is_empty() {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(owner), Some(rtype)) = (words.next(), words.next()) else {
            continue;
        };
        if line.starts_with(char::is_whitespace) {
            continue;
        }
        let name = if owner == "@" {
            "lab.test.".to_owned()
        } else if owner.ends_with('.') {
            owner.to_owned()
        } else {
            format!("{owner}.lab.test.")
        };
        let pair = (name, rtype.to_owned());
        if !seen.contains(&pair) {
            seen.push(pair);
        }
    }
    seen
}

pub(crate) fn dig(port: u16, args: &[&str]) -> String {
    let out = Command::new("dig")
        .args(["@127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .env("TZ", "UTC")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn qtap_text(port: u16, args: &[&str]) -> String {
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_record_of_the_zone_renders_exactly_as_dig_prints_it() {
    let Some(knot) = start_knot() else { return };
    if !have("dig") {
        return;
    }
    let queries = zone_queries();
    assert!(queries.len() > 60, "{}", queries.len());
    let mut failures = Vec::new();
    let mut rejected = Vec::new();
    let styles: [&[&str]; 3] = [
        &[],
        &["+multiline"],
        &["+dnssec", "+multiline", "+nocrypto"],
    ];
    for (name, rtype) in &queries {
        for style in styles {
            let mut args = vec![name.as_str(), rtype.as_str(), "+norec"];
            args.extend_from_slice(style);
            let mut want = normalize(&dig(knot.port, &args));
            let mut got = normalize(&qtap_text(knot.port, &args));
            if want != got {
                // On a loaded machine either side may time out once: ask again.
                want = normalize(&dig(knot.port, &args));
                got = normalize(&qtap_text(knot.port, &args));
            }
            if want.contains("malformed message packet") || want.contains(";; Got bad packet") {
                // dig refuses the whole message and shows no records; qtap shows
                // the record in RFC 3597 form instead (checked below).
                rejected.push((name.clone(), rtype.clone(), got));
                continue;
            }
            if want != got {
                failures.push(format!(
                    "{name} {rtype} {style:?}:\n--- dig\n{want}--- qtap\n{got}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The zone holds a few records whose RDATA BIND rejects on purpose.
    assert!(rejected.len() <= 8 * styles.len(), "{rejected:?}");
    for (name, rtype, got) in rejected {
        assert!(
            got.contains("\\# "),
            "{name} {rtype} shown in generic form:\n{got}"
        );
    }
}

#[test]
fn display_options_match_dig() {
    let Some(knot) = start_knot() else { return };
    if !have("dig") {
        return;
    }
    let cases: &[&[&str]] = &[
        &["a.lab.test", "+qr"],
        &["a.lab.test", "+short"],
        &["txt.lab.test", "TXT", "+short"],
        &["a.lab.test", "+nocomments"],
        &["a.lab.test", "+noall", "+answer"],
        &["a.lab.test", "+noquestion", "+nostats"],
        &["nonexistent.lab.test", "A"],
        &["lab.test", "NS", "+noauthority", "+noadditional"],
        &["a.lab.test", "+dnssec", "+nsid", "+bufsize=4096"],
        &["a.lab.test", "+noedns"],
        &["a.lab.test", "+nocookie"],
        &["a.lab.test", "+tcp"],
        &["-x", "192.0.2.1"],
        &["-t", "MX", "-q", "mx.lab.test"],
        &["a.lab.test", "+cd", "+noad", "+aaflag"],
        &[
            "a.lab.test",
            "+qr",
            "+nsid",
            "+subnet=192.0.2.0/24",
            "+expire",
            "+keepalive",
            "+ednsopt=65001:abcd",
            "+ednsflags=0x10",
            "+zflag",
        ],
        &[
            "a.lab.test",
            "+qr",
            "+subnet=2001:db8::/48",
            "+ednsopt=65002",
        ],
        &["dnskey.lab.test", "DNSKEY", "+nottlid"],
        &["a.lab.test", "+noclass"],
        &["a.lab.test", "+noclass", "+nottlid"],
        &["dnskey.lab.test", "DNSKEY", "+nocrypto", "+rrcomments"],
        &["rrsig.lab.test", "RRSIG", "+nocrypto"],
        &["dnskey.lab.test", "DNSKEY", "+rrcomments"],
        &["dnskey.lab.test", "DNSKEY", "+split=20"],
        &["dnskey.lab.test", "DNSKEY", "+split=0"],
        &["mx.lab.test", "MX", "+unknownformat"],
        &["lab.test", "SOA", "+unknownformat"],
        &["srv.lab.test", "SRV", "+unknownformat", "+nocl"],
    ];
    for args in cases {
        let want = normalize(&dig(knot.port, args));
        let got = normalize(&qtap_text(knot.port, args));
        assert_eq!(got, want, "{args:?}");
    }
}

#[test]
fn padding_gives_the_same_query_size_as_dig() {
    let Some(knot) = start_knot() else { return };
    if !have("dig") {
        return;
    }
    for args in [
        &["a.lab.test", "+qr", "+padding=64"][..],
        &["a.lab.test", "+qr", "+tcp", "+padding=128"],
    ] {
        let size = |text: &str| {
            text.lines()
                .find(|l| l.starts_with(";; QUERY SIZE:"))
                .map(str::to_owned)
        };
        let want = size(&dig(knot.port, args));
        assert!(want.is_some());
        assert_eq!(size(&qtap_text(knot.port, args)), want, "{args:?}");
    }
}

#[test]
fn truncated_udp_answers_are_retried_over_tcp_like_dig() {
    let Some(knot) = start_knot() else { return };
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("tc.fstrm");
    let port = knot.port.to_string();
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port, "big.lab.test", "TXT", "--tap"])
        .arg(&trace)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.contains(";; Truncated, retrying in TCP mode.\n"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("\tTXT\t\"").count(),
        40,
        "all records over TCP"
    );
    assert!(stdout.contains("(127.0.0.1) (TCP)"), "{stdout}");
    let records = crate::read_trace(&trace);
    let protos: Vec<(i32, Option<i32>)> = records
        .iter()
        .map(|r| {
            let m = r.message.as_ref().unwrap();
            (m.r#type, m.socket_protocol)
        })
        .collect();
    use qtap::tap::pb::{message::Type, SocketProtocol};
    assert_eq!(
        protos,
        [
            (Type::StubQuery as i32, Some(SocketProtocol::Udp as i32)),
            (Type::StubResponse as i32, Some(SocketProtocol::Udp as i32)),
            (Type::StubQuery as i32, Some(SocketProtocol::Tcp as i32)),
            (Type::StubResponse as i32, Some(SocketProtocol::Tcp as i32)),
        ]
    );
    // Same text from the trace.
    let read = qtap().arg("--read").arg(&trace).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&read.stdout), stdout);
    // +ignore shows the truncated answer and does not retry.
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port, "big.lab.test", "TXT", "+ignore"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(";; flags: qr aa tc rd;"), "{stdout}");
    assert!(!stdout.contains("(TCP)"), "{stdout}");
    if have("dig") {
        let want = normalize(&dig(knot.port, &["big.lab.test", "TXT", "+ignore"]));
        assert_eq!(normalize(&stdout), want);
    }
}

/// Knot with a small zone open for transfers (and one closed), for AXFR/IXFR.
fn start_knot_xfr() -> Option<Knot> {
    if !have("knotd") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut small = String::from(
        "$ORIGIN small.test.\n$TTL 300\n@ SOA ns hm 5 3600 900 604800 300\n@ NS ns\nns A 192.0.2.1\n",
    );
    // Enough records for a transfer of several messages.
    for i in 0..400 {
        small.push_str(&format!("h{i} TXT \"host {i} {}\"\n", "y".repeat(150)));
    }
    std::fs::write(dir.path().join("small.test.zone"), small).unwrap();
    let zones = "acl:\n  - id: anyxfr\n    address: 127.0.0.0/8\n    action: transfer\n\
                 zone:\n  - domain: small.test\n    file: \"small.test.zone\"\n    acl: anyxfr\n\
                 \x20 - domain: closed.test\n    file: \"small.test.zone\"\n";
    Some(launch(dir, zones, "small.test"))
}

#[test]
fn zone_transfers_match_dig_and_are_recorded_message_by_message() {
    let Some(knot) = start_knot_xfr() else { return };
    let port = knot.port.to_string();
    if have("dig") {
        for args in [
            &["small.test", "AXFR"][..],
            &["closed.test", "AXFR"],
            &["small.test", "IXFR=5"],
            &["small.test", "IXFR=3", "+qr"],
            &["small.test", "AXFR", "+short"],
        ] {
            let want = normalize(&dig(knot.port, args));
            let got = normalize(&qtap_text(knot.port, args));
            assert_eq!(got, want, "{args:?}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("axfr.fstrm");
    let live = qtap()
        .args(["@127.0.0.1", "-p", &port, "small.test", "AXFR", "--tap"])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(live.status.success());
    let stdout = String::from_utf8_lossy(&live.stdout);
    let records = crate::read_trace(&trace);
    let messages = records.len() - 1;
    assert!(messages > 1, "a multi-message transfer: {messages}");
    assert!(
        stdout.contains(&format!("records (messages {messages}, bytes ")),
        "{stdout}"
    );
    assert!(stdout.contains(";; XFR size: 404 records"), "{stdout}");
    let read = qtap().arg("--read").arg(&trace).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&read.stdout), stdout);
}

/// dig 9.18's display options that shape records and lines, against the
/// same knotd: `+onesoa` (a transfer's opening SOA only, over one message
/// and several), `+expandaaaa` (every digit of an AAAA), `+identify` (the
/// server and time after each `+short` line, or dig's `;; Received` line in
/// place of the statistics).
#[test]
fn onesoa_expandaaaa_and_identify_match_dig() {
    if !have("knotd") || !have("dig") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut big = String::from(
        "$ORIGIN big.test.\n$TTL 300\n@ SOA ns hm 5 3600 900 604800 300\n@ NS ns\n\
         ns A 192.0.2.1\nwww AAAA 2001:db8::1\nwww A 192.0.2.2\n",
    );
    for i in 0..400 {
        big.push_str(&format!("h{i} TXT \"host {i} {}\"\n", "y".repeat(150)));
    }
    std::fs::write(dir.path().join("big.test.zone"), big).unwrap();
    std::fs::write(
        dir.path().join("one.test.zone"),
        "$ORIGIN one.test.\n$TTL 300\n@ SOA ns hm 1 3600 900 604800 300\n@ NS ns\nns A 192.0.2.3\n",
    )
    .unwrap();
    let zones = "acl:\n  - id: anyxfr\n    address: 127.0.0.0/8\n    action: transfer\n\
                 zone:\n  - domain: big.test\n    file: \"big.test.zone\"\n    acl: anyxfr\n\
                 \x20 - domain: one.test\n    file: \"one.test.zone\"\n    acl: anyxfr\n";
    let knot = launch(dir, zones, "big.test");
    // The times differ run to run; everything else must not.
    let times = |text: &str| -> String {
        normalize(text)
            .lines()
            .map(|l| match l.find(" in ") {
                Some(i) if l.ends_with(" ms.") || l.ends_with(" ms") => {
                    format!("{} in X ms", &l[..i])
                }
                _ => l.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    for args in [
        &["big.test", "AXFR", "+onesoa"][..],
        &["one.test", "AXFR", "+onesoa", "+nostats"],
        &["one.test", "IXFR=0", "+onesoa"],
        &["www.big.test", "AAAA", "+expandaaaa"],
        &["www.big.test", "AAAA", "+expandaaaa", "+short"],
        &["www.big.test", "A", "+short", "+identify"],
        &["www.big.test", "A", "+identify", "+nostats"],
        &["one.test", "AXFR", "+identify", "+nostats"],
    ] {
        let want = times(&dig(knot.port, args));
        let got = times(&qtap_text(knot.port, args));
        assert_eq!(got, want, "{args:?}");
    }
    let all = qtap_text(knot.port, &["big.test", "AXFR", "+onesoa"]);
    assert_eq!(all.matches("\tSOA\t").count(), 1, "{all}");
}
