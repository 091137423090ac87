//! What DNS over HTTPS (RFC 8484) asks and accepts, whichever HTTP version
//! carries it ([`super::h1`], [`super::h2`]): the request (POST with an
//! `application/dns-message` body, or GET with a base64url `dns=`
//! parameter), and the status and media type a response must have. Every
//! server-chosen text is escaped here. No I/O.

use base64::Engine as _;

use super::error::QueryError;

/// The media type of RFC 8484 §6.
pub const DNS_MESSAGE: &str = "application/dns-message";

/// Largest response body accepted (a DNS message is at most 65535 bytes).
pub const MAX_BODY: usize = 65_535;

/// What the request looks like.
#[derive(Clone, Debug)]
pub struct Request {
    /// `host[:port]` for the URI and Host header.
    pub authority: String,
    /// The path, starting with '/'.
    pub path: String,
    /// GET instead of POST.
    pub get: bool,
}

impl Request {
    /// The request for `target`, with `host[:port]` as authority.
    pub fn new(target: &super::Target, path: &str, get: bool) -> Request {
        let addr = target.addr;
        let host = match &target.host {
            Some(h) => h.clone(),
            None => match addr {
                std::net::SocketAddr::V4(a) => a.ip().to_string(),
                std::net::SocketAddr::V6(a) => format!("[{}]", a.ip()),
            },
        };
        let authority = if addr.port() == 443 {
            host
        } else {
            format!("{host}:{}", addr.port())
        };
        Request {
            authority,
            path: path.to_owned(),
            get,
        }
    }

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
pub fn check_response(
    status: http::StatusCode,
    reason: Option<&[u8]>,
    headers: &http::HeaderMap,
) -> Result<(), QueryError> {
    if status != http::StatusCode::OK {
        let reason = match reason {
            Some(r) if !r.is_empty() => crate::render::escaped(r),
            _ => status.canonical_reason().unwrap_or("").to_owned(),
        };
        return Err(QueryError::Http {
            status: status.as_u16(),
            reason: reason.trim_end().to_owned(),
        });
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
            return Err(QueryError::NotDnsMessage {
                content_type: crate::render::escaped(value.as_bytes()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_target_is_base64url_without_padding() {
        let r = Request {
            authority: "x".into(),
            path: "/dns-query".into(),
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
        let err = check_response(http::StatusCode::OK, None, &html)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not a DNS message (Content-Type: text/html"),
            "{err}"
        );
        let err = check_response(http::StatusCode::NOT_FOUND, None, &ok)
            .unwrap_err()
            .to_string();
        assert_eq!(err, "HTTP status 404 Not Found");
    }

    #[test]
    fn reason_phrases_are_escaped() {
        let err = check_response(
            http::StatusCode::FORBIDDEN,
            Some(b"\x1b[2J\x1b]0;pwned\x07 no"),
            &headers(&[]),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "HTTP status 403 \\027[2J\\027]0;pwned\\007 no");
    }
}
