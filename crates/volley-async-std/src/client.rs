//! [`Client`] and [`ClientBuilder`].

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_lite::io::{AsyncBufRead, AsyncBufReadExt};
use volley_core::{
    Error, ErrorKind, Fetcher, Request, Response, Result,
    adapter::{BodyCollector, BodyRules, BuildClient, ClientConfig, SendPath},
    rt::SharedTimer,
};

use crate::connections::Connections;
use crate::convert;
use crate::errors;
use crate::exchange::Exchange;
use crate::timer::AsyncStdTimer;
use crate::tls;

/// The default cap on connections per host: more than Linux has ephemeral
/// ports for one destination (about 28,000), so in effect no cap, while the
/// slot table each origin's pool sets aside stays bounded.
const DEFAULT_POOL_SIZE: usize = 32_768;

/// An HTTP client on async-std: a volley [`Fetcher`] over surf, speaking
/// HTTP/1.1 through hyper on a connection pool per origin (rustls).
///
/// Each connection is read and written by a task of its own on async-std's
/// executor, so many requests use every executor thread even when one task
/// awaits them all; a request waits for its response where it is polled,
/// and dropping its future drops the response, which closes the connection.
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
    surf: surf::Client,
    /// The most connections per origin.
    pool_size: usize,
    path: SendPath,
    body: BodyRules,
}

impl Client {
    /// A client with the default settings; the same as
    /// `Client::builder().build()`.
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
        // Each connection's reading and writing runs in a task of its own
        // (see `connections`), spread over every executor thread; the
        // request itself waits for its response here, where the caller
        // polls. Nothing is sent before the future is first polled, and
        // dropping it drops the response, which closes its connection.
        let inner = &self.inner;
        inner
            .path
            .send(request, |hop, _limit| Arc::clone(inner).send_once(hop))
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
            .field("pool_size", &inner.pool_size)
            .finish_non_exhaustive()
    }
}

impl Inner {
    /// Sends one request (no redirects) and reads its body within the cap.
    async fn send_once(self: Arc<Self>, request: Request) -> Result<Response> {
        let url = request.url().clone();
        let method = request.method().clone();
        let surf_request = convert::to_surf(request)?;

        let mut exchange = Exchange::new(&self.surf);
        let (mut response, declared) = exchange
            .send(surf_request)
            .await
            .map_err(|e| errors::send_error(e, &url))?;
        let (status, version, headers) = convert::head(&mut response, &url)?;
        // Checked before the body is read, so that a connection whose
        // response cannot be framed is closed, never reused.
        volley_core::adapter::check_response_framing(status, &headers)
            .map_err(|e| e.with_url(url.clone()))?;
        if volley_core::adapter::response_has_no_body(&method, status) {
            // Nothing follows the head on the wire, whatever Content-Length says.
            exchange.finish();
            return Ok(Response::new(status, url, bytes::Bytes::new())
                .with_headers(headers)
                .with_version(version));
        }

        let mut collector = self
            .body
            .collector(declared.map(|n| n as u64), &headers)
            .map_err(|e| e.with_url(url.clone()).with_status(status))?;
        let Some(reader) = exchange.body() else {
            return Err(
                Error::new(ErrorKind::Other, "the response has no body to read")
                    .with_url(url)
                    .with_status(status),
            );
        };
        read_body(reader, &mut collector)
            .await
            .map_err(|e| match e {
                ReadError::Io(e) => errors::body_error(e, &url),
                ReadError::Collect(e) => e.with_url(url.clone()),
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
        // Read to its end: the connection is clean and goes back to the pool.
        exchange.finish();
        collector
            .into_response(status, url.clone(), headers)
            .map(|resp| resp.with_version(version))
            .map_err(|e| e.with_url(url).with_status(status))
    }
}

enum ReadError {
    Io(std::io::Error),
    Collect(Error),
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
        collector.push(chunk).map_err(ReadError::Collect)?;
        reader.consume(n);
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
///
/// On this adapter:
/// - `pool_size(n)` caps the requests on the wire at once, all hosts
///   together (volley-core's [`ConnectionCap`](volley_core::adapter::ConnectionCap);
///   by default the open-files limit less an eighth), and is the most
///   connections open to one origin (scheme, host and port) at once, idle
///   ones included; requests past it wait. For the origin's pool, by
///   default there is in effect no cap: 32,768, more connections than Linux
///   has ephemeral ports for one destination, so the caller's limit is the
///   only one (surf's own default of 50 is not used). 0 is refused by
///   `build`. Each origin's pool reserves a slot table of this size, 56
///   bytes a slot (1.8 MB of address space per origin at the default, of
///   which only the slots used are ever touched); set it to the most
///   connections you will use to save that.
/// - `connect_timeout` bounds opening a connection, TCP connect and TLS
///   handshake together; a request waiting for the pool's cap does not
///   count against it.
/// - TLS is rustls on the `ring` provider; certificates are verified
///   against the roots volley-core decides (see
///   [`tls_built_in_roots`](volley_core::ClientBuilder::tls_built_in_roots)),
///   for host names and IP addresses alike.
/// - HTTP/1.1 only: `http2_prior_knowledge()` makes `build` fail with
///   [`ErrorKind::InvalidRequest`](volley_core::ErrorKind::InvalidRequest).
pub type ClientBuilder = volley_core::ClientBuilder<Client>;

impl BuildClient for Client {
    fn build(config: ClientConfig) -> Result<Client> {
        config.require_http1_only("volley-async-std")?;
        let path = SendPath::new(&config, Arc::new(AsyncStdTimer))?;
        let pool_size = config.pool_size.unwrap_or(DEFAULT_POOL_SIZE);

        // HTTP/1.1 only, so ALPN offers nothing else.
        let tls = tls::connector(&config, &[b"http/1.1"])?;
        // No middleware: redirects and timeouts are volley's.
        let surf_config = surf::Config::new()
            .set_timeout(None)
            .set_http_client(Connections::new(
                pool_size,
                config.connect_timeout,
                tls,
                config.proxies()?,
            ));
        let surf = match surf::Client::try_from(surf_config) {
            Ok(client) => client,
            Err(never) => match never {},
        };

        Ok(Client {
            inner: Arc::new(Inner {
                surf,
                pool_size,
                path,
                body: config.body_rules(),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_pool_has_no_cap_of_50() {
        let client = Client::new().expect("default client");
        assert_eq!(client.inner.pool_size, DEFAULT_POOL_SIZE);
        let client = Client::builder().pool_size(7).build().expect("client");
        assert_eq!(client.inner.pool_size, 7);
    }
}
