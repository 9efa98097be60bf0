//! [`Client`] and [`ClientBuilder`].

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::executor::block_on;
use ureq::config::AutoHeaderValue;
use volley_core::http::header::EXPECT;
use volley_core::http::{self, Method};
use volley_core::{
    Error, ErrorKind, Redirects, Request, Response, Result,
    adapter::{
        BodyRules, BuildClient, ClientConfig, ConnectionCap, Defaults, Proxies, Proxy,
        follow_redirects,
    },
};

use crate::errors::{Phase, map_error};

/// From this body size on, a request asks the server first
/// (`Expect: 100-continue`) and sends the body only once it says go on, or
/// after a second of silence (a server that ignores the header). curl does
/// the same for uploads of 1 MiB and more.
const EXPECT_CONTINUE_FROM: usize = 1024 * 1024;

/// How much of the body is read from the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// A synchronous HTTP client on ureq: [`fetch`](Client::fetch) sends one
/// request and blocks until its response is read.
///
/// Cloning is cheap and clones share one connection pool; a client can be
/// used from several threads at once.
///
/// ```no_run
/// use volley_core::Request;
/// let client = volley_blocking::Client::builder().base_url("http://127.0.0.1:8080").build()?;
/// let resp = client.fetch(Request::get("/users/1").build()?)?;
/// println!("{}", resp.text()?);
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    cap: ConnectionCap,
    defaults: Defaults,
    timeout: Duration,
    body: BodyRules,
    redirects: Redirects,
    proxies: Proxies,
    http_proxy: Option<ureq::Proxy>,
    https_proxy: Option<ureq::Proxy>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.defaults.base())
            .field("timeout", &self.inner.timeout)
            .field("body", &self.inner.body)
            .field("redirects", &self.inner.redirects)
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

    /// Sends `request`, follows redirects and reads the whole body, blocking
    /// the calling thread until it is done or the timeout has passed.
    ///
    /// A response with an error status is still `Ok`; call
    /// [`Response::error_for_status`] to turn it into an error.
    pub fn fetch(&self, request: Request) -> Result<Response> {
        let inner = &*self.inner;
        let request = inner.defaults.apply(request)?;
        // Room on the wire, shared by every thread using this client; the
        // wait does not count against the timeout.
        let _permit = inner.cap.acquire_blocking();
        let url = request.url().clone();
        let limit = request.timeout().unwrap_or(inner.timeout);
        // One budget for the whole exchange, redirects included, as the
        // async adapters have.
        let deadline = Instant::now().checked_add(limit);
        let out = block_on(follow_redirects(
            &inner.redirects,
            Some(&inner.cap),
            request,
            |r| std::future::ready(inner.send_once(r, deadline, limit)),
        ));
        out.map_err(|e| e.or_url(url))
    }
}

impl Inner {
    /// One request, no redirects followed, the body read within the cap.
    fn send_once(
        &self,
        request: Request,
        deadline: Option<Instant>,
        limit: Duration,
    ) -> Result<Response> {
        let remaining = match deadline {
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Err(Error::timeout(limit).with_url(request.url().clone()));
                }
                Some(left)
            }
            None => None,
        };
        let (method, uri, headers, body) = request.into_parts();
        let sends_body =
            !body.is_empty() || matches!(method, Method::POST | Method::PUT | Method::PATCH);

        let mut builder = http::Request::builder().method(method).uri(uri.clone());
        if let Some(h) = builder.headers_mut() {
            *h = headers;
            if body.len() >= EXPECT_CONTINUE_FROM && !h.contains_key(EXPECT) {
                // ureq writes the whole body before it reads a byte of the
                // response: asked first, a server that refuses the upload
                // (413, 401) answers before it is sent.
                h.insert(EXPECT, http::HeaderValue::from_static("100-continue"));
            }
        }
        let sent = if sends_body {
            builder
                .body(&body[..])
                .map_err(Error::from)
                .and_then(|req| self.run(req, remaining, limit))
        } else {
            builder
                .body(())
                .map_err(Error::from)
                .and_then(|req| self.run(req, remaining, limit))
        };
        let mut resp = sent.map_err(|e| e.with_url(uri.clone()))?;

        let status = resp.status();
        let version = resp.version();
        let headers = std::mem::take(resp.headers_mut());
        let with_context = |e: Error| e.with_url(uri.clone()).with_status(status);

        let body = resp.body_mut();
        let mut collected = self
            .body
            .collector(body.content_length(), &headers)
            .map_err(with_context)?;
        let mut reader = body.as_reader();
        let mut buf = vec![0u8; READ_CHUNK];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => collected.push(&buf[..n]).map_err(with_context)?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(with_context(map_error(
                        ureq::Error::from(e),
                        Phase::Body,
                        limit,
                    )));
                }
            }
        }
        collected
            .into_response(status, uri.clone(), headers)
            .map(|resp| resp.with_version(version))
            .map_err(with_context)
    }

    /// Runs one request on the agent with `remaining` as its time budget.
    fn run<S: ureq::AsSendBody>(
        &self,
        request: http::Request<S>,
        remaining: Option<Duration>,
        limit: Duration,
    ) -> Result<http::Response<ureq::Body>> {
        // volley-core's choice of proxy, for every hop.
        let proxy =
            self.proxies
                .for_url(request.uri())
                .and_then(|_| match request.uri().scheme_str() {
                    Some("https") => self.https_proxy.clone(),
                    _ => self.http_proxy.clone(),
                });
        let request = self
            .agent
            .configure_request(request)
            .timeout_per_call(remaining)
            .proxy(proxy)
            .build();
        self.agent
            .run(request)
            .map_err(|e| map_error(e, Phase::Send, limit))
    }
}

