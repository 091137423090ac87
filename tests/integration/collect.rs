//! Live dnstap over sockets: qtap as a Frame Streams collector
//! (`--read unix:…`/`tcp:…`) fed by real servers (knotd's mod-dnstap,
//! Unbound, BIND named), and qtap as a sender (`--tap unix:…`/`tcp:…`)
//! read by fstrm_capture and the Go `dnstap` tool. Everything on loopback
//! and in temporary directories; a test says "skipped" when a tool is
//! missing (CI installs them).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{free_udp_tcp_port, have, qtap, start_knotd, start_unbound, tiny_server, wait_until};

/// A child process killed (and reaped) when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Proc {
    /// Sends `signal` (e.g. "INT", "TERM") and waits for the exit status.
    fn stop(&mut self, signal: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &self.0.id().to_string()])
            .status();
        let start = Instant::now();
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no exit after SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn qtap_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("qtap")
}

/// A qtap collector started with `args`, its stdout and stderr in files.
struct Collector {
    proc: Proc,
    out: PathBuf,
    err: PathBuf,
}

impl Collector {
    fn start(dir: &Path, args: &[&std::ffi::OsStr]) -> Collector {
        let out = dir.join("collector.out");
        let err = dir.join("collector.err");
        let child = Command::new(qtap_bin())
            .args(args)
            .env_clear()
            .env("TZ", "UTC")
            .stdout(std::fs::File::create(&out).unwrap())
            .stderr(std::fs::File::create(&err).unwrap())
            .spawn()
            .unwrap();
        let c = Collector {
            proc: Proc(child),
            out,
            err,
        };
        wait_until("the collector to listen", || {
            c.stderr().contains(";; listening on")
        });
        c
    }

    fn stdout(&self) -> String {
        std::fs::read_to_string(&self.out).unwrap_or_default()
    }

    /// Waits for it to end by itself (`--until-closed`): its exit status.
    fn exit(&mut self, when: &str) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.proc.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "still running {when}: {}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.err).unwrap_or_default()
    }

    /// The `tcp:` address it listens on (the port picked for `:0`).
    fn tcp_addr(&self) -> String {
        let err = self.stderr();
        let line = err
            .lines()
            .find_map(|l| l.strip_prefix(";; listening on tcp:"))
            .unwrap_or_else(|| panic!("no tcp listener in {err}"));
        line.to_owned()
    }
}

fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// qtap lookups against a tiny responder, recorded to `tap`: three names,
/// two of them in flight at once. Returns stdout.
fn lookups(tap: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let port = tiny_server(3);
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string()])
        .args(["a.example", "b.example", "c.example", "+parallel=2", "+qr"])
        .args(["--tap", tap])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn read_back(path: &Path, extra: &[&str]) -> String {
    let out = qtap().arg("--read").arg(path).args(extra).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn sender_is_accepted_by_fstrm_capture_and_reads_back_identically() {
    if !have("fstrm_capture") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("f.sock");
    let file = dir.path().join("captured.fstrm");
    let mut capture = Proc(
        Command::new("fstrm_capture")
            .args(["-t", "protobuf:dnstap.Dnstap", "-u"])
            .arg(&sock)
            .arg("-w")
            .arg(&file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_until("fstrm_capture's socket", || sock.exists());
    let (code, live, err) = lookups(&format!("unix:{}", sock.display()), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        live.contains("a.example.") && live.contains("c.example."),
        "{live}"
    );
    // fstrm_capture writes its file out on SIGINT.
    capture.stop("INT");
    assert_eq!(read_back(&file, &["+qr"]), live);
}

/// The Go tool's YAML of what it received: one document per frame.
///
/// Compared by content, not bytes, because no byte copy can be had from
/// the Go tool for a run this short: checked by hand with `fstrm_replay` of
/// a corpus file into `dnstap -u SOCK -w out.fstrm` (golang-github-dnstap
/// 0.4.0, Debian 12), the frames it writes are the frames received,
/// verbatim and in order, but its file writer flushes only full buffers and
/// the tool ends only on a signal, which it obeys without writing its last
/// buffer or STOP: 88 of 100 frames, the file cut inside a frame; a run of
/// six frames leaves an empty file. (What the Go tool writes would also
/// need a copy of what qtap sent to compare with, which a live run does not
/// keep: the fstrm_capture test above compares renderings for that reason.)
fn go_capture(args: &[&str], tap: &str) {
    let dir = tempfile::tempdir().unwrap();
    let yaml = dir.path().join("go.yaml");
    let mut go = Proc(
        Command::new("dnstap")
            .args(args)
            .arg("-y")
            .stdout(std::fs::File::create(&yaml).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The Go tool is ready once its socket accepts.
    wait_until("the Go dnstap tool", || match tap.split_once(':') {
        Some(("unix", p)) => Path::new(p).exists(),
        Some(("tcp", a)) => std::net::TcpStream::connect(a).is_ok(),
        _ => false,
    });
    let (code, live, err) = lookups(tap, &["--tap-identity", "h7-test"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(live.contains("b.example."));
    wait_until("the Go tool's output", || {
        std::fs::read_to_string(&yaml)
            .unwrap_or_default()
            .matches("type: MESSAGE")
            .count()
            >= 6
    });
    go.stop("INT");
    let text = std::fs::read_to_string(&yaml).unwrap();
    assert_eq!(text.matches("type: MESSAGE").count(), 6, "{text}");
    assert_eq!(text.matches("  type: STUB_QUERY").count(), 3, "{text}");
    assert_eq!(text.matches("  type: STUB_RESPONSE").count(), 3, "{text}");
    assert_eq!(text.matches("identity: \"h7-test\"").count(), 6, "{text}");
    for name in ["a.example.", "b.example.", "c.example."] {
        assert!(text.contains(name), "{name} in {text}");
    }
}

#[test]
fn sender_is_accepted_by_go_dnstap_on_unix_and_tcp() {
    if !have("dnstap") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("go.sock");
    let sock_text = sock.display().to_string();
    go_capture(&["-u", &sock_text], &format!("unix:{sock_text}"));
    let addr = format!("127.0.0.1:{}", free_tcp_port());
    go_capture(&["-l", &addr], &format!("tcp:{addr}"));
}

#[test]
fn sender_without_a_collector_fails_before_any_query() {
    let dir = tempfile::tempdir().unwrap();
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string(), "a.example"])
        .arg("--tap")
        .arg(format!("unix:{}", dir.path().join("none.sock").display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(11));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("qtap: collector unix:"), "{err}");
    assert!(out.stdout.is_empty());
    server.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 512];
    assert!(server.recv_from(&mut buf).is_err(), "no query was sent");
    // TCP, nobody listening.
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string(), "a.example"])
        .args(["--tap", &format!("tcp:127.0.0.1:{}", free_tcp_port())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(11));
}

/// A fake collector: answers READY with ACCEPT of `content_type`, reads
/// `keep` bytes after that, then closes (and stops listening).
fn fake_collector(sock: &Path, content_type: &'static [u8], keep: usize) {
    let listener = std::os::unix::net::UnixListener::bind(sock).unwrap();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        drop(listener);
        let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
        let mut ready = [0u8; 42];
        if s.read_exact(&mut ready).is_err() {
            return;
        }
        let mut accept = vec![0, 0, 0, 0];
        accept.extend((12 + content_type.len() as u32).to_be_bytes());
        accept.extend(1u32.to_be_bytes());
        accept.extend(1u32.to_be_bytes());
        accept.extend((content_type.len() as u32).to_be_bytes());
        accept.extend(content_type);
        let _ = s.write_all(&accept);
        let mut rest = vec![0u8; keep];
        let _ = s.read_exact(&mut rest);
    });
}

#[test]
fn sender_refused_content_type_fails_before_any_query() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("r.sock");
    fake_collector(&sock, b"protobuf:other.Thing", 0);
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    let out = qtap()
        .args(["@127.0.0.1", "-p", &port.to_string(), "a.example"])
        .args(["--tap", &format!("unix:{}", sock.display())])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(11));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("refused"), "{err}");
    server.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 512];
    assert!(server.recv_from(&mut buf).is_err(), "no query was sent");
}

#[test]
fn sender_outlives_a_collector_that_goes_away() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("g.sock");
    // START, then a little: the collector is gone mid-run.
    fake_collector(&sock, b"protobuf:dnstap.Dnstap", 60);
    let (code, live, err) = lookups(&format!("unix:{}", sock.display()), &[]);
    // Every lookup finished and was shown.
    for name in ["a.example.", "b.example.", "c.example."] {
        assert!(live.contains(name), "{name}: {live}");
    }
    assert!(err.contains("collector unix:"), "{err}");
    assert!(err.contains("not delivered"), "{err}");
    assert_eq!(code, Some(11), "{err}");
}

/// A collector that accepts and then stops reading: once the socket's
/// buffer is full the sender gives up on it within its deadline, the
/// lookups all finish, and every frame not acknowledged by a FINISH is
/// counted as not delivered (exit 11), none claimed delivered.
#[test]
fn sender_counts_what_a_collector_that_stops_reading_never_took() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    // Reads READY, answers ACCEPT, then reads nothing more and holds the
    // connection open.
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        let mut ready = [0u8; 42];
        if s.read_exact(&mut ready).is_err() {
            return;
        }
        let ct = b"protobuf:dnstap.Dnstap";
        let mut accept = vec![0, 0, 0, 0];
        accept.extend((12 + ct.len() as u32).to_be_bytes());
        accept.extend([0, 0, 0, 1, 0, 0, 0, 1]);
        accept.extend((ct.len() as u32).to_be_bytes());
        accept.extend(ct);
        let _ = s.write_all(&accept);
        std::thread::sleep(Duration::from_secs(90));
        drop(s);
    });
    let names: String = (0..3000).map(|i| format!("n{i}.example\n")).collect();
    let batch = dir.path().join("batch.txt");
    std::fs::write(&batch, names).unwrap();
    let port = tiny_server(3000);
    let start = std::time::Instant::now();
    let out = qtap()
        .args([
            "@127.0.0.1",
            "-p",
            &port.to_string(),
            "+short",
            "+parallel=16",
        ])
        .arg("-f")
        .arg(&batch)
        .args(["--tap", &format!("unix:{}", sock.display())])
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(11), "{err}");
    assert!(start.elapsed() < Duration::from_secs(60), "{err}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 3000, "every lookup was shown");
    let lost = err
        .lines()
        .find_map(|l| {
            let before = l.split(" dnstap frames were not delivered").next()?;
            (before != l).then(|| before.rsplit(' ').next()?.parse::<u64>().ok())?
        })
        .unwrap_or(0);
    assert_eq!(lost, 6000, "{err}");
}

