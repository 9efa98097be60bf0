//! [`Connections`]: the transport under surf. HTTP/1.1 is spoken by hyper's
//! client connection over async-std's sockets, one connection per pool
//! entry, kept in one [deadpool] pool per origin: each entry is hyper's
//! handle to a connection whose task reads and writes it.
//!
//! A connection goes back to its pool only when the request that used it
//! says so ([`Reuse::allow`], once its response was read to the end);
//! otherwise it is closed. So a request abandoned half-way (timed out,
//! cancelled, over the size cap, failed) can never leave the next request
//! on that connection reading the rest of its response, and no other
//! connection is touched.
//!
//! hyper watches an idle connection: if the server closes it, or sends
//! anything on it unasked, hyper closes it, and the pool drops it before it
//! is used again.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use async_std::net::TcpStream;
use bytes::Bytes;
use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use futures_lite::io::{AsyncRead, AsyncWrite};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use futures_rustls::pki_types::ServerName;
use http_body_util::Full;
use hyper::client::conn::http1;
use smol_hyper::rt::FuturesIo;
use surf::http::url::{Host, Origin, Url};
use surf::http::{self as ht, StatusCode};
use volley_core::adapter::{Proxies, Proxy};

use crate::tunnel::open_tunnel;

/// Whether a request's connection may be used again, decided by the
/// request: set once its response was read to the end. Sent along with the
/// request as an extension.
#[derive(Clone, Debug, Default)]
pub(crate) struct Reuse(Arc<AtomicBool>);

impl Reuse {
    /// The connection is clean: it may go back to its pool.
    pub(crate) fn allow(&self) {
        self.0.store(true, Ordering::Release);
    }

    fn allowed(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// A connection could not be opened (refused, unreachable, name not
/// resolved, TLS handshake failed): nothing was sent.
#[derive(Debug)]
pub(crate) struct ConnectFailed {
    /// The handshake failed, not the TCP connect.
    pub(crate) tls: bool,
    pub(crate) source: io::Error,
}

impl std::fmt::Display for ConnectFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.tls {
            write!(f, "the TLS handshake failed: {}", self.source)
        } else {
            self.source.fmt(f)
        }
    }
}

impl std::error::Error for ConnectFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// How many pooled connections that turn out closed before anything is
/// sent on them a request passes over before it fails.
const MAX_UNSENT_TRIES: usize = 3;

/// hyper's handle to one connection.
pub(crate) type Sender = http1::SendRequest<Full<Bytes>>;

/// The pools of one client, one per origin (scheme, host, port).
pub(crate) struct Connections {
    /// Most connections open to one origin at once, idle ones included.
    max_per_origin: usize,
    /// The time a new connection gets, TCP and TLS together.
    connect_timeout: Duration,
    /// rustls, trusting what volley-core decided.
    tls: TlsConnector,
    pools: RwLock<HashMap<Origin, Pool>>,
    /// The proxy of each origin, as volley-core decided.
    proxies: Proxies,
    /// What `HttpClient::config` reports; nothing in it is used.
    config: http_client::Config,
}

type Pool = managed::Pool<Connector>;

impl std::fmt::Debug for Connections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connections")
            .field("max_per_origin", &self.max_per_origin)
            .finish_non_exhaustive()
    }
}

impl Connections {
    pub(crate) fn new(
        max_per_origin: usize,
        connect_timeout: Duration,
        tls: TlsConnector,
        proxies: Proxies,
    ) -> Connections {
        Connections {
            max_per_origin,
            connect_timeout,
            tls,
            proxies,
            pools: RwLock::new(HashMap::new()),
            config: http_client::Config::new().set_max_connections_per_host(max_per_origin),
        }
    }

    /// A connection to `url`'s origin, from its pool or newly opened; waits
    /// while the pool is at its cap with every connection in use.
    async fn lease(&self, url: &Url, reuse: Reuse) -> ht::Result<Lease> {
        let via = self.via(url);
        let pool = self.pool(url, via.as_ref())?;
        match pool.get().await {
            Ok(conn) => {
                // Plain http through a proxy: requests in absolute form,
                // with the proxy's credentials.
                let forward = via.filter(|_| url.scheme() == "http").map(|proxy| Forward {
                    authorization: proxy.authorization().cloned(),
                });
                Ok(Lease {
                    conn: Some(conn),
                    reuse,
                    forward,
                })
            }
            Err(managed::PoolError::Backend(failed)) => {
                Err(ht::Error::new(StatusCode::BadGateway, failed))
            }
            Err(other) => Err(ht::Error::from_str(
                StatusCode::InternalServerError,
                format!("the connection pool failed: {other}"),
            )),
        }
    }

    /// The proxy requests to `url` go through, if any.
    fn via(&self, url: &Url) -> Option<Proxy> {
        if self.proxies.is_direct() {
            return None;
        }
        // A URL `http::Uri` cannot hold (over 64 KiB) still goes through
        // the proxy: a proxy may be the only way out.
        match url.as_str().parse::<http::Uri>() {
            Ok(uri) => self.proxies.for_url(&uri).cloned(),
            Err(_) => self.proxies.for_scheme(url.scheme()).cloned(),
        }
    }

