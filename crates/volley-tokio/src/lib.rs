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
//! handshake (rustls, certificates checked against the system's roots)
//! offers HTTP/2 and HTTP/1.1 and the server chooses.
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
#![forbid(unsafe_code)]

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use volley_core::http::Method;
use volley_core::http::header::{CONTENT_LENGTH, HeaderValue};
use volley_core::{
    Error, ErrorKind, Fetcher, Request, Response, Result,
    adapter::{BodyCollector, BuildClient, ClientConfig, SendPath},
    rt::{SharedTimer, Sleep, Timer},
};

/// tokio's timer as a volley [`Timer`]: `tokio::time::sleep` and tokio's
/// clock (so a test with tokio's paused time sees the time it sets).
///
/// Its sleeps must be polled inside a tokio runtime.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

/// A spawned request: aborted when dropped, its panic passed on.
struct TaskGuard(tokio::task::JoinHandle<Result<Response>>);

impl Future for TaskGuard {
    type Output = Result<Response>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match Pin::new(&mut self.0).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(out)) => Poll::Ready(out),
            Poll::Ready(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Poll::Ready(Err(e)) => Poll::Ready(Err(Error::new(
                ErrorKind::Cancelled,
                "the runtime shut down before the request finished",
            )
            .with_source(e))),
        }
    }
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// An HTTP client on tokio and reqwest that implements [`Fetcher`].
///
/// Cloning is cheap and clones share one connection pool. Requests must be
/// awaited inside a tokio runtime; outside one, [`Fetcher::fetch`] returns
/// an [`ErrorKind::Other`] error instead of sending. Each request runs as a
/// task of its own on that runtime, so many requests use every worker
/// thread even when one task awaits them all; dropping the request's future
/// aborts its task.
///
/// ```no_run
/// use volley_core::{Fetcher, Request};
/// # async fn demo() -> volley_core::Result<()> {
/// let client = volley_tokio::Client::builder().base_url("http://127.0.0.1:8080").build()?;
/// let resp = client.fetch(Request::get("/users/1").build()?).await?;
/// println!("{}", resp.text()?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    path: SendPath,
    max_body_bytes: u64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.path.defaults().base())
            .field("timeout", &self.inner.path.timeout())
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("redirects", &self.inner.path.redirects())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the default settings: no base URL, a 30 s timeout per
    /// request, a 10 s connect timeout, a 64 MiB body cap, up to 10
    /// redirects and certificates verified.
    pub fn new() -> Result<Client> {
        Client::builder().build()
    }

    /// A builder to configure a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }
}

impl Fetcher for Client {
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        let inner = Arc::clone(&self.inner);
        async move {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return Err(Error::new(
                    ErrorKind::Other,
                    "volley-tokio's Client must be awaited inside a tokio runtime",
                )
                .with_url(request.url().clone()));
            };
            // The send path (room on the wire, rules, redirects, timeout)
            // runs here; each hop's I/O runs as a task of its own, so that
            // connecting, writing and reading spread over every worker of
            // the runtime instead of all running where the caller polls,
            // and a request waiting for room on the wire is no task at all.
            // Dropping this future aborts the task (and closes its
            // connection).
            inner
                .path
                .send(request, |hop, _limit| {
                    TaskGuard(runtime.spawn(Arc::clone(&inner).send_once(hop)))
                })
                .await
        }
    }

    fn timer(&self) -> SharedTimer {
        Arc::clone(self.inner.path.timer())
    }
}