fn zone_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zones/lab.test.zone")
}

/// Asks `port` for each name until the server answers (it may still be
/// starting), then once more for each name. Returns how many were asked
/// in the second round.
fn ask(port: u16, names: &[&str]) -> usize {
    let start = Instant::now();
    loop {
        let ok = qtap()
            .args(["@127.0.0.1", "-p", &port.to_string(), names[0], "+short"])
            .args(["+timeout=1", "+tries=1"])
            .output()
            .unwrap()
            .status
            .success();
        if ok {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no server on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    for name in names {
        let out = qtap()
            .args(["@127.0.0.1", "-p", &port.to_string(), name, "+short"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
    }
    names.len()
}

/// Waits until the collector has shown `n` responses.
fn wait_for_responses(c: &Collector, n: usize) {
    wait_until("the live output", || {
        c.stdout().matches(";; ->>HEADER<<-").count() >= n
    });
}

/// The names every server test asks for (all in lab.test).
const NAMES: [&str; 3] = ["www.lab.test", "lab.test", "nothere.lab.test"];

fn knotd(dir: &Path, sink: &str) -> Proc {
    std::fs::create_dir(dir.join("run")).unwrap();
    std::fs::copy(zone_path(), dir.join("lab.test.zone")).unwrap();
    let port = free_udp_tcp_port();
    let d = dir.display();
    let conf = format!(
        "server:\n    rundir: \"{d}/run\"\n    listen: 127.0.0.1@{port}\n\
         database:\n    storage: \"{d}\"\n\
         mod-dnstap:\n  - id: tap\n    sink: \"{sink}\"\n    identity: \"knot-h7\"\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n    global-module: mod-dnstap/tap\n\
         zone:\n  - domain: lab.test\n    file: \"lab.test.zone\"\n\
         log:\n  - target: stderr\n    any: error\n"
    );
    std::fs::write(dir.join("knot.conf"), conf).unwrap();
    std::fs::write(dir.join("port"), port.to_string()).unwrap();
    Proc(start_knotd(&dir.join("knot.conf")))
}

fn port_of(dir: &Path) -> u16 {
    std::fs::read_to_string(dir.join("port"))
        .unwrap()
        .parse()
        .unwrap()
}

/// knotd's mod-dnstap sends to qtap's socket; what qtap shows live is
/// exactly what `qtap --read` shows of the file it saved, after SIGINT or
/// SIGTERM, in text and in JSON Lines (but for the `connection` member,
/// which only the live side knows).
#[test]
fn knotd_mod_dnstap_live_output_equals_read_of_the_saved_file() {
    if !have("knotd") {
        return;
    }
    for (signal, format) in [("TERM", "text"), ("INT", "jsonl")] {
        let dir = tempfile::tempdir().unwrap();
        let sock = dir.path().join("q.sock");
        let saved = dir.path().join("saved.fstrm");
        let mut collector = Collector::start(
            dir.path(),
            &[
                "--read".as_ref(),
                format!("unix:{}", sock.display()).as_ref(),
                "--write".as_ref(),
                saved.as_os_str(),
                "--format".as_ref(),
                format.as_ref(),
                "+qr".as_ref(),
            ],
        );
        let knot_dir = dir.path().join("knot");
        std::fs::create_dir(&knot_dir).unwrap();
        let _knot = knotd(&knot_dir, &format!("unix:{}", sock.display()));
        let n = ask(port_of(&knot_dir), &NAMES);
        let shown = |c: &Collector| match format {
            "text" => c.stdout().matches(";; ->>HEADER<<-").count(),
            _ => c.stdout().matches("\"QR\":true").count(),
        };
        wait_until("the live output", || shown(&collector) > n);
        let status = collector.proc.stop(signal);
        assert_eq!(status.code(), Some(0), "{}", collector.stderr());
        assert!(!sock.exists(), "the socket file is removed");
        let live = collector.stdout();
        assert!(live.contains("knot-h7"), "identity shown: {live}");
        let err = collector.stderr();
        assert!(err.contains("receiving dnstap (bidirectional)"), "{err}");
        // A complete file: it ends with STOP.
        let bytes = std::fs::read(&saved).unwrap();
        assert!(bytes.ends_with(&[0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3]));
        let read = read_back(&saved, &["--format", format, "+qr"]);
        let live = match format {
            "text" => live,
            _ => live
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    let mut v = v;
                    let conn = v["dnstap"]
                        .as_object_mut()
                        .and_then(|o| o.remove("connection"));
                    assert!(conn.is_some_and(|c| c.as_str().unwrap().starts_with("unix:")));
                    format!("{}\n", serde_json::to_string(&v).unwrap())
                })
                .collect(),
        };
        let read = match format {
            "text" => read,
            _ => read
                .lines()
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    format!("{}\n", serde_json::to_string(&v).unwrap())
                })
                .collect(),
        };
        assert!(read.len() > 500, "{read}");
        assert_eq!(live, read, "SIG{signal}, {format}");
    }
}

