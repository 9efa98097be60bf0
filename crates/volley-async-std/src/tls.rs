//! The TLS connector of the connections: volley-rustls's configuration of
//! what volley-core decided (ring, the trusted roots, the client identity).

use std::sync::Arc;

use futures_rustls::TlsConnector;
use volley_core::{Result, adapter::ClientConfig};

/// The client's TLS connector, offering `alpn` (most preferred first).
pub(crate) fn connector(config: &ClientConfig, alpn: &[&[u8]]) -> Result<TlsConnector> {
    let tls = volley_rustls::client_config(config, alpn)?;
    Ok(TlsConnector::from(Arc::new(tls)))
}
