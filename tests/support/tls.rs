//! The certificate fixture: a small rustls server (on ring) on 127.0.0.1,
//! answering each connection's request `200 secret` and recording the
//! request's head and whether the client presented a certificate.
//!
//! It serves what a [`ServerTls`] holds: the fixed self-signed certificate
//! for `localhost` of tests/fixtures ([`serve_tls`]), or a chain from a
//! certificate authority made at test time ([`TestCa`], with rcgen), and
//! may require a client certificate signed by a given CA (mutual TLS).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::WebPkiClientVerifier;

/// What the server presents and asks for.
pub struct ServerTls {
    /// The server's certificate, then any intermediates.
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
    /// `Some(roots)`: a client certificate signed by one of them is required.
    pub client_roots: Option<Vec<CertificateDer<'static>>>,
}

impl ServerTls {
    /// The fixed self-signed certificate for `localhost` (tests/fixtures).
    pub fn self_signed() -> ServerTls {
        let cert = CertificateDer::from(include_bytes!("../fixtures/localhost.cert.der").to_vec());
        let key = PrivateKeyDer::try_from(include_bytes!("../fixtures/localhost.key.der").to_vec())
            .unwrap();
        ServerTls {
            chain: vec![cert],
            key,
            client_roots: None,
        }
    }

    /// The same, requiring a client certificate signed by `ca`.
    pub fn requiring_client_cert(mut self, ca: &TestCa) -> ServerTls {
        self.client_roots = Some(vec![ca.der()]);
        self
    }
}

/// A certificate authority made at test time, and what it signs.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    /// The CA's certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A server certificate for `localhost` and 127.0.0.1, signed by this CA.
    pub fn server(&self) -> ServerTls {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        ServerTls {
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
            client_roots: None,
        }
    }

    /// A client certificate and its key, PEM, signed by this CA.
    pub fn client_identity(&self, name: &str) -> (String, String) {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, name);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

/// A TLS server for `n` connections; [`TlsServer::heads`] has what arrived.
pub struct TlsServer {
    pub port: u16,
    heads: Arc<Mutex<Vec<String>>>,
    client_certs: Arc<Mutex<Vec<bool>>>,
}

impl TlsServer {
    /// The request heads received so far, as text.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// For each request received, whether its client presented a
    /// certificate.
    pub fn client_certs(&self) -> Vec<bool> {
        self.client_certs.lock().unwrap().clone()
    }

    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn ip_url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }
}

/// Serves `n` TLS connections with the self-signed `localhost`
/// certificate, each answered `200 secret`.
pub fn serve_tls(n: usize) -> TlsServer {
    serve_tls_with(n, ServerTls::self_signed())
}

/// Serves `n` TLS connections as `tls` says, each answered `200 secret`.
pub fn serve_tls_with(n: usize, tls: ServerTls) -> TlsServer {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match tls.client_roots {
        Some(roots) => {
            let mut store = rustls::RootCertStore::empty();
            for root in roots {
                store.add(root).unwrap();
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider)
                .build()
                .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let config = Arc::new(builder.with_single_cert(tls.chain, tls.key).unwrap());
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let client_certs = Arc::new(Mutex::new(Vec::new()));
    let (log, certs_log) = (heads.clone(), client_certs.clone());
    thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(stream) = stream else { continue };
            let (config, log, certs_log) = (config.clone(), log.clone(), certs_log.clone());
            thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let Ok(conn) = rustls::ServerConnection::new(config) else {
                    return;
                };
                let mut tls = rustls::StreamOwned::new(conn, stream);
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                certs_log
                    .lock()
                    .unwrap()
                    .push(tls.conn.peer_certificates().is_some());
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret");
                // A clean TLS close: libcurl's rustls backend treats a bare
                // TCP close as a truncation attack.
                tls.conn.send_close_notify();
                let _ = tls.flush();
                thread::sleep(Duration::from_millis(200));
            });
        }
    });
    TlsServer {
        port,
        heads,
        client_certs,
    }
}
