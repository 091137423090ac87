//! DNS over HTTPS on HTTP/2 (RFC 8484 over RFC 9113): the handshake on a
//! TLS stream whose ALPN chose `h2`, then one request per query on the
//! same connection (it can be kept with `+keepopen`). The request and
//! response rules are [`super::https`]'s.

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::error::{Mismatch, QueryError};
use super::https::{check_response, Request, DNS_MESSAGE, MAX_BODY};
use super::DnsTransport;
use crate::tap::event::Protocol;
use crate::tap::pb;

/// An HTTP/2 connection carrying DoH.
pub struct H2Conn {
    send: h2::client::SendRequest<Bytes>,
    local: SocketAddr,
    request: Request,
    /// The query [`DnsTransport::send`] was given, for the next request.
    query: Bytes,
}

impl std::fmt::Debug for H2Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("H2Conn")
            .field("local", &self.local)
            .field("request", &self.request)
            .finish()
    }
}

impl H2Conn {
    /// The HTTP/2 handshake over `stream`; the connection then runs as a
    /// task of its own beside the requests.
    pub async fn handshake<S>(
        stream: S,
        local: SocketAddr,
        request: Request,
    ) -> Result<H2Conn, QueryError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (send, connection) = h2::client::handshake(stream)
            .await
            .map_err(|e| QueryError::H2Handshake(e.to_string()))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(H2Conn {
            send,
            local,
            request,
            query: Bytes::new(),
        })
    }
}

impl DnsTransport for H2Conn {
    fn protocol(&self) -> Protocol {
        Protocol::Doh
    }

    fn http_protocol(&self) -> Option<i32> {
        Some(pb::HttpProtocol::Http2 as i32)
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
        let exchange = exchange(&mut self.send, &self.request, &self.query);
        super::one_reply(exchange, deadline, check).await
    }
}

/// An HTTP/2 failure, in one line.
fn failed(what: &str) -> impl Fn(h2::Error) -> QueryError + '_ {
    move |e| QueryError::HttpExchange(format!("HTTP/2 {what} failed: {e}"))
}

/// One exchange over an HTTP/2 connection. Returns the DNS message.
async fn exchange(
    send: &mut h2::client::SendRequest<Bytes>,
    req: &Request,
    query: &Bytes,
) -> Result<Vec<u8>, QueryError> {
    let mut ready = send.clone().ready().await.map_err(failed("connection"))?;
    let uri = format!("https://{}{}", req.authority, req.target(query));
    let mut builder = http::Request::builder()
        .method(if req.get { "GET" } else { "POST" })
        .uri(uri)
        .header("accept", DNS_MESSAGE);
    if !req.get {
        builder = builder
            .header("content-type", DNS_MESSAGE)
            .header("content-length", query.len());
    }
    let request = builder
        .body(())
        .map_err(|e| QueryError::HttpExchange(format!("bad HTTP request: {e}")))?;
    let (response, mut body_tx) = ready
        .send_request(request, req.get)
        .map_err(failed("request"))?;
    if !req.get {
        body_tx
            .send_data(query.clone(), true)
            .map_err(failed("request"))?;
    }
    let response = response.await.map_err(failed("response"))?;
    check_response(response.status(), None, response.headers())?;
    let mut body = response.into_body();
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(failed("response body"))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
        if data.len() > MAX_BODY {
            return Err(QueryError::BodyTooLarge);
        }
    }
    Ok(data)
}
