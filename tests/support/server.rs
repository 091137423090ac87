//! A real authoritative DNS server inside the test process: hickory-server
//! serving `qtap.test.` (from tests/fixtures/zones/qtap.test.zone) and the
//! reverse zone `2.0.192.in-addr.arpa.` over UDP and TCP on loopback.
//!
//! It owns only the server's life cycle (bind, serve, stop on drop). It must
//! not know anything about qtap: tests talk to it through qtap's command
//! line, or through `dig` in the self-test below.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hickory_server::proto::rr::rdata::{A, NULL};
use hickory_server::proto::rr::{LowerName, Name, RData, Record, RecordType};
use hickory_server::proto::serialize::txt::Parser;
use hickory_server::store::in_memory::InMemoryZoneHandler;
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneHandler, ZoneType};
use hickory_server::Server;

/// The forward zone every test queries.
pub const ZONE: &str = "qtap.test.";

/// The reverse zone answering `-x 192.0.2.N` for a few N.
pub const REVERSE_ZONE: &str = "2.0.192.in-addr.arpa.";

/// The reverse zone's text (small enough to keep inline, unlike qtap.test).
const REVERSE_ZONE_TEXT: &str = "\
$TTL 86400
@ SOA ns1.qtap.test. hostmaster.qtap.test. 2024060101 7200 3600 1209600 300
@ NS ns1.qtap.test.
1 PTR www.qtap.test.
53 PTR ns1.qtap.test.
";

/// How long the server keeps an idle TCP connection open.
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Path of the zone file served for [`ZONE`].
pub fn zone_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/zones/qtap.test.zone")
}