/// `--no-output --write`: a capture daemon; SIGUSR1 starts a new file.
#[test]
fn capture_daemon_rotates_on_sigusr1() {
    if !have("knotd") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("d.sock");
    let caps = dir.path().join("caps");
    std::fs::create_dir(&caps).unwrap();
    let mut collector = Collector::start(
        dir.path(),
        &[
            "--read".as_ref(),
            format!("unix:{}", sock.display()).as_ref(),
            "--no-output".as_ref(),
            "--write".as_ref(),
            caps.join("cap-%Y%m%d.fstrm").as_os_str(),
        ],
    );
    let knot_dir = dir.path().join("knot");
    std::fs::create_dir(&knot_dir).unwrap();
    let _knot = knotd(&knot_dir, &format!("unix:{}", sock.display()));
    let port = port_of(&knot_dir);
    // Each round: a query and its response per name, and one more pair
    // for the query that waits for knotd to answer.
    let round = 2 * (ask(port, &NAMES) + 1);
    let files = || {
        std::fs::read_dir(&caps)
            .unwrap()
            .filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
    };
    wait_until("the sender", || {
        collector.stderr().contains("receiving dnstap")
    });
    // knotd sends its frames when its own queue flushes, up to a second
    // or more after the answers: the first round must be saved before the
    // signal, and the second before the capture stops.
    wait_until("the first round saved", || frames_saved(&caps) >= round);
    let _ = Command::new("kill")
        .args(["-USR1", &collector.proc.0.id().to_string()])
        .status();
    // The first file is renamed into place complete; the next is still
    // a hidden temporary file.
    wait_until("a rotated file", || files() >= 1);
    ask(port, &NAMES);
    wait_until("the second round saved", || {
        frames_saved(&caps) >= 2 * round
    });
    let status = collector.proc.stop("TERM");
    assert_eq!(status.code(), Some(0), "{}", collector.stderr());
    assert!(collector.stdout().is_empty(), "nothing shown");
    let mut total = 0;
    let mut names = Vec::new();
    for e in std::fs::read_dir(&caps).unwrap() {
        let path = e.unwrap().path();
        names.push(path.file_name().unwrap().to_string_lossy().into_owned());
        let out = qtap()
            .arg("--read")
            .arg(&path)
            .arg("--format")
            .arg("jsonl")
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        total += String::from_utf8(out.stdout).unwrap().lines().count();
    }
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names[1].ends_with(".fstrm.1"), "{names:?}");
    assert!(total >= 8, "{total}");
}

/// The data frames a capture daemon has written so far to the files in
/// `dir`: the complete ones and the one still being written (hidden, with
/// no STOP yet, perhaps ending inside a frame).
fn frames_saved(dir: &Path) -> usize {
    use qtap::tap::reader::{Item, ReaderOptions, TapReader};
    let mut n = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        // A file renamed into place meanwhile is counted at the next look.
        let Ok(bytes) = std::fs::read(e.unwrap().path()) else {
            continue;
        };
        n += TapReader::new(&bytes[..], ReaderOptions::default())
            .map_while(Result::ok)
            .filter(|i| matches!(i, Item::Data { .. }))
            .count();
    }
    n
}

fn unbound(dir: &Path, dnstap: &str) -> Proc {
    let port = free_udp_tcp_port();
    let d = dir.display();
    let conf = format!(
        "server:\n  verbosity: 0\n  interface: 127.0.0.1\n  port: {port}\n  do-daemonize: no\n\
         \x20 use-syslog: no\n  logfile: \"\"\n  chroot: \"\"\n  username: \"\"\n  directory: \"{d}\"\n\
         \x20 pidfile: \"{d}/unbound.pid\"\n  access-control: 127.0.0.0/8 allow\n\
         \x20 local-zone: \"lab.test.\" static\n  local-data: \"www.lab.test. 300 IN A 192.0.2.10\"\n\
         \x20 local-data: \"lab.test. 300 IN SOA ns.lab.test. h.lab.test. 1 2 3 4 5\"\n\
         remote-control:\n  control-enable: no\n\
         dnstap:\n  dnstap-enable: yes\n  dnstap-bidirectional: yes\n{dnstap}\
         \x20 dnstap-send-identity: yes\n  dnstap-identity: \"unbound-h7\"\n  dnstap-send-version: yes\n\
         \x20 dnstap-log-client-query-messages: yes\n  dnstap-log-client-response-messages: yes\n"
    );
    std::fs::write(dir.join("unbound.conf"), conf).unwrap();
    std::fs::write(dir.join("port"), port.to_string()).unwrap();
    Proc(start_unbound(&dir.join("unbound.conf")))
}

