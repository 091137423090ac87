//! TLS client set-up for DNS over TLS, HTTPS and QUIC: a rustls
//! `ClientConfig` with the ring provider, certificates verified by default
//! against the system roots (Mozilla's as a fallback) or a given CA file,
//! optional SPKI pinning (RFC 7858 §4.2), client certificates, and an
//! explicit insecure mode; the TLS handshake over TCP that DoT and DoH
//! run on. Also the SPKI pin of a certificate, so users can pin what they
//! saw, and the sentences for TLS failures.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::error::QueryError;
use super::spec::TlsOpts;
use super::Target;

/// The crypto provider qtap uses everywhere (ring: no C toolchain needed).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// base64 of the SHA-256 of a certificate's SubjectPublicKeyInfo, the pin
/// format of RFC 7858 §4.2 (and of kdig's +tls-pin).
pub fn spki_pin(cert: &CertificateDer<'_>) -> Option<String> {
    let ee = webpki::EndEntityCert::try_from(cert).ok()?;
    let spki = ee.subject_public_key_info();
    let digest = ring::digest::digest(&ring::digest::SHA256, spki.as_ref());
    Some(base64::engine::general_purpose::STANDARD.encode(digest.as_ref()))
}

/// Largest CA, certificate or key file read (PEM): far more than any real
/// bundle (Mozilla's whole root store is about 200 KiB).
pub const PEM_FILE_MAX: u64 = 4 << 20;

/// Reads a PEM file with a size cap ([`PEM_FILE_MAX`]), so `/dev/zero` or
/// a huge file is refused at once.
fn read_pem(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    crate::fsutil::read_bounded(path, PEM_FILE_MAX)
        .map_err(|e| format!("cannot read {what} {}: {e}", path.display()))
}

fn read_pem_certs(path: &Path, what: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let pem = read_pem(path, what)?;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_slice_iter(&pem).collect();
    let certs = certs.map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", path.display()));
    }
    Ok(certs)
}

/// The client key: from `key` (`+tls-keyfile`), or else from the
/// certificate file `cert`, where a PEM bundle may hold it too.
fn read_key(key: Option<&Path>, cert: &Path) -> Result<PrivateKeyDer<'static>, String> {
    use rustls::pki_types::pem::PemObject;
    use std::os::unix::ffi::OsStrExt;
    let path = key.unwrap_or(cert);
    let pem = read_pem(path, "key file")?;
    // The key's content is never printed, only its path.
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| {
        let name = crate::render::escaped(path.as_os_str().as_bytes());
        match key {
            Some(_) => format!("cannot read a private key from {name}"),
            None => format!(
                "no private key in the certificate file {name}: give it with +tls-keyfile=FILE"
            ),
        }
    })
}

/// Reads and parses the CA, certificate and key files `opts` names, so a
/// missing, huge or malformed file is reported before any connection (and
/// before the async runtime, where a long read would block signals).
pub fn check_files(opts: &TlsOpts) -> Result<(), String> {
    if let Some(Some(ca)) = &opts.ca {
        read_pem_certs(ca, "CA file")?;
    }
    match (&opts.certfile, &opts.keyfile) {
        (Some(cert), key) => {
            read_pem_certs(cert, "certificate file")?;
            read_key(key.as_deref(), cert)?;
        }
        (None, Some(_)) => return Err("+tls-keyfile needs +tls-certfile".into()),
        (None, None) => {}
    }
    Ok(())
}

/// The system's trust anchors, or Mozilla's when the system has none.
fn system_roots() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    roots
}

