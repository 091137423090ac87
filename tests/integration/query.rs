//! Live queries through the real `qtap` binary: against the in-process
//! hickory-server for what a good server sends (record types, transports,
//! truncation, display options), and against the scripted hostile responder
//! for what a client must ignore or give up on (wrong IDs and questions,
//! garbage, spoofed ports, silence, broken TCP).
//!
//! These tests own qtap's observable live behaviour (stdout, stderr, exit
//! code, timing); trace-file contents are checked in `tap.rs`.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::support::hostile::{self, a_reply, echo_question, garbage_with_id};
use crate::support::{flags_of, qtap, qtap_at, section, Hostile, Reply, Run, TestServer};

/// The address a well-behaved scripted reply carries.
const GOOD: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 77);
/// The address a reply that must be ignored carries.
const BAD: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

/// Runs `qtap @127.0.0.1 -p <port> <args>`.
fn run(port: &str, args: &[&str]) -> Run {
    Run::of(qtap_at(port).args(args))
}

/// Panics unless stderr ends with a give-up line: dig's `;; no servers
/// could be reached` or a one-line `qtap: ...` error.
fn assert_gave_up(stderr: &str) {
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last == ";; no servers could be reached" || last.starts_with("qtap: "),
        "{stderr}"
    );
}

/// Sorted copy, for RRsets whose order the server may choose.
fn sorted<'a>(lines: &[&'a str]) -> Vec<&'a str> {
    let mut v = lines.to_vec();
    v.sort_unstable();
    v
}

