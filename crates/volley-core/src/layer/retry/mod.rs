//! [`Retry`]: send again after transient failures, with backoff and a budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use http::StatusCode;
use http::header::RETRY_AFTER;

use crate::error::{Error, ErrorKind, Result};
use crate::fetcher::Fetcher;
use crate::layer::observe::RetryReason;
use crate::request::Request;
use crate::response::Response;
mod retry_after;

pub use retry_after::parse_retry_after;

/// When and how long to wait before sending a request again.
///
/// Defaults: 3 attempts in all, exponential backoff from 100 ms with full
/// jitter (a random wait between zero and `base * 2^(attempt-1)`), no wait
/// longer than 10 s, only idempotent methods, only after connect errors,
/// timeouts and 429/502/503/504. A `Retry-After` header (seconds or
/// HTTP-date) sets the wait instead, capped by the maximum delay.
///
/// ```
/// use std::time::Duration;
/// use volley_core::RetryPolicy;
/// let policy = RetryPolicy::default()
///     .max_attempts(5)
///     .base_delay(Duration::from_millis(50))
///     .max_delay(Duration::from_secs(2));
/// assert_eq!(policy.attempts(), 5);
/// ```
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    max_attempts: u32,
    base: Duration,
    max_delay: Duration,
    jitter: bool,
    non_idempotent: bool,
    statuses: Vec<StatusCode>,
    budget: Option<RetryBudget>,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            base: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            jitter: true,
            non_idempotent: false,
            statuses: [429, 502, 503, 504]
                .into_iter()
                .filter_map(|c| StatusCode::from_u16(c).ok())
                .collect(),
            budget: Some(RetryBudget::default()),
        }
    }
}

impl RetryPolicy {
    /// Attempts in all, the first included (1 means never retry).
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The backoff of the first retry; it doubles with each attempt.
    #[must_use]
    pub fn base_delay(mut self, base: Duration) -> Self {
        self.base = base;
        self
    }

    /// No wait is longer than this, `Retry-After` included.
    #[must_use]
    pub fn max_delay(mut self, max: Duration) -> Self {
        self.max_delay = max;
        self
    }

    /// Full jitter on (default) or off (the exact exponential schedule).
    #[must_use]
    pub fn jitter(mut self, on: bool) -> Self {
        self.jitter = on;
        self
    }

    /// Also retry methods that are not idempotent (POST, PATCH). Off by
    /// default: the server may have acted on the first attempt.
    #[must_use]
    pub fn retry_non_idempotent(mut self, yes: bool) -> Self {
        self.non_idempotent = yes;
        self
    }

    /// The statuses that are retried (default 429, 502, 503, 504).
    #[must_use]
    pub fn statuses(mut self, statuses: &[StatusCode]) -> Self {
        self.statuses = statuses.to_vec();
        self
    }

    /// The retry budget shared by every clone (default
    /// [`RetryBudget::default`]); `None` removes it.
    #[must_use]
    pub fn budget(mut self, budget: Option<RetryBudget>) -> Self {
        self.budget = budget;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The backoff before retry number `retry` (1-based), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_delay)
    }

    fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let cap = self.backoff(retry);
        if self.jitter {
            let nanos = u64::try_from(cap.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(fastrand::u64(0..=nanos))
        } else {
            cap
        }
    }
}

/// Limits retries to a share of the requests sent, so retrying can never
/// multiply the load on a failing server (after tower's retry budget).
///
/// Each first attempt deposits `ratio` of a retry; each retry withdraws one.
/// A reserve of `min_retries` lets a quiet client retry at all. With the
/// default (ratio 0.2, reserve 10), 1,000 requests to a dead server cause at
/// most 210 retries, not 2,000.
#[derive(Debug, Clone)]
pub struct RetryBudget {
    ratio: f64,
    reserve: u32,
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget {
            ratio: 0.2,
            reserve: 10,
        }
    }
}

impl RetryBudget {
    /// At most `ratio` retries per request sent, plus a reserve of `min_retries`.
    pub fn new(ratio: f64, min_retries: u32) -> Self {
        RetryBudget {
            ratio: if ratio.is_finite() {
                ratio.clamp(0.0, 1000.0)
            } else {
                0.0
            },
            reserve: min_retries,
        }
    }
}

/// Balance in thousandths of a retry.
const UNIT: i64 = 1000;

