//! `xtask run-one`: one scenario on one runtime, in this process, reported as
//! one JSON line on stdout.
//!
//! Every request is a GET that must answer 2xx (`error_for_status`) with a
//! JSON object holding an `id`. The clock starts once the client is built.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use volley_core::{Error, ErrorKind, Fetcher, Request, gather_limited};

use crate::Result;
use crate::cli::{RunOneArgs, Runtime};
use crate::report::{Outcome, RunOutput, Span, parse_vm_hwm};

/// Counts requests in flight (and the most at once) and requests done.
#[derive(Debug, Default)]
pub struct Meter {
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    done: AtomicU64,
}

impl Meter {
    /// Marks one request as started until the guard is dropped.
    fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Relaxed);
        InFlight { meter: self }
    }

    /// Requests finished so far.
    pub fn done(&self) -> u64 {
        self.done.load(Relaxed)
    }

    /// The most requests in flight at once so far.
    pub fn max_in_flight(&self) -> u64 {
        self.max_in_flight.load(Relaxed)
    }
}

/// One request in flight; dropping it marks the request done.
struct InFlight<'a> {
    meter: &'a Meter,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.meter.in_flight.fetch_sub(1, Relaxed);
        self.meter.done.fetch_add(1, Relaxed);
    }
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Runs `request` and records when it started and ended, relative to `t0`.
async fn timed<F>(t0: Instant, meter: &Meter, request: F) -> Span
where
    F: Future<Output = std::result::Result<(), Outcome>>,
{
    let _in_flight = meter.enter();
    let start = micros(t0.elapsed());
    let outcome = match request.await {
        Ok(()) => Outcome::Ok,
        Err(outcome) => outcome,
    };
    Span {
        start_us: start,
        end_us: micros(t0.elapsed()),
        outcome,
    }
}

/// The same as [`timed`], for a synchronous request.
fn timed_sync(
    t0: Instant,
    meter: &Meter,
    request: impl FnOnce() -> std::result::Result<(), Outcome>,
) -> Span {
    let _in_flight = meter.enter();
    let start = micros(t0.elapsed());
    let outcome = match request() {
        Ok(()) => Outcome::Ok,
        Err(outcome) => outcome,
    };
    Span {
        start_us: start,
        end_us: micros(t0.elapsed()),
        outcome,
    }
}

/// A record must be a JSON object with an `id`.
fn check_record(value: &Value) -> volley_core::Result<()> {
    match value.as_object() {
        Some(object) if object.contains_key("id") => Ok(()),
        _ => Err(Error::new(
            ErrorKind::Decode,
            "the body is not a JSON object with an `id`",
        )),
    }
}

fn outcome(err: Error) -> Outcome {
    Outcome::from_kind(err.kind())
}

/// One GET through any volley fetcher.
async fn get_record<F: Fetcher>(client: &F, url: &str) -> volley_core::Result<()> {
    let request = Request::get(url).build()?;
    let response = client.fetch(request).await?.error_for_status()?;
    check_record(&response.json::<Value>()?)
}

/// Every URL through `client`, at most `concurrency` at once, in input order.
async fn run_fetcher<F: Fetcher>(
    client: F,
    urls: &[String],
    concurrency: usize,
    meter: &Meter,
) -> (Vec<Span>, Duration) {
    let t0 = Instant::now();
    let client = &client;
    let spans = gather_limited(
        urls.iter().map(|url| {
            timed(t0, meter, async move {
                get_record(client, url).await.map_err(outcome)
            })
        }),
        concurrency,
    )
    .await;
    (spans, t0.elapsed())
}

