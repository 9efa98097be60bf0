//! Step 4: a hundred posts with at most twenty in flight, the counterpart of
//! `asyncio.gather` behind an `asyncio.Semaphore(20)`.
//!
//! Five waves of twenty requests take about 5 x 200 ms = 1 s against the
//! mock. It is done twice, in the two ways volley offers:
//!
//! - a `.limit(20)` layer on the client, shared by every clone of it, so
//!   the cap holds for the whole program whoever sends;
//! - `gather_limited(futures, 20)`, a cap for this one batch.
//!
//! Run it with `cargo run --release --example limited_posts`.

mod common;

use std::error::Error;
use std::time::Instant;

use common::{Api, InFlight, ms};
use serde::Deserialize;
use volley_core::{Fetcher, FetcherExt, Request, gather, gather_limited};

/// A `/posts/{id}` record.
#[derive(Debug, Deserialize)]
struct Post {
    id: u64,
    title: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");
    let client = api.tokio_client()?;

    // 1. A limit layer. `InFlight` (see common/mod.rs) counts on the client
    //    side too, for when there is no mock to ask.
    let counted = InFlight::new(client.clone());
    let limited = counted.clone().limit(20);
    let start = Instant::now();
    let posts = gather((1..=100).map(|id| fetch_post(&limited, id))).await;
    report("client.limit(20) + gather", posts, start, &api, &counted)?;

    // 2. The same batch with gather_limited on a client without a limit.
    api.reset_stats();
    let counted = InFlight::new(client);
    let start = Instant::now();
    let posts = gather_limited((1..=100).map(|id| fetch_post(&counted, id)), 20).await;
    report("gather_limited(.., 20)", posts, start, &api, &counted)?;
    Ok(())
}

async fn fetch_post(client: &impl Fetcher, id: u64) -> volley_core::Result<Post> {
    let request = Request::get(format!("/posts/{id}")).build()?;
    client.fetch(request).await?.error_for_status()?.json()
}

/// Prints the first and last posts, the time, and the most requests in flight.
fn report<F>(
    how: &str,
    posts: Vec<volley_core::Result<Post>>,
    start: Instant,
    api: &Api,
    counted: &InFlight<F>,
) -> Result<(), Box<dyn Error>> {
    let elapsed = start.elapsed();
    // Stop at the first failed request, if any.
    let posts = posts.into_iter().collect::<Result<Vec<_>, _>>()?;
    println!("{how}: {} posts in {}", posts.len(), ms(elapsed));
    if let (Some(first), Some(last)) = (posts.first(), posts.last()) {
        println!("  post {:>3}: {}", first.id, first.title);
        println!("  post {:>3}: {}", last.id, last.title);
    }
    match api.stats() {
        Some(stats) => println!(
            "  most in flight at once: {} (the server's count), {} (the client's)",
            stats.max_in_flight,
            counted.max()
        ),
        None => println!(
            "  most in flight at once: {} (the client's count)",
            counted.max()
        ),
    }
    Ok(())
}
