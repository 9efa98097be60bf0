//! The rate-limit layer spaces requests as the server sees them.

use volley_core::{Fetcher, FetcherExt, Rate, gather};
use volley_mock::MockServer;

use crate::support::Opts;
use crate::{get, json_of};

async fn rate_limit_spaces_requests<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url())).rate_limit(Rate::per_second(40.0));
    let warm = json_of(client.fetch(get("/posts/1")).await);
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

crate::on_every_async_adapter!(rate_limit_spaces_requests);
