//! Whatever the server does, every request yields exactly one result of the
//! documented kind, and descriptors and memory stay flat: on every adapter,
//! against volley-mock in-process.
//!
//! The full soak (100,000 requests at limit 256) is `#[ignore]`d:
//! `cargo test --release --test reliability -- --ignored`.
#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::future::{Either, select};
use serde_json::Value;
use support::Opts;
use volley_core::{ErrorKind, Fetcher, FetcherExt, Request, gather, gather_limited};
use volley_mock::MockServer;

/// A fault endpoint and the kind it must give (`None`: success).
fn fault(i: usize, rng: &mut fastrand::Rng) -> (String, Option<ErrorKind>) {
    match rng.u32(0..100) {
        0..=49 => (format!("/users/{}", i % 100 + 1), None),
        50..=54 => ("/status/500".into(), Some(ErrorKind::Status)),
        55..=59 => ("/ratelimited".into(), Some(ErrorKind::Status)),
        60..=64 => ("/malformed".into(), Some(ErrorKind::Decode)),
        65..=69 => ("/reset".into(), Some(ErrorKind::Connect)),
        70..=74 => ("/big?bytes=2000000".into(), Some(ErrorKind::TooLarge)),
        75..=79 => ("/slow-body?ms=20".into(), None),
        80..=84 => ("/redirect?to=/posts/3".into(), None),
        85..=89 => ("/redirect-loop".into(), Some(ErrorKind::Redirect)),
        90..=94 => (
            format!("/flaky?fail=1&key=k{i}-{}", rng.u64(..)),
            Some(ErrorKind::Status),
        ),
        95..=96 => ("/hang".into(), Some(ErrorKind::Timeout)),
        _ => ("/big?bytes=1000".into(), Some(ErrorKind::Decode)),
    }
}

/// How long `/hang` is given before it times out. Every other request has
/// the client's timeout, long enough that a loaded machine never turns a
/// slow answer into a timeout.
const HANG_TIMEOUT: Duration = Duration::from_millis(300);

async fn call<F: Fetcher>(client: &F, path: impl AsRef<str>) -> volley_core::Result<Value> {
    let path = path.as_ref();
    let mut request = Request::get(path);
    if path == "/hang" {
        request = request.timeout(HANG_TIMEOUT);
    }
    client
        .fetch(request.build()?)
        .await?
        .error_for_status()?
        .json()
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn rss_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn client_opts(server: &MockServer) -> Opts {
    Opts::new(server.url())
        .timeout(Duration::from_secs(10))
        .max_body_bytes(1_000_000)
}

/// Sends `n` random faults at `limit`; checks one result per request, each
/// of its kind; returns the counts.
async fn faults_round<F: Fetcher>(
    client: &F,
    n: usize,
    limit: usize,
    seed: u64,
) -> BTreeMap<String, usize> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let plan: Vec<(String, Option<ErrorKind>)> = (0..n).map(|i| fault(i, &mut rng)).collect();
    let out = gather_limited(plan.iter().map(|(p, _)| call(client, p)), limit).await;
    assert_eq!(out.len(), n, "one result per request");
    let mut counts = BTreeMap::new();
    for ((path, expected), got) in plan.iter().zip(&out) {
        let kind = got.as_ref().err().map(|e| e.kind());
        assert_eq!(kind, *expected, "{path}: {got:?}");
        let key = kind.map_or("ok", |k| k.as_str()).to_owned();
        *counts.entry(key).or_insert(0) += 1;
    }
    assert_eq!(counts.values().sum::<usize>(), n, "ok + errors == requests");
    counts
}

async fn settle<F: Fetcher>(client: &F, target: usize) -> usize {
    let timer = client.timer();
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds() > target && Instant::now() < deadline {
        timer.sleep(Duration::from_millis(20)).await;
    }
    open_fds()
}

/// Checks that open descriptors grew by `fd_slack` at most and resident
/// memory by 64 MiB at most, each given as before and after.
fn assert_flat(
    [fds_before, fds_after]: [usize; 2],
    fd_slack: usize,
    [rss_before, rss_after]: [u64; 2],
) {
    assert!(
        fds_after <= fds_before + fd_slack,
        "descriptors grew (leaked): {fds_before} -> {fds_after}"
    );
    assert!(
        rss_after <= rss_before + 64 * 1024,
        "memory grew: {rss_before} -> {rss_after} kB"
    );
}

async fn every_fault_gives_its_kind<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(client_opts(server));
    let counts = faults_round(&client, 400, 64, 1).await;
    eprintln!("faults, 400 requests at limit 64: {counts:?}");
    assert_eq!(counts.len(), 7, "ok and six error kinds: {counts:?}");
}

