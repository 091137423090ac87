//! TLS client set-up for DNS over TLS, HTTPS and QUIC: a rustls
//! `ClientConfig` with the ring provider, certificates verified by default
//! against the system roots (Mozilla's as a fallback) or a given CA file,
//! optional SPKI pinning (RFC 7858 §4.2), client certificates, and an
//! explicit insecure mode. Also the SPKI pin of a certificate, so users can
//! pin what they saw.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::spec::TlsOpts;

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

fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read CA file {}: {e}", path.display()))?
        .collect();
    let certs = certs.map_err(|e| format!("bad certificate in {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("no certificate in {}", path.display()));
    }
    Ok(certs)
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
            Some(v) => v.verify_server_cert(
                end_entity,
                intermediates,
                self.verify_as.as_ref().unwrap_or(server_name),
                ocsp,
                now,
            ),
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
                for cert in read_pem_certs(path)? {
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
            use rustls::pki_types::pem::PemObject;
            let chain = read_pem_certs(cert)?;
            let key_path = key.as_deref().unwrap_or(cert.as_path());
            // The key's content is never printed, only its path.
            let key = PrivateKeyDer::from_pem_file(key_path)
                .map_err(|_| format!("cannot read a private key from {}", key_path.display()))?;
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
        Some(p) => lines.push(format!(
            ";; TLS ALPN: {}",
            String::from_utf8_lossy(p).escape_default()
        )),
        None => lines.push(";; TLS ALPN: (none)".into()),
    }
    if let Some(cert) = conn.peer_certificates().and_then(|c| c.first()) {
        if let Some(pin) = spki_pin(cert) {
            lines.push(format!(";; TLS server key pin (SPKI SHA-256): {pin}"));
        }
    }
    lines
}

/// A readable one-line text for a handshake failure.
pub fn error_text(e: &std::io::Error) -> String {
    if let Some(inner) = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
        return match inner {
            rustls::Error::InvalidCertificate(c) => {
                format!(
                    "TLS certificate verification failed: {}",
                    cert_error_text(c)
                )
            }
            rustls::Error::NoApplicationProtocol => {
                "TLS handshake failed: the server refused the ALPN protocol".into()
            }
            rustls::Error::General(text) => format!("TLS handshake failed: {text}"),
            rustls::Error::AlertReceived(rustls::AlertDescription::NoApplicationProtocol) => {
                "TLS handshake failed: the server refused the ALPN protocol".into()
            }
            rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired) => {
                "TLS handshake failed: the server requires a client certificate".into()
            }
            other => format!("TLS handshake failed: {other}"),
        };
    }
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => "TLS handshake failed: connection closed".into(),
        std::io::ErrorKind::ConnectionReset => "TLS handshake failed: connection reset".into(),
        std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
        _ => format!("TLS handshake failed: {e}"),
    }
}

fn cert_error_text(e: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => "unknown issuer (not signed by a trusted CA)".into(),
        C::Expired | C::ExpiredContext { .. } => "certificate expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => "certificate not valid yet".into(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "certificate is not valid for the server name".into()
        }
        C::BadSignature => "bad signature".into(),
        C::Revoked => "certificate revoked".into(),
        other => format!("{other:?}"),
    }
}
