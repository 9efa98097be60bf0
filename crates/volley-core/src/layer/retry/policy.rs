//! [`RetryPolicy`]: when a request is sent again, and after how long.
//! The retry delay is computed here, in `RetryPolicy::delay`.

use std::time::Duration;

use http::StatusCode;

use super::budget::RetryBudget;

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
    pub(super) max_attempts: u32,
    base: Duration,
    max_delay: Duration,
    jitter: bool,
    pub(super) non_idempotent: bool,
    pub(super) statuses: Vec<StatusCode>,
    pub(super) budget: Option<RetryBudget>,
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

    /// The longest wait between attempts (see [`max_delay`](Self::max_delay)):
    /// pass it to [`host_cooldown`](crate::FetcherExt::host_cooldown) so a
    /// host's pause and the retry agree.
    pub fn delay_limit(&self) -> Duration {
        self.max_delay
    }

    /// The backoff before retry number `retry` (1-based), before jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32
            .checked_shl(retry.saturating_sub(1))
            .unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.max_delay)
    }

    /// The wait before retry number `retry`: the server's `Retry-After`
    /// (capped by the maximum delay) when it gave one, else the backoff with
    /// full jitter.
    pub(super) fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
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
