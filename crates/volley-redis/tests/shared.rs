//! Rates and cool-downs shared between independent limiters (each with its
//! own connection, as separate processes would have), on a real Redis.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use support::{IoTimer, Recorder, RedisServer, gather_on, get, key};
use volley_core::testing::{InMemoryFetcher, Reply};
use volley_core::{Fetcher, FetcherExt, Rate, gather};
use volley_redis::{RedisExt, SharedCooldown, SharedRate, SharedRateBuilder};

/// Runs `per_limiter` requests through each limiter, each limiter on its
/// own thread and executor; returns the wall time and the results' count.
fn run_workers(limiters: Vec<SharedRate>, per_limiter: usize) -> (Duration, usize) {
    let start = Instant::now();
    let threads: Vec<_> = limiters
        .into_iter()
        .map(|limiter| {
            std::thread::spawn(move || {
                let client = limiter.layer(InMemoryFetcher::new(IoTimer));
                let results = smol::block_on(gather(
                    (0..per_limiter).map(|i| client.fetch(get(&format!("/users/{i}")))),
                ));
                assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
                results.len()
            })
        })
        .collect();
    let done = threads.into_iter().map(|t| t.join().unwrap()).sum();
    (start.elapsed(), done)
}

/// A cool-down shared under `prefix` on `server` that fails closed.
fn cooldown(server: &RedisServer, prefix: &str) -> SharedCooldown {
    SharedCooldown::builder(server.url(), prefix)
        .unwrap()
        .fail_closed(Duration::from_secs(2))
}

/// Sends 40 requests through `n` limiters that share 20 a second under
/// `key`, each built by `configure` (and to fail closed): 39 gaps of 50 ms,
/// whoever sends them.
fn forty_at_twenty_a_second(
    key: &str,
    n: usize,
    configure: impl Fn(SharedRateBuilder) -> SharedRateBuilder,
) {
    let server = RedisServer::shared();
    let limiters = (0..n)
        .map(|_| {
            let builder = SharedRate::builder(server.url(), key, Rate::per_second(20.0)).unwrap();
            configure(builder).fail_closed(Duration::from_secs(5))
        })
        .collect();
    let (elapsed, done) = run_workers(limiters, 40 / n);
    assert_eq!(done, 40);
    assert!(elapsed >= Duration::from_millis(1850), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn four_limiters_hold_the_total_rate() {
    forty_at_twenty_a_second(&key("four"), 4, |builder| builder);
}

#[test]
fn leased_slots_hold_the_total_rate() {
    forty_at_twenty_a_second(&key("lease"), 2, |builder| builder.lease(5));
}

#[test]
fn a_burst_goes_at_once_then_the_rate_holds() {
    let server = RedisServer::shared();
    let limiter = SharedRate::builder(server.url(), key("burst"), Rate::per_second(10.0).burst(5))
        .unwrap()
        .fail_closed(Duration::from_secs(5));
    let client = limiter.layer(InMemoryFetcher::new(IoTimer));
    let start = Instant::now();
    gather_on(&client, 5);
    let burst = start.elapsed();
    gather_on(&client, 5);
    // The second five wait for new slots: about 100 ms apart.
    assert!(
        start.elapsed() >= Duration::from_millis(450),
        "{:?}",
        start.elapsed()
    );
    assert!(burst < Duration::from_millis(450), "{burst:?}");
}

#[test]
fn the_script_is_loaded_again_after_a_flush() {
    let server = RedisServer::shared();
    let recorder = Arc::new(Recorder::default());
    let limiter = SharedRate::builder(server.url(), key("flush"), Rate::per_second(1000.0))
        .unwrap()
        .fail_closed(Duration::from_secs(2));
    let client = InMemoryFetcher::new(IoTimer)
        .observe(recorder.clone())
        .shared_rate(&limiter);
    smol::block_on(async {
        client.fetch(get("/a")).await.unwrap();
        assert_eq!(
            server.command(&["SCRIPT", "FLUSH"]).as_deref(),
            Some("+OK\r\n")
        );
        client.fetch(get("/b")).await.unwrap();
        client.fetch(get("/c")).await.unwrap();
    });
    assert!(recorder.changes().is_empty(), "{:?}", recorder.changes());
    assert!(!limiter.is_degraded());
}

#[test]
fn keys_expire_once_they_say_nothing() {
    let server = RedisServer::shared();
    let key = key("ttl");
    let limiter = SharedRate::builder(server.url(), key.as_str(), Rate::per_second(100.0))
        .unwrap()
        .fail_closed(Duration::from_secs(2));
    let client = limiter.layer(InMemoryFetcher::new(IoTimer));
    smol::block_on(client.fetch(get("/a"))).unwrap();
    let ttl = server.command(&["PTTL", &key]).unwrap();
    let ttl: i64 = ttl.trim_start_matches(':').trim().parse().unwrap();
    assert!(ttl > 0 && ttl <= 1100, "{ttl}");
}

#[test]
fn a_429_seen_by_one_limiter_pauses_the_host_for_another() {
    let server = RedisServer::shared();
    let prefix = key("cooldown");
    // Worker A: a cool-down alone; its API answers 429, Retry-After: 1.
    let a = cooldown(server, &prefix);
    let a_client = InMemoryFetcher::new(IoTimer)
        .script(|_, _| Reply::status(StatusCode::TOO_MANY_REQUESTS, "").header("retry-after", "1"))
        .shared_cooldown(&a);
    // Worker B: a shared rate under the same key that checks pauses too.
    let b = SharedRate::builder(server.url(), prefix.as_str(), Rate::per_second(1000.0))
        .unwrap()
        .share_cooldowns()
        .fail_closed(Duration::from_secs(2));
    let b_fetcher = InMemoryFetcher::new(IoTimer);
    let b_client = b.layer(b_fetcher.clone());
    smol::block_on(async {
        let resp = a_client.fetch(get("http://api.test/x")).await.unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        let start = Instant::now();
        b_client.fetch(get("http://other.test/x")).await.unwrap();
        let other = start.elapsed();
        b_client.fetch(get("http://API.test/y")).await.unwrap();
        let paused = start.elapsed();
        assert!(paused >= Duration::from_millis(800), "{paused:?}");
        assert!(other < Duration::from_millis(800), "{other:?}");
    });
    assert_eq!(b_fetcher.calls(), 2);
}

#[test]
fn pause_host_is_the_function_half() {
    let server = RedisServer::shared();
    let prefix = key("pause-fn");
    let a = cooldown(server, &prefix);
    let b = cooldown(server, &prefix);
    let client = b.layer(InMemoryFetcher::new(IoTimer));
    let timer: volley_core::rt::SharedTimer = Arc::new(IoTimer);
    smol::block_on(async {
        a.pause("api.test", Duration::from_millis(600), &timer)
            .await
            .unwrap();
        let start = Instant::now();
        client.fetch(get("http://api.test/z")).await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(400),
            "{:?}",
            start.elapsed()
        );
    });
}
