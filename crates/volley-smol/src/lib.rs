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
//! This adapter speaks HTTP/1.1 (with keep-alive) and HTTPS through rustls,
//! built into a statically linked libcurl; it needs a C compiler to build.
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
#![forbid(unsafe_code)]

mod agents;

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::{Duration, Instant};

use agents::{Agents, agent_caps, agent_count};
use futures_lite::io::AsyncReadExt;
use http::{Method, StatusCode, Uri};
use isahc::AsyncBody;
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy};
use volley_core::{
    Error, ErrorKind, Fetcher, Request, Response, Result,
    adapter::{BodyCollector, BuildClient, ClientConfig, SendPath},
    rt::{SharedTimer, Sleep, Timer},
};

/// How many idle connections libcurl keeps, across all hosts, when no pool
/// size is set: large enough that a batch of thousands of concurrent calls
/// reuses its connections in the next batch.
const DEFAULT_CONNECTION_CACHE: usize = 10_000;

/// The largest read from a response body at a time.
const READ_CHUNK: usize = 16 * 1024;

/// How long libcurl's own timeout runs past volley's. Volley's timer ends the
/// request; libcurl's timeout only makes sure the abandoned transfer (and its
/// socket) is closed soon after, since libcurl notices a dropped future only
/// when the server next sends something.
const CURL_TIMEOUT_GRACE: Duration = Duration::from_millis(50);

/// Past this, no libcurl timeout is set at all (the request waits as long as
/// volley's timer says).
const CURL_TIMEOUT_MAX: Duration = Duration::from_secs(24 * 60 * 60);

/// smol's timer ([`async_io::Timer`]) as a [`volley_core::rt::Timer`].
///
/// ```
/// use std::time::Duration;
/// use volley_core::rt::Timer;
/// use volley_smol::SmolTimer;
///
/// smol::block_on(SmolTimer.sleep(Duration::from_millis(1)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolTimer;

impl Timer for SmolTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(async move {
            // A duration too large for an `Instant` gives a timer that never fires.
            async_io::Timer::after(duration).await;
        })
    }
}

/// An HTTP client on smol, implementing [`Fetcher`].
///
/// Cheap to clone: clones share the client's libcurl agents (one thread and
/// one connection pool each, one agent per core up to four; every request
/// goes through the least busy). Make one and hand clones to every task.
/// A pool size set on the builder is shared out between the agents.
///
/// ```no_run
/// use volley_core::{Fetcher, Request};
/// # fn main() -> volley_core::Result<()> {
/// smol::block_on(async {
///     let client = volley_smol::Client::new()?;
///     let resp = client.fetch(Request::get("http://127.0.0.1:8080/users/1").build()?).await?;
///     println!("{}", resp.text()?);
///     Ok(())
/// })
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agents: Agents,
    path: SendPath,
    max_body_bytes: u64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("defaults", self.inner.path.defaults())
            .field("redirects", &self.inner.path.redirects())
            .field("timeout", &self.inner.path.timeout())
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the default settings; the same as `Client::builder().build()`.
    pub fn new() -> Result<Client> {
        Client::builder().build()
    }

    /// A builder to configure a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// Sends one request (no redirect following) and reads its body within the cap.
    ///
    /// `deadline` is when volley's timeout ends the whole exchange; libcurl is
    /// told to give up a little later so an abandoned transfer is closed.
    async fn send_once(&self, request: Request, deadline: Option<Instant>) -> Result<Response> {
        let (method, url, headers, body) = request.into_parts();
        let body = unrepeatable_body(&method, body);
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(url.clone());
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now()) + CURL_TIMEOUT_GRACE;
            if left <= CURL_TIMEOUT_MAX {
                builder = builder.timeout(left);
            }
        }
        let mut req = builder.body(body).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                "the request could not be assembled",
            )
            .with_url(url.clone())
            .with_source(e)
        })?;
        *req.headers_mut() = headers;

        let (agent, _busy) = self.inner.agents.pick();
        let resp = agent.send_async(req).await.map_err(|e| {
            // libcurl's timeout runs past volley's, so one that ends
            // before volley's deadline is its connect timeout.
            let early = deadline.is_none_or(|deadline| Instant::now() < deadline);
            map_send_error(e, &url, early)
        })?;

        let (parts, mut body) = resp.into_parts();
        let status = parts.status;
        let declared = if has_no_body(&method, status) {
            None
        } else {
            body.len()
        };
        let mut collected = BodyCollector::new(self.inner.max_body_bytes, declared)
            .map_err(|e| e.with_url(url.clone()).with_status(status))?;
        let chunk = declared.map_or(READ_CHUNK, |n| {
            usize::try_from(n)
                .unwrap_or(READ_CHUNK)
                .clamp(256, READ_CHUNK)
        });
        let mut buf = vec![0u8; chunk];
        loop {
            match body.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => collected
                    .push(&buf[..n])
                    .map_err(|e| e.with_url(url.clone()).with_status(status))?,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(map_body_error(e, &url, status)),
            }
        }
        Ok(Response::new(status, url, collected.finish()).with_headers(parts.headers))
    }
}

