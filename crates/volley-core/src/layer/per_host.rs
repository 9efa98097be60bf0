//! [`PerHostLimit`]: at most N requests in flight to each host.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_lock::Semaphore;

use crate::error::Result;
use crate::fetcher::Fetcher;
use crate::layer::observe::acquire_reported;
use crate::request::Request;
use crate::response::Response;

/// A layer that lets at most `max` requests be in flight to each host
/// (scheme, host and port) at once, like aiohttp's `limit_per_host`; use it
/// beside a global [`Limit`](crate::layer::Limit). Paths without a host (resolved
/// later against the fetcher's base URL) share one slot group. Made with
/// [`FetcherExt::limit_per_host`](crate::FetcherExt::limit_per_host).
#[derive(Clone, Debug)]
pub struct PerHostLimit<F> {
    inner: F,
    max: usize,
    hosts: Arc<Mutex<HashMap<String, Arc<Semaphore>>>>,
}

impl<F> PerHostLimit<F> {
    /// Wraps `inner` with a limit of `max` per host (0 counts as 1).
    pub fn new(inner: F, max: usize) -> Self {
        PerHostLimit {
            inner,
            max: max.max(1),
            hosts: Arc::default(),
        }
    }

    fn semaphore(&self, request: &Request) -> Arc<Semaphore> {
        let url = request.url();
        let key = match (url.scheme_str(), url.authority()) {
            (Some(scheme), Some(authority)) => format!("{scheme}://{authority}"),
            _ => String::new(),
        };
        let mut hosts = self.hosts.lock().unwrap_or_else(|p| p.into_inner());
        hosts
            .entry(key)
            .or_insert_with(|| Arc::new(Semaphore::new(self.max)))
            .clone()
    }
}

impl<F: Fetcher> Fetcher for PerHostLimit<F> {
    async fn fetch(&self, request: Request) -> Result<Response> {
        let semaphore = self.semaphore(&request);
        let _permit = acquire_reported(&semaphore, &self.inner).await;
        self.inner.fetch(request).await
    }

    crate::layer::forward_timer_and_observer!();
}
