//! The adaptive limit on a fake clock: it finds a server's capacity with few
//! rejections, and grows to its maximum when nothing pushes back.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Mutex;
use std::time::Duration;

use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
use volley_core::{Adaptive, Fetcher, FetcherExt, Observer, Request, gather};

use support::{MS, get};

fn batch<F: Fetcher>(timer: &ManualTimer, client: &F, n: usize) -> (Duration, usize) {
    let start = timer.elapsed();
    let out = run(
        timer,
        gather((0..n).map(|i| client.fetch(get(format!("/users/{i}"))))),
    )
    .unwrap();
    let failed = out
        .iter()
        .filter(|r| r.as_ref().map_or(true, |resp| !resp.status().is_success()))
        .count();
    (timer.elapsed() - start, failed)
}

#[test]
fn finds_the_capacity_of_a_server_that_rejects_at_once() {
    // The DESIGN's capacity scenario: 5,000 requests, 200 ms, 50 at once.
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone())
        .latency(MS * 200)
        .capacity(50);
    let client = server
        .clone()
        .adaptive_limit(Adaptive::new().initial(10).max(1000));
    let (took, rejected) = batch(&timer, &client, 5000);
    let best = MS * 200 * 100; // fixed limit 50: 100 rounds of 200 ms
    let ratio = took.as_secs_f64() / best.as_secs_f64();
    eprintln!(
        "capacity 50: {took:?} ({ratio:.3}x the best fixed limit), {rejected} rejected, limit ends at {}",
        client.current()
    );
    assert!(
        ratio <= 1.15,
        "took {took:?}, {ratio:.3}x the best fixed limit"
    );
    assert!(rejected * 100 < 5000 * 2, "{rejected} of 5000 rejected");
    assert_eq!(rejected as u64, server.rejected());
    assert!(server.max_in_flight() <= 50);
    let limit = client.current();
    assert!((35..=60).contains(&limit), "ended at {limit}");
}

#[test]
fn grows_to_the_maximum_without_pushback_and_matches_that_fixed_limit() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).latency(MS * 200);
    // Growing from 20 to 100 takes three round trips of 50.
    let client = server.clone().adaptive_limit(Adaptive::new().max(100));
    let (adaptive, failed) = batch(&timer, &client, 5000);
    assert_eq!(failed, 0);
    assert_eq!(client.current(), 100);
    assert_eq!(server.max_in_flight(), 100);

    let fixed_server = InMemoryFetcher::new(timer.clone()).latency(MS * 200);
    let fixed = fixed_server.limit(100);
    let (fixed_took, _) = batch(&timer, &fixed, 5000);
    let ratio = adaptive.as_secs_f64() / fixed_took.as_secs_f64();
    eprintln!("no capacity: adaptive {adaptive:?}, fixed 100 {fixed_took:?}: {ratio:.3}x");
    assert!(
        ratio <= 1.05,
        "adaptive {adaptive:?} vs fixed {fixed_took:?}: {ratio:.3}"
    );
}

#[test]
fn cuts_on_rising_latency() {
    // A server that queues: latency grows with the load beyond 20 at once.
    let timer = ManualTimer::new();
    let load = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = load.clone();
    let server = InMemoryFetcher::new(timer.clone()).script(move |_, _| {
        let n = seen.load(std::sync::atomic::Ordering::SeqCst);
        let latency = if n > 20 {
            MS * (100 * n as u32 / 20)
        } else {
            MS * 100
        };
        volley_core::testing::Reply::status(http::StatusCode::OK, "").after(latency)
    });
    let counter = server.clone();
    let watch = std::sync::Arc::new(LimitLog::default());
    let tracked = Tracked {
        inner: server,
        load,
    };
    let client = tracked
        .observe(watch.clone())
        .adaptive_limit(Adaptive::new().initial(40).max(200));
    let (_, failed) = batch(&timer, &client, 2000);
    assert_eq!(failed, 0);
    let changes = watch.0.lock().unwrap().clone();
    assert!(
        changes.iter().any(|l| *l < 40),
        "cut below its start: {changes:?}"
    );
    assert!(
        client.current() <= 60,
        "settled near the knee: {}",
        client.current()
    );
    assert!(counter.max_in_flight() >= 20);
}

#[derive(Default)]
struct LimitLog(Mutex<Vec<usize>>);

impl Observer for LimitLog {
    fn limit_changed(&self, limit: usize) {
        self.0.lock().unwrap().push(limit);
    }
}

/// Counts requests in flight through `inner` into `load`, for the script.
#[derive(Clone)]
struct Tracked<F> {
    inner: F,
    load: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<F: Fetcher> Fetcher for Tracked<F> {
    async fn fetch(&self, request: Request) -> volley_core::Result<volley_core::Response> {
        use std::sync::atomic::Ordering;
        self.load.fetch_add(1, Ordering::SeqCst);
        let out = self.inner.fetch(request).await;
        self.load.fetch_sub(1, Ordering::SeqCst);
        out
    }
    fn timer(&self) -> volley_core::rt::SharedTimer {
        self.inner.timer()
    }
}
