//! The async-std adapter against volley-mock, started in this process.

use std::time::{Duration, Instant};

use futures::future::{Either, select};
use serde_json::{Value, json};
use volley_async_std::Client;
use volley_core::{ErrorKind, Fetcher, FetcherExt, Redirects, Request, gather, gather_limited};
use volley_mock::MockServer;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

fn get(path: &str) -> Request {
    Request::get(path).build().expect("valid request")
}

#[async_std::test]
async fn get_user_decodes() {
    let server = MockServer::start();
    let resp = client(&server)
        .fetch(get("/users/1"))
        .await
        .expect("response");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/users/1");
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("application/json")
    );
    let user: Value = resp.json().expect("JSON");
    assert_eq!(user["id"], 1);
    assert!(user["name"].is_string(), "{user}");
    assert!(user["email"].is_string(), "{user}");
}

#[async_std::test]
async fn base_url_default_headers_and_multi_valued_headers_reach_the_server() {
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
        .header("x-multi", "one")
        .header("x-multi", "two")
        .build()
        .expect("request");
    let echo: Value = client
        .fetch(req)
        .await
        .expect("response")
        .json()
        .expect("JSON");
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "q=a+b");
    let headers = &echo["headers"];
    assert_eq!(headers["x-api-key"], "secret");
    assert_eq!(headers["x-overridden"], "mine");
    assert_eq!(headers["x-multi"], "one, two");
}

#[async_std::test]
async fn post_json_round_trips_through_echo() {
    let server = MockServer::start();
    let body = json!({"title": "hello", "tags": ["a", "b"], "n": 3});
    let req = Request::post("/echo").json(&body).build().expect("request");
    let resp = client(&server).fetch(req).await.expect("response");
    let echo: Value = resp.json().expect("JSON");
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["json"], body);
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(
        echo["headers"]["content-length"],
        serde_json::to_vec(&body).expect("json").len().to_string()
    );

    // Other methods and raw bodies go through unchanged.
    for method in ["PUT", "PATCH", "DELETE"] {
        let req = Request::builder(method, "/echo")
            .body("raw bytes")
            .build()
            .expect("request");
        let echo: Value = client(&server)
            .fetch(req)
            .await
            .expect("response")
            .json()
            .expect("JSON");
        assert_eq!(echo["method"], method);
        assert_eq!(echo["body"], "raw bytes");
        assert!(echo["headers"].get("content-type").is_none(), "{echo}");
    }
}

#[async_std::test]
async fn user_agent_is_volley_unless_set() {
    let server = MockServer::start();
    let echo: Value = client(&server)
        .fetch(get("/echo"))
        .await
        .expect("response")
        .json()
        .expect("JSON");
    let ua = echo["headers"]["user-agent"].as_str().expect("user agent");
    assert!(ua.starts_with("volley/"), "{ua}");
    assert_eq!(ua, volley_core::USER_AGENT);

    let custom = Client::builder()
        .base_url(&server.url())
        .user_agent("my-tool/2")
        .build()
        .expect("client");
    let echo: Value = custom
        .fetch(get("/echo"))
        .await
        .expect("response")
        .json()
        .expect("JSON");
    assert_eq!(echo["headers"]["user-agent"], "my-tool/2");
}

#[async_std::test]
async fn sequential_requests_reuse_one_connection() {
    let server = MockServer::start();
    let client = client(&server);
    for i in 1..=100 {
        let path = match i % 3 {
            0 => format!("/users/{i}"),
            1 => format!("/posts/{i}"),
            // No Content-Length: a chunked body must be read to its end too.
            _ => "/slow-body?ms=1".to_owned(),
        };
        let resp = client.fetch(get(&path)).await.expect("response");
        assert_eq!(resp.status(), 200, "{path}");
    }
    let stats = server.stats();
    assert_eq!(stats.requests, 100);
    assert_eq!(stats.connections, 1, "{stats:?}");
}

#[async_std::test]
async fn gather_limited_keeps_ten_in_flight() {
    let server = MockServer::start();
    let client = client(&server);
    let started = Instant::now();
    let results = gather_limited(
        (1..=40).map(|i| client.fetch(get(&format!("/users/{i}?delay_ms=200")))),
        10,
    )
    .await;
    let elapsed = started.elapsed();
    for (i, result) in results.into_iter().enumerate() {
        let user: Value = result.expect("response").json().expect("JSON");
        assert_eq!(user["id"], i + 1); // input order
    }
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 10, "{stats:?}");
    assert!(stats.connections <= 10, "{stats:?}");
    // Four waves of 200 ms; generous bounds.
    assert!(elapsed >= Duration::from_millis(790), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    eprintln!("40 requests, limit 10, 200 ms each: {elapsed:?}, {stats:?}");

    // The Limit layer does the same.
    server.reset_stats();
    let limited = client.clone().limit(10);
    let results =
        gather((1..=40).map(|i| limited.fetch(get(&format!("/posts/{i}?delay_ms=200"))))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.stats().max_in_flight, 10);
}

