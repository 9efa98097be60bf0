//! The cost of one acquire of a shared rate on loopback: a request through
//! `SharedLimit` to an in-memory fetcher, at a rate so high that nobody
//! waits, so what is measured is the round trip to a real `redis-server`
//! (started here on a free port) and the layer's own work.
//!
//! `cargo bench -p volley-redis --bench acquire` prints p50 and p99 over
//! 20,000 sequential acquires for each lease size, then divan's figures.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::{IoTimer, RedisServer, key};
use volley_core::testing::InMemoryFetcher;
use volley_core::{Fetcher, Rate, Request};
use volley_redis::{SharedLimit, SharedRate};

fn server() -> &'static RedisServer {
    RedisServer::shared()
}

fn client(lease: u32) -> SharedLimit<InMemoryFetcher> {
    SharedRate::builder(server().url(), key("bench"), Rate::per_second(1_000_000.0))
        .unwrap()
        .lease(lease)
        .fail_closed(Duration::from_secs(5))
        .layer(InMemoryFetcher::new(IoTimer))
}

fn request() -> Request {
    Request::get("/users/1").build().unwrap()
}

fn percentiles(lease: u32) {
    let client = client(lease);
    let n = 20_000;
    let mut took = Vec::with_capacity(n);
    smol::block_on(async {
        for _ in 0..200 {
            client.fetch(request()).await.unwrap();
        }
        for _ in 0..n {
            let start = Instant::now();
            client.fetch(request()).await.unwrap();
            took.push(start.elapsed());
        }
    });
    took.sort();
    let at = |q: f64| took[((took.len() as f64 * q) as usize).min(took.len() - 1)];
    println!(
        "acquire, lease {lease:>2}: p50 {:>7.1} µs, p99 {:>7.1} µs, max {:>8.1} µs ({n} sequential)",
        at(0.50).as_secs_f64() * 1e6,
        at(0.99).as_secs_f64() * 1e6,
        took[took.len() - 1].as_secs_f64() * 1e6,
    );
}

fn main() {
    for lease in [1, 16] {
        percentiles(lease);
    }
    divan::main();
}

#[divan::bench(args = [1, 16])]
fn acquire(bencher: divan::Bencher, lease: u32) {
    static CLIENTS: OnceLock<[SharedLimit<InMemoryFetcher>; 2]> = OnceLock::new();
    let clients = CLIENTS.get_or_init(|| [client(1), client(16)]);
    let client = &clients[usize::from(lease != 1)];
    bencher.bench(|| smol::block_on(client.fetch(request())).unwrap());
}
