//! HTTP/2: with `http2_prior_knowledge()` tokio and smol speak h2c to
//! volley-mock and say so in `Response::version()`, many requests at once
//! share a few connections, and a pool size caps connections, not requests;
//! over https the server chooses HTTP/2 by ALPN. async-std and blocking
//! speak HTTP/1.1 only: there `http2_prior_knowledge()` is a build error.
//! Without it, plain http is HTTP/1.1 on every adapter.

use std::time::Duration;

use volley_core::http::Version;
use volley_core::{ErrorKind, Fetcher, Request, gather};
use volley_mock::MockServer;

use crate::json_of;
use crate::support::{Adapter, Opts};

/// Whether the adapter's client speaks HTTP/2.
fn speaks_http2(adapter: Adapter) -> bool {
    matches!(adapter, Adapter::Tokio | Adapter::Smol)
}

fn h2c(server: &MockServer) -> Opts {
    Opts::new(server.url())
        .timeout(Duration::from_secs(30))
        .http2_prior_knowledge()
}

fn http1_is_the_default_over_plain_http(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    let resp = session.get("/users/1").unwrap();
    assert_eq!(resp.version(), Version::HTTP_11);
    assert_eq!(json_of(Ok(resp))["id"], 1);
}

fn prior_knowledge_speaks_http2_or_is_a_build_error(adapter: Adapter) {
    let server = MockServer::start();
    let built = adapter.try_session(h2c(&server));
    if !speaks_http2(adapter) {
        let err = built
            .err()
            .expect("an HTTP/1.1-only adapter refuses to build");
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.to_string().contains("HTTP/1.1 only"), "{err}");
        assert_eq!(server.stats().connections, 0);
        return;
    }
    let session = built.unwrap();
    for id in 1..=3 {
        let resp = session.get(&format!("/users/{id}")).unwrap();
        assert_eq!(resp.version(), Version::HTTP_2);
        assert_eq!(json_of(Ok(resp))["id"], id);
    }
    // A body sent, and an error status, over the same stream machinery.
    let posted = session
        .send(
            Request::post("/echo")
                .json(&serde_json::json!({"n": 7}))
                .build()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(posted.version(), Version::HTTP_2);
    assert_eq!(posted.status(), 200);
    let missing = session.get("/status/404").unwrap();
    assert_eq!(
        (missing.version(), missing.status().as_u16()),
        (Version::HTTP_2, 404)
    );
    let stats = server.stats();
    assert_eq!(stats.requests, 5, "{stats:?}");
    assert!(
        stats.connections <= 4,
        "one connection per agent: {stats:?}"
    );
}

fn https_negotiates_http2_by_alpn(adapter: Adapter) {
    let server = MockServer::builder().tls().start();
    let https = server.https_url().unwrap();
    let session = adapter.session(
        Opts::new(https)
            .timeout(Duration::from_secs(30))
            .accept_invalid_certs(),
    );
    let resp = session.get("/users/2").unwrap();
    let expected = if speaks_http2(adapter) {
        Version::HTTP_2
    } else {
        Version::HTTP_11
    };
    assert_eq!(resp.version(), expected);
    assert_eq!(json_of(Ok(resp))["id"], 2);
}

crate::on_every_adapter!(
    http1_is_the_default_over_plain_http,
    prior_knowledge_speaks_http2_or_is_a_build_error,
    https_negotiates_http2_by_alpn,
);

/// 200 requests at once over h2c: all HTTP/2, a handful of connections,
/// many more requests than connections in flight at the server.
async fn many_requests_share_a_few_connections<F: Fetcher>(make: fn(Opts) -> F) {
    let server = MockServer::builder()
        .latency(Duration::from_millis(200))
        .start();
    let client = make(h2c(&server));
    let results = gather((1..=200).map(|id| {
        let client = client.clone();
        async move {
            let resp = client
                .fetch(Request::get(format!("/users/{id}")).build()?)
                .await?;
            Ok::<_, volley_core::Error>((resp.version(), resp.json::<serde_json::Value>()?))
        }
    }))
    .await;
    for (id, result) in (1..=200).zip(results) {
        let (version, user) = result.unwrap();
        assert_eq!(version, Version::HTTP_2);
        assert_eq!(user["id"], id);
    }
    let stats = server.stats();
    assert_eq!(stats.requests, 200);
    // tokio: one connection; smol: one per agent, and a few more while a
    // burst waits to learn that the first multiplexes.
    assert!(stats.connections <= 40, "{stats:?}");
    assert!(stats.max_in_flight > stats.connections, "{stats:?}");
}

/// A pool of 2 caps the connections, not the requests: 100 at once still
/// all go out on HTTP/2.
async fn a_pool_size_caps_connections_not_streams<F: Fetcher>(make: fn(Opts) -> F) {
    let server = MockServer::builder()
        .latency(Duration::from_millis(200))
        .start();
    let client = make(h2c(&server).pool_size(2));
    let results = gather((1..=100).map(|id| {
        let client = client.clone();
        async move {
            client
                .fetch(Request::get(format!("/users/{id}")).build()?)
                .await
        }
    }))
    .await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
    );
    let stats = server.stats();
    assert!(stats.connections <= 2, "{stats:?}");
    assert!(stats.max_in_flight > 2, "{stats:?}");
}

crate::on_every_async_adapter!(
    #[ignore(async_std) = "HTTP/1.1 only: http2_prior_knowledge() is a build error there (prior_knowledge_speaks_http2_or_is_a_build_error)"]
    many_requests_share_a_few_connections,
    #[ignore(async_std) = "HTTP/1.1 only: http2_prior_knowledge() is a build error there (prior_knowledge_speaks_http2_or_is_a_build_error)"]
    a_pool_size_caps_connections_not_streams,
);
