//! volley-tokio against the in-process mock server.

use std::time::{Duration, Instant};

use futures::future::{Either, select};
use serde_json::{Value, json};
use volley_core::{
    ErrorKind, Fetcher, FetcherExt, Redirects, Request, Response, gather, gather_limited, rt::Timer,
};
use volley_mock::MockServer;
use volley_tokio::{Client, TokioTimer};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn get(client: &Client, path: &str) -> volley_core::Result<Response> {
    client.fetch(Request::get(path).build()?).await
}

#[tokio::test]
async fn get_user_decodes() {
    let server = MockServer::start();
    let resp = get(&client(&server), "/users/1").await.expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().to_string(), format!("{}/users/1", server.url()));
    let user: Value = resp.json().expect("json");
    assert_eq!(user["id"], 1);
    assert!(user["name"].is_string(), "{user}");
    assert!(user["email"].is_string(), "{user}");
}

#[tokio::test]
async fn base_url_default_header_and_user_agent_reach_the_server() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&format!("{}/", server.url()))
        .default_header("x-api-key", "secret")
        .default_header("x-overridden", "default")
        .build()
        .expect("client");
    let req = Request::get("/echo")
        .query(&[("q", "a b")])
        .header("x-overridden", "mine")
        .build()
        .expect("request");
    let echo: Value = client.fetch(req).await.expect("echo").json().expect("json");
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "q=a+b");
    assert_eq!(echo["headers"]["x-api-key"], "secret");
    assert_eq!(echo["headers"]["x-overridden"], "mine");
    let ua = echo["headers"]["user-agent"].as_str().expect("user agent");
    assert!(ua.starts_with("volley/"), "{ua}");

    let custom = Client::builder()
        .base_url(&server.url())
        .user_agent("my-app/1.0")
        .build()
        .expect("client");
    let echo: Value = get(&custom, "/echo")
        .await
        .expect("echo")
        .json()
        .expect("json");
    assert_eq!(echo["headers"]["user-agent"], "my-app/1.0");
}

#[tokio::test]
async fn post_json_round_trips() {
    let server = MockServer::start();
    let body = json!({"title": "hello", "tags": ["a", "b"], "n": 3});
    let req = Request::post("/echo").json(&body).build().expect("request");
    let echo: Value = client(&server)
        .fetch(req)
        .await
        .expect("echo")
        .json()
        .expect("json");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["json"], body);
    assert_eq!(echo["headers"]["content-type"], "application/json");

    // A POST with no body still says so.
    let req = Request::post("/echo").build().expect("request");
    let echo: Value = client(&server)
        .fetch(req)
        .await
        .expect("echo")
        .json()
        .expect("json");
    assert_eq!(echo["body"], "");
    assert_eq!(echo["headers"]["content-length"], "0");
}

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let server = MockServer::start();
    let client = client(&server);
    for i in 0..100 {
        let resp = get(&client, &format!("/posts/{}", i % 10 + 1))
            .await
            .expect("response");
        assert_eq!(resp.status(), 200);
    }
    let stats = server.stats();
    assert_eq!(stats.requests, 100);
    assert_eq!(stats.connections, 1, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_caps_what_is_in_flight() {
    let server = MockServer::start();
    let client = client(&server);

    // The limit layer, shared by every request of a gather.
    let limited = client.clone().limit(10);
    let reqs = (1..=40).map(|i| {
        Request::get(format!("/posts/{i}"))
            .query(&[("delay_ms", "200")])
            .build()
            .expect("request")
    });
    let out = gather(reqs.map(|r| limited.fetch(r))).await;
    assert!(out.iter().all(|r| r.is_ok()));
    assert_eq!(server.stats().max_in_flight, 10);

    // And gather_limited, with the same result.
    server.reset_stats();
    let reqs = (1..=40).map(|i| {
        Request::get(format!("/users/{}", i % 10 + 1))
            .query(&[("delay_ms", "200")])
            .build()
            .expect("request")
    });
    let start = Instant::now();
    let out = gather_limited(reqs.map(|r| client.fetch(r)), 10).await;
    let took = start.elapsed();
    assert!(out.iter().all(|r| r.is_ok()));
    assert_eq!(server.stats().max_in_flight, 10);
    assert!(took >= Duration::from_millis(800), "{took:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pool_does_not_cap_concurrency() {
    let server = MockServer::start();
    let client = client(&server);
    let reqs = (1..=200).map(|i| {
        Request::get(format!("/posts/{}", i % 100 + 1))
            .query(&[("delay_ms", "300")])
            .build()
            .expect("request")
    });
    let start = Instant::now();
    let out = gather(reqs.map(|r| client.fetch(r))).await;
    let took = start.elapsed();
    let failed: Vec<_> = out.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "{failed:?}");
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 200, "{stats:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    eprintln!("200 concurrent requests of 300 ms took {took:?}");
}

#[tokio::test]
async fn error_statuses_are_ok_until_asked() {
    let server = MockServer::start();
    let resp = get(&client(&server), "/status/503")
        .await
        .expect("response");
    assert_eq!(resp.status(), 503);
    let err = resp.error_for_status().expect_err("503");
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[tokio::test]
async fn malformed_json_is_a_decode_error() {
    let server = MockServer::start();
    let resp = get(&client(&server), "/malformed").await.expect("response");
    let err = resp.json::<Value>().expect_err("malformed");
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[tokio::test]
async fn a_hanging_server_times_out() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let start = Instant::now();
    let err = get(&client, "/hang").await.expect_err("hang");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.url().is_some_and(|u| u.path() == "/hang"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));

    // A request's own timeout wins over the client's.
    let slow = Request::get("/users/1")
        .query(&[("delay_ms", "600")])
        .timeout(Duration::from_secs(5))
        .build()
        .expect("request");
    assert!(client.fetch(slow).await.is_ok());
    let hang = Request::get("/hang")
        .timeout(Duration::from_millis(100))
        .build()
        .expect("request");
    let err = client.fetch(hang).await.expect_err("hang");
    assert_eq!(err.kind(), ErrorKind::Timeout);
}

#[tokio::test]
async fn a_connection_dropped_without_a_response_is_connect() {
    let server = MockServer::start();
    let err = get(&client(&server), "/reset").await.expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    eprintln!("/reset: {err}");
}

#[tokio::test]
async fn bodies_are_capped_while_read() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .max_body_bytes(1_000_000)
        .build()
        .expect("client");
    let err = get(&client, "/big?bytes=10000000")
        .await
        .expect_err("too large");
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));

    let resp = get(&client, "/big?bytes=1000").await.expect("response");
    assert_eq!(resp.bytes().len(), 1000);

    // The client is still fine afterwards.
    assert!(get(&client, "/users/1").await.is_ok());
}

