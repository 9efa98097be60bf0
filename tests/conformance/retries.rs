//! The retry layer recovers from transient failures, honours
//! `Retry-After`, and gives up after its maximum with the attempts counted.
//! (That nothing underneath re-sends by itself: `resend.rs`.)

use std::time::{Duration, Instant};

use volley_core::{ErrorKind, Fetcher, FetcherExt, RetryPolicy};
use volley_mock::MockServer;

use crate::support::Opts;
use crate::{get, json_of};

/// Up to `max_attempts`, `base_delay_ms` apart at first.
fn quick_retries(max_attempts: u32, base_delay_ms: u64) -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(max_attempts)
        .base_delay(Duration::from_millis(base_delay_ms))
}

async fn retries_recover_from_transient_failures<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url())).retry(quick_retries(3, 10));
    let key = format!("r{}", fastrand::u64(..));
    let user = json_of(client.fetch(get(format!("/flaky?fail=2&key={key}"))).await);
    assert_eq!(user["attempt"], 3);
}

async fn retries_honour_retry_after<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
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

async fn retry_gives_up_with_attempts<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url())).retry(quick_retries(3, 5));
    let err = client.fetch(get("/status/503")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(server.stats().requests, 3);
}

crate::on_every_async_adapter!(
    retries_recover_from_transient_failures,
    retries_honour_retry_after,
    retry_gives_up_with_attempts,
);
