//! volley-smol against volley-mock, in process, on `smol::block_on`.
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use futures::future::{Either, select};
use serde_json::{Value, json};
use volley_core::{
    ErrorKind, Fetcher, FetcherExt, Redirects, Request, Result, gather, gather_limited, rt::Timer,
};
use volley_mock::MockServer;
use volley_smol::{Client, SmolTimer};

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client builds")
}

fn get(path: &str) -> Request {
    Request::get(path).build().expect("request builds")
}

#[test]
fn get_user_decodes() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let resp = client.fetch(get("/users/1")).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.url().to_string(), format!("{}/users/1", server.url()));
        let user: Value = resp.error_for_status().unwrap().json().unwrap();
        assert_eq!(user["id"], 1);
        assert!(user["name"].is_string(), "{user}");
        assert!(user["email"].is_string(), "{user}");
    });
}

#[test]
fn base_url_and_default_header_reach_the_server() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&format!("{}/", server.url()))
        .default_header("x-api-key", "secret")
        .default_header("x-overridden", "default")
        .build()
        .unwrap();
    smol::block_on(async {
        let req = Request::get("/echo")
            .query(&[("a", "1 2")])
            .header("x-overridden", "mine")
            .build()
            .unwrap();
        let echo: Value = client.fetch(req).await.unwrap().json().unwrap();
        assert_eq!(echo["method"], "GET");
        assert_eq!(echo["path"], "/echo");
        assert_eq!(echo["query"], "a=1+2");
        assert_eq!(echo["headers"]["x-api-key"], "secret");
        assert_eq!(echo["headers"]["x-overridden"], "mine");
        // No compression is asked for: bodies come back as the server sent them.
        assert!(echo["headers"].get("accept-encoding").is_none(), "{echo}");
    });
}

#[test]
fn post_json_round_trips() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let payload = json!({"title": "hello", "tags": ["a", "b"], "n": 3});
        let req = Request::post("/echo").json(&payload).build().unwrap();
        let echo: Value = client.fetch(req).await.unwrap().json().unwrap();
        assert_eq!(echo["method"], "POST");
        assert_eq!(echo["json"], payload);
        assert_eq!(echo["headers"]["content-type"], "application/json");
        assert!(echo["headers"].get("expect").is_none(), "{echo}");

        for method in ["PUT", "PATCH", "DELETE"] {
            let req = Request::builder(method, "/echo")
                .body("x=1")
                .build()
                .unwrap();
            let echo: Value = client.fetch(req).await.unwrap().json().unwrap();
            assert_eq!(echo["method"], method);
            assert_eq!(echo["body"], "x=1");
        }
        let req = Request::builder("DELETE", "/echo").build().unwrap();
        let echo: Value = client.fetch(req).await.unwrap().json().unwrap();
        assert_eq!(echo["method"], "DELETE");
        assert_eq!(echo["body"], "");
    });
}

#[test]
fn user_agent_is_volley_unless_set() {
    let server = MockServer::start();
    smol::block_on(async {
        let echo: Value = client(&server)
            .fetch(get("/echo"))
            .await
            .unwrap()
            .json()
            .unwrap();
        let ua = echo["headers"]["user-agent"].as_str().unwrap();
        assert_eq!(ua, volley_core::USER_AGENT);
        assert!(ua.starts_with("volley/"));

        let custom = Client::builder()
            .base_url(&server.url())
            .user_agent("my-app/2.0")
            .build()
            .unwrap();
        let echo: Value = custom.fetch(get("/echo")).await.unwrap().json().unwrap();
        assert_eq!(echo["headers"]["user-agent"], "my-app/2.0");

        let req = Request::get("/echo")
            .header("user-agent", "per-request/1")
            .build()
            .unwrap();
        let echo: Value = custom.fetch(req).await.unwrap().json().unwrap();
        assert_eq!(echo["headers"]["user-agent"], "per-request/1");
    });
}

#[test]
fn sequential_requests_reuse_one_connection() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let start = Instant::now();
        for i in 0..100 {
            let resp = client
                .fetch(get(&format!("/users/{}", i % 10 + 1)))
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
        }
        eprintln!("100 sequential requests: {:?}", start.elapsed());
    });
    let stats = server.stats();
    assert_eq!(stats.requests, 100);
    assert_eq!(stats.connections, 1, "{stats:?}");
}

