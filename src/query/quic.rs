//! DNS over QUIC (RFC 9250): each query on its own bidirectional stream,
//! with a 2-byte length prefix, the message ID set to 0 (§4.2.1), and the
//! stream's send side finished after the query. Every failure is worded
//! here ([`QueryError::Quic`]), close reasons from the server escaped.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use quinn::crypto::rustls::QuicClientConfig;
use tokio::time::Instant;

use super::error::{Mismatch, QueryError};
use super::DnsTransport;
use crate::tap::event::Protocol;

/// ALPN of RFC 9250 §4.1.1.
pub const ALPN_DOQ: &[u8] = b"doq";

/// An open DoQ connection.
#[derive(Debug)]
pub struct QuicConn {
    endpoint: quinn::Endpoint,
    /// The connection.
    pub conn: quinn::Connection,
    /// The local address (the real source address, not the wildcard).
    pub local: SocketAddr,
    /// The query [`DnsTransport::send`] was given, for the next stream.
    query: Bytes,
}

/// The local address the kernel would use to reach `peer`.
fn route_source(peer: SocketAddr) -> std::io::Result<SocketAddr> {
    let bind: SocketAddr = match peer {
        SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let probe = std::net::UdpSocket::bind(bind)?;
    probe.connect(peer)?;
    Ok(SocketAddr::new(probe.local_addr()?.ip(), 0))
}

/// Connects and completes the QUIC handshake.
pub async fn connect(
    peer: SocketAddr,
    tls: rustls::ClientConfig,
    server_name: &str,
) -> Result<QuicConn, QueryError> {
    handshake(peer, tls, server_name)
        .await
        .map_err(QueryError::Quic)
}

async fn handshake(
    peer: SocketAddr,
    tls: rustls::ClientConfig,
    server_name: &str,
) -> Result<QuicConn, String> {
    let bind = route_source(peer).map_err(|e| format!("cannot reach {peer}: {e}"))?;
    let mut endpoint =
        quinn::Endpoint::client(bind).map_err(|e| format!("cannot open a QUIC socket: {e}"))?;
    let crypto =
        QuicClientConfig::try_from(tls).map_err(|e| format!("QUIC TLS set-up failed: {e}"))?;
    endpoint.set_default_client_config(quinn::ClientConfig::new(Arc::new(crypto)));
    let local = endpoint
        .local_addr()
        .map(|a| SocketAddr::new(bind.ip(), a.port()))
        .map_err(|e| format!("cannot open a QUIC socket: {e}"))?;
    let connecting = endpoint
        .connect(peer, server_name)
        .map_err(|e| format!("QUIC connection failed: {e}"))?;
    let conn = connecting.await.map_err(|e| connection_error(&e))?;
    Ok(QuicConn {
        endpoint,
        conn,
        local,
        query: Bytes::new(),
    })
}

/// The name of a DoQ application error code (RFC 9250 §4.3).
fn doq_error_name(code: u64) -> &'static str {
    match code {
        0x0 => "DOQ_NO_ERROR",
        0x1 => "DOQ_INTERNAL_ERROR",
        0x2 => "DOQ_PROTOCOL_ERROR",
        0x3 => "DOQ_REQUEST_CANCELLED",
        0x4 => "DOQ_EXCESSIVE_LOAD",
        0x5 => "DOQ_UNSPECIFIED_ERROR",
        _ => "unknown DoQ error",
    }
}

/// The server's close reason, escaped (it is free text from the peer).
fn reason_text(reason: &[u8]) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(": {}", crate::render::escaped(reason))
    }
}

/// A one-line text for a connection error. Every text the server chose
/// (CONNECTION_CLOSE reasons) is escaped.
pub fn connection_error(e: &quinn::ConnectionError) -> String {
    use quinn::ConnectionError as E;
    match e {
        E::TransportError(t) => {
            format!(
                "QUIC handshake failed: {}",
                crate::render::escaped(t.to_string().as_bytes())
            )
        }
        E::ConnectionClosed(c) => format!(
            "the server closed the QUIC connection ({}){}",
            crate::render::escaped(c.error_code.to_string().as_bytes()),
            reason_text(&c.reason)
        ),
        E::ApplicationClosed(c) => {
            let code = c.error_code.into_inner();
            format!(
                "the server closed the QUIC connection ({} {code:#x}){}",
                doq_error_name(code),
                reason_text(&c.reason)
            )
        }
        E::TimedOut => "QUIC connection timed out".into(),
        E::Reset => "the server reset the QUIC connection".into(),
        E::VersionMismatch => "the server supports no QUIC version qtap offers".into(),
        E::LocallyClosed => "QUIC connection closed".into(),
        E::CidsExhausted => "QUIC connection failed: connection IDs exhausted".into(),
    }
}

