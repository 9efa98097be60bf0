//! TLS trust, decided by volley-core and carried by every adapter: a
//! certificate from an unknown authority is refused by default; an added
//! root is trusted, for host names and IP addresses alike; without the
//! built-in roots only the added ones are; a client identity is presented
//! to a server that requires one (mutual TLS), and without it that server
//! refuses; a PEM that cannot be read fails the build. The authorities and
//! certificates are made at test time (`support::tls::TestCa`).

use std::time::Duration;

use volley_core::ErrorKind;

use crate::support::tls::{TestCa, TlsServer, serve_tls_with};
use crate::support::{Adapter, Opts};

fn opts() -> Opts {
    Opts::new(String::new()).timeout(Duration::from_secs(10))
}

/// Checks that a client of `adapter` built from `opts` fails to reach
/// `server` with a `Connect` error (`what` says why it should), before any
/// request head reached the server.
fn assert_refused(adapter: Adapter, opts: Opts, server: &TlsServer, what: &str) {
    let err = adapter
        .session(opts)
        .get(&server.url("/secret"))
        .expect_err(what);
    assert_eq!(err.kind(), ErrorKind::Connect, "{what}: {err}");
    assert!(server.heads().is_empty(), "{what}: {:?}", server.heads());
}

fn a_certificate_from_an_unknown_authority_is_refused_by_default(adapter: Adapter) {
    let ca = TestCa::new("unknown CA");
    let server = serve_tls_with(1, ca.server());
    assert_refused(adapter, opts(), &server, "not trusted");
}

fn an_added_root_is_trusted(adapter: Adapter) {
    let ca = TestCa::new("company CA");
    let server = serve_tls_with(1, ca.server());
    let session = adapter.session(opts().root_certificate(ca.pem()));
    let resp = session.get(&server.url("/secret")).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().as_ref(), b"secret");
    assert!(server.heads()[0].starts_with("GET /secret HTTP/1.1\r\n"));
}

fn an_ip_address_is_checked_against_the_certificate(adapter: Adapter) {
    let ca = TestCa::new("company CA");
    let server = serve_tls_with(1, ca.server());
    let session = adapter.session(opts().root_certificate(ca.pem()));
    let resp = session.get(&server.ip_url("/secret")).unwrap();
    assert_eq!(resp.bytes().as_ref(), b"secret");
}

fn without_built_in_roots_only_added_roots_are_trusted(adapter: Adapter) {
    let ca = TestCa::new("company CA");
    let other = TestCa::new("other CA");
    let server = serve_tls_with(2, ca.server());
    let trusting = adapter.session(opts().built_in_roots(false).root_certificate(ca.pem()));
    let resp = trusting.get(&server.url("/secret")).unwrap();
    assert_eq!(resp.bytes().as_ref(), b"secret");
    let elsewhere = adapter.session(opts().built_in_roots(false).root_certificate(other.pem()));
    let err = elsewhere
        .get(&server.url("/secret"))
        .expect_err("signed by a CA not added");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert_eq!(server.heads().len(), 1);
}

fn a_server_that_requires_a_client_certificate_refuses_a_client_without(adapter: Adapter) {
    let ca = TestCa::new("company CA");
    let server = serve_tls_with(2, ca.server().requiring_client_cert(&ca));
    let opts = opts().root_certificate(ca.pem());
    assert_refused(adapter, opts, &server, "no client certificate");
}

fn the_identity_is_presented_to_a_server_that_requires_one(adapter: Adapter) {
    let ca = TestCa::new("company CA");
    let server = serve_tls_with(1, ca.server().requiring_client_cert(&ca));
    let (cert, key) = ca.client_identity("client-1");
    let session = adapter.session(opts().root_certificate(ca.pem()).identity(cert, key));
    let resp = session.get(&server.url("/secret")).unwrap();
    assert_eq!(resp.bytes().as_ref(), b"secret");
    assert_eq!(server.client_certs(), [true]);
}

fn an_identity_from_an_authority_the_server_does_not_trust_is_refused(adapter: Adapter) {
    let ca = TestCa::new("company CA");
    let other = TestCa::new("other CA");
    let server = serve_tls_with(2, ca.server().requiring_client_cert(&ca));
    let (cert, key) = other.client_identity("stranger");
    let opts = opts().root_certificate(ca.pem()).identity(cert, key);
    assert_refused(adapter, opts, &server, "accepted");
}

fn pem_that_cannot_be_read_fails_the_build(adapter: Adapter) {
    let ca = TestCa::new("company CA");
    let (cert, key) = ca.client_identity("client-1");
    let garbage = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
    let cases = [
        ("no PEM", opts().root_certificate("not a certificate")),
        ("not DER", opts().root_certificate(garbage)),
        ("a key as a root", opts().root_certificate(key.clone())),
        ("no key", opts().identity(cert.clone(), "")),
        (
            "a certificate as the key",
            opts().identity(cert.clone(), cert),
        ),
        ("no certificate", opts().identity(String::new(), key)),
        ("no root at all", opts().built_in_roots(false)),
    ];
    for (what, opts) in cases {
        let err = adapter.try_session(opts).err().expect(what);
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{what}: {err}");
    }
}

crate::on_every_adapter!(
    a_certificate_from_an_unknown_authority_is_refused_by_default,
    an_added_root_is_trusted,
    an_ip_address_is_checked_against_the_certificate,
    without_built_in_roots_only_added_roots_are_trusted,
    a_server_that_requires_a_client_certificate_refuses_a_client_without,
    the_identity_is_presented_to_a_server_that_requires_one,
    an_identity_from_an_authority_the_server_does_not_trust_is_refused,
    pem_that_cannot_be_read_fails_the_build,
);