#[test]
fn gather_limited_caps_in_flight() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let start = Instant::now();
        let results = gather_limited(
            (1..=40).map(|i| client.fetch(get(&format!("/users/{i}?delay_ms=200")))),
            10,
        )
        .await;
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
        );
        eprintln!("40 requests, limit 10, 200 ms each: {:?}", start.elapsed());
    });
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 10, "{stats:?}");
    assert!(stats.connections <= 10, "{stats:?}");
}

#[test]
fn limit_layer_caps_in_flight() {
    let server = MockServer::start();
    let client = client(&server).limit(10);
    smol::block_on(async {
        let results =
            gather((1..=40).map(|i| client.fetch(get(&format!("/posts/{i}?delay_ms=200"))))).await;
        assert!(results.iter().all(|r| r.is_ok()));
    });
    assert_eq!(server.stats().max_in_flight, 10);
}

#[test]
fn no_pool_cap_by_default() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let start = Instant::now();
        let results = gather(
            (0..200).map(|i| client.fetch(get(&format!("/users/{}?delay_ms=300", i % 10 + 1)))),
        )
        .await;
        let elapsed = start.elapsed();
        let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert!(failed.is_empty(), "{failed:?}");
        eprintln!("200 concurrent requests of 300 ms: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    });
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 200, "{stats:?}");

    // The connections are kept: a second batch opens no new ones.
    server.reset_stats();
    smol::block_on(async {
        let results = gather((0..200).map(|_| client.fetch(get("/users/1?delay_ms=100")))).await;
        assert!(results.iter().all(|r| r.is_ok()));
    });
    let stats = server.stats();
    assert_eq!(stats.connections, 0, "{stats:?}");
}

#[test]
fn pool_size_caps_connections_per_host() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .pool_size(5)
        .build()
        .unwrap();
    smol::block_on(async {
        let results = gather((0..20).map(|_| client.fetch(get("/users/1?delay_ms=100")))).await;
        assert!(results.iter().all(|r| r.is_ok()));
    });
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 5, "{stats:?}");
    assert_eq!(stats.connections, 5, "{stats:?}");
}

#[test]
fn error_status_is_ok_until_asked() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let resp = client.fetch(get("/status/503")).await.unwrap();
        assert_eq!(resp.status(), 503);
        let err = resp.error_for_status().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Status);
        assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
        assert!(err.url().is_some());
    });
}

#[test]
fn malformed_json_is_decode() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let resp = client.fetch(get("/malformed")).await.unwrap();
        let err = resp.json::<Value>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Decode);
    });
}

#[test]
fn hang_times_out() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    smol::block_on(async {
        let start = Instant::now();
        let err = client.fetch(get("/hang")).await.unwrap_err();
        let elapsed = start.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
        assert!(err.url().is_some_and(|u| u.path() == "/hang"), "{err}");
        assert!(elapsed >= Duration::from_millis(290), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
        // libcurl closes the abandoned transfer soon after.
        let start = Instant::now();
        while server.stats().in_flight > 0 && start.elapsed() < Duration::from_secs(3) {
            SmolTimer.sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(server.stats().in_flight, 0, "{:?}", server.stats());

        // A request's own timeout wins over the client's.
        let slow = Request::get("/users/1?delay_ms=600")
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        assert_eq!(client.fetch(slow).await.unwrap().status(), 200);
        let fast = Request::get("/hang")
            .timeout(Duration::from_millis(50))
            .build()
            .unwrap();
        assert_eq!(
            client.fetch(fast).await.unwrap_err().kind(),
            ErrorKind::Timeout
        );

        // The client still works after its transfers were abandoned.
        assert_eq!(client.fetch(get("/users/3")).await.unwrap().status(), 200);
    });
}

#[test]
fn reset_before_response_is_connect() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let err = client.fetch(get("/reset")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
        assert_eq!(client.fetch(get("/users/1")).await.unwrap().status(), 200);
    });
}