#[async_std::test]
async fn the_pool_does_not_cap_concurrency() {
    volley_mock::raise_fd_limit();
    let server = MockServer::start();
    let client = client(&server);
    let started = Instant::now();
    let results =
        gather((1..=200).map(|i| client.fetch(get(&format!("/users/{i}?delay_ms=300"))))).await;
    let elapsed = started.elapsed();
    assert!(results.iter().all(Result::is_ok));
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 200, "{stats:?}");
    assert_eq!(stats.connections, 200, "{stats:?}");
    assert!(elapsed < Duration::from_secs(8), "{elapsed:?}");
    eprintln!("200 at once, 300 ms each: {elapsed:?}, {stats:?}");

    // A second round reuses the 200 pooled connections.
    let results =
        gather((1..=200).map(|i| client.fetch(get(&format!("/posts/{i}?delay_ms=100"))))).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.stats().connections, 200);
}

#[async_std::test]
async fn pool_size_caps_connections_per_host() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .pool_size(5)
        .build()
        .expect("client");
    let results =
        gather((1..=20).map(|i| client.fetch(get(&format!("/users/{i}?delay_ms=100"))))).await;
    assert!(results.iter().all(Result::is_ok));
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 5, "{stats:?}");
    assert_eq!(stats.connections, 5, "{stats:?}");
}

#[async_std::test]
async fn error_statuses_are_ok_responses() {
    let server = MockServer::start();
    let resp = client(&server)
        .fetch(get("/status/503"))
        .await
        .expect("a 503 is still a response");
    assert_eq!(resp.status(), 503);
    let err = resp.error_for_status().expect_err("503 is an error status");
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status(), Some(http::StatusCode::SERVICE_UNAVAILABLE));
    assert!(err.to_string().contains("/status/503"), "{err}");
}

#[async_std::test]
async fn malformed_json_is_a_decode_error() {
    let server = MockServer::start();
    let resp = client(&server)
        .fetch(get("/malformed"))
        .await
        .expect("response");
    let err = resp.json::<Value>().expect_err("truncated JSON");
    assert_eq!(err.kind(), ErrorKind::Decode);
}

#[async_std::test]
async fn a_hanging_server_times_out_and_the_client_recovers() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    // Warm the pool so the hanging request goes out on a pooled connection.
    client.fetch(get("/users/1")).await.expect("response");
    let started = Instant::now();
    let err = client.fetch(get("/hang")).await.expect_err("hangs");
    let elapsed = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.url().map(|u| u.path()), Some("/hang"));
    assert!(elapsed >= Duration::from_millis(290), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");

    // The connection left waiting on /hang must not be reused.
    for i in 1..=5 {
        let user: Value = client
            .fetch(get(&format!("/users/{i}")))
            .await
            .expect("the client works after a timeout")
            .json()
            .expect("JSON");
        assert_eq!(user["id"], i);
    }

    // A request's own timeout wins over the client's.
    let req = Request::get("/users/1?delay_ms=500")
        .timeout(Duration::from_secs(5))
        .build()
        .expect("request");
    client.fetch(req).await.expect("own, longer timeout");
    let req = Request::get("/hang")
        .timeout(Duration::from_millis(50))
        .build()
        .expect("request");
    let started = Instant::now();
    let err = client.fetch(req).await.expect_err("hangs");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_millis(290));
}

#[async_std::test]
async fn a_timeout_in_the_middle_of_a_body_does_not_poison_the_pool() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_millis(300))
        .build()
        .expect("client");
    let err = client
        .fetch(get("/slow-body?ms=2000"))
        .await
        .expect_err("body too slow");
    assert_eq!(err.kind(), ErrorKind::Timeout);
    for i in 1..=5 {
        let user: Value = client
            .fetch(get(&format!("/users/{i}")))
            .await
            .expect("the client works after a timeout mid-body")
            .json()
            .expect("JSON");
        assert_eq!(user["id"], i);
    }
}

#[async_std::test]
async fn a_reset_before_the_response_is_a_connect_error() {
    let server = MockServer::start();
    let client = client(&server);
    let err = client.fetch(get("/reset")).await.expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    // Also on a connection taken from the pool.
    client.fetch(get("/users/1")).await.expect("response");
    let err = client.fetch(get("/reset")).await.expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    client.fetch(get("/users/1")).await.expect("still works");
}

#[async_std::test]
async fn bodies_over_the_cap_stop_early() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .max_body_bytes(1_000_000)
        .build()
        .expect("client");
    let err = client
        .fetch(get("/big?bytes=10000000"))
        .await
        .expect_err("over the cap");
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err:?}");
    assert_eq!(err.url().map(|u| u.path()), Some("/big"));

    let resp = client
        .fetch(get("/big?bytes=1000"))
        .await
        .expect("under the cap");
    assert_eq!(resp.bytes().len(), 1000);

    let resp = client
        .fetch(get("/big?bytes=1000000"))
        .await
        .expect("exactly the cap");
    assert_eq!(resp.bytes().len(), 1_000_000);
}

