//! `--replay`: traffic recorded against knotd, the zone changed and
//! reloaded, then replayed with exactly the expected differences; the
//! corpus's kdig, Knot and Unbound captures replayed; hostile targets
//! (silence, garbage, wrong IDs, endless TC). Skips, saying so, where
//! knotd or knotc is missing.

use std::path::Path;

use crate::hostile::{echo_question, with_tc, with_wrong_id};
use crate::knot::launch;
use crate::{have, qtap, wait_until, Hostile, Reply, Run};

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
        .display()
        .to_string()
}

/// The lab.test zone with `www` at `www_ip`, and this serial.
fn small_zone(serial: u32, www_ip: &str) -> String {
    format!(
        "$ORIGIN lab.test.\n$TTL 3600\n\
         @ SOA ns1 host.lab.test. {serial} 7200 3600 1209600 300\n\
         @ NS ns1\nns1 A 192.0.2.53\nwww A {www_ip}\nmail A 192.0.2.25\n@ MX 10 mail\n"
    )
}

/// Sends SIGINT to `child` and waits until it has exited.
fn interrupt(child: &mut std::process::Child) {
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    wait_until("the exit after SIGINT", || {
        child.try_wait().unwrap().is_some()
    });
}

/// The two ways a replay sends UDP queries: one lookup at a time through
/// the lookup driver, and several at once through the UDP window.
const SENDERS: [&[&str]; 2] = [&[], &["+parallel=4"]];

/// Replays `trace` against 127.0.0.1:`port` with `extra` arguments.
fn replay(trace: &Path, port: u16, extra: &[&str]) -> Run {
    Run::of(
        qtap()
            .args(["@127.0.0.1", "-p", &port.to_string(), "--replay"])
            .arg(trace)
            .args(["+timeout=2", "+tries=1"])
            .args(extra),
    )
}

