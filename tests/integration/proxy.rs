//! `+proxy` and `+proxy-plain` (PROXY protocol v2, as in BIND 9.20's dig):
//! against a real Unbound with `proxy-protocol-port`, whose
//! `access-control` answers only if the proxied source address reached it;
//! against raw loopback sockets that read what qtap put on the wire; and
//! the usage errors. Unbound tests skip, saying so, where it is missing.

use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use qtap::query::proxy::{self, Carrier};

use crate::{have, qtap, qtap_at, read_trace, Run};

struct Unbound {
    child: Child,
    /// UDP and TCP, PROXY required.
    port: u16,
    /// DoT, PROXY required.
    tls_port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn certs() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs")
}

/// Unbound on two PROXY ports: loopback (the real source, and what a
/// LOCAL header leaves in place) may ask, 198.51.100.0/24 may ask, and
/// 192.0.2.0/24 is refused. Waits until it answers.
fn unbound() -> Unbound {
    unbound_with("", "")
}

/// [`unbound`] with `server` lines added to its server clause and
/// `clauses` (views) after it.
fn unbound_with(server: &str, clauses: &str) -> Unbound {
    let dir = tempfile::tempdir().unwrap();
    let (port, tls_port) = (crate::free_udp_tcp_port(), crate::free_udp_tcp_port());
    let d = dir.path().display();
    let c = certs();
    let c = c.display();
    let conf = format!(
        "server:\n  verbosity: 0\n  interface: 127.0.0.1@{port}\n  interface: 127.0.0.1@{tls_port}\n\
         \x20 port: {port}\n  tls-port: {tls_port}\n\
         \x20 tls-service-key: \"{c}/server.key\"\n  tls-service-pem: \"{c}/server.pem\"\n\
         \x20 proxy-protocol-port: {port}\n  proxy-protocol-port: {tls_port}\n\
         \x20 do-daemonize: no\n  use-syslog: no\n  logfile: \"\"\n  chroot: \"\"\n  username: \"\"\n\
         \x20 directory: \"{d}\"\n  pidfile: \"{d}/unbound.pid\"\n\
         \x20 access-control: 127.0.0.0/8 allow\n  access-control: 198.51.100.0/24 allow\n\
         \x20 access-control: 192.0.2.0/24 refuse\n\
         \x20 local-zone: \"lab.test.\" static\n  local-data: \"www.lab.test. 300 IN A 192.0.2.10\"\n\
         {server}{clauses}remote-control:\n  control-enable: no\n"
    );
    std::fs::write(dir.path().join("unbound.conf"), conf).unwrap();
    let child = crate::start_unbound(&dir.path().join("unbound.conf"));
    let server = Unbound {
        child,
        port,
        tls_port,
        _dir: dir,
    };
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        let run = Run::of(qtap_at(&port.to_string()).args([
            "+proxy",
            "+tries=1",
            "+timeout=1",
            "www.lab.test",
        ]));
        if run.stdout.contains("192.0.2.10") {
            return server;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("unbound did not start");
}

fn ask(port: u16, args: &[&str]) -> Run {
    Run::of(
        qtap_at(&port.to_string())
            .args(["+tries=1", "+timeout=2", "--tls-ca"])
            .arg(certs().join("ca.pem"))
            .args(args)
            .arg("www.lab.test"),
    )
}

#[test]
fn unbound_sees_the_proxied_source_over_udp_tcp_and_tls() {
    if !have("unbound") {
        eprintln!("skipped: unbound is not installed");
        return;
    }
    let u = unbound();
    let dst = format!("127.0.0.1#{}", u.port);
    for (transport, port) in [("+notcp", u.port), ("+tcp", u.port), ("+tls", u.tls_port)] {
        // The real source, 127.0.0.1, may ask: a refusal can only come
        // from the address in the header.
        let refused = ask(port, &[transport, &format!("+proxy=192.0.2.1#5353-{dst}")]);
        let refused = refused.expect_code(0);
        assert!(
            refused.stdout.contains("status: REFUSED"),
            "{transport}: {}",
            refused.stdout
        );
        let allowed = ask(port, &[transport, &format!("+proxy=198.51.100.7-{dst}")]);
        let allowed = allowed.expect_code(0);
        assert!(
            allowed.stdout.contains("status: NOERROR") && allowed.stdout.contains("192.0.2.10"),
            "{transport}: {}",
            allowed.stdout
        );
        // LOCAL: the server keeps the connection's own address.
        let local = ask(port, &[transport, "+proxy"]).expect_code(0);
        assert!(local.stdout.contains("192.0.2.10"), "{}", local.stdout);
    }
    // One +keepopen connection carries one header: a lookup with another
    // opens its own connection, and its own address is the one judged.
    let run = Run::of(qtap_at(&u.port.to_string()).args([
        "+tcp",
        "+keepopen",
        "+tries=1",
        "www.lab.test",
        &format!("+proxy=198.51.100.7-{dst}"),
        "www.lab.test",
        &format!("+proxy=192.0.2.1-{dst}"),
    ]));
    let statuses: Vec<&str> = run
        .headers()
        .iter()
        .map(|h| {
            if h.contains("NOERROR") {
                "NOERROR"
            } else {
                "other"
            }
        })
        .collect();
    assert_eq!(statuses, ["NOERROR", "other"], "{}", run.stdout);
    assert!(run.stdout.contains("status: REFUSED"), "{}", run.stdout);
    // A PROXY port takes nothing without the header.
    for transport in ["+notcp", "+tcp"] {
        let bare = ask(u.port, &[transport]).expect_code(9);
        assert!(
            bare.stderr.contains("communications error"),
            "{}",
            bare.stderr
        );
    }
}

#[test]
fn the_trace_holds_the_dns_message_alone_and_the_real_addresses() {
    if !have("unbound") {
        eprintln!("skipped: unbound is not installed");
        return;
    }
    let u = unbound();
    let dir = tempfile::tempdir().unwrap();
    for transport in ["+notcp", "+tcp"] {
        let trace = dir.path().join(format!("{}.dnstap", &transport[1..]));
        let run = Run::of(
            qtap_at(&u.port.to_string())
                .args([transport, "+proxy=198.51.100.7#4242-192.0.2.53", "--tap"])
                .arg(&trace)
                .arg("www.lab.test"),
        );
        run.expect_code(0);
        let records = read_trace(&trace);
        assert_eq!(records.len(), 2, "{transport}");
        for r in &records {
            let m = r.message.as_ref().unwrap();
            // What was sent from where: the socket's own address and port.
            assert_eq!(m.query_address.as_deref(), Some(&[127, 0, 0, 1][..]));
            assert_ne!(m.query_port, Some(4242));
            assert_eq!(m.response_port, Some(u32::from(u.port)));
            let q = m.query_message.as_deref().unwrap();
            assert!(!q.starts_with(&proxy::SIGNATURE), "{transport}");
            assert!(
                q.len() > 12 && q.len() < 200,
                "{transport}: {} bytes",
                q.len()
            );
        }
    }
}

/// Accepts one TCP connection and returns its first `n` bytes (fewer if the
/// client closes), then closes it: the server that hangs up on the header.
fn read_then_close(listener: TcpListener, n: usize) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut got = vec![0u8; n];
        let mut have = 0;
        while have < n {
            match stream.read(&mut got[have..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => have += k,
            }
        }
        got.truncate(have);
        got
    })
}

