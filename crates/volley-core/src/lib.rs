//! # volley-core
//!
//! The runtime-neutral heart of volley: make many HTTP API calls at once,
//! with results in input order, a cap on how many are in flight, and typed
//! errors, on any async runtime.
//!
//! - [`Fetcher`]: one request in, one [`Response`] or [`Error`] out. Runtime
//!   adapters (`volley-tokio`, `volley-async-std`, `volley-smol`) implement it
//!   on their runtime's HTTP client.
//! - Combinators that spawn nothing and work on any executor: [`gather`]
//!   (ordered, every result kept), [`try_gather`] (fail-fast, the rest
//!   cancelled), [`gather_limited`] (at most N in flight) and
//!   [`as_completed`] (a stream of `(index, result)`).
//! - Layers over any fetcher, through [`FetcherExt`]: a concurrency limit,
//!   timeouts, a batch deadline, retries ([`RetryPolicy`]), rate limits
//!   ([`Rate`]), an adaptive limit ([`Adaptive`]), quotas per host (limits
//!   and rates, with overrides) and a host cool-down that holds every
//!   request to a host that answered 429 or 503 with a `Retry-After`; their
//!   types are in [`layer`], with time taken from the adapter's timer
//!   ([`rt`]). Every request reports where its time went
//!   ([`layer::Waits`]: queued, backing off, on the wire) to an [`Observer`].
//!
//! The crate root is what a user of the combinators and layers needs. The
//! modules hold the rest: [`combinator`] and [`layer`] the named futures and
//! layer types, [`rt`] what a runtime supplies (its timer), [`adapter`] what
//! an adapter is built from (its configuration, the send path every adapter
//! shares and the rules it decides once), and [`testing`] a fake clock and
//! an in-memory fetcher.
//!
//! This crate depends on no runtime and no HTTP client: an API client
//! library written against [`Fetcher`] alone runs on every runtime. If you
//! only ever use one runtime, you still write the same code; depend on the
//! adapter (or the `volley` facade) in your binary.
//!
//! ```
//! use volley_core::{Fetcher, FetcherExt, Request, gather};
//! use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
//! use std::time::Duration;
//!
//! // Any fetcher will do; this one answers from memory after 200 ms of fake time.
//! let timer = ManualTimer::new();
//! let client = InMemoryFetcher::new(timer.clone()).latency(Duration::from_millis(200));
//!
//! let elapsed = run(&timer, async {
//!     let start = timer.now();
//!     let requests = (1..=10).map(|id| Request::get(format!("/users/{id}")).build());
//!     let results = gather(requests.map(|req| async {
//!         let user: serde_json::Value = client.fetch(req?).await?.error_for_status()?.json()?;
//!         Ok::<_, volley_core::Error>(user["id"].as_u64())
//!     })).await;
//!     let ids: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
//!     assert_eq!(ids, (1..=10).map(Some).collect::<Vec<_>>()); // input order
//!     timer.now() - start
//! }).unwrap();
//! assert_eq!(elapsed, Duration::from_millis(200)); // ten calls in the time of one
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod adapter;
pub mod combinator;
mod error;
mod ext;
mod fetcher;
pub mod layer;
mod request;
mod response;
pub mod rt;
pub mod testing;

pub use adapter::config::ClientBuilder;
pub use adapter::redirect::Redirects;
pub use combinator::{as_completed, gather, gather_limited, try_gather};
pub use error::{Error, ErrorKind, Result};
pub use ext::FetcherExt;
pub use fetcher::{BoxFetcher, BoxFuture, DynFetcher, Fetcher};
pub use layer::adaptive::Adaptive;
pub use layer::observe::{Finished, Observer, Outcome, RetryReason};
pub use layer::rate_limit::Rate;
pub use layer::retry::{RetryBudget, RetryPolicy};
pub use request::{Request, RequestBuilder};
pub use response::Response;

/// The `User-Agent` every adapter sends unless told otherwise: `volley/<version>`.
pub const USER_AGENT: &str = concat!("volley/", env!("CARGO_PKG_VERSION"));

/// The `http` crate's types volley speaks in.
pub use http;
