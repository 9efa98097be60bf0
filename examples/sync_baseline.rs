//! Step 1: the sequential baseline. Ten users fetched one after another with
//! a blocking client, the way a script with Python's `requests` would do it.
//!
//! Each call waits for the one before it, so the total is the sum of every
//! round trip: about 10 x 200 ms = 2 s against the mock. The rest of the
//! tutorial makes the same calls at once.
//!
//! Run it with `cargo run --release --example sync_baseline`
//! (add `-- --base-url URL` to use a real API with the same paths).

mod common;

use std::error::Error;
use std::time::Instant;

use common::{Api, User, ms};
use volley_core::Request;

fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");

    // One client for every call: it keeps the connection open between them.
    let client = volley_blocking::Client::builder()
        .base_url(api.url())
        .build()?;

    let start = Instant::now();
    for id in 1..=10 {
        let call = Instant::now();
        // `fetch` blocks this thread until the whole response has arrived.
        let response = client.fetch(Request::get(format!("/users/{id}")).build()?)?;
        let user: User = response.error_for_status()?.json()?;
        user.print(call.elapsed());
    }
    println!("10 users, one after another: {}", ms(start.elapsed()));
    Ok(())
}