#[test]
fn unbound_sends_to_the_collector_over_unix_and_tcp() {
    if !have("unbound") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("u.sock");
    let mut collector = Collector::start(
        dir.path(),
        &[
            "--read".as_ref(),
            format!("unix:{}", sock.display()).as_ref(),
            "tcp:127.0.0.1:0".as_ref(),
        ],
    );
    let tcp = collector.tcp_addr();
    let (ip, tcp_port) = tcp.rsplit_once(':').unwrap();
    let mut total = 0;
    for (sub, dnstap) in [
        (
            "unix",
            format!("  dnstap-socket-path: \"{}\"\n", sock.display()),
        ),
        (
            "tcp",
            format!("  dnstap-ip: \"{ip}@{tcp_port}\"\n  dnstap-tls: no\n"),
        ),
    ] {
        let udir = dir.path().join(sub);
        std::fs::create_dir(&udir).unwrap();
        let _unbound = unbound(&udir, &dnstap);
        total += ask(port_of(&udir), &NAMES) + 1;
        wait_for_responses(&collector, total);
    }
    let status = collector.proc.stop("INT");
    assert_eq!(status.code(), Some(0), "{}", collector.stderr());
    let live = collector.stdout();
    assert!(live.contains("unbound-h7"), "{live}");
    assert!(live.contains("192.0.2.10"), "{live}");
    let err = collector.stderr();
    assert!(
        err.contains("unix:") && err.contains("from 127.0.0.1:"),
        "{err}"
    );
}

