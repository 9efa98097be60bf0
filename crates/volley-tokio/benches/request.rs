//! The per-request path of volley-tokio against volley-mock (in process, no
//! added latency): one `GET /users/1` and its JSON decoded, on a warm client,
//! one after another and 64 at a time; plain reqwest (the same request, a
//! `reqwest::Client` and `buffer_unordered`) alongside for reference.
//!
//! `cargo bench -p volley-tokio --bench request`
//!
//! The server shares the machine's cores with the client, so compare numbers
//! from one run, not across runs.

use std::sync::LazyLock;

use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use futures::StreamExt;
use serde_json::Value;
use volley_core::{Fetcher, Request, gather_limited};
use volley_mock::MockServer;

fn main() {
    divan::main();
}

/// Requests per sample of the concurrent benches.
const BATCH: usize = 640;
/// Requests in flight at once in the concurrent benches.
const IN_FLIGHT: usize = 64;

static SERVER: LazyLock<MockServer> = LazyLock::new(MockServer::start);
static URL: LazyLock<String> = LazyLock::new(|| format!("{}/users/1", SERVER.url()));

/// A multi-thread runtime, as a tokio program would have.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

async fn volley_get(client: &volley_tokio::Client) -> Value {
    let request = Request::get(URL.as_str()).build().expect("request");
    let response = client.fetch(request).await.expect("response");
    response.json().expect("json")
}

async fn reqwest_get(client: &reqwest::Client) -> Value {
    let bytes = client
        .get(URL.as_str())
        .send()
        .await
        .expect("response")
        .bytes()
        .await
        .expect("body");
    serde_json::from_slice(&bytes).expect("json")
}

fn volley_client(rt: &tokio::runtime::Runtime) -> volley_tokio::Client {
    let client = volley_tokio::Client::builder()
        .pool_size(IN_FLIGHT)
        .build()
        .expect("client");
    rt.block_on(async {
        gather_limited((0..IN_FLIGHT).map(|_| volley_get(&client)), IN_FLIGHT).await;
    });
    client
}

fn reqwest_client(rt: &tokio::runtime::Runtime) -> reqwest::Client {
    // reqwest is built without a crypto provider of its own.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    rt.block_on(async {
        futures::stream::iter(0..IN_FLIGHT)
            .map(|_| reqwest_get(&client))
            .buffer_unordered(IN_FLIGHT)
            .collect::<Vec<_>>()
            .await;
    });
    client
}

#[divan::bench]
fn sequential(b: Bencher) {
    let rt = runtime();
    let client = volley_client(&rt);
    b.bench_local(|| black_box(rt.block_on(volley_get(&client))));
}

#[divan::bench]
fn in_flight_64(b: Bencher) {
    let rt = runtime();
    let client = volley_client(&rt);
    b.counter(ItemsCount::new(BATCH)).bench_local(|| {
        black_box(rt.block_on(gather_limited(
            (0..BATCH).map(|_| volley_get(&client)),
            IN_FLIGHT,
        )))
    });
}

#[divan::bench]
fn plain_reqwest_sequential(b: Bencher) {
    let rt = runtime();
    let client = reqwest_client(&rt);
    b.bench_local(|| black_box(rt.block_on(reqwest_get(&client))));
}

#[divan::bench]
fn plain_reqwest_in_flight_64(b: Bencher) {
    let rt = runtime();
    let client = reqwest_client(&rt);
    b.counter(ItemsCount::new(BATCH)).bench_local(|| {
        black_box(rt.block_on(async {
            futures::stream::iter(0..BATCH)
                .map(|_| reqwest_get(&client))
                .buffer_unordered(IN_FLIGHT)
                .collect::<Vec<_>>()
                .await
        }))
    });
}