impl Fetcher for Client {
    // Not `async fn`: the send path's future is the whole of it, with the
    // request kept once.
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        self.inner.path.send(request, |hop, limit| {
            self.send_once(hop, Instant::now().checked_add(limit))
        })
    }

    fn timer(&self) -> SharedTimer {
        Arc::clone(self.inner.path.timer())
    }
}

/// Configures a [`Client`]. Mistakes (a bad base URL or header) are reported
/// by [`build`](ClientBuilder::build).
///
/// ```no_run
/// use std::time::Duration;
/// use volley_core::Redirects;
/// let client = volley_smol::Client::builder()
///     .base_url("https://api.example.test/v1")
///     .default_header("authorization", "Bearer token")
///     .user_agent("my-app/1.0")
///     .timeout(Duration::from_secs(5))
///     .connect_timeout(Duration::from_secs(2))
///     .max_body_bytes(8 * 1024 * 1024)
///     .pool_size(64)
///     .redirects(Redirects::limited(3))
///     .build()?;
/// # Ok::<(), volley_core::Error>(())
/// ```
///
/// `pool_size(n)` caps the requests on the wire at once, all hosts together
/// (volley-core's [`ConnectionCap`](volley_core::adapter::ConnectionCap); by default
/// the open-files limit less an eighth), and is libcurl's maximum
/// connections per host (default: no cap), shared out between the client's agents so that together they open
/// at most `n`, and sizes their connection caches.
pub type ClientBuilder = volley_core::ClientBuilder<Client>;

impl BuildClient for Client {
    fn build(config: ClientConfig) -> Result<Client> {
        let path = SendPath::new(&config, Arc::new(SmolTimer))?;
        let per_host = config.pool_size.unwrap_or(0);
        let tls = isahc::tls::TlsConfig::builder()
            .danger_accept_invalid_certs(config.accept_invalid_certs)
            .danger_accept_invalid_hosts(config.accept_invalid_certs)
            .build();
        let agents = agent_caps(per_host, agent_count())
            .into_iter()
            .map(|cap| {
                isahc::HttpClient::builder()
                    .max_connections_per_host(cap)
                    .connection_cache_size(per_host.max(DEFAULT_CONNECTION_CACHE))
                    .tcp_nodelay()
                    // libcurl reads 0 as "the default of 300 s".
                    .connect_timeout(config.connect_timeout.max(Duration::from_millis(1)))
                    .redirect_policy(RedirectPolicy::None)
                    .automatic_decompression(false)
                    .expect_continue(ExpectContinue::disabled())
                    .tls_config(tls.clone())
                    .build()
                    .map_err(|e| {
                        Error::new(
                            ErrorKind::Other,
                            "the HTTP client (libcurl agent) could not start",
                        )
                        .with_source(e)
                    })
            })
            .collect::<Result<Vec<_>>>()?;

        Ok(Client {
            inner: Arc::new(Inner {
                agents: Agents::new(agents),
                path,
                max_body_bytes: config.max_body_bytes,
            }),
        })
    }
}

/// The request body as libcurl gets it: one it cannot rewind, so that when
/// a pooled connection dies after the request was written, libcurl fails
/// the request (`CURLE_SEND_FAIL_REWIND`) instead of silently sending it
/// again on a fresh connection. A non-idempotent request without a body is
/// sent with an empty chunked body for the same reason (libcurl re-sends a
/// body-less request without asking). Idempotent body-less requests (GET,
/// HEAD, DELETE, ...) have no body to refuse the rewind with: libcurl may
/// send those once more on a fresh connection when a reused one died
/// before any byte of the response came back.
fn unrepeatable_body(method: &Method, body: bytes::Bytes) -> AsyncBody {
    if !body.is_empty() {
        let len = body.len() as u64;
        return AsyncBody::from_reader_sized(futures_lite::io::Cursor::new(body), len);
    }
    if is_idempotent(method) {
        AsyncBody::empty()
    } else {
        AsyncBody::from_reader(futures_lite::io::empty())
    }
}

fn is_idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

