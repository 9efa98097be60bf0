//! Per-request timeouts: [`with_timeout`] and the [`Timeout`] layer.

use std::future::Future;
use std::time::Duration;

use futures::future::{Either, select};

use crate::error::{Error, Result};
use crate::fetcher::Fetcher;
use crate::observe::SharedObserver;
use crate::request::Request;
use crate::response::Response;
use crate::timer::{SharedTimer, Timer};

/// Runs `future` for at most `limit` on `timer`; when time runs out the
/// future is dropped (its connection closed, never reused half-read) and an
/// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) error comes back.
/// `None` means no limit.
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{ManualTimer, run};
/// use volley_core::{ErrorKind, with_timeout};
/// let timer = ManualTimer::new();
/// let out = run(&timer, with_timeout(&timer, Some(Duration::from_secs(2)),
///     std::future::pending::<volley_core::Result<()>>())).unwrap();
/// assert_eq!(out.unwrap_err().kind(), ErrorKind::Timeout);
/// assert_eq!(timer.elapsed(), Duration::from_secs(2));
/// ```
pub async fn with_timeout<T, F>(timer: &dyn Timer, limit: Option<Duration>, future: F) -> Result<T>
where
    F: Future<Output = Result<T>>,
{
    let Some(limit) = limit else {
        return future.await;
    };
    let future = std::pin::pin!(future);
    match select(future, timer.sleep(limit)).await {
        Either::Left((out, _)) => out,
        Either::Right(((), _)) => {
            #[cfg(feature = "tracing")]
            tracing::warn!(timeout_ms = limit.as_secs_f64() * 1e3, "timed out");
            Err(Error::timeout(limit))
        }
    }
}

/// Fetches `request` through `inner` for at most `limit`; the error names
/// the request's URL when the fetcher did not. Shared by [`Timeout`] and
/// [`Deadline`](crate::Deadline).
pub(crate) async fn fetch_within<F: Fetcher>(
    inner: &F,
    timer: &dyn Timer,
    limit: Duration,
    request: Request,
) -> Result<Response> {
    let url = request.url().clone();
    with_timeout(timer, Some(limit), inner.fetch(request))
        .await
        .map_err(|e| {
            if e.url().is_none() {
                e.with_url(url)
            } else {
                e
            }
        })
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
    async fn fetch(&self, request: Request) -> Result<Response> {
        let limit = request.timeout().unwrap_or(self.duration);
        fetch_within(&self.inner, &*self.inner.timer(), limit, request).await
    }

    fn timer(&self) -> SharedTimer {
        self.inner.timer()
    }

    fn observer(&self) -> Option<&SharedObserver> {
        self.inner.observer()
    }
}