#[test]
fn udp_a_query_prints_header_answer_and_udp_server_line() {
    let server = TestServer::start();
    let port = server.port();
    let out = run(&port, &["www.qtap.test", "A"]).expect_code(0);
    let headers = out.headers();
    assert_eq!(headers.len(), 1, "{}", out.stdout);
    assert!(
        headers[0].starts_with(";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: "),
        "{}",
        headers[0]
    );
    let flags = out.flags_lines();
    assert_eq!(flags_of(flags[0]), ["qr", "aa", "rd"], "{}", out.stdout);
    assert!(
        flags[0].contains("; QUERY: 1, ANSWER: 1, AUTHORITY: 0,"),
        "{}",
        flags[0]
    );
    assert_eq!(out.section(0, "QUESTION"), [";www.qtap.test.\t\t\tIN\tA"]);
    assert_eq!(
        out.section(0, "ANSWER"),
        ["www.qtap.test.\t\t86400\tIN\tA\t192.0.2.1"]
    );
    let server_line = format!(";; SERVER: 127.0.0.1#{port}(127.0.0.1) (UDP)");
    assert!(
        out.lines().contains(&server_line.as_str()),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("\n;; MSG SIZE  rcvd: "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("\n;; Query time: "), "{}", out.stdout);
    assert!(out.stdout.contains("\n;; WHEN: "), "{}", out.stdout);
}

#[test]
fn tcp_is_used_with_plus_tcp_plus_vc_and_long_option() {
    let server = TestServer::start();
    let port = server.port();
    for opt in ["+tcp", "+vc", "--tcp"] {
        let out = run(&port, &["www.qtap.test", opt]).expect_code(0);
        assert_eq!(
            out.section(0, "ANSWER"),
            ["www.qtap.test.\t\t86400\tIN\tA\t192.0.2.1"],
            "{opt}"
        );
        let server_line = format!(";; SERVER: 127.0.0.1#{port}(127.0.0.1) (TCP)");
        assert!(
            out.lines().contains(&server_line.as_str()),
            "{opt}\n{}",
            out.stdout
        );
    }
}

#[test]
fn tcp_option_really_connects_over_tcp() {
    // Nothing listens for UDP on this port: only a TCP query can succeed.
    let tcp = Hostile::tcp(|q| vec![Reply::Send(a_reply(q, GOOD))]);
    let out = run(
        &tcp.port(),
        &["x.qtap.test", "+tcp", "+timeout=2", "+tries=1"],
    )
    .expect_code(0);
    assert_eq!(
        out.section(0, "ANSWER"),
        ["x.qtap.test.\t\t300\tIN\tA\t192.0.2.77"]
    );
    assert_eq!(tcp.connections(), 1);
    assert_eq!(tcp.queries(), 1);
}

#[test]
fn record_types_render_in_dig_form() {
    let server = TestServer::start();
    let port = server.port();
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "qtap.test",
            "MX",
            &[
                "qtap.test.\t\t86400\tIN\tMX\t10 mail.qtap.test.",
                "qtap.test.\t\t86400\tIN\tMX\t20 mail2.example.net.",
            ],
        ),
        ("www.qtap.test", "AAAA", &["www.qtap.test.\t\t86400\tIN\tAAAA\t2001:db8::1"]),
        (
            "txt.qtap.test",
            "TXT",
            &[r#"txt.qtap.test.		86400	IN	TXT	"say \"hi\"" "back\\slash" "caf\195\169" """#],
        ),
        (
            "qtap.test",
            "SOA",
            &["qtap.test.\t\t86400\tIN\tSOA\tns1.qtap.test. hostmaster.qtap.test. 2024060101 7200 3600 1209600 300"],
        ),
        (
            "qtap.test",
            "NS",
            &["qtap.test.\t\t86400\tIN\tNS\tns1.qtap.test.", "qtap.test.\t\t86400\tIN\tNS\tns2.qtap.test."],
        ),
        ("qtap.test", "CAA", &["qtap.test.\t\t86400\tIN\tCAA\t0 issue \"ca.example.net\""]),
        ("_sip._udp.qtap.test", "SRV", &["_sip._udp.qtap.test.\t86400\tIN\tSRV\t10 60 5060 sip.qtap.test."]),
        (
            "naptr.qtap.test",
            "NAPTR",
            &["naptr.qtap.test.\t86400\tIN\tNAPTR\t100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.qtap.test."],
        ),
        (
            "sshfp.qtap.test",
            "SSHFP",
            &["sshfp.qtap.test.\t86400\tIN\tSSHFP\t1 1 0123456789ABCDEF0123456789ABCDEF01234567"],
        ),
        (
            "_443._tcp.www.qtap.test",
            "TLSA",
            &["_443._tcp.www.qtap.test. 86400\tIN\tTLSA\t3 1 1 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567 89ABCDEF"],
        ),
        ("hinfo.qtap.test", "HINFO", &["hinfo.qtap.test.\t86400\tIN\tHINFO\t\"PC\" \"Linux\""]),
        ("ptr.qtap.test", "PTR", &["ptr.qtap.test.\t\t86400\tIN\tPTR\twww.qtap.test."]),
        ("odd\\007byte.qtap.test", "A", &["odd\\007byte.qtap.test.\t86400\tIN\tA\t192.0.2.7"]),
        ("unknown.qtap.test", "TYPE65400", &["unknown.qtap.test.\t86400\tIN\tTYPE65400 \\# 4 DEADBEEF"]),
        (
            "alias.qtap.test",
            "A",
            &[
                "alias.qtap.test.\t86400\tIN\tCNAME\talias2.qtap.test.",
                "alias2.qtap.test.\t86400\tIN\tCNAME\twww.qtap.test.",
                "www.qtap.test.\t\t86400\tIN\tA\t192.0.2.1",
            ],
        ),
    ];
    for (name, rtype, expected) in cases {
        let out = run(&port, &[name, rtype]).expect_code(0);
        assert_eq!(
            sorted(&out.section(0, "ANSWER")),
            sorted(expected),
            "{name} {rtype}\n{}",
            out.stdout
        );
    }
}

#[test]
fn answer_sections_match_dig_when_installed() {
    let Ok(probe) = std::process::Command::new("dig").arg("-v").output() else {
        eprintln!("skipped: dig is not installed");
        return;
    };
    assert!(probe.status.success());
    let server = TestServer::start();
    let port = server.port();
    for (name, rtype) in [
        ("multi.qtap.test", "A"),
        ("qtap.test", "MX"),
        ("txt.qtap.test", "TXT"),
        ("_443._tcp.www.qtap.test", "TLSA"),
        ("naptr.qtap.test", "NAPTR"),
        ("unknown.qtap.test", "TYPE65400"),
        ("odd\\007byte.qtap.test", "A"),
        ("nope.qtap.test", "A"),
    ] {
        let ours = run(&port, &[name, rtype]).expect_code(0);
        let dig = std::process::Command::new("dig")
            .args([
                "@127.0.0.1",
                "-p",
                &port,
                "+tries=1",
                "+time=2",
                name,
                rtype,
            ])
            .output()
            .expect("run dig");
        let dig = String::from_utf8_lossy(&dig.stdout).into_owned();
        for sec in ["QUESTION", "ANSWER", "AUTHORITY"] {
            assert_eq!(
                sorted(&ours.section(0, sec)),
                sorted(&section(&dig, 0, sec)),
                "{name} {rtype} {sec}\n--- qtap\n{}\n--- dig\n{dig}",
                ours.stdout
            );
        }
    }
}