#[test]
fn named_sends_to_the_collector() {
    if !have("named") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("n.sock");
    let mut collector = Collector::start(
        dir.path(),
        &[
            "--read".as_ref(),
            format!("unix:{}", sock.display()).as_ref(),
        ],
    );
    let port = free_udp_tcp_port();
    let d = dir.path().display();
    // A small zone of its own: named refuses some of the lab zone's
    // obsolete types.
    std::fs::write(
        dir.path().join("lab.test.zone"),
        "$TTL 300\n@ SOA ns h 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.10\n",
    )
    .unwrap();
    let conf = format!(
        "options {{\n  directory \"{d}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  listen-on-v6 {{ none; }};\n\
         \x20 pid-file \"{d}/named.pid\";\n  recursion no;\n  session-keyfile \"{d}/session.key\";\n\
         \x20 managed-keys-directory \"{d}\";\n  dnstap {{ client; }};\n  dnstap-output unix \"{}\";\n\
         \x20 dnstap-identity \"named-h7\";\n}};\ncontrols {{ }};\n\
         zone \"lab.test\" {{ type primary; file \"{d}/lab.test.zone\"; }};\n",
        sock.display()
    );
    std::fs::write(dir.path().join("named.conf"), conf).unwrap();
    let _named = Proc(
        Command::new("named")
            .args(["-g", "-c"])
            .arg(dir.path().join("named.conf"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("named.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    let n = ask(port, &NAMES);
    wait_for_responses(&collector, n + 1);
    let status = collector.proc.stop("TERM");
    assert_eq!(status.code(), Some(0), "{}", collector.stderr());
    let live = collector.stdout();
    assert!(live.contains("named-h7"), "{live}");
    assert!(live.contains("www.lab.test."), "{live}");
}

fn corpus(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/corpus")
        .join(name)
}

/// Sends `bytes` to the collector at `sock` and waits until it closes the
/// connection (after STOP, or at once when it refuses).
fn send_stream(sock: &Path, bytes: &[u8]) {
    let mut s = std::os::unix::net::UnixStream::connect(sock).unwrap();
    // A refusing collector may close before everything is written.
    let _ = s.write_all(bytes);
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut back = Vec::new();
    let _ = s.read_to_end(&mut back);
}

/// The data frames of a Frame Streams file (panics on any damage).
fn data_frames(path: &Path) -> Vec<Vec<u8>> {
    use qtap::tap::reader::{Item, ReaderOptions, TapReader};
    let bytes = std::fs::read(path).unwrap();
    TapReader::new(&bytes[..], ReaderOptions::default())
        .map(|i| match i.unwrap() {
            Item::Data { payload, .. } => payload.to_vec(),
            Item::Warning(w) => panic!("{}: {w}", path.display()),
        })
        .collect()
}

fn unix_arg(sock: &Path) -> std::ffi::OsString {
    format!("unix:{}", sock.display()).into()
}

/// Selection, `--scrub` and `--write` on the collector: what is saved is
/// what `--read FILE` with the same options saves, and what is shown is
/// the rendering of that file.
#[test]
fn collector_selects_scrubs_and_saves_the_selection() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("knotd-auth.fstrm");
    let key = dir.path().join("key");
    std::fs::write(&key, [7u8; 32]).unwrap();
    for scrub in [false, true] {
        let sock = dir.path().join("s.sock");
        let saved = dir.path().join("live.fstrm");
        let want = dir.path().join("file.fstrm");
        let mut opts: Vec<std::ffi::OsString> = vec!["--qtype".into(), "SOA".into()];
        if scrub {
            opts.extend(["--scrub".into(), "--scrub-key".into(), key.clone().into()]);
        }
        let mut args = vec!["--read".into(), unix_arg(&sock), "--write".into()];
        args.push(saved.clone().into());
        args.extend(opts.iter().cloned());
        let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
        let mut collector = Collector::start(dir.path(), &argv);
        send_stream(&sock, &std::fs::read(&input).unwrap());
        wait_until("the stream to end", || {
            collector.stderr().contains("stream stopped")
        });
        let status = collector.proc.stop("TERM");
        assert_eq!(status.code(), Some(0), "{}", collector.stderr());
        let out = qtap()
            .arg("--read")
            .arg(&input)
            .arg("--write")
            .arg(&want)
            .args(&opts)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let (live, file) = (data_frames(&saved), data_frames(&want));
        assert!(!file.is_empty() && file.len() < data_frames(&input).len());
        assert_eq!(live, file, "scrub {scrub}");
        if scrub {
            assert!(
                collector.stderr().contains("scrub"),
                "{}",
                collector.stderr()
            );
        }
        assert_eq!(collector.stdout(), read_back(&saved, &[]), "scrub {scrub}");
    }
}

/// `--stats` and `--rrsets` on the collector are printed when it stops
/// (SIGTERM, SIGINT), and match what the same frames from a file give.
#[test]
fn collector_prints_stats_and_rrsets_when_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("knotd-auth.fstrm");
    for (what, signal) in [("--stats", "TERM"), ("--rrsets", "INT")] {
        let sock = dir.path().join("s.sock");
        let mut collector = Collector::start(
            dir.path(),
            &["--read".as_ref(), unix_arg(&sock).as_ref(), what.as_ref()],
        );
        send_stream(&sock, &std::fs::read(&input).unwrap());
        wait_until("the stream to end", || {
            collector.stderr().contains("stream stopped")
        });
        let status = collector.proc.stop(signal);
        assert_eq!(status.code(), Some(0), "{}", collector.stderr());
        let want = read_back(&input, &[what]);
        assert!(want.len() > 100, "{want}");
        assert_eq!(collector.stdout(), want, "{what}");
    }
}

/// Two senders with the same addresses and message IDs, interleaved: each
/// response pairs with the query of its own connection.
#[test]
fn pairing_stays_within_a_sender_connection() {
    use qtap::tap::event::{Direction, Event};
    use qtap::tap::reader::{Item, ReaderOptions, TapReader};
    let bytes = std::fs::read(corpus("knotd-auth.fstrm")).unwrap();
    let events: Vec<(bytes::Bytes, Event)> = TapReader::new(&bytes[..], ReaderOptions::default())
        .filter_map(|i| match i.unwrap() {
            Item::Data { payload, .. } => {
                Some((payload.clone(), Event::from_payload(None, payload).unwrap()))
            }
            Item::Warning(_) => None,
        })
        .collect();
    // The first query and its response (same message ID, the next response).
    let id = |e: &Event, m: &Option<bytes::Bytes>| {
        let _ = e;
        m.as_deref().and_then(|m| m.get(..2)).map(|b| b.to_vec())
    };
    let (qi, q) = events
        .iter()
        .enumerate()
        .find(|(_, (_, e))| e.direction() == Some(Direction::Query))
        .unwrap();
    let (_, r) = events[qi..]
        .iter()
        .enumerate()
        .find(|(_, (_, e))| {
            e.direction() == Some(Direction::Response)
                && id(e, &e.response_message) == id(&q.1, &q.1.query_message)
        })
        .unwrap();
    let frame = |p: &[u8]| {
        let mut b = (p.len() as u32).to_be_bytes().to_vec();
        b.extend_from_slice(p);
        b
    };
    let start = {
        let ct = b"protobuf:dnstap.Dnstap";
        let mut b = vec![
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            (12 + ct.len()) as u8,
            0,
            0,
            0,
            2,
            0,
            0,
            0,
            1,
        ];
        b.extend((ct.len() as u32).to_be_bytes());
        b.extend(ct);
        b
    };
    let stop = [0u8, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 3];
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("p.sock");
    let mut collector = Collector::start(
        dir.path(),
        &[
            "--read".as_ref(),
            unix_arg(&sock).as_ref(),
            "--format".as_ref(),
            "jsonl".as_ref(),
            "+qr".as_ref(),
        ],
    );
    let lines = |c: &Collector| c.stdout().lines().count();
    // Sender 1: its query; shown at once (nothing more arrives).
    let mut one = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    one.write_all(&[start.clone(), frame(&q.0)].concat())
        .unwrap();
    wait_until("the first query on stdout", || lines(&collector) == 1);
    // Sender 2: the same query and its response, whole.
    send_stream(
        &sock,
        &[start, frame(&q.0), frame(&r.0), stop.to_vec()].concat(),
    );
    wait_until("the second exchange", || lines(&collector) == 3);
    // Sender 1's response.
    one.write_all(&[frame(&r.0), stop.to_vec()].concat())
        .unwrap();
    one.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let _ = one.read_to_end(&mut Vec::new());
    wait_until("the last response", || lines(&collector) >= 4);
    let status = collector.proc.stop("TERM");
    assert_eq!(status.code(), Some(0), "{}", collector.stderr());
    let out = collector.stdout();
    assert_eq!(out.lines().count(), 4, "{out}");
    assert_eq!(out.matches("\"queryTimePaired\":true").count(), 2, "{out}");
}

/// `--max-connections` and `--collector-buffer`: a sender past the limit
/// is refused, named on stderr and counted in the exit code (8); a queue of
/// one byte slows the senders down (backpressure) but loses nothing.
#[test]
fn collector_limits_are_options_and_refusals_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = corpus("knotd-auth.fstrm");
    let bytes = std::fs::read(&input).unwrap();
    let sock = dir.path().join("l.sock");
    let mut collector = Collector::start(
        dir.path(),
        &[
            "--read".as_ref(),
            unix_arg(&sock).as_ref(),
            "--max-connections".as_ref(),
            "1".as_ref(),
            "--collector-buffer".as_ref(),
            "1".as_ref(),
        ],
    );
    // The first sender holds the only place (its START is in).
    let mut first = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    first.write_all(&bytes[..42]).unwrap();
    wait_until("the first sender", || {
        collector.stderr().contains("receiving dnstap")
    });
    // The second is refused: closed at once.
    send_stream(&sock, &bytes);
    wait_until("the refusal", || collector.stderr().contains("refused"));
    first.write_all(&bytes[42..]).unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let _ = first.read_to_end(&mut Vec::new());
    wait_until("the stream to end", || {
        collector.stderr().contains("stream stopped")
    });
    let status = collector.proc.stop("TERM");
    let err = collector.stderr();
    assert_eq!(status.code(), Some(8), "{err}");
    assert!(
        err.contains("1 connections refused (--max-connections)"),
        "{err}"
    );
    assert_eq!(collector.stdout(), read_back(&input, &[]));
}

/// A collector that goes away mid-run: the sender's warning is on stderr
/// while the lookups still run (the second lookup waits on a silent
/// server), not only at the end.
#[test]
fn sender_warns_when_the_collector_goes_away_not_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("w.sock");
    // A collector that takes the handshake, then closes; it says when.
    let (closed_tx, closed_rx) = std::sync::mpsc::channel();
    let listener = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    std::thread::spawn(move || {
        let Ok((mut s, _)) = listener.accept() else {
            return;
        };
        drop(listener);
        let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
        let ct = b"protobuf:dnstap.Dnstap";
        let mut ready = [0u8; 42];
        let _ = s.read_exact(&mut ready);
        let mut accept = vec![0, 0, 0, 0, 0, 0, 0, 34, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 22];
        accept.extend(ct);
        let _ = s.write_all(&accept);
        let mut start = [0u8; 42];
        let _ = s.read_exact(&mut start);
        drop(s);
        let _ = closed_tx.send(());
    });
    // Answers the first query once the collector is gone (so the record of
    // that answer meets a closed socket), then keeps silent (and open).
    let server = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = server.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        if let Ok((n, peer)) = server.recv_from(&mut buf) {
            let _ = closed_rx.recv_timeout(Duration::from_secs(20));
            let _ = server.send_to(&crate::support::answer_a(&buf[..n]), peer);
        }
        std::thread::sleep(Duration::from_secs(40));
    });
    let err_path = dir.path().join("err");
    let mut child = Proc(
        Command::new(qtap_bin())
            .args(["@127.0.0.1", "-p", &port.to_string()])
            .args(["a.example", "b.example", "+timeout=30", "+tries=1"])
            .args(["--tap", &format!("unix:{}", sock.display())])
            .env_clear()
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err_path).unwrap())
            .spawn()
            .unwrap(),
    );
    let err = || std::fs::read_to_string(&err_path).unwrap_or_default();
    wait_until("the sender's warning", || err().contains("connection lost"));
    assert!(
        child.0.try_wait().unwrap().is_none(),
        "the run is still on (b.example waits): {}",
        err()
    );
    // Frames were lost to the collector: code 11 (the interruption's own
    // code gives way to it).
    let status = child.stop("INT");
    assert_eq!(status.code(), Some(11), "{}", err());
}