/// A layer that sends a request again after a transient failure. Made with
/// [`FetcherExt::retry`](crate::FetcherExt::retry).
///
/// When the attempts run out on a retryable status, the result is an
/// [`ErrorKind::Status`] error with the code; every final error carries the
/// number of attempts made ([`Error::attempts`]).
#[derive(Clone, Debug)]
pub struct Retry<F> {
    inner: F,
    policy: Arc<RetryPolicy>,
    balance: Arc<AtomicI64>,
    deposit: i64,
    cap: i64,
}

impl<F> Retry<F> {
    /// Wraps `inner`.
    pub fn new(inner: F, policy: RetryPolicy) -> Self {
        let (reserve, deposit) = match &policy.budget {
            Some(b) => (i64::from(b.reserve) * UNIT, (b.ratio * UNIT as f64) as i64),
            None => (i64::MAX / 4, 0),
        };
        Retry {
            inner,
            policy: Arc::new(policy),
            balance: Arc::new(AtomicI64::new(reserve)),
            deposit,
            cap: reserve.saturating_add(1000 * UNIT),
        }
    }

    fn deposit(&self) {
        if self.deposit > 0 {
            let _ = self
                .balance
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| {
                    Some(b.saturating_add(self.deposit).min(self.cap))
                });
        }
    }

    fn withdraw(&self) -> bool {
        self.balance
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| {
                (b >= UNIT).then_some(b - UNIT)
            })
            .is_ok()
    }
}

enum Verdict {
    Done(Result<Response>),
    Again(Result<Response>, Option<Duration>, RetryReason),
}

impl<F: Fetcher> Retry<F> {
    fn judge(&self, out: Result<Response>, retryable_method: bool) -> Verdict {
        if !retryable_method {
            return Verdict::Done(out);
        }
        match &out {
            Ok(resp) if self.policy.statuses.contains(&resp.status()) => {
                let wait = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                let reason = RetryReason::Status(resp.status());
                Verdict::Again(out, wait, reason)
            }
            Err(e) if matches!(e.kind(), ErrorKind::Connect | ErrorKind::Timeout) => {
                let reason = RetryReason::Error(e.kind());
                Verdict::Again(out, None, reason)
            }
            _ => Verdict::Done(out),
        }
    }
}

fn finish(out: Result<Response>, attempts: u32) -> Result<Response> {
    match out {
        Ok(resp) => Ok(resp),
        Err(e) => Err(e.with_attempts(attempts)),
    }
}

fn exhausted(out: Result<Response>, attempts: u32) -> Result<Response> {
    match out {
        Ok(resp) => Err(Error::status_error(resp.status())
            .with_url(resp.url().clone())
            .with_attempts(attempts)),
        Err(e) => Err(e.with_attempts(attempts)),
    }
}

impl<F: Fetcher> Fetcher for Retry<F> {
    async fn fetch(&self, request: Request) -> Result<Response> {
        self.deposit();
        let retryable = self.policy.non_idempotent || request.is_idempotent();
        let timer = self.inner.timer();
        let mut attempt = 1;
        loop {
            let mut this_attempt = request.clone();
            this_attempt.set_attempt(attempt);
            let out = self.inner.fetch(this_attempt).await;
            match self.judge(out, retryable) {
                Verdict::Done(out) => return finish(out, attempt),
                Verdict::Again(out, _, _) if attempt >= self.policy.max_attempts => {
                    return exhausted(out, attempt);
                }
                Verdict::Again(out, retry_after, reason) => {
                    if !self.withdraw() {
                        return exhausted(out, attempt).map_err(|e| {
                            let msg = format!("{}; retry budget spent", e.message());
                            let mut next = Error::new(e.kind(), msg).with_attempts(attempt);
                            if let Some(s) = e.status() {
                                next = next.with_status(s);
                            }
                            if let Some(u) = e.url() {
                                next = next.with_url(u.clone());
                            }
                            next
                        });
                    }
                    drop(out);
                    let delay = self.policy.delay(attempt, retry_after);
                    if let Some(o) = self.inner.observer() {
                        o.retry_scheduled(attempt, delay, reason);
                    }
                    #[cfg(feature = "tracing")]
                    tracing::info!(
                        attempt,
                        delay_ms = delay.as_secs_f64() * 1e3,
                        reason = ?reason,
                        retry_after = retry_after.is_some(),
                        "retrying"
                    );
                    timer.sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    crate::layer::forward_timer_and_observer!();
}
