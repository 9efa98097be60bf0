//! `xtask run-one`: one scenario on one runtime, in this process, reported as
//! one JSON line on stdout.
//!
//! Every request is a GET that must answer 2xx with a JSON object holding an
//! `id`. The clock starts once the client is built. The volley async
//! runtimes with layers (adaptive, cool-down, a shared rate) are timed by a
//! [`Recorder`] installed first on the client with `.observe(..)`; the
//! plain clients ([`plain`]), the blocking client and the volley clients
//! alone by hand.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use volley::progress::Progress;
use volley_core::adapter::{BuildClient, default_connection_cap, reserve_descriptors};
use volley_core::{
    Adaptive, ClientBuilder, Error, ErrorKind, Fetcher, FetcherExt, Rate, Request, RetryPolicy,
};
use volley_redis::{RedisExt, SharedRate};

use crate::Result;
use crate::cli::{ADAPTIVE_INITIAL, RunOneArgs, Runtime, SharedArgs};
use crate::plain;
use crate::recorder::{Recorder, Recording, is_rejection, micros, thin};
use crate::report::{Outcome, RunOutput, Span, parse_vm_hwm};

/// How many slices of time the in-flight and limit curves are thinned to.
const CURVE_BUCKETS: usize = 600;

/// How requests are let through on a volley async runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `gather_limited`: at most the limit in flight, with no layers. Timed
    /// by hand as the plain clients (and blocking) are, not observed: the
    /// comparison with them is of the clients alone.
    Fixed,
    /// `gather_limited` through the rate shared in Redis (`--redis`).
    Shared,
    /// Every request at once through `gather` and an adaptive limit from
    /// [`ADAPTIVE_INITIAL`] up to the limit.
    Adaptive,
    /// Every request at once through `gather` and
    /// `.limit(n).host_cooldown(max).retry(policy)`.
    Cooldown,
}

impl Mode {
    /// The mode of a run, and its limit (the adaptive limit's maximum),
    /// which also sizes the connection pool.
    fn of(args: &RunOneArgs) -> (Mode, usize) {
        let n = args.runtime.effective_concurrency(args.concurrency);
        match args.adaptive_max {
            Some(max) if args.runtime.is_adaptive_capable() => (Mode::Adaptive, max),
            _ if !args.runtime.is_volley_async() => (Mode::Fixed, n),
            _ if args.cooldown => (Mode::Cooldown, n),
            _ if args.shared.redis.is_some() => (Mode::Shared, n),
            _ => (Mode::Fixed, n),
        }
    }
}

/// What one run gives back: each request's outcome and when it was done,
/// by index, the wall time, and the adaptive limit at the end.
pub(crate) struct Ran {
    pub(crate) outcomes: Vec<(Outcome, u64)>,
    pub(crate) wall: Duration,
    pub(crate) final_limit: Option<usize>,
}

impl Ran {
    /// The outcomes of a run that started at `t0` and is over now.
    pub(crate) fn since(t0: Instant, outcomes: Vec<(Outcome, u64)>) -> Ran {
        Ran {
            outcomes,
            wall: t0.elapsed(),
            final_limit: None,
        }
    }
}

/// A record must be a JSON object with an `id`.
pub(crate) fn check_record(value: &Value) -> volley_core::Result<()> {
    match value.as_object() {
        Some(object) if object.contains_key("id") => Ok(()),
        _ => Err(Error::new(
            ErrorKind::Decode,
            "the body is not a JSON object with an `id`",
        )),
    }
}

/// How a volley request ended, and whether the server turned it away.
pub(crate) fn volley_outcome(result: volley_core::Result<()>) -> (Outcome, bool) {
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
    // A pool sized for the run's mode but never past what the process may
    // open: 50,000 at once under `ulimit -n 4096` runs at the client's
    // connection cap, not into "too many open files". The cap as the builder
    // will see it, once the soft limit is raised:
    reserve_descriptors(0);
    let mode = Mode::of(args);
    let pool = mode.1.min(default_connection_cap());
    let client = with_limits(builder, args).pool_size(pool).build()?;
    Ok(match mode {
        (Mode::Fixed, limit) => send_by_hand(&client, urls, limit, recorder).await,
        (Mode::Shared, limit) => {
            let quota = shared_rate(&args.shared)?;
            let shared = client.observe(recorder.clone()).shared_rate(&quota);
            send(&shared, urls, Some(limit), recorder).await
        }
        (Mode::Adaptive, max) => {
            let config = Adaptive::new().initial(ADAPTIVE_INITIAL).max(max);
            let limited = client.observe(recorder.clone()).adaptive_limit(config);
            // Also starts the clock.
            recorder.limit_is(config.bounds().1);
            let ran = send(&limited, urls, None, recorder).await;
            let final_limit = Some(limited.current());
            Ran { final_limit, ..ran }
        }
        (Mode::Cooldown, limit) => {
            let policy = RetryPolicy::default();
            let max = policy.delay_limit();
            let observed = client.observe(recorder.clone());
            let polite = observed.limit(limit).host_cooldown(max).retry(policy);
            send(&polite, urls, None, recorder).await
        }
    })
}

