//! One integration-test binary for qtap: every module runs the real `qtap`
//! binary, against servers started inside the test process on loopback or
//! on trace files in tests/fixtures.

#[path = "../support/mod.rs"]
mod support;

mod batch;
mod damaged;
mod deadlines;
mod encrypted;
mod generate;
mod hostile_tls;
mod interop;
mod knot;
mod live;
mod props;
mod query;
mod read;
mod render;
mod servers;
mod tap;
mod tapfile;
mod tsig;

/// The qtap binary with a scrubbed environment: UTC times, no colour.
pub fn qtap() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("qtap").expect("qtap binary");
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("TZ", "UTC")
        .timeout(std::time::Duration::from_secs(60));
    cmd
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
