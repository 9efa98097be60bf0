//! The accept loop, the router and the route handlers.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use http::{Method, Request, Response, StatusCode};
use hyper::body::{Body as _, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};

use crate::body::MockBody;
use crate::data;
use crate::stats::{Route, ServerState};
use crate::tls::Tls;

/// The most streams a client may have open at once on one HTTP/2
/// connection (hyper's default is 200): enough that 10,000 requests at once
/// share a connection, so the server is never what holds a client back.
const H2_MAX_STREAMS: u32 = 16 * 1024;

/// Listen backlog asked for by [`bind`]; the kernel caps it (on Linux at
/// `net.core.somaxconn`).
const BACKLOG: u32 = 8192;

/// Open files the table is grown to hold before the server listens.
const RESERVED_DESCRIPTORS: usize = 16 * 1024;

/// Largest request body `/echo` reads; larger ones get `413`.
const ECHO_LIMIT: usize = 16 * 1024 * 1024;

/// Default span of `/slow-body` when `ms` is not given.
const SLOW_BODY_DEFAULT_MS: u64 = 1000;

/// Number of pieces a `/slow-body` body is sent in.
const SLOW_BODY_PIECES: usize = 10;

/// Default size of a `/big` body when `bytes` is not given: 1 MiB.
const BIG_DEFAULT_BYTES: u64 = 1024 * 1024;

/// `/cooldown/{id}`'s `Retry-After`, in s.
const COOLDOWN_S: u64 = 2;

/// Arrivals this soon after `/cooldown/{id}`'s `429` are not counted as
/// sent during the pause: they were on their way before the client knew.
const COOLDOWN_GRACE_US: u64 = 50_000;

const JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Settings of one server. `Config::default()` is no added latency and no
/// capacity limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Delay applied to every request except `/stats`, unless the request
    /// gives its own with `?delay_ms=N`. Timed to well under a millisecond
    /// (async-io's timer).
    pub latency: Duration,
    /// Capacity mode: at most this many requests are handled at once; any
    /// request beyond that is answered at once with `503`, a JSON error body
    /// and `Retry-After: 1`. `/stats` is never limited. `None` means no limit.
    pub capacity: Option<usize>,
}

/// Binds a listening socket on `addr` with a large accept backlog and
/// `SO_REUSEADDR`, ready for [`serve`]. The process's table of open files is
/// grown first (to the open-files limit, at most 16,384), so that a burst of
/// connections is not accepted at the pace of that table's growth.
///
/// Must be called from within a tokio runtime (the socket is registered with
/// its reactor).
///
/// # Errors
///
/// Any error from creating, binding or listening on the socket, for example
/// when the port is taken.
pub fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    #[cfg(unix)]
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    volley_core::adapter::reserve_descriptors(RESERVED_DESCRIPTORS);
    socket.listen(BACKLOG)
}

/// Runs the mock server on `listener` until `shutdown` completes.
///
/// Every accepted connection gets `TCP_NODELAY` and is served on its own
/// task, so a delayed or hanging request holds no thread: as HTTP/1.1 with
/// keep-alive, or as HTTP/2 when it opens with the HTTP/2 preface (h2c with
/// prior knowledge; up to 16,384 streams at once on a connection). Counters are kept in `state`; keep a clone of the `Arc` to read
/// them with [`ServerState::stats`] while the server runs.
///
/// When `shutdown` completes the listener is closed, every open connection is
/// dropped at once (requests still in progress, such as `/hang`, are
/// aborted), and the function returns once all connection tasks are gone.
///
/// This is what [`MockServer`](crate::MockServer) runs on its own runtime and
/// what the `volley-mock` binary runs; call it directly to embed the server
/// in a tokio runtime you already have:
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use std::sync::Arc;
/// use volley_mock::{Config, ServerState};
///
/// let listener = volley_mock::bind("127.0.0.1:0".parse().expect("valid address"))?;
/// let state = Arc::new(ServerState::new());
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let server = tokio::spawn(volley_mock::serve(listener, Config::default(), state.clone(), stopped));
/// // ... send requests ...
/// let _ = stop.send(());
/// let _ = server.await;
/// # Ok(()) }
/// ```
pub async fn serve<F>(listener: TcpListener, config: Config, state: Arc<ServerState>, shutdown: F)
where
    F: Future,
{
    serve_with_tls(listener, None, config, state, shutdown).await;
}

