//! DNS over QUIC (RFC 9250): each query on its own bidirectional stream,
//! with a 2-byte length prefix, the message ID set to 0 (§4.2.1), and the
//! stream's send side finished after the query.

use std::net::SocketAddr;
use std::sync::Arc;

use quinn::crypto::rustls::QuicClientConfig;

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
    })
}

fn connection_error(e: &quinn::ConnectionError) -> String {
    match e {
        quinn::ConnectionError::TransportError(t) => {
            format!("QUIC handshake failed: {t}")
        }
        quinn::ConnectionError::TimedOut => "QUIC connection timed out".into(),
        other => format!("QUIC connection failed: {other}"),
    }
}

impl QuicConn {
    /// Sends one query on a new stream and reads the response.
    pub async fn exchange(&self, query: &[u8]) -> Result<Vec<u8>, String> {
        let (mut send, mut recv) = self
            .conn
            .open_bi()
            .await
            .map_err(|e| connection_error(&e))?;
        let len = u16::try_from(query.len()).map_err(|_| "query too long")?;
        let mut framed = Vec::with_capacity(query.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(query);
        send.write_all(&framed)
            .await
            .map_err(|e| format!("QUIC send failed: {e}"))?;
        send.finish()
            .map_err(|e| format!("QUIC send failed: {e}"))?;
        let data = recv
            .read_to_end(65_537)
            .await
            .map_err(|e| format!("QUIC receive failed: {e}"))?;
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
                lines.push(format!(";; TLS ALPN: {}", String::from_utf8_lossy(&p)));
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
