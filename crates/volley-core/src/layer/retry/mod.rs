//! [`Retry`]: send again after transient failures, with backoff and a budget.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime};

use http::header::RETRY_AFTER;

use crate::error::{Error, ErrorKind, Result};
use crate::fetcher::Fetcher;
use crate::layer::deadline::{is_past_deadline, wait_past_deadline};
use crate::layer::observe::RetryReason;
use crate::layer::waits::{Lane, log_of, record, wanted};
use crate::request::Request;
use crate::response::Response;

mod budget;
mod policy;
mod retry_after;

pub use budget::RetryBudget;
pub use policy::RetryPolicy;
pub use retry_after::parse_retry_after;

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
                let wait = retry_after_of(resp);
                let reason = RetryReason::Status(resp.status());
                Verdict::Again(out, wait, reason)
            }
            // A wait that would have crossed the deadline is no shorter the
            // next time: not retried.
            Err(e)
                if matches!(e.kind(), ErrorKind::Connect | ErrorKind::Timeout)
                    && !is_past_deadline(e) =>
            {
                let reason = RetryReason::Error(e.kind());
                Verdict::Again(out, None, reason)
            }
            _ => Verdict::Done(out),
        }
    }
}

/// The wait a response's `Retry-After` asks for, if it has a readable one.
pub(crate) fn retry_after_of(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()))
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
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        self.deposit();
        let retryable = self.policy.non_idempotent || request.is_idempotent();
        let timer = self.inner.timer();
        // Every attempt is a clone: they share one log when it exists first.
        if wanted(self.inner.observer()) {
            log_of(&mut request);
        }
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
                    // Checked before the budget is drawn on: a retry that
                    // cannot happen costs nothing.
                    let delay = self.policy.delay(attempt, retry_after);
                    let why = if retry_after.is_some() {
                        "the server's Retry-After"
                    } else {
                        "the retry backoff"
                    };
                    if let Some(e) = wait_past_deadline(&request, timer.now(), delay, why) {
                        let e = match out {
                            Ok(resp) => e.with_status(resp.status()),
                            Err(_) => e,
                        };
                        return Err(e.with_attempts(attempt));
                    }
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
                    let start = timer.now();
                    timer.sleep(delay).await;
                    let slept = timer.now().saturating_duration_since(start);
                    record(&mut request, self.inner.observer(), Lane::Backoff, slept);
                    attempt += 1;
                }
            }
        }
    }

    crate::layer::forward_timer_and_observer!();
}
