//! libcurl's TLS configuration (its rustls backend): the trust volley-core
//! decided, as libcurl takes it: the trusted roots as one PEM bundle in
//! memory, and the client identity as PEM files, the only way that backend
//! reads a client certificate.

use std::io::{self, Write};
use std::path::PathBuf;

use isahc::tls::{Identity, PrivateKey, TlsConfig, TrustStore};
use volley_core::adapter::{ClientConfig, key_label, to_pem};
use volley_core::{Error, ErrorKind, Result};

/// The agents' TLS configuration, with the identity's files when there is
/// one: they must outlive every agent.
pub(crate) fn tls_config(config: &ClientConfig) -> Result<(TlsConfig, Option<IdentityFiles>)> {
    let mut tls = TlsConfig::builder()
        .danger_accept_invalid_certs(config.accept_invalid_certs)
        .danger_accept_invalid_hosts(config.accept_invalid_certs);
    if !config.accept_invalid_certs {
        let roots = config
            .trusted_roots()
            .iter()
            .fold(TrustStore::builder(), |store, cert| {
                store.certificate_from_pem(to_pem("CERTIFICATE", cert))
            });
        tls = tls.trust_store(roots.build());
    }
    let mut files = None;
    if let Some(id) = &config.identity {
        let chain: String = id
            .cert_chain()
            .iter()
            .map(|cert| to_pem("CERTIFICATE", cert))
            .collect();
        let key = to_pem(key_label(id.key()), id.key().secret_der());
        let held = IdentityFiles {
            chain: Secret::new("volley-identity-chain", chain.as_bytes()).map_err(unwritable)?,
            key: Secret::new("volley-identity-key", key.as_bytes()).map_err(unwritable)?,
        };
        tls = tls.identity(Identity::from_pem_file(
            held.chain.path.clone(),
            Some(PrivateKey::from_pem_file(held.key.path.clone(), None)),
        ));
        files = Some(held);
    }
    Ok((tls.build(), files))
}

fn unwritable(e: io::Error) -> Error {
    Error::new(
        ErrorKind::Other,
        "the client identity could not be handed to libcurl",
    )
    .with_source(e)
}

/// The identity's certificate chain and key, where libcurl reads them at
/// each handshake.
#[derive(Debug)]
pub(crate) struct IdentityFiles {
    chain: Secret,
    key: Secret,
}

/// A file only its owner may read (on Unix), removed when the client is
/// dropped: in `/dev/shm` where there is one (memory, not a disk), else in
/// the temporary directory.
#[derive(Debug)]
struct Secret {
    path: PathBuf,
}

impl Secret {
    fn new(name: &str, bytes: &[u8]) -> io::Result<Secret> {
        let shm = std::path::Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        };
        let path = dir.join(format!(
            "{name}-{}-{:016x}.pem",
            std::process::id(),
            unique_suffix()
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path)?;
        let secret = Secret { path };
        file.write_all(bytes)?;
        Ok(secret)
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A name no other client of this process chose.
fn unique_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
