//! [`SharedLimit`], the layer, and [`RedisExt`], the methods that make it.

use std::fmt;
use std::sync::Arc;

use volley_core::layer::{RateLimit, SharedObserver};
use volley_core::rt::SharedTimer;
use volley_core::{Fetcher, Request, Response, Result};

use crate::shared::{Admit, Shared, host_of};
use crate::{SharedCooldown, SharedRate};

/// A fetcher whose requests wait for a slot of a [`SharedRate`] (or their
/// host's pause of a [`SharedCooldown`]) before they are sent. Made with
/// [`SharedRate::layer`], [`SharedCooldown::layer`] or [`RedisExt`].
///
/// Every request yields exactly one result, whatever Redis does: with
/// fail-open it goes under the local fallback while Redis is out of reach,
/// with fail-closed it waits and then fails with a typed error. Waits for a
/// slot or a pause are reported to the observer's `rate_limit_waited`.
#[derive(Clone)]
pub struct SharedLimit<F> {
    inner: F,
    /// The in-process fallback of a fail-open rate.
    local: Option<RateLimit<F>>,
    shared: Arc<Shared>,
}

impl<F> fmt::Debug for SharedLimit<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLimit")
            .field("key", &self.shared.key)
            .field("rate", &self.shared.rate)
            .finish_non_exhaustive()
    }
}

impl<F: Fetcher> SharedLimit<F> {
    pub(crate) fn new(inner: F, shared: Arc<Shared>) -> Self {
        let local = shared
            .local_rate()
            .map(|rate| RateLimit::new(inner.clone(), rate));
        SharedLimit {
            inner,
            local,
            shared,
        }
    }
}

impl<F: Fetcher> Fetcher for SharedLimit<F> {
    async fn fetch(&self, request: Request) -> Result<Response> {
        let timer = self.inner.timer();
        let observer = self.inner.observer();
        let host = host_of(request.url());
        let admit = match self.shared.admit(&timer, observer, &host).await {
            Ok(admit) => admit,
            Err(e) => return Err(e.with_url(request.url().clone())),
        };
        let result = match (admit, &self.local) {
            (Admit::Local, Some(local)) => local.fetch(request).await,
            _ => self.inner.fetch(request).await,
        };
        if let Ok(response) = &result {
            self.shared
                .note_response(&timer, observer, &host, response)
                .await;
        }
        result
    }

    fn timer(&self) -> SharedTimer {
        self.inner.timer()
    }

    fn observer(&self) -> Option<&SharedObserver> {
        self.inner.observer()
    }
}

/// The shared limits as methods on every fetcher, next to
/// [`FetcherExt`](volley_core::FetcherExt)'s.
///
/// ```no_run
/// use volley_core::{Fetcher, FetcherExt, Rate};
/// use volley_redis::{RedisExt, SharedRate};
///
/// fn build(client: impl Fetcher) -> volley_core::Result<impl Fetcher> {
///     let quota = SharedRate::builder("redis://127.0.0.1:6379", "quota:api", Rate::per_second(100.0))?
///         .fail_open(4);
///     Ok(client.limit(32).shared_rate(&quota))
/// }
/// ```
pub trait RedisExt: Fetcher + Sized {
    /// Waits for a slot of `rate` before each request ([`SharedRate::layer`]).
    fn shared_rate(self, rate: &SharedRate) -> SharedLimit<Self> {
        rate.layer(self)
    }

    /// Waits out each request's host pause ([`SharedCooldown::layer`]).
    fn shared_cooldown(self, cooldown: &SharedCooldown) -> SharedLimit<Self> {
        cooldown.layer(self)
    }
}

impl<F: Fetcher> RedisExt for F {}
