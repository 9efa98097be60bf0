//! [`FetcherExt`]: layers, added in the order they are written.

use crate::error::Result;
use crate::fetcher::{BoxFetcher, Fetcher};
use crate::layer::adaptive::{Adaptive, AdaptiveLimit};
use crate::layer::cooldown::HostCooldown;
use crate::layer::deadline::Deadline;
use crate::layer::host::PerHost;
use crate::layer::limit::Limit;
use crate::layer::observe::{Observe, Observer};
use crate::layer::per_host::PerHostLimit;
use crate::layer::per_host_rate::PerHostRate;
use crate::layer::rate_limit::{Rate, RateLimit};
use crate::layer::retry::{Retry, RetryPolicy};
use crate::layer::timeout::Timeout;
use crate::request::Request;
use crate::response::Response;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::{Duration, Instant};

/// Layers for any [`Fetcher`]. Each call wraps everything written before
/// it, so a request passes through the layers from the last written to the
/// first, then reaches the fetcher:
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer};
/// use volley_core::{FetcherExt, Rate, RetryPolicy};
/// let client = InMemoryFetcher::new(ManualTimer::new())
///     .limit(20)                          // 4. at most 20 on the wire
///     .timeout(Duration::from_secs(5))    // 3. each attempt gets 5 s
///     .retry(RetryPolicy::default())      // 2. transient failures are retried
///     .rate_limit(Rate::per_second(50.0)); // 1. first, wait for a slot in the rate
/// ```
///
/// This order holds a permit only while a request is on the wire (not while
/// it backs off) and gives each attempt its own timeout; write them in
/// another order to get other semantics (a `timeout` written last bounds
/// all attempts together).
pub trait FetcherExt: Fetcher + Sized {
    /// `GET url`, the whole response (any status).
    ///
    /// A shorthand for `fetch(Request::get(url).build()?)`.
    fn get(&self, url: impl AsRef<str>) -> impl Future<Output = Result<Response>> + Send + '_ {
        let request = Request::get(url).build();
        async move { self.fetch(request?).await }
    }

    /// `GET url`, a 2xx status required, the body decoded as JSON: the
    /// `await (await session.get(url)).json()` of aiohttp, with every failure
    /// a typed [`Error`](crate::Error).
    ///
    /// ```
    /// use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
    /// use volley_core::FetcherExt;
    /// let timer = ManualTimer::new();
    /// let client = InMemoryFetcher::new(timer.clone());
    /// let user: serde_json::Value = run(&timer, client.get_json("/users/7")).unwrap()?;
    /// assert_eq!(user["id"], 7);
    /// # Ok::<(), volley_core::Error>(())
    /// ```
    fn get_json<T: DeserializeOwned>(
        &self,
        url: impl AsRef<str>,
    ) -> impl Future<Output = Result<T>> + Send + '_ {
        let request = Request::get(url).build();
        async move { self.fetch(request?).await?.error_for_status()?.json() }
    }

    /// At most `max` requests in flight at once through this fetcher and its
    /// clones (see [`Limit`]).
    fn limit(self, max: usize) -> Limit<Self> {
        Limit::new(self, max)
    }

    /// A concurrency limit that finds its own value between bounds, from
    /// the latency and the rejections it sees (see [`AdaptiveLimit`]).
    fn adaptive_limit(self, config: Adaptive) -> AdaptiveLimit<Self> {
        AdaptiveLimit::new(self, config)
    }

    /// At most `max` requests in flight to each host: a number for every
    /// host, or a [`PerHost`] with overrides (see [`PerHostLimit`]).
    fn limit_per_host(self, max: impl Into<PerHost<usize>>) -> PerHostLimit<Self> {
        PerHostLimit::new(self, max)
    }

    /// Spaces the requests to each host to its rate: one [`Rate`] for every
    /// host, or a [`PerHost`] with overrides (see [`PerHostRate`]).
    fn rate_limit_per_host(self, rates: impl Into<PerHost<Rate>>) -> PerHostRate<Self> {
        PerHostRate::new(self, rates)
    }

    /// Holds every request to a host that answered 429 or 503 with a
    /// `Retry-After`, for that long (at most `max`), while other hosts go on
    /// (see [`HostCooldown`]). Write it outside the limits and inside the
    /// retry.
    fn host_cooldown(self, max: Duration) -> HostCooldown<Self> {
        HostCooldown::new(self, max)
    }

    /// Sends again after transient failures (see [`Retry`] and [`RetryPolicy`]).
    fn retry(self, policy: RetryPolicy) -> Retry<Self> {
        Retry::new(self, policy)
    }

    /// Spaces requests to `rate`, shared by every clone (see [`RateLimit`]).
    fn rate_limit(self, rate: Rate) -> RateLimit<Self> {
        RateLimit::new(self, rate)
    }

    /// Ends every request at `at`, a deadline for a whole batch (see [`Deadline`]).
    fn deadline(self, at: Instant) -> Deadline<Self> {
        Deadline::new(self, at)
    }

    /// Gives every request at most `duration`, on the fetcher's own timer
    /// (see [`Timeout`]).
    fn timeout(self, duration: Duration) -> Timeout<Self> {
        Timeout::new(self, duration)
    }

    /// Reports every attempt, and the events of the layers written after
    /// this one, to `observer` (see [`Observe`]); with the `tracing`
    /// feature, also opens a span per attempt. Write it first, right on the
    /// client.
    fn observe(self, observer: impl Observer) -> Observe<Self> {
        Observe::new(self, observer)
    }

    /// Erases the type, for `dyn` use (see [`BoxFetcher`]).
    fn boxed(self) -> BoxFetcher {
        BoxFetcher::new(self)
    }
}

impl<F: Fetcher> FetcherExt for F {}