impl Inner {
    /// One request, no redirects followed, the body read within the cap.
    async fn send_once(self: Arc<Self>, request: Request) -> Result<Response> {
        let (method, uri, headers, body) = request.into_parts();
        let url = reqwest::Url::parse(&uri.to_string()).map_err(|e| {
            Error::new(ErrorKind::InvalidRequest, format!("bad URL {uri}"))
                .with_url(uri.clone())
                .with_source(e)
        })?;
        let sends_body =
            !body.is_empty() || matches!(method, Method::POST | Method::PUT | Method::PATCH);
        let mut req = reqwest::Request::new(method, url);
        *req.headers_mut() = headers;
        if sends_body {
            // hyper leaves out `content-length: 0`, which servers (like
            // `requests` and aiohttp) expect on a POST without a body.
            req.headers_mut()
                .entry(CONTENT_LENGTH)
                .or_insert_with(|| HeaderValue::from(body.len()));
            *req.body_mut() = Some(reqwest::Body::from(body));
        }

        let mut resp = self
            .http
            .execute(req)
            .await
            .map_err(|e| map_error(e, Phase::Send).with_url(uri.clone()))?;
        let status = resp.status();
        let headers = std::mem::take(resp.headers_mut());
        let with_context = |e: Error| e.with_url(uri.clone()).with_status(status);

        let mut body =
            BodyCollector::new(self.max_body_bytes, resp.content_length()).map_err(with_context)?;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| with_context(map_error(e, Phase::Body)))?
        {
            body.push(&chunk).map_err(with_context)?;
        }
        Ok(Response::new(status, uri, body.finish()).with_headers(headers))
    }
}

/// Configures a [`Client`]. Mistakes (a bad base URL or header) are kept
/// and reported by [`build`](ClientBuilder::build).
///
/// `pool_size(n)` caps the requests on the wire at once, all hosts together
/// (volley-core's [`ConnectionCap`](volley_core::adapter::ConnectionCap); by default
/// the open-files limit less an eighth), and is reqwest's
/// `pool_max_idle_per_host`: how many idle connections to each host are
/// kept (default: all).
pub type ClientBuilder = volley_core::ClientBuilder<Client>;

impl BuildClient for Client {
    fn build(config: ClientConfig) -> Result<Client> {
        let path = SendPath::new(&config, Arc::new(TokioTimer))?;
        let http = reqwest::Client::builder()
            // volley follows redirects itself, the same way on every adapter.
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.pool_size.unwrap_or(usize::MAX))
            .tcp_nodelay(true)
            .tls_danger_accept_invalid_certs(config.accept_invalid_certs)
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Other, "the HTTP client could not be built").with_source(e)
            })?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                path,
                max_body_bytes: config.max_body_bytes,
            }),
        })
    }
}

/// Where a reqwest error happened: before the response head, or while
/// reading the body.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Send,
    Body,
}

/// Maps a reqwest error onto volley's kinds, the same ones every adapter
/// gives for the same failure.
fn map_error(e: reqwest::Error, phase: Phase) -> Error {
    let facts = Facts::of(&e);
    let cause = facts.root_cause.clone().unwrap_or_else(|| e.to_string());
    let (kind, what) = if facts.too_many_open_files {
        (
            ErrorKind::Connect,
            "too many open files (raise the limit with `ulimit -n` or lower the concurrency)"
                .to_owned(),
        )
    } else if facts.bad_framing {
        (
            ErrorKind::Body,
            format!("the response's framing is invalid: {cause}"),
        )
    } else if e.is_builder() {
        (
            ErrorKind::InvalidRequest,
            format!("the request could not be built: {cause}"),
        )
    } else if phase == Phase::Body {
        if e.is_timeout() {
            (
                ErrorKind::Timeout,
                format!("timed out while reading the body: {cause}"),
            )
        } else {
            (
                ErrorKind::Body,
                format!("the connection failed while reading the body: {cause}"),
            )
        }
    } else if e.is_connect() {
        let what = if e.is_timeout() {
            "the connection timed out"
        } else if e.is_dns() {
            "the host name could not be resolved"
        } else if facts.tls {
            "the TLS handshake failed"
        } else if facts.io_kind == Some(io::ErrorKind::ConnectionRefused) {
            "connection refused"
        } else {
            "the connection failed"
        };
        (ErrorKind::Connect, format!("{what}: {cause}"))
    } else if e.is_timeout() {
        (ErrorKind::Timeout, format!("timed out: {cause}"))
    } else if e.is_request() && !facts.bad_http {
        (
            ErrorKind::Connect,
            format!("the connection closed before a response arrived: {cause}"),
        )
    } else if e.is_body() || e.is_decode() {
        (
            ErrorKind::Body,
            format!("the body could not be read: {cause}"),
        )
    } else {
        (ErrorKind::Other, cause)
    };
    Error::new(kind, what).with_source(e.without_url())
}

