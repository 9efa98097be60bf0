//! [`Client`] and [`ClientBuilder`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_lite::io::AsyncReadExt;
use http::{HeaderMap, Method, Uri};
use isahc::AsyncBody;
use isahc::auth::{Authentication, Credentials};
use isahc::config::{Configurable, ExpectContinue, RedirectPolicy, VersionNegotiation};
use volley_core::{
    Error, ErrorKind, Fetcher, Request, Response, Result,
    adapter::{BodyRules, BuildClient, ClientConfig, Proxies, SendPath, response_has_no_body},
    rt::SharedTimer,
};

use crate::agents::{Agents, agent_caps, agent_count};
use crate::errors::{map_body_error, map_send_error};
use crate::timer::SmolTimer;

/// How many idle connections libcurl keeps, across all hosts, when no pool
/// size is set: large enough that a batch of thousands of concurrent calls
/// reuses its connections in the next batch.
const DEFAULT_CONNECTION_CACHE: usize = 10_000;

/// With prior knowledge, the most HTTP/2 connections each agent opens to a
/// host. libcurl carries up to 100 streams on each, so an agent has up to
/// 1,000 requests at once on the wire to a host; more wait inside libcurl
/// for a stream. The cap is also what makes a burst wait for the first
/// connection to say it multiplexes, instead of opening one per request.
const H2_CONNECTIONS_PER_AGENT: usize = 10;

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
    proxies: Proxies,
    /// The agents' libcurl timeout: a little after the client's.
    curl_timeout: Option<Duration>,
    body: BodyRules,
    /// Where libcurl reads the trusted roots and the client identity; kept
    /// while the agents live.
    _tls_files: crate::tls::TlsFiles,
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
    /// `deadline` is when volley's timeout ends the request (this hop gets
    /// what is left of its time); libcurl is told to give up a little later
    /// so an abandoned transfer is closed.
    fn send_once(
        &self,
        request: Request,
        deadline: Option<Instant>,
    ) -> impl Future<Output = Result<Response>> + Send + '_ {
        // The request is handed to isahc before the future is made, so the
        // future keeps isahc's boxed transfer, not the request.
        let (method, url, headers, body) = request.into_parts();
        let sent = self
            .assemble(&method, &url, headers, body, deadline)
            .map(|req| {
                let (agent, busy) = self.inner.agents.pick();
                (agent.send_async(req), busy)
            });
        async move {
            let (sent, _busy) = sent?;
            let resp = sent.await.map_err(|e| {
                // libcurl's timeout runs past volley's, so one that ends
                // before volley's deadline is its connect timeout.
                let early = deadline.is_none_or(|deadline| Instant::now() < deadline);
                map_send_error(e, &url, early)
            })?;
            self.read(resp, method, url).await
        }
    }

    /// isahc's request for one hop: volley-core's proxy choice, and
    /// libcurl's own timeout a little after volley's `deadline`.
    fn assemble(
        &self,
        method: &Method,
        url: &Uri,
        headers: HeaderMap,
        body: Bytes,
        deadline: Option<Instant>,
    ) -> Result<http::Request<AsyncBody>> {
        let body = unrepeatable_body(method, body);
        let mut builder = http::Request::builder()
            .method(method.clone())
            .uri(url.clone());
        // volley-core's choice of proxy, for every hop. Direct is the
        // agents' own setting (no proxy, none read from the environment).
        // A setting of a request's own costs isahc a copy of its whole
        // configuration (808 bytes, in a map of its own), so only what
        // differs from the agents' is set.
        if let Some(proxy) = self.inner.proxies.for_url(url) {
            builder = builder.proxy(Some(proxy.uri()));
            if let Some((user, password)) = proxy.credentials() {
                builder = builder
                    .proxy_authentication(Authentication::basic())
                    .proxy_credentials(Credentials::new(user, password));
            }
        }
        // The agents' libcurl timeout ends within the grace of volley's
        // deadline for a hop that has the client's whole timeout: only a
        // hop with more or less time left gets its own.
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(Instant::now()) + CURL_TIMEOUT_GRACE;
            let agents_timeout = self.inner.curl_timeout.unwrap_or(CURL_TIMEOUT_MAX);
            if left <= CURL_TIMEOUT_MAX && left.abs_diff(agents_timeout) > CURL_TIMEOUT_GRACE {
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
        Ok(req)
    }

    /// The response's body, read within the cap.
    async fn read(
        &self,
        resp: http::Response<AsyncBody>,
        method: Method,
        url: Uri,
    ) -> Result<Response> {
        let (parts, mut body) = resp.into_parts();
        let status = parts.status;
        let version = parts.version;
        let declared = if response_has_no_body(&method, status) {
            None
        } else {
            body.len()
        };
        let mut collected = self
            .inner
            .body
            .collector(declared, &parts.headers)
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
        collected
            .into_response(status, url.clone(), parts.headers)
            .map(|resp| resp.with_version(version))
            .map_err(|e| e.with_url(url).with_status(status))
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

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = &self.inner;
        inner
            .path
            .debug_client(f, &inner.body)
            .finish_non_exhaustive()
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
///
/// `http2_prior_knowledge()` is libcurl's HTTP/2 with prior knowledge
/// (isahc's `VersionNegotiation::http2()`): plain `http://` in HTTP/2 from
/// the first byte (h2c). Without it, `http://` is HTTP/1.1 and `https://`
/// offers HTTP/2 and HTTP/1.1 by ALPN. On HTTP/2 libcurl multiplexes the
/// requests of each agent over its connections to a host, up to 100 streams
/// on each (or fewer, as the server says). With prior knowledge each agent
/// opens at most 10 connections to a host (fewer when the pool size's share
/// is smaller): up to 1,000 requests of an agent on the wire to a host at
/// once, the rest waiting inside libcurl for a stream (within their
/// timeout). Over https without it, a burst may open a connection per
/// request before the first says it speaks HTTP/2.
pub type ClientBuilder = volley_core::ClientBuilder<Client>;

impl BuildClient for Client {
    fn build(config: ClientConfig) -> Result<Client> {
        let path = SendPath::new(&config, Arc::new(SmolTimer))?;
        let proxies = config.proxies()?;
        let per_host = config.pool_size.unwrap_or(0);
        let (tls, tls_files) = crate::tls::tls_config(&config)?;
        let version = if config.http2_prior_knowledge {
            VersionNegotiation::http2()
        } else {
            // HTTP/2 by ALPN over https, HTTP/1.1 over plain http.
            VersionNegotiation::latest_compatible()
        };
        let curl_timeout = Some(config.timeout + CURL_TIMEOUT_GRACE)
            .filter(|timeout| *timeout <= CURL_TIMEOUT_MAX);
        let agents = agent_caps(per_host, agent_count())
            .into_iter()
            .map(|cap| match config.http2_prior_knowledge {
                // 0 is "no cap" to libcurl.
                true if cap == 0 => H2_CONNECTIONS_PER_AGENT,
                true => cap.min(H2_CONNECTIONS_PER_AGENT),
                false => cap,
            })
            .map(|cap| {
                let builder = isahc::HttpClient::builder();
                match curl_timeout {
                    Some(timeout) => builder.timeout(timeout),
                    None => builder,
                }
                .max_connections_per_host(cap)
                .connection_cache_size(per_host.max(DEFAULT_CONNECTION_CACHE))
                .tcp_nodelay()
                // libcurl reads 0 as "the default of 300 s".
                .connect_timeout(config.connect_timeout.max(Duration::from_millis(1)))
                .redirect_policy(RedirectPolicy::None)
                // volley-core asks for compression and decodes it;
                // libcurl hands the bytes over as they came.
                .automatic_decompression(false)
                .expect_continue(ExpectContinue::disabled())
                .version_negotiation(version.clone())
                // No proxy from the environment, no hosts skipped by
                // libcurl's reading of `no_proxy`: volley-core decides.
                .proxy(None)
                .proxy_blacklist(Vec::<String>::new())
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
                proxies,
                curl_timeout,
                body: config.body_rules(),
                _tls_files: tls_files,
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

#[cfg(test)]
mod tests {
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
}
