//! Watching what happens: the [`Observer`] hook and the [`Observe`] layer.

use async_lock::{Semaphore, SemaphoreGuardArc};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::{Method, StatusCode, Uri};

use crate::error::{ErrorKind, Result};
use crate::fetcher::Fetcher;
use crate::layer::cooldown::{hold_while_paused, is_paused};
use crate::layer::waits::{Lane, WaitLog, Waits, log_of, record, wanted};
use crate::request::Request;
use crate::response::Response;
use crate::rt::SharedTimer;

/// How one attempt at a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response arrived (any status).
    Response(StatusCode),
    /// The attempt failed with an error of this kind.
    Error(ErrorKind),
    /// The attempt was dropped before it finished (a timeout outside it, a
    /// fail-fast group, or the caller gave up).
    Dropped,
}

impl Outcome {
    /// True for a response with a 2xx or 3xx status.
    pub fn is_success(&self) -> bool {
        matches!(self, Outcome::Response(s) if !s.is_client_error() && !s.is_server_error())
    }
}

/// One attempt at a request that has ended, as reported to
/// [`Observer::request_finished`].
#[derive(Debug, Clone)]
pub struct Finished<'a> {
    /// The method.
    pub method: &'a Method,
    /// The URL as the layer saw it (a path if the base URL is applied later).
    pub url: &'a Uri,
    /// Which attempt this was, from 1.
    pub attempt: u32,
    /// When it started, on the fetcher's timer.
    pub started: Instant,
    /// How long it took.
    pub elapsed: Duration,
    /// How it ended.
    pub outcome: Outcome,
    /// Where the request's time went up to the end of this attempt (sums
    /// over its attempts so far, this one's time on the wire included).
    pub waits: Waits,
}

/// Why a request is being sent again, as reported to [`Observer::retry_scheduled`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryReason {
    /// The server answered with this retryable status.
    Status(StatusCode),
    /// The attempt failed with this kind of error.
    Error(ErrorKind),
}

/// Receives what the layers see: requests starting and finishing, waits for
/// a permit or a rate-limit slot, retries, and changes of an adaptive limit.
///
/// Every method has an empty default; implement the ones you need. Install
/// it with [`FetcherExt::observe`](crate::FetcherExt::observe) right on the
/// client, before the other layers, so they can find it: layers written
/// after `.observe(..)` report to it. Methods are called on the request's
/// path: keep them quick (count, push to a channel), never block.
///
/// ```
/// use std::sync::atomic::{AtomicU64, Ordering};
/// use std::sync::Arc;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
/// use volley_core::{Fetcher, FetcherExt, Finished, Observer, Request, gather};
///
/// #[derive(Default)]
/// struct Count(AtomicU64);
/// impl Observer for Count {
///     fn request_finished(&self, _: &Finished<'_>) {
///         self.0.fetch_add(1, Ordering::Relaxed);
///     }
/// }
///
/// let timer = ManualTimer::new();
/// let count = Arc::new(Count::default());
/// let client = InMemoryFetcher::new(timer.clone()).observe(count.clone()).limit(4);
/// run(&timer, gather((0..10).map(|_| client.fetch(Request::get("/x").build().unwrap())))).unwrap();
/// assert_eq!(count.0.load(Ordering::Relaxed), 10);
/// ```
pub trait Observer: Send + Sync + 'static {
    /// An attempt at a request is about to be sent.
    fn request_started(&self, request: &Request) {
        let _ = request;
    }

    /// An attempt at a request ended.
    fn request_finished(&self, finished: &Finished<'_>) {
        let _ = finished;
    }

    /// A request waited this long for a concurrency permit.
    fn permit_waited(&self, waited: Duration) {
        let _ = waited;
    }

    /// A request waited this long for its rate-limit slot.
    fn rate_limit_waited(&self, waited: Duration) {
        let _ = waited;
    }

    /// Attempt `attempt` failed for `reason`; the next starts after `delay`.
    fn retry_scheduled(&self, attempt: u32, delay: Duration, reason: RetryReason) {
        let _ = (attempt, delay, reason);
    }

    /// An adaptive limit moved to `limit`.
    fn limit_changed(&self, limit: usize) {
        let _ = limit;
    }

    /// `host` (scheme, host and port) answered "slow down" with a
    /// `Retry-After`: requests to it not yet sent are held for `pause`.
    fn host_paused(&self, host: &str, pause: Duration) {
        let _ = (host, pause);
    }

    /// A layer that keeps its state in a shared backend (a quota kept in
    /// Redis, say) lost it and switched to its fallback (`degraded` true),
    /// or reached it again (`degraded` false). `backend` names the layer.
    fn backend_changed(&self, backend: &str, degraded: bool) {
        let _ = (backend, degraded);
    }
}