    /// The pool of `url`'s origin, made on its first request (under the
    /// write lock, so there is only ever one); its connections go through
    /// `via` when given.
    fn pool(&self, url: &Url, via: Option<&Proxy>) -> ht::Result<Pool> {
        let origin = url.origin();
        let pools = self.pools.read().unwrap_or_else(|p| p.into_inner());
        if let Some(pool) = pools.get(&origin) {
            return Ok(pool.clone());
        }
        drop(pools);
        let connector = Connector::new(url, self.connect_timeout, &self.tls, via)?;
        let mut pools = self.pools.write().unwrap_or_else(|p| p.into_inner());
        if let Some(pool) = pools.get(&origin) {
            return Ok(pool.clone());
        }
        let pool = Pool::builder(connector)
            .max_size(self.max_per_origin)
            // The most recently used connection is the likeliest to be alive.
            .queue_mode(managed::QueueMode::Lifo)
            .build()
            .map_err(|e| {
                ht::Error::from_str(
                    StatusCode::InternalServerError,
                    format!("the connection pool could not be made: {e}"),
                )
            })?;
        pools.insert(origin, pool.clone());
        Ok(pool)
    }
}

#[http_client::async_trait]
impl http_client::HttpClient for Connections {
    async fn send(&self, req: ht::Request) -> ht::Result<ht::Response> {
        let reuse = req.ext().get::<Reuse>().cloned().unwrap_or_default();
        // A pooled connection can close between the pool's check and its
        // use; nothing has been sent on it then, so another one is taken.
        let mut tries = 0;
        loop {
            // Boxed: opening a connection (TCP, TLS, the HTTP handshake)
            // takes far more state than waiting for a response, and only
            // while it lasts.
            let mut lease = Box::pin(self.lease(req.url(), reuse.clone())).await?;
            match lease.sender()?.ready().await {
                Ok(()) => return crate::transport::exchange(lease, req).await,
                Err(e) if tries >= MAX_UNSENT_TRIES => {
                    return Err(ht::Error::new(StatusCode::BadGateway, e));
                }
                Err(_) => {
                    lease.discard();
                    tries += 1;
                }
            }
        }
    }

    fn config(&self) -> &http_client::Config {
        &self.config
    }
}

/// Opens connections to one origin.
pub(crate) struct Connector {
    /// The host as the URL names it: what async-std resolves, and the name
    /// TLS checks the certificate against.
    host: String,
    port: u16,
    /// The address, when the URL gives one instead of a name.
    addr: Option<SocketAddr>,
    /// For https.
    tls: Option<TlsConnector>,
    timeout: Duration,
    /// The proxy connections go through: plain http is sent to it, https
    /// through a tunnel it opens.
    via: Option<Proxy>,
}

impl Connector {
    fn new(
        url: &Url,
        timeout: Duration,
        tls: &TlsConnector,
        via: Option<&Proxy>,
    ) -> ht::Result<Connector> {
        let invalid = |message: String| ht::Error::from_str(StatusCode::BadRequest, message);
        let secure = match url.scheme() {
            "http" => false,
            "https" => true,
            other => return Err(invalid(format!("invalid url scheme '{other}'"))),
        };
        let port = url
            .port_or_known_default()
            .ok_or_else(|| invalid(format!("the URL {url} has no port")))?;
        let (host, ip) = match url.host() {
            Some(Host::Domain(name)) => (name.to_owned(), None),
            Some(Host::Ipv4(ip)) => (ip.to_string(), Some(IpAddr::V4(ip))),
            Some(Host::Ipv6(ip)) => (ip.to_string(), Some(IpAddr::V6(ip))),
            None => return Err(invalid(format!("the URL {url} has no host"))),
        };
        Ok(Connector {
            host,
            port,
            addr: ip.map(|ip| SocketAddr::new(ip, port)),
            tls: secure.then(|| tls.clone()),
            timeout,
            via: via.cloned(),
        })
    }

    /// Connects (to the proxy, if any), and for https opens the tunnel
    /// through the proxy and shakes hands.
    async fn open(&self) -> Result<Stream, ConnectFailed> {
        let failed = |source| ConnectFailed { tls: false, source };
        let mut tcp = self.connect_tcp().await.map_err(failed)?;
        let Some(connector) = &self.tls else {
            return Ok(Stream::Tcp(tcp));
        };
        if let Some(proxy) = &self.via {
            tcp = open_tunnel(tcp, &self.host, self.port, proxy)
                .await
                .map_err(failed)?;
        }
        // A host name or an IP address, checked against the certificate.
        let name = ServerName::try_from(self.host.clone()).map_err(|e| ConnectFailed {
            tls: true,
            source: io::Error::new(io::ErrorKind::InvalidInput, e),
        })?;
        match connector.connect(name, tcp).await {
            Ok(tls) => Ok(Stream::Tls(Box::new(tls))),
            Err(source) => Err(ConnectFailed { tls: true, source }),
        }
    }

