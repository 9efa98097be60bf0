//! volley-blocking against the in-process mock server.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use volley_blocking::Client;
use volley_core::{ErrorKind, Redirects, Request, Response};
use volley_mock::MockServer;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

fn get(client: &Client, path: &str) -> volley_core::Result<Response> {
    client.fetch(Request::get(path).build()?)
}

#[test]
fn get_user_decodes() {
    let server = MockServer::start();
    let resp = get(&client(&server), "/users/1").expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().to_string(), format!("{}/users/1", server.url()));
    let user: Value = resp.json().expect("json");
    assert_eq!(user["id"], 1);
    assert!(user["name"].is_string(), "{user}");
    assert!(user["email"].is_string(), "{user}");
}

#[test]
fn base_url_default_header_and_user_agent_reach_the_server() {
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
    let echo: Value = client.fetch(req).expect("echo").json().expect("json");
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "q=a+b");
    assert_eq!(echo["headers"]["x-api-key"], "secret");
    assert_eq!(echo["headers"]["x-overridden"], "mine");
    let ua = echo["headers"]["user-agent"].as_str().expect("user agent");
    assert!(ua.starts_with("volley/"), "{ua}");
    assert!(echo["headers"].get("accept-encoding").is_none(), "{echo}");

    let custom = Client::builder()
        .base_url(&server.url())
        .user_agent("my-app/1.0")
        .build()
        .expect("client");
    let echo: Value = get(&custom, "/echo").expect("echo").json().expect("json");
    assert_eq!(echo["headers"]["user-agent"], "my-app/1.0");
}

#[test]
fn post_json_round_trips() {
    let server = MockServer::start();
    let client = client(&server);
    let body = json!({"title": "hello", "tags": ["a", "b"], "n": 3});
    let req = Request::post("/echo").json(&body).build().expect("request");
    let echo: Value = client.fetch(req).expect("echo").json().expect("json");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["json"], body);
    assert_eq!(echo["headers"]["content-type"], "application/json");

    // A POST with no body still says so.
    let req = Request::post("/echo").build().expect("request");
    let echo: Value = client.fetch(req).expect("echo").json().expect("json");
    assert_eq!(echo["body"], "");
    assert_eq!(echo["headers"]["content-length"], "0");

    // Any method goes.
    let req = Request::builder("PURGE", "/echo").build().expect("request");
    let echo: Value = client.fetch(req).expect("echo").json().expect("json");
    assert_eq!(echo["method"], "PURGE");
}

#[test]
fn sequential_requests_reuse_one_connection() {
    let server = MockServer::start();
    let client = client(&server);
    let start = Instant::now();
    for i in 0..100 {
        let resp = get(&client, &format!("/posts/{}", i % 10 + 1)).expect("response");
        assert_eq!(resp.status(), 200);
    }
    let took = start.elapsed();
    let stats = server.stats();
    assert_eq!(stats.requests, 100);
    assert_eq!(stats.connections, 1, "{stats:?}");
    assert_eq!(stats.max_in_flight, 1, "{stats:?}");
    eprintln!("100 sequential requests took {took:?}");
}

#[test]
fn sequential_means_one_at_a_time() {
    let server = MockServer::start();
    let client = client(&server);
    let start = Instant::now();
    for i in 1..=5 {
        let req = Request::get(format!("/users/{i}"))
            .query(&[("delay_ms", "100")])
            .build()
            .expect("request");
        assert!(client.fetch(req).is_ok());
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert_eq!(server.stats().max_in_flight, 1);
}

#[test]
fn error_statuses_are_ok_until_asked() {
    let server = MockServer::start();
    let resp = get(&client(&server), "/status/503").expect("response");
    assert_eq!(resp.status(), 503);
    let err = resp.error_for_status().expect_err("503");
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
}

#[test]
fn malformed_json_is_a_decode_error() {
    let server = MockServer::start();
    let resp = get(&client(&server), "/malformed").expect("response");
    let err = resp.json::<Value>().expect_err("malformed");
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[test]
fn a_hanging_server_times_out() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let start = Instant::now();
    let err = get(&client, "/hang").expect_err("hang");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.url().is_some_and(|u| u.path() == "/hang"), "{err}");
    assert!(start.elapsed() < Duration::from_secs(5));
    eprintln!("hang: {err}");

    // A request's own timeout wins over the client's.
    let slow = Request::get("/users/1")
        .query(&[("delay_ms", "600")])
        .timeout(Duration::from_secs(5))
        .build()
        .expect("request");
    assert!(client.fetch(slow).is_ok());
    let hang = Request::get("/hang")
        .timeout(Duration::from_millis(100))
        .build()
        .expect("request");
    assert_eq!(
        client.fetch(hang).expect_err("hang").kind(),
        ErrorKind::Timeout
    );

    // The body counts too.
    let err = get(&client, "/slow-body?ms=3000").expect_err("slow body");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
}

#[test]
fn a_connection_dropped_without_a_response_is_connect() {
    let server = MockServer::start();
    let err = get(&client(&server), "/reset").expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    eprintln!("/reset: {err}");
}

#[test]
fn bodies_are_capped_while_read() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .max_body_bytes(1_000_000)
        .build()
        .expect("client");
    let err = get(&client, "/big?bytes=10000000").expect_err("too large");
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));

    let resp = get(&client, "/big?bytes=1000").expect("response");
    assert_eq!(resp.bytes().len(), 1000);

    assert!(get(&client, "/users/1").is_ok());
}

#[test]
fn redirects_are_followed_by_volley_rules() {
    let server = MockServer::start();
    let client = client(&server);
    let resp = get(&client, "/redirect?to=/users/2").expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/users/2");
    let user: Value = resp.json().expect("json");
    assert_eq!(user["id"], 2);

    let err = get(&client, "/redirect-loop").expect_err("loop");
    assert_eq!(err.kind(), ErrorKind::Redirect, "{err}");

    let manual = Client::builder()
        .base_url(&server.url())
        .redirects(Redirects::none())
        .build()
        .expect("client");
    let resp = get(&manual, "/redirect?to=/users/2").expect("response");
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/users/2");
}

#[test]
fn a_refused_connection_is_connect() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = Client::builder()
        .base_url(&format!("http://127.0.0.1:{port}"))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let err = get(&client, "/users/1").expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert!(err.to_string().contains("refused"), "{err}");
    eprintln!("refused: {err}");
}

#[test]
fn a_failed_tls_handshake_is_connect() {
    // The mock speaks plain HTTP, so a TLS client hello gets no TLS answer.
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url().replace("http://", "https://"))
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let err = get(&client, "/users/1").expect_err("not TLS");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    eprintln!("tls: {err}");
}

#[test]
fn bad_requests_are_refused_before_sending() {
    let client = Client::new().expect("client");
    let err = get(&client, "/users/1").expect_err("no base URL");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
}

#[test]
fn clones_share_the_pool_across_threads() {
    let server = MockServer::start();
    let client = client(&server);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for i in 0..5 {
                    let resp =
                        get(&client, &format!("/posts/{}", t * 5 + i + 1)).expect("response");
                    assert_eq!(resp.status(), 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("thread");
    }
    let stats = server.stats();
    assert_eq!(stats.requests, 20);
    assert!(stats.connections <= 4, "{stats:?}");
}