/// What the source chain of an error says.
#[derive(Debug, Default)]
struct Facts {
    /// The first `io::Error` kind.
    io_kind: Option<io::ErrorKind>,
    /// EMFILE (24) or ENFILE (23) somewhere.
    too_many_open_files: bool,
    /// A rustls error somewhere.
    tls: bool,
    /// hyper could not parse what the server sent.
    bad_http: bool,
    /// What it could not parse was the body's framing (two lengths, a bad
    /// chunk size): the body's end is unknowable.
    bad_framing: bool,
    /// The innermost error's message, which says what really happened
    /// ("Connection refused (os error 111)").
    root_cause: Option<String>,
}

impl Facts {
    fn of(e: &(dyn StdError + 'static)) -> Facts {
        let mut facts = Facts::default();
        facts.walk(e);
        facts
    }

    fn walk(&mut self, e: &(dyn StdError + 'static)) {
        let mut next = Some(e);
        while let Some(err) = next {
            if let Some(io_err) = err.downcast_ref::<io::Error>() {
                self.io_kind.get_or_insert(io_err.kind());
                if matches!(io_err.raw_os_error(), Some(23 | 24)) {
                    self.too_many_open_files = true;
                }
                // An io::Error's source() skips the error it wraps.
                if let Some(wrapped) = io_err.get_ref() {
                    self.walk(wrapped);
                    return;
                }
            }
            if err.is::<rustls::Error>() {
                self.tls = true;
            }
            if let Some(h) = err.downcast_ref::<hyper::Error>() {
                self.bad_http |= h.is_parse() || h.is_parse_status();
                // hyper names the framing header it could not make sense of.
                let text = h.to_string();
                self.bad_framing |= h.is_parse()
                    && (text.contains("content-length") || text.contains("transfer-encoding"));
            }
            if err.source().is_none() {
                self.root_cause = Some(err.to_string());
            }
            next = err.source();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_errors_are_deferred_to_build() {
        let err = Client::builder()
            .base_url("ftp://nope")
            .build()
            .map(|_| ())
            .map_err(|e| e.kind());
        assert_eq!(err, Err(ErrorKind::InvalidRequest));
        let err = Client::builder()
            .default_header("x-a", "a\r\nb")
            .build()
            .map(|_| ())
            .map_err(|e| e.kind());
        assert_eq!(err, Err(ErrorKind::InvalidRequest));
    }

    #[test]
    fn fetch_outside_a_runtime_is_an_error_not_a_panic() {
        let client = Client::new().expect("client");
        let req = Request::get("http://127.0.0.1:9/")
            .build()
            .expect("request");
        let err = futures::executor::block_on(client.fetch(req)).expect_err("no runtime");
        assert_eq!(err.kind(), ErrorKind::Other);
    }

    #[test]
    fn too_many_open_files_is_found_in_the_chain() {
        let emfile = io::Error::from_raw_os_error(24);
        assert!(Facts::of(&emfile).too_many_open_files);
        let wrapped = io::Error::other(io::Error::from_raw_os_error(24));
        assert!(Facts::of(&wrapped).too_many_open_files);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let facts = Facts::of(&refused);
        assert!(!facts.too_many_open_files);
        assert_eq!(facts.io_kind, Some(io::ErrorKind::ConnectionRefused));
        let tls = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(Facts::of(&tls).tls);
    }
}