#[test]
fn nxdomain_exits_zero_with_status_and_soa() {
    let server = TestServer::start();
    let out = run(&server.port(), &["nope.qtap.test", "A"]).expect_code(0);
    assert!(
        out.headers()[0].contains("status: NXDOMAIN,"),
        "{}",
        out.stdout
    );
    assert!(out.section(0, "ANSWER").is_empty());
    let authority = out.section(0, "AUTHORITY");
    assert_eq!(authority.len(), 1, "{}", out.stdout);
    assert!(
        authority[0].starts_with("qtap.test.\t\t86400\tIN\tSOA\tns1.qtap.test. "),
        "{}",
        authority[0]
    );
}

#[test]
fn several_queries_print_one_block_each_in_order() {
    let server = TestServer::start();
    let out = run(
        &server.port(),
        &["www.qtap.test", "A", "qtap.test", "MX", "nope.qtap.test"],
    )
    .expect_code(0);
    let headers = out.headers();
    assert_eq!(headers.len(), 3, "{}", out.stdout);
    assert!(headers[2].contains("NXDOMAIN"), "{}", headers[2]);
    assert_eq!(out.section(0, "QUESTION"), [";www.qtap.test.\t\t\tIN\tA"]);
    assert_eq!(out.section(1, "QUESTION"), [";qtap.test.\t\t\tIN\tMX"]);
    assert_eq!(out.section(2, "QUESTION"), [";nope.qtap.test.\t\t\tIN\tA"]);
    assert_eq!(out.stdout.matches(";; MSG SIZE  rcvd: ").count(), 3);
}

#[test]
fn dash_options_set_name_type_and_class() {
    let server = TestServer::start();
    let out = run(&server.port(), &["-q", "qtap.test", "-t", "MX", "-c", "IN"]).expect_code(0);
    assert_eq!(out.section(0, "QUESTION"), [";qtap.test.\t\t\tIN\tMX"]);
    assert_eq!(out.section(0, "ANSWER").len(), 2, "{}", out.stdout);
}

#[test]
fn reverse_lookup_with_dash_x() {
    let server = TestServer::start();
    let out = run(&server.port(), &["-x", "192.0.2.1"]).expect_code(0);
    assert_eq!(
        out.section(0, "QUESTION"),
        [";1.2.0.192.in-addr.arpa.\t\tIN\tPTR"]
    );
    assert_eq!(
        out.section(0, "ANSWER"),
        ["1.2.0.192.in-addr.arpa.\t86400\tIN\tPTR\twww.qtap.test."]
    );
}

#[test]
fn ipv6_loopback_query_when_available() {
    let server = TestServer::start();
    let Some(port) = server.port6() else {
        eprintln!("skipped: no IPv6 loopback");
        return;
    };
    let out = Run::of(qtap().args(["@::1", "-p", &port, "www.qtap.test", "AAAA"])).expect_code(0);
    assert_eq!(
        out.section(0, "ANSWER"),
        ["www.qtap.test.\t\t86400\tIN\tAAAA\t2001:db8::1"]
    );
    let server_line = format!(";; SERVER: ::1#{port}(::1) (UDP)");
    assert!(
        out.lines().contains(&server_line.as_str()),
        "{}",
        out.stdout
    );
}

#[test]
fn short_prints_only_rdata() {
    let server = TestServer::start();
    let out = run(&server.port(), &["multi.qtap.test", "+short"]).expect_code(0);
    assert_eq!(
        sorted(&out.lines()),
        ["192.0.2.10", "192.0.2.11", "192.0.2.12"],
        "{}",
        out.stdout
    );
    let out = run(&server.port(), &["alias.qtap.test", "+short"]).expect_code(0);
    assert_eq!(
        out.lines(),
        ["alias2.qtap.test.", "www.qtap.test.", "192.0.2.1"]
    );
}

#[test]
fn norec_clears_rd_in_the_query_and_the_reply() {
    let server = TestServer::start();
    let port = server.port();
    let with = run(&port, &["www.qtap.test"]).expect_code(0);
    assert!(
        flags_of(with.flags_lines()[0]).contains(&"rd"),
        "{}",
        with.stdout
    );
    let without = run(&port, &["www.qtap.test", "+norec", "+qr"]).expect_code(0);
    let flags = without.flags_lines();
    assert_eq!(flags.len(), 2, "{}", without.stdout);
    // dig 9.18 sets AD in queries by default; only RD goes away.
    assert_eq!(flags_of(flags[0]), ["ad"], "query: {}", flags[0]);
    assert_eq!(flags_of(flags[1]), ["qr", "aa"], "reply: {}", flags[1]);
}

