//! The per-request cost of observability: the same layered fetcher with the
//! `tracing` feature off and on (no subscriber installed), with and without
//! `.observe(..)`. Each sample sends 1,000 requests one after another.
//!
//! `cargo bench -p volley-core --bench observe` (feature off) and
//! `cargo bench -p volley-core --bench observe --features tracing`.

use divan::{Bencher, black_box};
use futures::executor::block_on;
use volley_core::testing::{InMemoryFetcher, ManualTimer};
use volley_core::{Fetcher, FetcherExt, Rate, Request, RetryPolicy, layer::NoObserver};

fn main() {
    divan::main();
}

const N: usize = 1_000;

fn requests() -> Vec<Request> {
    (0..N)
        .map(|i| {
            Request::get(format!("http://api.test/users/{i}?k=v"))
                .build()
                .expect("valid")
        })
        .collect()
}

/// Sends each sample's requests on `client`, one after another.
fn send_one_by_one(b: Bencher, client: impl Fetcher) {
    b.with_inputs(requests).bench_values(|reqs| {
        block_on(async {
            for r in reqs {
                black_box(client.fetch(r).await.is_ok());
            }
        })
    });
}

#[divan::bench]
fn bare(b: Bencher) {
    send_one_by_one(b, InMemoryFetcher::new(ManualTimer::new()));
}

/// Limit, retry and rate limit: the layers that trace events.
#[divan::bench]
fn layered(b: Bencher) {
    let client = InMemoryFetcher::new(ManualTimer::new())
        .limit(64)
        .retry(RetryPolicy::default())
        .rate_limit(Rate::per_second(1e9).burst(u32::MAX));
    send_one_by_one(b, client);
}

/// The same with `.observe(NoObserver)`: with the `tracing` feature, a span
/// per attempt (no subscriber installed).
#[divan::bench]
fn layered_observed(b: Bencher) {
    let client = InMemoryFetcher::new(ManualTimer::new())
        .observe(NoObserver)
        .limit(64)
        .retry(RetryPolicy::default())
        .rate_limit(Rate::per_second(1e9).burst(u32::MAX));
    send_one_by_one(b, client);
}
