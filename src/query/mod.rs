//! Live queries: builds each query, sends it over UDP, TCP, TLS, HTTPS or
//! QUIC with dig's timeouts, tries and TC→TCP fallback, and hands every
//! message sent or accepted to a [`Sink`] as a dnstap record, at the moment
//! it happens. With `+keepopen` a [`Session`] keeps the connection.
//!
//! [`lookup`] (in `lookup.rs`) is the only driver: ID choice, recording,
//! answer checks, TC→TCP, the zone transfer continuation, retries and
//! deadlines. Each transport is a file of its own behind one trait,
//! [`DnsTransport`]: `udp` (own and shared sockets), `stream` (TCP and TLS
//! alike), `h1` and `h2` (DoH, with the request rules of `https`), `quic`;
//! `tls` builds the TLS configurations and words TLS failures, `conn` opens
//! the connection a spec asks for. Failures are a typed [`QueryError`].
//!
//! The sink decides what to do with records (write the trace, render them);
//! this module never prints. Sockets live here and only here.

pub mod batch;
mod conn;
pub mod delegation;
pub mod error;
pub mod h1;
pub mod h2;
pub mod https;
pub mod iterate;
mod lookup;
pub mod proxy;
pub mod quic;
pub mod spec;
pub mod stream;
pub mod tls;
pub mod udp;
pub mod window;

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::time::Instant;

pub use self::error::{Mismatch, QueryError};
pub use self::lookup::{
    check_answer, hash, lookup, lookup_message, now, Outcome, RecordMeta, Session, Sink, Target,
};
use crate::tap::event::Protocol;

/// One way of carrying DNS messages to a server and back, over an open
/// connection or socket. The driver sends the query, then asks for the
/// answer: it says which messages are the answer (`check`) and hears about
/// each one skipped (`skipped`). Every wait ends by its deadline, whatever
/// the server sends.
///
/// Statically dispatched (the UDP hot path boxes nothing); the trait is
/// internal, so its `async fn`s need no `Send` bound.
pub(crate) trait DnsTransport {
    /// What the records say the transport was.
    fn protocol(&self) -> Protocol;

    /// The dnstap `HttpProtocol` for DoH.
    fn http_protocol(&self) -> Option<i32> {
        None
    }

    /// The local address (the records' query address and port).
    fn local(&self) -> SocketAddr;

    /// Whether more messages may follow the answer (a zone transfer over a
    /// stream); transports of one reply per query say no.
    fn continues(&self) -> bool {
        false
    }

    /// Sends the query, by `deadline`. Transports whose request and answer
    /// are one exchange (HTTP, QUIC) keep it for [`DnsTransport::recv`].
    async fn send(&mut self, query: &Bytes, deadline: Instant) -> Result<(), QueryError>;

    /// The next message `check` accepts, by `deadline`. Datagram and
    /// stream transports skip the others (telling `skipped`); a transport of
    /// one reply per query fails with [`QueryError::NotAnAnswer`] instead.
    async fn recv(
        &mut self,
        deadline: Instant,
        check: &mut dyn FnMut(&[u8]) -> Result<(), Mismatch>,
        skipped: &mut dyn FnMut(Mismatch),
    ) -> Result<Vec<u8>, QueryError>;
}

/// The one reply of a request-response transport (HTTP, QUIC), by
/// `deadline`, checked: a reply that is not the answer ends the try.
async fn one_reply(
    exchange: impl std::future::Future<Output = Result<Vec<u8>, QueryError>>,
    deadline: Instant,
    check: &mut dyn FnMut(&[u8]) -> Result<(), Mismatch>,
) -> Result<Vec<u8>, QueryError> {
    let reply = match tokio::time::timeout_at(deadline, exchange).await {
        Err(_) => return Err(QueryError::Timeout),
        Ok(got) => got?,
    };
    check(&reply).map_err(QueryError::NotAnAnswer)?;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_reply_fails_on_a_wrong_reply_or_the_deadline() {
        let later = Instant::now() + std::time::Duration::from_secs(5);
        let wrong = |_: &[u8]| Err(Mismatch::NotAResponse { id: 7 });
        let got = one_reply(async { Ok(vec![1]) }, later, &mut { wrong }).await;
        assert_eq!(
            got.unwrap_err().to_string(),
            "bad reply: reply id 7 has QR=0"
        );
        let right = |_: &[u8]| Ok(());
        let got = one_reply(async { Ok(vec![1]) }, later, &mut { right }).await;
        assert_eq!(got.unwrap(), [1]);
        let now = Instant::now();
        let never = std::future::pending::<Result<Vec<u8>, QueryError>>();
        let got = one_reply(never, now, &mut { right }).await;
        assert!(matches!(got, Err(QueryError::Timeout)));
    }
}
