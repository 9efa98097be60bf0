//! One quota for many workers: three workers, each with its own client and
//! its own connection to Redis, share 20 requests a second between them
//! through a `SharedRate`, the way separate processes on separate machines
//! would. 60 requests take about 3 s whoever sends them; each worker alone
//! would have sent its 20 at once.
//!
//! It needs a Redis (or Valkey) server, `REDIS_URL` or
//! `redis://127.0.0.1:6379` by default:
//!
//! ```text
//! redis-server --port 6379 --save '' --appendonly no &
//! cargo run --release --features redis --example shared_quota
//! REDIS_URL=redis://10.0.0.5:6379/2 cargo run --release --features redis --example shared_quota
//! ```
//!
//! Without a server it still runs: the quota fails open, each worker goes
//! on at its share (20/s / 3), and the observer prints the switch.

mod common;

use std::error::Error;
use std::time::{Duration, Instant};

use common::{Api, ms};
use volley::redis::{RedisExt, SharedRate};
use volley::tokio::Client;
use volley::{Fetcher, FetcherExt, Observer, Rate, Request, gather};

const WORKERS: u32 = 3;
const PER_WORKER: u64 = 20;

/// Prints when the shared quota is lost and found again.
struct Report(u32);

impl Observer for Report {
    fn backend_changed(&self, backend: &str, degraded: bool) {
        let what = if degraded {
            "out of reach: going on at this worker's share"
        } else {
            "reached again"
        };
        println!("  worker {}: {backend} {what}", self.0);
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    println!("API: {api}, Redis: {redis_url}");
    let key = format!("volley:example:shared_quota:{}", std::process::id());

    let start = Instant::now();
    let workers = (0..WORKERS).map(|n| {
        let (redis_url, key, api_url) = (redis_url.clone(), key.clone(), api.url().to_owned());
        tokio::spawn(async move { worker(n, &redis_url, &key, &api_url).await })
    });
    let mut sent = 0;
    for handle in workers.collect::<Vec<_>>() {
        sent += handle.await??;
    }
    println!(
        "{sent} requests by {WORKERS} workers at 20/s in total: {} (the rate allows {} plus one request's latency)",
        ms(start.elapsed()),
        ms(Duration::from_millis(50 * (sent - 1))),
    );
    Ok(())
}

/// One worker: its own client, its own limiter on the same key.
async fn worker(n: u32, redis_url: &str, key: &str, api_url: &str) -> volley::Result<u64> {
    let quota = SharedRate::builder(redis_url, key, Rate::per_second(20.0))?
        .redis_timeout(Duration::from_millis(250))
        .fail_open(WORKERS);
    let client = Client::builder()
        .base_url(api_url)
        .build()?
        .observe(Report(n))
        .shared_rate(&quota);
    let results = gather((1..=PER_WORKER).map(|id| {
        let client = &client;
        async move {
            let request = Request::get(format!("/users/{id}")).build()?;
            client.fetch(request).await?.error_for_status()
        }
    }))
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    println!("  worker {n}: {ok} of {PER_WORKER} answered");
    Ok(results.len() as u64)
}