/// [`serve`], and TLS connections (HTTP/2 or HTTP/1.1 by ALPN) accepted on
/// a second listener as well, when there is one.
pub(crate) async fn serve_with_tls<F>(
    listener: TcpListener,
    tls: Option<(TcpListener, Tls)>,
    config: Config,
    state: Arc<ServerState>,
    shutdown: F,
) where
    F: Future,
{
    let app = Arc::new(App::new(config, state));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    app.state.count_connection();
                    tokio::spawn(connection(stream, app.clone(), stop_rx.clone()));
                }
                Err(err) => accept_error(err).await,
            },
            accepted = accept_tls(tls.as_ref()) => match accepted {
                Ok((stream, tls)) => {
                    app.state.count_connection();
                    tokio::spawn(tls_connection(stream, tls, app.clone(), stop_rx.clone()));
                }
                Err(err) => accept_error(err).await,
            },
        }
    }
    drop(listener);
    drop(tls);
    drop(stop_rx);
    // Ignored error: no receiver left means no connection is open.
    let _ = stop_tx.send(true);
    stop_tx.closed().await;
}

/// Handles an error from `accept`: errors about a single connection are
/// skipped, others (such as running out of file descriptors) get a short
/// pause so the loop does not spin.
async fn accept_error(err: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if !matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        eprintln!("volley-mock: accept failed: {err}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The next connection on the TLS listener, if there is one (never, else).
async fn accept_tls(tls: Option<&(TcpListener, Tls)>) -> io::Result<(TcpStream, Tls)> {
    match tls {
        Some((listener, tls)) => Ok((listener.accept().await?.0, tls.clone())),
        None => std::future::pending().await,
    }
}

/// Serves one connection until the client closes it or the server stops.
async fn connection(stream: TcpStream, app: Arc<App>, stop: watch::Receiver<bool>) {
    // Ignored error: Nagle's algorithm only costs latency, never correctness.
    let _ = stream.set_nodelay(true);
    serve_connection(stream, app, stop).await;
}

/// Serves one TLS connection, once its handshake is done.
async fn tls_connection(stream: TcpStream, tls: Tls, app: Arc<App>, stop: watch::Receiver<bool>) {
    // Ignored error: Nagle's algorithm only costs latency, never correctness.
    let _ = stream.set_nodelay(true);
    // A failed handshake is the client's doing: the connection is done.
    if let Ok(stream) = tls.acceptor.accept(stream).await {
        serve_connection(stream, app, stop).await;
    }
}

/// Serves HTTP/1.1 or HTTP/2 (whichever the client opens with) on `io`
/// until the client closes it or the server stops.
async fn serve_connection<I>(io: I, app: Arc<App>, mut stop: watch::Receiver<bool>)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |req| app.clone().handle(req));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(None);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(H2_MAX_STREAMS);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    tokio::select! {
        // Errors here are the client's doing (bad request, early close) or a
        // deliberate `/reset`; either way the connection is simply done.
        _ = conn => {}
        _ = stop.wait_for(|stopped| *stopped) => {}
    }
}

