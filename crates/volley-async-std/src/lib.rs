//! # volley-async-std
//!
//! volley on [async-std]: a [`Client`] that implements volley's
//! [`Fetcher`](volley_core::Fetcher) over surf (HTTP/1.1 by hyper, on a
//! connection pool per origin, with rustls), and [`AsyncStdTimer`],
//! volley's timer on async-std's clock.
//! Everything in `volley_core` (`gather`, `gather_limited`, `as_completed`,
//! limits, retries, timeouts, rate limits) then runs on async-std.
//!
//! **async-std is deprecated upstream in favour of [smol].** This adapter is
//! for code that already runs on async-std. New code should use
//! `volley-smol` (or `volley-tokio` on tokio); volley code written against
//! `Fetcher` moves between adapters without change.
//!
//! ```no_run
//! use volley_async_std::Client;
//! use volley_core::{Fetcher, Request, gather_limited};
//!
//! #[async_std::main]
//! async fn main() -> volley_core::Result<()> {
//!     let client = Client::builder().base_url("http://127.0.0.1:8080").build()?;
//!     let requests = (1..=100).map(|id| {
//!         let client = client.clone();
//!         async move {
//!             let resp = client.fetch(Request::get(format!("/users/{id}")).build()?).await?;
//!             resp.error_for_status()?.json::<serde_json::Value>()
//!         }
//!     });
//!     // At most 10 on the wire at once; results in input order.
//!     for user in gather_limited(requests, 10).await {
//!         println!("{}", user?["name"]);
//!     }
//!     Ok(())
//! }
//! ```
//!
//! ## How it behaves
//!
//! - **Connections.** surf sends through this adapter's own transport:
//!   hyper's HTTP/1 client connection (the engine under volley-tokio's
//!   reqwest) over async-std's sockets, one connection pool per origin,
//!   shared by the client's clones, with keep-alive and `TCP_NODELAY`.
//!   There is no cap of 50 per host as in surf's default client: a caller's
//!   limit of 1,000 means 1,000 connections ([`ClientBuilder::pool_size`]
//!   sets a cap). A connection goes back to the pool only once its response
//!   was read to the end; one abandoned half-way (timed out, cancelled, over
//!   the size cap) is closed, so no later request reads the rest of another
//!   one's response. An idle connection the server closed is dropped before
//!   it is used.
//! - **Timeouts** are volley's, on async-std's timer: each request gets the
//!   builder's timeout (30 s by default) or its own, redirects and body
//!   included. surf's own timeout is off, and so is its redirect following:
//!   volley follows redirects the same way on every adapter.
//! - **Bodies** are read chunk by chunk and stop with
//!   [`ErrorKind::TooLarge`](volley_core::ErrorKind::TooLarge) at the cap, so
//!   a 1 GB body is never held in memory.
//! - **Responses** are read as every adapter reads them: HTTP/1.0, bodies
//!   that end at the close, interim `1xx` responses (skipped), header bytes
//!   that are not ASCII (kept as they came), and a final answer that comes
//!   while the request body is still being written (a 413 to a large
//!   upload). A reply that is not HTTP fails at once.
//! - **Errors** have the same kinds as on every adapter: refused, reset
//!   before a response or too many open files are `Connect`; a reset or
//!   truncation in the body, or invalid framing, is `Body`.
//!
//! ## Limits of surf's client
//!
//! - HTTP/1.1 only, over http and https (surf's client, and hyper's
//!   HTTP/1 connection under it, have no HTTP/2 here):
//!   `ClientBuilder::http2_prior_knowledge()` is an
//!   [`ErrorKind::InvalidRequest`](volley_core::ErrorKind::InvalidRequest)
//!   from `build`, and every `Response::version()` is HTTP/1.1 (or HTTP/1.0
//!   from such a server).
//! - TLS is rustls on the `ring` provider, with the trust volley-core
//!   decides for every adapter (Mozilla's roots and any added, the client
//!   identity); https to an IP address is checked against the
//!   certificate's IP addresses.
//! - Host names are resolved by async-std (the system resolver, on its
//!   blocking-task pool).
//!
//! [async-std]: https://docs.rs/async-std
//! [smol]: https://docs.rs/smol
#![forbid(unsafe_code)]

mod client;
mod connections;
mod convert;
mod errors;
mod exchange;
mod timer;
mod tls;
mod transport;
mod tunnel;

pub use client::{Client, ClientBuilder};
pub use timer::AsyncStdTimer;