#[test]
fn qr_prints_the_query_before_the_answer() {
    let server = TestServer::start();
    let out = run(&server.port(), &["www.qtap.test", "+qr"]).expect_code(0);
    let lines = out.lines();
    let sending = lines
        .iter()
        .position(|l| *l == ";; Sending:")
        .expect(";; Sending:");
    let size_at = lines
        .iter()
        .position(|l| l.starts_with(";; QUERY SIZE: "))
        .expect(";; QUERY SIZE:");
    let got = lines
        .iter()
        .position(|l| *l == ";; Got answer:")
        .expect(";; Got answer:");
    assert!(sending < size_at && size_at < got, "{}", out.stdout);
    let size: usize = lines[size_at][";; QUERY SIZE: ".len()..]
        .parse()
        .expect("size");
    // 12 header + 15 name + 4 type/class, plus an OPT record of at least 11.
    assert!(size >= 42, "{size}");
    let headers = out.headers();
    assert_eq!(headers.len(), 2);
    let id = |h: &str| h.rsplit("id: ").next().map(str::to_owned);
    assert_eq!(id(headers[0]), id(headers[1]), "query and reply IDs");
    let flags = out.flags_lines();
    assert_eq!(flags_of(flags[0]), ["rd", "ad"]);
    assert_eq!(flags_of(flags[1]), ["qr", "aa", "rd"]);
}

/// The `+qr` part of a run: from `;; Sending:` to `;; QUERY SIZE: N`, and N.
fn sent_part(out: &Run) -> (Vec<&str>, usize) {
    let lines = out.lines();
    let start = lines
        .iter()
        .position(|l| *l == ";; Sending:")
        .expect(";; Sending:");
    let end = lines
        .iter()
        .position(|l| l.starts_with(";; QUERY SIZE: "))
        .expect(";; QUERY SIZE:");
    let size = lines[end][";; QUERY SIZE: ".len()..].parse().expect("size");
    (lines[start..end].to_vec(), size)
}

#[test]
fn cookie_and_nsid_options_change_the_query() {
    let server = TestServer::start();
    let port = server.port();
    let default = run(&port, &["www.qtap.test", "+qr"]).expect_code(0);
    let (lines, with_cookie) = sent_part(&default);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("; COOKIE: ") && l.len() == "; COOKIE: ".len() + 16),
        "a client cookie is sent by default\n{}",
        default.stdout
    );
    let plain = run(&port, &["www.qtap.test", "+qr", "+nocookie"]).expect_code(0);
    let (lines, without) = sent_part(&plain);
    assert!(
        !lines.iter().any(|l| l.contains("COOKIE")),
        "{}",
        plain.stdout
    );
    // Option code, length and an 8-byte client cookie (RFC 7873 section 4).
    assert_eq!(with_cookie, without + 12);
    let nsid = run(&port, &["www.qtap.test", "+qr", "+nocookie", "+nsid"]).expect_code(0);
    let (lines, with_nsid) = sent_part(&nsid);
    assert!(
        lines.iter().any(|l| l.starts_with("; NSID")),
        "{}",
        nsid.stdout
    );
    // An empty NSID option: code and length only (RFC 5001 section 2.1).
    assert_eq!(with_nsid, without + 4);
}

#[test]
fn noedns_and_dnssec_change_the_opt_record() {
    let server = TestServer::start();
    let port = server.port();
    let plain = run(&port, &["www.qtap.test", "+noedns"]).expect_code(0);
    assert!(
        !plain.stdout.contains("OPT PSEUDOSECTION"),
        "{}",
        plain.stdout
    );
    assert!(
        plain.flags_lines()[0].ends_with("ADDITIONAL: 0"),
        "{}",
        plain.stdout
    );
    let dnssec = run(&port, &["www.qtap.test", "+dnssec", "+qr"]).expect_code(0);
    assert!(
        dnssec
            .lines()
            .iter()
            .any(|l| l.starts_with("; EDNS: version: 0, flags: do;")),
        "{}",
        dnssec.stdout
    );
}

