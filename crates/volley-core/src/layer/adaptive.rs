//! [`AdaptiveLimit`]: a concurrency limit that finds its own value.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use event_listener::Event;

use crate::error::{ErrorKind, Result};
use crate::fetcher::Fetcher;
use crate::layer::cooldown::{hold_while_paused, is_overload_status, is_paused};
use crate::layer::observe::report_permit_wait;
use crate::layer::waits::{Lane, record};
use crate::request::Request;
use crate::response::Response;

/// Bounds and tuning of an [`AdaptiveLimit`].
///
/// ```
/// use volley_core::Adaptive;
/// let adaptive = Adaptive::new().initial(10).min(1).max(500);
/// assert_eq!(adaptive.bounds(), (1, 10, 500));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adaptive {
    min: usize,
    initial: usize,
    max: usize,
    backoff: f64,
    latency_tolerance: f64,
}

impl Default for Adaptive {
    fn default() -> Self {
        Adaptive {
            min: 1,
            initial: 20,
            max: 1000,
            backoff: 0.9,
            latency_tolerance: 2.0,
        }
    }
}

impl Adaptive {
    /// Minimum 1, initial 20 (the usual guess), maximum 1,000.
    pub fn new() -> Self {
        Adaptive::default()
    }

    /// The limit never goes under this (at least 1).
    #[must_use]
    pub fn min(mut self, min: usize) -> Self {
        self.min = min.max(1);
        self
    }

    /// The limit to start from.
    #[must_use]
    pub fn initial(mut self, initial: usize) -> Self {
        self.initial = initial.max(1);
        self
    }

    /// The limit never goes over this.
    #[must_use]
    pub fn max(mut self, max: usize) -> Self {
        self.max = max.max(1);
        self
    }

    /// The factor the limit is multiplied by on overload (default 0.9,
    /// kept between 0.1 and 0.99).
    #[must_use]
    pub fn backoff(mut self, factor: f64) -> Self {
        self.backoff = if factor.is_finite() {
            factor.clamp(0.1, 0.99)
        } else {
            0.9
        };
        self
    }

    /// A response slower than this many times the fastest seen counts as
    /// overload (default 2.0; at least 1.1).
    #[must_use]
    pub fn latency_tolerance(mut self, factor: f64) -> Self {
        self.latency_tolerance = if factor.is_finite() {
            factor.max(1.1)
        } else {
            2.0
        };
        self
    }

    /// `(min, initial, max)`, with `initial` and `max` kept inside the bounds.
    pub fn bounds(&self) -> (usize, usize, usize) {
        let max = self.max.max(self.min);
        (self.min, self.initial.clamp(self.min, max), max)
    }
}

/// A layer that keeps at most *limit* requests in flight and moves the
/// limit with what it observes, so nobody has to guess `Semaphore(20)`.
/// Made with [`FetcherExt::adaptive_limit`](crate::FetcherExt::adaptive_limit).
///
/// It is AIMD with a slow start, watching both signals a server gives:
/// - while every response is good and its latency stays within
///   `latency_tolerance` of the fastest seen, the limit grows: by one per
///   response at first (doubling each round trip), by one per round trip
///   after the first overload;
/// - on overload (429 or 503, a timeout, a connection error, or latency
///   past the tolerance) it is cut: halved the first time, then multiplied
///   by `backoff`, at most once per round trip (only requests sent after
///   the last cut can cut again). A server that rejects at once is seen
///   as overloaded at once, not after thousands of fast rejections.
///
/// The current limit is [`current`](AdaptiveLimit::current); each change
/// goes to the observer ([`Observer::limit_changed`](crate::Observer::limit_changed)).
///
/// ```
/// use std::time::Duration;
/// use http::StatusCode;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
/// use volley_core::{Adaptive, Fetcher, FetcherExt, Request, gather};
///
/// let timer = ManualTimer::new();
/// let server = InMemoryFetcher::new(timer.clone()).latency(Duration::from_millis(200));
/// let client = server.clone().adaptive_limit(Adaptive::new().initial(4).max(64));
/// run(&timer, gather((0..1000).map(|_| client.fetch(Request::get("/x").build().unwrap())))).unwrap();
/// assert_eq!(client.current(), 64); // no overload: it grew to the maximum
/// assert_eq!(server.max_in_flight(), 64);
/// ```
#[derive(Clone)]
pub struct AdaptiveLimit<F> {
    inner: F,
    shared: Arc<Shared>,
}

impl<F> std::fmt::Debug for AdaptiveLimit<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.shared.lock();
        f.debug_struct("AdaptiveLimit")
            .field("limit", &s.limit)
            .field("in_flight", &s.in_flight)
            .finish()
    }
}