/// `rounds` rounds of `per_round` random faults at limit 256 after a warm-up
/// round: every result counted, open files bounded by the pool while
/// running and all closed once the client is dropped, memory flat.
async fn soak<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
    rounds: u64,
    per_round: usize,
) -> BTreeMap<String, usize> {
    const LIMIT: usize = 256;
    let fds_start = open_fds();
    let client = make(client_opts(server));
    let timer = client.timer();
    faults_round(&client, per_round, LIMIT, 2).await;
    let rss_before = rss_kb();
    let start = Instant::now();
    let mut total = BTreeMap::new();
    let mut fds_seen = Vec::new();
    // Pooled connections, both ends in this process, are all that may stay
    // open. A pool may hold more connections than the limit (up to twice
    // it here): with requests on several threads, one that starts just
    // before the connection of one that finished is back in the pool opens
    // a new one, which then stays in the pool.
    let bound = fds_start + 2 * (2 * LIMIT) + 32;
    for round in 0..rounds {
        for (k, v) in faults_round(&client, per_round, LIMIT, 10 + round).await {
            *total.entry(k).or_insert(0) += v;
        }
        // Connections that failed close on both ends (the server's end in
        // this process too) a little after their result is in: wait for them.
        fds_seen.push(settle(&client, bound).await);
    }
    let took = start.elapsed();
    let rss_after = rss_kb();
    assert!(
        fds_seen.iter().all(|n| *n <= bound),
        "descriptors {fds_seen:?} over {bound}"
    );
    drop(client);
    let deadline = Instant::now() + Duration::from_secs(5);
    while open_fds() > fds_start + 4 && Instant::now() < deadline {
        timer.sleep(Duration::from_millis(20)).await;
    }
    let fds_end = open_fds();
    eprintln!(
        "soak {} requests at {LIMIT} in {took:?}: {total:?}; fds {fds_start} at start, {fds_seen:?} after each round, {fds_end} once the client is dropped; rss {rss_before} kB -> {rss_after} kB",
        rounds as usize * per_round
    );
    assert_eq!(total.values().sum::<usize>(), rounds as usize * per_round);
    assert_flat([fds_start, fds_end], 4, [rss_before, rss_after]);
    total
}

async fn a_soak_keeps_descriptors_and_memory_flat<F: Fetcher>(
    server: &MockServer,
    make: impl Fn(Opts) -> F,
) {
    soak(server, make, 4, 2_000).await;
}

async fn cancelled_gathers_leak_nothing<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    let client = make(client_opts(server)).limit(4);
    let timer = client.timer();
    let warm = gather((1..=4).map(|i| call(&client, format!("/users/{i}")))).await;
    assert!(warm.iter().all(|r| r.is_ok()));
    let fds_before = settle(&client, 0).await;
    let rss_before = rss_kb();
    for i in 0..1_000 {
        let batch = gather((0..4).map(|j| {
            call(
                &client,
                match (i + j) % 3 {
                    0 => "/users/1?delay_ms=500",
                    1 => "/slow-body?ms=500",
                    _ => "/hang",
                },
            )
        }));
        match select(Box::pin(batch), timer.sleep(Duration::from_millis(1))).await {
            Either::Left(_) => panic!("cannot finish in 1 ms"),
            Either::Right(((), batch)) => drop(batch),
        }
        assert_eq!(client.available(), 4, "permits back after gather {i}");
    }
    let out = gather((1..=8).map(|i| call(&client, format!("/users/{i}")))).await;
    assert!(out.iter().all(|r| r.is_ok()), "the client still works");
    let fds_after = settle(&client, fds_before).await;
    let rss_after = rss_kb();
    eprintln!(
        "1,000 cancelled gathers: fds {fds_before} -> {fds_after}, rss {rss_before} kB -> {rss_after} kB"
    );
    assert_flat([fds_before, fds_after], 16, [rss_before, rss_after]);
}

async fn full_soak<F: Fetcher>(server: &MockServer, make: impl Fn(Opts) -> F) {
    soak(server, make, 10, 10_000).await;
}

/// The tests here measure the whole process's descriptors and memory, so
/// they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The cases, each a test of its own on a fresh mock server, one at a time.
macro_rules! reliability {
    ($module:ident, $client:ty, $block_on:path) => {
        mod $module {
            use super::*;

            fn make(opts: Opts) -> $client {
                $crate::build_client!($client, opts)
            }

            reliability!(
                @cases $block_on,
                every_fault_gives_its_kind,
                a_soak_keeps_descriptors_and_memory_flat,
                cancelled_gathers_leak_nothing,
                #[ignore = "the full soak: 100,000 requests; run with --ignored --release"]
                full_soak,
            );
        }
    };
    (@cases $block_on:path, $($(#[$attr:meta])* $case:ident,)*) => {
        $(
            #[test]
            $(#[$attr])*
            fn $case() {
                let _serial = serial();
                let server = MockServer::start();
                $block_on(super::$case(&server, make));
            }
        )*
    };
}

crate::for_each_async_adapter!(reliability);
