//! The connection transports (TCP, TLS, DoH on HTTP/1.1 or HTTP/2, DoQ) as
//! one [`Conn`], and how the connection a spec asks for is opened (with the
//! `+proxy` header where it goes). The enum dispatches statically to each
//! transport's file.

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::error::{Mismatch, QueryError};
use super::h1::H1Conn;
use super::h2::H2Conn;
use super::https::Request;
use super::proxy::{Carrier, Proxy};
use super::quic::{self, QuicConn};
use super::spec::{QuerySpec, Transport};
use super::stream::{tcp_connect, StreamConn};
use super::tls::{self, TlsStream};
use super::{hash, DnsTransport, Sink, Target};
use crate::tap::event::Protocol;

/// An open connection.
#[derive(Debug)]
pub enum Conn {
    /// DNS over TCP.
    Tcp(StreamConn<TcpStream>),
    /// DNS over TLS.
    Tls(StreamConn<TlsStream>),
    /// DoH over HTTP/1.1 (one exchange, not reusable).
    H1(H1Conn<TlsStream>),
    /// DoH over HTTP/2.
    H2(H2Conn),
    /// DoQ.
    Quic(QuicConn),
}

impl Conn {
    /// Whether the connection can carry another query.
    pub fn reusable(&self) -> bool {
        !matches!(self, Conn::H1(_))
    }

    /// Closes the connection (politely, for QUIC).
    pub async fn close(self) {
        if let Conn::Quic(q) = self {
            q.close().await;
        }
    }
}

/// Runs `$body` with `$t` bound to the transport inside a [`Conn`].
macro_rules! each {
    ($conn:expr, $t:ident => $body:expr) => {
        match $conn {
            Conn::Tcp($t) => $body,
            Conn::Tls($t) => $body,
            Conn::H1($t) => $body,
            Conn::H2($t) => $body,
            Conn::Quic($t) => $body,
        }
    };
}

impl DnsTransport for Conn {
    fn protocol(&self) -> Protocol {
        each!(self, t => t.protocol())
    }

    fn http_protocol(&self) -> Option<i32> {
        each!(self, t => t.http_protocol())
    }

    fn local(&self) -> SocketAddr {
        each!(self, t => t.local())
    }

    fn continues(&self) -> bool {
        each!(self, t => t.continues())
    }

    async fn send(&mut self, query: &Bytes, deadline: Instant) -> Result<(), QueryError> {
        each!(self, t => t.send(query, deadline).await)
    }

    async fn recv(
        &mut self,
        deadline: Instant,
        check: &mut dyn FnMut(&[u8]) -> Result<(), Mismatch>,
        skipped: &mut dyn FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError> {
        each!(self, t => t.recv(deadline, check, skipped).await)
    }
}

/// Opens a connection for the spec's transport; with +tlsinfo, says what
/// the handshake settled.
pub async fn connect(
    spec: &QuerySpec,
    target: &Target,
    sink: &mut dyn Sink,
) -> Result<Conn, QueryError> {
    let opts = &spec.opts.tls;
    let said = |sink: &mut dyn Sink, what: &str, lines: &dyn Fn() -> Vec<String>| {
        if opts.info {
            sink.diag(&format!(";; {what} handshake with {}", hash(target.addr)));
            for line in lines() {
                sink.diag(&line);
            }
        }
    };
    match &spec.opts.transport {
        Transport::Udp | Transport::Tcp => {
            let (mut stream, local) = tcp_connect(target.addr).await?;
            if let Some(proxy) = &spec.opts.proxy {
                send_header(&mut stream, proxy).await?;
            }
            Ok(Conn::Tcp(StreamConn::new(stream, local, Protocol::Tcp)))
        }
        Transport::Tls => {
            let (stream, local) = tls_connect(spec, target, &[b"dot"]).await?;
            said(sink, "TLS", &|| tls::describe(stream.get_ref().1));
            Ok(Conn::Tls(StreamConn::new(stream, local, Protocol::Dot)))
        }
        Transport::Https { path, get } => {
            let (stream, local) = tls_connect(spec, target, &[b"h2", b"http/1.1"]).await?;
            said(sink, "TLS", &|| tls::describe(stream.get_ref().1));
            let request = Request::new(target, path, *get);
            if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
                Ok(Conn::H2(H2Conn::handshake(stream, local, request).await?))
            } else {
                Ok(Conn::H1(H1Conn::new(stream, local, request)))
            }
        }
        Transport::Quic => {
            if spec.opts.proxy.is_some() {
                // No DoQ server defines where a PROXY header would go.
                return Err(QueryError::Quic(
                    "PROXY headers are not supported over DoQ".into(),
                ));
            }
            let (config, sni) = tls::setup(opts, target, &[quic::ALPN_DOQ])?;
            let name = match &sni {
                rustls::pki_types::ServerName::DnsName(n) => n.as_ref().to_owned(),
                rustls::pki_types::ServerName::IpAddress(ip) => {
                    std::net::IpAddr::from(*ip).to_string()
                }
                _ => target.addr.ip().to_string(),
            };
            let conn = quic::connect(target.addr, config, &name).await?;
            said(sink, "QUIC", &|| conn.describe());
            Ok(Conn::Quic(conn))
        }
    }
}

/// TCP, then TLS, with the `+proxy` header where dig 9.20 puts it: as the
/// first bytes inside the encrypted channel, or with `+proxy-plain` before
/// the handshake.
async fn tls_connect(
    spec: &QuerySpec,
    target: &Target,
    alpn: &[&[u8]],
) -> Result<(TlsStream, SocketAddr), QueryError> {
    let proxy = spec.opts.proxy.as_ref();
    let (config, sni) = tls::setup(&spec.opts.tls, target, alpn)?;
    let (mut tcp, local) = tcp_connect(target.addr).await?;
    if let Some(p) = proxy.filter(|p| p.plain) {
        send_header(&mut tcp, p).await?;
    }
    let mut stream = tls::handshake(config, sni, tcp).await?;
    if let Some(p) = proxy.filter(|p| !p.plain) {
        send_header(&mut stream, p).await?;
    }
    Ok((stream, local))
}

/// Sends the PROXY header that opens a connection.
async fn send_header<S: AsyncWrite + Unpin>(stream: &mut S, proxy: &Proxy) -> std::io::Result<()> {
    stream.write_all(&proxy.header(Carrier::Stream)).await?;
    stream.flush().await
}
