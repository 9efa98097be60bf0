//! # volley-blocking
//!
//! The sequential baseline of volley: a synchronous client on [ureq] that
//! sends one request at a time and waits for it, as Python's `requests`
//! does. It is what the async adapters are measured against: 100 calls of
//! 200 ms each take 20 s here, and about 200 ms gathered on `volley-tokio`.
//!
//! [`Client`] takes the same [`Request`]s, gives the same [`Response`]s and
//! reports the same [`ErrorKind`]s for the same failures as every other
//! volley adapter: the same base URL and default headers ([`Defaults`]), the
//! same redirect rules ([`follow_redirects`]), the same per-request timeout
//! (redirects and body included) and the same body size cap. It is not a
//! [`Fetcher`](volley_core::Fetcher): `fetch` blocks the calling thread and
//! returns the result itself, so the async combinators and layers of
//! `volley-core` do not apply to it.
//!
//! HTTPS is ureq's rustls on the `ring` provider, trusting the roots
//! volley-core decides for every adapter (Mozilla's and any added with
//! `add_root_certificate`) and presenting the client identity when one is
//! set.
//!
//! # When to use another adapter
//!
//! - To make many calls at once: `volley-tokio`, `volley-async-std` or
//!   `volley-smol`, whichever runtime your program has.
//! - From async code: never call [`Client::fetch`] there, as it blocks the
//!   executor's thread; use the adapter of your runtime (or move the call
//!   to a blocking thread, such as tokio's `spawn_blocking`).
//!
//! Use this one for scripts and tools that make a few calls in turn, and as
//! the baseline in benchmarks.
//!
//! It speaks HTTP/1.1 only (ureq has no HTTP/2), over http and https:
//! `ClientBuilder::http2_prior_knowledge()` is an
//! [`ErrorKind::InvalidRequest`] from `build`, and every `Response::version()`
//! is HTTP/1.1 (or HTTP/1.0 from such a server).
//!
//! # Quick start
//!
//! ```no_run
//! use std::time::Duration;
//! use volley_core::Request;
//!
//! let client = volley_blocking::Client::builder()
//!     .base_url("http://127.0.0.1:8080")
//!     .timeout(Duration::from_secs(5))
//!     .build()?;
//! for id in 1..=3 {
//!     let user: serde_json::Value = client
//!         .fetch(Request::get(format!("/users/{id}")).build()?)?
//!         .error_for_status()?
//!         .json()?;
//!     println!("{}", user["name"]);
//! }
//! # Ok::<(), volley_core::Error>(())
//! ```
//!
//! [`Request`]: volley_core::Request
//! [`Response`]: volley_core::Response
//! [`ErrorKind`]: volley_core::ErrorKind
//! [`Defaults`]: volley_core::adapter::Defaults
//! [`follow_redirects`]: volley_core::adapter::follow_redirects
#![forbid(unsafe_code)]

mod client;
mod errors;
mod tls;

pub use client::{Client, ClientBuilder};
