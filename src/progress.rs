//! [`Progress`]: a progress bar for a batch, with its ETA (the `progress`
//! feature, on [indicatif](https://docs.rs/indicatif)).

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};
use volley_core::{Finished, Observer, Rate, Request, RetryReason};

/// A progress bar for a batch of `total` requests, drawn on stderr (and
/// not at all when stderr is not a terminal): requests done, failed and in
/// flight, the rate, and the time left.
///
/// It is an [`Observer`]: install it with
/// [`observe`](volley_core::FetcherExt::observe) right on the client, so
/// it sees every attempt and every retry. A request counts as done once its
/// last attempt ends: an attempt that the retry layer sends again is not a
/// failure. Clones share the bar and its counts. A request that fails
/// before it reaches the observer (a layer written after `.observe(..)`
/// that refuses it at once: a deadline already past, a pause longer than
/// the deadline, a shared quota that fails closed) is not seen: count it
/// with [`ended`](Self::ended) where its result is handled, or the bar
/// stops short of its total.
///
/// With a rate limit, give the rate with [`with_rate`](Self::with_rate):
/// the least time the batch can take is then known before the first request
/// and shown at once ("10,000 requests at 5/s: at least 33 min 20 s"), and
/// the time left is never shown shorter than the rate allows.
///
/// ```
/// # fn main() -> Result<(), volley_core::Error> {
/// use volley::progress::Progress;
/// use volley::testing::{InMemoryFetcher, ManualTimer, run};
/// use volley::{FetcherExt, Rate, gather};
///
/// let rate = Rate::per_second(50.0);
/// let progress = Progress::new(100).with_rate(rate);
/// assert_eq!(progress.lower_bound().as_deref(), Some("100 requests at 50/s: at least 2 s"));
///
/// let timer = ManualTimer::new();
/// let client = InMemoryFetcher::new(timer.clone())
///     .observe(progress.clone()) // first: it sees every attempt
///     .rate_limit(rate);
/// let results = run(&timer, gather((1..=100).map(|id| client.get(format!("/users/{id}"))))).unwrap();
/// progress.finish();
/// assert_eq!((progress.done(), progress.failed(), progress.in_flight()), (100, 0, 0));
/// # assert!(results.iter().all(Result::is_ok));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Progress {
    bar: ProgressBar,
    counts: Arc<Counts>,
    rate: Option<Rate>,
}

#[derive(Debug, Default)]
struct Counts {
    started: AtomicU64,
    /// Attempts that ended.
    ended: AtomicU64,
    /// Attempts that ended with an error or an error status.
    failed: AtomicU64,
    /// Attempts that are sent again.
    retried: AtomicU64,
}

impl Counts {
    fn get(n: &AtomicU64) -> u64 {
        n.load(Relaxed)
    }

    fn done(&self) -> u64 {
        Counts::get(&self.ended).saturating_sub(Counts::get(&self.retried))
    }

    fn failed(&self) -> u64 {
        Counts::get(&self.failed).saturating_sub(Counts::get(&self.retried))
    }

    fn in_flight(&self) -> u64 {
        Counts::get(&self.started).saturating_sub(Counts::get(&self.ended))
    }
}

impl Progress {
    /// A bar for `total` requests, drawn at once.
    ///
    /// ```
    /// let progress = volley::progress::Progress::new(10);
    /// assert_eq!(progress.done(), 0);
    /// ```
    pub fn new(total: u64) -> Progress {
        let progress = Progress {
            bar: ProgressBar::new(total),
            counts: Arc::default(),
            rate: None,
        };
        progress.restyle();
        progress
    }

    /// The rate the requests are limited to (the one given to
    /// [`rate_limit`](volley_core::FetcherExt::rate_limit)): the least time
    /// the batch can take is shown at once, and the time left is never shown
    /// shorter than it allows.
    ///
    /// ```
    /// use volley::{Rate, progress::Progress};
    /// let progress = Progress::new(600).with_rate(Rate::per_second(10.0));
    /// assert_eq!(progress.lower_bound().as_deref(), Some("600 requests at 10/s: at least 59.9 s"));
    /// ```
    #[must_use]
    pub fn with_rate(mut self, rate: Rate) -> Progress {
        self.rate = Some(rate);
        self.restyle();
        self
    }

    /// A label before the bar, e.g. the batch's name.
    ///
    /// ```
    /// let progress = volley::progress::Progress::new(10).with_prefix("users");
    /// # drop(progress);
    /// ```
    #[must_use]
    pub fn with_prefix(self, prefix: impl Into<String>) -> Progress {
        self.bar.set_prefix(prefix.into());
        self
    }

    /// "N requests at R/s: at least T", when a rate was given: the least
    /// time N requests take at that rate (one every interval after the
    /// first).
    ///
    /// ```
    /// use volley::{Rate, progress::Progress};
    /// assert_eq!(Progress::new(10).lower_bound(), None);
    /// let at_5 = Progress::new(10_000).with_rate(Rate::per_second(5.0));
    /// assert_eq!(at_5.lower_bound().as_deref(), Some("10,000 requests at 5/s: at least 33 min 20 s"));
    /// ```
    pub fn lower_bound(&self) -> Option<String> {
        let rate = self.rate?;
        let total = self.bar.length().unwrap_or(0);
        Some(format!(
            "{} request{} at {}/s: at least {}",
            thousands(total),
            if total == 1 { "" } else { "s" },
            per_second(rate),
            human(least_time(total, rate))
        ))
    }

    /// Requests done (their last attempt ended), failed ones included.
    pub fn done(&self) -> u64 {
        self.counts.done()
    }