/// Configures a [`Client`]. Mistakes (a bad base URL or header) are kept
/// and reported by [`build`](ClientBuilder::build).
///
/// `pool_size(n)` caps the requests on the wire at once from all threads
/// (volley-core's [`ConnectionCap`]; by default
/// the open-files limit less an eighth), and is ureq's idle connections kept
/// per host (default: all).
///
/// ureq speaks HTTP/1.1 only: `http2_prior_knowledge()` makes
/// [`build`](volley_core::ClientBuilder::build) fail with
/// [`ErrorKind::InvalidRequest`](volley_core::ErrorKind::InvalidRequest).
pub type ClientBuilder = volley_core::ClientBuilder<Client>;

impl BuildClient for Client {
    fn build(config: ClientConfig) -> Result<Client> {
        config.require_http1_only("volley-blocking")?;
        let defaults = config.defaults()?;
        let tls = crate::tls::tls_config(&config)?;
        let agent_config = ureq::Agent::config_builder()
            // Error statuses are responses; volley follows redirects itself.
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .allow_non_standard_methods(true)
            // volley sends its own user agent on every request.
            .user_agent(AutoHeaderValue::None)
            .timeout_connect(Some(config.connect_timeout))
            .max_idle_connections(usize::MAX)
            .max_idle_connections_per_host(config.pool_size.unwrap_or(usize::MAX))
            .no_delay(true)
            .tls_config(tls)
            // volley-core chooses the proxy of every request; ureq reads
            // no environment of its own.
            .proxy(None)
            .build();
        let proxies = config.proxies()?;
        let (http_proxy, https_proxy) = (
            ureq_proxy(proxies.for_scheme("http"))?,
            ureq_proxy(proxies.for_scheme("https"))?,
        );

        Ok(Client {
            inner: Arc::new(Inner {
                agent: ureq::Agent::new_with_config(agent_config),
                cap: ConnectionCap::new(config.connection_cap()),
                defaults,
                timeout: config.timeout,
                body: config.body_rules(),
                redirects: config.redirects,
                proxies,
                http_proxy,
                https_proxy,
            }),
        })
    }
}

/// `proxy` as ureq takes it. ureq reaches every origin through an HTTP
/// proxy with a `CONNECT` tunnel, plain `http` ones too.
fn ureq_proxy(proxy: Option<&Proxy>) -> Result<Option<ureq::Proxy>> {
    let Some(proxy) = proxy else {
        return Ok(None);
    };
    let authority = proxy.authority();
    let mut builder = ureq::Proxy::builder(ureq::ProxyProtocol::Http)
        .host(
            authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']'),
        )
        .port(authority.port_u16().unwrap_or(80));
    if let Some((user, password)) = proxy.credentials() {
        builder = builder.username(user).password(password);
    }
    builder.build().map(Some).map_err(|e| {
        Error::new(
            ErrorKind::InvalidRequest,
            format!("the proxy {authority} could not be used"),
        )
        .with_source(e)
    })
}
