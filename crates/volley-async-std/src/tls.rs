//! The TLS configuration behind `danger_accept_invalid_certs(true)`.

use std::sync::Arc;

use rustls::{
    Certificate, ClientConfig, RootCertStore, ServerCertVerified, ServerCertVerifier, TLSError,
};

/// Accepts any certificate chain for any name. The handshake's signatures
/// are still checked against the presented certificate's key by rustls, but
/// nothing ties that key to the server's name: anyone on the path can
/// impersonate the server.
struct AcceptAnyCertificate;

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _roots: &RootCertStore,
        _presented_certs: &[Certificate],
        _dns_name: webpki::DNSNameRef<'_>,
        _ocsp_response: &[u8],
    ) -> Result<ServerCertVerified, TLSError> {
        Ok(ServerCertVerified::assertion())
    }
}

/// A rustls client configuration that verifies no certificate.
pub(crate) fn accept_invalid_certs() -> Arc<ClientConfig> {
    let mut config = ClientConfig::new();
    config
        .dangerous()
        .set_certificate_verifier(Arc::new(AcceptAnyCertificate));
    Arc::new(config)
}
