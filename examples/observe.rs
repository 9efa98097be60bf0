//! Watching a batch as it runs: `tracing` spans for every request, and an
//! `Observer` that sums the batch up in one line.
//!
//! The limit scenario (100 posts, at most 20 in flight, 200 ms each) with a
//! few flaky requests that the retry layer sends again.
//!
//! ```text
//! cargo run --release --features tracing --example observe
//! RUST_LOG=volley_core=debug cargo run --release --features tracing --example observe
//! ```

mod common;

use std::error::Error;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{Api, ms};
use volley::tokio::Client;
use volley::{FetcherExt, Finished, Observer, RetryPolicy, RetryReason, gather};

/// Counts what the layers report: durations, retries, requests in flight.
#[derive(Default)]
struct Summary {
    durations: Mutex<Vec<Duration>>,
    retries: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    permit_waits: AtomicUsize,
}

impl Observer for Summary {
    fn request_started(&self, _: &volley::Request) {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Ordering::Relaxed);
    }

    fn request_finished(&self, finished: &Finished<'_>) {
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
        if let Ok(mut d) = self.durations.lock() {
            d.push(finished.elapsed);
        }
    }

    fn permit_waited(&self, _: Duration) {
        self.permit_waits.fetch_add(1, Ordering::Relaxed);
    }

    fn retry_scheduled(&self, _: u32, _: Duration, _: RetryReason) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }
}

impl Summary {
    fn line(&self) -> String {
        let mut d = self.durations.lock().map(|d| d.clone()).unwrap_or_default();
        d.sort();
        let pct = |p: f64| {
            d.get(((d.len() as f64 * p).ceil() as usize).saturating_sub(1))
                .copied()
                .unwrap_or_default()
        };
        format!(
            "{} attempts, p50 {}, p99 {}, {} retries, {} waited for a permit, at most {} in flight",
            d.len(),
            ms(pct(0.50)),
            ms(pct(0.99)),
            self.retries.load(Ordering::Relaxed),
            self.permit_waits.load(Ordering::Relaxed),
            self.max_in_flight.load(Ordering::Relaxed),
        )
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    // Spans print when they close, with their fields (method, host, path,
    // attempt, status, elapsed_ms); `RUST_LOG` picks the level.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "volley_core=info".into()),
        )
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_target(false)
        .compact()
        .init();

    let api = Api::from_args()?;
    println!("API: {api}");
    let summary = std::sync::Arc::new(Summary::default());
    let client = Client::builder()
        .base_url(api.url())
        .build()?
        .observe(summary.clone()) // first: the layers below report to it
        .limit(20)
        .retry(
            RetryPolicy::default()
                .base_delay(Duration::from_millis(50))
                .max_attempts(3),
        );

    let start = Instant::now();
    let paths: Vec<String> = (1..=100)
        .map(|id| {
            if id % 25 == 0 {
                // A few flaky endpoints: one 503, then success on the retry.
                format!("/flaky?fail=1&key=observe-{id}-{}", std::process::id())
            } else {
                format!("/posts/{id}")
            }
        })
        .collect();
    let results = gather(
        paths
            .iter()
            .map(|p| client.get_json::<serde_json::Value>(p)),
    )
    .await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    println!();
    println!(
        "100 requests, at most 20 in flight: {ok} ok in {}",
        ms(start.elapsed())
    );
    println!("observer: {}", summary.line());
    Ok(())
}
