//! Every endpoint of the mock server, checked with a real HTTP client.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::Value;
use support::{builder, client_timing_out, exchange};
use volley_mock::MockServer;

mod support;

fn client() -> reqwest::Client {
    client_timing_out(Duration::from_secs(10))
}

fn no_redirect_client() -> reqwest::Client {
    builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client builds")
}

/// A mock server and a client of it that follows redirects.
struct Api {
    server: MockServer,
    client: reqwest::Client,
}

impl Api {
    fn start() -> Api {
        Api {
            server: MockServer::start(),
            client: client(),
        }
    }

    /// The server's URL with `path` appended.
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url())
    }

    /// `GET path`, whatever its status.
    async fn get(&self, path: &str) -> reqwest::Response {
        get(&self.client, self.url(path)).await
    }

    /// `POST path` with no body, whatever its status.
    async fn post(&self, path: &str) -> reqwest::Response {
        let request = self.client.post(self.url(path));
        request.send().await.expect("request succeeds")
    }

    /// `GET path`: its status and its JSON body.
    async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        get_json(&self.client, self.url(path)).await
    }
}

/// Checks that `resp` is a 429 that says `Retry-After: retry_after`, with
/// a JSON body of status 429.
async fn assert_429(resp: reqwest::Response, retry_after: &str) {
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], retry_after);
    let body: Value = resp.json().await.expect("JSON");
    assert_eq!(body["status"], 429);
}

async fn get(client: &reqwest::Client, url: String) -> reqwest::Response {
    client.get(url).send().await.expect("request succeeds")
}

async fn get_json(client: &reqwest::Client, url: String) -> (StatusCode, Value) {
    let resp = get(client, url).await;
    let status = resp.status();
    (status, resp.json().await.expect("body is JSON"))
}

#[tokio::test]
async fn users_have_jsonplaceholder_shape() {
    let api = Api::start();
    let resp = api.get("/users/1").await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let user: Value = resp.json().await.expect("JSON");
    assert_eq!(user["id"], 1);
    assert_eq!(user["name"], "Leanne Graham");
    assert_eq!(user["username"], "Bret");
    assert_eq!(user["email"], "Sincere@april.biz");
    for field in ["street", "suite", "city", "zipcode"] {
        assert!(user["address"][field].is_string(), "address.{field}");
    }
    assert!(user["address"]["geo"]["lat"].is_string());
    assert!(user["address"]["geo"]["lng"].is_string());
    assert!(user["phone"].is_string());
    assert!(user["website"].is_string());
    for field in ["name", "catchPhrase", "bs"] {
        assert!(user["company"][field].is_string(), "company.{field}");
    }

    // Larger ids are served too, deterministically and with distinct usernames.
    let (_, a) = api.get_json("/users/12345").await;
    let (_, b) = api.get_json("/users/12345").await;
    assert_eq!(a, b);
    assert_eq!(a["id"], 12345);
    assert_ne!(a["username"], user["username"]);
}

