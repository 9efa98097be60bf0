//! With the `tracing` feature: one span per attempt with its fields, events
//! for retries and timeouts, and no query string or header value recorded.
#![allow(clippy::unwrap_used)]

mod support;

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};

use http::StatusCode;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};
use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
use volley_core::{Fetcher, FetcherExt, Request, RetryPolicy, gather, layer::NoObserver};

use support::{MS, get};

/// Everything recorded, as `name field=value` lines.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<String>>>);

struct Line<'a>(&'a mut String);

impl Visit for Line<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl<S: Subscriber> Layer<S> for Capture {
    fn on_new_span(&self, attrs: &Attributes<'_>, _: &Id, _: Context<'_, S>) {
        let mut line = format!("span {}", attrs.metadata().name());
        attrs.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn on_record(&self, _: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let mut line = "record".to_owned();
        values.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut line = "event".to_owned();
        event.record(&mut Line(&mut line));
        self.0.lock().unwrap().push(line);
    }
}

fn captured(f: impl FnOnce()) -> Vec<String> {
    let capture = Capture::default();
    let subscriber = Registry::default().with(capture.clone());
    tracing::subscriber::with_default(subscriber, f);
    capture.0.lock().unwrap().clone()
}

#[test]
fn spans_carry_method_host_path_attempt_status_and_elapsed() {
    let lines = captured(|| {
        let timer = ManualTimer::new();
        let server = InMemoryFetcher::new(timer.clone())
            .latency(MS * 40)
            .script(|_, call| {
                if call == 1 {
                    Reply::status(StatusCode::SERVICE_UNAVAILABLE, "")
                } else {
                    Reply::status(StatusCode::OK, "")
                }
            });
        let client = server
            .observe(NoObserver)
            .retry(RetryPolicy::default().jitter(false).base_delay(MS * 20));
        let req = get("http://api.test/users/1");
        run(&timer, client.fetch(req)).unwrap().unwrap();
    });
    let text = lines.join("\n");
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("span volley.request"))
            .count(),
        2,
        "{text}"
    );
    assert!(text.contains("method=GET"), "{text}");
    assert!(text.contains("host=\"api.test\""), "{text}");
    assert!(text.contains("path=\"/users/1\""), "{text}");
    assert!(
        text.contains("attempt=1") && text.contains("attempt=2"),
        "{text}"
    );
    assert!(
        text.contains("status=503") && text.contains("status=200"),
        "{text}"
    );
    assert!(text.contains("elapsed_ms=40.0"), "{text}");
    assert!(text.contains("retrying"), "a retry event: {text}");
    assert!(text.contains("delay_ms=20.0"), "{text}");
}

#[test]
fn no_query_string_or_header_value_reaches_a_span() {
    let lines = captured(|| {
        let timer = ManualTimer::new();
        let server = InMemoryFetcher::new(timer.clone()).script(|req, _| {
            if req.url().path() == "/slow" {
                Reply::hang()
            } else {
                Reply::status(StatusCode::OK, "")
            }
        });
        let client = server.observe(NoObserver).timeout(MS * 100);
        let reqs = [
            "/users/1?api_key=SECRET-QUERY",
            "/slow?token=SECRET-QUERY-2",
        ]
        .map(|p| {
            Request::get(p)
                .header("authorization", "Bearer SECRET-HEADER")
                .build()
                .unwrap()
        });
        run(&timer, gather(reqs.map(|r| client.fetch(r)))).unwrap();
    });
    let text = lines.join("\n");
    assert!(text.contains("path=\"/users/1\""), "{text}");
    assert!(text.contains("timed out"), "a timeout event: {text}");
    assert!(!text.contains("SECRET"), "a secret leaked: {text}");
    assert!(
        !text.contains("api_key") && !text.contains("token"),
        "{text}"
    );
}
