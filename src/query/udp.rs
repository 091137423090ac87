//! One UDP exchange on a connected socket (the kernel then drops datagrams
//! from other sources). Replies whose ID or question do not match the
//! query are skipped until the deadline (RFC 5452 §9.1).

use std::net::SocketAddr;

use tokio::net::UdpSocket;
use tokio::time::Instant;

/// The largest datagram we accept.
const MAX_DATAGRAM: usize = 65_535;

/// A connected UDP socket with a random source port.
#[derive(Debug)]
pub struct UdpConn {
    sock: UdpSocket,
    /// The local address the kernel chose.
    pub local: SocketAddr,
    /// The server.
    pub peer: SocketAddr,
}

/// Why no acceptable reply came.
#[derive(Debug)]
pub enum RecvError {
    /// The deadline passed.
    Timeout,
    /// The socket failed (e.g. ICMP port unreachable: connection refused).
    Io(std::io::Error),
}

impl UdpConn {
    /// Binds an ephemeral port of the server's family and connects it.
    pub async fn connect(peer: SocketAddr) -> std::io::Result<UdpConn> {
        let bind: SocketAddr = match peer {
            SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        let sock = UdpSocket::bind(bind).await?;
        sock.connect(peer).await?;
        let local = sock.local_addr()?;
        Ok(UdpConn { sock, local, peer })
    }

    /// Sends one datagram.
    pub async fn send(&self, msg: &[u8]) -> std::io::Result<()> {
        self.sock.send(msg).await.map(|_| ())
    }

    /// Waits for a datagram that `accept` approves, until `deadline`.
    /// `rejected` is told about every datagram skipped.
    pub async fn recv_matching(
        &self,
        deadline: Instant,
        accept: impl Fn(&[u8]) -> Result<(), String>,
        mut rejected: impl FnMut(String),
    ) -> Result<Vec<u8>, RecvError> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let n = match tokio::time::timeout_at(deadline, self.sock.recv(&mut buf)).await {
                Err(_) => return Err(RecvError::Timeout),
                Ok(Err(e)) => return Err(RecvError::Io(e)),
                Ok(Ok(n)) => n,
            };
            let datagram = &buf[..n];
            match accept(datagram) {
                Ok(()) => return Ok(datagram.to_vec()),
                Err(why) => rejected(why),
            }
        }
    }
}
