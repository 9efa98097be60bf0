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
use support::{Adapter, Opts};
use volley_core::ErrorKind;

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

fn a_certificate_is_verified_unless_told_otherwise(adapter: Adapter) {
    let server = serve_tls(2);
    let url = server.url("/");
    let opts = Opts::new(String::new()).timeout(Duration::from_secs(5));
    let err = adapter
        .session(opts.clone())
        .get(&url)
        .expect_err("a self-signed certificate is refused by default");
    assert_eq!(err.kind(), ErrorKind::Connect, "{adapter:?}: {err}");
    eprintln!("{adapter:?}: refused by default: {err}");
    let resp = adapter
        .session(opts.accept_invalid_certs())
        .get(&url)
        .unwrap_or_else(|e| panic!("{adapter:?}: accepted when told to: {e}"));
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().as_ref(), b"secret");
}

/// A stalled handshake ends at the connect timeout, as a connect error,
/// well before the request's own timeout.
fn a_stalled_handshake_ends_at_the_connect_timeout(adapter: Adapter) {
    let port = serve_silence(1);
    let opts = Opts::new(String::new())
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_millis(300));
    let err = adapter
        .session(opts)
        .get(&format!("https://localhost:{port}/"))
        .expect_err("nothing answers");
    assert_eq!(err.kind(), ErrorKind::Connect, "{adapter:?}: {err}");
    eprintln!("{adapter:?}: stalled handshake: {err}");
}

on_every_adapter!(
    a_certificate_is_verified_unless_told_otherwise,
    a_stalled_handshake_ends_at_the_connect_timeout,
);