fn read_error(e: &quinn::ReadToEndError) -> String {
    use quinn::{ReadError, ReadToEndError};
    match e {
        ReadToEndError::TooLong => "QUIC response longer than a DNS message".into(),
        ReadToEndError::Read(ReadError::ConnectionLost(c)) => connection_error(c),
        ReadToEndError::Read(ReadError::Reset(code)) => {
            let code = code.into_inner();
            format!(
                "the server reset the QUIC stream ({} {code:#x})",
                doq_error_name(code)
            )
        }
        ReadToEndError::Read(other) => format!("QUIC receive failed: {other}"),
    }
}

fn write_error(e: &quinn::WriteError) -> String {
    use quinn::WriteError;
    match e {
        WriteError::ConnectionLost(c) => connection_error(c),
        WriteError::Stopped(code) => {
            let code = code.into_inner();
            format!(
                "the server stopped the QUIC stream ({} {code:#x})",
                doq_error_name(code)
            )
        }
        other => format!("QUIC send failed: {other}"),
    }
}

impl QuicConn {
    /// Sends one query on a new stream and reads the response.
    async fn exchange(&self, query: &[u8]) -> Result<Vec<u8>, QueryError> {
        self.stream_exchange(query).await.map_err(QueryError::Quic)
    }

    async fn stream_exchange(&self, query: &[u8]) -> Result<Vec<u8>, String> {
        let (mut send, mut recv) = self
            .conn
            .open_bi()
            .await
            .map_err(|e| connection_error(&e))?;
        let len = u16::try_from(query.len()).map_err(|_| "query too long")?;
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(query);
        send.write_all(&framed).await.map_err(|e| write_error(&e))?;
        send.finish()
            .map_err(|e| format!("QUIC send failed: {e}"))?;
        let data = recv.read_to_end(65_537).await.map_err(|e| read_error(&e))?;
        let (prefix, msg) = data
            .split_at_checked(2)
            .ok_or("QUIC stream ended before a response")?;
        let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
        if msg.len() != len {
            return Err(format!(
                "QUIC response length mismatch: prefix says {len}, stream has {}",
                msg.len()
            ));
        }
        Ok(msg.to_vec())
    }

    /// The handshake's TLS facts, for +tlsinfo.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(data) = self
            .conn
            .handshake_data()
            .and_then(|d| d.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        {
            if let Some(p) = data.protocol {
                lines.push(format!(";; TLS ALPN: {}", crate::render::escaped(&p)));
            }
        }
        if let Some(certs) = self.conn.peer_identity().and_then(|i| {
            i.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>()
                .ok()
        }) {
            if let Some(pin) = certs.first().and_then(super::tls::spki_pin) {
                lines.push(format!(";; TLS server key pin (SPKI SHA-256): {pin}"));
            }
        }
        lines
    }

    /// Closes the connection politely, waiting briefly for the peer.
    pub async fn close(self) {
        self.conn.close(0u32.into(), b"");
        let _ = tokio::time::timeout(
            std::time::Duration::from_millis(200),
            self.endpoint.wait_idle(),
        )
        .await;
    }
}

impl DnsTransport for QuicConn {
    fn protocol(&self) -> Protocol {
        Protocol::Doq
    }

    fn local(&self) -> SocketAddr {
        self.local
    }

    async fn send(&mut self, query: &Bytes, _: Instant) -> Result<(), QueryError> {
        self.query = query.clone();
        Ok(())
    }

    async fn recv(
        &mut self,
        deadline: Instant,
        check: &mut dyn FnMut(&[u8]) -> Result<(), Mismatch>,
        _: &mut dyn FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError> {
        super::one_reply(self.exchange(&self.query), deadline, check).await
    }
}