#[tokio::test]
async fn redirects_are_followed_by_volley_rules() {
    let server = MockServer::start();
    let client = client(&server);
    let resp = get(&client, "/redirect?to=/users/2")
        .await
        .expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/users/2");
    let user: Value = resp.json().expect("json");
    assert_eq!(user["id"], 2);

    let err = get(&client, "/redirect-loop").await.expect_err("loop");
    assert_eq!(err.kind(), ErrorKind::Redirect, "{err}");

    let manual = Client::builder()
        .base_url(&server.url())
        .redirects(Redirects::none())
        .build()
        .expect("client");
    let resp = get(&manual, "/redirect?to=/users/2")
        .await
        .expect("response");
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/users/2");
}

#[tokio::test]
async fn a_refused_connection_is_connect() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = Client::builder()
        .base_url(&format!("http://127.0.0.1:{port}"))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let err = get(&client, "/users/1").await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
    eprintln!("refused: {err}");
}

#[tokio::test]
async fn bad_requests_are_refused_before_sending() {
    let client = Client::new().expect("client");
    let err = get(&client, "/users/1").await.expect_err("no base URL");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_gather_leaves_the_client_usable() {
    let server = MockServer::start();
    let client = client(&server);
    let reqs = (1..=20).map(|i| {
        Request::get(format!("/posts/{i}"))
            .query(&[("delay_ms", "5000")])
            .build()
            .expect("request")
    });
    let all = gather(reqs.map(|r| client.fetch(r)));
    let all = std::pin::pin!(all);
    let outcome = select(all, TokioTimer.sleep(Duration::from_millis(200))).await;
    assert!(
        matches!(outcome, Either::Right(_)),
        "the gather ended early"
    );
    drop(outcome);

    let resp = get(&client, "/users/3").await.expect("response");
    let user: Value = resp.json().expect("json");
    assert_eq!(user["id"], 3);
}

#[tokio::test]
async fn the_timer_is_tokios() {
    let server = MockServer::start();
    let client = client(&server);
    let timer = client.timer();
    let start = timer.now();
    timer.sleep(Duration::from_millis(50)).await;
    assert!(timer.now() - start >= Duration::from_millis(50));
}

#[tokio::test]
async fn a_slow_body_times_out_too() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let err = get(&client, "/slow-body?ms=3000").await.expect_err("slow");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[tokio::test]
async fn a_failed_tls_handshake_is_connect() {
    // The mock speaks plain HTTP, so a TLS client hello gets no TLS answer.
    let server = MockServer::start();
    let url = server.url().replace("http://", "https://");
    let client = Client::builder()
        .base_url(&url)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let err = get(&client, "/users/1").await.expect_err("not TLS");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    eprintln!("tls: {err}");
}
