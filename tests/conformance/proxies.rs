//! Proxies, decided by volley-core and carried by every adapter: plain
//! `http` goes to the proxy in absolute form, `https` through a `CONNECT`
//! tunnel; the proxy URL's credentials go to the proxy as
//! `Proxy-Authorization` and never to the origin; a proxy that refuses is a
//! typed error; `no_proxy()` goes direct; a proxy that is not `http://`
//! fails the build.

use std::time::Duration;

use volley_core::ErrorKind;
use volley_core::http::Method;
use volley_mock::MockServer;

use crate::json_of;
use crate::support::proxy::ProxyServer;
use crate::support::tls::serve_tls;
use crate::support::{Adapter, Opts};

/// `alice:s3cret`, as `Proxy-Authorization` carries it.
const ALICE: &str = "Basic YWxpY2U6czNjcmV0";

fn opts(origin: String, proxy: String) -> Opts {
    Opts::new(origin)
        .timeout(Duration::from_secs(10))
        .proxy(proxy)
}

fn plain_http_goes_to_the_proxy_in_absolute_form(adapter: Adapter) {
    let origin = MockServer::start();
    let proxy = ProxyServer::start();
    let session = adapter.session(opts(String::new(), proxy.url(None)));
    let user = json_of(session.get(&format!("{}/users/3?x=1", origin.url())));
    assert_eq!(user["id"], 3);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, Method::GET);
    assert_eq!(seen[0].target, format!("{}/users/3?x=1", origin.url()));
}

fn https_goes_through_a_tunnel(adapter: Adapter) {
    let origin = serve_tls(1);
    let proxy = ProxyServer::start();
    let session = adapter.session(opts(String::new(), proxy.url(None)).accept_invalid_certs());
    let resp = session.get(&origin.url("/secret")).unwrap();
    assert_eq!(resp.bytes().as_ref(), b"secret");
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].method, Method::CONNECT);
    assert_eq!(seen[0].target, format!("localhost:{}", origin.port));
    let heads = origin.heads();
    assert!(
        heads[0].starts_with("GET /secret HTTP/1.1\r\n"),
        "{heads:?}"
    );
}

fn credentials_go_to_the_proxy_and_never_to_the_origin(adapter: Adapter) {
    let origin = serve_tls(1);
    let proxy = ProxyServer::requiring(ALICE);
    let session = adapter
        .session(opts(String::new(), proxy.url(Some("alice:s3cret"))).accept_invalid_certs());
    let resp = session.get(&origin.url("/secret")).unwrap();
    assert_eq!(resp.status(), 200);
    let seen = proxy.seen();
    let connect = seen.iter().find(|s| s.method == Method::CONNECT).unwrap();
    assert_eq!(connect.headers["proxy-authorization"], ALICE);
    let head = origin.heads()[0].clone();
    assert!(
        !head.to_ascii_lowercase().contains("proxy-authorization"),
        "{head}"
    );
    assert!(!head.contains("YWxp") && !head.contains("alice"), "{head}");
}

fn plain_http_carries_the_credentials_to_the_proxy(adapter: Adapter) {
    let origin = MockServer::start();
    let proxy = ProxyServer::requiring(ALICE);
    let session = adapter.session(opts(String::new(), proxy.url(Some("alice:s3cret"))));
    let resp = session.get(&format!("{}/users/1", origin.url())).unwrap();
    assert_eq!(resp.status(), 200);
    let seen = proxy.seen();
    assert!(seen.iter().all(|s| {
        s.headers
            .get("proxy-authorization")
            .is_some_and(|v| v == ALICE)
    }));
}

fn a_proxy_that_refuses_is_a_typed_error(adapter: Adapter) {
    let origin = serve_tls(1);
    let proxy = ProxyServer::requiring(ALICE);
    let session = adapter.session(opts(String::new(), proxy.url(None)).accept_invalid_certs());
    let err = session.get(&origin.url("/secret")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(origin.heads().is_empty(), "nothing reached the origin");
}

fn no_proxy_goes_direct(adapter: Adapter) {
    let origin = MockServer::start();
    let proxy = ProxyServer::start();
    let session = adapter.session(Opts::new(origin.url()).proxy(String::new()));
    assert_eq!(json_of(session.get("/users/2"))["id"], 2);
    assert!(proxy.seen().is_empty());
}

fn a_proxy_that_is_not_http_fails_the_build(adapter: Adapter) {
    for url in [
        "socks5://127.0.0.1:1080",
        "https://127.0.0.1:3128",
        "http://",
    ] {
        let err = adapter
            .try_session(Opts::new(String::new()).proxy(url.to_string()))
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{url}: {err}");
    }
}

crate::on_every_adapter!(
    #[ignore(blocking) = "ureq reaches every origin through a CONNECT tunnel, plain http too"]
    plain_http_goes_to_the_proxy_in_absolute_form,
    #[ignore(blocking) = "ureq reaches every origin through a CONNECT tunnel, plain http too"]
    plain_http_carries_the_credentials_to_the_proxy,
    https_goes_through_a_tunnel,
    credentials_go_to_the_proxy_and_never_to_the_origin,
    a_proxy_that_refuses_is_a_typed_error,
    no_proxy_goes_direct,
    a_proxy_that_is_not_http_fails_the_build,
);