#[test]
fn proxy_plain_goes_before_the_tls_handshake_with_dig_default_ports() {
    for transport in ["+tls", "+https"] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port().to_string();
        let server = read_then_close(listener, 16 + 12 + 1);
        let run = Run::of(qtap_at(&port).args([
            transport,
            "+tries=1",
            "+timeout=5",
            "+proxy-plain=192.0.2.1-127.0.0.1",
            "x.test",
        ]));
        let got = server.join().unwrap();
        let parsed = proxy::parse(&got).unwrap().unwrap();
        let addrs = parsed.addrs.unwrap();
        assert_eq!(addrs.source(), "192.0.2.1:0".parse().unwrap());
        assert_eq!(addrs.destination(), "127.0.0.1:53".parse().unwrap());
        assert_eq!(parsed.carrier, Some(Carrier::Stream));
        // Then the ClientHello: a TLS handshake record.
        assert_eq!(got.get(parsed.len), Some(&0x16), "{transport}: {got:02x?}");
        let run = run.expect_code(9);
        assert!(
            run.stderr.contains("communications error"),
            "{}",
            run.stderr
        );
    }
}

#[test]
fn a_server_that_closes_after_the_header_is_a_clear_error() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = read_then_close(listener, 16 + 36);
    let run = Run::of(qtap_at(&port).args([
        "+tcp",
        "+tries=1",
        "+timeout=20",
        "+proxy=[2001:db8::1]#1-[2001:db8::53]#53",
        "x.test",
    ]));
    let got = server.join().unwrap();
    let parsed = proxy::parse(&got).unwrap().unwrap();
    assert_eq!(
        parsed.addrs.unwrap().source(),
        "[2001:db8::1]:1".parse().unwrap()
    );
    let run = run.expect_code(9);
    assert_eq!(run.stderr.lines().count(), 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("communications error to 127.0.0.1#{port}")),
        "{}",
        run.stderr
    );
    // Closed, not timed out: the 20 s timeout was never the end.
    assert!(!run.stderr.contains("timed out"), "{}", run.stderr);
}

