//! DNS over HTTPS on HTTP/1.1 (RFC 8484 over RFC 9112), when the server's
//! ALPN chose it: one request on the TLS stream by hyper's client
//! connection, `Connection: close`, never reused. The request and response
//! rules are [`super::https`]'s.

use std::net::SocketAddr;

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::error::{Mismatch, QueryError};
use super::https::{check_response, Request, DNS_MESSAGE, MAX_BODY};
use super::DnsTransport;
use crate::tap::event::Protocol;
use crate::tap::pb;

/// Largest response head (status line and headers) accepted.
const MAX_HEAD: usize = 16 * 1024;

/// A TLS stream that will carry one HTTP/1.1 exchange.
#[derive(Debug)]
pub struct H1Conn<S> {
    /// The stream, until the exchange takes it.
    stream: Option<S>,
    local: SocketAddr,
    request: Request,
    /// The query [`DnsTransport::send`] was given.
    query: Bytes,
}

impl<S> H1Conn<S> {
    /// A connection for one exchange over `stream`.
    pub fn new(stream: S, local: SocketAddr, request: Request) -> H1Conn<S> {
        H1Conn {
            stream: Some(stream),
            local,
            request,
            query: Bytes::new(),
        }
    }
}

impl<S> DnsTransport for H1Conn<S>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    fn protocol(&self) -> Protocol {
        Protocol::Doh
    }

    fn http_protocol(&self) -> Option<i32> {
        Some(pb::HttpProtocol::Http1 as i32)
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
        let stream = self
            .stream
            .take()
            .ok_or_else(|| QueryError::HttpExchange("HTTP/1.1 connection already used".into()))?;
        let exchange = exchange(stream, &self.request, &self.query);
        super::one_reply(exchange, deadline, check).await
    }
}

/// A one-line text for an HTTP/1.1 failure, with its cause (an I/O error).
fn h1_error(e: &hyper::Error) -> QueryError {
    let mut text = format!("HTTP/1.1 exchange failed: {e}");
    if let Some(cause) = std::error::Error::source(e) {
        text.push_str(&format!(": {cause}"));
    }
    QueryError::HttpExchange(crate::render::escaped(text.as_bytes()))
}

/// One exchange as HTTP/1.1 over `stream` (RFC 9112), by hyper's client
/// connection: the body ends where its Content-Length or chunked framing
/// says, not at the end of the stream, interim `1xx` responses are
/// skipped, and conflicting lengths are refused.
async fn exchange<S>(stream: S, req: &Request, query: &[u8]) -> Result<Vec<u8>, QueryError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    use http_body_util::BodyExt as _;
    let (mut sender, conn) = hyper::client::conn::http1::Builder::new()
        .max_buf_size(MAX_HEAD.max(8192))
        .handshake::<_, http_body_util::Full<Bytes>>(hyper_util::rt::TokioIo::new(stream))
        .await
        .map_err(|e| h1_error(&e))?;
    // The connection runs beside the request; it is dropped (aborted) once
    // the answer is in, whatever the server does with its end.
    let task = AbortOnDrop(tokio::spawn(conn));
    let mut builder = http::Request::builder()
        .method(if req.get { "GET" } else { "POST" })
        .uri(req.target(query))
        .header(http::header::HOST, &req.authority)
        .header(http::header::ACCEPT, DNS_MESSAGE)
        .header(http::header::CONNECTION, "close");
    let body = if req.get {
        Bytes::new()
    } else {
        builder = builder.header(http::header::CONTENT_TYPE, DNS_MESSAGE);
        Bytes::copy_from_slice(query)
    };
    let request = builder
        .body(http_body_util::Full::new(body))
        .map_err(|e| QueryError::HttpExchange(format!("bad HTTP request: {e}")))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| h1_error(&e))?;
    let reason = response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| r.as_bytes().to_vec());
    check_response(response.status(), reason.as_deref(), response.headers())?;
    let body = http_body_util::Limited::new(response.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| match e.downcast_ref::<hyper::Error>() {
            Some(h) => h1_error(h),
            None => QueryError::BodyTooLarge,
        })?;
    drop(task);
    Ok(body.to_bytes().to_vec())
}

/// Aborts a spawned task when dropped, on every path out of a function.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
