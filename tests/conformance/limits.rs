//! A limit puts exactly as many requests in flight as it says, never more,
//! whether it is the `limit` layer or `gather_limited`; and a gather's
//! results come back in input order, whatever order they finish in.

use std::time::{Duration, Instant};

use serde_json::Value;
use volley_core::{Fetcher, FetcherExt, gather, gather_limited};
use volley_mock::MockServer;

use crate::get;
use crate::support::{Opts, late_pool_returns};

/// 40 requests of 200 ms at 10 at a time, on a client of `F`: four waves.
fn check_four_waves<F: 'static>(server: &MockServer, took: Duration) {
    let stats = server.stats();
    assert_eq!(stats.max_in_flight, 10, "{stats:?}");
    assert!(
        stats.connections <= 10 + late_pool_returns::<F>(),
        "{stats:?}"
    );
    assert!(took >= Duration::from_millis(790), "{took:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
}

async fn the_limit_layer_puts_exactly_n_in_flight<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let limited = make(Opts::new(server.url())).limit(10);
    let start = Instant::now();
    let out =
        gather((1..=40).map(|i| limited.fetch(get(format!("/posts/{i}?delay_ms=200"))))).await;
    assert!(out.iter().all(|r| r.is_ok()));
    check_four_waves::<F>(&server, start.elapsed());
}

async fn gather_limited_puts_exactly_n_in_flight<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url()));
    let start = Instant::now();
    let out = gather_limited(
        (1..=40).map(|i| client.fetch(get(format!("/users/{i}?delay_ms=200")))),
        10,
    )
    .await;
    check_four_waves::<F>(&server, start.elapsed());
    for (i, result) in (1..=40).zip(out) {
        let user: Value = result.unwrap().json().unwrap();
        assert_eq!(user["id"], i, "input order");
    }
}

async fn gather_keeps_input_order<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
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

crate::on_every_async_adapter!(
    the_limit_layer_puts_exactly_n_in_flight,
    gather_limited_puts_exactly_n_in_flight,
    gather_keeps_input_order,
);