#[test]
fn display_options_hide_their_parts() {
    let server = TestServer::start();
    let port = server.port();
    let out = run(
        &port,
        &["qtap.test", "NS", "+noquestion", "+noanswer", "+nostats"],
    )
    .expect_code(0);
    assert!(
        !out.stdout.contains(";; QUESTION SECTION:"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(";; ANSWER SECTION:"), "{}", out.stdout);
    assert!(!out.stdout.contains("\tIN\tNS\t"), "{}", out.stdout);
    assert!(!out.stdout.contains(";; Query time:"), "{}", out.stdout);
    assert!(out.headers().len() == 1, "{}", out.stdout);
    let out = run(&port, &["www.qtap.test", "+nocomments", "+nocmd"]).expect_code(0);
    assert!(!out.stdout.contains(";; ->>HEADER<<-"), "{}", out.stdout);
    assert!(!out.stdout.contains("<<>>"), "{}", out.stdout);
    assert!(
        out.lines()
            .contains(&"www.qtap.test.\t\t86400\tIN\tA\t192.0.2.1"),
        "{}",
        out.stdout
    );
}

#[test]
fn truncated_udp_answer_is_retried_over_tcp() {
    let server = TestServer::start();
    let port = server.port();
    let out = run(&port, &["big.qtap.test", "TXT"]).expect_code(0);
    let lines = out.lines();
    let truncated = lines
        .iter()
        .position(|l| *l == ";; Truncated, retrying in TCP mode.")
        .expect("Truncated line");
    let header = lines
        .iter()
        .position(|l| l.starts_with(";; ->>HEADER<<-"))
        .expect("header");
    assert!(truncated < header, "{}", out.stdout);
    assert_eq!(out.headers().len(), 1, "{}", out.stdout);
    assert!(
        !flags_of(out.flags_lines()[0]).contains(&"tc"),
        "{}",
        out.stdout
    );
    let answer = out.section(0, "ANSWER");
    assert_eq!(answer.len(), 8, "{}", out.stdout);
    for i in 0..8 {
        let tail = format!("\"record {i}\"");
        assert!(
            answer.iter().any(|l| l.ends_with(&tail)),
            "record {i}\n{}",
            out.stdout
        );
    }
    let server_line = format!(";; SERVER: 127.0.0.1#{port}(127.0.0.1) (TCP)");
    assert!(lines.contains(&server_line.as_str()), "{}", out.stdout);
}

#[test]
fn ignore_keeps_the_truncated_udp_answer() {
    let server = TestServer::start();
    let port = server.port();
    let out = run(&port, &["big.qtap.test", "TXT", "+ignore"]).expect_code(0);
    assert!(!out.stdout.contains("Truncated"), "{}", out.stdout);
    assert!(
        flags_of(out.flags_lines()[0]).contains(&"tc"),
        "{}",
        out.stdout
    );
    assert!(out.section(0, "ANSWER").len() < 8, "{}", out.stdout);
    let server_line = format!(";; SERVER: 127.0.0.1#{port}(127.0.0.1) (UDP)");
    assert!(
        out.lines().contains(&server_line.as_str()),
        "{}",
        out.stdout
    );
}

#[test]
fn bufsize_large_enough_avoids_truncation() {
    let server = TestServer::start();
    let port = server.port();
    let out = run(&port, &["big.qtap.test", "TXT", "+bufsize=4096"]).expect_code(0);
    assert!(!out.stdout.contains("Truncated"), "{}", out.stdout);
    assert_eq!(out.section(0, "ANSWER").len(), 8, "{}", out.stdout);
    assert!(
        out.stdout.contains("; EDNS: version: 0, flags:; udp: 4096"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("(127.0.0.1) (UDP)"), "{}", out.stdout);
}

#[test]
fn wrong_id_then_silence_times_out_after_each_try() {
    let hostile = Hostile::udp(|q| vec![Reply::Send(hostile::with_wrong_id(a_reply(q, BAD)))]);
    let start = Instant::now();
    let out = run(&hostile.port(), &["x.qtap.test", "+timeout=1", "+tries=2"]).expect_code(9);
    let took = start.elapsed();
    assert!(took < Duration::from_secs(4), "took {took:?}");
    assert!(
        took >= Duration::from_millis(1900),
        "gave up early: {took:?}"
    );
    assert_eq!(hostile.queries(), 2);
    let comm = format!(
        ";; communications error to 127.0.0.1#{}: timed out",
        hostile.port()
    );
    assert_eq!(out.stderr.matches(&comm).count(), 2, "{}", out.stderr);
    assert_gave_up(&out.stderr);
    assert!(!out.stdout.contains("192.0.2.66"), "{}", out.stdout);
}

#[test]
fn tries_and_retry_set_the_number_of_datagrams() {
    for (opt, expected) in [("+tries=3", 3), ("+retry=1", 2), ("+tries=1", 1)] {
        let silent = Hostile::udp(|_| Vec::new());
        run(&silent.port(), &["x.qtap.test", "+timeout=1", opt]).expect_code(9);
        assert_eq!(silent.queries(), expected, "{opt}");
    }
    let silent = Hostile::udp(|_| Vec::new());
    Run::of(qtap_at(&silent.port()).args(["x.qtap.test", "--timeout", "1", "--tries", "2"]))
        .expect_code(9);
    assert_eq!(silent.queries(), 2, "--tries 2");
}

/// A hostile server that first sends `bad(query)` and then, shortly after,
/// the right answer: qtap must skip the first and print the second.
fn bad_then_good(bad: fn(&[u8]) -> Reply) {
    let hostile = Hostile::udp(move |q| {
        vec![
            bad(q),
            Reply::Sleep(Duration::from_millis(150)),
            Reply::Send(a_reply(q, GOOD)),
        ]
    });
    let out = run(&hostile.port(), &["x.qtap.test", "+timeout=3", "+tries=1"]).expect_code(0);
    assert_eq!(
        out.section(0, "ANSWER"),
        ["x.qtap.test.\t\t300\tIN\tA\t192.0.2.77"],
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("192.0.2.66"), "{}", out.stdout);
    assert_eq!(hostile.queries(), 1);
}

/// A hostile server that only ever sends `bad(query)`: qtap must time out.
fn only_bad(bad: fn(&[u8]) -> Reply) {
    let hostile = Hostile::udp(move |q| vec![bad(q)]);
    let start = Instant::now();
    let out = run(&hostile.port(), &["x.qtap.test", "+timeout=1", "+tries=1"]).expect_code(9);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(!out.stdout.contains("192.0.2.66"), "{}", out.stdout);
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
}

fn wrong_id(q: &[u8]) -> Reply {
    Reply::Send(hostile::with_wrong_id(a_reply(q, BAD)))
}

fn wrong_qtype(q: &[u8]) -> Reply {
    Reply::Send(hostile::add_a(
        hostile::with_qtype(echo_question(q), 16),
        300,
        BAD,
    ))
}

fn wrong_qname(q: &[u8]) -> Reply {
    Reply::Send(hostile::add_a(
        hostile::with_qname(echo_question(q), "y.qtap.test."),
        300,
        BAD,
    ))
}

fn garbage(q: &[u8]) -> Reply {
    Reply::Send(garbage_with_id(q, 64))
}

fn other_port(q: &[u8]) -> Reply {
    Reply::SendFrom(a_reply(q, BAD))
}

#[test]
fn wrong_id_is_skipped_and_the_right_reply_accepted() {
    bad_then_good(wrong_id);
}

#[test]
fn wrong_question_type_is_ignored() {
    bad_then_good(wrong_qtype);
    only_bad(wrong_qtype);
}

#[test]
fn wrong_question_name_is_ignored() {
    bad_then_good(wrong_qname);
    only_bad(wrong_qname);
}

#[test]
fn garbage_is_ignored() {
    bad_then_good(garbage);
    only_bad(garbage);
}

#[test]
fn reply_from_another_port_is_ignored() {
    bad_then_good(other_port);
    only_bad(other_port);
}

#[test]
fn tcp_close_after_length_prefix_exits_9_with_a_message() {
    let tcp = Hostile::tcp(|_| vec![Reply::TcpPrefixThenClose(200)]);
    let start = Instant::now();
    let out = run(
        &tcp.port(),
        &["x.qtap.test", "+tcp", "+timeout=5", "+tries=1"],
    )
    .expect_code(9);
    // The peer closed: that is known at once, without waiting for the timeout.
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(!out.stdout.contains(";; ->>HEADER<<-"), "{}", out.stdout);
    let comm = format!(";; communications error to 127.0.0.1#{}: ", tcp.port());
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with(&comm))
        .unwrap_or_else(|| panic!("no communications error line:\n{}", out.stderr));
    assert!(!line.ends_with("timed out"), "{line}");
    assert_gave_up(&out.stderr);
    assert_eq!(tcp.queries(), 1);
}

#[test]
fn tcp_close_without_reply_exits_9() {
    let tcp = Hostile::tcp(|_| vec![Reply::CloseTcp]);
    let start = Instant::now();
    let out = run(
        &tcp.port(),
        &["x.qtap.test", "+tcp", "+timeout=5", "+tries=1"],
    )
    .expect_code(9);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    let comm = format!(";; communications error to 127.0.0.1#{}: ", tcp.port());
    assert!(out.stderr.contains(&comm), "{}", out.stderr);
    assert_gave_up(&out.stderr);
}

#[test]
fn long_owner_name_question_line_uses_tab_stops() {
    // A 24-character name: dig counts question columns with the ';', so a
    // tab (not a space) still reaches the class column.
    let server = TestServer::start();
    let out = run(&server.port(), &["_443._tcp.www.qtap.test", "TLSA"]).expect_code(0);
    assert_eq!(
        out.section(0, "QUESTION"),
        [";_443._tcp.www.qtap.test.\tIN\tTLSA"],
        "{}",
        out.stdout
    );
}

#[test]
fn tcp_reply_dripped_byte_by_byte_is_reassembled() {
    let tcp = Hostile::tcp(|q| {
        vec![Reply::Drip {
            bytes: a_reply(q, GOOD),
            delay: Duration::from_millis(5),
        }]
    });
    let out = run(&tcp.port(), &["x.qtap.test", "+tcp", "+timeout=5"]).expect_code(0);
    assert_eq!(
        out.section(0, "ANSWER"),
        ["x.qtap.test.\t\t300\tIN\tA\t192.0.2.77"],
        "{}",
        out.stdout
    );
}

#[test]
fn unknown_plus_option_is_a_usage_error_naming_it() {
    let out = Run::of(qtap_at("53").args(["www.qtap.test", "+frobnicate"])).expect_code(1);
    assert!(out.stderr.contains("frobnicate"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn bad_type_is_a_usage_error() {
    let out = Run::of(qtap_at("53").args(["-t", "NOSUCHTYPE", "www.qtap.test"])).expect_code(1);
    assert!(out.stderr.contains("NOSUCHTYPE"), "{}", out.stderr);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn empty_and_oversized_datagrams_are_ignored() {
    // An empty datagram, then one of 65,000 bytes with the right ID, then the answer.
    let hostile = Hostile::udp(|q| {
        vec![
            Reply::Send(Vec::new()),
            Reply::Send(garbage_with_id(q, 65_000)),
            Reply::Sleep(Duration::from_millis(100)),
            Reply::Send(a_reply(q, GOOD)),
        ]
    });
    let out = run(&hostile.port(), &["x.qtap.test", "+timeout=3", "+tries=1"]).expect_code(0);
    assert!(out.stdout.contains("192.0.2.77"), "{}", out.stdout);
    assert!(out.stderr.contains("is not DNS"), "{}", out.stderr);
}

#[test]
fn two_tcp_responses_only_the_first_is_taken_and_recorded() {
    let tcp = Hostile::tcp(|q| vec![Reply::Send(a_reply(q, GOOD)), Reply::Send(a_reply(q, BAD))]);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let trace_arg = trace.to_str().unwrap();
    let out = run(&tcp.port(), &["x.qtap.test", "+tcp", "--tap", trace_arg]).expect_code(0);
    assert!(out.stdout.contains("192.0.2.77") && !out.stdout.contains("192.0.2.66"));
    assert_eq!(crate::read_trace(&trace).len(), 2);
}

/// UDP and TCP on one port: UDP answers with TC=1, TCP then does `tcp`.
fn tc_then(tcp: fn(&mut std::net::TcpStream)) -> u16 {
    // The kernel picks the UDP port; another test may hold that TCP port,
    // so pick again until both are free.
    let (udp, port, listener) = (0..100)
        .find_map(|_| {
            let udp = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
            let port = udp.local_addr().ok()?.port();
            let tcp = std::net::TcpListener::bind(("127.0.0.1", port)).ok()?;
            Some((udp, port, tcp))
        })
        .expect("a UDP and TCP port pair on 127.0.0.1");
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        if let Ok((n, peer)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&hostile::with_tc(echo_question(&buf[..n])), peer);
        }
    });
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            tcp(&mut conn);
        }
    });
    port
}