#[test]
fn replay_after_a_zone_change_shows_exactly_that_change() {
    if !have("knotd") || !have("knotc") {
        eprintln!("skipped: knotd or knotc not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let zone_file = dir.path().join("lab.test.zone");
    std::fs::write(&zone_file, small_zone(1, "192.0.2.80")).unwrap();
    let run_dir = dir.path().join("run");
    let work = tempfile::tempdir().unwrap();
    let zones = "zone:\n  - domain: lab.test\n    file: \"lab.test.zone\"\n";
    let knot = launch(dir, zones, "lab.test");
    let port = knot.port.to_string();
    let recorded = work.path().join("rec.fstrm");
    Run::of(
        qtap()
            .args(["@127.0.0.1", "-p", &port, "--tap"])
            .arg(&recorded)
            .args(["www.lab.test", "A", "lab.test", "MX", "nx.lab.test", "A"]),
    )
    .expect_code(0);
    // Against the unchanged zone: the same, exit 0.
    let same = replay(&recorded, knot.port, &[]);
    let same = same.expect_code(0);
    assert_eq!(
        crate::replay_tally(&same.stdout, "same"),
        Some(3),
        "{}",
        same.stdout
    );
    assert!(!same.stdout.contains("DIFFERS"), "{}", same.stdout);

    // www moves; the serial goes up; knotd reloads.
    std::fs::write(&zone_file, small_zone(2, "192.0.2.81")).unwrap();
    let socket = run_dir.join("knot.sock");
    let reload = std::process::Command::new("knotc")
        .arg("-s")
        .arg(&socket)
        .args(["zone-reload", "lab.test"])
        .output()
        .unwrap();
    assert!(reload.status.success(), "{reload:?}");
    // The reload is done when the new serial is served.
    let start = std::time::Instant::now();
    loop {
        let soa = Run::of(qtap().args(["@127.0.0.1", "-p", &port, "lab.test", "SOA", "+short"]));
        if soa.stdout.contains(" 2 7200") || start.elapsed().as_secs() > 10 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mismatches = work.path().join("mismatch.fstrm");
    let changed = replay(
        &recorded,
        knot.port,
        // Through the UDP window (several at once): the mismatch file is
        // made of its records.
        &["--mismatches", mismatches.to_str().unwrap(), "+parallel=4"],
    );
    let changed = changed.expect_code(12);
    let text = &changed.stdout;
    assert!(text.contains(";; DIFFERS: #1 www.lab.test. A"), "{text}");
    let diff_lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with('-') || l.starts_with('+'))
        .collect();
    // The answer's A record, and the SOA (new serial) of the NXDOMAIN's
    // authority section; nothing else.
    assert_eq!(diff_lines.len(), 4, "{text}");
    assert!(
        diff_lines[0].starts_with("-www.lab.test.") && diff_lines[0].ends_with("192.0.2.80"),
        "{text}"
    );
    assert!(
        diff_lines[1].starts_with("+www.lab.test.") && diff_lines[1].ends_with("192.0.2.81"),
        "{text}"
    );
    assert!(text.contains(";; DIFFERS: #3 nx.lab.test. A"), "{text}");
    assert_eq!(crate::replay_tally(text, "differs"), Some(2), "{text}");
    assert_eq!(crate::replay_tally(text, "answer"), Some(1), "{text}");
    assert_eq!(crate::replay_tally(text, "authority"), Some(1), "{text}");
    // The mismatch file: recorded query and response and the new
    // response of both cases.
    assert_eq!(crate::read_trace(&mismatches).len(), 6);

    // JSON for machines.
    let json = replay(&recorded, knot.port, &["--format", "json"]);
    let json = json.expect_code(12);
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["summary"]["classes"]["differs"], 2);
    assert_eq!(v["summary"]["classes"]["same"], 1);
    assert_eq!(v["summary"]["kinds"]["answer"], 1);
    assert_eq!(v["cases"][0]["qname"], "www.lab.test.");
    let jsonl = replay(&recorded, knot.port, &["--format", "jsonl", "+parallel=8"]);
    let jsonl = jsonl.expect_code(12);
    let lines: Vec<serde_json::Value> = jsonl
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{}", jsonl.stdout);
    assert_eq!(lines[0]["number"], 1, "trace order kept with +parallel");
    assert_eq!(lines[2]["type"], "summary");
}

#[test]
fn the_corpus_captures_replay_against_knotd() {
    let Some(knot) = crate::knot::start_knot() else {
        eprintln!("skipped: knotd not installed");
        return;
    };
    for (file, queries) in [
        ("kdig-multi.fstrm", 6),
        ("knotd-auth.fstrm", 50),
        ("knotd-auth-rwq.fstrm", 50),
        ("unbound-fstrm_capture.fstrm", 0),
    ] {
        let got = replay(
            Path::new(&fixture(file)),
            knot.port,
            &["--format", "json", "+parallel=16"],
        );
        let v: serde_json::Value = serde_json::from_str(&got.stdout)
            .unwrap_or_else(|e| panic!("{file}: {e}: {}", got.stdout));
        let total = v["summary"]["queries"].as_u64().unwrap();
        if queries > 0 {
            assert_eq!(total, queries, "{file}: {}", got.stdout);
        } else {
            assert!(total > 0, "{file}");
        }
        let classes = &v["summary"]["classes"];
        // Every query got a new answer from knotd.
        assert_eq!(
            classes["no_new_response"], 0,
            "{file}: {} {}",
            got.stdout, got.stderr
        );
        assert!(matches!(got.code, Some(0 | 12)), "{file}: {got:?}");
    }
}

/// A trace of one `x.qtap.test A` query and its answer, from a responder
/// that answers with 192.0.2.77.
fn recorded_trace(dir: &Path) -> std::path::PathBuf {
    let port = crate::tiny_server(1);
    let trace = dir.join("rec.fstrm");
    Run::of(
        qtap()
            .args(["@127.0.0.1", "-p", &port.to_string(), "--tap"])
            .arg(&trace)
            .args(["x.qtap.test", "+timeout=2"]),
    )
    .expect_code(0);
    trace
}

#[test]
fn a_silent_target_means_no_new_response() {
    let dir = tempfile::tempdir().unwrap();
    let trace = recorded_trace(dir.path());
    let silent = crate::silent_server();
    let port = silent.local_addr().unwrap().port();
    for how in SENDERS {
        let got = replay(&trace, port, &[&["+timeout=1", "+tries=2"], how].concat());
        let got = got.expect_code(9);
        assert!(
            got.stdout.contains(";; NO NEW RESPONSE: #1 x.qtap.test. A"),
            "{how:?}: {}",
            got.stdout
        );
        assert!(got.stdout.contains("timed out"), "{how:?}: {}", got.stdout);
        // Each try said, as dig says it.
        let said = got
            .stderr
            .matches("communications error to 127.0.0.1#")
            .count();
        assert_eq!(said, 2, "{how:?}: {}", got.stderr);
    }
}

#[test]
fn a_closed_port_is_said_at_once_not_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let trace = recorded_trace(dir.path());
    // A port nobody listens on: the ICMP "port unreachable" ends each try
    // at once, as dig's do, well before the timeout.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for how in SENDERS {
        let began = std::time::Instant::now();
        let got = replay(&trace, port, &[&["+timeout=20", "+tries=2"], how].concat());
        let got = got.expect_code(9);
        assert!(
            began.elapsed() < std::time::Duration::from_secs(15),
            "{how:?}"
        );
        assert!(
            got.stdout.contains("connection refused"),
            "{how:?}: {}",
            got.stdout
        );
        let said = got.stderr.matches(": connection refused").count();
        assert_eq!(said, 2, "{how:?}: {}", got.stderr);
    }
}