#[test]
fn every_udp_datagram_opens_with_a_dgram_header() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let port = sock.local_addr().unwrap().port().to_string();
    let run = std::thread::spawn(move || {
        Run::of(qtap_at(&port).args(["+tries=2", "+timeout=1", "+proxy", "x.test"]))
    });
    for _ in 0..2 {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        let parsed = proxy::parse(&buf[..n]).unwrap().unwrap();
        assert_eq!((parsed.addrs, parsed.len), (None, 16));
        // A DNS query follows: QR=0, one question.
        let q = &buf[16..n];
        assert!(q.len() > 12 && q[2] & 0x80 == 0 && q[5] == 1, "{q:02x?}");
    }
    run.join().unwrap().expect_code(9);
}

#[test]
fn bad_proxy_values_are_one_line_usage_errors() {
    for (args, says) in [
        (&["+proxy=192.0.2.1-::1"][..], "different address families"),
        (
            &["+proxy=192.0.2.1#65536-127.0.0.1"],
            "is not SRC[#PORT]-DST[#PORT]",
        ),
        (&["+proxy-plain=192.0.2.1"], "is not SRC[#PORT]-DST[#PORT]"),
        (
            &["+proxy=host.test-127.0.0.1"],
            "is not SRC[#PORT]-DST[#PORT]",
        ),
        (
            &["+proxy=192.0.2.1#x-127.0.0.1"],
            "is not SRC[#PORT]-DST[#PORT]",
        ),
        (&["+quic", "+proxy"], "not supported over DoQ"),
    ] {
        let run = Run::of(qtap().args(["@127.0.0.1"]).args(args).arg("x.test")).expect_code(1);
        assert_eq!(run.stderr.lines().count(), 1, "{args:?}: {}", run.stderr);
        assert!(run.stderr.starts_with("qtap: "), "{}", run.stderr);
        assert!(run.stderr.contains(says), "{args:?}: {}", run.stderr);
    }
}