/// Verifies the server certificate: the usual WebPKI chain and name check,
/// or, with pins, a match of the leaf's SPKI pin (plus the chain when a CA
/// was named too), or nothing at all in the explicit insecure mode.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    /// The name to verify when it differs from the SNI name.
    verify_as: Option<ServerName<'static>>,
    pins: Vec<String>,
    insecure: bool,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self.insecure {
            return Ok(ServerCertVerified::assertion());
        }
        if !self.pins.is_empty() {
            let pin = spki_pin(end_entity).unwrap_or_default();
            if !self.pins.contains(&pin) {
                return Err(rustls::Error::General(format!(
                    "certificate pin mismatch: the server's key has pin {pin}"
                )));
            }
        }
        match &self.webpki {
            Some(v) => v
                .verify_server_cert(
                    end_entity,
                    intermediates,
                    self.verify_as.as_ref().unwrap_or(server_name),
                    ocsp,
                    now,
                )
                .map_err(readable),
            None => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Builds the client configuration for one transport's ALPN protocols.
/// `verify_as` is the name to check the certificate against when it is not
/// the name sent as SNI.
pub fn client_config(
    opts: &TlsOpts,
    alpn: &[&[u8]],
    verify_as: Option<ServerName<'static>>,
) -> Result<ClientConfig, String> {
    let provider = provider();
    // Pins alone replace the chain check (RFC 7858 §4.2); a CA given as
    // well keeps it.
    let use_chain = !opts.insecure && (opts.pins.is_empty() || opts.ca.is_some());
    let webpki = if use_chain {
        let roots = match &opts.ca {
            Some(Some(path)) => {
                let mut roots = RootCertStore::empty();
                for cert in read_pem_certs(path, "CA file")? {
                    roots
                        .add(cert)
                        .map_err(|e| format!("bad CA certificate in {}: {e}", path.display()))?;
                }
                roots
            }
            _ => system_roots(),
        };
        let v = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("cannot build the certificate verifier: {e}"))?;
        Some(v)
    } else {
        None
    };
    let verifier = Arc::new(Verifier {
        webpki,
        verify_as,
        pins: opts.pins.clone(),
        insecure: opts.insecure,
        provider: provider.clone(),
    });
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match (&opts.certfile, &opts.keyfile) {
        (Some(cert), key) => {
            let chain = read_pem_certs(cert, "certificate file")?;
            let key = read_key(key.as_deref(), cert)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("client certificate rejected: {e}"))?
        }
        (None, Some(_)) => return Err("+tls-keyfile needs +tls-certfile".into()),
        (None, None) => builder.with_no_client_auth(),
    };
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// The name to verify the certificate against: +tls-hostname, else the
/// server's host name, else its address.
pub fn verify_name(
    opts: &TlsOpts,
    host: Option<&str>,
    addr: std::net::IpAddr,
) -> Result<ServerName<'static>, String> {
    let text = opts.hostname.clone().or_else(|| host.map(str::to_owned));
    match text {
        Some(name) => ServerName::try_from(name.clone())
            .map_err(|_| format!("invalid TLS host name {name:?}")),
        None => Ok(ServerName::IpAddress(addr.into())),
    }
}

/// The client configuration and the SNI name for one connection to
/// `target`, offering the `alpn` protocols.
pub fn setup(
    opts: &TlsOpts,
    target: &Target,
    alpn: &[&[u8]],
) -> Result<(ClientConfig, ServerName<'static>), QueryError> {
    let verify_as =
        verify_name(opts, target.host.as_deref(), target.addr.ip()).map_err(QueryError::Tls)?;
    let sni = match &opts.sni {
        Some(name) => ServerName::try_from(name.clone())
            .map_err(|_| QueryError::Tls(format!("invalid SNI name {name:?}")))?,
        None => verify_as.clone(),
    };
    let config = client_config(opts, alpn, (sni != verify_as).then_some(verify_as))
        .map_err(QueryError::Tls)?;
    Ok((config, sni))
}

/// A TLS stream over TCP.
pub type TlsStream = tokio_rustls::client::TlsStream<tokio::net::TcpStream>;

/// Completes the TLS handshake over a connected TCP stream, with a
/// configuration and SNI name from [`setup`].
pub async fn handshake(
    config: ClientConfig,
    sni: ServerName<'static>,
    tcp: tokio::net::TcpStream,
) -> Result<TlsStream, QueryError> {
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    connector
        .connect(sni, tcp)
        .await
        .map_err(|e| QueryError::Tls(error_text(&e)))
}

/// One line per fact about a finished handshake, for +tlsinfo.
pub fn describe(conn: &rustls::CommonState) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(v) = conn.protocol_version() {
        lines.push(format!(";; TLS version: {v:?}"));
    }
    if let Some(s) = conn.negotiated_cipher_suite() {
        lines.push(format!(";; TLS cipher suite: {:?}", s.suite()));
    }
    match conn.alpn_protocol() {
        Some(p) => lines.push(format!(";; TLS ALPN: {}", crate::render::escaped(p))),
        None => lines.push(";; TLS ALPN: (none)".into()),
    }
    if let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) {
        if let Some(pin) = spki_pin(cert) {
            lines.push(format!(";; TLS server key pin (SPKI SHA-256): {pin}"));
        }
    }
    lines
}

/// A certificate failure already put into words (see [`cert_error_text`]).
/// The verifier hands rustls this instead of the bare error, so DoQ (where
/// quinn reduces the error to its text) reads as well as DoT and DoH.
#[derive(Debug)]
struct CertProblem(String);

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CertProblem {}

