//! [`PerHostRate`]: a request rate for each host.

use std::sync::{Arc, Mutex};

use crate::error::Result;
use crate::fetcher::Fetcher;
use crate::layer::host::{Hosts, PerHost, host_key};
use crate::layer::rate_limit::{Gcra, Rate, wait_for_slot};
use crate::request::Request;
use crate::response::Response;

/// A layer that spaces the requests to each host to that host's [`Rate`]
/// (a [`PerHost`] quota: one rate for every host, overrides for some),
/// shared by every clone. Requests to one host never wait for another's
/// rate. Made with
/// [`FetcherExt::rate_limit_per_host`](crate::FetcherExt::rate_limit_per_host).
///
/// ```
/// use std::time::Duration;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
/// use volley_core::{Fetcher, FetcherExt, Rate, Request, gather, layer::PerHost};
/// let timer = ManualTimer::new();
/// let quotas = PerHost::new(Rate::per_second(50.0)).host("slow.test", Rate::per_second(10.0));
/// let client = InMemoryFetcher::new(timer.clone()).rate_limit_per_host(quotas);
/// let urls = (0..11).flat_map(|_| ["http://slow.test/", "http://fast.test/"]);
/// run(&timer, gather(urls.map(|u| client.fetch(Request::get(u).build().unwrap())))).unwrap();
/// assert_eq!(timer.elapsed(), Duration::from_secs(1)); // slow.test: 10 gaps of 100 ms
/// ```
#[derive(Clone, Debug)]
pub struct PerHostRate<F> {
    inner: F,
    rates: Arc<PerHost<Rate>>,
    hosts: Arc<Mutex<Hosts<Gcra>>>,
}

impl<F> PerHostRate<F> {
    /// Wraps `inner` with the rates of `rates`.
    pub fn new(inner: F, rates: impl Into<PerHost<Rate>>) -> Self {
        PerHostRate {
            inner,
            rates: Arc::new(rates.into()),
            hosts: Arc::default(),
        }
    }
}

impl<F: Fetcher> Fetcher for PerHostRate<F> {
    async fn fetch(&self, mut request: Request) -> Result<Response> {
        let rate = *self.rates.get(request.url());
        let key = host_key(request.url());
        wait_for_slot(&self.inner, &mut request, |now| {
            let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
            // A rate with no slot reserved ahead says nothing any more.
            let busy = |g: &Gcra| !g.is_idle(now);
            hosts
                .entry(key.clone(), busy, Gcra::default)
                .reserve(&rate, now)
        })
        .await?;
        self.inner.fetch(request).await
    }

    crate::layer::forward_timer_and_observer!();
}