/// Every URL through `client`, at most `limit` in flight (or all at once).
async fn send<F: Fetcher>(
    client: &F,
    urls: &[String],
    limit: Option<usize>,
    recorder: &Recorder,
) -> Ran {
    let t0 = recorder.start();
    let gets = urls.iter().map(|url| get_record(client, url, recorder));
    let outcomes = match limit {
        Some(limit) => volley_core::gather_limited(gets, limit).await,
        None => volley_core::gather(gets).await,
    };
    Ran::since(t0, outcomes)
}

/// Every URL through `client`, at most `limit` in flight, each timed by
/// hand.
async fn send_by_hand<F: Fetcher>(
    client: &F,
    urls: &[String],
    limit: usize,
    recorder: &Recorder,
) -> Ran {
    let t0 = recorder.start();
    let gets = urls.iter().enumerate().map(|(i, url)| async move {
        let start = recorder.begin();
        let result = fetch_record(client, url).await;
        recorder.end(i, start, volley_outcome(result), true)
    });
    Ran::since(t0, volley_core::gather_limited(gets, limit).await)
}

/// The rate shared through the Redis of `--redis`, failing open.
fn shared_rate(args: &SharedArgs) -> Result<SharedRate> {
    let url = args.redis.as_deref().ok_or("no --redis")?;
    let rate = Rate::per_second(args.rate);
    let builder = SharedRate::builder(url, args.key.as_str(), rate)?;
    let builder = builder.redis_timeout(Duration::from_millis(250));
    Ok(builder.fail_open(args.workers))
}

/// The run's timeout, body cap and HTTP version, on the builder of any
/// volley client.
fn with_limits<C: BuildClient>(builder: ClientBuilder<C>, args: &RunOneArgs) -> ClientBuilder<C> {
    let mut builder = builder.timeout(Duration::from_millis(args.client.timeout_ms));
    if args.client.http2 {
        builder = builder.http2_prior_knowledge();
    }
    match args.client.max_body_bytes {
        Some(max) => builder.max_body_bytes(max),
        None => builder,
    }
}

pub(crate) fn tokio_runtime() -> Result<tokio::runtime::Runtime> {
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
        recorder.end(i, start, volley_outcome(get(url)), false)
    });
    Ok(Ran::since(t0, outcomes.collect()))
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
        Runtime::Smol => {
            let run = run_volley(volley_smol::Client::builder(), args, urls, recorder);
            smol::block_on(run)
        }
        Runtime::Blocking => run_blocking(args, urls, recorder),
        Runtime::PlainReqwest => plain::reqwest(args, urls, recorder),
        Runtime::PlainSurf => plain::surf(args, urls, recorder),
        Runtime::PlainIsahc => plain::isahc(args, urls, recorder),
    }
}

/// `xtask run-one`.
pub fn run(args: &RunOneArgs) -> Result<()> {
    volley_mock::raise_fd_limit();
    let urls = urls(&args.url_template, args.requests);
    let progress = args
        .progress
        .then(|| Progress::new(urls.len() as u64).with_prefix(args.runtime.to_string()));
    // Only the observed runs' recorder matches URLs to requests.
    let recorder = Arc::new(match Mode::of(args) {
        (Mode::Fixed, _) => Recorder::by_hand(urls.len(), progress.clone()),
        _ => Recorder::new(&urls, progress.clone()),
    });
    // Sleeps until `--start-at-ms`, if it is still to come.
    if let Some(at_ms) = args.shared.start_at_ms {
        let now = SystemTime::now().duration_since(UNIX_EPOCH);
        std::thread::sleep(Duration::from_millis(at_ms).saturating_sub(now.unwrap_or_default()));
    }
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
    // A parent that has gone (a broken pipe) is an error, not a panic.
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{}", serde_json::to_string(&output)?)?;
    stdout.flush()?;
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
                http2: false,
            },
            adaptive_max: None,
            progress: false,
            cooldown: false,
            shared: SharedArgs::default(),
        };
        assert_eq!(Mode::of(&args), (Mode::Fixed, 5));
        args.adaptive_max = Some(100);
        assert_eq!(Mode::of(&args), (Mode::Adaptive, 100));
        // A fixed runtime stays fixed; blocking stays sequential.
        args.runtime = Runtime::TokioFixed(50);
        assert_eq!(Mode::of(&args), (Mode::Fixed, 50));
        args.runtime = Runtime::Blocking;
        assert_eq!(Mode::of(&args), (Mode::Fixed, 1));
        // The cooldown run: volley's async runtimes only.
        args.cooldown = true;
        assert_eq!(Mode::of(&args), (Mode::Fixed, 1));
        args.runtime = Runtime::Smol;
        args.adaptive_max = None;
        assert_eq!(Mode::of(&args), (Mode::Cooldown, 5));
        // The workers scenario: a shared rate, on volley's async runtimes only.
        args.cooldown = false;
        args.shared.redis = Some("redis://127.0.0.1:1/".to_owned());
        assert_eq!(Mode::of(&args), (Mode::Shared, 5));
        args.runtime = Runtime::PlainReqwest;
        assert_eq!(Mode::of(&args), (Mode::Fixed, 5));
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