struct Shared {
    config: Adaptive,
    state: Mutex<State>,
    freed: Event,
}

struct State {
    limit: f64,
    in_flight: usize,
    min_rtt: Option<Duration>,
    last_cut: Option<Instant>,
    slow_start: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A slot in flight; gives itself back when dropped.
struct Slot<'a> {
    shared: &'a Shared,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let free = {
            let mut s = self.shared.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            (s.limit as usize).saturating_sub(s.in_flight)
        };
        if free > 0 {
            self.shared.freed.notify(free);
        }
    }
}

impl<F> AdaptiveLimit<F> {
    /// Wraps `inner`.
    pub fn new(inner: F, config: Adaptive) -> Self {
        let (_, initial, _) = config.bounds();
        AdaptiveLimit {
            inner,
            shared: Arc::new(Shared {
                config,
                state: Mutex::new(State {
                    limit: initial as f64,
                    in_flight: 0,
                    min_rtt: None,
                    last_cut: None,
                    slow_start: true,
                }),
                freed: Event::new(),
            }),
        }
    }

    /// The limit now.
    pub fn current(&self) -> usize {
        self.shared.lock().limit as usize
    }

    /// Requests in flight through this layer now.
    pub fn in_flight(&self) -> usize {
        self.shared.lock().in_flight
    }

    fn try_take(&self) -> Option<Slot<'_>> {
        let mut s = self.shared.lock();
        if s.in_flight < s.limit as usize {
            s.in_flight += 1;
            Some(Slot {
                shared: &self.shared,
            })
        } else {
            None
        }
    }

    async fn take(&self) -> Slot<'_> {
        loop {
            if let Some(slot) = self.try_take() {
                return slot;
            }
            let listener = self.shared.freed.listen();
            if let Some(slot) = self.try_take() {
                return slot;
            }
            listener.await;
        }
    }

    /// Moves the limit after a request sent at `sent` took `rtt`; returns
    /// the new limit when it changed.
    fn learn(&self, sent: Instant, now: Instant, rtt: Duration, overload: bool) -> Option<usize> {
        let cfg = &self.shared.config;
        let (min, _, max) = cfg.bounds();
        let mut s = self.shared.lock();
        let before = s.limit as usize;
        let slow = !overload
            && s.min_rtt
                .is_some_and(|m| rtt.as_secs_f64() > m.as_secs_f64() * cfg.latency_tolerance);
        if !overload && !slow {
            s.min_rtt = Some(s.min_rtt.map_or(rtt, |m| m.min(rtt)));
        }
        if overload || slow {
            if s.last_cut.is_none_or(|cut| sent >= cut) {
                let factor = if s.slow_start { 0.5 } else { cfg.backoff };
                s.limit = (s.limit * factor).max(min as f64);
                s.slow_start = false;
                s.last_cut = Some(now);
            }
        } else if s.slow_start {
            s.limit = (s.limit + 1.0).min(max as f64);
        } else {
            s.limit = (s.limit + 1.0 / s.limit).min(max as f64);
        }
        let after = s.limit as usize;
        let free = after.saturating_sub(s.in_flight);
        drop(s);
        if after > before && free > 0 {
            self.shared.freed.notify(free);
        }
        (after != before).then_some(after)
    }
}

fn is_overload(out: &Result<Response>) -> bool {
    match out {
        Ok(resp) => is_overload_status(resp.status()),
        Err(e) => matches!(e.kind(), ErrorKind::Timeout | ErrorKind::Connect),
    }
}

impl<F: Fetcher> Fetcher for AdaptiveLimit<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let timer = self.inner.timer();
        let slot = match self.try_take() {
            Some(slot) => slot,
            None => loop {
                let start = timer.now();
                let slot = self.take().await;
                let now = timer.now();
                report_permit_wait(self.inner.observer(), now - start);
                record(
                    &mut request,
                    self.inner.observer(),
                    Lane::Limit,
                    now - start,
                );
                if !is_paused(&request, now) {
                    break slot;
                }
                drop(slot);
                hold_while_paused(&mut request, &timer, self.inner.observer()).await?;
            },
        };
        let sent = timer.now();
        let out = self.inner.fetch(request).await;
        let now = timer.now();
        let changed = self.learn(sent, now, now - sent, is_overload(&out));
        drop(slot);
        if let Some(limit) = changed {
            if let Some(o) = self.inner.observer() {
                o.limit_changed(limit);
            }
            #[cfg(feature = "tracing")]
            tracing::debug!(limit, "adaptive limit changed");
        }
        out
    }

    crate::layer::forward_timer_and_observer!();
}
