//! ureq's TLS configuration: rustls on ring, trusting what volley-core
//! decided (its roots, the client identity, or no verification at all when
//! told).

use std::sync::Arc;

use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use volley_core::adapter::{ClientConfig, key_label, to_pem};
use volley_core::{Error, ErrorKind, Result};

/// The agent's TLS configuration.
pub(crate) fn tls_config(config: &ClientConfig) -> Result<TlsConfig> {
    let roots: Vec<Certificate<'static>> = config
        .trusted_roots()
        .iter()
        .map(|cert| Certificate::from_der(cert).to_owned())
        .collect();
    let mut tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .root_certs(RootCerts::from(roots))
        .disable_verification(config.accept_invalid_certs);
    if let Some(id) = &config.identity {
        let chain: Vec<Certificate<'static>> = id
            .cert_chain()
            .iter()
            .map(|cert| Certificate::from_der(cert).to_owned())
            .collect();
        // ureq takes a key by its DER kind only through PEM.
        let key =
            PrivateKey::from_pem(to_pem(key_label(id.key()), id.key().secret_der()).as_bytes())
                .map_err(|e| {
                    Error::new(
                        ErrorKind::InvalidRequest,
                        format!("the client identity's key cannot be used: {e}"),
                    )
                })?;
        tls = tls.client_cert(Some(ClientCert::new_with_certs(&chain, key)));
    }
    Ok(tls.build())
}