    async fn connect_tcp(&self) -> io::Result<TcpStream> {
        let tcp = match (&self.via, self.addr) {
            (Some(proxy), _) => {
                let host = proxy.authority().host();
                let host = host.trim_start_matches('[').trim_end_matches(']');
                let port = proxy.authority().port_u16().unwrap_or(80);
                TcpStream::connect((host, port)).await?
            }
            (None, Some(addr)) => TcpStream::connect(addr).await?,
            // Resolved off the executor by async-std, each address tried.
            (None, None) => TcpStream::connect((self.host.as_str(), self.port)).await?,
        };
        tcp.set_nodelay(true)?;
        Ok(tcp)
    }
}

impl managed::Manager for Connector {
    type Type = Sender;
    type Error = ConnectFailed;

    async fn create(&self) -> Result<Sender, ConnectFailed> {
        let stream = match async_std::future::timeout(self.timeout, self.open()).await {
            Ok(opened) => opened?,
            Err(_) => {
                return Err(ConnectFailed {
                    tls: false,
                    source: io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "no connection within the connect timeout of {:?}",
                            self.timeout
                        ),
                    ),
                });
            }
        };
        let (sender, connection) = http1::Builder::new()
            .handshake(FuturesIo::new(stream))
            .await
            .map_err(|e| ConnectFailed {
                tls: false,
                source: io::Error::other(e),
            })?;
        // The connection's own task: it reads and writes for every request
        // sent on it, and ends when the connection closes or the handle is
        // dropped.
        async_std::task::spawn(async move {
            let _ = connection.await;
        });
        Ok(sender)
    }

    async fn recycle(&self, sender: &mut Sender, _: &Metrics) -> RecycleResult<ConnectFailed> {
        if sender.is_closed() {
            Err(RecycleError::message("the idle connection was closed"))
        } else {
            Ok(())
        }
    }
}

/// One connection, plain or TLS.
pub(crate) enum Stream {
    Tcp(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_close(cx),
            Stream::Tls(s) => Pin::new(&mut **s).poll_close(cx),
        }
    }
}

/// A connection in use by one request. Dropped, it goes back to its pool
/// if the request allowed it, and is closed otherwise.
pub(crate) struct Lease {
    conn: Option<Object<Connector>>,
    reuse: Reuse,
    forward: Option<Forward>,
}

/// A connection to a proxy that forwards plain http: requests go in
/// absolute form, with the proxy's credentials.
#[derive(Debug, Clone)]
pub(crate) struct Forward {
    /// `Proxy-Authorization`, when the proxy's URL had credentials.
    pub(crate) authorization: Option<http::HeaderValue>,
}

impl Lease {
    /// hyper's handle to the connection.
    pub(crate) fn sender(&mut self) -> ht::Result<&mut Sender> {
        self.conn.as_deref_mut().ok_or_else(|| {
            ht::Error::from_str(
                StatusCode::InternalServerError,
                "the connection was released",
            )
        })
    }

    /// Set when the connection goes to a proxy that forwards the request.
    pub(crate) fn forward(&self) -> Option<&Forward> {
        self.forward.as_ref()
    }

    /// Closes the connection when the lease drops, whatever the request says.
    pub(crate) fn discard(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(Object::take(conn));
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.reuse.allowed() {
            // Out of the pool (its place freed), then closed.
            self.discard();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connector(url: &str) -> ht::Result<Connector> {
        let url = Url::parse(url).map_err(|e| ht::Error::from_str(400, e.to_string()))?;
        let tls = crate::tls::connector(&volley_core::adapter::ClientConfig::default(), &[])
            .map_err(|e| ht::Error::from_str(400, e.to_string()))?;
        Connector::new(&url, Duration::from_secs(1), &tls, None)
    }

    #[test]
    fn connectors_take_host_port_and_tls_from_the_url() {
        let plain = connector("http://127.0.0.1:8080/x").expect("http");
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 8080));
        assert_eq!(plain.addr, Some(SocketAddr::from(([127, 0, 0, 1], 8080))));
        assert!(plain.tls.is_none());

        let v6 = connector("http://[::1]/x").expect("ipv6");
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 80));
        assert_eq!(
            v6.addr,
            Some(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 80)))
        );

        let named = connector("https://api.example.test/v1").expect("https");
        assert_eq!((named.host.as_str(), named.port), ("api.example.test", 443));
        // TLS checks the certificate against `host`; the name is resolved
        // when connecting.
        assert!(named.tls.is_some());
        assert_eq!(named.addr, None);

        let ftp = connector("ftp://example.test/").err().expect("refused");
        assert!(ftp.to_string().contains("invalid url scheme"), "{ftp}");
    }

    #[test]
    fn reuse_is_off_until_allowed_and_shared_by_clones() {
        let reuse = Reuse::default();
        let sent = reuse.clone();
        assert!(!sent.allowed());
        reuse.allow();
        assert!(sent.allowed());
    }
}
