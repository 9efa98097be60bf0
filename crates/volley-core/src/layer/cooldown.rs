//! [`HostCooldown`]: when a host says "slow down", every request to it waits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::StatusCode;

use crate::error::Result;
use crate::fetcher::Fetcher;
use crate::layer::deadline::wait_past_deadline;
use crate::layer::host::{Hosts, host_key};
use crate::layer::observe::SharedObserver;
use crate::layer::retry::retry_after_of;
use crate::layer::waits::{Lane, record};
use crate::request::Request;
use crate::response::Response;
use crate::rt::SharedTimer;

/// True for the statuses that mean the server is overloaded (429 and 503):
/// what the [`HostCooldown`] pauses a host for and what the
/// [`AdaptiveLimit`](crate::layer::AdaptiveLimit) shrinks on.
pub(crate) fn is_overload_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    )
}

/// The pause a response asks its host for: a 429 or 503 with a readable
/// `Retry-After` (seconds, or a date measured from now). The one rule of
/// what pauses a host, for [`HostCooldown`] and for layers that share the
/// pause elsewhere (volley-redis).
///
/// ```
/// use http::StatusCode;
/// use std::time::Duration;
/// use volley_core::{Response, layer::pause_asked};
/// let mut headers = http::HeaderMap::new();
/// headers.insert(http::header::RETRY_AFTER, "2".parse().unwrap());
/// let busy = Response::new(StatusCode::TOO_MANY_REQUESTS, "/".parse().unwrap(), "").with_headers(headers);
/// assert_eq!(pause_asked(&busy), Some(Duration::from_secs(2)));
/// let ok = Response::new(StatusCode::OK, "/".parse().unwrap(), "");
/// assert_eq!(pause_asked(&ok), None);
/// ```
pub fn pause_asked(response: &Response) -> Option<Duration> {
    if is_overload_status(response.status()) {
        retry_after_of(response)
    } else {
        None
    }
}

/// The latest instant after `now` the clock can tell: a pause that long
/// never ends for the program.
fn far_future(now: Instant) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    now.checked_add(YEAR * 100)
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

#[derive(Debug)]
struct Shared {
    max: Duration,
    paused: Mutex<Hosts<Instant>>,
}

impl Shared {
    fn paused_until(&self, host: &str, now: Instant) -> Option<Instant> {
        let paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        paused.get(host).copied().filter(|until| *until > now)
    }

    /// Pauses `host` until `until`, unless it already is until later.
    fn pause(&self, host: &str, until: Instant, now: Instant) {
        let mut paused = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        let at = paused.entry(host.to_owned(), |u| *u > now, || until);
        *at = (*at).max(until);
    }
}

/// A request's way to its host's cool-down, carried in its extensions so
/// the layers inside that make it wait (limits, rates) look again before
/// they let it go.
#[derive(Debug, Clone)]
pub(crate) struct Gate {
    shared: Arc<Shared>,
    host: Arc<str>,
}

/// Holds `request` while its host is cooling down (if a [`HostCooldown`]
/// outside gave it a gate), adding the time to its waits. Fails at once
/// with a `Timeout` when the pause ends after the request's deadline.
pub(crate) async fn hold_while_paused(
    request: &mut Request,
    timer: &SharedTimer,
    observer: Option<&SharedObserver>,
) -> Result<()> {
    let Some(gate) = request.extensions().get::<Gate>().cloned() else {
        return Ok(());
    };
    loop {
        let now = timer.now();
        let Some(until) = gate.shared.paused_until(&gate.host, now) else {
            return Ok(());
        };
        let wait = until - now;
        if let Some(e) = wait_past_deadline(request, now, wait, "the host's cool-down") {
            return Err(e);
        }
        #[cfg(feature = "tracing")]
        tracing::debug!(
            host = &*gate.host,
            wait_ms = wait.as_secs_f64() * 1e3,
            "held by the host's cool-down"
        );
        timer.sleep_until(until).await;
        record(
            request,
            observer,
            Lane::Cooldown,
            timer.now().saturating_duration_since(now),
        );
    }
}

/// True when `request`'s host is cooling down now.
pub(crate) fn is_paused(request: &Request, now: Instant) -> bool {
    request
        .extensions()
        .get::<Gate>()
        .is_some_and(|g| g.shared.paused_until(&g.host, now).is_some())
}

