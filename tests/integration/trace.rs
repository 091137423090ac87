//! `+trace` and `+nssearch` in a closed lab: a hierarchy of knotd
//! instances on loopback addresses sharing one port (the root on
//! 127.53.0.2, the TLD `test.` on .3, `lab.test.` with glue and a DS in its
//! parent on .4 and .5), reached through a hints file, so no resolver is
//! asked. A scripted server on .6 gives an out-of-bailiwick glue record.
//! Skips, saying so, where knotd is not installed.
//!
//! The parents sign their zones (knotd, ECDSA P-256), so referrals carry
//! DS and RRSIG. A second lab, whose server names read as addresses, sits
//! behind an Unbound resolver, and there qtap's +trace is compared line by
//! line with dig's under several display options (skipped, saying so,
//! without knotd, unbound or dig).

use std::net::{Ipv4Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::{have, qtap, read_back, read_trace};

const DS: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn addr(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, 53, 0, last)
}

/// The lab: its servers, the port they share and the hints file.
struct Lab {
    _knots: Knots,
    port: u16,
    dir: tempfile::TempDir,
    /// The scripted server of `oob.test.` (kept open while the lab lives).
    _oob: std::thread::JoinHandle<()>,
}

/// Child processes killed (and reaped) when dropped.
struct Knots(Vec<Child>);

