//! [`RateLimit`]: at most R requests per second, with a burst (GCRA).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::fetcher::Fetcher;
use crate::layer::cooldown::{hold_while_paused, is_paused};
use crate::layer::deadline::wait_past_deadline;
use crate::layer::waits::{Lane, record};
use crate::request::Request;
use crate::response::Response;

/// A request rate: `per_second(10.0)` with an optional `burst`.
///
/// ```
/// use std::time::Duration;
/// use volley_core::Rate;
/// let rate = Rate::per_second(50.0).burst(10);
/// assert_eq!(rate.interval(), Duration::from_millis(20));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    interval: Duration,
    burst: u32,
}

impl Rate {
    /// `n` requests per second, evenly spaced (a burst of 1). A rate that is
    /// not a positive finite number is treated as one per hour.
    pub fn per_second(n: f64) -> Self {
        let interval = if n.is_finite() && n > 0.0 {
            Duration::from_secs_f64(1.0 / n)
        } else {
            Duration::from_secs(3600)
        };
        Rate { interval, burst: 1 }
    }

    /// Lets up to `burst` requests go at once after a quiet spell (at least 1).
    #[must_use]
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }

    /// The spacing between requests at the steady rate.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// How many requests may go at once after a quiet spell (see [`burst`](Rate::burst)).
    ///
    /// ```
    /// use volley_core::Rate;
    /// assert_eq!(Rate::per_second(50.0).burst_size(), 1);
    /// assert_eq!(Rate::per_second(50.0).burst(10).burst_size(), 10);
    /// ```
    pub fn burst_size(&self) -> u32 {
        self.burst
    }
}

/// The state of one GCRA: the theoretical arrival time of the next request.
#[derive(Debug, Default)]
pub(crate) struct Gcra {
    tat: Option<Instant>,
}

impl Gcra {
    /// Reserves the next slot of `rate` at `now`; returns when it may go.
    pub(crate) fn reserve(&mut self, rate: &Rate, now: Instant) -> Instant {
        let tolerance = rate.interval.saturating_mul(rate.burst - 1);
        let theoretical = self.tat.map_or(now, |t| t.max(now));
        let allowed_at = theoretical
            .checked_sub(tolerance)
            .map_or(now, |t| t.max(now));
        self.tat = Some(theoretical + rate.interval);
        allowed_at
    }

    /// True when the state says nothing any more: its next slot is past.
    pub(crate) fn is_idle(&self, now: Instant) -> bool {
        self.tat.is_none_or(|t| t <= now)
    }
}

/// Waits for the slot `reserve` gives, then, if the request's host began
/// cooling down meanwhile, for the pause and a new slot; adds the waits to
/// the request's. Shared by [`RateLimit`] and
/// [`PerHostRate`](crate::layer::PerHostRate).
pub(crate) async fn wait_for_slot<F: Fetcher>(
    inner: &F,
    request: &mut Request,
    mut reserve: impl FnMut(Instant) -> Instant,
) -> Result<()> {
    let timer = inner.timer();
    loop {
        let now = timer.now();
        let at = reserve(now);
        if at <= now {
            return Ok(());
        }
        let wait = at - now;
        if let Some(e) = wait_past_deadline(request, now, wait, "the rate limit") {
            return Err(e);
        }
        if let Some(o) = inner.observer() {
            o.rate_limit_waited(wait);
        }
        #[cfg(feature = "tracing")]
        tracing::debug!(
            wait_ms = wait.as_secs_f64() * 1e3,
            "waiting for a rate-limit slot"
        );
        timer.sleep(wait).await;
        record(request, inner.observer(), Lane::Rate, wait);
        if !is_paused(request, timer.now()) {
            return Ok(());
        }
        hold_while_paused(request, &timer, inner.observer()).await?;
    }
}

/// A layer that spaces requests to a [`Rate`], shared by every clone, using
/// the generic cell rate algorithm (as the `governor` crate does). Made with
/// [`FetcherExt::rate_limit`](crate::FetcherExt::rate_limit).
///
/// Each request reserves the next free slot and sleeps until it comes, so
/// waiters go in arrival order and nobody polls.
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
/// use volley_core::{Fetcher, FetcherExt, Rate, Request, gather};
/// let timer = ManualTimer::new();
/// let client = InMemoryFetcher::new(timer.clone()).rate_limit(Rate::per_second(10.0));
/// run(&timer, gather((0..11).map(|_| client.fetch(Request::get("/x").build().unwrap())))).unwrap();
/// assert_eq!(timer.elapsed(), Duration::from_secs(1)); // 11 requests: 10 gaps of 100 ms
/// ```
#[derive(Clone, Debug)]
pub struct RateLimit<F> {
    inner: F,
    rate: Rate,
    gcra: Arc<Mutex<Gcra>>,
}

impl<F> RateLimit<F> {
    /// Wraps `inner`.
    pub fn new(inner: F, rate: Rate) -> Self {
        RateLimit {
            inner,
            rate,
            gcra: Arc::default(),
        }
    }

    /// The rate.
    pub fn rate(&self) -> Rate {
        self.rate
    }
}

impl<F: Fetcher> Fetcher for RateLimit<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        wait_for_slot(&self.inner, &mut request, |now| {
            let mut gcra = self.gcra.lock().unwrap_or_else(|p| p.into_inner());
            gcra.reserve(&self.rate, now)
        })
        .await?;
        self.inner.fetch(request).await
    }

    crate::layer::forward_timer_and_observer!();
}