/// The error a handler returns to make hyper drop the connection without
/// writing a response (`/reset`, or a request body that failed mid-way).
#[derive(Debug)]
struct DropConnection(&'static str);

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for DropConnection {}

type HandlerResult = Result<Response<MockBody>, DropConnection>;

/// Everything a request handler needs, shared by all connections.
struct App {
    config: Config,
    state: Arc<ServerState>,
    limiter: Option<Semaphore>,
}

/// What the path of a request names.
enum Target<'a> {
    Stats,
    StatsReset,
    Arrivals,
    Api(Route, &'a str),
}

impl App {
    fn new(config: Config, state: Arc<ServerState>) -> App {
        let limiter = config
            .capacity
            .map(|k| Semaphore::new(k.min(Semaphore::MAX_PERMITS)));
        App {
            config,
            state,
            limiter,
        }
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> HandlerResult {
        let (route, rest) = match route(req.uri().path()) {
            Target::Stats => return Ok(json(StatusCode::OK, to_json(&self.state.stats()))),
            Target::StatsReset if req.method() == Method::POST => {
                return Ok(json(StatusCode::OK, to_json(&self.state.reset())));
            }
            Target::StatsReset => return Ok(method_not_allowed("POST")),
            Target::Arrivals => return Ok(json(StatusCode::OK, to_json(&self.state.arrivals()))),
            Target::Api(route, rest) => (route, rest),
        };
        let query = req.uri().query().unwrap_or("");
        let worker = param(query, "worker").and_then(|w| w.parse().ok());
        let arrived = self.state.count_request(route, worker);
        if route == Route::Cooldown
            && self
                .state
                .cooldown_arrival(arrived, COOLDOWN_GRACE_US, COOLDOWN_S * 1_000_000)
        {
            // At once, as a rate limit answers: before any delay.
            let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "slow down");
            resp.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(COOLDOWN_S));
            return Ok(resp);
        }
        let _permit = match &self.limiter {
            Some(limiter) => match limiter.try_acquire() {
                Ok(permit) => Some(permit),
                Err(_) => {
                    self.state.count_rejected();
                    let mut resp = error(StatusCode::SERVICE_UNAVAILABLE, "server at capacity");
                    resp.headers_mut()
                        .insert(RETRY_AFTER, HeaderValue::from_static("1"));
                    return Ok(resp);
                }
            },
            None => None,
        };
        let _in_flight = self.state.enter();

        let delay = match param(query, "delay_ms") {
            None => self.config.latency,
            Some(v) => match v.parse() {
                Ok(ms) => Duration::from_millis(ms),
                Err(_) => {
                    return Ok(error(
                        StatusCode::BAD_REQUEST,
                        "delay_ms must be a whole number",
                    ));
                }
            },
        };
        if !delay.is_zero() {
            // async-io's timer rather than tokio's: tokio's rounds every
            // sleep up to its next millisecond tick, which would add most of
            // a millisecond to every request and blur comparisons of clients.
            async_io::Timer::after(delay).await;
        }

        match route {
            Route::Users | Route::Posts | Route::Cooldown => {
                if req.method() != Method::GET && req.method() != Method::HEAD {
                    return Ok(method_not_allowed("GET, HEAD"));
                }
                Ok(record(route, rest))
            }
            Route::Status => Ok(status(rest)),
            Route::RateLimited => Ok(rate_limited(query).unwrap_or_else(BadQuery::answer)),
            Route::Flaky => Ok(self.flaky(query).unwrap_or_else(BadQuery::answer)),
            Route::Malformed => Ok(json(
                StatusCode::OK,
                Bytes::from_static(br#"{"id": 1, "name": "Leanne Graham", "email": "#),
            )),
            Route::SlowBody => Ok(slow_body(query).unwrap_or_else(BadQuery::answer)),
            Route::Hang => {
                // Pending until the request is dropped (client gone or
                // server shutting down); holds no thread meanwhile.
                std::future::pending().await
            }
            Route::Reset => Err(DropConnection("connection reset on purpose by /reset")),
            Route::Big => Ok(big(query).unwrap_or_else(BadQuery::answer)),
            Route::Redirect => Ok(redirect(query)),
            Route::RedirectLoop => Ok(found(HeaderValue::from_static("/redirect-loop"))),
            Route::Echo => echo(req).await,
            Route::Unknown => Ok(error(StatusCode::NOT_FOUND, "no such route")),
        }
    }

    fn flaky(&self, query: &str) -> Answer {
        let fail = number(query, "fail", 1)?;
        let id = number(query, "id", 1)?;
        let key = param(query, "key").map_or(Cow::Borrowed("default"), decode);
        let attempt = self.state.flaky_attempt(&key);
        #[derive(Serialize)]
        struct Flaky<'a> {
            id: u64,
            key: &'a str,
            attempt: u64,
            #[serde(skip_serializing_if = "Option::is_none")]
            error: Option<&'a str>,
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<u16>,
        }
        let failing = attempt <= fail;
        let body = Flaky {
            id,
            key: &key,
            attempt,
            error: failing.then_some("flaky failure, try again"),
            status: failing.then_some(503),
        };
        let status = if failing {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::OK
        };
        Ok(json(status, to_json(&body)))
    }
}

/// Maps a path to its target by its first segment.
fn route(path: &str) -> Target<'_> {
    let path = path.strip_prefix('/').unwrap_or(path);
    let (head, rest) = match path.split_once('/') {
        Some((head, rest)) => (head, Some(rest)),
        None => (path, None),
    };
    let route = match (head, rest) {
        ("stats", None) => return Target::Stats,
        ("stats", Some("reset")) => return Target::StatsReset,
        ("arrivals", None) => return Target::Arrivals,
        ("users", Some(id)) if !id.is_empty() && !id.contains('/') => {
            return Target::Api(Route::Users, id);
        }
        ("posts", Some(id)) if !id.is_empty() && !id.contains('/') => {
            return Target::Api(Route::Posts, id);
        }
        ("status", Some(code)) if !code.is_empty() && !code.contains('/') => {
            return Target::Api(Route::Status, code);
        }
        ("cooldown", Some(id)) if !id.is_empty() && !id.contains('/') => {
            return Target::Api(Route::Cooldown, id);
        }
        (_, Some(_)) => Route::Unknown,
        ("ratelimited", None) => Route::RateLimited,
        ("flaky", None) => Route::Flaky,
        ("malformed", None) => Route::Malformed,
        ("slow-body", None) => Route::SlowBody,
        ("hang", None) => Route::Hang,
        ("reset", None) => Route::Reset,
        ("big", None) => Route::Big,
        ("redirect", None) => Route::Redirect,
        ("redirect-loop", None) => Route::RedirectLoop,
        ("echo", None) => Route::Echo,
        _ => Route::Unknown,
    };
    Target::Api(route, "")
}