/// Gives a builder of any volley adapter the run's timeout, pool size and
/// body cap (the adapters share the builder's shape, not a trait).
macro_rules! configure {
    ($builder:expr, $args:expr) => {{
        let args: &RunOneArgs = $args;
        let mut builder = $builder
            .timeout(Duration::from_millis(args.timeout_ms))
            .pool_size(args.concurrency);
        if let Some(max) = args.max_body_bytes {
            builder = builder.max_body_bytes(max);
        }
        builder
    }};
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run_tokio(args: &RunOneArgs, urls: &[String], meter: &Meter) -> Result<(Vec<Span>, Duration)> {
    tokio_runtime()?.block_on(async {
        let client = configure!(volley_tokio::Client::builder(), args).build()?;
        Ok(run_fetcher(client, urls, args.concurrency, meter).await)
    })
}

fn run_async_std(
    args: &RunOneArgs,
    urls: &[String],
    meter: &Meter,
) -> Result<(Vec<Span>, Duration)> {
    async_std::task::block_on(async {
        let client = configure!(volley_async_std::Client::builder(), args).build()?;
        Ok(run_fetcher(client, urls, args.concurrency, meter).await)
    })
}

fn run_smol(args: &RunOneArgs, urls: &[String], meter: &Meter) -> Result<(Vec<Span>, Duration)> {
    smol::block_on(async {
        let client = configure!(volley_smol::Client::builder(), args).build()?;
        Ok(run_fetcher(client, urls, args.concurrency, meter).await)
    })
}

fn run_blocking(
    args: &RunOneArgs,
    urls: &[String],
    meter: &Meter,
) -> Result<(Vec<Span>, Duration)> {
    let mut builder =
        volley_blocking::Client::builder().timeout(Duration::from_millis(args.timeout_ms));
    if let Some(max) = args.max_body_bytes {
        builder = builder.max_body_bytes(max);
    }
    let client = builder.build()?;
    let t0 = Instant::now();
    let spans = urls
        .iter()
        .map(|url| {
            timed_sync(t0, meter, || {
                let request = Request::get(url).build().map_err(outcome)?;
                let response = client
                    .fetch(request)
                    .and_then(|r| r.error_for_status())
                    .map_err(outcome)?;
                check_record(&response.json::<Value>().map_err(outcome)?).map_err(outcome)
            })
        })
        .collect();
    Ok((spans, t0.elapsed()))
}

/// One GET the way a Rust user writes it with reqwest alone.
async fn plain_get(client: &reqwest::Client, url: &str) -> std::result::Result<(), Outcome> {
    let value: Value = client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| Outcome::from_reqwest(&e))?
        .json()
        .await
        .map_err(|e| Outcome::from_reqwest(&e))?;
    check_record(&value).map_err(outcome)
}

fn run_plain_reqwest(
    args: &RunOneArgs,
    urls: &[String],
    meter: &Meter,
) -> Result<(Vec<Span>, Duration)> {
    tokio_runtime()?.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(args.timeout_ms))
            .build()?;
        let t0 = Instant::now();
        let client = &client;
        let mut indexed: Vec<(usize, Span)> = futures::stream::iter(urls.iter().enumerate())
            .map(|(i, url)| async move { (i, timed(t0, meter, plain_get(client, url)).await) })
            .buffer_unordered(args.concurrency.max(1))
            .collect()
            .await;
        let wall = t0.elapsed();
        indexed.sort_by_key(|(i, _)| *i);
        Ok((indexed.into_iter().map(|(_, s)| s).collect(), wall))
    })
}

/// Peak resident memory of this process, in kB.
fn peak_rss_kb() -> Option<u64> {
    parse_vm_hwm(&std::fs::read_to_string("/proc/self/status").ok()?)
}

/// The URLs of a run: `{id}` replaced by 1..=N.
pub fn urls(template: &str, requests: usize) -> Vec<String> {
    (1..=requests)
        .map(|id| template.replace("{id}", &id.to_string()))
        .collect()
}

/// Writes one line to stdout at once (the progress thread writes too).
fn print_line(line: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")?;
    out.flush()
}

/// `xtask run-one`.
pub fn run(args: &RunOneArgs) -> Result<()> {
    volley_mock::raise_fd_limit();
    let urls = urls(&args.url_template, args.requests);
    let meter = Arc::new(Meter::default());
    let stop = Arc::new(AtomicBool::new(false));
    let progress = args.progress.then(|| {
        let meter = meter.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                if print_line(&format!("progress {}", meter.done())).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    });

    let ran = match args.runtime {
        Runtime::Tokio => run_tokio(args, &urls, &meter),
        Runtime::AsyncStd => run_async_std(args, &urls, &meter),
        Runtime::Smol => run_smol(args, &urls, &meter),
        Runtime::Blocking => run_blocking(args, &urls, &meter),
        Runtime::PlainReqwest => run_plain_reqwest(args, &urls, &meter),
    };
    stop.store(true, Relaxed);
    if let Some(thread) = progress {
        // Ignored error: a panicking progress thread only loses progress lines.
        let _ = thread.join();
    }
    let (spans, wall) = ran?;
    let output = RunOutput {
        runtime: args.runtime,
        spans,
        wall_us: micros(wall),
        max_in_flight: meter.max_in_flight(),
        peak_rss_kb: peak_rss_kb(),
    };
    print_line(&serde_json::to_string(&output)?)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_need_an_id() {
        assert!(check_record(&serde_json::json!({"id": 1, "name": "x"})).is_ok());
        let err = check_record(&serde_json::json!({"name": "x"})).expect_err("no id");
        assert_eq!(Outcome::from_kind(err.kind()), Outcome::Decode);
        assert!(check_record(&serde_json::json!([1, 2])).is_err());
    }

    #[test]
    fn url_template() {
        assert_eq!(
            urls("http://h/users/{id}", 3),
            ["http://h/users/1", "http://h/users/2", "http://h/users/3"]
        );
    }

    #[test]
    fn meter_counts_at_once_and_done() {
        let meter = Meter::default();
        let a = meter.enter();
        let b = meter.enter();
        drop(a);
        let c = meter.enter();
        drop((b, c));
        assert_eq!(meter.max_in_flight(), 2);
        assert_eq!(meter.done(), 3);
    }
}
