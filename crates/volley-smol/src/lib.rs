//! # volley-smol
//!
//! volley on [smol]: a [`Client`] that implements [`volley_core::Fetcher`] with
//! [isahc] (libcurl, driven on isahc's agent threads: one per core, up to
//! four, each request sent through the least busy) and a [`SmolTimer`]
//! built on [`async_io::Timer`]. Every combinator and layer of `volley-core`
//! (`gather`, `gather_limited`, `.limit(n)`, retries, rate limits, ...) works on
//! it, with the same errors as on every other runtime.
//!
//! The futures it returns are not tied to smol's reactor: libcurl does the I/O
//! on its own thread, and only the timer uses `async-io` (which runs its own
//! driver thread when needed). They work under `smol::block_on`, any smol
//! executor, or any other executor.
//!
//! ## When to use another adapter
//!
//! - Your program already runs on tokio: use `volley-tokio` (reqwest), which
//!   shares tokio's reactor instead of adding libcurl's thread.
//! - Your program runs on async-std: use `volley-async-std`.
//! - You have no async runtime at all: use `volley-blocking`.
//!
//! This adapter speaks HTTP/1.1 (with keep-alive) and HTTP/2, and HTTPS
//! through rustls, built into a statically linked libcurl (with libnghttp2,
//! statically linked too); it needs a C compiler to build. Over `https://`
//! the server chooses HTTP/2 or HTTP/1.1 by ALPN; plain `http://` is
//! HTTP/1.1 unless the builder says `http2_prior_knowledge()`, and then
//! HTTP/2 from the first byte (h2c). On HTTP/2 the requests of an agent
//! share its connection to a host. `Response::version()` says which was
//! spoken.
//! libcurl trusts the roots volley-core decides for every adapter
//! (Mozilla's and any added) and presents the client identity, both handed
//! over as PEM files (libcurl would copy a bundle held in memory into every
//! connection, and its rustls backend reads an identity from files only):
//! written readable by their owner alone, in `/dev/shm` (memory) where there
//! is one, else the temporary directory, and removed when the client is
//! dropped. libcurl's rustls (rustls-ffi) takes the crypto provider that
//! `curl-sys` asks for: its default, `aws-lc-rs`, where this crate comes from
//! crates.io; `ring`, as on every other adapter, inside the volley workspace,
//! which patches that default.
//!
//! ## What to know about libcurl
//!
//! - **Sockets numbered 1024 and above.** The libcurl that `curl-sys` builds
//!   (curl 8.11 and later) waits on sockets with `select()` unless it is
//!   compiled with `HAVE_POLL`, and `select()` cannot watch a descriptor
//!   numbered 1024 or above: once the process has that many files open, new
//!   connections fail with [`ErrorKind::Connect`]. Build with
//!   `CFLAGS_x86_64_unknown_linux_gnu=-DHAVE_POLL` (for example in the
//!   `[env]` table of `.cargo/config.toml`; use your target's name) to lift
//!   the limit; 5,000 concurrent connections then work. This workspace's
//!   own `.cargo/config.toml` does so; a project that depends on
//!   volley-smol should do the same in its own.
//! - **Protocols.** volley-core never hands libcurl a URL that is not http
//!   or https, for a request or a redirect. Add `-DHTTP_ONLY` to the same
//!   `CFLAGS` (as this workspace does) to leave libcurl's other protocols
//!   (file, ws, mqtt) out of the build as well.
//! - **Re-sends.** libcurl sends a request again on a fresh connection by
//!   itself when a reused one died before any byte of the response. This
//!   adapter hands libcurl bodies it cannot rewind, so a request with a
//!   body, and every non-idempotent one, fails instead of being sent twice
//!   (a body-less POST goes out with an empty chunked body for that
//!   reason). A body-less GET, HEAD or DELETE may still be sent once more.
//! - **Abandoned requests.** A request whose future is dropped (a timeout, a
//!   cancelled batch) is ended by libcurl only when the server next sends
//!   something, or when libcurl's own timeout (the request's timeout plus
//!   50 ms) passes; until then its connection stays open.
//!
//! ## Quick start
//!
//! ```no_run
//! use std::time::Duration;
//! use volley_core::{Fetcher, FetcherExt, Request, gather};
//! use volley_smol::Client;
//!
//! # fn main() -> volley_core::Result<()> {
//! smol::block_on(async {
//!     let client = Client::builder()
//!         .base_url("http://127.0.0.1:8080")
//!         .default_header("accept", "application/json")
//!         .timeout(Duration::from_secs(10))
//!         .build()?
//!         .limit(50); // at most 50 requests on the wire at once
//!
//!     let users = gather((1..=100).map(|id| {
//!         let client = client.clone();
//!         async move {
//!             let resp = client.fetch(Request::get(format!("/users/{id}")).build()?).await?;
//!             resp.error_for_status()?.json::<serde_json::Value>()
//!         }
//!     }))
//!     .await;
//!     for user in users {
//!         println!("{}", user?["name"]);
//!     }
//!     Ok(())
//! })
//! # }
//! ```
//!
//! [smol]: https://docs.rs/smol
//! [isahc]: https://docs.rs/isahc
//! [`ErrorKind::Connect`]: volley_core::ErrorKind::Connect
#![forbid(unsafe_code)]

mod agents;
mod client;
mod errors;
mod timer;
mod tls;

pub use client::{Client, ClientBuilder};
pub use timer::SmolTimer;
