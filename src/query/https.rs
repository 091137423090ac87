//! DNS over HTTPS (RFC 8484): one query as an HTTP/2 request (POST with an
//! `application/dns-message` body, or GET with a base64url `dns=`
//! parameter), or as HTTP/1.1 when the server's ALPN chose it.

use base64::Engine as _;
use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

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

fn status_error(status: u16, reason: &str) -> String {
    format!("HTTP status {status} {reason}")
        .trim_end()
        .to_owned()
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
    let status = response.status();
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
    if status != http::StatusCode::OK {
        return Err(status_error(
            status.as_u16(),
            status.canonical_reason().unwrap_or(""),
        ));
    }
    Ok(data)
}

/// One exchange as HTTP/1.1 over `stream` (the connection is closed after).
pub async fn http1_exchange<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    req: &Request<'_>,
    query: &[u8],
) -> Result<Vec<u8>, String> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nAccept: {DNS_MESSAGE}\r\nConnection: close\r\n",
        if req.get { "GET" } else { "POST" },
        req.target(query),
        req.authority
    );
    if !req.get {
        head.push_str(&format!(
            "Content-Type: {DNS_MESSAGE}\r\nContent-Length: {}\r\n",
            query.len()
        ));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    if !req.get {
        out.extend_from_slice(query);
    }
    let io = |e: std::io::Error| format!("HTTP/1.1 exchange failed: {e}");
    stream.write_all(&out).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut raw = Vec::new();
    let limit = (MAX_BODY + 16 * 1024) as u64;
    stream
        .take(limit + 1)
        .read_to_end(&mut raw)
        .await
        .map_err(io)?;
    if raw.len() as u64 > limit {
        return Err("HTTP response larger than a DNS message".into());
    }
    parse_http1_response(&raw)
}

/// Parses a complete HTTP/1.1 response: status line, headers, and a body
/// delimited by Content-Length, chunked encoding or the end of the stream.
pub fn parse_http1_response(raw: &[u8]) -> Result<Vec<u8>, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("HTTP response ended inside its header")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "HTTP header is not text")?;
    let body = &raw[end + 4..];
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!(
            "not an HTTP/1 response: {:?}",
            status_line.escape_default().to_string()
        ));
    }
    let status: u16 = parts
        .next()
        .and_then(|s| s.parse().ok())
        .ok_or("bad HTTP status line")?;
    let reason = parts.next().unwrap_or("");
    if status != 200 {
        return Err(status_error(status, reason));
    }
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(value.parse::<usize>().map_err(|_| "bad Content-Length")?);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.to_ascii_lowercase().contains("chunked")
        {
            chunked = true;
        }
    }
    if chunked {
        return dechunk(body);
    }
    match length {
        Some(n) if n > body.len() => {
            Err(format!("HTTP body cut short: {} of {n} bytes", body.len()))
        }
        Some(n) => Ok(body[..n].to_vec()),
        None => Ok(body.to_vec()),
    }
}

fn dechunk(mut body: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = body
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunked body")?;
        let size_text = std::str::from_utf8(&body[..eol]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        body = &body[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = body.get(..size).ok_or("chunked body cut short")?;
        out.extend_from_slice(chunk);
        if out.len() > MAX_BODY {
            return Err("HTTP response body larger than a DNS message".into());
        }
        body = body.get(size + 2..).ok_or("chunked body cut short")?;
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

    #[test]
    fn http1_responses() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Type: application/dns-message\r\nContent-Length: 3\r\n\r\nabcEXTRA";
        assert_eq!(parse_http1_response(ok).unwrap(), b"abc");
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\n\r\n";
        assert_eq!(parse_http1_response(chunked).unwrap(), b"abc");
        let eof = b"HTTP/1.0 200 OK\r\n\r\nxyz";
        assert_eq!(parse_http1_response(eof).unwrap(), b"xyz");
        let err = parse_http1_response(b"HTTP/1.1 404 Not Found\r\n\r\n").unwrap_err();
        assert_eq!(err, "HTTP status 404 Not Found");
        assert!(parse_http1_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nab").is_err());
        assert!(parse_http1_response(b"garbage").is_err());
        assert!(parse_http1_response(b"SSH-2.0\r\n\r\n").is_err());
        assert!(parse_http1_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"
        )
        .is_err());
    }
}
