//! One conformance suite, written once against `Fetcher` and run on every
//! async adapter (tokio, async-std, smol) against volley-mock in-process.
//! The blocking baseline runs the subset that applies in `blocking.rs`.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use futures::future::{Either, select};
use serde_json::Value;
use support::Opts;
use volley_core::{
    ErrorKind, Fetcher, FetcherExt, Rate, Request, RetryPolicy, gather, gather_limited,
};
use volley_mock::MockServer;

fn get(path: impl AsRef<str>) -> Request {
    Request::get(path).build().unwrap()
}

async fn json<F: Fetcher>(client: &F, path: &str) -> Value {
    client
        .fetch(get(path))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .unwrap()
}

async fn kind_of<F: Fetcher>(client: &F, path: &str) -> Option<ErrorKind> {
    match client.fetch(get(path)).await {
        Ok(resp) => resp.error_for_status().err().map(|e| e.kind()),
        Err(e) => Some(e.kind()),
    }
}

async fn decodes_users_and_posts<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url()));
    let user = json(&client, "/users/3").await;
    assert_eq!(user["id"], 3);
    assert!(user["name"].is_string() && user["email"].is_string());
    assert!(user["address"]["geo"]["lat"].is_string());
    assert!(user["company"]["name"].is_string());
    let post = json(&client, "/posts/7").await;
    assert_eq!(post["id"], 7);
    assert!(post["userId"].is_number() && post["title"].is_string() && post["body"].is_string());
}

async fn post_json_round_trips<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url()));
    let body = serde_json::json!({"title": "volley", "tags": ["a", "b"], "n": 42});
    let req = Request::post("/echo?x=1").json(&body).build().unwrap();
    let echo: Value = client.fetch(req).await.unwrap().json().unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["json"], body);
    assert_eq!(echo["headers"]["content-type"], "application/json");
}

async fn default_headers_base_url_and_user_agent<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
) {
    let client = make(Opts::new(server.url()).header("x-api-key", "k123"));
    let echo = json(&client, "/echo").await;
    assert_eq!(echo["headers"]["x-api-key"], "k123");
    let ua = echo["headers"]["user-agent"].as_str().unwrap();
    assert!(ua.starts_with("volley/"), "{ua}");
    // A request's own header wins over the default.
    let req = Request::get("/echo")
        .header("x-api-key", "mine")
        .build()
        .unwrap();
    let echo: Value = client.fetch(req).await.unwrap().json().unwrap();
    assert_eq!(echo["headers"]["x-api-key"], "mine");
    // An absolute URL ignores the base.
    let abs = format!("{}/users/2", server.url());
    assert_eq!(json(&client, &abs).await["id"], 2);
}

async fn reuses_one_connection<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url()));
    server.reset_stats();
    for i in 1..=100 {
        let user = json(&client, &format!("/users/{i}")).await;
        assert_eq!(user["id"], i);
    }
    let stats = server.stats();
    assert_eq!(stats.requests, 100);
    assert_eq!(
        stats.connections, 1,
        "100 sequential requests, one connection"
    );
}

/// Like every future, a fetch does nothing until polled: one made and
/// dropped sends nothing, and one awaited afterwards is the only request.
async fn an_unpolled_fetch_sends_nothing<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
) {
    let client = make(Opts::new(server.url()));
    let timer = client.timer();
    server.reset_stats();
    let request = Request::get("/users/1").build().expect("request");
    let unpolled = client.fetch(request);
    timer.sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.stats().requests,
        0,
        "nothing sent before the first poll"
    );
    drop(unpolled);
    assert_eq!(json(&client, "/users/2").await["id"], 2);
    timer.sleep(Duration::from_millis(50)).await;
    assert_eq!(
        server.stats().requests,
        1,
        "only the awaited request was sent"
    );
}

async fn limit_puts_exactly_n_in_flight<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url()));
    server.reset_stats();
    let limited = client.clone().limit(8);
    let out =
        gather((1..=40).map(|i| limited.fetch(get(format!("/users/{i}?delay_ms=100"))))).await;
    assert!(out.iter().all(|r| r.is_ok()));
    assert_eq!(server.stats().max_in_flight, 8);

    server.reset_stats();
    let out = gather_limited(
        (1..=30).map(|i| client.fetch(get(format!("/posts/{i}?delay_ms=100")))),
        5,
    )
    .await;
    assert!(out.iter().all(|r| r.is_ok()));
    assert_eq!(server.stats().max_in_flight, 5);
}

