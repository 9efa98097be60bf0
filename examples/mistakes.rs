//! Step 5: the tutorial's three mistakes, in Rust terms, measured.
//!
//! 1. A new client for every request, instead of one client reused: every
//!    request pays for a new connection (and a new TLS setup on `https`).
//! 2. Fan-out without a limit: a thousand futures gathered at once are a
//!    thousand requests on the wire at once.
//! 3. A future that is never awaited: in Rust it does nothing at all.
//!
//! Run it with `cargo run --release --example mistakes`.

mod common;

use std::error::Error;
use std::time::{Duration, Instant};

use common::{Api, InFlight, ms};
use volley_core::{Fetcher, FetcherExt, Request, gather, gather_limited};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");
    client_per_request(&api).await?;
    unbounded_fan_out(&api).await?;
    never_awaited(&api).await?;
    Ok(())
}

/// Mistake 1: 50 requests, 10 at a time, with a new client for each request
/// and then with one client for all.
async fn client_per_request(api: &Api) -> Result<(), Box<dyn Error>> {
    println!("\n1. a client per request against one reused client (50 requests, 10 at a time)");

    api.reset_stats();
    let start = Instant::now();
    let results = gather_limited(
        (1..=50).map(|id| async move {
            // The mistake: a new client, so a new pool and a new connection.
            let client = volley_tokio::Client::builder()
                .base_url(api.url())
                .build()?;
            get(&client, format!("/users/{id}")).await
        }),
        10,
    )
    .await;
    let took = start.elapsed();
    all_ok(results)?;
    print_run("a client per request", took, api);

    api.reset_stats();
    // The fix: one client, made once; its pool keeps connections open.
    let client = volley_tokio::Client::builder()
        .base_url(api.url())
        .build()?;
    let start = Instant::now();
    let results = gather_limited((1..=50).map(|id| get(&client, format!("/users/{id}"))), 10).await;
    let took = start.elapsed();
    all_ok(results)?;
    print_run("one reused client", took, api);
    println!("   On loopback a connection is cheap; over the internet each new one costs");
    println!("   a TCP handshake and a TLS handshake, several round trips before any data.");
    Ok(())
}

/// Mistake 2: 200 requests gathered with no limit, then through `.limit(20)`.
async fn unbounded_fan_out(api: &Api) -> Result<(), Box<dyn Error>> {
    const N: u64 = 200;
    println!("\n2. unbounded against limited fan-out ({N} requests)");
    let client = volley_tokio::Client::builder()
        .base_url(api.url())
        .build()?;

    for limit in [None, Some(20)] {
        api.reset_stats();
        let counted = InFlight::new(client.clone());
        let start = Instant::now();
        let results = match limit {
            // Every future is polled at once: N requests on the wire.
            None => gather((1..=N).map(|id| get(&counted, format!("/users/{id}")))).await,
            // The limit layer makes all but 20 wait for a permit.
            Some(max) => {
                let limited = counted.clone().limit(max);
                gather((1..=N).map(|id| get(&limited, format!("/users/{id}")))).await
            }
        };
        let took = start.elapsed();
        all_ok(results)?;
        let max_in_flight = api
            .stats()
            .map_or(counted.max() as u64, |s| s.max_in_flight);
        let how = limit.map_or("no limit".to_owned(), |n| format!(".limit({n})"));
        println!(
            "   {how:<10} {:>7}, at most {max_in_flight} requests in flight at once",
            ms(took)
        );
    }
    println!("   The mock takes anything. A real API allows a few requests per client at");
    println!("   once, or so many per second: the unbounded batch would get most of its");
    println!("   answers as 429 Too Many Requests, or get the client's key blocked.");
    println!("   Pick the limit from the API's documented limits (and `.rate_limit(..)`).");
    Ok(())
}

/// Mistake 3: calling an async function without awaiting it.
async fn never_awaited(api: &Api) -> Result<(), Box<dyn Error>> {
    println!("\n3. a future that is never awaited");
    // `InFlight` counts the requests the client starts, for external APIs too.
    let client = InFlight::new(
        volley_tokio::Client::builder()
            .base_url(api.url())
            .build()?,
    );
    api.reset_stats();

    // Writing `client.fetch(request);` as a statement does not compile
    // cleanly:
    //
    //     warning: unused implementer of `Future` that must be used
    //       = note: futures do nothing unless you `.await` or poll them
    //
    // Binding it to a name silences the warning but not the fact: a Rust
    // future is inert until polled. No connection, no request.
    let not_awaited = client.fetch(Request::get("/users/1").build()?);
    tokio::time::sleep(Duration::from_millis(500)).await;
    report_count("made, not awaited, 500 ms later", &client, api);
    // Dropping it cancels it before it ever started.
    drop(not_awaited);

    // The same call, awaited.
    get(&client, "/users/1").await?;
    report_count("the same call awaited", &client, api);

    println!("   the compiler warns on `client.fetch(request);` with:");
    println!("     unused implementer of `Future` that must be used");
    println!("     note: futures do nothing unless you `.await` or poll them");
    println!("   Unlike a JavaScript promise or an asyncio task, a Rust future only runs");
    println!("   when awaited (or spawned); forget the `.await` and nothing is sent.");
    Ok(())
}

fn report_count<F>(when: &str, client: &InFlight<F>, api: &Api) {
    let server = api.stats().map_or(String::new(), |s| {
        format!(", the server received: {}", s.requests)
    });
    println!(
        "   {when:<32} requests the client started: {}{server}",
        client.started()
    );
}

/// Fetches `path` and checks its status.
async fn get(client: &impl Fetcher, path: impl AsRef<str>) -> volley_core::Result<()> {
    client
        .fetch(Request::get(path).build()?)
        .await?
        .error_for_status()?;
    Ok(())
}

/// The first failure of a batch, if any.
fn all_ok(results: Vec<volley_core::Result<()>>) -> volley_core::Result<()> {
    results.into_iter().collect()
}

fn print_run(label: &str, took: Duration, api: &Api) {
    match api.stats() {
        Some(stats) => println!(
            "   {label:<22} {:>7}, {} connections opened",
            ms(took),
            stats.connections
        ),
        None => println!("   {label:<22} {:>7}", ms(took)),
    }
}
