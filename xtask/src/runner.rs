//! `xtask run-one`: one scenario on one runtime, in this process, reported as
//! one JSON line on stdout.
//!
//! Every request is a GET that must answer 2xx with a JSON object holding an
//! `id`. The clock starts once the client is built. The volley async
//! runtimes are timed by a [`Recorder`] installed first on the client with
//! `.observe(..)`; plain reqwest and the blocking client by hand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use volley::progress::Progress;
use volley_core::adapter::{BuildClient, default_connection_cap, reserve_descriptors};
use volley_core::{
    Adaptive, ClientBuilder, Error, ErrorKind, Fetcher, FetcherExt, Request, RetryPolicy,
};

use crate::Result;
use crate::cli::{ADAPTIVE_INITIAL, RunOneArgs, Runtime};
use crate::recorder::{Recorder, Recording, is_rejection, micros, thin};
use crate::report::{Outcome, RunOutput, Span, parse_vm_hwm};

/// How many slices of time the in-flight and limit curves are thinned to.
const CURVE_BUCKETS: usize = 600;

/// How requests are let through on a volley async runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `gather_limited`: at most this many in flight.
    Fixed(usize),
    /// Every request at once through `gather` and an adaptive limit from
    /// [`ADAPTIVE_INITIAL`] up to this.
    Adaptive(usize),
    /// Every request at once through `gather` and
    /// `.limit(n).host_cooldown(max).retry(policy)`.
    Cooldown(usize),
}

impl Mode {
    fn of(args: &RunOneArgs) -> Mode {
        let n = args.runtime.effective_concurrency(args.concurrency);
        match args.adaptive_max {
            Some(max) if args.runtime.is_adaptive_capable() => Mode::Adaptive(max),
            _ if args.cooldown && args.runtime.is_volley_async() => Mode::Cooldown(n),
            _ => Mode::Fixed(n),
        }
    }

    /// The connection pool size that fits this mode.
    fn pool_size(self) -> usize {
        match self {
            Mode::Fixed(n) | Mode::Adaptive(n) | Mode::Cooldown(n) => n,
        }
    }
}

/// What one run gives back: each request's outcome and when it was done,
/// by index, the wall time, and the adaptive limit at the end.
struct Ran {
    outcomes: Vec<(Outcome, u64)>,
    wall: Duration,
    final_limit: Option<usize>,
}

