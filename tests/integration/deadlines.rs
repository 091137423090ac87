//! Deadlines that junk cannot extend, and floods that cannot flood: hostile
//! servers that keep sending wrong messages, a zone transfer that never
//! makes progress, a closed UDP port. The time bounds here are generous
//! correctness bounds (a 1 s timeout must end well under 10 s), not speed
//! targets.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use crate::support::hostile::{self, a_reply, add_soa, echo_question};
use crate::support::{qtap_at, Hostile, Reply, Run};

const BAD: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

/// Lines of `stderr` warning about an ignored reply.
fn ignored(stderr: &str) -> usize {
    stderr
        .lines()
        .filter(|l| l.contains("ignoring reply"))
        .count()
}

#[test]
fn tcp_timeout_holds_while_the_server_streams_wrong_replies() {
    let tcp = Hostile::tcp(|q| {
        vec![Reply::Flood {
            bytes: hostile::with_wrong_id(a_reply(q, BAD)),
            gap: Duration::ZERO,
        }]
    });
    let start = Instant::now();
    let out = Run::of(qtap_at(&tcp.port()).args(["x.qtap.test", "+tcp", "+timeout=1", "+tries=1"]))
        .expect_code(9);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    // The first few said at once, the rest summed up in one line.
    assert!(
        ignored(&out.stderr) <= 6,
        "{} lines",
        out.stderr.lines().count()
    );
    assert!(out.stderr.contains("more like it"), "{}", out.stderr);
}

#[test]
fn udp_flood_of_wrong_replies_is_summed_up() {
    let udp = Hostile::udp(|q| {
        vec![Reply::Flood {
            bytes: hostile::with_wrong_id(a_reply(q, BAD)),
            gap: Duration::from_micros(200),
        }]
    });
    let out = Run::of(qtap_at(&udp.port()).args(["x.qtap.test", "+timeout=1", "+tries=1"]))
        .expect_code(9);
    assert!(
        ignored(&out.stderr) <= 6,
        "{} lines",
        out.stderr.lines().count()
    );
    let summary = out
        .stderr
        .lines()
        .find(|l| l.contains("more like it"))
        .unwrap_or_else(|| panic!("{}", out.stderr));
    assert!(
        summary.starts_with(";; Warning: ignoring reply from 127.0.0.1#"),
        "{summary}"
    );
}

#[test]
fn zone_transfer_of_only_wrong_messages_times_out() {
    // The transfer starts (an SOA), then only messages with a wrong ID
    // come, each well within the timeout of the last.
    let tcp = Hostile::tcp(|q| {
        let first = add_soa(echo_question(q), 7);
        vec![
            Reply::Send(first.clone()),
            Reply::Flood {
                bytes: hostile::with_wrong_id(first),
                gap: Duration::from_millis(50),
            },
        ]
    });
    let start = Instant::now();
    let out = Run::of(
        qtap_at(&tcp.port())
            .args(["qtap.test", "AXFR", "+timeout=1", "+tries=1"])
            .timeout(Duration::from_secs(20)),
    )
    .expect_code(9);
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    assert!(out.stderr.contains("transfer timed out"), "{}", out.stderr);
    assert!(out.stdout.contains("SOA"), "{}", out.stdout);
}

/// A UDP port on 127.0.0.1 nobody listens on.
fn closed_udp_port() -> String {
    let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = gone.local_addr().unwrap().port();
    drop(gone);
    port.to_string()
}

#[test]
fn closed_udp_port_ends_each_try_with_connection_refused() {
    let port = closed_udp_port();
    let start = Instant::now();
    let out =
        Run::of(qtap_at(&port).args(["x.qtap.test", "+tries=3", "+timeout=5"])).expect_code(9);
    // dig takes milliseconds; three tries of 5 s would take 15.
    assert!(
        start.elapsed() < Duration::from_secs(4),
        "{:?}",
        start.elapsed()
    );
    let refused = out
        .stderr
        .lines()
        .filter(|l| {
            l.starts_with(";; communications error to 127.0.0.1#")
                && l.ends_with(": connection refused")
        })
        .count();
    assert_eq!(refused, 3, "{}", out.stderr);
    assert!(!out.stderr.contains("timed out"), "{}", out.stderr);
}

#[test]
fn closed_udp_port_ends_parallel_lookups_too() {
    let port = closed_udp_port();
    let out = Run::of(qtap_at(&port).args([
        "+parallel=2",
        "+tries=2",
        "+timeout=5",
        "a.qtap.test",
        "b.qtap.test",
    ]))
    .expect_code(9);
    assert_eq!(
        out.stderr.matches("connection refused").count(),
        4,
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("timed out"), "{}", out.stderr);
}

#[test]
fn parallel_output_stays_in_order_with_a_large_transfer_behind_a_slow_lookup() {
    // slow.qtap.test is answered after a second; the zone transfer queued
    // behind it is done long before: 200 messages of 25 records each.
    const MESSAGES: usize = 200;
    const PER_MESSAGE: usize = 25;
    let tcp = Hostile::tcp(|q| {
        if hostile::query_type(q) == Some(252) {
            let mut steps = vec![Reply::Send(add_soa(echo_question(q), 7))];
            for m in 0..MESSAGES {
                let mut msg = echo_question(q);
                for r in 0..PER_MESSAGE {
                    let n = m * PER_MESSAGE + r;
                    msg = hostile::add_a(msg, 300, Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8));
                }
                steps.push(Reply::Send(msg));
            }
            steps.push(Reply::Send(add_soa(echo_question(q), 7)));
            steps
        } else {
            vec![
                Reply::Sleep(Duration::from_secs(1)),
                Reply::Send(a_reply(q, Ipv4Addr::new(192, 0, 2, 77))),
            ]
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("par.fstrm");
    let out = Run::of(
        qtap_at(&tcp.port())
            .args(["+parallel=2", "+tcp", "+timeout=5", "+tries=1"])
            .args(["slow.qtap.test", "A", "qtap.test", "AXFR"])
            .arg("--tap")
            .arg(&trace),
    )
    .expect_code(0);
    let slow = out
        .stdout
        .find("192.0.2.77")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let first_zone = out
        .stdout
        .find("10.0.0.0")
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(slow < first_zone, "the slow lookup's answer comes first");
    // Every record of the zone, in the order sent.
    let zone: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("\tA\t10.0."))
        .collect();
    assert_eq!(zone.len(), MESSAGES * PER_MESSAGE);
    for (n, line) in zone.iter().enumerate() {
        let want = format!("10.0.{}.{}", n >> 8, n & 0xFF);
        assert!(line.ends_with(&want), "{n}: {line}");
    }
    // The trace: the slow lookup's query and answer, then the transfer's
    // query and its MESSAGES + 2 messages.
    let records = crate::read_trace(&trace);
    assert_eq!(records.len(), 2 + 1 + MESSAGES + 2);
    let qtype = |r: &qtap::tap::pb::Dnstap| {
        let m = r.message.as_ref().unwrap();
        let q = m.query_message.as_deref().unwrap();
        hostile::query_type(q)
    };
    assert_eq!(qtype(&records[0]), Some(1));
    assert_eq!(qtype(&records[1]), Some(1));
    assert!(records[2..].iter().all(|r| qtype(r) == Some(252)));
}
