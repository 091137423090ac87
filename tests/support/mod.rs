//! Test support shared by the integration modules: an in-process
//! hickory-server serving the qtap.test zone (`server`), a scripted hostile
//! responder (`hostile`), encrypted servers with the test PKI (`tls`), and
//! a few helpers to run qtap and pick its output apart.
//!
//! Nothing here asserts on qtap's behaviour; the test modules do that.

#![allow(dead_code)]

pub mod hostile;
pub mod server;
pub mod tls;

use std::time::Duration;

pub use hostile::{Hostile, Reply};
pub use server::TestServer;

/// The one qtap launcher: the binary from a scrubbed environment (only
/// PATH, TZ=UTC; stdout is a pipe, so colour is off unless a test asks for
/// it with `--color=always`), and a generous timeout so a hang fails the
/// test instead of the whole run.
pub fn qtap() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("qtap").expect("qtap binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TZ", "UTC")
        .timeout(Duration::from_secs(60));
    cmd
}

/// qtap aimed at `@127.0.0.1 -p <port>`.
pub fn qtap_at(port: &str) -> assert_cmd::Command {
    let mut cmd = qtap();
    cmd.args(["@127.0.0.1", "-p", port]);
    cmd
}

/// What a finished qtap run produced.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// Runs `cmd` to completion.
    pub fn of(cmd: &mut assert_cmd::Command) -> Run {
        let out = cmd.output().expect("run qtap");
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Panics with both streams unless the exit code is `code`.
    pub fn expect_code(self, code: i32) -> Run {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Stdout lines.
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// The lines of the section headed `;; <name> SECTION:` in the `nth`
    /// message (0-based), up to the blank line that ends it.
    pub fn section(&self, nth: usize, name: &str) -> Vec<&str> {
        section(&self.stdout, nth, name)
    }

    /// The `;; flags: ...` lines, in order.
    pub fn flags_lines(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(";; flags:"))
            .collect()
    }

    /// The `;; ->>HEADER<<-` lines, in order.
    pub fn headers(&self) -> Vec<&str> {
        self.stdout
            .lines()
            .filter(|l| l.starts_with(";; ->>HEADER<<-"))
            .collect()
    }
}

/// The lines of the `nth` (0-based) `;; <name> SECTION:` block of `text`.
pub fn section<'a>(text: &'a str, nth: usize, name: &str) -> Vec<&'a str> {
    let heading = format!(";; {name} SECTION:");
    let mut lines = text.lines();
    let mut seen = 0;
    for line in lines.by_ref() {
        if line == heading {
            if seen == nth {
                return lines.by_ref().take_while(|l| !l.is_empty()).collect();
            }
            seen += 1;
        }
    }
    Vec::new()
}

/// The flag words of a `;; flags: qr aa rd; QUERY: ...` line.
pub fn flags_of(line: &str) -> Vec<&str> {
    line.strip_prefix(";; flags:")
        .and_then(|rest| rest.split(';').next())
        .map(|f| f.split_whitespace().collect())
        .unwrap_or_default()
}

/// The count on a line of `--replay`'s summary (`;;   same:   3   60.00 %`),
/// by its label; None when no line has it.
pub fn replay_tally(stdout: &str, label: &str) -> Option<u64> {
    stdout.lines().find_map(|l| {
        let rest = l
            .strip_prefix(";;   ")?
            .strip_prefix(label)?
            .strip_prefix(':')?;
        rest.split_whitespace().next()?.parse().ok()
    })
}

/// Waits until `cond` holds, looking every 20 ms; a deadline of 20 s keeps
/// a broken test from hanging (it fails, naming `what`).
pub fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A loopback port free for both UDP and TCP (at the time of the check),
/// for a server started outside the test process.
pub fn free_udp_tcp_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Starts `knotd -c conf` in the foreground, its output discarded.
pub fn start_knotd(conf: &std::path::Path) -> std::process::Child {
    quiet(std::process::Command::new("knotd").arg("-c").arg(conf))
}

/// Starts `unbound -d -c conf` in the foreground, its output discarded.
pub fn start_unbound(conf: &std::path::Path) -> std::process::Child {
    quiet(
        std::process::Command::new("unbound")
            .args(["-d", "-c"])
            .arg(conf),
    )
}

fn quiet(cmd: &mut std::process::Command) -> std::process::Child {
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// True when `tool` is on PATH; otherwise prints why the caller skips.
pub fn have(tool: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()));
    if !found {
        eprintln!("skipped: {tool} is not installed");
    }
    found
}

/// The reply a test responder gives: the query's header and question with
/// QR/AA set and one `A 192.0.2.77` answer (any OPT record is dropped).
pub fn answer_a(q: &[u8]) -> Vec<u8> {
    let n = q.len();
    let mut end = 12;
    while end < n && q[end] != 0 {
        end += usize::from(q[end]) + 1;
    }
    end += 5;
    let mut r = q[..end.min(n)].to_vec();
    if r.len() < 12 {
        return r;
    }
    r[2] = 0x85; // QR AA RD
    r[3] = 0x00;
    r[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
    r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 192, 0, 2, 77]);
    r
}

/// A minimal UDP responder on 127.0.0.1: answers each of the first `count`
/// queries with [`answer_a`], then stops. Returns its port.
pub fn tiny_server(count: usize) -> u16 {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let port = sock.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        for _ in 0..count {
            let Ok((n, peer)) = sock.recv_from(&mut buf) else {
                return;
            };
            let _ = sock.send_to(&answer_a(&buf[..n]), peer);
        }
    });
    port
}

/// A UDP socket that never answers; keep it alive as long as needed.
pub fn silent_server() -> std::net::UdpSocket {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap()
}

/// Decodes every data frame of a trace file; panics on any damage.
pub fn read_trace(path: &std::path::Path) -> Vec<qtap::tap::pb::Dnstap> {
    use qtap::tap::reader::{Item, ReaderOptions, TapReader};
    let file = std::fs::File::open(path).unwrap();
    let mut reader = TapReader::new(file, ReaderOptions::default());
    let mut records = Vec::new();
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            Item::Data { payload, .. } => {
                records.push(prost::Message::decode(payload).unwrap());
            }
            Item::Warning(w) => panic!("{}: {w}", path.display()),
        }
    }
    records
}

/// `qtap --read trace` with the `+options` found among `args` (the display
/// options of the live run it is compared with); returns stdout.
pub fn read_back(trace: &std::path::Path, args: &[&str]) -> String {
    let display: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| a.starts_with('+'))
        .collect();
    let out = qtap()
        .arg("--read")
        .arg(trace)
        .args(&display)
        .output()
        .unwrap();
    assert!(out.status.success(), "--read {}", trace.display());
    String::from_utf8_lossy(&out.stdout).into_owned()
}