/// An observer shared by every layer and clone.
pub type SharedObserver = Arc<dyn Observer>;

impl<O: Observer + ?Sized> Observer for Arc<O> {
    fn request_started(&self, request: &Request) {
        (**self).request_started(request)
    }
    fn request_finished(&self, finished: &Finished<'_>) {
        (**self).request_finished(finished)
    }
    fn permit_waited(&self, waited: Duration) {
        (**self).permit_waited(waited)
    }
    fn rate_limit_waited(&self, waited: Duration) {
        (**self).rate_limit_waited(waited)
    }
    fn retry_scheduled(&self, attempt: u32, delay: Duration, reason: RetryReason) {
        (**self).retry_scheduled(attempt, delay, reason)
    }
    fn limit_changed(&self, limit: usize) {
        (**self).limit_changed(limit)
    }
    fn host_paused(&self, host: &str, pause: Duration) {
        (**self).host_paused(host, pause)
    }
    fn backend_changed(&self, backend: &str, degraded: bool) {
        (**self).backend_changed(backend, degraded)
    }
}

/// The observer that ignores everything: `.observe(NoObserver)` gives the
/// per-request tracing span alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

/// A layer that reports each attempt to an [`Observer`] and makes the
/// observer known to the layers written after it. With the `tracing`
/// feature it also opens a `volley.request` span per attempt with the
/// method, host, path (never the query), attempt, status and elapsed time.
/// Made with [`FetcherExt::observe`](crate::FetcherExt::observe).
#[derive(Clone)]
pub struct Observe<F> {
    inner: F,
    observer: SharedObserver,
}

impl<F> std::fmt::Debug for Observe<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Observe")
    }
}

impl<F> Observe<F> {
    /// Wraps `inner`, reporting to `observer`.
    pub fn new(inner: F, observer: impl Observer) -> Self {
        Observe {
            inner,
            observer: Arc::new(observer),
        }
    }
}

/// Reports `Dropped` if the attempt is dropped before it ends.
struct Attempt<'a> {
    observer: &'a dyn Observer,
    method: &'a Method,
    url: &'a Uri,
    attempt: u32,
    started: Instant,
    timer: &'a SharedTimer,
    log: Option<Arc<WaitLog>>,
    outcome: Option<Outcome>,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or(Outcome::Dropped);
        let elapsed = self.timer.now().saturating_duration_since(self.started);
        let waits = self.log.as_ref().map_or_else(Waits::default, |log| {
            log.add(Lane::Wire, elapsed);
            log.snapshot()
        });
        #[cfg(feature = "tracing")]
        {
            let span = tracing::Span::current();
            span.record("elapsed_ms", elapsed.as_secs_f64() * 1e3);
            let ms = |d: Duration| d.as_secs_f64() * 1e3;
            span.record("wait_limit_ms", ms(waits.limit));
            span.record("wait_host_limit_ms", ms(waits.host_limit));
            span.record("wait_rate_ms", ms(waits.rate));
            span.record("wait_cooldown_ms", ms(waits.cooldown));
            span.record("wait_backoff_ms", ms(waits.backoff));
            span.record("wire_ms", ms(waits.wire));
            match outcome {
                Outcome::Response(status) => {
                    span.record("status", status.as_u16());
                }
                Outcome::Error(kind) => {
                    span.record("error", kind.as_str());
                }
                Outcome::Dropped => {
                    span.record("error", "dropped");
                }
            }
        }
        self.observer.request_finished(&Finished {
            method: self.method,
            url: self.url,
            attempt: self.attempt,
            started: self.started,
            elapsed,
            outcome,
            waits,
        });
    }
}

