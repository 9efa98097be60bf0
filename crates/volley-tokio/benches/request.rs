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

/// One side of the comparison: its client, and requests sent on it.
trait Side {
    type Client;
    /// A client sized for `IN_FLIGHT` requests at once.
    fn client() -> Self::Client;
    /// One `GET /users/1`, its JSON decoded.
    async fn get(client: &Self::Client) -> Value;
    /// `n` requests, `IN_FLIGHT` at once, and what they decoded.
    async fn in_flight(client: &Self::Client, n: usize) -> Vec<Value>;
}

/// volley-tokio, at once through `gather_limited`.
struct Volley;

impl Side for Volley {
    type Client = volley_tokio::Client;
    fn client() -> Self::Client {
        volley_tokio::Client::builder()
            .pool_size(IN_FLIGHT)
            .build()
            .expect("client")
    }
    async fn get(client: &Self::Client) -> Value {
        let request = Request::get(URL.as_str()).build().expect("request");
        let response = client.fetch(request).await.expect("response");
        response.json().expect("json")
    }
    async fn in_flight(client: &Self::Client, n: usize) -> Vec<Value> {
        gather_limited((0..n).map(|_| Self::get(client)), IN_FLIGHT).await
    }
}

/// A plain `reqwest::Client`, at once through `buffer_unordered`.
struct PlainReqwest;

impl Side for PlainReqwest {
    type Client = reqwest::Client;
    fn client() -> Self::Client {
        // reqwest is built without a crypto provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }
    async fn get(client: &Self::Client) -> Value {
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
    async fn in_flight(client: &Self::Client, n: usize) -> Vec<Value> {
        futures::stream::iter(0..n)
            .map(|_| Self::get(client))
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await
    }
}

/// A runtime, and a client of `S` on it with `IN_FLIGHT` connections
/// warmed.
fn warm<S: Side>() -> (tokio::runtime::Runtime, S::Client) {
    let rt = runtime();
    let client = S::client();
    rt.block_on(S::in_flight(&client, IN_FLIGHT));
    (rt, client)
}

#[divan::bench(types = [Volley, PlainReqwest])]
fn sequential<S: Side>(b: Bencher) {
    let (rt, client) = warm::<S>();
    b.bench_local(|| black_box(rt.block_on(S::get(&client))));
}

#[divan::bench(types = [Volley, PlainReqwest])]
fn in_flight_64<S: Side>(b: Bencher) {
    let (rt, client) = warm::<S>();
    b.counter(ItemsCount::new(BATCH))
        .bench_local(|| black_box(rt.block_on(S::in_flight(&client, BATCH))));
}
