//! The per-request cost of observability: a fetcher alone, with `.observe`
//! and no subscriber, and (with the `tracing` feature) the same with spans.
//!
//! `cargo bench -p volley-core --bench observe` (feature off) and
//! `cargo bench -p volley-core --bench observe --features tracing`.

use divan::{Bencher, black_box};
use futures::executor::block_on;
use volley_core::testing::{InMemoryFetcher, ManualTimer};
use volley_core::{Fetcher, FetcherExt, NoObserver, Request};

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

#[divan::bench]
fn plain(b: Bencher) {
    let client = InMemoryFetcher::new(ManualTimer::new());
    b.with_inputs(requests).bench_values(|reqs| {
        block_on(async {
            for r in reqs {
                black_box(client.fetch(r).await.is_ok());
            }
        })
    });
}

#[divan::bench]
fn observed_no_subscriber(b: Bencher) {
    let client = InMemoryFetcher::new(ManualTimer::new()).observe(NoObserver);
    b.with_inputs(requests).bench_values(|reqs| {
        block_on(async {
            for r in reqs {
                black_box(client.fetch(r).await.is_ok());
            }
        })
    });
}