impl Drop for Knots {
    fn drop(&mut self) {
        for c in &mut self.0 {
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

/// A port free for UDP and TCP on every one of `addrs`.
fn free_port_on(addrs: &[Ipv4Addr]) -> u16 {
    loop {
        let udp = UdpSocket::bind((addrs[0], 0)).unwrap();
        let port = udp.local_addr().unwrap().port();
        let free = addrs.iter().enumerate().all(|(i, a)| {
            std::net::TcpListener::bind((*a, port)).is_ok()
                && (i == 0 || UdpSocket::bind((*a, port)).is_ok())
        });
        if free {
            return port;
        }
    }
}

/// A port free for UDP and TCP on every lab address.
fn free_port() -> u16 {
    free_port_on(&(2..=6).map(addr).collect::<Vec<_>>())
}

/// One knotd: its address, zone, zone text and whether it signs the zone.
struct Knot {
    addr: Ipv4Addr,
    zone: &'static str,
    text: String,
    sign: bool,
}

fn zones() -> Vec<Knot> {
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
         oob.test. NS ns.oob.test.\nns.oob.test. A {o}\n\
         six.test. NS ns1.six.test.\nsix.test. NS ns2.six.test.\n\
         ns1.six.test. A {c1}\nns2.six.test. AAAA ::1\n",
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
    let knot = |last, zone, text, sign| Knot {
        addr: addr(last),
        zone,
        text,
        sign,
    };
    // The parents sign their zones, so their referrals carry DS and RRSIG.
    vec![
        knot(2, ".", root, true),
        knot(3, "test.", tld, true),
        knot(4, "lab.test.", child.clone(), false),
        knot(5, "lab.test.", child, false),
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

/// Starts one knotd per entry of `knots` on `port`, each in its own
/// directory under `dir` (a signing one with a fast ECDSA P-256 policy and
/// its keys in its own KASP database there), and waits until each serves
/// its zone.
fn start_knots(dir: &Path, port: u16, knots: &[Knot]) -> Knots {
    let mut children = Knots(Vec::new());
    for (i, k) in knots.iter().enumerate() {
        let sub = dir.join(format!("knot{i}"));
        std::fs::create_dir_all(sub.join("run")).unwrap();
        std::fs::write(sub.join("zone"), &k.text).unwrap();
        let d = sub.display();
        let sign = if k.sign { "on" } else { "off" };
        let conf = format!(
            "server:\n    rundir: \"{d}/run\"\n    listen: {a}@{port}\n\
             database:\n    storage: \"{d}\"\n    kasp-db: \"{d}/keys\"\n\
             policy:\n  - id: lab\n    algorithm: ecdsap256sha256\n    nsec3: off\n\
             template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n\
             \x20   zonefile-sync: -1\n\
             zone:\n  - domain: \"{zone}\"\n    file: \"{d}/zone\"\n\
             \x20   dnssec-signing: {sign}\n    dnssec-policy: lab\n\
             log:\n  - target: stderr\n    any: error\n",
            a = k.addr,
            zone = k.zone,
        );
        std::fs::write(sub.join("knot.conf"), conf).unwrap();
        children.0.push(crate::start_knotd(&sub.join("knot.conf")));
    }
    for k in knots {
        wait_for(port, k.addr, k.zone, k.sign);
    }
    children
}

/// Starts the lab, or None (saying why) without knotd.
fn start_lab() -> Option<Lab> {
    if !have("knotd") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let oob = oob_server(port);
    let knots = start_knots(dir.path(), port, &zones());
    std::fs::write(
        dir.path().join("root.hints"),
        format!(
            "; the lab's root\n.  3600000  NS  a.root-servers.\na.root-servers.  3600000  A  {}\n",
            addr(2)
        ),
    )
    .unwrap();
    Some(Lab {
        _knots: knots,
        port,
        dir,
        _oob: oob,
    })
}

/// Waits until the server at `at` serves `zone` (signed, when `signed`).
fn wait_for(port: u16, at: impl Into<std::net::IpAddr>, zone: &str, signed: bool) {
    let at = at.into();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let out = qtap()
            .args([&format!("@{at}"), "-p", &port.to_string()])
            .args([
                zone,
                "SOA",
                "+norec",
                "+dnssec",
                "+short",
                "+timeout=1",
                "+tries=1",
            ])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        if out.status.success() && !text.is_empty() && (!signed || text.contains("SOA ")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("knotd for {zone} did not start on {at}:{port}");
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

/// Times masked (`in N ms` becomes `in X ms`), and the parts of RRSIG
/// records that change with each signing (dates, key tag, signature).
fn mask(text: &str) -> String {
    text.lines()
        .map(|l| match (l.rfind(" in "), l.split_once("\tRRSIG\t")) {
            (Some(i), _) if l.starts_with(";; Received") => format!("{} in X ms", &l[..i]),
            (_, Some((owner, rdata))) => {
                let f: Vec<&str> = rdata.split_whitespace().collect();
                match f.get(..8) {
                    Some(f) => format!(
                        "{owner}\tRRSIG\t{} {} {} {} E I T {} SIG",
                        f[0], f[1], f[2], f[3], f[7]
                    ),
                    None => l.to_owned(),
                }
            }
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
    // dig 9.18's layout (checked against dig itself in
    // trace_matches_dig_through_a_resolver), but for its banner; the signed
    // parents' referrals carry the child's DS and its signature.
    let hex = "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF01234567 89ABCDEF";
    let expected = format!(
        "\n; <<>> qtap {v} <<>> +trace\n;; global options: +cmd\n\
         .\t\t\t3600\tIN\tNS\ta.root-servers.\n\
         .\t\t\t3600\tIN\tRRSIG\tNS 13 0 3600 E I T . SIG\n\
         ;; Received 260 bytes from 127.53.0.2#{p}(127.53.0.2) in X ms\n\n\
         test.\t\t\t3600\tIN\tNS\tns.nic.test.\n\
         test.\t\t\t3600\tIN\tDS\t12345 13 2 {hex}\n\
         test.\t\t\t3600\tIN\tRRSIG\tDS 13 1 3600 E I T . SIG\n\
         ;; Received 221 bytes from 127.53.0.2#{p}(a.root-servers) in X ms\n\n\
         lab.test.\t\t3600\tIN\tNS\tns1.lab.test.\n\
         lab.test.\t\t3600\tIN\tNS\tns2.lab.test.\n\
         lab.test.\t\t3600\tIN\tDS\t23456 13 2 {hex}\n\
         lab.test.\t\t3600\tIN\tRRSIG\tDS 13 2 3600 E I T test. SIG\n\
         ;; Received 257 bytes from 127.53.0.3#{p}(ns.nic.test) in X ms\n\n\
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

    // +stats: dig's statistics, the server named as in the Received line.
    let out = run(&lab, &["+trace", "+stats", "www.lab.test"], None);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(";; SERVER: 127.53.0.3#{p}(ns.nic.test) (UDP)\n")),
        "{text}"
    );
    assert!(!text.contains(";; Received"), "{text}");

    // JSON: every response of the chase, each with the zone asked.
    let out = run(&lab, &["+trace", "--format", "jsonl", "www.lab.test"], None);
    assert!(out.status.success());
    let zones: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["dnstap"]["type"], "RESOLVER_RESPONSE", "{l}");
            v["dnstap"]["queryZone"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(zones, [".", ".", "test.", "lab.test."]);
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
        err.contains(";; +trace: no server of lame.test. gave a usable answer for www.lame.test."),
        "{err}"
    );
}

#[test]
fn a_failed_chase_in_a_batch_lets_the_rest_run_and_exits_9() {
    let Some(lab) = start_lab() else { return };
    let batch = lab.dir.path().join("batch");
    std::fs::write(&batch, "www.lame.test\nwww.lab.test\n").unwrap();
    let out = run(&lab, &["+trace", "-f", batch.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(9));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(";; WARNING: lame server for lame.test."),
        "{text}"
    );
    assert!(
        text.contains("www.lab.test.\t\t3600\tIN\tA\t192.0.2.80\n"),
        "the second lookup ran: {text}"
    );
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(
            ";; +trace: no server of lame.test. gave a usable answer for www.lame.test.\n"
        ),
        "{err}"
    );
}

/// The addresses the queries of a trace were sent to.
fn asked_addresses(tap: &Path) -> Vec<std::net::IpAddr> {
    read_trace(tap)
        .iter()
        .filter_map(|d| d.message.as_ref())
        .filter(|m| m.query_message.is_some() && m.response_message.is_none())
        .filter_map(|m| m.response_address.as_deref())
        .filter_map(|a| match a.len() {
            4 => Some(std::net::IpAddr::from(<[u8; 4]>::try_from(a).ok()?)),
            16 => Some(std::net::IpAddr::from(<[u8; 16]>::try_from(a).ok()?)),
            _ => None,
        })
        .collect()
}

#[test]
fn minus_4_and_minus_6_choose_the_servers_addresses_in_the_chase() {
    let Some(lab) = start_lab() else { return };
    // six.test.'s servers: a lame one (IPv4 glue), one with IPv6 glue only.
    let tap = lab.dir.path().join("any.tap");
    run(&lab, &["+trace", "www.six.test"], Some(&tap));
    let v6 = |tap: &Path| asked_addresses(tap).iter().any(|a| a.is_ipv6());
    assert!(v6(&tap), "without -4, the IPv6 glue is tried too");
    let tap = lab.dir.path().join("v4.tap");
    let out = run(&lab, &["-4", "+trace", "www.six.test"], Some(&tap));
    assert_eq!(out.status.code(), Some(9));
    let asked = asked_addresses(&tap);
    assert!(asked.contains(&addr(4).into()), "{asked:?}");
    assert!(!v6(&tap), "-4 never sends to IPv6 glue: {asked:?}");
    // The lab has IPv4 addresses only: -6 says so and asks nobody (the
    // server, never asked with +hints, must still be an IPv6 one).
    let tap = lab.dir.path().join("v6.tap");
    let out = run(&lab, &["-6", "@::1", "+trace", "www.lab.test"], Some(&tap));
    assert_eq!(out.status.code(), Some(9));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains(";; +trace: no server of . has an IPv6 address\n"),
        "{err}"
    );
    assert!(!tap.exists() || asked_addresses(&tap).is_empty());
}

/// A knotd on ::1 (the one IPv6 loopback address, so one server for
/// every zone of this lab: the root and `lab.test.`), on a port free there;
/// the root's server has an IPv4 address that serves nothing.
fn start_v6_lab(dir: &Path) -> Option<(Knots, u16)> {
    if !have("knotd") || UdpSocket::bind("[::1]:0").is_err() {
        eprintln!("skipped: needs knotd and ::1");
        return None;
    }
    let port = loop {
        let udp = UdpSocket::bind("[::1]:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("::1", port)).is_ok() {
            break port;
        }
    };
    let root = format!(
        "$TTL 3600\n. SOA a.root-servers. hostmaster.root-servers. 1 3600 900 604800 86400\n\
         . NS a.root-servers.\na.root-servers. A {v4}\na.root-servers. AAAA ::1\n\
         lab.test. NS ns1.lab.test.\nns1.lab.test. A {v4}\nns1.lab.test. AAAA ::1\n",
        v4 = addr(7)
    );
    let child = format!(
        "$TTL 3600\nlab.test. SOA ns1.lab.test. hostmaster.lab.test. 2024 3600 900 604800 86400\n\
         lab.test. NS ns1.lab.test.\nns1.lab.test. A {v4}\nns1.lab.test. AAAA ::1\n\
         www.lab.test. A 192.0.2.80\n",
        v4 = addr(7)
    );
    let d = dir.display();
    std::fs::create_dir_all(dir.join("run")).unwrap();
    std::fs::write(dir.join("root.zone"), root).unwrap();
    std::fs::write(dir.join("lab.zone"), child).unwrap();
    let conf = format!(
        "server:\n    rundir: \"{d}/run\"\n    listen: ::1@{port}\n\
         database:\n    storage: \"{d}\"\n\
         template:\n  - id: default\n    storage: \"{d}\"\n    semantic-checks: off\n\
         \x20   zonefile-sync: -1\n\
         zone:\n  - domain: \".\"\n    file: \"{d}/root.zone\"\n\
         \x20 - domain: \"lab.test.\"\n    file: \"{d}/lab.zone\"\n\
         log:\n  - target: stderr\n    any: error\n"
    );
    std::fs::write(dir.join("knot.conf"), conf).unwrap();
    let knot = crate::start_knotd(&dir.join("knot.conf"));
    let knots = Knots(vec![knot]);
    wait_for(port, std::net::Ipv6Addr::LOCALHOST, ".", false);
    wait_for(port, std::net::Ipv6Addr::LOCALHOST, "lab.test.", false);
    Some((knots, port))
}

#[test]
fn minus_6_chases_from_the_hints_over_ipv6_without_a_server() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_knot, port)) = start_v6_lab(dir.path()) else {
        return;
    };
    // The hints' IPv4 address comes first; -6 must pass it by.
    let hints = dir.path().join("root.hints");
    std::fs::write(
        &hints,
        format!(
            ".  NS  a.root-servers.\na.root-servers.  A  {}\na.root-servers.  AAAA  ::1\n",
            addr(7)
        ),
    )
    .unwrap();
    let tap = dir.path().join("v6.tap");
    // No @server: the chase from hints asks no resolver, and -6 must not
    // refuse resolv.conf's IPv4 one.
    let out = qtap()
        .args([
            "-6",
            "-p",
            &port.to_string(),
            "+tries=1",
            "+timeout=2",
            "+trace",
        ])
        .arg(format!("+hints={}", hints.display()))
        .arg("www.lab.test")
        .arg("--tap")
        .arg(&tap)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert_eq!(err, "", "no warning about the resolver never asked");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(&format!(
            ";; Received 57 bytes from ::1#{port}(a.root-servers) in "
        )),
        "{text}"
    );
    assert!(
        text.contains("www.lab.test.\t\t3600\tIN\tA\t192.0.2.80\n"),
        "{text}"
    );
    let asked = asked_addresses(&tap);
    assert_eq!(
        asked.len(),
        2,
        "the priming query and the lookup: {asked:?}"
    );
    assert!(asked.iter().all(|a| a.is_ipv6()), "{asked:?}");
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
        err.contains(";; +trace: no server of a.test. gave a usable answer"),
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
    // dig's +nssearch is +short: no banner.
    assert!(!text.contains(";; global options:"), "{text}");
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
fn a_glueless_chain_past_the_depth_limit_is_not_called_a_loop() {
    use crate::hostile::{echo_question, encode_name, question_end};
    use std::sync::atomic::{AtomicUsize, Ordering};
    // Every answer refers the name one label up to a new server without
    // glue, whose own chase meets another one: a chain, never a loop.
    let count = AtomicUsize::new(0);
    let server = crate::Hostile::udp(move |q| {
        let n = count.fetch_add(1, Ordering::Relaxed);
        let name = question_name(q);
        let zone = name.split_once('.').map_or("", |(_, up)| up);
        let Some(end) = question_end(q) else {
            return Vec::new();
        };
        let mut msg = echo_question(q);
        msg.truncate(end);
        msg[2] &= !0x04; // not authoritative: a referral
        msg[9] = 1;
        let rdata = encode_name(&format!("ns{n}.x{n}.evil{n}"));
        msg.extend(encode_name(zone));
        msg.extend_from_slice(&[0, 2, 0, 1, 0, 0, 1, 44]);
        msg.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
        msg.extend(rdata);
        vec![crate::Reply::Send(msg)]
    });
    let dir = tempfile::tempdir().unwrap();
    let hints = dir.path().join("h.hints");
    std::fs::write(
        &hints,
        ".  3600000  NS  a.root-servers.\na.root-servers.  3600000  A  127.0.0.1\n",
    )
    .unwrap();
    let mut cmd = crate::qtap();
    cmd.args(["-p", &server.port(), "+trace", "+timeout=1", "+tries=1"])
        .arg(format!("+hints={}", hints.display()))
        .arg("a.b.c.test");
    let run = crate::Run::of(&mut cmd).expect_code(9);
    assert!(!run.stderr.contains("loop"), "{run:?}");
    assert!(
        run.stderr
            .lines()
            .any(|l| l.starts_with(";; WARNING: +trace: not resolving ns")
                && l.ends_with(" (glueless delegation chain deeper than 4 levels)")),
        "{run:?}"
    );
}

/// The first question's name of `query`, dotted and lower-cased.
fn question_name(query: &[u8]) -> String {
    let mut labels = Vec::new();
    let mut at = 12;
    while let Some(&len) = query.get(at) {
        let Some(label) = query.get(at + 1..at + 1 + usize::from(len)) else {
            break;
        };
        if len == 0 || len & 0xC0 != 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        at += 1 + usize::from(len);
    }
    labels.join(".")
}

/// A resolver for `+nssearch z.test` on 127.0.0.1: z.test's servers are
/// ns1.z.test and ns2.z.test at `ns1` and `ns2` (asked on the resolver's
/// port), and it answers z.test's SOA itself.
fn nssearch_resolver(ns1: Ipv4Addr, ns2: Ipv4Addr) -> crate::Hostile {
    use crate::hostile::{add_a, add_soa, echo_question, encode_name, query_type};
    crate::Hostile::udp(move |q| {
        let name = question_name(q);
        let reply = match (query_type(q), name.as_str()) {
            (Some(2), "z.test") => {
                let mut msg = echo_question(q);
                for ns in ["ns1.z.test", "ns2.z.test"] {
                    let rdata = encode_name(ns);
                    msg.extend_from_slice(&[0xC0, 12, 0, 2, 0, 1, 0, 0, 1, 44]);
                    msg.extend_from_slice(&u16::try_from(rdata.len()).unwrap().to_be_bytes());
                    msg.extend(rdata);
                }
                msg[7] = 2;
                msg
            }
            (Some(6), "z.test") => add_soa(echo_question(q), 7),
            (Some(1), "ns1.z.test") => add_a(echo_question(q), 300, ns1),
            (Some(1), "ns2.z.test") => add_a(echo_question(q), 300, ns2),
            _ => echo_question(q),
        };
        vec![crate::Reply::Send(reply)]
    })
}

#[test]
fn nssearch_with_no_server_reached_says_so_as_dig_and_exits_9() {
    // Nobody listens on 127.0.0.2 or .3 at the resolver's port.
    let resolver = nssearch_resolver(Ipv4Addr::new(127, 0, 0, 2), Ipv4Addr::new(127, 0, 0, 3));
    let dir = tempfile::tempdir().unwrap();
    let tap = dir.path().join("ns.tap");
    let mut cmd = crate::qtap_at(&resolver.port());
    cmd.args(["z.test", "+nssearch", "+timeout=1", "+tries=1", "--tap"])
        .arg(&tap);
    let run = crate::Run::of(&mut cmd).expect_code(9);
    // dig 9.18: no banner, no line per server on stdout (qtap's
    // communications errors go to stderr), then its one line.
    assert_eq!(run.stdout, "", "{run:?}");
    assert!(
        run.stderr
            .lines()
            .any(|l| l == ";; NS servers could not be reached"),
        "{run:?}"
    );
    assert_eq!(read_back(&tap, &["+nssearch"]), "");
}

#[test]
fn nssearch_with_one_server_reached_shows_only_its_soa_and_exits_0() {
    let resolver = nssearch_resolver(Ipv4Addr::LOCALHOST, Ipv4Addr::new(127, 0, 0, 2));
    let mut cmd = crate::qtap_at(&resolver.port());
    cmd.args(["z.test", "+nssearch", "+timeout=1", "+tries=1"]);
    let run = crate::Run::of(&mut cmd).expect_code(0);
    let lines = run.lines();
    assert_eq!(lines.len(), 1, "{run:?}");
    assert!(
        lines[0].starts_with("SOA ns. admin. 7 1 1 1 1 from server 127.0.0.1 in "),
        "{run:?}"
    );
    assert!(!run.stderr.contains("could not be reached"), "{run:?}");
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

/// The lab of the comparison with dig, whose server names read as their
/// addresses: dig looks a server's name up with the system's resolver
/// (never through glue), and a name such as `127.54.0.1` needs no lookup.
/// The root (127.54.0.1) and the TLD `2.` (127.54.1.2) sign their zones;
/// `0.2.` is served by 127.55.0.2 and 127.56.0.2, with glue and a DS in
/// `2.`.
fn numeric_zones() -> Vec<Knot> {
    let root = format!(
        "$TTL 3600\n. SOA 127.54.0.1. hostmaster.root. 1 3600 900 604800 86400\n\
         . NS 127.54.0.1.\n127.54.0.1. A 127.54.0.1\n\
         2. NS 127.54.1.2.\n127.54.1.2. A 127.54.1.2\n2. DS 12345 13 2 {DS}\n"
    );
    let tld = format!(
        "$TTL 3600\n2. SOA 127.54.1.2. hostmaster.2. 1 3600 900 604800 86400\n\
         2. NS 127.54.1.2.\n127.54.1.2. A 127.54.1.2\n\
         0.2. NS 127.55.0.2.\n0.2. NS 127.56.0.2.\n\
         127.55.0.2. A 127.55.0.2\n127.56.0.2. A 127.56.0.2\n0.2. DS 23456 13 2 {DS}\n"
    );
    let child = "$TTL 3600\n0.2. SOA 127.55.0.2. hostmaster.0.2. 2024 3600 900 604800 86400\n\
                 0.2. NS 127.55.0.2.\n0.2. NS 127.56.0.2.\n\
                 127.55.0.2. A 127.55.0.2\n127.56.0.2. A 127.56.0.2\nwww.0.2. A 192.0.2.80\n";
    let knot = |a: [u8; 4], zone, text: String, sign| Knot {
        addr: Ipv4Addr::from(a),
        zone,
        text,
        sign,
    };
    vec![
        knot([127, 54, 0, 1], ".", root, true),
        knot([127, 54, 1, 2], "2.", tld, true),
        knot([127, 55, 0, 2], "0.2.", child.to_owned(), false),
        knot([127, 56, 0, 2], "0.2.", child.to_owned(), false),
    ]
}

/// The resolver of the comparison with dig.
const RESOLVER: Ipv4Addr = Ipv4Addr::new(127, 54, 0, 9);

/// Unbound on [`RESOLVER`], recursing from the numeric lab's root (stub
/// zones for each zone: neither root hints nor referrals can name a port).
fn start_unbound(dir: &Path, port: u16) -> Child {
    let d = dir.display();
    let conf = format!(
        "server:\n  verbosity: 0\n  interface: {RESOLVER}@{port}\n  port: {port}\n\
         \x20 do-daemonize: no\n  use-syslog: no\n  logfile: \"\"\n  chroot: \"\"\n  username: \"\"\n\
         \x20 directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n\
         \x20 access-control: 127.0.0.0/8 allow\n  do-not-query-localhost: no\n\
         \x20 module-config: \"iterator\"\n  do-ip6: no\n\
         remote-control:\n  control-enable: no\n\
         stub-zone:\n  name: \".\"\n  stub-addr: 127.54.0.1@{port}\n\
         stub-zone:\n  name: \"2.\"\n  stub-addr: 127.54.1.2@{port}\n\
         stub-zone:\n  name: \"0.2.\"\n  stub-addr: 127.55.0.2@{port}\n  stub-addr: 127.56.0.2@{port}\n"
    );
    std::fs::write(dir.join("unbound.conf"), conf).unwrap();
    crate::start_unbound(&dir.join("unbound.conf"))
}

/// What may differ between dig's and qtap's text of one trace: the
/// banner, times, dates, message IDs, TTLs (the resolver's count down),
/// and which of the two servers of `0.2.` was asked (dig picks at random).
fn comparable(text: &str) -> String {
    let ttl = regex::Regex::new(r"(?m)^(\S+\s+)\d+(\s+IN\s)").unwrap();
    let ms = regex::Regex::new(r" in \d+ ms").unwrap();
    let child = regex::Regex::new(r"127\.5[56]\.0\.2").unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if line.starts_with("; <<>> ") || line == "; (1 server found)" {
            continue;
        }
        let line = if line.starts_with(";; Query time:") {
            ";; Query time: X msec".to_owned()
        } else if line.starts_with(";; WHEN:") {
            ";; WHEN: X".to_owned()
        } else if let Some((head, _)) = line.split_once(", id: ") {
            format!("{head}, id: X")
        } else {
            line.to_owned()
        };
        let line = ttl.replace(&line, "${1}TTL${2}");
        let line = ms.replace_all(&line, " in X ms");
        out.push_str(&child.replace_all(&line, "CHILD"));
        out.push('\n');
    }
    out
}

/// The numeric lab behind its resolver, once the resolver answers: the
/// servers and their port; None (saying why) without knotd, unbound or dig.
fn start_resolver_lab(dir: &Path) -> Option<(Knots, u16)> {
    if !have("knotd") || !have("unbound") || !have("dig") {
        eprintln!("skipped: needs knotd, unbound and dig");
        return None;
    }
    let knots = numeric_zones();
    let mut addrs: Vec<Ipv4Addr> = knots.iter().map(|k| k.addr).collect();
    addrs.push(RESOLVER);
    let port = free_port_on(&addrs);
    let mut procs = start_knots(dir, port, &knots);
    procs.0.push(start_unbound(dir, port));
    let p = port.to_string();
    let server = format!("@{RESOLVER}");
    let start = Instant::now();
    loop {
        let out = qtap()
            .args([
                &server,
                "-p",
                &p,
                ".",
                "NS",
                "+short",
                "+timeout=1",
                "+tries=1",
            ])
            .output()
            .unwrap();
        if String::from_utf8_lossy(&out.stdout).contains("127.54.0.1.") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "unbound did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((procs, port))
}

#[test]
fn trace_matches_dig_through_a_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_procs, port)) = start_resolver_lab(dir.path()) else {
        return;
    };
    let p = port.to_string();
    let server = format!("@{RESOLVER}");
    for opts in [
        &[][..],
        &["+short"],
        &["+noidentify", "+short"],
        &["+additional"],
        &["+question"],
        &["+stats"],
        &["+comments"],
        &["+all"],
        &["+nodnssec"],
        &["+multiline"],
        &["+noall", "+answer"],
        &["+qr"],
        &["+nocomments"],
        &["+noidentify"],
    ] {
        let args: Vec<&str> = [
            server.as_str(),
            "-p",
            &p,
            "+timeout=2",
            "+tries=2",
            "+trace",
        ]
        .into_iter()
        .chain(opts.iter().copied())
        .chain(["www.0.2"])
        .collect();
        let dig = Command::new("dig").args(&args).output().unwrap();
        let tap = dir.path().join("cmp.tap");
        let qtap = qtap().args(&args).arg("--tap").arg(&tap).output().unwrap();
        assert!(
            dig.status.success() && qtap.status.success(),
            "{opts:?}: dig {:?}, qtap {}",
            dig.status,
            String::from_utf8_lossy(&qtap.stderr)
        );
        let (dig, live) = (
            String::from_utf8(dig.stdout).unwrap(),
            String::from_utf8(qtap.stdout).unwrap(),
        );
        assert!(dig.contains("192.0.2.80"), "{opts:?}: {dig}");
        assert_eq!(comparable(&live), comparable(&dig), "{opts:?}");
        assert_eq!(read_back(&tap, &args), live, "{opts:?}: --read");
        std::fs::remove_file(&tap).unwrap();
    }
}