    /// Requests whose last attempt failed (an error, or a 4xx or 5xx status).
    pub fn failed(&self) -> u64 {
        self.counts.failed()
    }

    /// Attempts on the wire now.
    pub fn in_flight(&self) -> u64 {
        self.counts.in_flight()
    }

    /// Counts an attempt that starts now, for a client whose requests pass
    /// no [`Observe`](volley_core::layer::Observe) layer (such as the
    /// blocking one); pair it with [`ended`](Self::ended).
    ///
    /// ```
    /// let progress = volley::progress::Progress::new(1);
    /// progress.started();
    /// progress.ended(true);
    /// assert_eq!((progress.done(), progress.failed()), (1, 0));
    /// ```
    pub fn started(&self) {
        self.counts.started.fetch_add(1, Relaxed);
    }

    /// Counts a request, begun with [`started`](Self::started), that ended
    /// now, successfully or not.
    pub fn ended(&self, ok: bool) {
        self.counts.failed.fetch_add(u64::from(!ok), Relaxed);
        self.counts.ended.fetch_add(1, Relaxed);
        self.bar.set_position(self.counts.done());
    }

    /// Leaves the bar as it is now, with its counts, and stops drawing it.
    pub fn finish(&self) {
        self.bar.set_position(self.counts.done());
        self.bar.abandon();
    }

    /// Removes the bar from the terminal.
    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }

    /// Sets the bar's style: its counts, rate and time left are read when it
    /// is drawn (at most 20 times a second), not on every request.
    fn restyle(&self) {
        let counts = self.counts.clone();
        let rate = self.rate;
        let status = move |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let left = state.len().unwrap_or(0).saturating_sub(state.pos());
            let mut eta = state.eta();
            if let Some(rate) = rate {
                eta = eta.max(least_time(left, rate));
            }
            let _ = write!(
                w,
                "{} failed, {} in flight, {:.1}/s, ETA {}",
                counts.failed(),
                counts.in_flight(),
                state.per_sec(),
                human(eta)
            );
        };
        let mut template = "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} done, {status}";
        if let Some(bound) = self.lower_bound() {
            template = "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} done, {status}\n{msg}";
            self.bar.set_message(bound);
        }
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .with_key("status", status);
        self.bar.set_style(style);
        self.bar.enable_steady_tick(Duration::from_millis(200));
        self.bar.tick();
    }
}

impl Observer for Progress {
    fn request_started(&self, _: &Request) {
        self.started();
    }

    fn request_finished(&self, finished: &Finished<'_>) {
        self.ended(finished.outcome.is_success());
    }

    fn retry_scheduled(&self, _: u32, _: Duration, _: RetryReason) {
        self.counts.retried.fetch_add(1, Relaxed);
        self.bar.set_position(self.counts.done());
    }
}

/// The least time `n` requests take at `rate`: its burst at once, then one
/// every interval.
fn least_time(n: u64, rate: Rate) -> Duration {
    let after_burst = n.saturating_sub(u64::from(rate.burst_size()));
    let intervals = u32::try_from(after_burst).unwrap_or(u32::MAX);
    rate.interval().saturating_mul(intervals)
}

/// `5` or `2.5`: requests per second at `rate`.
fn per_second(rate: Rate) -> String {
    let per_s = 1.0 / rate.interval().as_secs_f64().max(f64::MIN_POSITIVE);
    let text = format!("{per_s:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

/// `10,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1 h 2 min 3 s`, `33 min 20 s`, `59.9 s`, `0.2 s`: whole seconds from a
/// minute on, tenths below.
fn human(d: Duration) -> String {
    if d < Duration::from_secs(60) {
        let text = format!("{:.1}", d.as_secs_f64());
        return format!("{} s", text.strip_suffix(".0").unwrap_or(&text));
    }
    let secs = d.as_secs() + u64::from(d.subsec_millis() >= 500);
    let (h, min, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::new();
    for (n, unit) in [(h, "h"), (min, "min"), (s, "s")] {
        if n > 0 {
            let _ = write!(out, "{}{n} {unit}", if out.is_empty() { "" } else { " " });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower_bound_text() {
        let at = |n: u64, rate: f64| {
            Progress::new(n)
                .with_rate(Rate::per_second(rate))
                .lower_bound()
        };
        for (n, rate, text) in [
            (10_000, 5.0, "10,000 requests at 5/s: at least 33 min 20 s"),
            (
                1_000_000,
                100.0,
                "1,000,000 requests at 100/s: at least 2 h 46 min 40 s",
            ),
            (3, 2.5, "3 requests at 2.5/s: at least 0.8 s"),
            (1, 5.0, "1 request at 5/s: at least 0 s"),
        ] {
            assert_eq!(at(n, rate).as_deref(), Some(text));
        }
        assert_eq!(Progress::new(5).lower_bound(), None);
    }

    #[test]
    fn durations_and_numbers() {
        assert_eq!(human(Duration::from_secs(3600)), "1 h");
        assert_eq!(human(Duration::from_millis(61_600)), "1 min 2 s");
        assert_eq!(human(Duration::from_millis(200)), "0.2 s");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
    }

    #[test]
    fn retried_attempts_are_not_failures() {
        let progress = Progress::new(2);
        for ok in [false, true, true] {
            progress.started();
            progress.ended(ok);
        }
        // Not retried yet: three attempts, one failed.
        assert_eq!((progress.done(), progress.failed()), (3, 1));
        progress.retry_scheduled(
            1,
            Duration::ZERO,
            RetryReason::Error(volley_core::ErrorKind::Timeout),
        );
        assert_eq!(
            (progress.done(), progress.failed(), progress.in_flight()),
            (2, 0, 0)
        );
    }
}