#[test]
fn garbage_and_wrong_ids_are_skipped_until_the_answer_or_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let trace = recorded_trace(dir.path());
    // Junk only: skipped with warnings, no new response.
    let junk = Hostile::udp(|q| {
        vec![
            Reply::Send(b"garbage".to_vec()),
            Reply::Send(with_wrong_id(crate::answer_a(q))),
        ]
    });
    for how in SENDERS {
        let got = replay(&trace, junk.addr().port(), &[&["+timeout=1"], how].concat());
        let got = got.expect_code(9);
        assert!(
            got.stdout.contains("NO NEW RESPONSE"),
            "{how:?}: {}",
            got.stdout
        );
        assert!(
            got.stderr.contains("ignoring reply from 127.0.0.1#"),
            "{how:?}: {}",
            got.stderr
        );
    }
    // Junk, then the answer recorded: the same. Then a different answer:
    // differs.
    let fine = Hostile::udp(|q| {
        vec![
            Reply::Send(b"garbage".to_vec()),
            Reply::Send(with_wrong_id(crate::answer_a(q))),
            Reply::Send(crate::answer_a(q)),
        ]
    });
    // A flood of wrong answers, without pause: skipped, counted, and the
    // deadline kept (the window reads a flooded socket a few batches a
    // turn, then looks at its deadlines). A responder each: a UDP flood
    // goes on until the responder stops.
    for how in SENDERS {
        let flood = Hostile::udp(|q| {
            vec![Reply::Flood {
                bytes: with_wrong_id(crate::answer_a(q)),
                gap: std::time::Duration::ZERO,
            }]
        });
        let began = std::time::Instant::now();
        let got = replay(
            &trace,
            flood.addr().port(),
            &[&["+timeout=1"], how].concat(),
        );
        let got = got.expect_code(9);
        assert!(
            began.elapsed() < std::time::Duration::from_secs(8),
            "{how:?}: {:?}",
            began.elapsed()
        );
        assert!(
            got.stderr.contains("more like it"),
            "{how:?}: {}",
            got.stderr
        );
    }
    let other = Hostile::udp(|q| vec![Reply::Send(echo_question(q))]);
    for how in SENDERS {
        replay(&trace, fine.addr().port(), how).expect_code(0);
        let got = replay(&trace, other.addr().port(), how);
        let got = got.expect_code(12);
        assert!(
            got.stdout.contains(";; DIFFERS: #1 x.qtap.test. A"),
            "{how:?}: {}",
            got.stdout
        );
    }
}