#[async_std::test]
async fn a_big_body_is_read_in_full_under_the_default_cap() {
    let server = MockServer::start();
    let resp = client(&server)
        .fetch(get("/big?bytes=20000000"))
        .await
        .expect("20 MB under the 64 MiB cap");
    assert_eq!(resp.bytes().len(), 20_000_000);
}

#[async_std::test]
async fn redirects_are_followed_by_volley() {
    let server = MockServer::start();
    let client = client(&server);
    let resp = client
        .fetch(get("/redirect?to=/users/2"))
        .await
        .expect("followed");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/users/2");
    let user: Value = resp.json().expect("JSON");
    assert_eq!(user["id"], 2);

    let err = client.fetch(get("/redirect-loop")).await.expect_err("loop");
    assert_eq!(err.kind(), ErrorKind::Redirect);

    let no_follow = Client::builder()
        .base_url(&server.url())
        .redirects(Redirects::none())
        .build()
        .expect("client");
    let resp = no_follow
        .fetch(get("/redirect?to=/users/2"))
        .await
        .expect("3xx as is");
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/users/2");
}

#[async_std::test]
async fn head_requests_do_not_wait_for_a_body() {
    let server = MockServer::start();
    let client = client(&server);
    let req = Request::head("/users/1").build().expect("request");
    let resp = client.fetch(req).await.expect("response");
    assert_eq!(resp.status(), 200);
    assert!(resp.bytes().is_empty());
    // The connection is clean and reused.
    client.fetch(get("/users/2")).await.expect("response");
    assert_eq!(server.stats().connections, 1);
}

#[async_std::test]
async fn connection_refused_is_a_connect_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = Client::new().expect("client");
    let url = format!("http://127.0.0.1:{port}/users/1");
    let err = client.fetch(get(&url)).await.expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    assert!(err.to_string().contains("refused"), "{err}");
    assert_eq!(err.url().map(ToString::to_string), Some(url));
}

#[async_std::test]
async fn invalid_requests_are_refused_before_sending() {
    let server = MockServer::start();
    let client = client(&server);
    let err = client
        .fetch(Request::builder("PURGE", "/echo").build().expect("request"))
        .await
        .expect_err("unsupported method");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = Client::new()
        .expect("client")
        .fetch(get("/users/1"))
        .await
        .expect_err("no base URL");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    let err = client
        .fetch(get("https://127.0.0.1:1/x"))
        .await
        .expect_err("https to an IP");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    assert_eq!(server.stats().requests, 0);
}

#[async_std::test]
async fn dropping_a_gather_midway_leaves_the_client_working() {
    let server = MockServer::start();
    let client = client(&server);
    let all = gather((1..=50).map(|i| {
        let path = if i % 2 == 0 {
            "/hang".to_owned()
        } else {
            format!("/users/{i}?delay_ms=2000")
        };
        client.fetch(get(&path))
    }));
    let started = Instant::now();
    let out = select(
        Box::pin(all),
        Box::pin(async_std::task::sleep(Duration::from_millis(300))),
    )
    .await;
    let Either::Right(((), unfinished)) = out else {
        panic!("the sleep wins");
    };
    drop(unfinished); // drops the gather and its 50 requests
    assert!(started.elapsed() < Duration::from_secs(2));
    let in_flight = server.stats().in_flight;
    eprintln!("in flight on the server right after the drop: {in_flight}");

    let results = gather((1..=20).map(|i| client.fetch(get(&format!("/users/{i}"))))).await;
    for (i, result) in results.into_iter().enumerate() {
        let user: Value = result.expect("works after the drop").json().expect("JSON");
        assert_eq!(user["id"], i + 1);
    }

    // The abandoned connections are closed, so the server stops their handlers.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.stats().in_flight > 0 && Instant::now() < deadline {
        async_std::task::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.stats().in_flight, 0, "{:?}", server.stats());
}

#[async_std::test]
async fn clones_share_the_pool_and_work_from_spawned_tasks() {
    let server = MockServer::start();
    let client = client(&server);
    // The first requests to the server race on several threads: one pool
    // is made for them all.
    let tasks: Vec<_> = (1..=8)
        .map(|i| {
            let client = client.clone();
            async_std::task::spawn(async move {
                for j in 0..5 {
                    let resp = client
                        .fetch(get(&format!("/users/{}", i * 10 + j)))
                        .await
                        .expect("response");
                    assert_eq!(resp.status(), 200);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await;
    }
    let stats = server.stats();
    assert_eq!(stats.requests, 40);
    assert!(stats.connections <= 8, "{stats:?}");
}

#[test]
fn works_from_block_on_and_exposes_the_async_std_timer() {
    let server = MockServer::start();
    let client = client(&server);
    async_std::task::block_on(async {
        let timer = client.timer();
        let started = Instant::now();
        timer.sleep(Duration::from_millis(30)).await;
        assert!(started.elapsed() >= Duration::from_millis(30));
        let resp = client.fetch(get("/users/3")).await.expect("response");
        assert_eq!(resp.status(), 200);
    });
}
