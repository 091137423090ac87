//! Many lookups in one run: each sequential lookup goes out from a fresh UDP
//! port, `+parallel` lookups share sockets, and the text is written
//! in large pieces when stdout is not a terminal. None of it may change
//! what is accepted, shown or recorded: every reply is still checked
//! (source, ID, question), retries still go out from a fresh port, late
//! replies stay quiet, warnings stay in place.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qtap::tap::pb;

use crate::support::hostile::{self, a_reply, echo_question};
use crate::support::{qtap_at, Run, TestServer};
use crate::{qtap, read_trace};

const GOOD: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 77);
const BAD: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 66);

/// What a scripted server does with one query: datagrams to send back
/// after a delay, from its own socket or (`spoofed`) from another port.
struct Reply {
    after: Duration,
    bytes: Vec<u8>,
    spoofed: bool,
}

fn now(bytes: Vec<u8>) -> Reply {
    Reply {
        after: Duration::ZERO,
        bytes,
        spoofed: false,
    }
}

fn later(ms: u64, bytes: Vec<u8>) -> Reply {
    Reply {
        after: Duration::from_millis(ms),
        bytes,
        spoofed: false,
    }
}

/// The queries a scripted server saw: the client's address and the query,
/// in arrival order.
type Seen = Arc<Mutex<Vec<(SocketAddr, Vec<u8>)>>>;

/// A UDP server on 127.0.0.1 that runs `script(query, how many times this
/// question came before)` for every query (delayed replies go out from
/// their own threads, so they never hold up the others). Runs until the
/// test process ends; returns its port and what it saw.
fn scripted<F>(script: F) -> (u16, Seen)
where
    F: Fn(&[u8], usize) -> Vec<Reply> + Send + 'static,
{
    let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
    let port = sock.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                return;
            };
            let query = buf[..n].to_vec();
            let question = hostile::question_end(&query).map(|end| query[12..end].to_vec());
            let before = {
                let mut log = log.lock().unwrap();
                let before = log
                    .iter()
                    .filter(|(_, q)| {
                        hostile::question_end(q).map(|end| q[12..end].to_vec()) == question
                    })
                    .count();
                log.push((peer, query.clone()));
                before
            };
            for send in script(&query, before) {
                let sock = sock.clone();
                let go = move || {
                    std::thread::sleep(send.after);
                    if send.spoofed {
                        if let Ok(other) = UdpSocket::bind("127.0.0.1:0") {
                            let _ = other.send_to(&send.bytes, peer);
                        }
                    } else {
                        let _ = sock.send_to(&send.bytes, peer);
                    }
                };
                if send.after.is_zero() {
                    go();
                } else {
                    std::thread::spawn(go);
                }
            }
        }
    });
    (port, seen)
}

/// The query name of a message, dotted, lower case.
fn qname(msg: &[u8]) -> String {
    let mut at = 12;
    let mut labels = Vec::new();
    while let Some(&len) = msg.get(at) {
        if len == 0 || len & 0xC0 != 0 {
            break;
        }
        let label = msg
            .get(at + 1..at + 1 + usize::from(len))
            .unwrap_or_default();
        labels.push(String::from_utf8_lossy(label).to_lowercase());
        at += 1 + usize::from(len);
    }
    labels.join(".")
}

fn ports(seen: &Seen) -> Vec<(String, u16)> {
    seen.lock()
        .unwrap()
        .iter()
        .map(|(peer, q)| (qname(q), peer.port()))
        .collect()
}

fn msg(r: &pb::Dnstap) -> &pb::Message {
    r.message.as_ref().expect("message")
}

/// The answers shown, one `name address` per answer line.
fn answers(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter(|l| !l.starts_with(';') && l.contains("\tIN\tA\t"))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').filter(|f| !f.is_empty()).collect();
            format!("{} {}", f[0], f[f.len() - 1])
        })
        .collect()
}