async fn no_hidden_pool_cap<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url()));
    server.reset_stats();
    let out =
        gather((1..=200).map(|i| client.fetch(get(format!("/users/{i}?delay_ms=300"))))).await;
    assert!(out.iter().all(|r| r.is_ok()));
    assert_eq!(
        server.stats().max_in_flight,
        200,
        "the caller's limit is the only cap"
    );
}

async fn gather_keeps_input_order<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url()));
    let mut rng = fastrand::Rng::with_seed(7);
    let paths: Vec<String> = (1..=50)
        .map(|i| format!("/users/{i}?delay_ms={}", rng.u32(0..120)))
        .collect();
    let out = gather(paths.iter().map(|p| client.fetch(get(p)))).await;
    let ids: Vec<u64> = out
        .into_iter()
        .map(|r| r.unwrap().json::<Value>().unwrap()["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, (1..=50).collect::<Vec<_>>());
}

async fn faults_have_their_error_kinds<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    // Long enough that a loaded machine never turns a slow answer into a
    // timeout; `/hang` gets a short one of its own below.
    let client = make(
        Opts::new(server.url())
            .timeout(Duration::from_secs(10))
            .max_body_bytes(1_000_000),
    );
    assert_eq!(
        kind_of(&client, "/status/404").await,
        Some(ErrorKind::Status)
    );
    let resp = client.fetch(get("/status/503")).await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.error_for_status().unwrap_err().status().unwrap(), 503);
    let resp = client
        .fetch(get("/ratelimited?retry_after=7"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");
    let key = format!("k{}", fastrand::u64(..));
    let flaky = format!("/flaky?fail=2&key={key}");
    assert_eq!(kind_of(&client, &flaky).await, Some(ErrorKind::Status));
    assert_eq!(kind_of(&client, &flaky).await, Some(ErrorKind::Status));
    assert_eq!(kind_of(&client, &flaky).await, None);
    let malformed = client.fetch(get("/malformed")).await.unwrap();
    assert_eq!(
        malformed.json::<Value>().unwrap_err().kind(),
        ErrorKind::Decode
    );
    let hang = Request::get("/hang")
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    let hung = client.fetch(hang).await.map(|_| ()).map_err(|e| e.kind());
    assert_eq!(hung, Err(ErrorKind::Timeout));
    assert_eq!(kind_of(&client, "/reset").await, Some(ErrorKind::Connect));
    assert_eq!(
        kind_of(&client, "/big?bytes=10000000").await,
        Some(ErrorKind::TooLarge)
    );
    let big = client.fetch(get("/big?bytes=1000")).await.unwrap();
    assert_eq!(big.bytes().len(), 1000);
    let slow = client.fetch(get("/slow-body?ms=200")).await.unwrap();
    assert!(slow.json::<Value>().is_ok());
    assert_eq!(json(&client, "/redirect?to=/users/2").await["id"], 2);
    assert_eq!(
        kind_of(&client, "/redirect-loop").await,
        Some(ErrorKind::Redirect)
    );

    let refused = make(Opts::new(support::refused_url()));
    assert_eq!(
        kind_of(&refused, "/users/1").await,
        Some(ErrorKind::Connect)
    );
    let bad = Request::get("/x").header("x-a", "a\r\nb: c").build();
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidRequest);
}

/// With one connection allowed, requests queue for it. Requests that give
/// up on their response part-way (a body over the cap, a timeout in the
/// middle of a body) leave that connection unusable: the ones waiting must
/// still each get their own response, never the rest of another's.
async fn waiting_requests_survive_abandoned_ones<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
) {
    let client = make(
        Opts::new(server.url())
            .pool_size(1)
            .max_body_bytes(64 * 1024)
            .timeout(Duration::from_secs(10)),
    );
    let requests = (1..=12).map(|i| match i % 4 {
        0 => get("/big?bytes=1000000"),
        2 => Request::get("/slow-body?ms=5000")
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap(),
        _ => get(format!("/users/{i}?delay_ms=20")),
    });
    let out = gather(requests.map(|request| client.fetch(request))).await;
    assert_eq!(out.len(), 12);
    for (i, result) in (1..=12).zip(out) {
        match i % 4 {
            0 => assert_eq!(result.unwrap_err().kind(), ErrorKind::TooLarge),
            2 => assert_eq!(result.unwrap_err().kind(), ErrorKind::Timeout),
            _ => {
                let user: Value = result.unwrap().error_for_status().unwrap().json().unwrap();
                assert_eq!(user["id"], i);
            }
        }
    }
    assert_eq!(json(&client, "/users/99").await["id"], 99);
}

