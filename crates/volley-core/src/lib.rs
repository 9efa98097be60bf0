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
//! - Layers over any fetcher, through [`FetcherExt`]: [`Limit`], [`PerHostLimit`], [`Timeout`],
//!   [`Deadline`], [`Retry`], [`RateLimit`] and [`AdaptiveLimit`],
//!   with time taken from the adapter's [`Timer`].
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

mod adaptive;
mod as_completed;
mod body;
mod config;
mod connection_cap;
mod deadline;
mod descriptors;
mod error;
mod ext;
mod fetcher;
mod gather;
mod gather_limited;
mod limit;
mod observe;
mod per_host;
mod rate_limit;
mod redirect;
mod request;
mod request_path;
mod response;
mod retry;
mod retry_after;
mod rules;
pub mod testing;
mod timeout;
mod timer;
mod try_gather;

pub use adaptive::{Adaptive, AdaptiveLimit};
pub use as_completed::{AsCompleted, as_completed};
pub use body::{BodyCollector, DEFAULT_MAX_BODY_BYTES};
pub use config::{
    BuildClient, ClientBuilder, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use connection_cap::{ConnectionCap, ConnectionPermit, default_connection_cap};
pub use deadline::Deadline;
pub use descriptors::reserve_descriptors;
pub use error::{Error, ErrorKind, Result};
pub use ext::FetcherExt;
pub use fetcher::{BoxFetcher, BoxFuture, DynFetcher, Fetcher};
pub use gather::{Gather, gather};
pub use gather_limited::{GatherLimited, gather_limited};
pub use limit::Limit;
pub use observe::{
    Finished, NoObserver, Observe, Observer, Outcome, PERMIT_WAIT_TRACE_THRESHOLD, RetryReason,
    SharedObserver,
};
pub use per_host::PerHostLimit;
pub use rate_limit::{Rate, RateLimit};
pub use redirect::{Redirects, follow_redirects};
pub use request::{Defaults, Request, RequestBuilder};
pub use request_path::RequestPath;
pub use response::Response;
pub use retry::{Retry, RetryBudget, RetryPolicy};
pub use retry_after::parse_retry_after;
pub use rules::{FRAMING_HEADERS, check_response_framing, check_scheme, is_framing_header};
pub use timeout::{Timeout, WithTimeout, with_timeout};
pub use timer::{SharedTimer, Sleep, Timer};
pub use try_gather::{TryGather, try_gather};

/// The `User-Agent` every adapter sends unless told otherwise: `volley/<version>`.
pub const USER_AGENT: &str = concat!("volley/", env!("CARGO_PKG_VERSION"));

/// The `http` crate's types volley speaks in.
pub use http;
