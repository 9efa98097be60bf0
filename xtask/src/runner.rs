//! `xtask run-one`: one scenario on one runtime, in this process, reported as
//! one JSON line on stdout.
//!
//! Every request is a GET that must answer 2xx (`error_for_status`) with a
//! JSON object holding an `id`. The clock starts once the client is built.
//! On the volley async runtimes a [`Recorder`] installed with `.observe(..)`
//! first on the client times each attempt and counts what is in flight;
//! plain reqwest and the blocking client are timed by hand. With
//! `--adaptive-max` the async runtimes send every request at once through
//! an adaptive limit instead of `gather_limited`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use volley_core::{
    Adaptive, ClientBuilder, Error, ErrorKind, Fetcher, FetcherExt, Request, adapter::BuildClient,
    gather, gather_limited,
};

use crate::Result;
use crate::cli::{ADAPTIVE_INITIAL, RunOneArgs, Runtime};
use crate::recorder::{Recorder, Recording, is_rejection, micros, thin};
use crate::report::{Outcome, RunOutput, Span, parse_vm_hwm};

/// How many slices of time the in-flight and limit curves are thinned to.
const CURVE_BUCKETS: usize = 600;

/// How requests are let through on a volley async runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `gather_limited`: at most this many in flight.
    Fixed(usize),
    /// Every request at once through `gather`, an adaptive limit (from
    /// [`ADAPTIVE_INITIAL`] up to this) letting them through.
    Adaptive(usize),
}

impl Mode {
    /// The mode of a run-one invocation.
    pub fn of(args: &RunOneArgs) -> Mode {
        match args.adaptive_max {
            Some(max) if args.runtime.is_adaptive_capable() => Mode::Adaptive(max),
            _ => Mode::Fixed(args.runtime.effective_concurrency(args.concurrency)),
        }
    }

    /// The connection pool size that fits this mode.
    fn pool_size(self) -> usize {
        match self {
            Mode::Fixed(n) | Mode::Adaptive(n) => n,
        }
    }
}

