//! # volley-tokio
//!
//! The tokio adapter of volley: a [`Fetcher`] on [reqwest] (hyper, rustls),
//! for making many HTTP API calls at once from a tokio program.
//!
//! [`Client`] is one connection pool, cheap to clone: make one and share it
//! between every task, as you would one `aiohttp.ClientSession`. It behaves
//! exactly like the other volley adapters: the same base URL and default
//! headers ([`volley_core::adapter::Defaults`]), the same redirect rules ([`volley_core::adapter::follow_redirects`]),
//! the same per-request timeout (on tokio's timer), the same body size cap
//! and the same [`ErrorKind`]s for the same failures.
//!
//! Its pool keeps no cap of its own on how many connections it opens to a
//! host: 1000 calls gathered at once open up to 1000 connections, up to the
//! client's connection cap (what the process may open, less headroom; see
//! [`ConnectionCap`](volley_core::adapter::ConnectionCap)). Bound the concurrency
//! yourself with `gather_limited` or the `.limit(n)` layer of
//! [`FetcherExt`](volley_core::FetcherExt).
//!
//! Plain `http://` URLs are spoken in HTTP/1.1; for `https://` the TLS
//! handshake (rustls on the `ring` provider) offers HTTP/2 and HTTP/1.1 and
//! the server chooses. With `ClientBuilder::http2_prior_knowledge()` plain
//! `http://` is HTTP/2 from the first byte (h2c) and `https://` offers
//! HTTP/2 alone. On HTTP/2 every request to a host is a stream on one
//! connection: 1,000 requests at once are one connection, not 1,000.
//! `Response::version()` says which was spoken. Certificates are checked
//! against the roots volley-core decides, the same on every adapter:
//! Mozilla's (`webpki-root-certs`), not the system's store, plus any given
//! to `add_root_certificate`; see [`ClientBuilder`](volley_core::ClientBuilder)
//! for those, the client identity of mutual TLS and
//! `tls_built_in_roots(false)`.
//!
//! # When to use another adapter
//!
//! - Your program runs on async-std or smol: use `volley-async-std` or
//!   `volley-smol`; this client needs a tokio runtime to run on.
//! - You make one call at a time from synchronous code: `volley-blocking`.
//! - You write a library: write it against [`Fetcher`] from `volley-core`
//!   alone and let the binary choose.
//!
//! # Quick start
//!
//! ```no_run
//! use std::time::Duration;
//! use volley_core::{Fetcher, FetcherExt, Request, gather};
//!
//! #[tokio::main]
//! async fn main() -> volley_core::Result<()> {
//!     let client = volley_tokio::Client::builder()
//!         .base_url("http://127.0.0.1:8080")
//!         .default_header("accept", "application/json")
//!         .timeout(Duration::from_secs(5))
//!         .build()?
//!         .limit(50); // at most 50 requests on the wire at once
//!
//!     let requests = (1..=100).map(|id| Request::get(format!("/users/{id}")).build());
//!     let results = gather(requests.map(|req| async {
//!         let user: serde_json::Value = client.fetch(req?).await?.error_for_status()?.json()?;
//!         Ok::<_, volley_core::Error>(user)
//!     }))
//!     .await;
//!     for user in results {
//!         println!("{}", user?["name"]);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! [`Fetcher`]: volley_core::Fetcher
//! [`ErrorKind`]: volley_core::ErrorKind
#![forbid(unsafe_code)]

mod client;
mod errors;
mod timer;

pub use client::{Client, ClientBuilder};
pub use timer::TokioTimer;
