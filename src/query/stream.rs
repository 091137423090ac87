//! DNS over a byte stream (RFC 1035 §4.2.2, RFC 7766 §8): each message is
//! preceded by its length as two big-endian bytes. [`StreamConn`] is the
//! transport for TCP and TLS alike, generic over the stream; only
//! `write_all`/`read_exact` are used, so short reads and writes are
//! handled. Also opens the TCP connection both run on.

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use super::error::{Mismatch, QueryError};
use super::DnsTransport;
use crate::tap::event::Protocol;

/// Opens a TCP connection to `addr` (Nagle off: a query is one write);
/// returns it with its local address.
pub async fn tcp_connect(addr: SocketAddr) -> Result<(TcpStream, SocketAddr), QueryError> {
    let stream = TcpStream::connect(addr).await?;
    let local = stream.local_addr()?;
    let _ = stream.set_nodelay(true);
    Ok((stream, local))
}

/// A stream connection (TCP, or TLS over TCP) carrying DNS messages.
#[derive(Debug)]
pub struct StreamConn<S> {
    stream: S,
    local: SocketAddr,
    protocol: Protocol,
}

impl<S: AsyncRead + AsyncWrite + Unpin> StreamConn<S> {
    /// Wraps a connected stream; `protocol` is what the records say
    /// (TCP or DOT).
    pub fn new(stream: S, local: SocketAddr, protocol: Protocol) -> StreamConn<S> {
        StreamConn {
            stream,
            local,
            protocol,
        }
    }

    /// One frame, by `deadline`. Checked before reading too: a server that
    /// sends frames faster than they are read keeps every read ready at
    /// once, and a read that never waits never sees its timer.
    async fn recv_by(&mut self, deadline: Instant) -> Result<Vec<u8>, QueryError> {
        if Instant::now() >= deadline {
            return Err(QueryError::Timeout);
        }
        match tokio::time::timeout_at(deadline, recv_framed(&mut self.stream)).await {
            Err(_) => Err(QueryError::Timeout),
            Ok(got) => Ok(got?),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> DnsTransport for StreamConn<S> {
    fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn local(&self) -> SocketAddr {
        self.local
    }

    fn continues(&self) -> bool {
        true
    }

    async fn send(&mut self, query: &Bytes, deadline: Instant) -> Result<(), QueryError> {
        match tokio::time::timeout_at(deadline, send_framed(&mut self.stream, query)).await {
            Err(_) => Err(QueryError::Timeout),
            Ok(sent) => Ok(sent?),
        }
    }

    /// Skips the messages `check` refuses until one passes or `deadline`
    /// comes: skipped messages are not progress.
    async fn recv(
        &mut self,
        deadline: Instant,
        check: &mut dyn FnMut(&[u8]) -> Result<(), Mismatch>,
        skipped: &mut dyn FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError> {
        loop {
            let msg = self.recv_by(deadline).await?;
            match check(&msg) {
                Ok(()) => return Ok(msg),
                Err(why) => skipped(why),
            }
        }
    }
}

/// Writes one message with its length prefix, in a single write.
pub async fn send_framed<S: AsyncWrite + Unpin>(stream: &mut S, msg: &[u8]) -> std::io::Result<()> {
    let len = u16::try_from(msg.len()).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "message longer than 65535 bytes",
        )
    })?;
    let mut buf = Vec::with_capacity(msg.len() + 2);
    buf.extend_from_slice(&len.to_be_bytes());
    buf.extend_from_slice(msg);
    stream.write_all(&buf).await?;
    stream.flush().await
}

/// Reads one length-prefixed message. An EOF before the first byte of the
/// prefix is `UnexpectedEof` like any other early end.
pub async fn recv_framed<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let len = usize::from(u16::from_be_bytes(len));
    let mut msg = vec![0u8; len];
    stream.read_exact(&mut msg).await?;
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trip_through_a_duplex_pipe_with_tiny_buffers() {
        let (mut a, mut b) = tokio::io::duplex(3);
        let writer = tokio::spawn(async move {
            send_framed(&mut a, b"hello dns").await.unwrap();
            send_framed(&mut a, b"").await.unwrap();
        });
        assert_eq!(recv_framed(&mut b).await.unwrap(), b"hello dns");
        assert_eq!(recv_framed(&mut b).await.unwrap(), b"");
        writer.await.unwrap();
    }

    #[tokio::test]
    async fn early_eof_is_an_error_not_a_hang() {
        let (mut a, mut b) = tokio::io::duplex(64);
        a.write_all(&[0, 10, 1, 2]).await.unwrap();
        drop(a);
        let err = recv_framed(&mut b).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
    }
}
