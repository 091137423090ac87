//! DNS over a byte stream (RFC 1035 §4.2.2, RFC 7766 §8): each message is
//! preceded by its length as two big-endian bytes. Generic over any async
//! stream so TCP and TLS share it; only `write_all`/`read_exact` are used,
//! so short reads and writes are handled.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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