#[test]
fn truncated_udp_then_a_misbehaving_tcp_server() {
    use std::io::{Read, Write};
    // TCP closes at once.
    let port = tc_then(|c| {
        let _ = c.shutdown(std::net::Shutdown::Both);
    });
    let out = run(
        &port.to_string(),
        &["x.qtap.test", "+tries=1", "+timeout=2"],
    )
    .expect_code(9);
    assert!(
        out.stdout.contains(";; Truncated, retrying in TCP mode."),
        "{}",
        out.stdout
    );
    assert!(
        out.stderr.contains("communications error"),
        "{}",
        out.stderr
    );
    // TCP answers with garbage framed as DNS, then closes.
    let port = tc_then(|c| {
        let mut len = [0u8; 2];
        let _ = c.read_exact(&mut len);
        let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
        let _ = c.read_exact(&mut q);
        let _ = c.write_all(&hostile::framed(&garbage_with_id(&q, 40)));
    });
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let trace_arg = trace.to_str().unwrap();
    let out = run(
        &port.to_string(),
        &["x.qtap.test", "+tries=1", "+timeout=2", "--tap", trace_arg],
    )
    .expect_code(9);
    assert!(out.stderr.contains("ignoring reply"), "{}", out.stderr);
    // UDP query, TC response, TCP query: the garbage is not recorded.
    assert_eq!(crate::read_trace(&trace).len(), 3);
}

