//! The per-request path of volley-async-std and volley-smol against
//! volley-mock (in process, no added latency): one `GET /users/1` and its
//! JSON decoded, on a warm client, one after another and 64 at a time. The
//! same benches for volley-tokio, beside plain reqwest, are in that crate
//! (`cargo bench -p volley-tokio --bench request`).
//!
//! `cargo bench -p volley --bench request`
//!
//! The server shares the machine's cores with the client, so compare numbers
//! from one run, not across runs.

use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use serde_json::Value;
use volley_core::{Fetcher, Request, gather_limited};
use volley_mock::MockServer;

fn main() {
    divan::main();
}

/// Requests per sample of the concurrent bench.
const BATCH: usize = 640;
/// Requests in flight at once in the concurrent bench.
const IN_FLIGHT: usize = 64;

static SERVER: LazyLock<MockServer> = LazyLock::new(MockServer::start);
static URL: LazyLock<String> = LazyLock::new(|| format!("{}/users/1", SERVER.url()));

async fn get<F: Fetcher>(client: &F) -> Value {
    let request = Request::get(URL.as_str()).build().expect("request");
    let response = client.fetch(request).await.expect("response");
    response.json().expect("json")
}

/// The benches of one adapter, given its client type and its runtime's
/// `block_on`.
macro_rules! adapter_benches {
    ($module:ident, $client:ty, $block_on:path) => {
        mod $module {
            use super::*;

            /// A client sized for the concurrent bench, its pool warmed.
            fn warm_client() -> $client {
                let client = <$client>::builder()
                    .pool_size(IN_FLIGHT)
                    .build()
                    .expect("client");
                $block_on(gather_limited(
                    (0..IN_FLIGHT).map(|_| get(&client)),
                    IN_FLIGHT,
                ));
                client
            }

            #[divan::bench]
            fn sequential(b: Bencher) {
                let client = warm_client();
                b.bench_local(|| black_box($block_on(get(&client))));
            }

            #[divan::bench]
            fn in_flight_64(b: Bencher) {
                let client = warm_client();
                b.counter(ItemsCount::new(BATCH)).bench_local(|| {
                    black_box($block_on(gather_limited(
                        (0..BATCH).map(|_| get(&client)),
                        IN_FLIGHT,
                    )))
                });
            }
        }
    };
}

adapter_benches!(
    async_std,
    volley_async_std::Client,
    ::async_std::task::block_on
);
adapter_benches!(smol, volley_smol::Client, ::smol::block_on);
