//! [`Limit`]: at most N requests in flight through a fetcher.

use std::sync::Arc;

use async_lock::Semaphore;

use crate::error::Result;
use crate::fetcher::Fetcher;
use crate::layer::observe::acquire_reported;
use crate::layer::waits::Lane;
use crate::request::Request;
use crate::response::Response;

/// A layer that lets at most `max` requests through at once, shared by every
/// clone: asyncio's `Semaphore` pattern, on `async-lock`.
///
/// A request waits for a permit before it is sent and gives it back when it
/// finishes, fails, panics or is dropped. Made with
/// [`FetcherExt::limit`](crate::FetcherExt::limit).
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
/// use volley_core::{FetcherExt, Fetcher, Request, gather};
///
/// let timer = ManualTimer::new();
/// let server = InMemoryFetcher::new(timer.clone()).latency(Duration::from_millis(200));
/// let client = server.clone().limit(20);
/// let took = run(&timer, async {
///     let start = timer.now();
///     let reqs = (1..=100).map(|i| Request::get(format!("/posts/{i}")).build().unwrap());
///     let out = gather(reqs.map(|r| client.fetch(r))).await;
///     assert!(out.iter().all(|r| r.is_ok()));
///     timer.now() - start
/// }).unwrap();
/// assert_eq!(took, Duration::from_secs(1)); // 100 / 20 * 200 ms
/// assert_eq!(server.max_in_flight(), 20);
/// ```
#[derive(Clone, Debug)]
pub struct Limit<F> {
    inner: F,
    semaphore: Arc<Semaphore>,
    max: usize,
}

impl<F> Limit<F> {
    /// Wraps `inner` with a limit of `max` (0 counts as 1).
    pub fn new(inner: F, max: usize) -> Self {
        let max = max.max(1);
        Limit {
            inner,
            semaphore: Arc::new(Semaphore::new(max)),
            max,
        }
    }

    /// The limit.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many permits are free right now.
    pub fn available(&self) -> usize {
        self.semaphore.available_permits()
    }

    /// The wrapped fetcher.
    pub fn get_ref(&self) -> &F {
        &self.inner
    }
}

impl<F: Fetcher> Fetcher for Limit<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let _permit =
            acquire_reported(&self.semaphore, &self.inner, &mut request, Lane::Limit).await?;
        self.inner.fetch(request).await
    }

    crate::layer::forward_timer_and_observer!();
}