async fn dropping_a_gather_frees_everything<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
) {
    let client = make(Opts::new(server.url())).limit(4);
    let timer = client.timer();
    let batch = gather((1..=20).map(|i| client.fetch(get(format!("/users/{i}?delay_ms=1000")))));
    match select(Box::pin(batch), timer.sleep(Duration::from_millis(300))).await {
        Either::Left(_) => panic!("the batch cannot finish in 300 ms"),
        Either::Right(((), batch)) => drop(batch),
    }
    assert_eq!(client.available(), 4, "every permit is back");
    // The server sees the dropped requests go away.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.stats().in_flight > 0 && Instant::now() < deadline {
        timer.sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.stats().in_flight, 0);
    let out = gather((1..=8).map(|i| client.fetch(get(format!("/users/{i}"))))).await;
    assert!(out.iter().all(|r| r.is_ok()), "the client still works");
}

async fn retries_recover_and_honour_retry_after<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
) {
    let client = make(Opts::new(server.url())).retry(
        RetryPolicy::default()
            .max_attempts(3)
            .base_delay(Duration::from_millis(10)),
    );
    let key = format!("r{}", fastrand::u64(..));
    let user = json(&client, &format!("/flaky?fail=2&key={key}")).await;
    assert_eq!(user["attempt"], 3);

    let client = make(Opts::new(server.url())).retry(RetryPolicy::default().max_attempts(2));
    let start = Instant::now();
    let err = client
        .fetch(get("/ratelimited?retry_after=1"))
        .await
        .unwrap_err();
    let waited = start.elapsed();
    assert_eq!(err.status().unwrap(), 429);
    assert_eq!(err.attempts(), Some(2));
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After: 1 was not honoured: {waited:?}"
    );
}

async fn retry_gives_up_with_attempts<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url())).retry(
        RetryPolicy::default()
            .max_attempts(3)
            .base_delay(Duration::from_millis(5)),
    );
    let err = client.fetch(get("/status/503")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.attempts(), Some(3));
}

async fn hang_times_out_through_the_layer<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
) {
    let client = make(Opts::new(server.url())).timeout(Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(kind_of(&client, "/hang").await, Some(ErrorKind::Timeout));
    let took = start.elapsed();
    eprintln!(
        "timeout 300 ms on /hang: returned after {:.1} ms",
        took.as_secs_f64() * 1e3
    );
    assert!(took >= Duration::from_millis(300));
}

async fn rate_limit_spaces_requests<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(Opts::new(server.url())).rate_limit(Rate::per_second(40.0));
    let warm = json(&client, "/posts/1").await;
    assert_eq!(warm["id"], 1);
    server.reset_stats();
    let out = gather((1..=41).map(|i| client.fetch(get(format!("/users/{i}"))))).await;
    assert!(out.iter().all(|r| r.is_ok()));
    // 41 requests at 40/s: 40 gaps of 25 ms, 1,000 ms first to last, at the server.
    let stats = server.stats();
    assert_eq!(stats.requests, 41);
    let seen = 40.0 / stats.first_to_last_ms * 1000.0;
    eprintln!(
        "rate limit 40/s: the server saw 41 requests over {:.1} ms = {seen:.2}/s",
        stats.first_to_last_ms
    );
    assert!(
        (30.0..=41.0).contains(&seen),
        "asked for 40/s, the server saw {seen:.2}/s"
    );
}

macro_rules! conformance {
    ($module:ident, $client:ty, $block_on:path) => {
        mod $module {
            use super::*;

            fn make(opts: Opts) -> $client {
                $crate::build_client!($client, opts)
            }

            conformance!(@tests $block_on;
                decodes_users_and_posts,
                post_json_round_trips,
                default_headers_base_url_and_user_agent,
                reuses_one_connection,
                an_unpolled_fetch_sends_nothing,
                limit_puts_exactly_n_in_flight,
                no_hidden_pool_cap,
                gather_keeps_input_order,
                faults_have_their_error_kinds,
                waiting_requests_survive_abandoned_ones,
                dropping_a_gather_frees_everything,
                retries_recover_and_honour_retry_after,
                retry_gives_up_with_attempts,
                hang_times_out_through_the_layer,
                rate_limit_spaces_requests,
            );
        }
    };
    (@tests $block_on:path; $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                let server = MockServer::start();
                $block_on(super::$test(&server, make));
            }
        )*
    };
}

conformance!(tokio, volley_tokio::Client, support::tokio_block_on);
conformance!(
    async_std,
    volley_async_std::Client,
    support::async_std_block_on
);
conformance!(smol, volley_smol::Client, support::smol_block_on);
