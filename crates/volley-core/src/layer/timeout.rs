//! Per-request timeouts: [`with_timeout`] and the [`Timeout`] layer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::fetcher::Fetcher;
use crate::layer::deadline::set_deadline;
use crate::request::Request;
use crate::response::Response;
use crate::rt::{Sleep, Timer};

/// Runs `future` for at most `limit` on `timer`; when time runs out the
/// future is dropped (its connection closed, never reused half-read) and an
/// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) error comes back.
/// `None` means no limit.
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{ManualTimer, run};
/// use volley_core::{ErrorKind, layer::with_timeout};
/// let timer = ManualTimer::new();
/// let out = run(&timer, with_timeout(&timer, Some(Duration::from_secs(2)),
///     std::future::pending::<volley_core::Result<()>>())).unwrap();
/// assert_eq!(out.unwrap_err().kind(), ErrorKind::Timeout);
/// assert_eq!(timer.elapsed(), Duration::from_secs(2));
/// ```
pub fn with_timeout<F>(timer: &dyn Timer, limit: Option<Duration>, future: F) -> WithTimeout<F> {
    WithTimeout {
        future,
        sleep: limit.map(|limit| timer.sleep(limit)),
        limit: limit.unwrap_or_default(),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`with_timeout`]: the future it was given, or an
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) error once the
    /// time runs out. The clock starts when it is made.
    #[must_use = "futures do nothing unless you .await or poll them"]
    pub struct WithTimeout<F> {
        #[pin]
        future: F,
        sleep: Option<Sleep>,
        limit: Duration,
    }
}

impl<T, F> Future for WithTimeout<F>
where
    F: Future<Output = Result<T>>,
{
    type Output = Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T>> {
        let this = self.project();
        if let Poll::Ready(out) = this.future.poll(cx) {
            return Poll::Ready(out);
        }
        let Some(sleep) = this.sleep else {
            return Poll::Pending;
        };
        if sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        #[cfg(feature = "tracing")]
        tracing::warn!(timeout_ms = this.limit.as_secs_f64() * 1e3, "timed out");
        Poll::Ready(Err(Error::timeout(*this.limit)))
    }
}

/// Fetches `request` through `inner` for at most `limit`; the error names
/// the request's URL when the fetcher did not. Shared by [`Timeout`] and
/// [`Deadline`](crate::layer::Deadline).
pub(crate) async fn fetch_within<F: Fetcher>(
    inner: &F,
    timer: &dyn Timer,
    limit: Duration,
    request: Request,
) -> Result<Response> {
    let url = request.url().clone();
    with_timeout(timer, Some(limit), inner.fetch(request))
        .await
        .map_err(|e| e.or_url(url))
}

/// A layer that gives every request at most `duration` (a request's own
/// [`Request::timeout`] wins). Made with
/// [`FetcherExt::timeout`](crate::FetcherExt::timeout).
#[derive(Clone, Debug)]
pub struct Timeout<F> {
    inner: F,
    duration: Duration,
}

impl<F> Timeout<F> {
    /// Wraps `inner`.
    pub fn new(inner: F, duration: Duration) -> Self {
        Timeout { inner, duration }
    }
}

impl<F: Fetcher> Fetcher for Timeout<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let limit = request.timeout().unwrap_or(self.duration);
        let timer = self.inner.timer();
        set_deadline(&mut request, timer.now().checked_add(limit));
        fetch_within(&self.inner, &*timer, limit, request).await
    }

    crate::layer::forward_timer_and_observer!();
}