impl<F: Fetcher> Observe<F> {
    async fn run(&self, mut request: Request) -> Result<Response> {
        let timer = self.inner.timer();
        let log = wanted(Some(&self.observer)).then(|| log_of(&mut request));
        let method = request.method().clone();
        let url = request.url().clone();
        self.observer.request_started(&request);
        let mut attempt = Attempt {
            observer: &*self.observer,
            method: &method,
            url: &url,
            attempt: request.attempt(),
            started: timer.now(),
            timer: &timer,
            log,
            outcome: None,
        };
        let out = self.inner.fetch(request).await;
        attempt.outcome = Some(match &out {
            Ok(resp) => Outcome::Response(resp.status()),
            Err(e) => Outcome::Error(e.kind()),
        });
        drop(attempt);
        out
    }
}

impl<F: Fetcher> Fetcher for Observe<F> {
    // Not `async fn`: the request is kept once, in `run`'s future, not a
    // second time in a wrapper (a batch handed over at once holds one such
    // future per request).
    #[cfg(not(feature = "tracing"))]
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        self.run(request)
    }

    #[cfg(feature = "tracing")]
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        use tracing::Instrument;
        let span = tracing::info_span!(
            "volley.request",
            method = %request.method(),
            host = request.url().host().unwrap_or(""),
            path = request.url().path(),
            attempt = request.attempt(),
            status = tracing::field::Empty,
            error = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
            wait_limit_ms = tracing::field::Empty,
            wait_host_limit_ms = tracing::field::Empty,
            wait_rate_ms = tracing::field::Empty,
            wait_cooldown_ms = tracing::field::Empty,
            wait_backoff_ms = tracing::field::Empty,
            wire_ms = tracing::field::Empty,
        );
        self.run(request).instrument(span)
    }

    fn timer(&self) -> SharedTimer {
        self.inner.timer()
    }

    fn observer(&self) -> Option<&SharedObserver> {
        Some(&self.observer)
    }
}

/// Permit waits shorter than this are not traced (they are still reported
/// to an observer).
#[cfg(feature = "tracing")]
pub(crate) const PERMIT_WAIT_TRACE_THRESHOLD: Duration = Duration::from_millis(10);

/// A permit of `semaphore`: at once when one is free, else waited for, the
/// wait timed on `inner`'s timer, reported to its observer
/// ([`report_permit_wait`]) and added to the request's `lane`. A request
/// whose host began cooling down while it waited gives the permit back
/// until the pause is over. The [`Limit`](crate::layer::Limit) and
/// [`PerHostLimit`](crate::layer::PerHostLimit) layers take theirs here.
pub(crate) async fn acquire_reported<F: Fetcher>(
    semaphore: &Arc<Semaphore>,
    inner: &F,
    request: &mut Request,
    lane: Lane,
) -> Result<SemaphoreGuardArc> {
    if let Some(permit) = semaphore.try_acquire_arc() {
        return Ok(permit);
    }
    let timer = inner.timer();
    loop {
        let start = timer.now();
        let permit = semaphore.acquire_arc().await;
        let now = timer.now();
        report_permit_wait(inner.observer(), now - start);
        record(request, inner.observer(), lane, now - start);
        if !is_paused(request, now) {
            return Ok(permit);
        }
        drop(permit);
        hold_while_paused(request, &timer, inner.observer()).await?;
    }
}

/// Reports a permit wait to the observer, and traces it when long.
pub(crate) fn report_permit_wait(observer: Option<&SharedObserver>, waited: Duration) {
    if let Some(o) = observer {
        o.permit_waited(waited);
    }
    #[cfg(feature = "tracing")]
    if waited >= PERMIT_WAIT_TRACE_THRESHOLD {
        tracing::debug!(
            waited_ms = waited.as_secs_f64() * 1e3,
            "waited for a permit"
        );
    }
}
