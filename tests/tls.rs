//! Certificates are verified by default on every adapter; accepting an
//! invalid one takes `danger_accept_invalid_certs(true)`. A TLS handshake
//! that stalls ends at the connect timeout, as a connect error.
//!
//! The server is a small rustls server on 127.0.0.1 with a self-signed
//! certificate for `localhost` (tests/fixtures).
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use volley_core::{Error, ErrorKind, Fetcher, Request, Response};

/// Serves `n` TLS connections, each answered `200 secret`.
fn serve_tls(n: usize) -> u16 {
    let cert = CertificateDer::from(include_bytes!("fixtures/localhost.cert.der").to_vec());
    let key =
        PrivateKeyDer::try_from(include_bytes!("fixtures/localhost.key.der").to_vec()).unwrap();
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
    thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(stream) = stream else { continue };
            let config = config.clone();
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
                let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret");
                // A clean TLS close: libcurl's rustls backend treats a bare
                // TCP close as a truncation attack.
                tls.conn.send_close_notify();
                let _ = tls.flush();
                thread::sleep(Duration::from_millis(200));
            });
        }
    });
    port
}

/// Accepts `n` connections and never answers on them: a TLS handshake
/// that stalls.
fn serve_silence(n: usize) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(n) {
            held.push(stream);
        }
        thread::sleep(Duration::from_secs(5));
    });
    port
}

/// A stalled handshake ends at the connect timeout, as a connect error,
/// well before the request's own timeout.
fn check_stalled(name: &str, result: Result<Response, Error>) {
    let err = result.expect_err("nothing answers");
    assert_eq!(err.kind(), ErrorKind::Connect, "{name}: {err}");
    eprintln!("{name}: stalled handshake: {err}");
}

fn check(name: &str, verified: Result<Response, Error>, trusting: Result<Response, Error>) {
    let err = verified.expect_err("a self-signed certificate is refused by default");
    assert_eq!(err.kind(), ErrorKind::Connect, "{name}: {err}");
    eprintln!("{name}: refused by default: {err}");
    let resp = trusting.unwrap_or_else(|e| panic!("{name}: accepted when told to: {e}"));
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().as_ref(), b"secret");
}

macro_rules! tls_test {
    ($name:ident, $client:ty, $block_on:path) => {
        #[test]
        fn $name() {
            let port = serve_tls(2);
            let url = format!("https://localhost:{port}/");
            let get = || Request::get(&url).build().unwrap();
            let strict = <$client>::builder()
                .timeout(Duration::from_secs(5))
                .build()
                .unwrap();
            let trusting = <$client>::builder()
                .timeout(Duration::from_secs(5))
                .danger_accept_invalid_certs(true)
                .build()
                .unwrap();
            let (verified, accepted) =
                $block_on(async { (strict.fetch(get()).await, trusting.fetch(get()).await) });
            check(stringify!($name), verified, accepted);
        }
    };
}

macro_rules! stalled_handshake_test {
    ($name:ident, $client:ty, $block_on:path) => {
        #[test]
        fn $name() {
            let port = serve_silence(1);
            let url = format!("https://localhost:{port}/");
            let client = <$client>::builder()
                .timeout(Duration::from_secs(30))
                .connect_timeout(Duration::from_millis(300))
                .build()
                .unwrap();
            let result = $block_on(client.fetch(Request::get(&url).build().unwrap()));
            check_stalled(stringify!($name), result);
        }
    };
}

stalled_handshake_test!(
    tokio_stalled_handshake,
    volley_tokio::Client,
    support::tokio_block_on
);
stalled_handshake_test!(
    async_std_stalled_handshake,
    volley_async_std::Client,
    support::async_std_block_on
);
stalled_handshake_test!(
    smol_stalled_handshake,
    volley_smol::Client,
    support::smol_block_on
);

tls_test!(tokio, volley_tokio::Client, support::tokio_block_on);
tls_test!(
    async_std,
    volley_async_std::Client,
    support::async_std_block_on
);
tls_test!(smol, volley_smol::Client, support::smol_block_on);

#[test]
fn blocking() {
    let port = serve_tls(2);
    let url = format!("https://localhost:{port}/");
    let get = || Request::get(&url).build().unwrap();
    let strict = volley_blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let trusting = volley_blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    check("blocking", strict.fetch(get()), trusting.fetch(get()));
}

#[test]
fn blocking_stalled_handshake() {
    let port = serve_silence(1);
    let client = volley_blocking::Client::builder()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}/");
    check_stalled(
        "blocking_stalled_handshake",
        client.fetch(Request::get(&url).build().unwrap()),
    );
}
