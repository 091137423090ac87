//! DNS over HTTPS (RFC 8484): one query as an HTTP/2 request (POST with an
//! `application/dns-message` body, or GET with a base64url `dns=`
//! parameter), or as HTTP/1.1 (hyper's client connection) when the
//! server's ALPN chose it. Status, media type and every server-chosen text
//! are checked or escaped here.

use base64::Engine as _;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};

/// The media type of RFC 8484 §6.
pub const DNS_MESSAGE: &str = "application/dns-message";

/// Largest response body accepted (a DNS message is at most 65535 bytes).
const MAX_BODY: usize = 65_535;

/// What the request looks like.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// `host[:port]` for the URI and Host header.
    pub authority: &'a str,
    /// The path, starting with '/'.
    pub path: &'a str,
    /// GET instead of POST.
    pub get: bool,
}

impl Request<'_> {
    /// The request target: the path, with `?dns=` for GET.
    pub fn target(&self, query: &[u8]) -> String {
        if self.get {
            let sep = if self.path.contains('?') { '&' } else { '?' };
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(query);
            format!("{}{sep}dns={b64}", self.path)
        } else {
            self.path.to_owned()
        }
    }
}

/// Checks the status and the media type of a response. `reason` is the
/// HTTP/1.1 reason phrase when the server sent one of its own; like every
/// server-chosen text it is escaped before it is shown.
fn check_response(
    status: http::StatusCode,
    reason: Option<&[u8]>,
    headers: &http::HeaderMap,
) -> Result<(), String> {
    if status != http::StatusCode::OK {
        let reason = match reason {
            Some(r) if !r.is_empty() => crate::render::escaped(r),
            _ => status.canonical_reason().unwrap_or("").to_owned(),
        };
        return Err(format!("HTTP status {} {reason}", status.as_u16())
            .trim_end()
            .to_owned());
    }
    // A missing type is let through; a wrong one (a captive portal's HTML
    // page, a JSON API) is not a DNS message.
    if let Some(value) = headers.get(http::header::CONTENT_TYPE) {
        let media = value
            .as_bytes()
            .split(|&b| b == b';')
            .next()
            .unwrap_or_default()
            .trim_ascii();
        if !media.eq_ignore_ascii_case(DNS_MESSAGE.as_bytes()) {
            return Err(format!(
                "the HTTP response is not a DNS message (Content-Type: {}; a captive portal or a wrong URL?)",
                crate::render::escaped(value.as_bytes())
            ));
        }
    }
    Ok(())
}

/// One exchange over an HTTP/2 connection. Returns the DNS message.
pub async fn h2_exchange(
    send: &mut h2::client::SendRequest<Bytes>,
    req: &Request<'_>,
    query: &[u8],
) -> Result<Vec<u8>, String> {
    let mut ready = send
        .clone()
        .ready()
        .await
        .map_err(|e| format!("HTTP/2 connection failed: {e}"))?;
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
        .map_err(|e| format!("bad HTTP request: {e}"))?;
    let (response, mut body_tx) = ready
        .send_request(request, req.get)
        .map_err(|e| format!("HTTP/2 request failed: {e}"))?;
    if !req.get {
        body_tx
            .send_data(Bytes::copy_from_slice(query), true)
            .map_err(|e| format!("HTTP/2 request failed: {e}"))?;
    }
    let response = response
        .await
        .map_err(|e| format!("HTTP/2 response failed: {e}"))?;
    check_response(response.status(), None, response.headers())?;
    let mut body = response.into_body();
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.map_err(|e| format!("HTTP/2 response body failed: {e}"))?;
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
        if data.len() > MAX_BODY {
            return Err("HTTP response body larger than a DNS message".into());
        }
    }
    Ok(data)
}

/// Largest response head (status line and headers) accepted over HTTP/1.1.
const MAX_HEAD: usize = 16 * 1024;

/// A one-line text for an HTTP/1.1 failure, with its cause (an I/O error).
fn h1_error(e: &hyper::Error) -> String {
    let mut text = format!("HTTP/1.1 exchange failed: {e}");
    if let Some(cause) = std::error::Error::source(e) {
        text.push_str(&format!(": {cause}"));
    }
    crate::render::escaped(text.as_bytes())
}

/// One exchange as HTTP/1.1 over `stream` (RFC 9112), by hyper's client
/// connection: the body ends where its Content-Length or chunked framing
/// says, not at the end of the stream, interim `1xx` responses are
/// skipped, and conflicting lengths are refused. The connection is not
/// reused.
pub async fn http1_exchange<S>(
    stream: S,
    req: &Request<'_>,
    query: &[u8],
) -> Result<Vec<u8>, String>
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
        .header(http::header::HOST, req.authority)
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
        .map_err(|e| format!("bad HTTP request: {e}"))?;
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
            None => "HTTP response body larger than a DNS message".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_target_is_base64url_without_padding() {
        let r = Request {
            authority: "x",
            path: "/dns-query",
            get: true,
        };
        assert_eq!(r.target(&[0xfb, 0xff, 0x01]), "/dns-query?dns=-_8B");
        let post = Request { get: false, ..r };
        assert_eq!(post.target(&[1, 2]), "/dns-query");
    }

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                http::HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    #[test]
    fn responses_need_status_200_and_the_dns_media_type() {
        let ok = headers(&[("content-type", "Application/DNS-Message; x=y")]);
        assert!(check_response(http::StatusCode::OK, None, &ok).is_ok());
        assert!(check_response(http::StatusCode::OK, None, &headers(&[])).is_ok());
        let html = headers(&[("content-type", "text/html")]);
        let err = check_response(http::StatusCode::OK, None, &html).unwrap_err();
        assert!(
            err.contains("not a DNS message (Content-Type: text/html"),
            "{err}"
        );
        let err = check_response(http::StatusCode::NOT_FOUND, None, &ok).unwrap_err();
        assert_eq!(err, "HTTP status 404 Not Found");
    }

    #[test]
    fn reason_phrases_are_escaped() {
        let err = check_response(
            http::StatusCode::FORBIDDEN,
            Some(b"\x1b[2J\x1b]0;pwned\x07 no"),
            &headers(&[]),
        )
        .unwrap_err();
        assert_eq!(err, "HTTP status 403 \\027[2J\\027]0;pwned\\007 no");
    }
}