/// What one run gives back: each request's outcome by index, when the last
/// one ended, and the adaptive limit at the end.
struct Ran {
    outcomes: Vec<(Outcome, u64)>,
    wall: Duration,
    final_limit: Option<usize>,
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

fn outcome_of(result: std::result::Result<(), Outcome>) -> Outcome {
    match result {
        Ok(()) => Outcome::Ok,
        Err(outcome) => outcome,
    }
}

/// One GET through any volley fetcher.
async fn get_record<F: Fetcher>(client: &F, url: &str) -> volley_core::Result<()> {
    let request = Request::get(url).build()?;
    let response = client.fetch(request).await?.error_for_status()?;
    check_record(&response.json::<Value>()?)
}

/// [`get_record`], with how it ended and when.
async fn get_done<F: Fetcher>(client: &F, url: &str, recorder: &Recorder) -> (Outcome, u64) {
    let result = get_record(client, url).await.map_err(outcome);
    (outcome_of(result), recorder.now_us())
}

/// Every URL through `client`, which reports each attempt to `recorder`
/// (installed with `.observe`, first on the client): at most N at once
/// through `gather_limited`, or all at once through `gather` and an
/// adaptive limit. Results in input order, with when each was done.
async fn run_fetcher<F: Fetcher>(
    client: F,
    urls: &[String],
    mode: Mode,
    recorder: &Arc<Recorder>,
) -> Ran {
    let observed = client.observe(recorder.clone());
    match mode {
        Mode::Fixed(limit) => {
            let client = &observed;
            let t0 = recorder.start();
            let outcomes = gather_limited(
                urls.iter().map(|url| get_done(client, url, recorder)),
                limit,
            )
            .await;
            Ran {
                outcomes,
                wall: t0.elapsed(),
                final_limit: None,
            }
        }
        Mode::Adaptive(max) => {
            let config = Adaptive::new().initial(ADAPTIVE_INITIAL).max(max);
            let limited = observed.adaptive_limit(config);
            let client = &limited;
            let t0 = recorder.start();
            recorder.limit_is(config.bounds().1);
            let outcomes = gather(urls.iter().map(|url| get_done(client, url, recorder))).await;
            Ran {
                outcomes,
                wall: t0.elapsed(),
                final_limit: Some(limited.current()),
            }
        }
    }
}

/// The run's timeout and body cap, on the builder of any volley client.
fn with_limits<C: BuildClient>(builder: ClientBuilder<C>, args: &RunOneArgs) -> ClientBuilder<C> {
    let builder = builder.timeout(Duration::from_millis(args.timeout_ms));
    match args.max_body_bytes {
        Some(max) => builder.max_body_bytes(max),
        None => builder,
    }
}

/// [`with_limits`], and a pool sized for the run's mode (the async runtimes),
/// never past what the process may open: a concurrency of 50,000 under
/// `ulimit -n 4096` runs at the client's connection cap, not into "too
/// many open files".
fn configure<C: BuildClient>(builder: ClientBuilder<C>, args: &RunOneArgs) -> ClientBuilder<C> {
    // The cap as the builder will see it, once the soft limit is raised.
    volley_core::adapter::reserve_descriptors(0);
    let pool = Mode::of(args)
        .pool_size()
        .min(volley_core::adapter::default_connection_cap());
    with_limits(builder, args).pool_size(pool)
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn run_tokio(args: &RunOneArgs, urls: &[String], recorder: &Arc<Recorder>) -> Result<Ran> {
    tokio_runtime()?.block_on(async {
        let client = configure(volley_tokio::Client::builder(), args).build()?;
        Ok(run_fetcher(client, urls, Mode::of(args), recorder).await)
    })
}

fn run_async_std(args: &RunOneArgs, urls: &[String], recorder: &Arc<Recorder>) -> Result<Ran> {
    async_std::task::block_on(async {
        let client = configure(volley_async_std::Client::builder(), args).build()?;
        Ok(run_fetcher(client, urls, Mode::of(args), recorder).await)
    })
}

fn run_smol(args: &RunOneArgs, urls: &[String], recorder: &Arc<Recorder>) -> Result<Ran> {
    smol::block_on(async {
        let client = configure(volley_smol::Client::builder(), args).build()?;
        Ok(run_fetcher(client, urls, Mode::of(args), recorder).await)
    })
}

/// The sequential baseline, timed by hand (the blocking client is not a
/// layered async fetcher).
fn run_blocking(args: &RunOneArgs, urls: &[String], recorder: &Recorder) -> Result<Ran> {
    let client = with_limits(volley_blocking::Client::builder(), args).build()?;
    let t0 = recorder.start();
    let get = |url: &str| {
        let request = Request::get(url).build()?;
        let response = client.fetch(request)?.error_for_status()?;
        check_record(&response.json::<Value>()?)
    };
    let outcomes = urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let start = recorder.begin();
            let result = get(url);
            let rejected =
                matches!(&result, Err(e) if e.status().is_some_and(|s| is_rejection(s.as_u16())));
            recorder.end(i, start, rejected);
            (outcome_of(result.map_err(outcome)), recorder.now_us())
        })
        .collect();
    Ok(Ran {
        outcomes,
        wall: t0.elapsed(),
        final_limit: None,
    })
}

/// One GET the way a Rust user writes it with reqwest alone; a failure
/// says whether it was a rejection (429 or 503).
async fn plain_get(
    client: &reqwest::Client,
    url: &str,
) -> std::result::Result<(), (Outcome, bool)> {
    let fail = |e: reqwest::Error| {
        let rejected = e.status().is_some_and(|s| is_rejection(s.as_u16()));
        (Outcome::from_reqwest(&e), rejected)
    };
    let value: Value = client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(fail)?
        .json()
        .await
        .map_err(fail)?;
    check_record(&value).map_err(|e| (outcome(e), false))
}

/// The plain-reqwest reference, timed by hand (no volley layers to observe).
fn run_plain_reqwest(args: &RunOneArgs, urls: &[String], recorder: &Recorder) -> Result<Ran> {
    tokio_runtime()?.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(args.timeout_ms))
            .build()?;
        let t0 = recorder.start();
        let client = &client;
        let mut indexed: Vec<(usize, (Outcome, u64))> =
            futures::stream::iter(urls.iter().enumerate())
                .map(|(i, url)| async move {
                    let start = recorder.begin();
                    let result = plain_get(client, url).await;
                    let rejected = matches!(result, Err((_, true)));
                    recorder.end(i, start, rejected);
                    let result = result.map_err(|(outcome, _)| outcome);
                    (i, (outcome_of(result), recorder.now_us()))
                })
                .buffer_unordered(args.concurrency.max(1))
                .collect()
                .await;
        let wall = t0.elapsed();
        indexed.sort_by_key(|(i, _)| *i);
        Ok(Ran {
            outcomes: indexed.into_iter().map(|(_, o)| o).collect(),
            wall,
            final_limit: None,
        })
    })
}

