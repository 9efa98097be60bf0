//! [`Client`] and [`ClientBuilder`].

use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures_lite::io::{AsyncBufRead, AsyncBufReadExt};
use http::Uri;
use http::header::{HeaderValue, USER_AGENT};
use volley_core::{
    BodyCollector, DEFAULT_MAX_BODY_BYTES, Defaults, Error, ErrorKind, Fetcher, Redirects, Request,
    Response, Result, SharedTimer, follow_redirects, with_timeout,
};

use crate::convert;
use crate::errors::{self, Connection};
use crate::timer::AsyncStdTimer;
use crate::tls;

/// The per-request timeout when none is set.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The connect timeout when none is set.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The default cap on connections per host: more than Linux has ephemeral
/// ports for one destination (about 28,000), so in effect no cap, while the
/// slot table surf's pool preallocates per address stays bounded.
const DEFAULT_POOL_SIZE: usize = 32_768;

/// An HTTP client on async-std: a volley [`Fetcher`] over surf's HTTP/1.1
/// client (async-h1, rustls).
///
/// Cloning is cheap and clones share one connection pool. Make one client
/// and hand clones to every task.
///
/// ```no_run
/// use volley_async_std::Client;
/// use volley_core::{Fetcher, Request};
///
/// # async_std::task::block_on(async {
/// let client = Client::builder().base_url("http://127.0.0.1:8080").build()?;
/// let resp = client.fetch(Request::get("/users/1").build()?).await?;
/// let user: serde_json::Value = resp.error_for_status()?.json()?;
/// # Ok::<(), volley_core::Error>(())
/// # });
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    defaults: Defaults,
    user_agent: HeaderValue,
    timeout: Duration,
    max_body_bytes: u64,
    redirects: Redirects,
    timer: SharedTimer,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.defaults.base())
            .field("timeout", &self.inner.timeout)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .field("redirects", &self.inner.redirects)
            .field(
                "max_connections_per_host",
                &self.inner.pool.config.max_connections_per_host,
            )
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client with the default settings; the same as
    /// `Client::builder().build()`.
    pub fn new() -> Result<Client> {
        Client::builder().build()
    }

    /// A builder to configure a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl Fetcher for Client {
    fn fetch(&self, request: Request) -> impl Future<Output = Result<Response>> + Send {
        let inner = self.inner.clone();
        async move {
            let mut request = inner.defaults.apply(request)?;
            if !request.headers().contains_key(USER_AGENT) {
                request
                    .headers_mut()
                    .insert(USER_AGENT, inner.user_agent.clone());
            }
            let url = request.url().clone();
            let limit = request.timeout().unwrap_or(inner.timeout);
            let send = follow_redirects(&inner.redirects, request, |r| inner.send_once(r));
            with_timeout(&*inner.timer, Some(limit), send)
                .await
                .map_err(|e| {
                    if e.url().is_none() {
                        e.with_url(url)
                    } else {
                        e
                    }
                })
        }
    }

    fn timer(&self) -> SharedTimer {
        self.inner.timer.clone()
    }
}

impl Inner {
    /// Sends one request (no redirects) and reads its body within the cap.
    async fn send_once(&self, request: Request) -> Result<Response> {
        let url = request.url().clone();
        check_tls_host(&url)?;
        let method = request.method().clone();
        let surf_request = convert::to_surf(request)?;

        let mut lease = self.pool.lease();
        let mut response = match lease.client.send(surf_request).await {
            Ok(response) => response,
            Err(e) => {
                let (error, connection) = errors::send_error(e, &url);
                lease.done = connection == Connection::Unharmed;
                return Err(error);
            }
        };
        let status = convert::status(response.status(), &url)?;
        let headers = convert::headers(&response);
        if status.is_informational() {
            // The final response is still on the wire, unread: the lease
            // retires the pool.
            return Err(Error::new(
                ErrorKind::Other,
                format!("the server sent an interim {status} response, which surf's h1 client cannot handle"),
            )
            .with_url(url)
            .with_status(status));
        }
        if convert::has_no_body(&method, status) {
            // Nothing follows the head on the wire, whatever Content-Length says.
            lease.done = true;
            return Ok(Response::new(status, url, bytes::Bytes::new()).with_headers(headers));
        }

        if !convert::is_framed(&headers) {
            // async-h1 reads such a body as empty and leaves it on the wire.
            return Err(Error::new(
                ErrorKind::Body,
                "the response has neither Content-Length nor chunked encoding (its body \
                 ends when the connection closes), which surf's h1 client cannot read",
            )
            .with_url(url)
            .with_status(status));
        }
        let body = response.take_body();
        let declared = body.len();
        let mut collector = BodyCollector::new(self.max_body_bytes, declared.map(|n| n as u64))
            .map_err(|e| e.with_url(url.clone()).with_status(status))?;
        let mut reader = body.into_reader();
        read_body(&mut reader, &mut collector)
            .await
            .map_err(|e| match e {
                ReadError::Io(e) => errors::body_error(e, &url),
                ReadError::Cap(e) => e.with_url(url.clone()),
            })
            .map_err(|e| e.with_status(status))?;
        if let Some(declared) = declared {
            if collector.len() < declared {
                return Err(Error::new(
                    ErrorKind::Body,
                    format!(
                        "the body ended after {} of the {declared} bytes declared",
                        collector.len()
                    ),
                )
                .with_url(url)
                .with_status(status));
            }
        }
        // Read to its end: the connection is clean and goes back to the pool
        // when the reader is dropped.
        drop(reader);
        lease.done = true;
        Ok(Response::new(status, url, collector.finish()).with_headers(headers))
    }
}