/// True when the response cannot have a body, whatever its `Content-Length` says.
fn has_no_body(method: &Method, status: StatusCode) -> bool {
    *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// Maps a failure of isahc's send (no response has arrived) onto volley's
/// kinds. `early`: it came before volley's own deadline.
fn map_send_error(e: isahc::Error, url: &Uri, early: bool) -> Error {
    use isahc::error::ErrorKind as K;
    let connect_failed = matches!(e.kind(), K::ConnectionFailed | K::Io);
    let (kind, message) = if is_emfile(&e) || (connect_failed && out_of_fds()) {
        (
            ErrorKind::Connect,
            "too many open files: raise the open-files limit or lower the concurrency",
        )
    } else {
        match e.kind() {
            K::ConnectionFailed => (ErrorKind::Connect, "the connection could not be made"),
            K::NameResolution => (ErrorKind::Connect, "the host name could not be resolved"),
            K::BadServerCertificate
            | K::BadClientCertificate
            | K::TlsEngine
            | K::InvalidTlsConfiguration => (ErrorKind::Connect, "the TLS handshake failed"),
            K::Io if curl_code(&e).is_some_and(|c| c.is_send_fail_rewind()) => (
                ErrorKind::Connect,
                "the connection closed before a response arrived (the request was not sent again)",
            ),
            K::Io => (
                ErrorKind::Connect,
                "the connection failed before a response arrived",
            ),
            K::ProtocolViolation
                if curl_code(&e).is_some_and(|c| c.code() == CURLE_WEIRD_SERVER_REPLY) =>
            {
                (
                    ErrorKind::Body,
                    "the response's head or framing is invalid (such as two different lengths)",
                )
            }
            K::ProtocolViolation if curl_code(&e).is_some_and(|c| c.is_got_nothing()) => (
                ErrorKind::Connect,
                "the connection was closed before any response arrived",
            ),
            K::Timeout if early => (ErrorKind::Connect, "the connection timed out"),
            K::Timeout => (ErrorKind::Timeout, "libcurl timed out"),
            K::InvalidRequest => (ErrorKind::InvalidRequest, "libcurl refused the request"),
            K::TooManyRedirects => (ErrorKind::Redirect, "too many redirects"),
            _ => (ErrorKind::Other, ""),
        }
    };
    Error::new(kind, message)
        .with_url(url.clone())
        .with_source(e)
}

/// Maps a failure while reading the body (the response had arrived).
fn map_body_error(e: std::io::Error, url: &Uri, status: StatusCode) -> Error {
    let (kind, message) = if e.kind() == std::io::ErrorKind::TimedOut {
        (ErrorKind::Timeout, "timed out while reading the body")
    } else {
        (
            ErrorKind::Body,
            "the connection broke before the body was complete",
        )
    };
    Error::new(kind, message)
        .with_url(url.clone())
        .with_status(status)
        .with_source(e)
}

/// The libcurl error behind an isahc error, if there is one.
fn curl_code(e: &isahc::Error) -> Option<&curl::Error> {
    let mut cause: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(c) = cause {
        if let Some(curl) = c.downcast_ref::<curl::Error>() {
            return Some(curl);
        }
        cause = c.source();
    }
    None
}

/// libcurl's "weird server reply": a response head it could not make sense
/// of, such as two different `Content-Length`s (`curl-sys` has no name for
/// it in the `curl` crate's API).
const CURLE_WEIRD_SERVER_REPLY: u32 = 8;

/// `EMFILE` (this process) and `ENFILE` (the whole system) on Linux and the BSDs.
const EMFILE: i32 = 24;
const ENFILE: i32 = 23;

/// True when this process cannot open one more socket right now.
///
/// libcurl reports a `socket()` that failed for lack of descriptors as a
/// plain "could not connect", without the OS error; so after a failed
/// connect, one socket is opened (and closed at once) to tell that case apart.
fn out_of_fds() -> bool {
    if !cfg!(unix) {
        return false;
    }
    match std::net::UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0)) {
        Ok(_) => false,
        Err(e) => matches!(e.raw_os_error(), Some(EMFILE | ENFILE)),
    }
}

/// True when the error itself says the process ran out of file descriptors.
fn is_emfile(e: &isahc::Error) -> bool {
    if e.to_string()
        .to_ascii_lowercase()
        .contains("too many open files")
    {
        return true;
    }
    let mut cause: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<std::io::Error>() {
            if matches!(io.raw_os_error(), Some(EMFILE | ENFILE)) && cfg!(unix) {
                return true;
            }
        }
        if c.to_string()
            .to_ascii_lowercase()
            .contains("too many open files")
        {
            return true;
        }
        cause = c.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodyless_responses_ignore_content_length() {
        assert!(has_no_body(&Method::HEAD, StatusCode::OK));
        assert!(has_no_body(&Method::GET, StatusCode::NOT_MODIFIED));
        assert!(has_no_body(&Method::GET, StatusCode::NO_CONTENT));
        assert!(!has_no_body(&Method::GET, StatusCode::OK));
    }

    /// This workspace builds libcurl with `-DHTTP_ONLY` (`.cargo/config.toml`):
    /// the second wall behind volley-core's scheme check.
    #[test]
    fn libcurl_speaks_http_and_nothing_else() {
        let version = curl::Version::get();
        let protocols: Vec<&str> = version.protocols().collect();
        assert!(protocols.contains(&"http"), "{protocols:?}");
        assert!(
            protocols.iter().all(|p| matches!(*p, "http" | "https")),
            "libcurl was built with {protocols:?}"
        );
    }

    #[test]
    fn builder_errors_are_deferred_to_build() {
        let kind = |b: ClientBuilder| b.build().map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            kind(Client::builder().base_url("not a url")),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Client::builder().default_header("x-a", "bad\r\nvalue")),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Client::builder().user_agent("bad\nua")),
            Err(ErrorKind::InvalidRequest)
        );
    }
}
