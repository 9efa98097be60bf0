//! Step 6: errors. Every request gets its own result with a typed error
//! kind (`gather`), or the first error cancels the rest (`try_gather`).
//!
//! The batch mixes a good request with one of each failure the mock can
//! produce: an error status, malformed JSON, a request that never answers
//! (given a 500 ms timeout), a connection reset, a transient 503 and a body
//! larger than the client's 1 MB cap. Each failure comes back as an
//! `ErrorKind` to `match` on, the same on every runtime.
//!
//! Run it with `cargo run --release --example error_handling`.

mod common;

use std::error::Error;
use std::future::Future;
use std::time::{Duration, Instant};

use common::{Api, ms};
use serde_json::Value;
use volley_core::{ErrorKind, Fetcher, FetcherExt, Request, RetryPolicy, gather, try_gather};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");
    let client = volley_tokio::Client::builder()
        .base_url(api.url())
        .max_body_bytes(1_000_000) // stop reading past 1 MB
        .build()?;

    let requests = [
        Request::get("/users/1").build()?,
        Request::get("/status/404").build()?,
        Request::get("/malformed").build()?,
        // A timeout for this request alone (the client's default is 30 s).
        Request::get("/hang")
            .timeout(Duration::from_millis(500))
            .build()?,
        Request::get("/reset").build()?,
        Request::get("/flaky?fail=1").build()?,
        Request::get("/big?bytes=10000000").build()?,
    ];

    // 1. gather: every request runs to its end; each result is in its slot.
    println!("\ngather: one result per request");
    let start = Instant::now();
    let results = gather(requests.iter().map(|r| timed(get_json(&client, r.clone())))).await;
    for (request, (result, took)) in requests.iter().zip(results) {
        let url = request.url().to_string();
        match result {
            Ok(json) => println!("  {url:<20} {:>7}  ok: {}", ms(took), json["name"]),
            Err(err) => println!(
                "  {url:<20} {:>7}  {:<10} {}",
                ms(took),
                err.kind().as_str(),
                what_to_do(&err)
            ),
        }
    }
    println!(
        "  all done in {} (the /hang timeout sets the pace)",
        ms(start.elapsed())
    );

    // 2. try_gather: fail fast. The first error is returned at once and every
    //    request still running is dropped, which cancels it.
    api.reset_stats();
    println!("\ntry_gather: the first error cancels the rest");
    let start = Instant::now();
    match try_gather(requests.iter().map(|r| get_json(&client, r.clone()))).await {
        Ok(all) => println!("  all {} succeeded", all.len()),
        Err(err) => {
            println!("  first error after {}: {err}", ms(start.elapsed()));
            println!("  the rest were cancelled: /hang was not waited for (its timeout is 500 ms)");
        }
    }

    // 3. Transient failures are worth a retry: the retry layer sends again
    //    after connect errors, timeouts and 429/502/503/504, with backoff.
    //    (A key of its own gives this /flaky a fresh count of failures.)
    let retrying = client.clone().retry(RetryPolicy::default());
    let start = Instant::now();
    let flaky = get_json(&retrying, Request::get("/flaky?fail=1&key=retry").build()?).await?;
    println!(
        "\n/flaky?fail=1 through .retry(RetryPolicy::default()): ok on attempt {} after {}",
        flaky["attempt"],
        ms(start.elapsed())
    );
    Ok(())
}

/// Fetches a request and decodes its JSON body; an error status is an error.
async fn get_json(client: &impl Fetcher, request: Request) -> volley_core::Result<Value> {
    client.fetch(request).await?.error_for_status()?.json()
}

/// Runs `future` and says how long it took.
async fn timed<T>(future: impl Future<Output = T>) -> (T, Duration) {
    let start = Instant::now();
    let out = future.await;
    (out, start.elapsed())
}

/// What a caller would do about each kind of failure.
fn what_to_do(err: &volley_core::Error) -> String {
    match err.kind() {
        ErrorKind::Status => match err.status() {
            Some(s) if s.is_server_error() => format!("{s}: the server's trouble, retry later"),
            Some(s) => format!("{s}: our request is wrong, do not retry"),
            None => "error status".to_owned(),
        },
        ErrorKind::Timeout => "no answer in time: retry, or allow more time".to_owned(),
        ErrorKind::Connect => "no connection, or closed before any answer: retry".to_owned(),
        ErrorKind::Body => "the connection broke mid-body: retry".to_owned(),
        ErrorKind::TooLarge => "over the 1 MB cap: reading stopped there".to_owned(),
        ErrorKind::Decode => "not the JSON expected: report it".to_owned(),
        // `ErrorKind` is `#[non_exhaustive]`: new kinds may come.
        _ => format!("{err}"),
    }
}