enum ReadError {
    Io(std::io::Error),
    Cap(Error),
}

/// Reads the body chunk by chunk, straight from the client's buffer into the
/// collector, which stops at the cap.
async fn read_body(
    reader: &mut (dyn AsyncBufRead + Unpin + Send + Sync),
    collector: &mut BodyCollector,
) -> std::result::Result<(), ReadError> {
    loop {
        let chunk = reader.fill_buf().await.map_err(ReadError::Io)?;
        if chunk.is_empty() {
            return Ok(());
        }
        let n = chunk.len();
        collector.push(chunk).map_err(ReadError::Cap)?;
        reader.consume(n);
    }
}

/// surf's rustls (webpki 0.21) checks certificates against DNS names only,
/// so an https URL with an IP address cannot work: say so before sending.
fn check_tls_host(url: &Uri) -> Result<()> {
    if url.scheme_str() != Some("https") {
        return Ok(());
    }
    let host = url.host().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            "https to an IP address is not supported by the async-std adapter: \
             surf's rustls client verifies DNS names only; use a host name",
        )
        .with_url(url.clone()));
    }
    Ok(())
}

/// The connection pool: surf's h1 client, replaced as a whole when a
/// connection may have gone back to it in an unknown state.
///
/// surf's h1 client returns a connection to its pool when the response is
/// dropped, whether or not the body was read to its end, and reuses it
/// without checking: a request abandoned mid-way (timed out, cancelled, over
/// the size cap) would leave the next request on that connection reading
/// the old response. So each request holds a [`Lease`]; one that ends without
/// reading its response to the end retires the whole pool, and new requests
/// get a fresh one. Requests in flight on the old pool finish on it, then
/// its connections are closed.
struct Pool {
    config: http_client::Config,
    current: Mutex<Generation>,
}

struct Generation {
    id: u64,
    client: Arc<surf::Client>,
}

impl Pool {
    fn new(config: http_client::Config) -> Pool {
        let client = Arc::new(surf_client(&config));
        Pool {
            config,
            current: Mutex::new(Generation { id: 0, client }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Generation> {
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lease(&self) -> Lease<'_> {
        let current = self.lock();
        Lease {
            pool: self,
            id: current.id,
            client: current.client.clone(),
            done: false,
        }
    }

    fn retire(&self, id: u64) {
        let mut current = self.lock();
        if current.id == id {
            current.id += 1;
            current.client = Arc::new(surf_client(&self.config));
        }
    }
}

fn surf_client(config: &http_client::Config) -> surf::Client {
    let h1 = match http_client::h1::H1Client::try_from(config.clone()) {
        Ok(h1) => h1,
        Err(never) => match never {},
    };
    // No middleware: redirects and timeouts are volley's.
    let config = surf::Config::new().set_timeout(None).set_http_client(h1);
    match surf::Client::try_from(config) {
        Ok(client) => client,
        Err(never) => match never {},
    }
}

/// One request's use of the pool; dropped before `done` is set, it retires
/// the pool (see [`Pool`]).
struct Lease<'a> {
    pool: &'a Pool,
    id: u64,
    client: Arc<surf::Client>,
    done: bool,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.pool.retire(self.id);
        }
    }
}

/// Configures a [`Client`]. Mistakes (a bad base URL or header) are kept
/// and returned by [`build`](ClientBuilder::build).
///
/// ```
/// use std::time::Duration;
/// use volley_async_std::Client;
///
/// let client = Client::builder()
///     .base_url("http://127.0.0.1:8080/api")
///     .default_header("x-api-key", "secret")
///     .timeout(Duration::from_secs(5))
///     .build()?;
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until .build() is called"]
pub struct ClientBuilder {
    base_url: Option<String>,
    headers: Vec<(String, String)>,
    user_agent: Option<String>,
    timeout: Duration,
    connect_timeout: Duration,
    max_body_bytes: u64,
    pool_size: usize,
    redirects: Redirects,
    accept_invalid_certs: bool,
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: None,
            headers: Vec::new(),
            user_agent: None,
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            pool_size: DEFAULT_POOL_SIZE,
            redirects: Redirects::default(),
            accept_invalid_certs: false,
        }
    }
}