/// dig's `+nssearch` lines, in a fixed order (dig prints them as the
/// answers come), times masked.
fn nssearch_lines(text: &str) -> Vec<String> {
    let ms = regex::Regex::new(r" in \d+ ms").unwrap();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with("; <<>> "))
        .map(|l| ms.replace_all(l, " in X ms").into_owned())
        .collect();
    lines.sort();
    lines
}

#[test]
fn nssearch_matches_dig_through_a_resolver() {
    let dir = tempfile::tempdir().unwrap();
    let Some((_procs, port)) = start_resolver_lab(dir.path()) else {
        return;
    };
    let p = port.to_string();
    let server = format!("@{RESOLVER}");
    for opts in [&[][..], &["+nocmd"], &["+multiline"]] {
        let args: Vec<&str> = [server.as_str(), "-p", &p, "+timeout=2", "+tries=2"]
            .into_iter()
            .chain(opts.iter().copied())
            .chain(["+nssearch", "0.2"])
            .collect();
        let dig = Command::new("dig").args(&args).output().unwrap();
        let tap = dir.path().join("ns.tap");
        let qtap = qtap().args(&args).arg("--tap").arg(&tap).output().unwrap();
        assert!(
            dig.status.success() && qtap.status.success(),
            "{opts:?}: dig {:?} {} {}, qtap {}",
            dig.status,
            String::from_utf8_lossy(&dig.stdout),
            String::from_utf8_lossy(&dig.stderr),
            String::from_utf8_lossy(&qtap.stderr)
        );
        let (dig, live) = (
            String::from_utf8(dig.stdout).unwrap(),
            String::from_utf8(qtap.stdout).unwrap(),
        );
        assert!(dig.contains("from server 127.56.0.2"), "{opts:?}: {dig}");
        assert_eq!(
            nssearch_lines(&live),
            nssearch_lines(&dig),
            "{opts:?}: {dig:?}"
        );
        assert_eq!(read_back(&tap, &args), live, "{opts:?}: --read");
        // Like dig, the servers come from the resolver: the SOA queries
        // are the only ones sent to the zone's servers.
        let asked: Vec<String> = asked_addresses(&tap)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(
            asked
                .iter()
                .all(|a| a == "127.54.0.9" || a.starts_with("127.5")),
            "{asked:?}"
        );
        assert!(
            !asked.contains(&"127.54.0.1".to_owned()),
            "the root is never asked: {asked:?}"
        );
        std::fs::remove_file(&tap).unwrap();
    }
}
