//! `+trace` and `+nssearch` in a closed lab: a hierarchy of knotd
//! instances on loopback addresses sharing one port (the root on
//! 127.53.0.2, the TLD `test.` on .3, `lab.test.` with glue and a DS in its
//! parent on .4 and .5), reached through a hints file, so no resolver is
//! asked. A scripted server on .6 gives an out-of-bailiwick glue record.
//! Skips, saying so, where knotd is not installed.
//!
//! The expected +trace text is what dig 9.18 printed against this lab
//! (`dig +trace @127.53.0.2 -p PORT www.lab.test`, with the servers' names
//! resolvable), times masked; dig itself cannot be pointed at a hints file
//! nor resolve the lab's server names, so the test does not run it.

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::{have, qtap, read_back, read_trace};

const DS: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn addr(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 53, 0, last)
}

/// The lab: its servers, the port they share and the hints file.
struct Lab {
    children: Vec<Child>,
    port: u16,
    dir: tempfile::TempDir,
    /// The scripted server of `oob.test.` (kept open while the lab lives).
    _oob: std::thread::JoinHandle<()>,
}

impl Drop for Lab {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Lab {
    fn hints(&self) -> PathBuf {
        self.dir.path().join("root.hints")
    }

    fn hints_arg(&self) -> String {
        format!("+hints={}", self.hints().display())
    }
}

/// A port free for UDP and TCP on every lab address.
fn free_port() -> u16 {
    loop {
        let udp = UdpSocket::bind((addr(2), 0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        let free = (2..=6).all(|a| {
            std::net::TcpListener::bind((addr(a), port)).is_ok()
                && (a == 2 || UdpSocket::bind((addr(a), port)).is_ok())
        });
        if free {
            return port;
        }
    }
}

fn zones() -> [(u8, &'static str, String); 4] {
    let root = format!(
        "$TTL 3600\n. SOA a.root-servers. hostmaster.root-servers. 1 3600 900 604800 86400\n\
         . NS a.root-servers.\na.root-servers. A {r}\n\
         test. NS ns.nic.test.\nns.nic.test. A {t}\ntest. DS 12345 13 2 {DS}\n",
        r = addr(2),
        t = addr(3)
    );
    let tld = format!(
        "$TTL 3600\ntest. SOA ns.nic.test. hostmaster.nic.test. 1 3600 900 604800 86400\n\
         test. NS ns.nic.test.\nns.nic.test. A {t}\n\
         lab.test. NS ns1.lab.test.\nlab.test. NS ns2.lab.test.\n\
         ns1.lab.test. A {c1}\nns2.lab.test. A {c2}\nlab.test. DS 23456 13 2 {DS}\n\
         lame.test. NS ns.lame.test.\nns.lame.test. A {c1}\n\
         loop.test. NS ns.loop.test.\nns.loop.test. A {r}\n\
         a.test. NS ns.b.test.\nb.test. NS ns.a.test.\n\
         oob.test. NS ns.oob.test.\nns.oob.test. A {o}\n",
        t = addr(3),
        c1 = addr(4),
        c2 = addr(5),
        r = addr(2),
        o = addr(6)
    );
    let child = format!(
        "$TTL 3600\nlab.test. SOA ns1.lab.test. hostmaster.lab.test. 2024 3600 900 604800 86400\n\
         lab.test. NS ns1.lab.test.\nlab.test. NS ns2.lab.test.\n\
         ns1.lab.test. A {c1}\nns2.lab.test. A {c2}\nwww.lab.test. A 192.0.2.80\n",
        c1 = addr(4),
        c2 = addr(5)
    );
    [
        (2, ".", root),
        (3, "test.", tld),
        (4, "lab.test.", child.clone()),
        (5, "lab.test.", child),
    ]
}

/// The scripted server of `oob.test.`: refers everything to
/// `sub.oob.test.` served by `ns.elsewhere.`, with glue for that name
/// (out of the bailiwick of `oob.test.`).
fn oob_server(port: u16) -> std::thread::JoinHandle<()> {
    let sock = UdpSocket::bind((addr(6), port)).unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let q = &buf[..n];
            let Some(end) = crate::support::hostile::question_end(q) else {
                continue;
            };
            let mut r = q[..end].to_vec();
            r[2] = 0x80; // QR, no AA
            r[3] = 0;
            r[6..12].copy_from_slice(&[0, 0, 0, 1, 0, 1]);
            let elsewhere = crate::support::hostile::encode_name("ns.elsewhere.");
            r.extend(crate::support::hostile::encode_name("sub.oob.test."));
            r.extend([0, 2, 0, 1, 0, 0, 14, 16]);
            r.extend(u16::try_from(elsewhere.len()).unwrap().to_be_bytes());
            r.extend(&elsewhere);
            r.extend(&elsewhere);
            r.extend([0, 1, 0, 1, 0, 0, 14, 16, 0, 4]);
            r.extend(addr(4).octets());
            let _ = sock.send_to(&r, from);
        }
    })
}

/// Starts the lab, or None (saying why) without knotd.
fn start_lab() -> Option<Lab> {
    if !have("knotd") {
        eprintln!("skipped: knotd is not installed");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let oob = oob_server(port);
    let mut children = Vec::new();
    for (last, zone, text) in zones() {
        let sub = dir.path().join(format!("ns{last}"));
        std::fs::create_dir_all(sub.join("run")).unwrap();
        std::fs::write(sub.join("zone"), text).unwrap();
        let d = sub.display();
        let conf = format!(
            "server:\n    rundir: \"{d}/run\"\n    listen: {a}@{port}\n\
             database:\n    storage: \"{d}\"\n\
             template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n\
             zone:\n  - domain: \"{zone}\"\n    file: \"{d}/zone\"\n\
             log:\n  - target: stderr\n    any: error\n",
            a = addr(last)
        );
        std::fs::write(sub.join("knot.conf"), conf).unwrap();
        children.push(
            Command::new("knotd")
                .arg("-c")
                .arg(sub.join("knot.conf"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    std::fs::write(
        dir.path().join("root.hints"),
        format!(
            "; the lab's root\n.  3600000  NS  a.root-servers.\na.root-servers.  3600000  A  {}\n",
            addr(2)
        ),
    )
    .unwrap();
    let lab = Lab {
        children,
        port,
        dir,
        _oob: oob,
    };
    for (last, zone, _) in zones() {
        wait_for(lab.port, last, zone);
    }
    Some(lab)
}

fn wait_for(port: u16, last: u8, zone: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let out = qtap()
            .args([&format!("@{}", addr(last)), "-p", &port.to_string()])
            .args([zone, "SOA", "+norec", "+short", "+timeout=1", "+tries=1"])
            .output()
            .unwrap();
        if out.status.success() && !out.stdout.is_empty() {
            return;
        }
    }
    panic!("knotd for {zone} did not start on {}:{port}", addr(last));
}

/// `qtap -p PORT +hints=... ARGS`, with the trace in `tap` when given.
fn run(lab: &Lab, args: &[&str], tap: Option<&Path>) -> std::process::Output {
    let mut cmd = qtap();
    cmd.args([
        "-p",
        &lab.port.to_string(),
        &lab.hints_arg(),
        "+tries=1",
        "+timeout=2",
    ])
    .args(args);
    if let Some(t) = tap {
        cmd.arg("--tap").arg(t);
    }
    cmd.output().unwrap()
}

/// Times masked: `in N ms` becomes `in X ms`.
fn mask(text: &str) -> String {
    text.lines()
        .map(|l| match l.rfind(" in ") {
            Some(i) if l.starts_with(";; Received") => format!("{} in X ms", &l[..i]),
            _ => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn trace_follows_the_lab_down_to_the_answer_as_dig_lays_it_out() {
    let Some(lab) = start_lab() else { return };
    let tap = lab.dir.path().join("trace.tap");
    let out = run(&lab, &["+trace", "www.lab.test"], Some(&tap));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live = String::from_utf8(out.stdout).unwrap();
    let p = lab.port;
    // dig 9.18's text against the same lab, but for its banner.
    let expected = format!(
        "\n; <<>> qtap {v} <<>> +trace\n;; global options: +cmd\n\
         .\t\t\t3600\tIN\tNS\ta.root-servers.\n\
         ;; Received 71 bytes from 127.53.0.2#{p}(127.53.0.2) in X ms\n\n\
         test.\t\t\t3600\tIN\tNS\tns.nic.test.\n\
         ;; Received 78 bytes from 127.53.0.2#{p}(a.root-servers) in X ms\n\n\
         lab.test.\t\t3600\tIN\tNS\tns1.lab.test.\n\
         lab.test.\t\t3600\tIN\tNS\tns2.lab.test.\n\
         ;; Received 109 bytes from 127.53.0.3#{p}(ns.nic.test) in X ms\n\n\
         www.lab.test.\t\t3600\tIN\tA\t192.0.2.80\n\
         ;; Received 57 bytes from 127.53.0.4#{p}(ns1.lab.test) in X ms\n",
        v = env!("CARGO_PKG_VERSION")
    );
    assert_eq!(mask(&live), expected);

    // Every message of the chase, under the zone whose servers were asked.
    let records = read_trace(&tap);
    let steps: Vec<(i32, String, String)> = records
        .iter()
        .map(|d| {
            let m = d.message.as_ref().unwrap();
            let zone = qtap::dns::name::Name::from_wire(m.query_zone.as_deref().unwrap())
                .unwrap()
                .to_string();
            let server = std::net::IpAddr::from(
                <[u8; 4]>::try_from(m.response_address.as_deref().unwrap()).unwrap(),
            );
            (m.r#type, zone, server.to_string())
        })
        .collect();
    let (q, r) = (
        qtap::tap::pb::message::Type::ResolverQuery as i32,
        qtap::tap::pb::message::Type::ResolverResponse as i32,
    );
    let expect = |t, z: &str, s: &str| (t, z.to_owned(), s.to_owned());
    assert_eq!(
        steps,
        vec![
            expect(q, ".", "127.53.0.2"),
            expect(r, ".", "127.53.0.2"),
            expect(q, ".", "127.53.0.2"),
            expect(r, ".", "127.53.0.2"),
            expect(q, "test.", "127.53.0.3"),
            expect(r, "test.", "127.53.0.3"),
            expect(q, "lab.test.", "127.53.0.4"),
            expect(r, "lab.test.", "127.53.0.4"),
        ]
    );
    for d in &records {
        let m = d.message.as_ref().unwrap();
        assert_eq!(m.response_port, Some(u32::from(p)));
        let msg = m.query_message.as_deref().unwrap();
        assert_eq!(msg[2] & 1, 0, "RD=0 from the root down");
    }

    // --read +trace shows the very same text.
    assert_eq!(read_back(&tap, &["+trace"]), live);
}

#[test]
fn a_lame_server_is_flagged_and_the_chase_fails_with_no_reply() {
    let Some(lab) = start_lab() else { return };
    let out = run(&lab, &["+trace", "www.lame.test"], None);
    assert_eq!(out.status.code(), Some(9));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(";; WARNING: lame server for lame.test.: status REFUSED\n;; Received 48 bytes from 127.53.0.4#"),
        "{text}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(
            "qtap: +trace: no server of lame.test. gave a usable answer for www.lame.test."
        ),
        "{err}"
    );
}

#[test]
fn out_of_bailiwick_glue_is_flagged_and_ignored() {
    let Some(lab) = start_lab() else { return };
    let tap = lab.dir.path().join("oob.tap");
    let out = run(&lab, &["+trace", "www.sub.oob.test"], Some(&tap));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            ";; WARNING: out-of-bailiwick glue for ns.elsewhere. (127.53.0.4) from a server of oob.test.: ignored\n"
        ),
        "{text}"
    );
    // The glue was not used: ns.elsewhere. was looked for from the root
    // (which has no such name), and the lab's 127.53.0.4 never asked.
    let asked: Vec<String> = read_trace(&tap)
        .iter()
        .filter_map(|d| d.message.as_ref())
        .filter_map(|m| m.query_message.as_deref())
        .filter_map(qtap::dns::wire::first_question)
        .map(|q| q.name.to_string())
        .collect();
    assert!(asked.contains(&"ns.elsewhere.".to_owned()), "{asked:?}");
    assert!(!text.contains("from 127.53.0.4#"), "{text}");
    assert_eq!(out.status.code(), Some(9));
    assert_eq!(read_back(&tap, &["+trace"]), text);
}

#[test]
fn referral_loops_end_with_an_error() {
    let Some(lab) = start_lab() else { return };
    // loop.test.'s server is the root, which refers back up to test.
    let out = run(&lab, &["+trace", "www.loop.test"], None);
    assert_eq!(out.status.code(), Some(9));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(";; WARNING: out-of-bailiwick referral from a server of loop.test. to test. (not below loop.test.): ignored"),
        "{text}"
    );
    // a.test. is served by ns.b.test. and b.test. by ns.a.test., no glue.
    let out = run(&lab, &["+trace", "www.a.test"], None);
    assert_eq!(out.status.code(), Some(9));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("glueless delegation loop"), "{err}");
    assert!(
        err.contains("qtap: +trace: no server of a.test. gave a usable answer"),
        "{err}"
    );
}

#[test]
fn nssearch_shows_the_soa_of_each_server_of_the_zone() {
    let Some(lab) = start_lab() else { return };
    let tap = lab.dir.path().join("ns.tap");
    let out = run(&lab, &["+nssearch", "lab.test"], Some(&tap));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let soa: Vec<String> = text
        .lines()
        .filter(|l| l.starts_with("SOA "))
        .map(|l| l.split(" in ").next().unwrap().to_owned())
        .collect();
    let line = |a| {
        format!("SOA ns1.lab.test. hostmaster.lab.test. 2024 3600 900 604800 86400 from server {a}")
    };
    assert_eq!(soa, vec![line(addr(4)), line(addr(5))]);
    let zones: Vec<String> = read_trace(&tap)
        .iter()
        .filter_map(|d| d.message.as_ref())
        .filter(|m| {
            m.query_message
                .as_deref()
                .and_then(qtap::dns::wire::first_qtype)
                == Some(6)
        })
        .map(|m| {
            qtap::dns::name::Name::from_wire(m.query_zone.as_deref().unwrap())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(zones, vec!["lab.test."; 4]);
    assert_eq!(read_back(&tap, &["+nssearch"]), text);
}

#[test]
fn a_bad_hints_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let hints = dir.path().join("h");
    std::fs::write(&hints, ". NS a.root.\nnonsense here\n").unwrap();
    let out = qtap()
        .args(["+trace", &format!("+hints={}", hints.display()), "x.test"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2: not a root hint"));
    let out = qtap()
        .args([&format!("+hints={}", hints.display()), "x.test"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}
