//! The certificate fixture: a small rustls server on 127.0.0.1 with a
//! self-signed certificate for `localhost` (tests/fixtures), answering each
//! connection's request `200 secret` and recording the request's head.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A TLS server for `n` connections; [`TlsServer::heads`] has what arrived.
pub struct TlsServer {
    pub port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl TlsServer {
    /// The request heads received so far, as text.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    /// `https://localhost:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }
}

/// Serves `n` TLS connections, each answered `200 secret`.
pub fn serve_tls(n: usize) -> TlsServer {
    let cert = CertificateDer::from(include_bytes!("../fixtures/localhost.cert.der").to_vec());
    let key =
        PrivateKeyDer::try_from(include_bytes!("../fixtures/localhost.key.der").to_vec()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let heads = Arc::new(Mutex::new(Vec::new()));
    let log = heads.clone();
    thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(stream) = stream else { continue };
            let (config, log) = (config.clone(), log.clone());
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
    TlsServer { port, heads }
}
