//! The [`Fetcher`] trait: one request in, one response or error out.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::error::Result;
use crate::layer::observe::SharedObserver;
use crate::request::Request;
use crate::response::Response;
use crate::rt::SharedTimer;

/// Sends one request and reads its response, on some runtime's HTTP client.
///
/// A fetcher is cheap to clone and a clone shares the connection pool, like
/// one `aiohttp.ClientSession` reused by every request. Make one, then hand
/// clones (or references) to every task.
///
/// Adapters implement it (`volley-tokio`, `volley-async-std`, `volley-smol`);
/// layers wrap it ([`FetcherExt`](crate::FetcherExt)); libraries written only
/// against this trait run on every runtime.
///
/// ```
/// use volley_core::{Fetcher, Request, Response, Result};
///
/// /// A library function that works with any fetcher, on any runtime.
/// async fn user_name<F: Fetcher>(client: &F, id: u32) -> Result<String> {
///     let resp = client.fetch(Request::get(format!("/users/{id}")).build()?).await?;
///     let user: serde_json::Value = resp.error_for_status()?.json()?;
///     Ok(user["name"].as_str().unwrap_or_default().to_owned())
/// }
/// ```
pub trait Fetcher: Clone + Send + Sync + 'static {
    /// Sends `request` and reads the whole response body.
    ///
    /// A response with an error status is still `Ok`; call
    /// [`Response::error_for_status`] to turn it into an error.
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response>> + Send;

    /// The timer of the runtime this fetcher runs on, for layers that need time.
    fn timer(&self) -> SharedTimer;

    /// The observer installed under this fetcher by
    /// [`FetcherExt::observe`](crate::FetcherExt::observe), if any. Layers
    /// forward their inner fetcher's; adapters keep the default, `None`.
    fn observer(&self) -> Option<&SharedObserver> {
        None
    }
}

/// A boxed future, as returned by [`DynFetcher`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The object-safe form of [`Fetcher`], for `dyn` use. Every `Fetcher` is one.
pub trait DynFetcher: Send + Sync + 'static {
    /// [`Fetcher::fetch`], boxed.
    fn fetch_boxed(&self, request: Request) -> BoxFuture<'_, Result<Response>>;
    /// [`Fetcher::timer`].
    fn timer_dyn(&self) -> SharedTimer;
    /// [`Fetcher::observer`].
    fn observer_dyn(&self) -> Option<&SharedObserver>;
}

impl<F: Fetcher> DynFetcher for F {
    fn fetch_boxed(&self, request: Request) -> BoxFuture<'_, Result<Response>> {
        Box::pin(self.fetch(request))
    }
    fn timer_dyn(&self) -> SharedTimer {
        self.timer()
    }
    fn observer_dyn(&self) -> Option<&SharedObserver> {
        self.observer()
    }
}

/// A type-erased fetcher: any [`Fetcher`] behind an `Arc<dyn DynFetcher>`.
/// Made with [`FetcherExt::boxed`](crate::FetcherExt::boxed).
///
/// Use it to choose an adapter at run time or to store fetchers of different
/// types together; it costs one allocation per request.
#[derive(Clone)]
pub struct BoxFetcher {
    inner: Arc<dyn DynFetcher>,
}

impl BoxFetcher {
    /// Erases the type of `fetcher`.
    pub fn new<F: Fetcher>(fetcher: F) -> Self {
        BoxFetcher {
            inner: Arc::new(fetcher),
        }
    }
}

impl std::fmt::Debug for BoxFetcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BoxFetcher")
    }
}

impl Fetcher for BoxFetcher {
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        self.inner.fetch_boxed(request)
    }
    fn timer(&self) -> SharedTimer {
        self.inner.timer_dyn()
    }
    fn observer(&self) -> Option<&SharedObserver> {
        self.inner.observer_dyn()
    }
}