/// `--replay +proxy`: each replayed query's header carries the client
/// address recorded with it. Unbound answers `who.lab.test` with a
/// different address for each client (views), so a replay comes out the
/// same as recorded only if every original client reached it: a header
/// with qtap's own address (127.0.0.1) would get 10.0.0.1 for all.
#[test]
fn replay_sends_each_recorded_client_address_in_the_header() {
    use qtap::tap::event::Event;
    use qtap::tap::writer::TapWriter;
    if !have("unbound") {
        eprintln!("skipped: unbound is not installed");
        return;
    }
    let view = |name: &str, ip: &str| {
        format!(
            "view:\n  name: \"{name}\"\n  local-zone: \"lab.test.\" static\n\
             \x20 local-data: \"who.lab.test. 300 IN A {ip}\"\n"
        )
    };
    let u = unbound_with(
        "  local-data: \"who.lab.test. 300 IN A 10.0.0.1\"\n\
         \x20 access-control: 2001:db8::/32 allow\n\
         \x20 access-control-view: 127.0.0.2/32 two\n\
         \x20 access-control-view: 127.0.0.3/32 three\n\
         \x20 access-control-view: 2001:db8::6/128 six\n",
        &[
            view("two", "10.0.0.2"),
            view("three", "10.0.0.3"),
            view("six", "10.0.0.6"),
        ]
        .concat(),
    );
    let dir = tempfile::tempdir().unwrap();
    // Each client's exchange, recorded through an explicit +proxy, then
    // given that client's address in the trace (as a server-side capture
    // would have it). None: a frame without an address (LOCAL, so the
    // real 127.0.0.1 is judged).
    let clients: [(Option<&str>, &str, &str); 5] = [
        (
            Some("127.0.0.2:4002"),
            "127.0.0.2#4002-127.0.0.1#53",
            "10.0.0.2",
        ),
        (
            Some("127.0.0.3:4003"),
            "127.0.0.3#4003-127.0.0.1#53",
            "10.0.0.3",
        ),
        (
            Some("[2001:db8::6]:4006"),
            "[2001:db8::6]#4006-[::ffff:127.0.0.1]#53",
            "10.0.0.6",
        ),
        (
            Some("192.0.2.9:4009"),
            "192.0.2.9#4009-127.0.0.1#53",
            "REFUSED",
        ),
        (None, "", "10.0.0.1"),
    ];
    let capture = dir.path().join("clients.fstrm");
    let mut writer = TapWriter::new(std::fs::File::create(&capture).unwrap()).unwrap();
    for (i, (client, header, want)) in clients.iter().enumerate() {
        let trace = dir.path().join(format!("c{i}.fstrm"));
        let proxy = match client {
            Some(_) => format!("+proxy={header}"),
            None => "+proxy".to_owned(),
        };
        let run = Run::of(
            qtap_at(&u.port.to_string())
                .args([&proxy, "+tries=1", "+timeout=2", "who.lab.test", "--tap"])
                .arg(&trace),
        )
        .expect_code(0);
        assert!(run.stdout.contains(want), "{header}: {}", run.stdout);
        for record in read_trace(&trace) {
            let mut e = Event::from_pb(record).unwrap();
            let addr: Option<std::net::SocketAddr> = client.map(|c| c.parse().unwrap());
            e.query_addr = addr.map(|a| a.ip());
            e.query_port = addr.map(|a| a.port());
            e.family = addr.map(|a| if a.is_ipv4() { 1 } else { 2 });
            writer.write(&e.to_pb()).unwrap();
        }
    }
    writer.finish().unwrap();
    for extra in [&["+notcp"][..], &["+tcp"], &["+parallel=4"]] {
        let run = Run::of(
            qtap_at(&u.port.to_string())
                .args(["--replay"])
                .arg(&capture)
                .args(["+proxy", "+tries=1", "+timeout=2"])
                .args(extra),
        );
        assert_eq!(
            crate::replay_tally(&run.stdout, "same"),
            Some(5),
            "{extra:?}: {}{}",
            run.stdout,
            run.stderr
        );
        run.expect_code(0);
    }
    // Without the recorded addresses (a header with the LOCAL command)
    // every client is 127.0.0.1: the test can tell.
    let run = Run::of(
        qtap_at(&u.port.to_string())
            .args(["--replay"])
            .arg(&capture)
            .args(["+proxy=127.0.0.1-127.0.0.1", "+tries=1", "+timeout=2"]),
    );
    assert_eq!(
        crate::replay_tally(&run.stdout, "differs"),
        Some(4),
        "{}",
        run.stdout
    );
    run.expect_code(12);
}