#[test]
fn sequential_lookups_each_go_out_from_a_fresh_port() {
    let (port, seen) = scripted(|q, _| vec![now(a_reply(q, GOOD))]);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let names = ["a.example", "b.example", "c.example", "d.example"];
    let out = Run::of(
        qtap_at(&port.to_string())
            .args(names)
            .arg("--tap")
            .arg(&trace),
    )
    .expect_code(0);
    assert_eq!(
        answers(&out.stdout),
        names.map(|n| format!("{n}. 192.0.2.77")),
        "{}",
        out.stdout
    );
    let seen = ports(&seen);
    assert_eq!(seen.len(), 4);
    let mut distinct: Vec<u16> = seen.iter().map(|(_, p)| *p).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{seen:?}");
    // The trace records each lookup's port for its messages, and the server's.
    let records = read_trace(&trace);
    assert_eq!(records.len(), 8);
    for (r, (_, p)) in records.chunks(2).zip(&seen) {
        for m in r {
            assert_eq!(msg(m).query_port, Some(u32::from(*p)));
            assert_eq!(msg(m).response_port, Some(u32::from(port)));
        }
    }
}

#[test]
fn a_retry_after_a_timeout_goes_out_from_a_fresh_port() {
    // The first query for slow.example gets no answer.
    let (port, seen) = scripted(|q, before| {
        if qname(q) == "slow.example" && before == 0 {
            Vec::new()
        } else {
            vec![now(a_reply(q, GOOD))]
        }
    });
    let out = Run::of(qtap_at(&port.to_string()).args([
        "a.example",
        "slow.example",
        "b.example",
        "+timeout=1",
        "+tries=2",
    ]))
    .expect_code(0);
    assert_eq!(out.stderr.matches("timed out").count(), 1, "{}", out.stderr);
    assert_eq!(answers(&out.stdout).len(), 3, "{}", out.stdout);
    let seen = ports(&seen);
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["a.example", "slow.example", "slow.example", "b.example"]
    );
    assert_ne!(seen[0].1, seen[1].1, "a new lookup: a new socket");
    assert_ne!(seen[1].1, seen[2].1, "after a timeout: a new socket");
    assert_ne!(seen[2].1, seen[3].1, "a new lookup: a new socket");
}

#[test]
fn late_copies_never_reach_the_next_lookup_and_strays_are_reported() {
    let (port, _) = scripted(|q, _| match qname(q).as_str() {
        // Answered twice: the copy reaches the socket after the lookup.
        "dup.example" => vec![now(a_reply(q, GOOD)), now(a_reply(q, GOOD))],
        // A wrong ID, a wrong question, one from another port, then the answer.
        _ => vec![
            now(hostile::with_wrong_id(a_reply(q, BAD))),
            now(hostile::add_a(
                hostile::with_qname(echo_question(q), "other.example."),
                300,
                BAD,
            )),
            Reply {
                after: Duration::ZERO,
                bytes: a_reply(q, BAD),
                spoofed: true,
            },
            later(100, a_reply(q, GOOD)),
        ],
    });
    let out = Run::of(qtap_at(&port.to_string()).args([
        "dup.example",
        "next.example",
        "+timeout=3",
        "+tries=1",
    ]))
    .expect_code(0);
    assert_eq!(
        answers(&out.stdout),
        ["dup.example. 192.0.2.77", "next.example. 192.0.2.77"],
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("192.0.2.66"), "{}", out.stdout);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.contains("ignoring reply"))
        .collect();
    assert_eq!(warnings.len(), 2, "{}", out.stderr);
    assert!(warnings[0].contains("ID mismatch"), "{warnings:?}");
    assert!(warnings[1].contains("different question"), "{warnings:?}");
}

