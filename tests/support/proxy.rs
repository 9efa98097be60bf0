//! A forward-proxy fixture on 127.0.0.1, built on hyper's server: it
//! records every request it receives (request line target, method and
//! headers), forwards absolute-form `http` requests to their origin with
//! hyper's client, and opens `CONNECT` tunnels to loopback origins. With
//! [`ProxyServer::requiring`] it answers `407` to requests without the
//! expected `Proxy-Authorization`. It runs on a thread of its own, with its
//! own runtime, and stops when dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::thread;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full, combinators::BoxBody};
use hyper::body::Incoming;
use hyper::header::{HOST, PROXY_AUTHORIZATION};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};

/// One request as the proxy received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// The request target as sent: `http://host/path` (absolute form) or
    /// `host:port` (CONNECT).
    pub target: String,
    pub headers: hyper::HeaderMap,
}

/// The proxy; see the module docs.
pub struct ProxyServer {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

type Body = BoxBody<Bytes, hyper::Error>;

impl ProxyServer {
    /// A proxy that forwards everything.
    pub fn start() -> ProxyServer {
        ProxyServer::spawn(None)
    }

    /// A proxy that wants `Proxy-Authorization: <authorization>`.
    pub fn requiring(authorization: &'static str) -> ProxyServer {
        ProxyServer::spawn(Some(authorization))
    }

    fn spawn(required: Option<&'static str>) -> ProxyServer {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready, addr) = std::sync::mpsc::channel();
        let log = seen.clone();
        thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
                ready.send(listener.local_addr().expect("addr")).ok();
                let serve = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let log = log.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |req| {
                                handle(req, log.clone(), required)
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), service)
                                .with_upgrades()
                                .await;
                        });
                    }
                };
                tokio::select! {
                    () = serve => {}
                    _ = stopped => {}
                }
            });
        });
        let addr = addr.recv().expect("the proxy started");
        ProxyServer {
            addr,
            seen,
            _stop: stop,
        }
    }

    /// `http://127.0.0.1:<port>`, with `userinfo@` before the host if given.
    pub fn url(&self, userinfo: Option<&str>) -> String {
        match userinfo {
            Some(u) => format!("http://{u}@{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    /// What the proxy received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn text(status: StatusCode, body: &'static str) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(Bytes::from_static(body.as_bytes()))
            .map_err(|n| match n {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp
}

async fn handle(
    req: Request<Incoming>,
    log: Arc<Mutex<Vec<Seen>>>,
    required: Option<&'static str>,
) -> Result<Response<Body>, Infallible> {
    log.lock().unwrap().push(Seen {
        method: req.method().clone(),
        target: req.uri().to_string(),
        headers: req.headers().clone(),
    });
    if let Some(want) = required {
        if req
            .headers()
            .get(PROXY_AUTHORIZATION)
            .is_none_or(|v| v != want)
        {
            let mut resp = text(StatusCode::PROXY_AUTHENTICATION_REQUIRED, "who are you?");
            resp.headers_mut().insert(
                "proxy-authenticate",
                hyper::header::HeaderValue::from_static("Basic realm=\"fixture\""),
            );
            return Ok(resp);
        }
    }
    if req.method() == Method::CONNECT {
        return Ok(tunnel(req));
    }
    Ok(forward(req)
        .await
        .unwrap_or_else(|| text(StatusCode::BAD_GATEWAY, "no origin")))
}

/// Only loopback origins are reached.
fn loopback(authority: &str) -> Option<String> {
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
        .then(|| authority.replace("localhost", "127.0.0.1"))
}

fn tunnel(req: Request<Incoming>) -> Response<Body> {
    let Some(target) = req.uri().authority().and_then(|a| loopback(a.as_str())) else {
        return text(StatusCode::FORBIDDEN, "loopback only");
    };
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let Ok(mut origin) = TcpStream::connect(target).await else {
            return;
        };
        let mut client = TokioIo::new(upgraded);
        let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
    });
    Response::new(Empty::new().map_err(|n| match n {}).boxed())
}

async fn forward(req: Request<Incoming>) -> Option<Response<Body>> {
    let authority = req.uri().authority()?.as_str().to_owned();
    let origin = TcpStream::connect(loopback(&authority)?).await.ok()?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(origin))
        .await
        .ok()?;
    tokio::spawn(conn);
    let (mut parts, body) = req.into_parts();
    // A proxy keeps its credentials to itself, and sends the origin the
    // request in origin form.
    parts.headers.remove(PROXY_AUTHORIZATION);
    parts.headers.entry(HOST).or_insert(authority.parse().ok()?);
    parts.uri = parts.uri.path_and_query()?.as_str().parse().ok()?;
    let resp = sender
        .send_request(Request::from_parts(parts, body))
        .await
        .ok()?;
    Some(resp.map(BodyExt::boxed))
}