#[test]
fn tls_reset_mid_handshake_is_a_clear_error() {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        if let Ok((mut conn, _)) = listener.accept() {
            let mut some = [0u8; 10];
            let _ = conn.read_exact(&mut some);
            // Dropping with unread data makes the kernel send a reset.
        }
    });
    let out = run(
        &port.to_string(),
        &["x.qtap.test", "+tls", "+tries=1", "+timeout=3"],
    )
    .expect_code(9);
    assert!(
        out.stderr.contains("TLS handshake failed"),
        "{}",
        out.stderr
    );
    assert_eq!(
        out.stderr
            .lines()
            .filter(|l| l.contains("communications error"))
            .count(),
        1,
        "{}",
        out.stderr
    );
}

/// dig 9.18's header options reach the wire: a fixed ID (+qid), the
/// OPCODE, RA and TC bits, and a query without a question (+header-only).
#[test]
fn qid_opcode_flags_and_header_only_shape_the_query() {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let log = std::sync::Arc::clone(&seen);
    let server = Hostile::udp(move |q| {
        log.lock().unwrap().push(q.to_vec());
        // The query itself as the response: QR set, TC cleared.
        let mut reply = q.to_vec();
        reply[2] = (reply[2] | 0x80) & !0x02;
        vec![Reply::Send(reply)]
    });
    Run::of(qtap_at(&server.port()).args([
        "x.example",
        "+qid=4660",
        "+opcode=notify",
        "+raflag",
        "+tcflag",
        "+header-only",
        "+noedns",
    ]))
    .expect_code(0);
    let seen = seen.lock().unwrap();
    // ID 4660; NOTIFY (4) << 3 | TC | RD; RA | AD; no question, no records.
    assert_eq!(
        seen.as_slice(),
        [vec![0x12, 0x34, 0x23, 0xa0, 0, 0, 0, 0, 0, 0, 0, 0]]
    );
}

