//! TLS trust and the client identity, decided here once: which roots are
//! trusted, and what a PEM the caller hands over must hold. Certificates
//! and keys are kept as DER ([`pki_types`]); each adapter hands them to its
//! TLS client as they are. No TLS implementation is named here.

use std::fmt;

use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, ErrorKind, Result};

/// The roots trusted unless [`tls_built_in_roots(false)`](crate::ClientBuilder::tls_built_in_roots)
/// is set, the same on every adapter: Mozilla's root certificates, as the
/// `webpki-root-certs` crate ships them (not the operating system's store).
///
/// ```
/// assert!(volley_core::adapter::built_in_roots().len() > 100);
/// ```
pub fn built_in_roots() -> &'static [CertificateDer<'static>] {
    webpki_root_certs::TLS_SERVER_ROOT_CERTS
}

/// Every certificate in `pem` (one or more `CERTIFICATE` sections), as DER;
/// an [`ErrorKind::InvalidRequest`] when there is none, a section is
/// malformed, or a section's content is not a DER certificate.
///
/// ```
/// use volley_core::{ErrorKind, adapter::parse_certificates};
/// assert_eq!(parse_certificates(b"not a certificate").unwrap_err().kind(), ErrorKind::InvalidRequest);
/// ```
pub fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>> {
    let mut certs = Vec::new();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| bad_pem("a certificate", e))?;
        if !is_der_sequence(&cert) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "a CERTIFICATE section of the PEM does not hold a DER certificate",
            ));
        }
        certs.push(cert);
    }
    if certs.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            "no CERTIFICATE section found in the PEM",
        ));
    }
    Ok(certs)
}

/// A client certificate chain and its private key, presented to servers
/// that ask for one (mutual TLS). Made by
/// [`ClientBuilder::identity`](crate::ClientBuilder::identity); `Debug`
/// never shows the key.
pub struct Identity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// The identity in `cert_chain_pem` (the client's certificate first,
    /// then any intermediates) and `key_pem` (its private key: PKCS#8,
    /// PKCS#1 RSA or SEC1 EC); an [`ErrorKind::InvalidRequest`] when either
    /// cannot be read.
    pub fn from_pem(cert_chain_pem: &[u8], key_pem: &[u8]) -> Result<Identity> {
        let chain = parse_certificates(cert_chain_pem)?;
        let key =
            PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| bad_pem("a private key", e))?;
        if !is_der_sequence(key.secret_der()) {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "the private key section of the PEM does not hold a DER key",
            ));
        }
        Ok(Identity { chain, key })
    }

    /// The certificate chain, the client's own first, as DER.
    pub fn cert_chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The private key, as DER.
    pub fn key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            chain: self.chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// `der` in PEM under `label` (`CERTIFICATE`, `PRIVATE KEY`, ...), lines of
/// 64 characters: for TLS clients that only read PEM.
///
/// ```
/// let pem = volley_core::adapter::to_pem("CERTIFICATE", &[0x30, 0x00]);
/// assert_eq!(pem, "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n");
/// ```
pub fn to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // Base64 is ASCII.
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The PEM label of a private key's DER form.
pub fn key_label(key: &PrivateKeyDer<'_>) -> &'static str {
    match key {
        PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
        PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
        _ => "PRIVATE KEY",
    }
}

fn bad_pem(what: &str, e: pki_types::pem::Error) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        format!("the PEM does not hold {what}: {e}"),
    )
}

/// Whether `der` is one DER `SEQUENCE` spanning all of it, as every
/// certificate and private key is: a cheap check that a PEM section holds
/// what its label says, not a parse of it.
fn is_der_sequence(der: &[u8]) -> bool {
    let [0x30, first, rest @ ..] = der else {
        return false;
    };
    let (len, rest) = match *first {
        n @ 0..=0x7f => (usize::from(n), rest),
        n @ 0x81..=0x84 => {
            let width = usize::from(n & 0x7f);
            if rest.len() < width {
                return false;
            }
            let (bytes, rest) = rest.split_at(width);
            (
                bytes
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
                rest,
            )
        }
        _ => return false,
    };
    len == rest.len() && len > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_sequences_are_told_from_other_bytes() {
        assert!(is_der_sequence(&[0x30, 0x01, 0x00]));
        assert!(is_der_sequence(&[0x30, 0x81, 0x01, 0x00]));
        assert!(!is_der_sequence(&[0x30, 0x02, 0x00]));
        assert!(!is_der_sequence(&[0x31, 0x01, 0x00]));
        assert!(!is_der_sequence(&[0x30, 0x00]));
        assert!(!is_der_sequence(b"hello"));
        assert!(built_in_roots().iter().all(|c| is_der_sequence(c)));
    }

    #[test]
    fn pem_round_trips() {
        let root = &built_in_roots()[0];
        let pem = to_pem("CERTIFICATE", root);
        assert_eq!(
            parse_certificates(pem.as_bytes()).unwrap(),
            vec![root.clone()]
        );
        let two = format!("{pem}{pem}");
        assert_eq!(parse_certificates(two.as_bytes()).unwrap().len(), 2);
    }

    #[test]
    fn bad_pem_is_an_invalid_request() {
        let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        let truncated = "-----BEGIN CERTIFICATE-----\nMIIB\n";
        for pem in ["", "hello", garbage, truncated] {
            let err = parse_certificates(pem.as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{pem:?}");
        }
        let cert = to_pem("CERTIFICATE", &built_in_roots()[0]);
        let err = Identity::from_pem(cert.as_bytes(), b"no key").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    }

    #[test]
    fn identity_debug_hides_the_key() {
        let cert = to_pem("CERTIFICATE", &built_in_roots()[0]);
        let key = to_pem("PRIVATE KEY", &[0x30, 0x03, 0x02, 0x01, 0x2a]);
        let id = Identity::from_pem(cert.as_bytes(), key.as_bytes()).unwrap();
        assert_eq!(key_label(id.key()), "PRIVATE KEY");
        assert_eq!(format!("{id:?}"), "Identity { certificates: 1, .. }");
        assert_eq!(
            id.clone().key().secret_der(),
            [0x30, 0x03, 0x02, 0x01, 0x2a]
        );
    }
}
