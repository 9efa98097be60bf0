//! [`PerHostLimit`]: at most N requests in flight to each host.

use std::sync::{Arc, Mutex};

use async_lock::Semaphore;

use crate::error::Result;
use crate::fetcher::Fetcher;
use crate::layer::host::{Hosts, PerHost, host_key};
use crate::layer::observe::acquire_reported;
use crate::layer::waits::Lane;
use crate::request::Request;
use crate::response::Response;

/// A layer that lets at most so many requests be in flight to each host
/// (scheme, host and port) at once, like aiohttp's `limit_per_host`: one
/// number for every host, or a [`PerHost`] with overrides for some. Use it
/// beside a global [`Limit`](crate::layer::Limit). Paths without a host
/// (resolved later against the fetcher's base URL) share one group. Made
/// with [`FetcherExt::limit_per_host`](crate::FetcherExt::limit_per_host).
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
/// use volley_core::{Fetcher, FetcherExt, Request, gather, layer::PerHost};
/// let timer = ManualTimer::new();
/// let server = InMemoryFetcher::new(timer.clone()).latency(Duration::from_millis(100));
/// let client = server.limit_per_host(PerHost::new(4).host("small.test", 1));
/// let urls = (0..4).flat_map(|_| ["http://small.test/", "http://big.test/"]);
/// run(&timer, gather(urls.map(|u| client.fetch(Request::get(u).build().unwrap())))).unwrap();
/// assert_eq!(timer.elapsed(), Duration::from_millis(400)); // small.test one at a time
/// ```
#[derive(Clone, Debug)]
pub struct PerHostLimit<F> {
    inner: F,
    max: Arc<PerHost<usize>>,
    hosts: Arc<Mutex<Hosts<Arc<Semaphore>>>>,
}

impl<F> PerHostLimit<F> {
    /// Wraps `inner` with a limit per host (a number, or a [`PerHost`];
    /// 0 counts as 1).
    pub fn new(inner: F, max: impl Into<PerHost<usize>>) -> Self {
        PerHostLimit {
            inner,
            max: Arc::new(max.into()),
            hosts: Arc::default(),
        }
    }

    fn semaphore(&self, request: &Request) -> Arc<Semaphore> {
        let key = host_key(request.url());
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        // A semaphore held by a request (its clone, its permit) is in use.
        let in_use = |s: &Arc<Semaphore>| Arc::strong_count(s) > 1;
        let make = || Arc::new(Semaphore::new((*self.max.get(request.url())).max(1)));
        hosts.entry(key, in_use, make).clone()
    }
}

impl<F: Fetcher> Fetcher for PerHostLimit<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let semaphore = self.semaphore(&request);
        let _permit =
            acquire_reported(&semaphore, &self.inner, &mut request, Lane::HostLimit).await?;
        self.inner.fetch(request).await
    }

    crate::layer::forward_timer_and_observer!();
}