/// A layer that pauses every request to a host, not yet sent, when the host
/// answers 429 or 503 with a `Retry-After` (seconds or a date, capped by
/// `max`); requests to other hosts go on. Shared by every clone. Made with
/// [`FetcherExt::host_cooldown`](crate::FetcherExt::host_cooldown).
///
/// Write it after (outside) the limits and rates, and before (inside) the
/// retry, so a request held by the pause holds no permit, and a retry goes
/// through the pause again:
/// `client.observe(o).limit(20).host_cooldown(max).retry(policy)`. The
/// limit and rate layers inside look at the pause again after a request
/// waited for them, so none slips out while the host is paused. A pause
/// that would end after the request's deadline (a
/// [`Timeout`](crate::layer::Timeout) or [`Deadline`](crate::layer::Deadline)
/// written outside) fails the request at once with
/// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout), which the retry
/// layer does not send again. A per-attempt `.timeout(d)` written between
/// the cool-down and the retry is such a deadline too: a pause longer than
/// `d` then fails the request at once, so write the timeout inside the
/// cool-down (before it) when requests should wait pauses out.
///
/// ```
/// use std::time::Duration;
/// use http::StatusCode;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
/// use volley_core::{Fetcher, FetcherExt, Request};
///
/// let timer = ManualTimer::new();
/// let server = InMemoryFetcher::new(timer.clone()).script(|req, n| match (req.url().host(), n) {
///     (Some("a.test"), 1) => Reply::status(StatusCode::TOO_MANY_REQUESTS, "").header("retry-after", "2"),
///     _ => Reply::status(StatusCode::OK, ""),
/// });
/// let client = server.host_cooldown(Duration::from_secs(10));
/// run(&timer, async {
///     let get = |url: &str| client.fetch(Request::get(url).build().unwrap());
///     assert_eq!(get("http://a.test/").await?.status(), 429);
///     get("http://b.test/").await?; // another host: at once
///     assert_eq!(timer.elapsed(), Duration::ZERO);
///     get("http://a.test/").await?; // waits out the pause
///     assert_eq!(timer.elapsed(), Duration::from_secs(2));
///     Ok::<_, volley_core::Error>(())
/// }).unwrap()?;
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct HostCooldown<F> {
    inner: F,
    shared: Arc<Shared>,
}

impl<F> HostCooldown<F> {
    /// Wraps `inner`; no pause lasts longer than `max` (use the retry
    /// policy's maximum delay, so the pause and the retry agree).
    pub fn new(inner: F, max: Duration) -> Self {
        HostCooldown {
            inner,
            shared: Arc::new(Shared {
                max,
                paused: Mutex::default(),
            }),
        }
    }

    /// How long requests to the host of `url` are still held.
    pub fn remaining(&self, url: &http::Uri, now: Instant) -> Duration {
        self.shared
            .paused_until(&host_key(url), now)
            .map_or(Duration::ZERO, |until| until - now)
    }
}

impl<F: Fetcher> Fetcher for HostCooldown<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let gate = Gate {
            shared: self.shared.clone(),
            host: host_key(request.url()).into(),
        };
        request.extensions_mut().insert(gate.clone());
        let timer = self.inner.timer();
        hold_while_paused(&mut request, &timer, self.inner.observer()).await?;
        let out = self.inner.fetch(request).await;
        if let Ok(resp) = &out {
            if let Some(wait) = pause_asked(resp) {
                let wait = wait.min(self.shared.max);
                let now = timer.now();
                // A pause too long for the clock is as long as it holds.
                let until = now.checked_add(wait).unwrap_or_else(|| far_future(now));
                self.shared.pause(&gate.host, until, now);
                if let Some(o) = self.inner.observer() {
                    o.host_paused(&gate.host, wait);
                }
                #[cfg(feature = "tracing")]
                tracing::info!(
                    host = &*gate.host,
                    status = resp.status().as_u16(),
                    pause_ms = wait.as_secs_f64() * 1e3,
                    "host paused"
                );
            }
        }
        out
    }

    crate::layer::forward_timer_and_observer!();
}