#[test]
fn endless_truncation_ends_after_one_tcp_retry() {
    let dir = tempfile::tempdir().unwrap();
    let trace = recorded_trace(dir.path());
    // Every answer truncated, over UDP and TCP alike: one retry over TCP,
    // whose truncated answer is taken (and differs).
    let (udp, port, listener) = (0..100)
        .find_map(|_| {
            let udp = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
            let port = udp.local_addr().ok()?.port();
            let tcp = std::net::TcpListener::bind(("127.0.0.1", port)).ok()?;
            Some((udp, port, tcp))
        })
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, peer)) = udp.recv_from(&mut buf) {
            let _ = udp.send_to(&with_tc(echo_question(&buf[..n])), peer);
        }
    });
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        while let Ok((mut c, _)) = listener.accept() {
            let mut len = [0u8; 2];
            if c.read_exact(&mut len).is_err() {
                continue;
            }
            let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
            if c.read_exact(&mut q).is_err() {
                continue;
            }
            let r = with_tc(echo_question(&q));
            let mut framed = (r.len() as u16).to_be_bytes().to_vec();
            framed.extend_from_slice(&r);
            let _ = c.write_all(&framed);
        }
    });
    for how in SENDERS {
        let got = replay(&trace, port, how);
        let got = got.expect_code(12);
        assert_eq!(
            crate::replay_tally(&got.stdout, "differs"),
            Some(1),
            "{how:?}: {}",
            got.stdout
        );
        assert!(
            got.stdout.contains("+;; flags: QUERY; qr aa tc"),
            "{how:?}: {}",
            got.stdout
        );
    }
}

#[test]
fn bad_replay_options_are_usage_errors() {
    for args in [
        &["--replay", "x", "--rate", "0"][..],
        &["--replay", "x", "--speed", "-1"],
        &["--replay", "x", "--speed", "NaN"],
        &["--rate", "10"],
        &["--mismatches", "m.fstrm"],
        &["--replay", "x", "www.example"],
        &["--replay", "x", "--read", "y"],
        &["--replay", "x", "--tap", "-"],
        &["--replay", "x", "--max-connections", "3"],
        &["--replay", "x", "--socket-mode", "600"],
        &["--replay", "unix:/nonexistent/s", "--speed", "2"],
        &["--replay", "unix:/nonexistent/s", "--no-output"],
        &["--replay", "tcp:nonsense"],
        &["--replay", "x", "--until-closed"],
        &["--read", "x.fstrm", "--until-closed"],
        &["--until-closed", "www.example"],
    ] {
        let got = Run::of(qtap().args(args));
        let got = got.expect_code(1);
        assert_eq!(got.stderr.lines().count(), 1, "{args:?}: {}", got.stderr);
    }
    let got = Run::of(qtap().args(["@127.0.0.1", "--replay", "/nonexistent/x.fstrm"]));
    let got = got.expect_code(8);
    assert!(got.stderr.contains("cannot open"), "{}", got.stderr);
}

