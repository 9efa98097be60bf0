//! The per-request path of every async adapter against volley-mock (in
//! process, no added latency): one `GET /users/1` and its JSON decoded, on a
//! warm client, one after another and 64 at a time; plain reqwest (the same
//! request, a `reqwest::Client` and `buffer_unordered`) alongside for
//! reference.
//!
//! `cargo bench -p volley --bench request`
//!
//! The server shares the machine's cores with the client, so compare numbers
//! from one run, not across runs.

use std::future::Future;
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
static TOKIO: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
});

/// One side of the comparison: its client, its runtime, and requests sent
/// on it.
trait Side {
    type Client;
    /// A client sized for `IN_FLIGHT` requests at once.
    fn client() -> Self::Client;
    /// Runs `future` to its end on this side's runtime.
    fn block_on<T>(future: impl Future<Output = T>) -> T;
    /// `n` requests, `IN_FLIGHT` at once, and what they decoded.
    async fn in_flight(client: &Self::Client, n: usize) -> Vec<Value>;
    /// One `GET /users/1`, its JSON decoded.
    async fn get(client: &Self::Client) -> Value;
}

async fn volley_get<F: Fetcher>(client: &F) -> Value {
    let request = Request::get(URL.as_str()).build().expect("request");
    let response = client.fetch(request).await.expect("response");
    response.json().expect("json")
}

/// A volley adapter as a [`Side`]: `$side` is its client type on the
/// runtime whose `block_on` is `$block_on`, at once through
/// `gather_limited`.
macro_rules! volley_side {
    ($side:ident, $client:ty, $block_on:expr) => {
        struct $side;

        impl Side for $side {
            type Client = $client;
            fn client() -> Self::Client {
                <$client>::builder()
                    .pool_size(IN_FLIGHT)
                    .build()
                    .expect("client")
            }
            fn block_on<T>(future: impl Future<Output = T>) -> T {
                $block_on(future)
            }
            async fn in_flight(client: &Self::Client, n: usize) -> Vec<Value> {
                gather_limited((0..n).map(|_| volley_get(client)), IN_FLIGHT).await
            }
            async fn get(client: &Self::Client) -> Value {
                volley_get(client).await
            }
        }
    };
}

volley_side!(Tokio, volley_tokio::Client, |f| TOKIO.block_on(f));
volley_side!(
    AsyncStd,
    volley_async_std::Client,
    async_std::task::block_on
);
volley_side!(Smol, volley_smol::Client, smol::block_on);

/// A plain `reqwest::Client` on tokio, at once through `buffer_unordered`.
struct PlainReqwest;

impl Side for PlainReqwest {
    type Client = reqwest::Client;
    fn client() -> Self::Client {
        // reqwest is built without a crypto provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }
    fn block_on<T>(future: impl Future<Output = T>) -> T {
        TOKIO.block_on(future)
    }
    async fn in_flight(client: &Self::Client, n: usize) -> Vec<Value> {
        futures::stream::iter(0..n)
            .map(|_| Self::get(client))
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await
    }
    async fn get(client: &Self::Client) -> Value {
        let response = client.get(URL.as_str()).send().await.expect("response");
        let bytes = response.bytes().await.expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }
}

/// A client of `S` with `IN_FLIGHT` connections warmed.
fn warm<S: Side>() -> S::Client {
    let client = S::client();
    S::block_on(S::in_flight(&client, IN_FLIGHT));
    client
}

#[divan::bench(types = [Tokio, AsyncStd, Smol, PlainReqwest])]
fn sequential<S: Side>(b: Bencher) {
    let client = warm::<S>();
    b.bench_local(|| black_box(S::block_on(S::get(&client))));
}

#[divan::bench(types = [Tokio, AsyncStd, Smol, PlainReqwest])]
fn in_flight_64<S: Side>(b: Bencher) {
    let client = warm::<S>();
    b.counter(ItemsCount::new(BATCH))
        .bench_local(|| black_box(S::block_on(S::in_flight(&client, BATCH))));
}