/// `--write` with a collector may not overwrite one of the files read
/// with it.
#[test]
fn collector_write_refuses_to_overwrite_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.fstrm");
    std::fs::copy(corpus("kdig-udp.fstrm"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let sock = dir.path().join("o.sock");
    let out = qtap()
        .arg("--read")
        .arg(&input)
        .arg("--read")
        .arg(unix_arg(&sock))
        .arg("--write")
        .arg(&input)
        .timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("is also an input"));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// The disk fills up (here a file size limit, `ulimit -f`) while the
/// collector saves: what was written whole is kept in place, closed with
/// STOP and readable, and the run says so and ends with exit 10.
#[test]
fn a_full_disk_keeps_what_the_capture_wrote_whole() {
    if !have("fstrm_replay") {
        eprintln!("skipped: fstrm_replay not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("c.sock");
    let saved = dir.path().join("saved.fstrm");
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/corpus");
    let collector = Command::new("sh")
        .arg("-c")
        // 8 blocks of 512 bytes: room for the small capture, not the big.
        .arg("ulimit -f 8; exec \"$0\" \"$@\"")
        .arg(assert_cmd::cargo::cargo_bin("qtap"))
        .arg("--read")
        .arg(format!("unix:{}", sock.display()))
        .args(["--no-output", "--write"])
        .arg(&saved)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut collector = Proc(collector);
    wait_until("the collector's socket", || sock.exists());
    let replay = |file: &str| {
        Command::new("fstrm_replay")
            .args(["-t", "protobuf:dnstap.Dnstap", "-u"])
            .arg(&sock)
            .arg("-r")
            .arg(corpus.join(file))
            .output()
            .unwrap()
    };
    assert!(replay("kdig-multi.fstrm").status.success());
    // A pause: what came is written out before the next sender.
    std::thread::sleep(Duration::from_millis(300));
    let _ = replay("knotd-auth.fstrm");
    let mut status = None;
    wait_until("the collector's end", || {
        status = collector.0.try_wait().unwrap();
        status.is_some()
    });
    let mut err = String::new();
    collector
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(10), "{err}");
    assert!(
        err.contains("written whole before it are kept there"),
        "{err}"
    );
    let read = qtap().arg("--read").arg(&saved).output().unwrap();
    let (text, warn) = (
        String::from_utf8_lossy(&read.stdout),
        String::from_utf8_lossy(&read.stderr),
    );
    assert_eq!(read.status.code(), Some(0), "{warn}");
    assert!(warn.is_empty(), "{warn}");
    // The first capture whole: its six responses.
    assert!(text.matches("->>HEADER<<-").count() >= 6, "{text}");
}

/// `--until-closed`: a capture that ends by itself once its senders have
/// all left, the file saved whole, without a signal.
#[test]
fn a_collector_with_until_closed_ends_when_its_senders_have_left() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("u.sock");
    let saved = dir.path().join("saved.fstrm");
    let input = corpus("knotd-auth.fstrm");
    let args: Vec<std::ffi::OsString> = vec![
        "--read".into(),
        unix_arg(&sock),
        "--until-closed".into(),
        "--no-output".into(),
        "--write".into(),
        saved.clone().into(),
    ];
    let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let mut collector = Collector::start(dir.path(), &argv);
    send_stream(&sock, &std::fs::read(&input).unwrap());
    let status = collector.exit("after its sender left");
    assert_eq!(status.code(), Some(0), "{}", collector.stderr());
    assert_eq!(data_frames(&saved), data_frames(&input));
    assert!(!sock.exists(), "the socket file is removed");
}

/// `--replay unix:PATH` fed by knotd's own mod-dnstap: each query knotd
/// answers is replayed, as it comes, against a second knotd serving the
/// same zone (through the UDP window), its case shown once knotd's
/// recorded response is in; when knotd stops, its connection closes and
/// `--until-closed` ends the replay with the summary.
#[test]
fn knotd_mod_dnstap_feeds_a_live_replay() {
    if !have("knotd") {
        return;
    }
    let (recorder, target) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sock = recorder.path().join("replay.sock");
    // The target's own dnstap goes to a file of its own (not back into the
    // replay).
    let target_sink = target.path().join("target.fstrm");
    let mut target_knot = knotd(target.path(), &target_sink.display().to_string());
    let target_port = port_of(target.path());
    ask(target_port, &NAMES);
    let args: Vec<std::ffi::OsString> = vec![
        "@127.0.0.1".into(),
        "-p".into(),
        target_port.to_string().into(),
        "--replay".into(),
        unix_arg(&sock),
        "--until-closed".into(),
        "+parallel=8".into(),
        "+timeout=2".into(),
        "--format".into(),
        "jsonl".into(),
    ];
    let argv: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let mut replay = Collector::start(recorder.path(), &argv);
    let mut knot = knotd(recorder.path(), &format!("unix:{}", sock.display()));
    let asked = ask(port_of(recorder.path()), &NAMES);
    wait_until("knotd's frames to be replayed", || {
        replay.stderr().contains("receiving dnstap")
    });
    // knotd's sender writes what it has before it closes.
    std::thread::sleep(Duration::from_millis(500));
    knot.stop("TERM");
    let status = replay.exit("with knotd's connection");
    let out = replay.stdout();
    assert_eq!(status.code(), Some(0), "{out}\n{}", replay.stderr());
    let summary: serde_json::Value =
        serde_json::from_str(out.lines().last().unwrap_or_default()).unwrap();
    let queries = summary["queries"].as_u64().unwrap();
    // The probing query or queries of `ask`, then one for each name.
    assert!(queries as usize > asked, "{out}");
    assert_eq!(summary["classes"]["same"].as_u64(), Some(queries), "{out}");
    target_knot.stop("TERM");
}