/// `--replay unix:PATH`: queries replayed as a sender (qtap's own
/// `--tap unix:`) hands them over, against a second server whose zone
/// differs; SIGINT ends the replay with the summary and the usual exit
/// code, and so does the last sender's leaving with `--until-closed`.
#[test]
fn a_live_replay_takes_the_queries_from_a_collector_socket() {
    use std::process::{Command, Stdio};
    if !have("knotd") {
        eprintln!("skipped: knotd not installed");
        return;
    }
    let zones = "zone:\n  - domain: lab.test\n    file: \"lab.test.zone\"\n";
    let knot_with = |www: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lab.test.zone"), small_zone(1, www)).unwrap();
        launch(dir, zones, "lab.test")
    };
    let (old, new) = (knot_with("192.0.2.80"), knot_with("192.0.2.81"));
    let work = tempfile::tempdir().unwrap();
    let sock = work.path().join("replay.sock");
    let bin = assert_cmd::cargo::cargo_bin("qtap");
    let mut replay = Killed(Some(
        Command::new(&bin)
            .args(["@127.0.0.1", "-p", &new.port.to_string(), "--replay"])
            .arg(format!("unix:{}", sock.display()))
            .args(["+timeout=2", "+tries=1", "+parallel=8"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    wait_until("the replay to listen", || sock.exists());
    // The sender finishes its Frame Streams handshake before it exits:
    // by then the collector has read every frame.
    Run::of(
        qtap()
            .args(["@127.0.0.1", "-p", &old.port.to_string(), "--tap"])
            .arg(format!("unix:{}", sock.display()))
            .args(["www.lab.test", "A", "mail.lab.test", "A"]),
    )
    .expect_code(0);
    interrupt(replay.0.as_mut().unwrap());
    let out = replay.0.take().unwrap().wait_with_output().unwrap();
    let status = out.status;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stderr.contains(";; listening on unix:"), "{stderr}");
    assert!(
        stdout.contains(";; DIFFERS: #1 www.lab.test. A"),
        "{stdout}"
    );
    // The frame's offset is in its connection's stream, named.
    let sock_label = format!(" of unix:{}#1", sock.display());
    assert!(stdout.contains(&sock_label), "{stdout}");
    assert!(stdout.contains("+www.lab.test."), "{stdout}");
    assert_eq!(crate::replay_tally(&stdout, "same"), Some(1), "{stdout}");
    assert_eq!(crate::replay_tally(&stdout, "differs"), Some(1), "{stdout}");
    assert_eq!(status.code(), Some(12), "{stdout}{stderr}");
    assert!(!sock.exists(), "the socket file stays behind");

    // --until-closed: the replay ends by itself once its sender has gone.
    let replay = Command::new(&bin)
        .args(["@127.0.0.1", "-p", &new.port.to_string(), "--replay"])
        .arg(format!("unix:{}", sock.display()))
        .args(["--until-closed", "+timeout=2", "+tries=1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut replay = Killed(Some(replay));
    wait_until("the replay to listen", || sock.exists());
    Run::of(
        qtap()
            .args(["@127.0.0.1", "-p", &old.port.to_string(), "--tap"])
            .arg(format!("unix:{}", sock.display()))
            .args(["mail.lab.test", "A"]),
    )
    .expect_code(0);
    let child = replay.0.as_mut().unwrap();
    wait_until("the exit once the sender closed", || {
        child.try_wait().unwrap().is_some()
    });
    let out = replay.0.take().unwrap().wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(crate::replay_tally(&stdout, "same"), Some(1), "{stdout}");
    assert_eq!(out.status.code(), Some(0), "{stdout}");
}

/// A live replay does not wait for the end of its stream to give up on a
/// query whose response was not recorded (a server that logs queries
/// only, or dropped one): the case is shown within seconds, while the
/// replay still runs.
#[test]
fn a_live_replay_gives_up_on_a_recorded_response_in_time() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    if !have("knotd") || !have("fstrm_replay") {
        eprintln!("skipped: knotd or fstrm_replay not installed");
        return;
    }
    let zones = "zone:\n  - domain: lab.test\n    file: \"lab.test.zone\"\n";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("lab.test.zone"),
        small_zone(1, "192.0.2.80"),
    )
    .unwrap();
    let knot = launch(dir, zones, "lab.test");
    let work = tempfile::tempdir().unwrap();
    // A query that got no response: sent to a port nobody serves.
    let queries = work.path().join("q.tap");
    let closed = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    Run::of(
        qtap()
            .args(["@127.0.0.1", "-p", &closed_port.to_string(), "--tap"])
            .arg(&queries)
            .args(["www.lab.test", "A", "+tries=1", "+timeout=1"]),
    )
    .expect_code(9);
    let sock = work.path().join("replay.sock");
    let bin = assert_cmd::cargo::cargo_bin("qtap");
    let mut replay = Killed(Some(
        Command::new(&bin)
            .args(["@127.0.0.1", "-p", &knot.port.to_string(), "--replay"])
            .arg(format!("unix:{}", sock.display()))
            .args(["--format", "jsonl", "+timeout=2", "+tries=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let stdout = replay.0.as_mut().unwrap().stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let start = std::time::Instant::now();
    while !sock.exists() {
        assert!(start.elapsed().as_secs() < 20, "the replay never listened");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let sent = Command::new("fstrm_replay")
        .args(["-t", "protobuf:dnstap.Dnstap", "-u"])
        .arg(&sock)
        .arg("-r")
        .arg(&queries)
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");
    // The case comes out while the replay runs: no SIGINT yet.
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(20))
        .expect("no case shown while the stream stays open");
    assert!(
        line.contains("\"class\":\"no_recorded_response\""),
        "{line}"
    );
    assert!(line.contains("www.lab.test."), "{line}");
    interrupt(replay.0.as_mut().unwrap());
    let rest: Vec<String> = rx.try_iter().collect();
    let summary = rest.last().cloned().unwrap_or_default();
    assert!(summary.contains("\"no_recorded_response\":1"), "{rest:?}");
}

/// A child process killed (and reaped) when dropped, unless taken.
struct Killed(Option<std::process::Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

#[test]
fn tap_records_each_replayed_query_and_its_new_response() {
    // Without --tap a replay keeps only the new responses; with it, the
    // trace holds the queries too.
    let dir = tempfile::tempdir().unwrap();
    let trace = recorded_trace(dir.path());
    for (i, how) in SENDERS.into_iter().enumerate() {
        let port = crate::tiny_server(1);
        let out = dir.path().join(format!("replayed{i}.fstrm"));
        let tap = out.to_str().unwrap();
        replay(&trace, port, &[&["--tap", tap], how].concat()).expect_code(0);
        let read = Run::of(
            qtap()
                .arg("--read")
                .arg(&out)
                .args(["--format", "jsonl", "+qr"]),
        )
        .expect_code(0);
        let qr: Vec<&str> = read
            .stdout
            .lines()
            .map(|l| if l.contains("\"QR\":true") { "R" } else { "Q" })
            .collect();
        assert_eq!(qr, ["Q", "R"], "{how:?}: {}", read.stdout);
        // Both records name the socket the query went from, and the server.
        let v: Vec<serde_json::Value> = read
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(
            v[0]["dnstap"]["queryPort"], v[1]["dnstap"]["queryPort"],
            "{how:?}"
        );
        assert_eq!(
            v[1]["dnstap"]["responsePort"], port,
            "{how:?}: {}",
            read.stdout
        );
    }
}

/// SIGINT during a paced replay of queries without recorded responses:
/// the exchange that took place is shown, counted and recorded with
/// `--tap`; the one not yet sent is not.
#[test]
fn an_interrupted_replay_keeps_the_exchanges_that_took_place() {
    use std::process::{Command, Stdio};
    let work = tempfile::tempdir().unwrap();
    // Two queries 2 s apart that got no response (a silent server).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port().to_string();
    let recorded = work.path().join("q.tap");
    Run::of(
        qtap()
            .args(["@127.0.0.1", "-p", &silent_port, "--tap"])
            .arg(&recorded)
            .args(["+tries=1", "+timeout=2", "a.example", "A", "b.example", "A"]),
    )
    .expect_code(9);
    drop(silent);
    let port = crate::tiny_server(2);
    let tap = work.path().join("replayed.tap");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .args(["@127.0.0.1", "-p", &port.to_string(), "--replay"])
        .arg(&recorded)
        .args(["--speed", "1", "+timeout=1", "+tries=1", "--tap"])
        .arg(&tap)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The first query goes at once; the second would go 2 s later.
    std::thread::sleep(std::time::Duration::from_millis(1000));
    interrupt(&mut child);
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains(";; interrupted"), "{stderr}");
    assert!(stdout.contains("a.example."), "{stdout}");
    assert!(!stdout.contains("b.example."), "{stdout}");
    assert!(
        stdout.contains(";;   no recorded response:          1"),
        "{stdout}"
    );
    assert_eq!(crate::read_trace(&tap).len(), 2, "query and response");
}

/// A trace of CLIENT_RESPONSE frames, each carrying its query and a
/// recorded response (the query with QR set), for these queries.
fn client_responses(path: &Path, queries: &[Vec<u8>]) {
    use qtap::tap::event::{Event, MessageType, Protocol, Timestamp};
    let mut w = qtap::tap::writer::TapWriter::new(std::fs::File::create(path).unwrap()).unwrap();
    for (i, q) in queries.iter().enumerate() {
        let mut r = q.clone();
        r[2] |= 0x80;
        let e = Event {
            offset: None,
            identity: None,
            version: None,
            mtype: MessageType(6), // CLIENT_RESPONSE
            family: Some(1),
            protocol: Some(Protocol::Udp),
            http_protocol: None,
            query_addr: Some("192.0.2.1".parse().unwrap()),
            query_port: Some(1000 + i as u16),
            response_addr: Some("192.0.2.53".parse().unwrap()),
            response_port: Some(53),
            query_zone: None,
            query_time: Some(Timestamp { sec: 1, nsec: 0 }),
            response_time: Some(Timestamp { sec: 1, nsec: 1 }),
            query_message: Some(bytes::Bytes::from(q.clone())),
            response_message: Some(bytes::Bytes::from(r)),
            connection: None,
        };
        w.write_payload(&prost::Message::encode_to_vec(&e.to_pb()))
            .unwrap();
    }
    w.finish().unwrap();
}

/// A query too big for a datagram fails its own try ("Message too long"),
/// not those of the queries sent beside it on the same socket.
#[test]
fn a_query_too_big_for_udp_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("big.fstrm");
    let query = |name: &str| {
        let mut q = vec![0u8, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in name.split('.') {
            q.push(label.len() as u8);
            q.extend_from_slice(label.as_bytes());
        }
        q.extend_from_slice(&[0, 0, 1, 0, 1]);
        q
    };
    let mut big = query("big.qtap.test");
    big.extend(std::iter::repeat_n(0u8, 70_000));
    client_responses(&trace, &[query("a.qtap.test"), big, query("c.qtap.test")]);
    // Slow answers: the first query still waits when the big one fails.
    let slow = Hostile::udp(|q| {
        vec![
            Reply::Sleep(std::time::Duration::from_millis(300)),
            Reply::Send(crate::answer_a(q)),
        ]
    });
    for how in SENDERS {
        let port = slow.addr().port();
        let got = replay(&trace, port, &[&["--format", "jsonl"], how].concat());
        let got = got.expect_code(12);
        let cases: Vec<serde_json::Value> = got
            .stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .filter(|v: &serde_json::Value| v["type"] == "case")
            .collect();
        let class = |n: u64| {
            cases
                .iter()
                .find(|c| c["number"] == n)
                .map(|c| c["class"].as_str().unwrap().to_owned())
        };
        assert_eq!(
            class(1).as_deref(),
            Some("differs"),
            "{how:?}: {}",
            got.stdout
        );
        assert_eq!(
            class(2).as_deref(),
            Some("no_new_response"),
            "{how:?}: {}",
            got.stdout
        );
        assert_eq!(
            class(3).as_deref(),
            Some("differs"),
            "{how:?}: {}",
            got.stdout
        );
        assert!(got.stderr.contains("too long"), "{how:?}: {}", got.stderr);
    }
}
