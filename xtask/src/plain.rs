//! The references: each volley adapter's own client used alone, the way a
//! Rust user writes it without volley (one client, `buffer_unordered` at the
//! scenario's concurrency, the body decoded as JSON), timed by hand:
//! reqwest on tokio, surf (its async-h1 client) on async-std, isahc on smol.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::Result;
use crate::cli::RunOneArgs;
use crate::recorder::{Recorder, is_rejection};
use crate::report::Outcome;
use crate::runner::{Ran, check_record, tokio_runtime, volley_outcome};

/// Runs `get` for every URL, at most the scenario's concurrency at once,
/// each timed by `recorder`; the outcomes in input order.
async fn buffered<'a, G, Fut>(
    args: &RunOneArgs,
    urls: &'a [String],
    recorder: &Recorder,
    get: G,
) -> Ran
where
    G: Fn(&'a str) -> Fut,
    Fut: Future<Output = (Outcome, bool)>,
{
    let t0 = recorder.start();
    let gets = futures::stream::iter(urls.iter().enumerate()).map(|(i, url)| {
        let fut = get(url);
        async move {
            let start = recorder.begin();
            (i, recorder.end(i, start, fut.await, false))
        }
    });
    let mut gets = gets.buffer_unordered(args.concurrency.max(1));
    let mut outcomes = vec![(Outcome::Other, 0); urls.len()];
    while let Some((i, outcome)) = gets.next().await {
        outcomes[i] = outcome;
    }
    Ran::since(t0, outcomes)
}

/// The `Retry-After` of a 429 or 503, in whole seconds.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    if !is_rejection(response.status()) {
        return None;
    }
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    value.to_str().ok()?.parse().ok().map(Duration::from_secs)
}

/// One GET with reqwest alone. With `retry`, a 429 or 503 is sent again
/// after its `Retry-After` (3 attempts in all): this request waits, the
/// others go on.
async fn reqwest_get(client: &reqwest::Client, url: &str, retry: bool) -> (Outcome, bool) {
    let mut attempts = 1;
    let response = loop {
        let response = client.get(url).send().await;
        match response.as_ref().ok().and_then(retry_after) {
            Some(wait) if retry && attempts < 3 => tokio::time::sleep(wait).await,
            _ => break response.and_then(reqwest::Response::error_for_status),
        }
        attempts += 1;
    };
    let value = match response {
        Ok(response) => response.json::<Value>().await,
        Err(e) => Err(e),
    };
    match value {
        Err(e) => (reqwest_outcome(&e), e.status().is_some_and(is_rejection)),
        value => decoded(value),
    }
}

/// How a reqwest request failed.
fn reqwest_outcome(err: &reqwest::Error) -> Outcome {
    match err {
        e if e.is_timeout() => Outcome::Timeout,
        e if e.is_connect() => Outcome::Connect,
        e if e.is_status() => Outcome::Status,
        e if e.is_decode() => Outcome::Decode,
        e if e.is_body() => Outcome::Body,
        _ => Outcome::Other,
    }
}

/// `plain-reqwest`, on tokio.
pub fn reqwest(args: &RunOneArgs, urls: &[String], recorder: &Recorder) -> Result<Ran> {
    tokio_runtime()?.block_on(async {
        let timeout = Duration::from_millis(args.client.timeout_ms);
        // reqwest is built without a crypto provider of its own: ring, as
        // the adapters use, for the whole process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder().timeout(timeout);
        if args.client.http2 {
            builder = builder.http2_prior_knowledge();
        }
        let client = &builder.build()?;
        let get = |url| reqwest_get(client, url, args.cooldown);
        Ok(buffered(args, urls, recorder, get).await)
    })
}

/// `plain-surf`, on async-std: surf's async-h1 client with its per-host
/// connection cap raised to the scenario's concurrency (the default, 50,
/// would be the cap instead).
pub fn surf(args: &RunOneArgs, urls: &[String], recorder: &Recorder) -> Result<Ran> {
    async_std::task::block_on(async {
        let timeout = Duration::from_millis(args.client.timeout_ms);
        let config = surf::Config::new().set_timeout(Some(timeout));
        let config = config.set_max_connections_per_host(args.concurrency.max(1));
        let client: &surf::Client = &config.try_into()?;
        Ok(buffered(args, urls, recorder, |url| surf_get(client, url)).await)
    })
}

/// `plain-isahc`, on smol.
pub fn isahc(args: &RunOneArgs, urls: &[String], recorder: &Recorder) -> Result<Ran> {
    use isahc::config::Configurable;
    let timeout = Duration::from_millis(args.client.timeout_ms);
    let mut builder = isahc::HttpClient::builder().timeout(timeout);
    if args.client.http2 {
        builder = builder.version_negotiation(isahc::config::VersionNegotiation::http2());
    }
    let client = &builder.build()?;
    let get = |url| isahc_get(client, url);
    Ok(smol::block_on(buffered(args, urls, recorder, get)))
}

/// How a decoded body ended (`Decode` when it did not decode as JSON).
fn decoded<E>(value: std::result::Result<Value, E>) -> (Outcome, bool) {
    match value {
        Ok(value) => (volley_outcome(check_record(&value)).0, false),
        Err(_) => (Outcome::Decode, false),
    }
}

/// One GET with surf alone.
async fn surf_get(client: &surf::Client, url: &str) -> (Outcome, bool) {
    let Ok(mut response) = client.get(url).await else {
        return (Outcome::Connect, false);
    };
    let status = response.status();
    if !status.is_success() {
        return (Outcome::Status, matches!(status as u16, 429 | 503));
    }
    decoded(response.body_json::<Value>().await)
}

/// One GET with isahc alone.
async fn isahc_get(client: &isahc::HttpClient, url: &str) -> (Outcome, bool) {
    use isahc::AsyncReadResponseExt;
    let mut response = match client.get_async(url).await {
        Ok(response) => response,
        Err(e) if e.is_timeout() => return (Outcome::Timeout, false),
        Err(_) => return (Outcome::Connect, false),
    };
    let status = response.status();
    if !status.is_success() {
        return (Outcome::Status, is_rejection(status));
    }
    match response.bytes().await {
        Ok(body) => decoded(serde_json::from_slice::<Value>(&body)),
        Err(_) => (Outcome::Body, false),
    }
}