impl Ran {
    fn since(t0: Instant, outcomes: Vec<(Outcome, u64)>, final_limit: Option<usize>) -> Ran {
        let wall = t0.elapsed();
        Ran {
            outcomes,
            wall,
            final_limit,
        }
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

/// How a volley request ended, and whether the server turned it away.
fn volley_outcome(result: volley_core::Result<()>) -> (Outcome, bool) {
    match result {
        Ok(()) => (Outcome::Ok, false),
        Err(e) => {
            let rejected = e.status().is_some_and(is_rejection);
            (Outcome::from_kind(e.kind()), rejected)
        }
    }
}

/// One GET through any volley fetcher.
async fn fetch_record<F: Fetcher>(client: &F, url: &str) -> volley_core::Result<()> {
    let request = Request::get(url).build()?;
    let response = client.fetch(request).await?.error_for_status()?;
    check_record(&response.json::<Value>()?)
}

/// [`fetch_record`], with how it ended and when. Two functions, not one
/// with an async block inside: the future of each of 50,000 requests
/// handed over at once is smaller so (1,608 bytes against 1,880 on tokio).
async fn get_record<F: Fetcher>(client: &F, url: &str, recorder: &Recorder) -> (Outcome, u64) {
    let result = fetch_record(client, url).await;
    (volley_outcome(result).0, recorder.now_us())
}

/// Every URL through a client built from `builder`, observed by `recorder`.
async fn run_volley<C>(
    builder: ClientBuilder<C>,
    args: &RunOneArgs,
    urls: &[String],
    recorder: &Arc<Recorder>,
) -> Result<Ran>
where
    C: BuildClient + Fetcher,
{
    let observed = configure(builder, args).build()?.observe(recorder.clone());
    Ok(match Mode::of(args) {
        Mode::Fixed(limit) => {
            let t0 = recorder.start();
            let gets = urls.iter().map(|url| get_record(&observed, url, recorder));
            Ran::since(t0, volley_core::gather_limited(gets, limit).await, None)
        }
        Mode::Adaptive(max) => {
            let config = Adaptive::new().initial(ADAPTIVE_INITIAL).max(max);
            let limited = observed.adaptive_limit(config);
            let t0 = recorder.start();
            recorder.limit_is(config.bounds().1);
            let gets = urls.iter().map(|url| get_record(&limited, url, recorder));
            let outcomes = volley_core::gather(gets).await;
            Ran::since(t0, outcomes, Some(limited.current()))
        }
        Mode::Cooldown(limit) => {
            let policy = RetryPolicy::default();
            let max = policy.delay_limit();
            let polite = observed.limit(limit).host_cooldown(max).retry(policy);
            let t0 = recorder.start();
            let gets = urls.iter().map(|url| get_record(&polite, url, recorder));
            Ran::since(t0, volley_core::gather(gets).await, None)
        }
    })
}

/// The run's timeout and body cap, on the builder of any volley client.
fn with_limits<C: BuildClient>(builder: ClientBuilder<C>, args: &RunOneArgs) -> ClientBuilder<C> {
    let builder = builder.timeout(Duration::from_millis(args.client.timeout_ms));
    match args.client.max_body_bytes {
        Some(max) => builder.max_body_bytes(max),
        None => builder,
    }
}

/// [`with_limits`], and a pool sized for the run's mode but never past what
/// the process may open: 50,000 at once under `ulimit -n 4096` runs at the
/// client's connection cap, not into "too many open files".
fn configure<C: BuildClient>(builder: ClientBuilder<C>, args: &RunOneArgs) -> ClientBuilder<C> {
    // The cap as the builder will see it, once the soft limit is raised.
    reserve_descriptors(0);
    let pool = Mode::of(args).pool_size().min(default_connection_cap());
    with_limits(builder, args).pool_size(pool)
}

fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

/// The sequential baseline, timed by hand.
fn run_blocking(args: &RunOneArgs, urls: &[String], recorder: &Recorder) -> Result<Ran> {
    let client = with_limits(volley_blocking::Client::builder(), args).build()?;
    let get = |url: &str| {
        let response = client.fetch(Request::get(url).build()?)?;
        check_record(&response.error_for_status()?.json::<Value>()?)
    };
    let t0 = recorder.start();
    let outcomes = urls.iter().enumerate().map(|(i, url)| {
        let start = recorder.begin();
        recorder.end(i, start, volley_outcome(get(url)))
    });
    Ok(Ran::since(t0, outcomes.collect(), None))
}

/// The `Retry-After` of a 429 or 503, in whole seconds.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    if !is_rejection(response.status()) {
        return None;
    }
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    value.to_str().ok()?.parse().ok().map(Duration::from_secs)
}

/// One GET the way a Rust user writes it with reqwest alone: how it ended,
/// and whether the server turned it away. With `retry`, a 429 or 503 is
/// sent again after its `Retry-After` (3 attempts in all): this request
/// waits, the others go on.
async fn plain_get(client: &reqwest::Client, url: &str, retry: bool) -> (Outcome, bool) {
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
        Ok(value) => (volley_outcome(check_record(&value)).0, false),
        Err(e) => (
            Outcome::from_reqwest(&e),
            e.status().is_some_and(is_rejection),
        ),
    }
}

/// The plain-reqwest reference, timed by hand.
fn run_plain_reqwest(args: &RunOneArgs, urls: &[String], recorder: &Recorder) -> Result<Ran> {
    tokio_runtime()?.block_on(async {
        let timeout = Duration::from_millis(args.client.timeout_ms);
        // reqwest is built without a crypto provider of its own: ring,
        // as the adapters use, for the whole process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = &reqwest::Client::builder().timeout(timeout).build()?;
        let t0 = recorder.start();
        let gets = futures::stream::iter(urls.iter().enumerate()).map(|(i, url)| async move {
            let start = recorder.begin();
            (
                i,
                recorder.end(i, start, plain_get(client, url, args.cooldown).await),
            )
        });
        let mut indexed: Vec<_> = gets
            .buffer_unordered(args.concurrency.max(1))
            .collect()
            .await;
        let wall = t0.elapsed();
        indexed.sort_by_key(|(i, _)| *i);
        let outcomes = indexed.into_iter().map(|(_, o)| o).collect();
        Ok(Ran {
            outcomes,
            wall,
            final_limit: None,
        })
    })
}

