//! Why a try failed ([`QueryError`]) and why a message is not the answer
//! ([`Mismatch`]), with the data in fields. Each error's text is the cause
//! the driver prints after `;; communications error to SERVER: `; every
//! text that came from the server (HTTP reasons, certificate names, QUIC
//! close reasons) is escaped before it is stored here.

/// Why a message is not the answer to the query (RFC 5452 §9.1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mismatch {
    /// The query itself could not be read back (a +header override).
    #[error("bad query: {0}")]
    BadQuery(String),
    /// Too short for a DNS header.
    #[error("{len} byte reply is not DNS")]
    NotDns {
        /// Its length.
        len: usize,
    },
    /// QR=0: a query, not a response.
    #[error("reply id {id} has QR=0")]
    NotAResponse {
        /// Its ID.
        id: u16,
    },
    /// Another message ID.
    #[error("ID mismatch: expected ID {expected}, got {got}")]
    Id {
        /// The query's ID.
        expected: u16,
        /// The reply's.
        got: u16,
    },
    /// Another question.
    #[error("reply id {id} has a different question")]
    Question {
        /// The reply's ID.
        id: u16,
    },
}

/// Why one try of a lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// The deadline passed.
    #[error("timed out")]
    Timeout,
    /// The server refused the connection (TCP RST, or ICMP port
    /// unreachable on UDP).
    #[error("connection refused")]
    ConnectionRefused,
    /// A socket failed.
    #[error("{text}")]
    Io {
        /// The error's kind.
        kind: std::io::ErrorKind,
        /// Its text, dig's words for the common ones.
        text: String,
    },
    /// TLS set-up, handshake or certificate verification failed (the
    /// sentence says which).
    #[error("{0}")]
    Tls(String),
    /// The DoH server answered with another status than 200.
    #[error("HTTP status {status}{}", spaced(reason))]
    Http {
        /// The status code.
        status: u16,
        /// The reason phrase (the server's own, escaped, or the standard one).
        reason: String,
    },
    /// The DoH response has another media type (a captive portal's page).
    #[error("the HTTP response is not a DNS message (Content-Type: {content_type}; a captive portal or a wrong URL?)")]
    NotDnsMessage {
        /// The Content-Type given, escaped.
        content_type: String,
    },
    /// The HTTP/2 handshake failed (another try may do better).
    #[error("HTTP/2 handshake failed: {0}")]
    H2Handshake(String),
    /// An HTTP exchange failed (the text says how; escaped).
    #[error("{0}")]
    HttpExchange(String),
    /// The DoH response body is longer than any DNS message.
    #[error("HTTP response body larger than a DNS message")]
    BodyTooLarge,
    /// A QUIC connection or stream failed (the sentence says how).
    #[error("{0}")]
    Quic(String),
    /// The one reply a DoH or DoQ exchange gets is not the answer.
    #[error("bad reply: {0}")]
    NotAnAnswer(Mismatch),
    /// A zone transfer's next message did not come in time.
    #[error("transfer timed out")]
    TransferTimeout,
    /// A zone transfer's connection failed before its end.
    #[error("transfer ended early: {0}")]
    TransferCut(Box<QueryError>),
}

/// " reason", or nothing for an empty reason.
fn spaced(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

impl QueryError {
    /// Whether another try could help: timeouts and broken connections
    /// yes; a refused connection, a TLS or HTTP refusal, a wrong reply or a
    /// cut transfer no (the server would say the same again).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            QueryError::Timeout | QueryError::Io { .. } | QueryError::H2Handshake(_)
        )
    }

    /// The error for a failed transfer continuation.
    pub fn in_transfer(self) -> QueryError {
        match self {
            QueryError::Timeout => QueryError::TransferTimeout,
            other => QueryError::TransferCut(Box::new(other)),
        }
    }
}

impl From<std::io::Error> for QueryError {
    fn from(e: std::io::Error) -> QueryError {
        use std::io::ErrorKind as K;
        let text = match e.kind() {
            K::ConnectionRefused => return QueryError::ConnectionRefused,
            K::ConnectionReset => "connection reset".into(),
            K::UnexpectedEof => "end of file".into(),
            _ => e.to_string(),
        };
        QueryError::Io {
            kind: e.kind(),
            text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_digs_words_and_reasons_are_optional() {
        let io = |k| QueryError::from(std::io::Error::from(k)).to_string();
        assert_eq!(
            io(std::io::ErrorKind::ConnectionRefused),
            "connection refused"
        );
        assert_eq!(io(std::io::ErrorKind::UnexpectedEof), "end of file");
        let status = |reason: &str| QueryError::Http {
            status: 404,
            reason: reason.into(),
        };
        assert_eq!(status("Not Found").to_string(), "HTTP status 404 Not Found");
        assert_eq!(status("").to_string(), "HTTP status 404");
        let cut = QueryError::from(std::io::Error::from(std::io::ErrorKind::UnexpectedEof));
        assert_eq!(
            cut.in_transfer().to_string(),
            "transfer ended early: end of file"
        );
        assert!(!QueryError::ConnectionRefused.is_retryable());
        assert!(QueryError::Timeout.is_retryable());
    }
}
