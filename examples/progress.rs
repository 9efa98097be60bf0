//! A progress bar with an ETA for a long batch: 200 users at 50 requests a
//! second, 20 in flight at most, and a host cool-down with retries.
//!
//! The rate sets the least time the batch can take (200 requests at 50/s:
//! at least 4 s), so the bar shows it before the first request; the ETA is
//! never shorter than the rate allows. The bar is drawn on stderr when it
//! is a terminal.
//!
//! ```text
//! cargo run --release --features progress --example progress
//! ```

mod common;

use std::error::Error;
use std::time::Instant;

use common::{Api, User, ms};
use volley::progress::Progress;
use volley::tokio::Client;
use volley::{FetcherExt, Rate, RetryPolicy, gather};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");
    let rate = Rate::per_second(50.0);
    let progress = Progress::new(200).with_rate(rate).with_prefix("users");
    if let Some(bound) = progress.lower_bound() {
        println!("{bound}");
    }
    let policy = RetryPolicy::default();
    let client = Client::builder()
        .base_url(api.url())
        .build()?
        .observe(progress.clone()) // first: it sees every attempt and retry
        .limit(20)
        .rate_limit(rate)
        .host_cooldown(policy.delay_limit())
        .retry(policy);

    let start = Instant::now();
    let users = gather((1..=200).map(|id| client.get_json::<User>(format!("/users/{id}")))).await;
    progress.finish_and_clear();
    let ok = users.iter().filter(|u| u.is_ok()).count();
    println!(
        "{ok} of 200 users in {} ({} done, {} failed)",
        ms(start.elapsed()),
        progress.done(),
        progress.failed()
    );
    if let Some(Ok(last)) = users.last() {
        println!("the last: #{} {} <{}>", last.id, last.name, last.email);
    }
    Ok(())
}
