//! Live-mode behaviour that needs no zone: the trace file's life cycle
//! (temporary file, STOP after SIGINT/SIGTERM, `--tap -`), usage errors and
//! the live/read identity on a tiny responder.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use qtap::tap::pb;

use crate::{qtap, read_trace, silent_server, tiny_server};

fn msg(r: &pb::Dnstap) -> &pb::Message {
    r.message.as_ref().expect("message")
}

#[test]
fn sigint_and_sigterm_leave_a_complete_trace() {
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let server = silent_server();
        let port = server.local_addr().unwrap().port();
        let dir = tempfile::tempdir().unwrap();
        let trace = dir.path().join("t.fstrm");
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
            .args([
                "@127.0.0.1",
                "-p",
                &port.to_string(),
                "x.example",
                "+timeout=30",
            ])
            .arg("--tap")
            .arg(&trace)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait until the query has been sent (the server sees it).
        let mut buf = [0u8; 512];
        server
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        server.recv_from(&mut buf).unwrap();
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(child.id() as libc::pid_t, signal);
        }
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code));
        let records = read_trace(&trace);
        assert_eq!(records.len(), 1, "the query frame");
        assert_eq!(msg(&records[0]).r#type, pb::message::Type::StubQuery as i32);
        // No temporary file left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }
}

/// The run writes out what it gathered whenever it waits for the network:
/// a pipe shows the sent query (`+qr`) and the trace file holds its frame
/// while the server is still silent, long before the run ends.
#[test]
fn piped_text_and_trace_are_written_out_while_the_server_is_silent() {
    use std::io::BufRead;
    let server = silent_server();
    let port = server.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let mut child = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .args(["@127.0.0.1", "-p", &port.to_string(), "x.example"])
        .args(["+qr", "+timeout=60", "+tries=1", "--tap"])
        .arg(&trace)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut seen = Vec::new();
    while !seen.iter().any(|l: &String| l.starts_with(";x.example.")) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => break,
        }
    }
    // The query frame follows the START frame in the temporary file.
    let mut grown = false;
    while !grown && Instant::now() < deadline {
        grown = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.metadata().map(|m| m.len() > 100).unwrap_or(false));
        std::thread::sleep(Duration::from_millis(20));
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    assert_eq!(child.wait().unwrap().code(), Some(143));
    assert!(
        seen.iter().any(|l| l.starts_with(";x.example.")),
        "the sent query was not shown while the run waited: {seen:?}"
    );
    assert!(
        grown,
        "the query frame was not written while the run waited"
    );
    assert_eq!(read_trace(&trace).len(), 1);
}

#[test]
fn timeout_still_writes_a_valid_trace_and_exits_9() {
    let server = silent_server();
    let port = server.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    let start = Instant::now();
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string(), "x.example"])
        .args(["+timeout=1", "+tries=2", "--tap"])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(9));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.matches("timed out").count(), 2, "{stderr}");
    let records = read_trace(&trace);
    assert_eq!(records.len(), 2);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout
            .matches(";; no response recorded for query x.example. IN A")
            .count(),
        2,
        "{stdout}"
    );
    // --read reports the same unanswered queries.
    let read = qtap().arg("--read").arg(&trace).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&read.stdout), stdout);
}

#[test]
fn unwritable_trace_fails_before_sending() {
    let server = silent_server();
    server.set_nonblocking(true).unwrap();
    let port = server.local_addr().unwrap().port();
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string(), "x.example", "--tap"])
        .arg("/nonexistent-dir/t.fstrm")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent-dir/t.fstrm"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let mut buf = [0u8; 512];
    assert!(server.recv_from(&mut buf).is_err(), "nothing was sent");
}

#[test]
fn tap_to_stdout_sends_text_to_stderr() {
    let port = tiny_server(1);
    let out = qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "www.example",
            "--tap",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("stdout.fstrm");
    std::fs::write(&trace, &out.stdout).unwrap();
    let records = read_trace(&trace);
    assert_eq!(records.len(), 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("192.0.2.77"), "{stderr}");
}

#[test]
fn usage_errors_exit_1_with_one_line() {
    for args in [
        &["+bogus"][..],
        &["-t", "NOTATYPE"],
        &["--bogus"],
        &["-p", "x"],
    ] {
        let out = qtap().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.starts_with("qtap: "), "{stderr}");
    }
    let out = qtap().arg("+bogus").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("+bogus"));
}

