//! libcurl's TLS configuration (its rustls backend): the trust volley-core
//! decided, as libcurl takes it: the trusted roots as one PEM bundle file,
//! and the client identity as PEM files, the only way that backend reads a
//! client certificate. A file, not a bundle in memory: libcurl copies an
//! in-memory bundle into every connection (about 220 kB each with the
//! built-in roots), and keeps only the path of a file.

use std::io::{self, Write};
use std::path::PathBuf;

use isahc::tls::{Identity, PrivateKey, TlsConfig, TrustStore};
use volley_core::adapter::{ClientConfig, key_label, to_pem};
use volley_core::{Error, ErrorKind, Result};

/// The agents' TLS configuration, with the files it names: they must
/// outlive every agent.
pub(crate) fn tls_config(config: &ClientConfig) -> Result<(TlsConfig, TlsFiles)> {
    let mut tls = TlsConfig::builder()
        .danger_accept_invalid_certs(config.accept_invalid_certs)
        .danger_accept_invalid_hosts(config.accept_invalid_certs);
    let mut files = TlsFiles::default();
    if !config.accept_invalid_certs {
        let roots: String = config
            .trusted_roots()
            .iter()
            .map(|cert| to_pem("CERTIFICATE", cert))
            .collect();
        let roots = TempFile::new("volley-roots", roots.as_bytes()).map_err(unwritable)?;
        tls = tls.trust_store(TrustStore::from_file(roots.path.clone()));
        files._roots = Some(roots);
    }
    if let Some(id) = &config.identity {
        let chain: String = id
            .cert_chain()
            .iter()
            .map(|cert| to_pem("CERTIFICATE", cert))
            .collect();
        let key = to_pem(key_label(id.key()), id.key().secret_der());
        let chain = TempFile::new("volley-identity-chain", chain.as_bytes()).map_err(unwritable)?;
        let key = TempFile::new("volley-identity-key", key.as_bytes()).map_err(unwritable)?;
        tls = tls.identity(Identity::from_pem_file(
            chain.path.clone(),
            Some(PrivateKey::from_pem_file(key.path.clone(), None)),
        ));
        files._identity = Some((chain, key));
    }
    Ok((tls.build(), files))
}

fn unwritable(e: io::Error) -> Error {
    Error::new(
        ErrorKind::Other,
        "the trusted roots or the client identity could not be handed to libcurl",
    )
    .with_source(e)
}

/// The files libcurl reads at each handshake: the trusted roots, and the
/// identity's certificate chain and key.
#[derive(Debug, Default)]
pub(crate) struct TlsFiles {
    _roots: Option<TempFile>,
    _identity: Option<(TempFile, TempFile)>,
}

/// A file only its owner may read (on Unix), removed when the client is
/// dropped: in `/dev/shm` where there is one (memory, not a disk), else in
/// the temporary directory.
#[derive(Debug)]
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> io::Result<TempFile> {
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
        let file_ = TempFile { path };
        file.write_all(bytes)?;
        Ok(file_)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A name no other client of this process chose.
fn unique_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}
