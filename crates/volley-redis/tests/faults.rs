//! Redis killed, slow or absent: fail-open goes on under the local share of
//! the rate, fail-closed fails with typed errors in bounded time, and the
//! switch and the way back are reported once each. Each test that kills a
//! server has a server of its own.
#![allow(clippy::unwrap_used)]

mod support;

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::{IoTimer, Recorder, RedisServer, gather_on, get, key, nothing_listens};
use volley_core::testing::InMemoryFetcher;
use volley_core::{ErrorKind, Fetcher, FetcherExt, Rate, gather_limited};
use volley_redis::{RedisExt, SharedRate, SharedRateBuilder, redis};

/// A limiter of `per_second` requests under a key of its own for `name`,
/// on the Redis at `url`, that waits `redis_timeout` for an answer.
fn rate_on(
    url: impl redis::IntoConnectionInfo,
    name: &str,
    per_second: f64,
    redis_timeout: Duration,
) -> SharedRateBuilder {
    SharedRate::builder(url, key(name), Rate::per_second(per_second))
        .unwrap()
        .redis_timeout(redis_timeout)
}

/// An observed client of `limiter`: what the layers report, the fetcher
/// under it (its calls counted), and the client.
fn observed(limiter: &SharedRate) -> (Arc<Recorder>, InMemoryFetcher, impl Fetcher + use<>) {
    let recorder = Arc::new(Recorder::default());
    let fetcher = InMemoryFetcher::new(IoTimer);
    let client = fetcher
        .clone()
        .observe(recorder.clone())
        .shared_rate(limiter);
    (recorder, fetcher, client)
}

fn rate_changes(recorder: &Recorder) -> Vec<bool> {
    recorder
        .changes()
        .into_iter()
        .map(|(name, degraded)| {
            assert_eq!(name, "redis-rate");
            degraded
        })
        .collect()
}

#[test]
fn fail_open_goes_on_when_redis_dies_mid_run_and_reports_the_way_back() {
    let mut server = RedisServer::start();
    let limiter = rate_on(server.url(), "open", 50.0, Duration::from_millis(200))
        .retry_every(Duration::from_millis(200))
        .fail_open(2);
    let (recorder, fetcher, client) = observed(&limiter);

    // 60 requests at 50/s, two at a time so that they ask Redis all along,
    // take about 1.2 s; the server dies 300 ms in.
    let results = std::thread::scope(|s| {
        let run = s.spawn(|| {
            let requests = (0..60).map(|i| client.fetch(get(&format!("/{i}"))));
            smol::block_on(gather_limited(requests, 2))
        });
        std::thread::sleep(Duration::from_millis(300));
        server.kill();
        run.join().unwrap()
    });
    assert_eq!(results.len(), 60);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(fetcher.calls(), 60);
    assert_eq!(rate_changes(&recorder), [true]);
    assert!(limiter.is_degraded());

    // Back on the same port: within a few retries the shared rate is used again.
    server.restart();
    let start = Instant::now();
    for i in 0..100 {
        smol::block_on(client.fetch(get(&format!("/again/{i}")))).unwrap();
        if !limiter.is_degraded() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !limiter.is_degraded(),
        "no recovery after {:?}",
        start.elapsed()
    );
    assert_eq!(rate_changes(&recorder), [true, false]);
}

#[test]
fn fail_open_falls_back_to_the_local_share_of_the_rate() {
    // Nothing listens there: every request takes the fallback, 10/s / 2.
    let limiter =
        rate_on(nothing_listens(), "share", 10.0, Duration::from_millis(200)).fail_open(2);
    let client = limiter.layer(InMemoryFetcher::new(IoTimer));
    let start = Instant::now();
    let results = gather_on(&client, 4);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    // 4 requests at 5/s: 3 gaps of 200 ms.
    assert!(
        start.elapsed() >= Duration::from_millis(550),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn fail_closed_gives_typed_errors_in_bounded_time() {
    let limiter = rate_on(
        nothing_listens(),
        "closed",
        10.0,
        Duration::from_millis(100),
    )
    .retry_every(Duration::from_millis(100))
    .fail_closed(Duration::from_millis(400));
    let (recorder, fetcher, client) = observed(&limiter);
    let start = Instant::now();
    let results = gather_on(&client, 8);
    let elapsed = start.elapsed();
    assert_eq!(results.len(), 8);
    for r in &results {
        let err = r.as_ref().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert!(err.to_string().contains("Redis"), "{err}");
        assert!(err.url().is_some());
    }
    assert_eq!(fetcher.calls(), 0, "nothing is sent without a slot");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(rate_changes(&recorder), [true]);
}

#[test]
fn a_slow_redis_is_cut_off_by_the_deadline() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().take(64) {
            held.push(stream);
        }
    });
    let url = format!("redis://127.0.0.1:{port}/");

    let open = rate_on(url.as_str(), "slow-open", 100.0, Duration::from_millis(200)).fail_open(1);
    let (recorder, _, client) = observed(&open);
    let start = Instant::now();
    let results = gather_on(&client, 5);
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(rate_changes(&recorder), [true]);

    let closed = rate_on(
        url.as_str(),
        "slow-closed",
        100.0,
        Duration::from_millis(200),
    )
    .fail_closed(Duration::from_millis(500));
    let client = closed.layer(InMemoryFetcher::new(IoTimer));
    let start = Instant::now();
    let err = smol::block_on(client.fetch(get("/x"))).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn fail_closed_waits_for_redis_to_come_back() {
    let mut server = RedisServer::start();
    let limiter = rate_on(server.url(), "wait", 100.0, Duration::from_millis(200))
        .retry_every(Duration::from_millis(100))
        .fail_closed(Duration::from_secs(10));
    let (recorder, _, client) = observed(&limiter);
    smol::block_on(client.fetch(get("/before"))).unwrap();
    server.kill();
    let result = std::thread::scope(|s| {
        let run = s.spawn(|| smol::block_on(client.fetch(get("/during"))));
        std::thread::sleep(Duration::from_millis(500));
        server.restart();
        run.join().unwrap()
    });
    result.unwrap();
    assert_eq!(rate_changes(&recorder), [true, false]);
}