#[test]
fn help_and_version_exit_0() {
    let out = qtap().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("--tap"));
    let out = qtap().arg("--version").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn a_full_disk_leaves_the_earlier_trace_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.fstrm");
    // A complete earlier trace.
    let port = tiny_server(1);
    qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "old.example",
            "--tap",
        ])
        .arg(&trace)
        .assert()
        .success();
    let before = std::fs::read(&trace).unwrap();
    // Now ten lookups under a 1 KiB file size limit: the trace cannot fit.
    let port = tiny_server(10);
    let names: Vec<String> = (0..10).map(|i| format!("n{i}.example")).collect();
    let script = format!(
        "ulimit -f 1; exec \"$0\" @127.0.0.1 -p {port} {} --tap \"$1\"",
        names.join(" ")
    );
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .arg(assert_cmd::cargo::cargo_bin("qtap"))
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot write trace"), "{stderr}");
    assert!(stderr.contains("t.fstrm"), "{stderr}");
    assert_eq!(
        std::fs::read(&trace).unwrap(),
        before,
        "earlier trace intact"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(left.len(), 1, "no temporary file left behind");
}

/// A TCP server that starts a zone transfer (one message with the first
/// SOA) and then stalls. Returns its port.
fn stalling_xfr_server() -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let mut len = [0u8; 2];
        if conn.read_exact(&mut len).is_err() {
            return;
        }
        let mut q = vec![0u8; usize::from(u16::from_be_bytes(len))];
        if conn.read_exact(&mut q).is_err() {
            return;
        }
        let question_end = {
            let mut i = 12;
            while i < q.len() && q[i] != 0 {
                i += usize::from(q[i]) + 1;
            }
            (i + 5).min(q.len())
        };
        let mut r = q[..question_end].to_vec();
        r[2] = 0x84;
        r[3] = 0;
        r[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
        r.extend_from_slice(&[0xc0, 12, 0, 6, 0, 1, 0, 0, 1, 44, 0, 22, 0, 0, 0, 0, 0, 5]);
        r.extend_from_slice(&[0; 16]);
        let mut framed = (r.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&r);
        let _ = conn.write_all(&framed);
        std::thread::sleep(Duration::from_secs(30));
    });
    port
}

#[test]
fn sigint_during_a_transfer_keeps_what_arrived() {
    let port = stalling_xfr_server();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("xfr.fstrm");
    let child = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "zone.example",
            "AXFR",
            "+timeout=30",
        ])
        .arg("--tap")
        .arg(&trace)
        .env("TZ", "UTC")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the first message to be recorded (the temporary file grows).
    let start = Instant::now();
    loop {
        let grown = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.metadata().map(|m| m.len() > 150).unwrap_or(false));
        if grown || start.elapsed() > Duration::from_secs(10) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: plain kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let records = read_trace(&trace);
    let types: Vec<i32> = records.iter().map(|r| msg(r).r#type).collect();
    assert_eq!(
        types,
        [
            pb::message::Type::StubQuery as i32,
            pb::message::Type::StubResponse as i32
        ]
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(";; WARNING: transfer incomplete: 1 records (messages 1, bytes "),
        "{stdout}"
    );
}

#[test]
fn sigint_during_read_exits_130() {
    // A FIFO that never finishes: qtap --read waits on it until interrupted.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo on a path we own.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let child = Command::new(assert_cmd::cargo::cargo_bin("qtap"))
        .arg("--read")
        .arg(&fifo)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Open the writing end so qtap's open() returns, then interrupt it.
    let _writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: plain kill(2) on our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    use std::os::unix::process::ExitStatusExt;
    let code = out.status.code().or(out.status.signal().map(|s| 128 + s));
    assert_eq!(code, Some(130));
}

