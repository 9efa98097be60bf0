//! Step 2: a first async call, on each of three runtimes: tokio, async-std
//! and smol, in turn.
//!
//! The client is made once and reused, like one `aiohttp.ClientSession`:
//! the first call opens a connection, the second finds it in the pool. The
//! calling code is one generic function over `Fetcher`, so it is the same
//! on every runtime; only the line that makes the client differs.
//!
//! Run it with `cargo run --release --example first_call`.

mod common;

use std::error::Error;
use std::time::Instant;

use common::{Api, User, ms};
use volley_core::{Fetcher, Request};

fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");

    // tokio: build a runtime and block on the async part.
    tokio::runtime::Runtime::new()?.block_on(async {
        let client = volley_tokio::Client::builder()
            .base_url(api.url())
            .build()?;
        two_calls("tokio", &client, &api).await
    })?;

    // async-std: its global executor.
    async_std::task::block_on(async {
        let client = volley_async_std::Client::builder()
            .base_url(api.url())
            .build()?;
        two_calls("async-std", &client, &api).await
    })?;

    // smol: block on the current thread.
    smol::block_on(async {
        let client = volley_smol::Client::builder().base_url(api.url()).build()?;
        two_calls("smol", &client, &api).await
    })?;

    println!("On loopback a new connection costs well under a millisecond; to a real");
    println!("https API the first call also pays for DNS, TCP and TLS, the second does not.");
    Ok(())
}

/// Fetches user 1 twice with the same client and prints both times.
async fn two_calls<F: Fetcher>(runtime: &str, client: &F, api: &Api) -> Result<(), Box<dyn Error>> {
    api.reset_stats();
    for call in ["first", "second"] {
        let start = Instant::now();
        // Nothing is sent until this future is awaited.
        let response = client.fetch(Request::get("/users/1").build()?).await?;
        let user: User = response.error_for_status()?.json()?;
        println!(
            "{runtime:<9}  {call:<6} call: {} <{}> in {}",
            user.name,
            user.email,
            ms(start.elapsed())
        );
    }
    if let Some(stats) = api.stats() {
        println!(
            "{runtime:<9}  connections opened for both calls: {}",
            stats.connections
        );
    }
    Ok(())
}