/// Each request's span: its last attempt's start and end and its waits as
/// recorded, and the outcome its caller saw. A request that never reached
/// the client (its URL did not parse) is an instant at the moment it failed.
fn spans(ran: &Ran, recording: &Recording) -> Vec<Span> {
    let timings = recording.timings.iter().chain(std::iter::repeat(&None));
    let waits = recording.waits.iter().chain(std::iter::repeat(&[0; 6]));
    let spans = ran.outcomes.iter().zip(timings).zip(waits);
    let spans = spans.map(|((&(outcome, done_us), timing), &waits)| {
        let (start_us, end_us) = timing.unwrap_or((done_us, done_us));
        Span {
            start_us,
            end_us,
            outcome,
            waits,
        }
    });
    spans.collect()
}

/// The URLs of a run: `{id}` replaced by 1..=N.
fn urls(template: &str, requests: usize) -> Vec<String> {
    (1..=requests)
        .map(|id| template.replace("{id}", &id.to_string()))
        .collect()
}

/// Runs every request of `args` on its runtime.
fn run_requests(args: &RunOneArgs, urls: &[String], recorder: &Arc<Recorder>) -> Result<Ran> {
    match args.runtime {
        Runtime::Tokio | Runtime::TokioFixed(_) => {
            let run = run_volley(volley_tokio::Client::builder(), args, urls, recorder);
            tokio_runtime()?.block_on(run)
        }
        Runtime::AsyncStd => {
            let run = run_volley(volley_async_std::Client::builder(), args, urls, recorder);
            async_std::task::block_on(run)
        }
        Runtime::Smol => smol::block_on(run_volley(
            volley_smol::Client::builder(),
            args,
            urls,
            recorder,
        )),
        Runtime::Blocking => run_blocking(args, urls, recorder),
        Runtime::PlainReqwest => run_plain_reqwest(args, urls, recorder),
    }
}

/// `xtask run-one`.
pub fn run(args: &RunOneArgs) -> Result<()> {
    volley_mock::raise_fd_limit();
    let urls = urls(&args.url_template, args.requests);
    let progress = args
        .progress
        .then(|| Progress::new(urls.len() as u64).with_prefix(args.runtime.name()));
    // Only the volley async runtimes' recorder matches URLs to requests.
    let recorder = Arc::new(match args.runtime {
        Runtime::Blocking | Runtime::PlainReqwest => {
            Recorder::by_hand(urls.len(), progress.clone())
        }
        _ => Recorder::new(&urls, progress.clone()),
    });
    let ran = run_requests(args, &urls, &recorder);
    if let Some(progress) = progress {
        progress.finish_and_clear();
    }
    let ran = ran?;
    let recording = recorder.finish();
    let status = std::fs::read_to_string("/proc/self/status");
    let output = RunOutput {
        runtime: args.runtime,
        spans: spans(&ran, &recording),
        wall_us: micros(ran.wall),
        max_in_flight: recording.max_in_flight,
        peak_rss_kb: status.ok().and_then(|status| parse_vm_hwm(&status)),
        rejected: recording.rejected,
        final_limit: ran.final_limit,
        in_flight: thin(&recording.in_flight, CURVE_BUCKETS),
        limits: thin(&recording.limits, CURVE_BUCKETS),
    };
    println!("{}", serde_json::to_string(&output)?);
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
            client: crate::cli::ClientArgs {
                timeout_ms: 1_000,
                max_body_bytes: None,
            },
            adaptive_max: None,
            progress: false,
            cooldown: false,
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
        // The cooldown run: volley's async runtimes only.
        args.cooldown = true;
        assert_eq!(Mode::of(&args), Mode::Fixed(1));
        args.runtime = Runtime::Smol;
        args.adaptive_max = None;
        assert_eq!(Mode::of(&args), Mode::Cooldown(5));
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
            waits: vec![[1, 2, 3, 4, 5, 6]],
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
        assert_eq!(spans[0].waits, [1, 2, 3, 4, 5, 6]);
        assert_eq!(spans[2].waits, [0; 6]);
    }

    #[test]
    fn url_template() {
        assert_eq!(
            urls("http://h/users/{id}", 3),
            ["http://h/users/1", "http://h/users/2", "http://h/users/3"]
        );
    }
}