#[test]
fn batch_files_run_every_line_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let batch = dir.path().join("batch.txt");
    std::fs::write(
        &batch,
        "; a comment\none.example\n\ntwo.example AAAA\n# another\nthree.example TXT four.example\n",
    )
    .unwrap();
    let port = tiny_server(4);
    let trace = dir.path().join("t.fstrm");
    let out = qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+noall",
            "+question",
            "-f",
        ])
        .arg(&batch)
        .arg("--tap")
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let questions: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with(';') && !l.starts_with(";;"))
        .collect();
    assert_eq!(
        questions,
        [
            ";one.example.\t\t\tIN\tA",
            ";two.example.\t\t\tIN\tAAAA",
            ";three.example.\t\t\tIN\tTXT",
            ";four.example.\t\t\tIN\tA"
        ],
        "{stdout}"
    );
    assert_eq!(read_trace(&trace).len(), 8, "every lookup recorded");
    // A missing file and a bad line are errors with exit code 8, like dig.
    let missing = qtap().args(["-f", "/nonexistent/batch"]).output().unwrap();
    assert_eq!(missing.status.code(), Some(8));
    std::fs::write(&batch, "ok.example\nbad.example +bogus\n").unwrap();
    let bad = qtap().arg("-f").arg(&batch).output().unwrap();
    assert_eq!(bad.status.code(), Some(8));
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("line 2") && stderr.contains("+bogus"),
        "{stderr}"
    );
}

#[test]
fn json_output_is_valid_and_carries_the_exact_bytes() {
    let port = tiny_server(2);
    let out = qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "a.example",
            "b.example",
            "+qr",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let objects = doc.as_array().unwrap();
    assert_eq!(objects.len(), 4, "two queries, two responses");
    for o in objects {
        assert!(o["messageOctetsHEX"]
            .as_str()
            .is_some_and(|h| !h.is_empty()));
        assert_eq!(o["dnstap"]["socketProtocol"], "UDP");
    }
    assert_eq!(objects[1]["answerRRs"][0]["rdataA"], "192.0.2.77");
    let lines = qtap()
        .args(["@127.0.0.1", "-p", &tiny_server(1).to_string(), "c.example"])
        .args(["--format", "jsonl"])
        .output()
        .unwrap();
    let text = String::from_utf8(lines.stdout).unwrap();
    assert_eq!(text.lines().count(), 1);
    serde_json::from_str::<serde_json::Value>(text.trim()).unwrap();
}

#[test]
fn idn_sends_a_labels_and_shows_unicode() {
    let port = tiny_server(1);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("idn.fstrm");
    let out = qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "bücher.example",
            "+idn",
            "--tap",
        ])
        .arg(&trace)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(";bücher.example."), "{stdout}");
    assert!(stdout.contains("\nbücher.example."), "{stdout}");
    let records = read_trace(&trace);
    let query = msg(&records[0]).query_message.clone().unwrap();
    assert!(
        query.windows(13).any(|w| w == b"xn--bcher-kva"),
        "A-label on the wire"
    );
    // Without +idn the bytes go as typed (as Debian's dig does).
    let port = tiny_server(1);
    let out = qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "bücher.example",
            "+short",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
}

/// A UDP server that holds every query until `batch` have arrived (or a
/// second has passed), then answers them all in reverse order. Returns its
/// port and the largest number of queries it held at once.
fn gathering_server(batch: usize) -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let most = std::sync::Arc::new(AtomicUsize::new(0));
    let seen = most.clone();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        let mut buf = [0u8; 4096];
        sock.set_read_timeout(Some(Duration::from_millis(1000)))
            .unwrap();
        loop {
            match sock.recv_from(&mut buf) {
                Ok((n, peer)) => held.push((buf[..n].to_vec(), peer)),
                Err(_) if held.is_empty() => return,
                Err(_) => {}
            }
            seen.fetch_max(held.len(), Ordering::SeqCst);
            if held.len() >= batch || !held.is_empty() && sock.peek_from(&mut [0u8; 1]).is_err() {
                for (q, peer) in held.drain(..).rev() {
                    let _ = sock.send_to(&crate::answer_a(&q), peer);
                }
            }
        }
    });
    (port, most)
}

#[test]
fn parallel_lookups_overlap_but_output_and_trace_keep_input_order() {
    let (port, most) = gathering_server(4);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("par.fstrm");
    let names = ["n1.example", "n2.example", "n3.example", "n4.example"];
    let out = qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+parallel=4",
            "+noall",
            "+question",
        ])
        .args(names)
        .arg("--tap")
        .arg(&trace)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        most.load(std::sync::atomic::Ordering::SeqCst),
        4,
        "all four queries were in flight together"
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let shown: Vec<&str> = stdout.lines().filter(|l| l.starts_with(";n")).collect();
    assert_eq!(
        shown,
        names
            .map(|n| format!(";{n}.\t\t\tIN\tA"))
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    // The trace holds every message, grouped by lookup in input order.
    let records = read_trace(&trace);
    assert_eq!(records.len(), 8);
    assert_eq!(crate::read_back(&trace, &["+noall", "+question"]), stdout);
}
