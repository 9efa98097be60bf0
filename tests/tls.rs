//! Certificates are verified by default on every adapter; accepting an
//! invalid one takes `danger_accept_invalid_certs(true)`. A TLS handshake
//! that stalls ends at the connect timeout, as a connect error.
//!
//! The server is the certificate fixture of `support::tls`.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::TcpListener;
use std::thread;
use std::time::Duration;

use support::tls::serve_tls;
use volley_core::{Error, ErrorKind, Fetcher, Request, Response};

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
            let port = serve_tls(2).port;
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
    let port = serve_tls(2).port;
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