/// `+ttlunits` shows the TTL column in dig's units; `+nottlunits` (the
/// default) in seconds.
#[test]
fn ttlunits_shows_ttls_in_units() {
    let server = Hostile::udp(|q| {
        vec![Reply::Send(hostile::add_a(
            echo_question(q),
            5400,
            Ipv4Addr::new(192, 0, 2, 1),
        ))]
    });
    let run = Run::of(qtap_at(&server.port()).args(["x.example", "+ttlunits"])).expect_code(0);
    assert_eq!(
        run.section(0, "ANSWER"),
        ["x.example.\t\t1h30m\tIN\tA\t192.0.2.1"]
    );
    let run = Run::of(qtap_at(&server.port()).args(["x.example"])).expect_code(0);
    assert_eq!(
        run.section(0, "ANSWER"),
        ["x.example.\t\t5400\tIN\tA\t192.0.2.1"]
    );
}

/// A trace file name that is not UTF-8 is written under exactly that name
/// (it used to be rewritten with U+FFFD, so another file was written).
#[test]
fn tap_writes_a_non_utf8_file_name_as_given() {
    use std::os::unix::ffi::OsStrExt;
    let server = Hostile::udp(|q| vec![Reply::Send(a_reply(q, Ipv4Addr::new(192, 0, 2, 1)))]);
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"t\xff.fstrm");
    let path = dir.path().join(name);
    Run::of(
        qtap_at(&server.port())
            .arg("x.example")
            .arg("--tap")
            .arg(&path),
    )
    .expect_code(0);
    let names: Vec<std::ffi::OsString> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, [name]);
}

/// A server that cannot be used (no address of the family asked for) is a
/// usage error, exit 1, as in dig: no server was asked, so not 9.
#[test]
fn a_server_of_the_wrong_family_is_a_usage_error() {
    let out = qtap()
        .args(["@192.0.2.1", "-6", "x.example"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is not an IPv6 address"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