impl ClientBuilder {
    /// The base URL that request paths such as `/users/1` are resolved
    /// against (`http(s)://host[:port][/prefix]`).
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = Some(url.to_owned());
        self
    }

    /// A header sent with every request that does not set it itself.
    pub fn default_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// The `User-Agent` sent when a request sets none; default
    /// [`volley_core::USER_AGENT`] (`volley/<version>`).
    pub fn user_agent(mut self, ua: &str) -> Self {
        self.user_agent = Some(ua.to_owned());
        self
    }

    /// The time each request may take, redirects and body included, unless
    /// the request sets its own ([`Request::timeout`]); default 30 s.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = d;
        self
    }

    /// The time allowed to open a connection; default 10 s.
    ///
    /// On this adapter it is not applied on its own: surf's h1 client
    /// offers no hook into connecting, so a connection attempt is bounded by
    /// the request's [`timeout`](ClientBuilder::timeout) instead. The value
    /// is kept so that code switching adapters needs no change.
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.connect_timeout = d;
        self
    }

    /// The largest response body read, in bytes; a larger one fails with
    /// [`ErrorKind::TooLarge`] as soon as it passes the cap, without being
    /// buffered. Default [`DEFAULT_MAX_BODY_BYTES`].
    pub fn max_body_bytes(mut self, n: u64) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// The most connections open to one host (address and port) at once,
    /// idle ones included; requests past it wait for a connection.
    ///
    /// By default there is in effect no cap: 32,768, more connections than
    /// Linux has ephemeral ports for one destination. How many requests run
    /// at once is left to the caller's limit (`gather_limited`,
    /// `.limit(n)`); surf's own default of 50 is not used. Must be at least 1.
    ///
    /// surf's pool sets aside a slot table of this size for each address it
    /// connects to: about 16 bytes a slot for http and about 470 for https
    /// (some 15 MiB per https address at the default). Set it to the most
    /// connections you will really use to save that memory.
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = n;
        self
    }

    /// How redirects are followed; default [`Redirects::default`] (up to 10).
    pub fn redirects(mut self, policy: Redirects) -> Self {
        self.redirects = policy;
        self
    }

    /// Accept any TLS certificate, for any host name. **Dangerous**: anyone
    /// between the client and the server can then read and change the
    /// traffic. Only for tests against servers with self-signed
    /// certificates. Default `false`: certificates are verified against the
    /// webpki root certificates that surf's rustls client ships.
    pub fn danger_accept_invalid_certs(mut self, yes: bool) -> Self {
        self.accept_invalid_certs = yes;
        self
    }

    /// The client, or the first mistake made in configuring it
    /// ([`ErrorKind::InvalidRequest`]).
    pub fn build(self) -> Result<Client> {
        let mut defaults = Defaults::new();
        if let Some(base) = &self.base_url {
            defaults = defaults.base_url(base)?;
        }
        for (name, value) in &self.headers {
            defaults = defaults.header(name.as_str(), value.as_str())?;
        }
        let user_agent = match &self.user_agent {
            Some(ua) => HeaderValue::from_str(ua)?,
            None => HeaderValue::from_static(volley_core::USER_AGENT),
        };
        if self.pool_size == 0 {
            return Err(Error::new(
                ErrorKind::InvalidRequest,
                "pool_size must be at least 1 (surf's h1 client would wait forever for a connection)",
            ));
        }

        let mut config = http_client::Config::new()
            .set_http_keep_alive(true)
            .set_tcp_no_delay(true)
            .set_timeout(None)
            .set_max_connections_per_host(self.pool_size);
        if self.accept_invalid_certs {
            config = config.set_tls_config(Some(tls::accept_invalid_certs()));
        }

        Ok(Client {
            inner: Arc::new(Inner {
                pool: Pool::new(config),
                defaults,
                user_agent,
                timeout: self.timeout,
                max_body_bytes: self.max_body_bytes,
                redirects: self.redirects,
                timer: Arc::new(AsyncStdTimer),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_defers_mistakes_to_build() {
        let kind = |b: ClientBuilder| b.build().map(|_| ()).map_err(|e| e.kind());
        assert_eq!(
            kind(Client::builder().base_url("not a url")),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Client::builder().default_header("x-a", "a\r\nb: c")),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Client::builder().user_agent("bad\nua")),
            Err(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            kind(Client::builder().pool_size(0)),
            Err(ErrorKind::InvalidRequest)
        );
        assert!(
            Client::builder()
                .danger_accept_invalid_certs(true)
                .build()
                .is_ok()
        );
    }

    #[test]
    fn https_to_an_ip_is_refused_before_sending() {
        let ip = Uri::from_static("https://127.0.0.1:8443/x");
        assert_eq!(
            check_tls_host(&ip).map_err(|e| e.kind()),
            Err(ErrorKind::InvalidRequest)
        );
        assert!(check_tls_host(&Uri::from_static("https://[::1]/x")).is_err());
        assert!(check_tls_host(&Uri::from_static("https://localhost/x")).is_ok());
        assert!(check_tls_host(&Uri::from_static("http://127.0.0.1/x")).is_ok());
    }

    #[test]
    fn default_pool_has_no_cap_of_50() {
        let client = Client::new().expect("default client");
        assert_eq!(
            client.inner.pool.config.max_connections_per_host,
            DEFAULT_POOL_SIZE
        );
        let client = Client::builder().pool_size(7).build().expect("client");
        assert_eq!(client.inner.pool.config.max_connections_per_host, 7);
    }
}
