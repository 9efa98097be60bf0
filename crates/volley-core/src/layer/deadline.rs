//! [`Deadline`]: one deadline for a whole batch of requests.

use std::time::Instant;

use crate::error::{Error, ErrorKind, Result};
use crate::fetcher::Fetcher;
use crate::layer::timeout::fetch_within;
use crate::request::Request;
use crate::response::Response;

/// A layer that ends every request at one instant: those that finish in
/// time keep their result, the rest become [`ErrorKind::Timeout`] errors, so
/// a [`gather`](crate::gather) over it still yields one result per request
/// and returns by the deadline. Made with
/// [`FetcherExt::deadline`](crate::FetcherExt::deadline).
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
/// use volley_core::{Fetcher, FetcherExt, Request, gather};
/// let timer = ManualTimer::new();
/// let server = InMemoryFetcher::new(timer.clone()).script(|req, _| {
///     let ms = req.url().path()[1..].parse().unwrap();
///     Reply::status(http::StatusCode::OK, "").after(Duration::from_millis(ms))
/// });
/// let client = server.deadline(timer.now() + Duration::from_millis(500));
/// let out = run(&timer, gather(["/100", "/900", "/300"].map(|p| client.fetch(Request::get(p).build().unwrap())))).unwrap();
/// assert_eq!(out.iter().map(|r| r.is_ok()).collect::<Vec<_>>(), [true, false, true]);
/// assert_eq!(timer.elapsed(), Duration::from_millis(500));
/// ```
#[derive(Clone, Debug)]
pub struct Deadline<F> {
    inner: F,
    at: Instant,
}

impl<F> Deadline<F> {
    /// Wraps `inner` with a deadline at `at` (on the fetcher's timer).
    pub fn new(inner: F, at: Instant) -> Self {
        Deadline { inner, at }
    }
}

/// The instant by which a request must be done, carried in its extensions
/// so the layers inside can tell a wait that would end too late.
#[derive(Debug, Clone, Copy)]
struct RequestDeadline(Instant);

/// Gives `request` the deadline `at` (`None`: too far to tell, no
/// deadline), or keeps the one it has if earlier.
pub(crate) fn set_deadline(request: &mut Request, at: Option<Instant>) {
    let Some(at) = at else {
        return;
    };
    let at = deadline_of(request).map_or(at, |d| d.min(at));
    request.extensions_mut().insert(RequestDeadline(at));
}

/// Why a request failed at once: a wait it was asked for would have ended
/// after its deadline. Carried as the error's source, so the retry layer
/// does not send it again (the wait would not be shorter).
#[derive(Debug)]
pub(crate) struct PastDeadline;

impl std::fmt::Display for PastDeadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the wait would end after the request's deadline")
    }
}

impl std::error::Error for PastDeadline {}

/// True for the errors of [`wait_past_deadline`].
pub(crate) fn is_past_deadline(error: &Error) -> bool {
    std::error::Error::source(error).is_some_and(|s| s.is::<PastDeadline>())
}

/// The request's deadline, if a [`Timeout`](crate::layer::Timeout) or
/// [`Deadline`] layer outside gave it one.
pub(crate) fn deadline_of(request: &Request) -> Option<Instant> {
    request.extensions().get::<RequestDeadline>().map(|d| d.0)
}

/// The error for a wait of `wait` that would end after the request's
/// deadline, or `None` when it ends in time. `why` says what the wait is
/// for ("the server's Retry-After", ...).
pub(crate) fn wait_past_deadline(
    request: &Request,
    now: Instant,
    wait: std::time::Duration,
    why: &str,
) -> Option<Error> {
    let deadline = deadline_of(request)?;
    if now.checked_add(wait).is_some_and(|end| end <= deadline) {
        return None;
    }
    let left = deadline.saturating_duration_since(now);
    let message = format!(
        "{why} asks for a wait of {} ms, which ends after the request's deadline ({} ms left)",
        wait.as_millis(),
        left.as_millis()
    );
    let error = Error::new(ErrorKind::Timeout, message).with_source(PastDeadline);
    Some(error.with_url(request.url().clone()))
}

impl<F: Fetcher> Fetcher for Deadline<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        set_deadline(&mut request, Some(self.at));
        let timer = self.inner.timer();
        let left = self.at.saturating_duration_since(timer.now());
        if left.is_zero() {
            return Err(Error::new(
                ErrorKind::Timeout,
                "the deadline of the batch had passed before the request was sent",
            )
            .with_url(request.url().clone()));
        }
        fetch_within(&self.inner, &*timer, left, request).await
    }

    crate::layer::forward_timer_and_observer!();
}