/// `/users/{id}`, `/posts/{id}` and `/cooldown/{id}` (a user).
fn record(route: Route, id: &str) -> Response<MockBody> {
    match id.parse::<u64>() {
        Err(_) => error(
            StatusCode::BAD_REQUEST,
            "id must be a positive whole number",
        ),
        Ok(0) => error(StatusCode::NOT_FOUND, "no record with id 0"),
        Ok(id) if route != Route::Posts => json(StatusCode::OK, data::user_json(id)),
        Ok(id) => json(StatusCode::OK, data::post_json(id)),
    }
}

/// `/status/{code}`.
fn status(code: &str) -> Response<MockBody> {
    let Some(status) = code
        .parse::<u16>()
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .filter(|s| s.as_u16() >= 200)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "status code must be a number from 200 to 999",
        );
    };
    if matches!(status.as_u16(), 204 | 205 | 304) {
        let mut resp = Response::new(MockBody::empty());
        *resp.status_mut() = status;
        return resp;
    }
    #[derive(Serialize)]
    struct StatusBody {
        status: u16,
        reason: &'static str,
    }
    let body = StatusBody {
        status: status.as_u16(),
        reason: status.canonical_reason().unwrap_or("Unknown"),
    };
    json(status, to_json(&body))
}

/// `/ratelimited?retry_after=S`.
fn rate_limited(query: &str) -> Answer {
    let secs = number(query, "retry_after", 1)?;
    let mut resp = error(StatusCode::TOO_MANY_REQUESTS, "rate limited");
    resp.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(secs));
    Ok(resp)
}

/// `/slow-body?ms=N`.
fn slow_body(query: &str) -> Answer {
    let ms = number(query, "ms", SLOW_BODY_DEFAULT_MS)?;
    #[derive(Serialize)]
    struct Slow {
        id: u64,
        ms: u64,
        pieces: usize,
        text: &'static str,
    }
    let body = to_json(&Slow {
        id: 1,
        ms,
        pieces: SLOW_BODY_PIECES,
        text: "this body was sent a piece at a time; only the whole of it is valid JSON",
    });
    let mut resp = Response::new(MockBody::trickle(
        body,
        SLOW_BODY_PIECES,
        Duration::from_millis(ms),
    ));
    resp.headers_mut().insert(CONTENT_TYPE, JSON);
    Ok(resp)
}

/// `/big?bytes=N`.
fn big(query: &str) -> Answer {
    let len = number(query, "bytes", BIG_DEFAULT_BYTES)?;
    let mut resp = Response::new(MockBody::filler(len));
    let headers = resp.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    Ok(resp)
}

/// `/redirect?to=URL`.
fn redirect(query: &str) -> Response<MockBody> {
    let to = param(query, "to").map_or(Cow::Borrowed("/users/1"), decode);
    match HeaderValue::from_str(&to) {
        Ok(location) => found(location),
        Err(_) => error(StatusCode::BAD_REQUEST, "to is not a valid Location value"),
    }
}

/// A `302 Found` to `location`.
fn found(location: HeaderValue) -> Response<MockBody> {
    #[derive(Serialize)]
    struct Found<'a> {
        status: u16,
        location: &'a str,
    }
    let body = to_json(&Found {
        status: 302,
        location: location.to_str().unwrap_or(""),
    });
    let mut resp = json(StatusCode::FOUND, body);
    resp.headers_mut().insert(LOCATION, location);
    resp
}

