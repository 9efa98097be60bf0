//! Step 3: ten users at once on tokio with `gather`, the counterpart of
//! `asyncio.gather`.
//!
//! All ten requests are in flight together, so the whole batch takes about
//! one round trip (200 ms against the mock) instead of ten. The results come
//! back in the order the requests were given, whatever order they finished in.
//!
//! Run it with `cargo run --release --example gather_users`.

mod common;

use std::error::Error;
use std::time::{Duration, Instant};

use common::{Api, User, ms};
use volley_core::{Fetcher, Request, gather};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");

    // The client of step 2, made on tokio (see common/mod.rs).
    let client = api.tokio_client()?;

    // `gather` takes any iterator of futures and runs them all at once inside
    // this task; it spawns nothing. Borrowing `client` is fine: every future
    // ends before `gather` returns.
    let start = Instant::now();
    let results = gather((1..=10).map(|id| fetch_user(&client, id))).await;
    let elapsed = start.elapsed();

    // One result per request, in input order.
    let mut one_by_one = Duration::ZERO;
    for result in results {
        let (user, took) = result?;
        one_by_one += took;
        user.print(took);
    }
    println!("10 users at once: {}", ms(elapsed));
    // Run sequentially, the same calls would take the sum of their times.
    println!(
        "one after another they would take about {} (10 x {}): {:.1}x faster",
        ms(one_by_one),
        ms(one_by_one / 10),
        one_by_one.as_secs_f64() / elapsed.as_secs_f64()
    );
    Ok(())
}

/// Fetches one user and says how long it took.
async fn fetch_user(client: &impl Fetcher, id: u64) -> volley_core::Result<(User, Duration)> {
    let start = Instant::now();
    let request = Request::get(format!("/users/{id}")).build()?;
    let user = client.fetch(request).await?.error_for_status()?.json()?;
    Ok((user, start.elapsed()))
}