#[tokio::test]
async fn posts_have_jsonplaceholder_shape() {
    let api = Api::start();
    let (status, post) = api.get_json("/posts/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(post["id"], 1);
    assert_eq!(post["userId"], 1);
    assert!(post["title"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(post["body"].as_str().is_some_and(|t| !t.is_empty()));
    let (_, post) = api.get_json("/posts/25").await;
    assert_eq!(post["id"], 25);
    assert_eq!(post["userId"], 3);
}

#[tokio::test]
async fn bad_ids_and_unknown_paths() {
    let api = Api::start();
    for (path, expected) in [
        ("/users/abc", StatusCode::BAD_REQUEST),
        ("/posts/-1", StatusCode::BAD_REQUEST),
        ("/users/0", StatusCode::NOT_FOUND),
        ("/nope", StatusCode::NOT_FOUND),
        ("/users/1/extra", StatusCode::NOT_FOUND),
    ] {
        let (status, body) = api.get_json(path).await;
        assert_eq!(status, expected, "{path}");
        assert_eq!(body["status"], expected.as_u16(), "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: {body}");
    }
    let resp = api.post("/users/1").await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    let stats = api.server.stats();
    assert_eq!(stats.paths["unknown"], 2);
}

#[tokio::test]
async fn delay_ms_and_server_latency() {
    let api = Api::start();
    let start = Instant::now();
    let (status, _) = api.get_json("/users/1?delay_ms=300").await;
    let took = start.elapsed();
    assert_eq!(status, StatusCode::OK);
    assert!(took >= Duration::from_millis(300), "took {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");

    // A bad value is a client error, not a silent default.
    let (status, _) = api.get_json("/users/1?delay_ms=soon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let slow = MockServer::builder()
        .latency(Duration::from_millis(250))
        .start();
    let start = Instant::now();
    get_json(&api.client, format!("{}/posts/1", slow.url())).await;
    assert!(start.elapsed() >= Duration::from_millis(250));
    // The request's own delay overrides the server's.
    let start = Instant::now();
    get_json(&api.client, format!("{}/posts/1?delay_ms=0", slow.url())).await;
    assert!(start.elapsed() < Duration::from_millis(200));
    // `/stats` is never delayed.
    let start = Instant::now();
    get_json(&api.client, format!("{}/stats", slow.url())).await;
    assert!(start.elapsed() < Duration::from_millis(200));
}

#[tokio::test]
async fn status_codes() {
    let api = Api::start();
    for code in [200u16, 201, 400, 401, 403, 404, 418, 500, 502, 503, 504] {
        let (status, body) = api.get_json(&format!("/status/{code}")).await;
        assert_eq!(status.as_u16(), code);
        assert_eq!(body["status"], code);
    }
    let resp = api.get("/status/204").await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let (status, _) = api.get_json("/status/abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api.get_json("/status/100").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(api.server.stats().paths["/status/{code}"], 14);
}

#[tokio::test]
async fn ratelimited_sends_retry_after() {
    let api = Api::start();
    assert_429(api.get("/ratelimited").await, "1").await;
    assert_429(api.get("/ratelimited?retry_after=7").await, "7").await;
}

#[tokio::test]
async fn cooldown_answers_429_once_then_users() {
    let api = Api::start();
    assert_429(api.get("/cooldown/1").await, "2").await;
    for id in [1, 2, 12345] {
        let (status, user) = api.get_json(&format!("/cooldown/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(user["id"], id);
        assert!(user["email"].is_string());
    }
    let (status, _) = api.get_json("/cooldown/x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let stats = api.server.stats();
    assert_eq!(stats.paths["/cooldown/{id}"], 5);
    // Every request after the 429 counts unless it came within 50 ms of it.
    assert!(stats.sent_during_cooldown <= 4, "{stats:?}");

    // A reset zeroes the count and arms the 429 again, for the next run.
    api.server.reset_stats();
    assert_eq!(api.server.stats().sent_during_cooldown, 0);
    let resp = api.get("/cooldown/7").await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let (status, _) = api.get_json("/cooldown/7").await;
    assert_eq!(status, StatusCode::OK);

    // Over HTTP, the count is in /stats.
    let (_, over_http) = api.get_json("/stats").await;
    assert!(over_http["sent_during_cooldown"].is_u64(), "{over_http}");
}

#[tokio::test]
async fn flaky_recovers_after_k_failures_per_key() {
    let api = Api::start();
    let flaky = "/flaky?fail=3&key=job%201";
    for attempt in 1..=3 {
        let (status, body) = api.get_json(flaky).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "attempt {attempt}");
        assert_eq!(body["attempt"], attempt);
    }
    let (status, body) = api.get_json(flaky).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["key"], "job 1");
    assert_eq!(body["attempt"], 4);
    assert!(body["id"].is_number());

    // Another key has its own count.
    let (status, _) = api.get_json("/flaky?fail=1&key=other").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    // Resetting the stats forgets the keys.
    api.server.reset_stats();
    let (status, body) = api.get_json(flaky).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["attempt"], 1);
}

#[tokio::test]
async fn malformed_is_not_json() {
    let server = MockServer::start();
    let resp = get(&client(), format!("{}/malformed", server.url())).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let text = resp.text().await.expect("body");
    assert!(!text.is_empty());
    assert!(serde_json::from_str::<Value>(&text).is_err());
}

#[tokio::test]
async fn slow_body_trickles_then_completes() {
    let server = MockServer::start();
    let start = Instant::now();
    let resp = get(&client(), format!("{}/slow-body?ms=500", server.url())).await;
    let headers_after = start.elapsed();
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        headers_after < Duration::from_millis(400),
        "headers took {headers_after:?}"
    );
    let body: Value = resp.json().await.expect("the whole body is JSON");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(500), "took {took:?}");
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(body["ms"], 500);
}

#[tokio::test]
async fn hang_never_answers() {
    let server = MockServer::start();
    let c = client_timing_out(Duration::from_millis(300));
    let start = Instant::now();
    let err = c
        .get(format!("{}/hang", server.url()))
        .send()
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err:?}");
    assert!(start.elapsed() < Duration::from_secs(3));
    // The abandoned request is no longer in flight.
    let deadline = Instant::now() + Duration::from_secs(3);
    while server.stats().in_flight != 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(server.stats().in_flight, 0);
}

#[tokio::test]
async fn hang_is_aborted_when_the_server_drops() {
    let server = MockServer::start();
    let url = format!("{}/hang", server.url());
    let request = tokio::spawn(async move { client().get(url).send().await });
    while server.stats().in_flight == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let start = Instant::now();
    drop(server);
    assert!(start.elapsed() < Duration::from_secs(2));
    let result = tokio::time::timeout(Duration::from_secs(5), request)
        .await
        .expect("client sees the close promptly")
        .expect("task");
    assert!(result.is_err(), "a hung request gets no response");
}

#[tokio::test]
async fn reset_closes_without_response() {
    let server = MockServer::start();
    let err = client()
        .get(format!("{}/reset", server.url()))
        .send()
        .await
        .expect_err("connection error, not a response");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(err.status().is_none(), "{err:?}");

    // At the TCP level: the server closes the connection without writing a
    // single byte (a clean close or a reset, never a status line).
    let request = b"GET /reset HTTP/1.1\r\nHost: mock\r\n\r\n";
    match exchange(server.addr(), request, Duration::from_secs(5)) {
        Ok(received) => assert!(received.is_empty(), "got {received:?}"),
        Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset),
    }

    // The server is still fine afterwards.
    let (status, _) = get_json(&client(), format!("{}/users/1", server.url())).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn big_sends_exactly_n_bytes() {
    let api = Api::start();
    for n in [0u64, 1, 65_536, 65_537, 5_000_000] {
        let resp = api.get(&format!("/big?bytes={n}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.content_length(), Some(n));
        let body = resp.bytes().await.expect("body");
        assert_eq!(body.len() as u64, n);
    }
}

#[tokio::test]
async fn redirects() {
    let server = MockServer::start();
    let c = no_redirect_client();
    let resp = get(&c, format!("{}/redirect", server.url())).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(resp.headers()["location"], "/users/1");
    let resp = get(
        &c,
        format!("{}/redirect?to=%2Fposts%2F3%3Fdelay_ms%3D1", server.url()),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(resp.headers()["location"], "/posts/3?delay_ms=1");
    let resp = get(&c, format!("{}/redirect-loop", server.url())).await;
    assert_eq!(resp.status(), StatusCode::FOUND);
    assert_eq!(resp.headers()["location"], "/redirect-loop");

    // A following client lands on the target, and gives up on the loop.
    let (status, user) = get_json(&client(), format!("{}/redirect", server.url())).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["id"], 1);
    let err = client()
        .get(format!("{}/redirect-loop", server.url()))
        .send()
        .await
        .expect_err("loop");
    assert!(err.is_redirect(), "{err:?}");
}

#[tokio::test]
async fn echo_round_trips() {
    let api = Api::start();
    let resp = api
        .client
        .put(api.url("/echo?a=1&b=two"))
        .header("x-volley-test", "abc")
        .header("content-type", "application/json")
        .body(r#"{"hello":"world","n":3}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), StatusCode::OK);
    let echo: Value = resp.json().await.expect("JSON");
    assert_eq!(echo["method"], "PUT");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "a=1&b=two");
    assert_eq!(echo["headers"]["x-volley-test"], "abc");
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(echo["body"], r#"{"hello":"world","n":3}"#);
    assert_eq!(echo["json"]["hello"], "world");
    assert_eq!(echo["json"]["n"], 3);

    let (_, echo) = api.get_json("/echo").await;
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["body"], "");
    assert_eq!(echo["json"], Value::Null);
    let echo: Value = api
        .client
        .post(api.url("/echo"))
        .body("not json")
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON");
    assert_eq!(echo["body"], "not json");
    assert_eq!(echo["json"], Value::Null);
}

#[tokio::test]
async fn stats_count_connections_requests_and_paths() {
    let api = Api::start();
    for i in 1..=100 {
        let (status, _) = api.get_json(&format!("/users/{i}")).await;
        assert_eq!(status, StatusCode::OK);
    }
    let stats = api.server.stats();
    assert_eq!(stats.connections, 1, "keep-alive reuses one connection");
    assert_eq!(stats.requests, 100);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.max_in_flight, 1);
    assert_eq!(stats.rejected, 0);
    assert_eq!(stats.paths.len(), 1);
    assert_eq!(stats.paths["/users/{id}"], 100);

    // Over HTTP: the same numbers, and /stats itself is not counted.
    let (_, over_http) = api.get_json("/stats").await;
    let over_http: volley_mock::Stats = serde_json::from_value(over_http).expect("Stats");
    assert_eq!(over_http, stats);

    // Separate clients open separate connections.
    for _ in 0..3 {
        get_json(&client(), api.url("/posts/1")).await;
    }
    assert_eq!(api.server.stats().connections, 4);

    // POST /stats/reset zeroes everything and returns the zeroed stats.
    let resp = api.post("/stats/reset").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let zeroed: volley_mock::Stats = resp.json().await.expect("Stats");
    assert_eq!(zeroed, volley_mock::Stats::default());
    assert_eq!(api.server.stats(), volley_mock::Stats::default());
    let resp = api.get("/stats/reset").await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);

    api.get_json("/posts/2").await;
    api.server.reset_stats();
    assert_eq!(api.server.stats(), volley_mock::Stats::default());
}

#[tokio::test]
async fn arrivals_log_each_request_with_its_worker() {
    let api = Api::start();
    for path in [
        "/users/1?worker=0",
        "/posts/2?worker=7&delay_ms=1",
        "/users/3",
    ] {
        api.get(path).await;
    }
    api.get("/stats").await;
    let (status, over_http) = api.get_json("/arrivals").await;
    assert_eq!(status, StatusCode::OK);
    let log: volley_mock::Arrivals = serde_json::from_value(over_http).expect("Arrivals");
    assert_eq!(log, api.server.arrivals());
    let workers: Vec<Option<u32>> = log.arrivals.iter().map(|a| a.1).collect();
    assert_eq!(workers, [Some(0), Some(7), None], "/stats is not logged");
    assert!(log.arrivals.windows(2).all(|w| w[0].0 <= w[1].0));
    assert_eq!(log.dropped, 0);
    api.server.reset_stats();
    assert_eq!(api.server.arrivals(), volley_mock::Arrivals::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_in_flight_sees_concurrent_requests() {
    let server = MockServer::start();
    let c = client();
    let tasks: Vec<_> = (1..=20)
        .map(|i| {
            let c = c.clone();
            let url = format!("{}/users/{i}?delay_ms=500", server.url());
            tokio::spawn(async move { c.get(url).send().await.map(|r| r.status()) })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("request"), StatusCode::OK);
    }
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 20);
    assert_eq!(stats.in_flight, 0);
    assert_eq!(stats.requests, 20);
    assert_eq!(stats.connections, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capacity_rejects_beyond_k() {
    let server = MockServer::builder().capacity(5).start();
    let c = client();
    let tasks: Vec<_> = (1..=10)
        .map(|i| {
            let c = c.clone();
            let url = format!("{}/posts/{i}?delay_ms=700", server.url());
            tokio::spawn(async move {
                let resp = c.get(url).send().await.expect("request");
                let retry_after = resp.headers().get("retry-after").cloned();
                let status = resp.status();
                let body: Value = resp.json().await.expect("JSON body");
                (status, retry_after, body)
            })
        })
        .collect();
    let mut ok = 0;
    let mut rejected = 0;
    for task in tasks {
        let (status, retry_after, body) = task.await.expect("task");
        match status {
            StatusCode::OK => ok += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                rejected += 1;
                assert_eq!(retry_after.expect("Retry-After"), "1");
                assert_eq!(body["status"], 503);
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, rejected), (5, 5));
    let stats = server.stats();
    assert_eq!(stats.rejected, 5);
    assert_eq!(stats.max_in_flight, 5);
    assert_eq!(stats.requests, 10);

    // `/stats` is never limited, and capacity frees up again.
    let (status, _) = get_json(&c, format!("{}/stats", server.url())).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get_json(&c, format!("{}/posts/1", server.url())).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn fixed_port_and_try_start() {
    let first = MockServer::start();
    let taken = first.addr().port();
    let err = MockServer::builder()
        .port(taken)
        .try_start()
        .expect_err("port in use");
    assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    assert!(first.url().ends_with(&format!(":{taken}")));
    assert!(!first.url().ends_with('/'));
}

#[test]
fn usable_without_an_async_runtime() {
    let server = MockServer::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (status, _) = runtime.block_on(get_json(&client(), format!("{}/users/2", server.url())));
    assert_eq!(status, StatusCode::OK);
    assert_eq!(server.stats().requests, 1);
}