#[test]
fn big_body_over_the_cap_is_too_large() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .max_body_bytes(1_000_000)
        .build()
        .unwrap();
    smol::block_on(async {
        let err = client.fetch(get("/big?bytes=10000000")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");

        let resp = client.fetch(get("/big?bytes=1000")).await.unwrap();
        assert_eq!(resp.bytes().len(), 1000);

        let resp = client.fetch(get("/big?bytes=1000000")).await.unwrap();
        assert_eq!(resp.bytes().len(), 1_000_000);

        // HEAD declares the size but has no body: not refused.
        let head = Request::head("/big?bytes=10000000").build().unwrap();
        let resp = client.fetch(head).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.bytes().is_empty());

        // The client still works after a transfer was cut short.
        assert_eq!(client.fetch(get("/users/1")).await.unwrap().status(), 200);
    });
}

#[test]
fn redirects_are_followed_by_volley() {
    let server = MockServer::start();
    let client = client(&server);
    smol::block_on(async {
        let resp = client.fetch(get("/redirect?to=/users/2")).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.url().path(), "/users/2");
        let user: Value = resp.json().unwrap();
        assert_eq!(user["id"], 2);

        let err = client.fetch(get("/redirect-loop")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Redirect, "{err}");

        let manual = Client::builder()
            .base_url(&server.url())
            .redirects(Redirects::none())
            .build()
            .unwrap();
        let resp = manual.fetch(get("/redirect?to=/users/2")).await.unwrap();
        assert_eq!(resp.status(), 302);
        assert_eq!(resp.headers()["location"], "/users/2");
    });
}

#[test]
fn refused_connection_is_connect() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    smol::block_on(async {
        let url = format!("http://127.0.0.1:{port}/users/1");
        let err = client.fetch(get(&url)).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
        assert_eq!(err.url().map(ToString::to_string), Some(url));
    });
}

#[test]
fn invalid_requests_are_refused_before_sending() {
    let client = Client::new().unwrap();
    smol::block_on(async {
        // A path but no base URL.
        let err = client.fetch(get("/users/1")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    });
    assert!(Request::get("ftp://127.0.0.1/x").build().is_err());
}

#[test]
fn dropping_a_gather_midway_leaves_the_client_usable() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    smol::block_on(async {
        let batch = gather(
            (0..50).map(|i| client.fetch(get(&format!("/users/{}?delay_ms=5000", i % 10 + 1)))),
        );
        let outcome = select(Box::pin(batch), SmolTimer.sleep(Duration::from_millis(300))).await;
        assert!(
            matches!(outcome, Either::Right(_)),
            "the batch cannot finish in 300 ms"
        );
        assert_eq!(server.stats().max_in_flight, 50);

        // The client still works at once.
        let results = gather((1..=10).map(|i| client.fetch(get(&format!("/users/{i}"))))).await;
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
        );

        // The abandoned transfers are closed by libcurl's backstop timeout
        // (the request's timeout plus a little), long before the server answers.
        let start = Instant::now();
        while server.stats().in_flight > 0 && start.elapsed() < Duration::from_secs(4) {
            SmolTimer.sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(server.stats().in_flight, 0, "{:?}", server.stats());
        eprintln!(
            "abandoned transfers closed {:?} after the drop",
            start.elapsed()
        );
    });
}

#[test]
fn futures_run_on_any_executor() -> Result<()> {
    let server = MockServer::start();
    let client = client(&server);
    let resp = futures::executor::block_on(client.fetch(get("/users/4")))?;
    assert_eq!(resp.json::<Value>()?["id"], 4);
    let ex = smol::Executor::new();
    let task = ex.spawn({
        let client = client.clone();
        async move { client.fetch(get("/posts/1")).await }
    });
    let resp = smol::block_on(ex.run(task))?;
    assert_eq!(resp.status(), 200);
    Ok(())
}

#[test]
fn smol_timer_sleeps() {
    let start = Instant::now();
    smol::block_on(SmolTimer.sleep(Duration::from_millis(50)));
    assert!(start.elapsed() >= Duration::from_millis(50));
    let timer = Client::new().unwrap().timer();
    let start = timer.now();
    smol::block_on(timer.sleep(Duration::from_millis(10)));
    assert!(timer.now() - start >= Duration::from_millis(10));
}
