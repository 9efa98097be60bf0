//! The observer hook: what each layer reports, counted on the in-memory fetcher.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::Mutex;
use std::time::Duration;

use http::StatusCode;
use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
use volley_core::{
    ErrorKind, Fetcher, FetcherExt, Finished, Observer, Outcome, Rate, Request, RetryPolicy,
    RetryReason, gather,
};

use support::{MS, get};

#[derive(Default)]
struct Recorder {
    started: Mutex<Vec<(String, u32)>>,
    finished: Mutex<Vec<(String, u32, Outcome, Duration)>>,
    permit_waits: Mutex<Vec<Duration>>,
    rate_waits: Mutex<Vec<Duration>>,
    retries: Mutex<Vec<(u32, Duration, RetryReason)>>,
}

impl Observer for Recorder {
    fn request_started(&self, request: &Request) {
        self.started
            .lock()
            .unwrap()
            .push((request.url().path().to_owned(), request.attempt()));
    }
    fn request_finished(&self, f: &Finished<'_>) {
        self.finished.lock().unwrap().push((
            f.url.path().to_owned(),
            f.attempt,
            f.outcome,
            f.elapsed,
        ));
    }
    fn permit_waited(&self, waited: Duration) {
        self.permit_waits.lock().unwrap().push(waited);
    }
    fn rate_limit_waited(&self, waited: Duration) {
        self.rate_waits.lock().unwrap().push(waited);
    }
    fn retry_scheduled(&self, attempt: u32, delay: Duration, reason: RetryReason) {
        self.retries.lock().unwrap().push((attempt, delay, reason));
    }
}

#[test]
fn reports_each_attempt_with_outcome_and_duration() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|req, _| match req.url().path() {
        "/ok" => Reply::status(StatusCode::OK, "").after(MS * 30),
        "/missing" => Reply::status(StatusCode::NOT_FOUND, "").after(MS * 10),
        _ => Reply::error(ErrorKind::Connect).after(MS * 5),
    });
    let rec = std::sync::Arc::new(Recorder::default());
    let client = server.observe(rec.clone());
    run(
        &timer,
        gather(["/ok", "/missing", "/down"].map(|p| client.fetch(get(p)))),
    )
    .unwrap();
    assert_eq!(rec.started.lock().unwrap().len(), 3);
    let mut finished = rec.finished.lock().unwrap().clone();
    finished.sort_by_key(|f| f.0.clone());
    assert_eq!(
        finished,
        vec![
            (
                "/down".into(),
                1,
                Outcome::Error(ErrorKind::Connect),
                MS * 5
            ),
            (
                "/missing".into(),
                1,
                Outcome::Response(StatusCode::NOT_FOUND),
                MS * 10
            ),
            ("/ok".into(), 1, Outcome::Response(StatusCode::OK), MS * 30),
        ]
    );
}

#[test]
fn layers_after_observe_report_waits_and_retries() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone())
        .latency(MS * 100)
        .script(|req, call| {
            if req.url().path() == "/flaky" && call <= 1 {
                Reply::status(StatusCode::SERVICE_UNAVAILABLE, "")
            } else {
                Reply::status(StatusCode::OK, "")
            }
        });
    let rec = std::sync::Arc::new(Recorder::default());
    let client = server
        .observe(rec.clone())
        .limit(2)
        .retry(RetryPolicy::default().jitter(false).base_delay(MS * 50))
        .rate_limit(Rate::per_second(100.0).burst(10));
    let paths = ["/flaky", "/a", "/b", "/c"];
    let out = run(&timer, gather(paths.map(|p| client.fetch(get(p))))).unwrap();
    assert!(out.iter().all(|r| r.is_ok()));
    let retries = rec.retries.lock().unwrap().clone();
    assert_eq!(
        retries,
        vec![(
            1,
            MS * 50,
            RetryReason::Status(StatusCode::SERVICE_UNAVAILABLE)
        )]
    );
    let started = rec.started.lock().unwrap().clone();
    assert!(started.contains(&("/flaky".into(), 2)), "{started:?}");
    assert_eq!(started.len(), 5, "four requests and one retry");
    // limit 2 with 4 at once: two waited a full round for a permit.
    let waits = rec.permit_waits.lock().unwrap().clone();
    assert_eq!(
        waits.iter().filter(|w| **w >= MS * 100).count(),
        2,
        "{waits:?}"
    );
    assert!(
        rec.rate_waits.lock().unwrap().is_empty(),
        "inside the burst"
    );
}

#[test]
fn a_dropped_attempt_is_reported_as_dropped() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|_, _| Reply::hang());
    let rec = std::sync::Arc::new(Recorder::default());
    let client = server.observe(rec.clone()).timeout(MS * 200);
    let err = run(&timer, client.fetch(get("/hang")))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    let finished = rec.finished.lock().unwrap().clone();
    assert_eq!(
        finished,
        vec![("/hang".into(), 1, Outcome::Dropped, MS * 200)]
    );
}
