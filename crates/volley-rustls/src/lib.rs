//! # volley-rustls
//!
//! What volley-core decided about TLS, as a rustls client configuration on
//! the `ring` provider: the roots it trusts
//! ([`ClientConfig::trusted_roots`]: Mozilla's unless turned off, and the
//! added ones), the client identity of mutual TLS, or no verification at
//! all when the builder was told `danger_accept_invalid_certs(true)`. The
//! adapters whose client takes a rustls configuration (volley-tokio's
//! reqwest, volley-async-std's connections) build theirs here, so the rule
//! is written once.
//!
//! ```
//! use volley_core::adapter::ClientConfig;
//! let tls = volley_rustls::client_config(&ClientConfig::default(), &[b"h2", b"http/1.1"])?;
//! assert_eq!(tls.alpn_protocols, [b"h2".to_vec(), b"http/1.1".to_vec()]);
//! # Ok::<(), volley_core::Error>(())
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};
use volley_core::{Error, ErrorKind, Result, adapter::ClientConfig};

pub use rustls;

/// The client's TLS configuration, offering `alpn` (most preferred first);
/// an [`ErrorKind::InvalidRequest`] for a root or identity rustls refuses.
pub fn client_config(config: &ClientConfig, alpn: &[&[u8]]) -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("the TLS versions", e))?;
    let builder = if config.accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider)))
    } else {
        let mut roots = RootCertStore::empty();
        for cert in config.trusted_roots() {
            roots
                .add(cert)
                .map_err(|e| invalid("a root certificate", e))?;
        }
        builder.with_root_certificates(roots)
    };
    let mut tls = match &config.identity {
        Some(id) => builder
            .with_client_auth_cert(id.cert_chain().to_vec(), id.key().clone_key())
            .map_err(|e| invalid("the client identity", e))?,
        None => builder.with_no_client_auth(),
    };
    tls.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(tls)
}

fn invalid(what: &str, e: rustls::Error) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        format!("{what} cannot be used for TLS: {e}"),
    )
    .with_source(e)
}

/// Accepts any certificate chain for any name
/// (`danger_accept_invalid_certs`). The handshake's signatures are still
/// checked against the presented certificate's key, but nothing ties that
/// key to the server's name: anyone on the path can impersonate the server.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