/// Replaces a certificate error by its sentence; other errors pass.
fn readable(e: rustls::Error) -> rustls::Error {
    match e {
        rustls::Error::InvalidCertificate(c) => {
            rustls::Error::InvalidCertificate(rustls::CertificateError::Other(rustls::OtherError(
                Arc::new(CertProblem(cert_error_text(&c))),
            )))
        }
        other => other,
    }
}

/// A readable one-line text for a handshake failure. Anything that came
/// from the peer (names in its certificate) is escaped.
pub fn error_text(e: &std::io::Error) -> String {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return tls_error_text(inner);
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "TLS handshake failed: connection closed".into(),
        std::io::ErrorKind::ConnectionReset => "TLS handshake failed: connection reset".into(),
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => format!("TLS handshake failed: {}", escaped(&e.to_string())),
    }
}

fn escaped(text: &str) -> String {
    crate::render::escaped(text.as_bytes())
}

/// One name a certificate presents, in words: rustls gives webpki's Debug
/// form (`DnsName("dns.test")`, `IpAddress(0::1)`); qtap shows the name
/// or address alone, escaped. A form it does not know stays as it is.
fn presented_name(debug: &str) -> String {
    let inner = |prefix: &str, suffix: &str| {
        debug
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
    };
    if let Some(name) = inner("DnsName(\"", "\")") {
        escaped(name)
    } else if let Some(addr) = inner("IpAddress(", ")") {
        addr.parse::<std::net::IpAddr>()
            .map_or_else(|_| escaped(addr), |a| a.to_string())
    } else if let Some(uri) = inner("UniformResourceIdentifier(\"", "\")") {
        format!("URI {}", escaped(uri))
    } else {
        escaped(debug)
    }
}

/// A sentence for a rustls error.
pub fn tls_error_text(e: &rustls::Error) -> String {
    use rustls::AlertDescription as A;
    let why = match e {
        rustls::Error::InvalidCertificate(c) => {
            return format!(
                "TLS certificate verification failed: {}",
                cert_error_text(c)
            )
        }
        rustls::Error::NoApplicationProtocol
        | rustls::Error::AlertReceived(A::NoApplicationProtocol) => {
            "the server refused the ALPN protocol".into()
        }
        rustls::Error::AlertReceived(A::CertificateRequired) => {
            "the server requires a client certificate".into()
        }
        rustls::Error::AlertReceived(
            A::BadCertificate | A::UnknownCA | A::CertificateUnknown | A::UnsupportedCertificate,
        ) => "the server rejected the client certificate".into(),
        rustls::Error::AlertReceived(A::HandshakeFailure | A::InsufficientSecurity) => {
            "the server refused the handshake (no common cipher suite or parameters)".into()
        }
        rustls::Error::AlertReceived(A::ProtocolVersion) => {
            "the server supports no TLS version qtap offers (1.2, 1.3)".into()
        }
        rustls::Error::AlertReceived(A::UnrecognisedName) => {
            "the server does not know the name sent as SNI".into()
        }
        rustls::Error::AlertReceived(a) => {
            format!("the server sent the alert {}", escaped(&format!("{a:?}")))
        }
        rustls::Error::General(text) => escaped(text),
        rustls::Error::NoCertificatesPresented => "the server sent no certificate".into(),
        rustls::Error::InvalidMessage(m) => {
            format!(
                "the server sent a malformed TLS message ({})",
                escaped(&format!("{m:?}"))
            )
        }
        rustls::Error::PeerMisbehaved(m) => {
            format!(
                "the server broke the TLS protocol ({})",
                escaped(&format!("{m:?}"))
            )
        }
        rustls::Error::PeerIncompatible(m) => {
            format!(
                "the server is incompatible ({})",
                escaped(&format!("{m:?}"))
            )
        }
        rustls::Error::DecryptError => "a TLS record could not be decrypted".into(),
        rustls::Error::PeerSentOversizedRecord => "the server sent an oversized TLS record".into(),
        other => escaped(&other.to_string()),
    };
    format!("TLS handshake failed: {why}")
}

fn when(t: UnixTime) -> String {
    let secs = t.as_secs();
    crate::civil::utc_text(secs).map_or_else(|| format!("{secs} (UNIX time)"), |d| d + " UTC")
}

