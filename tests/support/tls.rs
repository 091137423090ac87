//! Encrypted test servers started in the test process, with the test PKI
//! of tests/fixtures/certs: the rustls server configuration, a TLS-over-TCP
//! accept loop and a QUIC endpoint that hand each connection to the test's
//! own handler, an HTTP/1.1 request reader for DoH servers, and the qtap
//! launcher aimed at such a server. The behaviour (what a server answers)
//! stays with the tests.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::AsyncReadExt;

/// A file of the test PKI.
pub fn cert_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/certs")
        .join(name)
}

/// The certificates of `NAME.pem`.
pub fn chain(name: &str) -> Vec<CertificateDer<'static>> {
    CertificateDer::pem_file_iter(cert_path(&format!("{name}.pem")))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn key(name: &str) -> PrivateKeyDer<'static> {
    PrivateKeyDer::from_pem_file(cert_path(&format!("{name}.key"))).unwrap()
}

/// `+tls-ca=` the test CA.
pub fn ca_arg() -> String {
    format!("+tls-ca={}", cert_path("ca.pem").display())
}

/// How a DNS-over-TLS test server answers.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// An A record for every query.
    Answer,
    /// Read the query, send one byte of the length prefix, close.
    CloseMidStream,
    /// Read the query and never answer.
    Silent,
}

/// A test server's TLS settings (and, for DoT, how it answers).
#[derive(Clone)]
pub struct ServerOpts {
    /// The certificate and key, by name in tests/fixtures/certs.
    pub cert: &'static str,
    /// Require a client certificate signed by the test CA.
    pub client_auth: bool,
    /// The ALPN protocols offered.
    pub alpn: Vec<Vec<u8>>,
    /// How a DoT server answers.
    pub mode: Mode,
}

impl ServerOpts {
    /// The server certificate, no client authentication, one ALPN.
    pub fn new(alpn: &[u8]) -> ServerOpts {
        ServerOpts {
            cert: "server",
            client_auth: false,
            alpn: vec![alpn.to_vec()],
            mode: Mode::Answer,
        }
    }
}

/// The rustls server configuration for `o` (ring, safe defaults).
pub fn server_config(o: &ServerOpts) -> rustls::ServerConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if o.client_auth {
        let mut roots = rustls::RootCertStore::empty();
        for c in chain("ca") {
            roots.add(c).unwrap();
        }
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(chain(o.cert), key(o.cert))
        .unwrap();
    config.alpn_protocols = o.alpn.clone();
    config
}

/// A running test server; counts handshakes and DoH GET requests.
pub struct Server {
    /// Where it listens (127.0.0.1).
    pub addr: SocketAddr,
    /// Completed handshakes.
    pub handshakes: Arc<AtomicUsize>,
    /// DoH GET requests (h2 servers).
    pub gets: Arc<AtomicUsize>,
    /// The thread running the server's runtime.
    pub _rt: std::thread::JoinHandle<()>,
}

/// Runs `f`'s future on a current-thread runtime of its own thread.
pub fn spawn<F, Fut>(f: F) -> std::thread::JoinHandle<()>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(f());
    })
}

/// The server side of one TLS connection over TCP.
pub type TlsStream = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;

/// A TLS server on 127.0.0.1:0 with `o`'s settings: each connection whose
/// handshake succeeds is counted and handed to `serve`, each in a task of
/// its own.
pub fn tls_listener<F, Fut>(o: &ServerOpts, serve: F) -> Server
where
    F: Fn(TlsStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let handshakes = Arc::new(AtomicUsize::new(0));
    let h = handshakes.clone();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config(o)));
    let serve = Arc::new(serve);
    let rt = spawn(move || async move {
        let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, h, serve) = (acceptor.clone(), h.clone(), serve.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                h.fetch_add(1, Ordering::SeqCst);
                serve(tls).await;
            });
        }
    });
    Server {
        addr,
        handshakes,
        gets: Default::default(),
        _rt: rt,
    }
}

/// A QUIC server on 127.0.0.1:0 with `o`'s settings: each incoming
/// connection attempt is handed to `serve` in a task of its own (before
/// the handshake, so a test can also let it fail; `serve` counts
/// handshakes itself if it wants them).
pub fn quic_endpoint<F, Fut>(o: &ServerOpts, serve: F) -> Server
where
    F: Fn(quinn::Incoming) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(server_config(o)).unwrap();
    let config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = socket.local_addr().unwrap();
    let rt = spawn(move || async move {
        let endpoint = quinn::Endpoint::new(
            quinn::EndpointConfig::default(),
            Some(config),
            socket,
            Arc::new(quinn::TokioRuntime),
        )
        .unwrap();
        while let Some(incoming) = endpoint.accept().await {
            tokio::spawn(serve(incoming));
        }
    });
    Server {
        addr,
        handshakes: Default::default(),
        gets: Default::default(),
        _rt: rt,
    }
}

/// Reads one HTTP/1.1 request (head and Content-Length body) and returns
/// the DNS query it carries: the body of a POST, or a GET's `?dns=`
/// parameter, base64url-decoded. None when the peer goes away first.
pub async fn read_http1_request<S: tokio::io::AsyncRead + Unpin>(tls: &mut S) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let (head_end, length) = loop {
        let n = tls.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..i]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, len);
        }
    };
    while raw.len() < head_end + length {
        let n = tls.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let request_line = String::from_utf8_lossy(&raw[..head_end]);
    if let Some(b64) = request_line
        .strip_prefix("GET ")
        .and_then(|r| r.split_once("dns="))
        .and_then(|(_, r)| r.split([' ', '&']).next())
    {
        return base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, b64).ok();
    }
    raw.get(head_end..head_end + length).map(<[u8]>::to_vec)
}

/// Runs qtap against `server` with `args`: (exit code, stdout, stderr).
pub fn run(server: &Server, args: &[&str]) -> (i32, String, String) {
    let out = crate::qtap()
        .args(["@127.0.0.1", "-p", &server.addr.port().to_string()])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