/// `/echo`: the request read back as JSON.
async fn echo(req: Request<Incoming>) -> HandlerResult {
    let (parts, mut body) = req.into_parts();
    let mut buf = Vec::new();
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| DropConnection("request body failed"))?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > ECHO_LIMIT {
                return Ok(error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "echo reads at most 16 MiB of body",
                ));
            }
            buf.extend_from_slice(&data);
        }
    }
    let mut headers = serde_json::Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        match headers.get_mut(name.as_str()) {
            Some(serde_json::Value::String(prev)) => {
                prev.push_str(", ");
                prev.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), value.into_owned().into());
            }
        }
    }
    #[derive(Serialize)]
    struct Echo<'a> {
        method: &'a str,
        path: &'a str,
        query: &'a str,
        headers: serde_json::Map<String, serde_json::Value>,
        body: Cow<'a, str>,
        json: serde_json::Value,
    }
    let echo = Echo {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query().unwrap_or(""),
        headers,
        body: String::from_utf8_lossy(&buf),
        json: serde_json::from_slice(&buf).unwrap_or(serde_json::Value::Null),
    };
    Ok(json(StatusCode::OK, to_json(&echo)))
}

/// A response, or what was wrong with the query.
type Answer = Result<Response<MockBody>, BadQuery>;

/// A malformed query, answered with a 400 that says what is wrong.
struct BadQuery(String);

impl BadQuery {
    fn answer(self) -> Response<MockBody> {
        error(StatusCode::BAD_REQUEST, &self.0)
    }
}

/// The whole number `name` of `query`, or `default` when it is absent.
fn number(query: &str, name: &str, default: u64) -> Result<u64, BadQuery> {
    match param(query, name).map(str::parse::<u64>) {
        None => Ok(default),
        Some(Ok(n)) => Ok(n),
        Some(Err(_)) => Err(BadQuery(format!("{name} must be a whole number"))),
    }
}

/// The raw value of query parameter `name`, if present (first one wins).
fn param<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .find_map(|pair| match pair.split_once('=') {
            Some((k, v)) if k == name => Some(v),
            None if pair == name => Some(""),
            _ => None,
        })
}

/// Decodes a query value: `%XX` escapes and `+` for space. Invalid escapes
/// are kept as they are; invalid UTF-8 is replaced.
fn decode(raw: &str) -> Cow<'_, str> {
    if !raw.contains(['%', '+']) {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

/// Serialises plain data to JSON.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Bytes {
    serde_json::to_vec(value)
        .expect("the server's response types have only string keys and always serialise")
        .into()
}

/// A response with a JSON body.
fn json(status: StatusCode, body: impl Into<Bytes>) -> Response<MockBody> {
    let mut resp = Response::new(MockBody::full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(CONTENT_TYPE, JSON);
    resp
}

/// A JSON error response `{"status": N, "error": message}`.
fn error(status: StatusCode, message: &str) -> Response<MockBody> {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        status: u16,
        error: &'a str,
    }
    json(
        status,
        to_json(&ErrorBody {
            status: status.as_u16(),
            error: message,
        }),
    )
}

/// `405` with an `Allow` header.
fn method_not_allowed(allow: &'static str) -> Response<MockBody> {
    let mut resp = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    resp.headers_mut()
        .insert(http::header::ALLOW, HeaderValue::from_static(allow));
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params() {
        assert_eq!(param("a=1&b=2", "b"), Some("2"));
        assert_eq!(param("a=1&b=2", "c"), None);
        assert_eq!(param("flag&a=1", "flag"), Some(""));
        assert_eq!(param("", "a"), None);
    }

    #[test]
    fn decoding() {
        assert_eq!(decode("plain"), "plain");
        assert_eq!(decode("a+b%20c"), "a b c");
        assert_eq!(decode("http%3A%2F%2Fx%2Fy"), "http://x/y");
        assert_eq!(decode("bad%zz%"), "bad%zz%");
        assert_eq!(decode("end%4"), "end%4");
    }

    #[test]
    fn routing() {
        assert!(matches!(route("/stats"), Target::Stats));
        assert!(matches!(route("/stats/reset"), Target::StatsReset));
        assert!(matches!(route("/arrivals"), Target::Arrivals));
        assert!(matches!(route("/users/7"), Target::Api(Route::Users, "7")));
        assert!(matches!(route("/posts/x"), Target::Api(Route::Posts, "x")));
        assert!(matches!(route("/users/"), Target::Api(Route::Unknown, _)));
        assert!(matches!(
            route("/cooldown/3"),
            Target::Api(Route::Cooldown, "3")
        ));
        assert!(matches!(
            route("/users/1/2"),
            Target::Api(Route::Unknown, _)
        ));
        assert!(matches!(route("/users"), Target::Api(Route::Unknown, _)));
        assert!(matches!(route("/flaky"), Target::Api(Route::Flaky, _)));
        assert!(matches!(
            route("/redirect-loop"),
            Target::Api(Route::RedirectLoop, _)
        ));
        assert!(matches!(route("/"), Target::Api(Route::Unknown, _)));
    }
}