/// Each request's span: its attempt's start and end as recorded, and the
/// outcome its caller saw (which also checks the body). A request that
/// never reached the client (its URL did not parse) is an instant at the
/// moment it failed.
fn spans(ran: &Ran, recording: &Recording) -> Vec<Span> {
    ran.outcomes
        .iter()
        .enumerate()
        .map(|(i, &(outcome, done_us))| {
            let (start_us, end_us) = recording
                .timings
                .get(i)
                .copied()
                .flatten()
                .unwrap_or((done_us, done_us));
            Span {
                start_us,
                end_us,
                outcome,
            }
        })
        .collect()
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
    // Only the volley async runtimes' recorder matches URLs to requests.
    let recorder = Arc::new(match args.runtime {
        Runtime::Blocking | Runtime::PlainReqwest => Recorder::by_hand(urls.len()),
        _ => Recorder::new(&urls),
    });
    let stop = Arc::new(AtomicBool::new(false));
    let progress = args.progress.then(|| {
        let recorder = recorder.clone();
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Relaxed) {
                if print_line(&format!("progress {}", recorder.done())).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    });

    let ran = match args.runtime {
        Runtime::Tokio | Runtime::TokioFixed(_) => run_tokio(args, &urls, &recorder),
        Runtime::AsyncStd => run_async_std(args, &urls, &recorder),
        Runtime::Smol => run_smol(args, &urls, &recorder),
        Runtime::Blocking => run_blocking(args, &urls, &recorder),
        Runtime::PlainReqwest => run_plain_reqwest(args, &urls, &recorder),
    };
    stop.store(true, Relaxed);
    if let Some(thread) = progress {
        // Ignored error: a panicking progress thread only loses progress lines.
        let _ = thread.join();
    }
    let ran = ran?;
    let recording = recorder.finish();
    let output = RunOutput {
        runtime: args.runtime,
        spans: spans(&ran, &recording),
        wall_us: micros(ran.wall),
        max_in_flight: recording.max_in_flight,
        peak_rss_kb: peak_rss_kb(),
        rejected: recording.rejected,
        final_limit: ran.final_limit,
        in_flight: thin(&recording.in_flight, CURVE_BUCKETS),
        limits: thin(&recording.limits, CURVE_BUCKETS),
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
    fn modes() {
        let mut args = RunOneArgs {
            runtime: Runtime::Tokio,
            url_template: "http://h/{id}".to_owned(),
            requests: 10,
            concurrency: 5,
            timeout_ms: 1_000,
            max_body_bytes: None,
            adaptive_max: None,
            progress: false,
        };
        assert_eq!(Mode::of(&args), Mode::Fixed(5));
        args.adaptive_max = Some(100);
        assert_eq!(Mode::of(&args), Mode::Adaptive(100));
        assert_eq!(Mode::of(&args).pool_size(), 100);
        // A fixed runtime stays fixed; blocking stays sequential.
        args.runtime = Runtime::TokioFixed(50);
        assert_eq!(Mode::of(&args), Mode::Fixed(50));
        args.runtime = Runtime::Blocking;
        assert_eq!(Mode::of(&args), Mode::Fixed(1));
    }

    #[test]
    fn spans_take_timings_from_the_recording_and_outcomes_from_the_caller() {
        let ran = Ran {
            outcomes: vec![
                (Outcome::Ok, 300),
                (Outcome::Decode, 400),
                (Outcome::Other, 50),
            ],
            wall: Duration::from_micros(400),
            final_limit: None,
        };
        let recording = Recording {
            timings: vec![Some((10, 290)), Some((20, 390)), None],
            ..Recording::default()
        };
        let spans = spans(&ran, &recording);
        let got: Vec<(u64, u64, Outcome)> = spans
            .iter()
            .map(|s| (s.start_us, s.end_us, s.outcome))
            .collect();
        assert_eq!(
            got,
            [
                (10, 290, Outcome::Ok),
                (20, 390, Outcome::Decode),
                (50, 50, Outcome::Other)
            ]
        );
    }

    #[test]
    fn url_template() {
        assert_eq!(
            urls("http://h/users/{id}", 3),
            ["http://h/users/1", "http://h/users/2", "http://h/users/3"]
        );
    }
}
