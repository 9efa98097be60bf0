//! [`Client`] and [`ClientBuilder`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use volley_core::http::header::{CONTENT_LENGTH, HeaderValue};
use volley_core::http::{Method, Uri};
use volley_core::{
    Error, ErrorKind, Fetcher, Request, Response, Result,
    adapter::{BodyRules, BuildClient, ClientConfig, Proxies, SendPath},
    rt::SharedTimer,
};

use crate::errors::{Phase, map_error};
use crate::timer::TokioTimer;

/// An HTTP client on tokio and reqwest that implements [`Fetcher`].
///
/// Cloning is cheap and clones share one connection pool. Requests must be
/// awaited inside a tokio runtime; outside one, [`Fetcher::fetch`] returns
/// an [`ErrorKind::Other`] error instead of sending. A request runs where
/// it is polled, as with reqwest alone; hyper gives each connection a task
/// of its own that reads and writes it on the runtime's workers. Dropping
/// the request's future drops the exchange and closes its connection.
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
    body: BodyRules,
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
        let inner = &self.inner;
        async move {
            if tokio::runtime::Handle::try_current().is_err() {
                return Err(Error::new(
                    ErrorKind::Other,
                    "volley-tokio's Client must be awaited inside a tokio runtime",
                )
                .with_url(request.url().clone()));
            };
            // The send path (room on the wire, rules, redirects, timeout)
            // and each hop run here, in the caller's task, as with reqwest
            // alone; hyper's connection tasks read and write on the
            // runtime's workers. Dropping this future drops the exchange
            // (and closes its connection).
            inner
                .path
                .send(request, |hop, _limit| Arc::clone(inner).send_once(hop))
                .await
        }
    }

    fn timer(&self) -> SharedTimer {
        Arc::clone(self.inner.path.timer())
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &self.inner;
        inner
            .path
            .debug_client(f, &inner.body)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// One request, no redirects followed, the body read within the cap.
    /// The request is handed to reqwest before the future is made, so the
    /// future keeps reqwest's small handle, not the request.
    fn send_once(self: Arc<Self>, request: Request) -> impl Future<Output = Result<Response>> {
        let (method, uri, headers, body) = request.into_parts();
        let pending = reqwest::Url::parse(&uri.to_string())
            .map(|url| {
                let sends_body = !body.is_empty()
                    || matches!(method, Method::POST | Method::PUT | Method::PATCH);
                let mut req = reqwest::Request::new(method, url);
                *req.headers_mut() = headers;
                if sends_body {
                    // hyper leaves out `content-length: 0`, which servers
                    // (like `requests` and aiohttp) expect on a POST
                    // without a body.
                    req.headers_mut()
                        .entry(CONTENT_LENGTH)
                        .or_insert_with(|| HeaderValue::from(body.len()));
                    *req.body_mut() = Some(reqwest::Body::from(body));
                }
                self.http.execute(req)
            })
            .map_err(|e| {
                Error::new(ErrorKind::InvalidRequest, format!("bad URL {uri}"))
                    .with_url(uri.clone())
                    .with_source(e)
            });
        async move { self.read(pending?, uri).await }
    }

    /// The response to `pending`, its body read within the cap.
    async fn read(
        &self,
        pending: impl Future<Output = reqwest::Result<reqwest::Response>>,
        uri: Uri,
    ) -> Result<Response> {
        let mut resp = pending
            .await
            .map_err(|e| map_error(e, Phase::Send).with_url(uri.clone()))?;
        let status = resp.status();
        let version = resp.version();
        let headers = std::mem::take(resp.headers_mut());
        let with_context = |e: Error| e.with_url(uri.clone()).with_status(status);

        let mut body = self
            .body
            .collector(resp.content_length(), &headers)
            .map_err(with_context)?;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| with_context(map_error(e, Phase::Body)))?
        {
            body.push(&chunk).map_err(with_context)?;
        }
        body.into_response(status, uri.clone(), headers)
            .map(|resp| resp.with_version(version))
            .map_err(with_context)
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
///
/// `http2_prior_knowledge()` is reqwest's: plain `http://` in HTTP/2 from
/// the first byte (h2c), and `https://` offering HTTP/2 alone. Without it,
/// `http://` is HTTP/1.1 and `https://` offers HTTP/2 and HTTP/1.1 by ALPN.
/// On HTTP/2 reqwest keeps one connection per host and every request to it
/// is a stream on that connection.
pub type ClientBuilder = volley_core::ClientBuilder<Client>;

impl BuildClient for Client {
    fn build(config: ClientConfig) -> Result<Client> {
        let path = SendPath::new(&config, Arc::new(TokioTimer))?;
        let mut http = reqwest::Client::builder()
            // volley follows redirects itself, the same way on every adapter.
            .redirect(reqwest::redirect::Policy::none())
            // volley-core chooses the proxy of every request; reqwest
            // reads no environment of its own.
            .no_proxy();
        let proxies = Arc::new(config.proxies()?);
        for scheme in ["http", "https"] {
            if let Some(proxy) = proxy_of_scheme(&proxies, scheme) {
                http = http.proxy(proxy);
            }
        }
        if config.http2_prior_knowledge {
            http = http.http2_prior_knowledge();
        }
        let http = http
            .connect_timeout(config.connect_timeout)
            .pool_max_idle_per_host(config.pool_size.unwrap_or(usize::MAX))
            .tcp_nodelay(true)
            // rustls on ring, trusting what volley-core decided; ALPN
            // offers HTTP/2 first.
            .tls_backend_preconfigured(volley_rustls::client_config(
                &config,
                &[b"h2", b"http/1.1"],
            )?)
            .build()
            .map_err(|e| {
                Error::new(ErrorKind::Other, "the HTTP client could not be built").with_source(e)
            })?;

        Ok(Client {
            inner: Arc::new(Inner {
                http,
                path,
                body: config.body_rules(),
            }),
        })
    }
}

/// A reqwest proxy for the URLs of `scheme` that volley-core's choice
/// sends through the proxy it has for that scheme.
fn proxy_of_scheme(proxies: &Arc<Proxies>, scheme: &'static str) -> Option<reqwest::Proxy> {
    let proxy = proxies.for_scheme(scheme)?;
    let target = proxy.uri().to_string();
    let choice = Arc::clone(proxies);
    let mut out = reqwest::Proxy::custom(move |url| {
        // A URL `http::Uri` cannot hold (over 64 KiB) still goes through
        // the proxy: a proxy may be the only way out.
        let proxied = match url.as_str().parse::<Uri>() {
            Ok(uri) => choice.for_url(&uri).is_some(),
            Err(_) => true,
        };
        (url.scheme() == scheme && proxied).then(|| target.clone())
    });
    if let Some(auth) = proxy.authorization() {
        out = out.custom_http_auth(auth.clone());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fetch_outside_a_runtime_is_an_error_not_a_panic() {
        let client = Client::new().expect("client");
        let req = Request::get("http://127.0.0.1:9/")
            .build()
            .expect("request");
        let err = futures::executor::block_on(client.fetch(req)).expect_err("no runtime");
        assert_eq!(err.kind(), ErrorKind::Other);
    }
}