/// A sentence for a certificate error; names from the certificate are
/// escaped.
pub fn cert_error_text(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => "unknown issuer (not signed by a trusted CA)".into(),
        C::Expired => "certificate expired".into(),
        C::ExpiredContext { not_after, .. } => {
            format!("certificate expired (valid until {})", when(*not_after))
        }
        C::NotValidYet => "certificate not valid yet".into(),
        C::NotValidYetContext { not_before, .. } => {
            format!(
                "certificate not valid yet (valid from {})",
                when(*not_before)
            )
        }
        C::NotValidForName => "certificate is not valid for the server name".into(),
        C::NotValidForNameContext {
            expected,
            presented,
        } => {
            let names: Vec<String> = presented.iter().map(|n| presented_name(n)).collect();
            let has = if names.is_empty() {
                "it names no host".to_owned()
            } else {
                format!("it is for {}", names.join(", "))
            };
            format!(
                "certificate is not valid for the server name {} ({has})",
                escaped(&expected.to_str())
            )
        }
        C::BadSignature => "bad signature".into(),
        C::Revoked => "certificate revoked".into(),
        C::BadEncoding => "the certificate is malformed".into(),
        C::UnhandledCriticalExtension => {
            "the certificate has a critical extension qtap does not know".into()
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
            "the certificate is not meant for a TLS server (extended key usage)".into()
        }
        C::UnknownRevocationStatus => "the certificate's revocation status is unknown".into(),
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            "the certificate revocation list has expired".into()
        }
        C::Other(other) => other_cert_error_text(other.0.as_ref()),
        #[allow(deprecated)]
        C::UnsupportedSignatureAlgorithm
        | C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "the certificate is signed with an algorithm qtap does not support".into()
        }
        other => format!("certificate rejected ({})", escaped(&format!("{other:?}"))),
    }
}

fn other_cert_error_text(e: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    if let Some(done) = e.downcast_ref::<CertProblem>() {
        return done.0.clone();
    }
    let Some(w) = e.downcast_ref::<webpki::Error>() else {
        return format!("certificate rejected ({})", escaped(&e.to_string()));
    };
    use webpki::Error as W;
    match w {
        W::CaUsedAsEndEntity => {
            "the server presented a CA certificate, not a server certificate (CA used as end entity)".into()
        }
        W::EndEntityUsedAsCa => "a server certificate was used as a CA in the chain".into(),
        W::CertDistrusted => "the certificate's CA is distrusted".into(),
        W::NameConstraintViolation => "the certificate breaks its CA's name constraints".into(),
        W::PathLenConstraintViolated => "the certificate chain breaks a path length limit".into(),
        W::MaximumPathDepthExceeded | W::MaximumPathBuildCallsExceeded => {
            "the certificate chain is too long or too tangled to verify".into()
        }
        W::MalformedDnsIdentifier | W::MalformedNameConstraint | W::MalformedExtensions
        | W::ExtensionValueInvalid | W::InvalidSerialNumber => {
            "the certificate is malformed".into()
        }
        W::EmptyEkuExtension => {
            "the certificate is not meant for a TLS server (empty extended key usage)".into()
        }
        W::SignatureAlgorithmMismatch => "the certificate's signature algorithms do not match".into(),
        other => format!("certificate rejected ({})", escaped(&format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_file_without_its_key_asks_for_tls_keyfile() {
        let certs = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/certs");
        let mut opts = TlsOpts {
            certfile: Some(certs.join("client.pem")),
            ..TlsOpts::default()
        };
        let e = check_files(&opts).unwrap_err();
        assert!(e.contains("give it with +tls-keyfile=FILE"), "{e}");
        opts.keyfile = Some(certs.join("client.key"));
        assert_eq!(check_files(&opts), Ok(()));
        // A key file that holds no key says so plainly.
        opts.keyfile = Some(certs.join("client.pem"));
        let e = check_files(&opts).unwrap_err();
        assert!(e.starts_with("cannot read a private key from "), "{e}");
    }

    #[test]
    fn a_name_mismatch_lists_the_certificates_names_in_words_escaped() {
        let e = rustls::CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("foo.example").unwrap(),
            presented: vec![
                "DnsName(\"a\u{1b}]0;x.example\")".into(),
                "IpAddress(127.0.0.1)".into(),
                "IpAddress(0::1)".into(),
                "UniformResourceIdentifier(\"https://x.example/\")".into(),
                "DirectoryName".into(),
            ],
        };
        assert_eq!(
            cert_error_text(&e),
            "certificate is not valid for the server name foo.example (it is for \
             a\\027]0;x.example, 127.0.0.1, ::1, URI https://x.example/, DirectoryName)"
        );
    }

    #[test]
    fn a_presented_name_in_an_unknown_form_is_kept_escaped() {
        assert_eq!(presented_name("IpAddress([invalid: 01])"), "[invalid: 01]");
        assert_eq!(presented_name("Odd(\"\u{7}\")"), "Odd(\"\\007\")");
    }
}