/// A running hickory-server; dropping it shuts the server down and joins its
/// thread.
///
/// UDP and TCP listen on the *same* port (qtap's `-p` applies to both, and a
/// TC=1 retry goes to the same port over TCP).
pub struct TestServer {
    /// UDP listening address on 127.0.0.1.
    pub udp: SocketAddr,
    /// TCP listening address on 127.0.0.1 (same port as `udp`).
    pub tcp: SocketAddr,
    /// UDP listening address on [::1], when the host has IPv6 loopback.
    pub udp6: Option<SocketAddr>,
    /// TCP listening address on [::1] (same port as `udp6`).
    pub tcp6: Option<SocketAddr>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// Starts the server on 127.0.0.1 (and [::1] when possible) and returns
    /// once it is ready to answer. Panics if the zones fail to load or no
    /// port can be bound: that is a broken test setup, not a test result.
    pub fn start() -> TestServer {
        let (udp, tcp) = bind_pair("127.0.0.1:0").expect("bind 127.0.0.1 UDP+TCP on one port");
        let v6 = bind_pair("[::1]:0").ok();
        let udp_addr = udp.local_addr().expect("udp local addr");
        let tcp_addr = tcp.local_addr().expect("tcp local addr");
        let (udp6_addr, tcp6_addr) = match &v6 {
            Some((u, t)) => (u.local_addr().ok(), t.local_addr().ok()),
            None => (None, None),
        };
        let catalog = build_catalog().unwrap_or_else(|e| panic!("test zones: {e}"));

        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<(), String>>();
        let thread = std::thread::Builder::new()
            .name("hickory-test-server".into())
            .spawn(move || serve(catalog, udp, tcp, v6, ready_tx, stop_rx))
            .expect("spawn server thread");
        match ready_rx.recv_timeout(Duration::from_secs(20)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("test server failed to start: {e}"),
            Err(e) => panic!("test server did not start: {e}"),
        }
        TestServer {
            udp: udp_addr,
            tcp: tcp_addr,
            udp6: udp6_addr,
            tcp6: tcp6_addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// The port shared by UDP and TCP on 127.0.0.1, as a string for `-p`.
    pub fn port(&self) -> String {
        self.udp.port().to_string()
    }

    /// The port shared by UDP and TCP on [::1], if IPv6 loopback works.
    pub fn port6(&self) -> Option<String> {
        self.udp6.map(|a| a.port().to_string())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Binds a UDP socket on `addr` (port 0) and a TCP listener on the same
/// port, retrying with a fresh port when TCP's is already taken.
fn bind_pair(addr: &str) -> std::io::Result<(UdpSocket, TcpListener)> {
    let mut last = None;
    for _ in 0..50 {
        let udp = UdpSocket::bind(addr)?;
        match TcpListener::bind(udp.local_addr()?) {
            Ok(tcp) => {
                udp.set_nonblocking(true)?;
                tcp.set_nonblocking(true)?;
                return Ok((udp, tcp));
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port")))
}

/// Parses zone text into an authoritative in-memory zone handler.
fn load_zone(
    text: &str,
    origin: &str,
    path: Option<PathBuf>,
) -> Result<InMemoryZoneHandler, String> {
    let origin = Name::from_ascii(origin).map_err(|e| format!("{origin}: {e}"))?;
    let (origin, records) = Parser::new(text, path, Some(origin.clone()))
        .parse()
        .map_err(|e| format!("{origin}: {e}"))?;
    InMemoryZoneHandler::new(origin, records, ZoneType::Primary, AxfrPolicy::AllowAll)
}

/// Records of [`ZONE`] that hickory's zone-file parser rejects, added in
/// code: an owner label with a control byte (`odd\007byte`) and an RFC 3597
/// unknown type (`TYPE65400 \# 4 DEADBEEF`).
fn add_unparseable_records(zone: &mut InMemoryZoneHandler) -> Result<(), String> {
    let apex = Name::from_ascii(ZONE).map_err(|e| e.to_string())?;
    let label = |bytes: &[u8]| -> Result<Name, String> {
        Name::from_labels([bytes])
            .and_then(|n| n.append_domain(&apex))
            .map_err(|e| e.to_string())
    };
    let records = [
        Record::from_rdata(
            label(b"odd\x07byte")?,
            86400,
            RData::A(A(Ipv4Addr::new(192, 0, 2, 7))),
        ),
        Record::from_rdata(
            label(b"unknown")?,
            86400,
            RData::Unknown {
                code: RecordType::Unknown(65400),
                rdata: NULL::with(vec![0xDE, 0xAD, 0xBE, 0xEF]),
            },
        ),
    ];
    for record in records {
        let what = format!("{} {}", record.name, record.record_type());
        if !zone.upsert_mut(record, 2024060101) {
            return Err(format!("cannot add {what}"));
        }
    }
    Ok(())
}

/// The catalog of both test zones.
fn build_catalog() -> Result<Catalog, String> {
    let path = zone_file();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut forward = load_zone(&text, ZONE, Some(path))?;
    add_unparseable_records(&mut forward)?;
    let mut catalog = Catalog::new();
    for handler in [forward, load_zone(REVERSE_ZONE_TEXT, REVERSE_ZONE, None)?] {
        let origin: LowerName = handler.origin().clone();
        let handler: Arc<dyn ZoneHandler> = Arc::new(handler);
        catalog.upsert(origin, vec![handler]);
    }
    Ok(catalog)
}

/// The server thread: its own runtime, serving until `stop` fires or the
/// handle is dropped.
fn serve(
    catalog: Catalog,
    udp: UdpSocket,
    tcp: TcpListener,
    v6: Option<(UdpSocket, TcpListener)>,
    ready: mpsc::Sender<Result<(), String>>,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(format!("tokio runtime: {e}")));
            return;
        }
    };
    runtime.block_on(async move {
        let mut server = Server::new(catalog);
        let mut pairs = vec![(udp, tcp)];
        pairs.extend(v6);
        for (udp, tcp) in pairs {
            let sockets = tokio::net::UdpSocket::from_std(udp)
                .and_then(|u| Ok((u, tokio::net::TcpListener::from_std(tcp)?)));
            match sockets {
                Ok((udp, tcp)) => {
                    server.register_socket(udp);
                    server.register_listener(tcp, TCP_IDLE, 16);
                }
                Err(e) => {
                    let _ = ready.send(Err(format!("register sockets: {e}")));
                    return;
                }
            }
        }
        let _ = ready.send(Ok(()));
        // Either an explicit stop or the handle going away ends the server.
        let _ = stop.await;
        let _ = server.shutdown_gracefully().await;
    });
}

#[cfg(test)]
mod tests {
    //! Self-test of the fixture with the system's `dig`, so a failure in
    //! qtap's tests is not a broken server.

    use super::*;
    use std::process::Command;

    /// Runs dig against the test server; `None` (with a skip line) when dig
    /// is not installed.
    fn dig(server: &TestServer, args: &[&str]) -> Option<String> {
        let out = Command::new("dig")
            .args(["@127.0.0.1", "-p", &server.port(), "+time=2", "+tries=1"])
            .args(args)
            .output();
        match out {
            Ok(out) => Some(String::from_utf8_lossy(&out.stdout).into_owned()),
            Err(_) => {
                eprintln!("skipped: dig is not installed");
                None
            }
        }
    }

    #[test]
    fn test_server_answers_dig_over_udp_and_tcp() {
        let server = TestServer::start();
        assert_eq!(server.udp.port(), server.tcp.port());
        let Some(out) = dig(&server, &["www.qtap.test", "A"]) else {
            return;
        };
        assert!(out.contains("status: NOERROR"), "{out}");
        assert!(out.contains(" aa"), "{out}");
        assert!(
            out.contains("www.qtap.test.\t\t86400\tIN\tA\t192.0.2.1"),
            "{out}"
        );
        assert!(out.contains("(UDP)"), "{out}");

        let out = dig(&server, &["+tcp", "txt.qtap.test", "TXT"]).unwrap_or_default();
        assert!(
            out.contains(r#""say \"hi\"" "back\\slash" "caf\195\169" """#),
            "{out}"
        );
        assert!(out.contains("(TCP)"), "{out}");

        let out = dig(&server, &["-x", "192.0.2.1"]).unwrap_or_default();
        assert!(
            out.contains("1.2.0.192.in-addr.arpa.\t86400\tIN\tPTR\twww.qtap.test."),
            "{out}"
        );

        let out = dig(&server, &["unknown.qtap.test", "TYPE65400"]).unwrap_or_default();
        assert!(out.contains(r"\# 4 DEADBEEF"), "{out}");

        let out = dig(&server, &["odd\\007byte.qtap.test", "A"]).unwrap_or_default();
        assert!(
            out.contains("odd\\007byte.qtap.test.\t86400\tIN\tA\t192.0.2.7"),
            "{out}"
        );

        let out = dig(&server, &["nope.qtap.test", "A"]).unwrap_or_default();
        assert!(out.contains("status: NXDOMAIN"), "{out}");
    }

    #[test]
    fn big_rrset_truncates_over_udp_and_fits_over_tcp() {
        let server = TestServer::start();
        let Some(out) = dig(
            &server,
            &["+bufsize=1232", "+ignore", "big.qtap.test", "TXT"],
        ) else {
            return;
        };
        assert!(out.contains("flags: qr aa tc"), "{out}");
        let out = dig(&server, &["+tcp", "big.qtap.test", "TXT"]).unwrap_or_default();
        assert!(out.contains("ANSWER: 8,"), "{out}");
        let size: usize = out
            .lines()
            .find_map(|l| l.strip_prefix(";; MSG SIZE  rcvd: "))
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        assert!((1233..65536).contains(&size), "size {size}\n{out}");
    }

    #[test]
    fn ipv6_loopback_is_served_when_available() {
        let server = TestServer::start();
        let Some(port) = server.port6() else {
            eprintln!("skipped: no IPv6 loopback");
            return;
        };
        let out = match Command::new("dig")
            .args([
                "@::1",
                "-p",
                &port,
                "+time=2",
                "+tries=1",
                "www.qtap.test",
                "AAAA",
            ])
            .output()
        {
            Ok(out) => String::from_utf8_lossy(&out.stdout).into_owned(),
            Err(_) => return,
        };
        assert!(out.contains("2001:db8::1"), "{out}");
    }
}