#[test]
fn parallel_lookups_share_a_socket_and_still_check_every_reply() {
    // Every query first gets a wrong ID, a wrong question and a spoofed
    // reply, then (later, so all are in flight together) the answer.
    let (port, seen) = scripted(|q, _| {
        vec![
            now(hostile::with_wrong_id(a_reply(q, BAD))),
            now(hostile::add_a(
                hostile::with_qtype(echo_question(q), 16),
                300,
                BAD,
            )),
            Reply {
                after: Duration::ZERO,
                bytes: a_reply(q, BAD),
                spoofed: true,
            },
            later(300, a_reply(q, GOOD)),
        ]
    });
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("par.fstrm");
    let names: Vec<String> = (0..12).map(|i| format!("n{i}.example")).collect();
    let start = Instant::now();
    let out = Run::of(
        qtap_at(&port.to_string())
            .args(["+parallel=12", "+timeout=3", "+tries=1"])
            .args(&names)
            .arg("--tap")
            .arg(&trace),
    )
    .expect_code(0);
    assert!(start.elapsed() < Duration::from_secs(3), "in parallel");
    let expected: Vec<String> = names.iter().map(|n| format!("{n}. 192.0.2.77")).collect();
    assert_eq!(answers(&out.stdout), expected, "{}", out.stdout);
    assert!(!out.stdout.contains("192.0.2.66"), "{}", out.stdout);
    // Each wrong question reaches its own lookup and is reported; each
    // wrong ID goes to the lookup waiting longest (or, should it hit an ID
    // just retired, is dropped quietly).
    let questions = out.stderr.matches("different question").count();
    let ignored = out.stderr.matches("ignoring reply").count();
    assert!(questions >= 12 && ignored <= 24, "{}", out.stderr);
    // One socket for all.
    let seen = ports(&seen);
    assert_eq!(seen.len(), 12);
    assert!(seen.iter().all(|(_, p)| *p == seen[0].1), "{seen:?}");
    // The trace: every query and its answer, in input order, with the
    // shared socket's port; only accepted answers are recorded.
    let records = read_trace(&trace);
    assert_eq!(records.len(), 24);
    for (i, pair) in records.chunks(2).enumerate() {
        let (q, r) = (msg(&pair[0]), msg(&pair[1]));
        assert_eq!(q.r#type, pb::message::Type::StubQuery as i32);
        assert_eq!(r.r#type, pb::message::Type::StubResponse as i32);
        assert_eq!(q.query_port, Some(u32::from(seen[0].1)));
        assert_eq!(r.query_port, q.query_port);
        assert_eq!(r.response_port, Some(u32::from(port)));
        let query = q.query_message.as_deref().unwrap();
        let response = r.response_message.as_deref().unwrap();
        assert_eq!(qname(query), names[i]);
        assert_eq!(query[..2], response[..2], "same ID");
        assert!(response.ends_with(&GOOD.octets()));
    }
}

#[test]
fn parallel_retries_use_a_fresh_port_and_late_replies_stay_quiet() {
    // late.example: the first query is answered after 1.5 s, when its
    // lookup has given up on it and retried; wait.example is still waiting
    // on the shared socket then.
    let (port, seen) = scripted(|q, before| match (qname(q).as_str(), before) {
        ("late.example", 0) => vec![later(1500, a_reply(q, BAD))],
        ("wait.example", _) => vec![later(2500, a_reply(q, GOOD))],
        _ => vec![now(a_reply(q, GOOD))],
    });
    let out = Run::of(qtap_at(&port.to_string()).args([
        "+parallel=3",
        "late.example",
        "+timeout=1",
        "+tries=2",
        "wait.example",
        "+timeout=4",
        "quick.example",
    ]))
    .expect_code(0);
    assert_eq!(
        answers(&out.stdout),
        [
            "late.example. 192.0.2.77",
            "wait.example. 192.0.2.77",
            "quick.example. 192.0.2.77"
        ],
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr.matches("timed out").count(), 1, "{}", out.stderr);
    assert!(!out.stderr.contains("ignoring"), "{}", out.stderr);
    let seen = ports(&seen);
    let port_of = |name: &str, nth: usize| {
        seen.iter()
            .filter(|(n, _)| n == name)
            .nth(nth)
            .map(|(_, p)| *p)
            .unwrap()
    };
    assert_eq!(port_of("late.example", 0), port_of("wait.example", 0));
    assert_ne!(port_of("late.example", 0), port_of("late.example", 1));
}

#[test]
fn parallel_truncated_answers_fall_back_to_tcp() {
    let server = TestServer::start();
    let port = server.port();
    let args = [
        "big.qtap.test",
        "TXT",
        "www.qtap.test",
        "A",
        "+nocookie",
        "+noall",
        "+answer",
        "+stats",
    ];
    let one = Run::of(qtap_at(&port).args(args)).expect_code(0);
    let many = Run::of(qtap_at(&port).args(args).arg("+parallel=2")).expect_code(0);
    let keep = |s: &str| -> Vec<String> {
        s.lines()
            .filter(|l| !l.starts_with(";; Query time") && !l.starts_with(";; WHEN"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(keep(&one.stdout), keep(&many.stdout));
    assert!(many.stdout.contains("(TCP)"), "{}", many.stdout);
    assert!(many.stdout.contains("(UDP)"), "{}", many.stdout);
}

#[test]
fn warnings_stay_in_place_when_stdout_and_stderr_share_a_file() {
    let (port, _) = scripted(|q, _| {
        if qname(q) == "slow.example" {
            Vec::new()
        } else {
            vec![now(a_reply(q, GOOD))]
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let both = dir.path().join("both.txt");
    let script = format!(
        "exec \"$0\" @127.0.0.1 -p {port} a.example slow.example b.example \
         +timeout=1 +tries=1 > \"$1\" 2>&1"
    );
    let status = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .arg(assert_cmd::cargo::cargo_bin("qtap"))
        .arg(&both)
        .env("TZ", "UTC")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(9));
    let text = std::fs::read_to_string(&both).unwrap();
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle:?} missing:\n{text}"))
    };
    let a = at("a.example.\t\t300\tIN\tA");
    let timeout = at("timed out");
    let b = at("b.example.\t\t300\tIN\tA");
    assert!(a < timeout && timeout < b, "{text}");
}

#[test]
fn held_text_still_comes_out_while_a_lookup_is_slow() {
    let (port, _) = scripted(|q, _| {
        if qname(q) == "slow.example" {
            vec![later(3000, a_reply(q, GOOD))]
        } else {
            vec![now(a_reply(q, GOOD))]
        }
    });
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .args(["@127.0.0.1", "-p", &port.to_string()])
        .args(["a.example", "slow.example", "+timeout=5"])
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains("a.example.\t\t300") {
                let _ = tx.send(());
            }
        }
    });
    let start = Instant::now();
    let got = rx.recv_timeout(Duration::from_secs(2));
    assert!(
        got.is_ok(),
        "the first answer was held back while the second lookup waited"
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[test]
fn a_trace_replaces_an_earlier_one_and_a_directory_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let (port, _) = scripted(|q, _| vec![now(a_reply(q, GOOD))]);
    for names in [&["old.example"][..], &["new.example", "newer.example"]] {
        Run::of(
            qtap_at(&port.to_string())
                .args(names)
                .arg("--tap")
                .arg(&trace),
        )
        .expect_code(0);
    }
    let records = read_trace(&trace);
    assert_eq!(records.len(), 4, "the second run's trace");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");
    // A directory where the trace should go: an error, and it stays.
    let in_the_way = dir.path().join("d");
    std::fs::create_dir(&in_the_way).unwrap();
    std::fs::write(in_the_way.join("keep"), b"x").unwrap();
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string(), "x.example", "--tap"])
        .arg(&in_the_way)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    assert!(in_the_way.join("keep").is_file());
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 2, "no temporary file left behind");
}
