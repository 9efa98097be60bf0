//! One HTTP/1.1 exchange on a leased connection, spoken by hyper's client
//! connection (the same HTTP/1 engine as volley-tokio's reqwest) over
//! async-std's sockets, and handed to surf as its types.
//!
//! hyper reads what servers really send: HTTP/1.0, bodies that end at the
//! close, interim `1xx` responses (skipped), header bytes that are not
//! ASCII, a final response that arrives while the request body is still
//! being written; and it refuses a head that is not HTTP at once.
//!
//! The response's body keeps the lease of its connection, so the
//! connection goes back to its pool (or is closed) only when the request is
//! done with the body.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use futures_lite::io::{AsyncBufRead, AsyncRead};
use http::header::{CONTENT_LENGTH, HOST, PROXY_AUTHORIZATION};
use http::{HeaderMap, Method};
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use surf::http as ht;

use crate::connections::{Forward, Lease};

/// The response's status and headers exactly as the server sent them
/// (http-types knows only registered statuses and keeps only ASCII header
/// values), carried in the surf response's extensions.
#[derive(Clone, Debug)]
pub(crate) struct RawHead {
    pub(crate) status: http::StatusCode,
    pub(crate) version: http::Version,
    pub(crate) headers: HeaderMap,
}

/// What is sent besides the method and URL: the request's method, headers
/// and body exactly as volley has them, carried in the surf request's
/// extensions.
#[derive(Clone, Debug)]
pub(crate) struct Outgoing {
    pub(crate) method: Method,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

/// Sends `request` on `lease`, whose connection is ready, and returns the
/// response with its body still to be read.
pub(crate) async fn exchange(
    mut lease: Lease,
    mut request: ht::Request,
) -> ht::Result<ht::Response> {
    let request = to_hyper(&mut request, lease.forward())?;
    let response = lease
        .sender()?
        .send_request(request)
        .await
        .map_err(hyper_error)?;
    from_hyper(response, lease)
}

fn to_hyper(
    request: &mut ht::Request,
    forward: Option<&Forward>,
) -> ht::Result<http::Request<Full<Bytes>>> {
    let bad = |e: String| ht::Error::from_str(ht::StatusCode::BadRequest, e);
    let url = request.url();
    // On a connection of its own origin, the request target is the path
    // and query; the origin goes in `Host`. To a proxy that forwards it,
    // the target is the whole URL (RFC 9112, section 3.2.2).
    let target = match (forward, url.query()) {
        (Some(_), _) => url.as_str().to_owned(),
        (None, Some(query)) => format!("{}?{query}", url.path()),
        (None, None) => url.path().to_owned(),
    };
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(bad(format!("the URL {url} has no host"))),
    };
    let Some(Outgoing {
        method,
        mut headers,
        body,
    }) = request.ext_mut().remove::<Outgoing>()
    else {
        return Err(bad("the request was not made by volley".to_owned()));
    };
    let host = http::HeaderValue::from_str(&host).map_err(|e| bad(e.to_string()))?;
    headers.insert(HOST, host);
    if let Some(auth) = forward.and_then(|f| f.authorization.clone()) {
        headers.insert(PROXY_AUTHORIZATION, auth);
    }
    if body.is_empty() && matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        // hyper leaves out `content-length: 0`, which servers expect on a
        // POST without a body (volley-tokio sends it too).
        headers.insert(CONTENT_LENGTH, http::HeaderValue::from_static("0"));
    }
    let mut out = http::Request::builder()
        .method(method)
        .uri(target)
        .body(Full::new(body))
        .map_err(|e| bad(e.to_string()))?;
    *out.headers_mut() = headers;
    Ok(out)
}

fn from_hyper(response: http::Response<Incoming>, lease: Lease) -> ht::Result<ht::Response> {
    let (parts, body) = response.into_parts();
    // http-types knows only registered codes; the real one (420, 499, ...)
    // travels beside it.
    let status = ht::StatusCode::try_from(parts.status.as_u16()).unwrap_or(ht::StatusCode::Ok);
    // Only surf's status and body are read; the headers travel as hyper
    // read them.
    let mut out = ht::Response::new(status);
    let declared = body
        .size_hint()
        .exact()
        .and_then(|n| usize::try_from(n).ok());
    out.set_body(ht::Body::from_reader(
        BodyReader {
            body,
            chunk: Bytes::new(),
            _lease: lease,
        },
        declared,
    ));
    out.ext_mut().insert(RawHead {
        status: parts.status,
        version: parts.version,
        headers: parts.headers,
    });
    Ok(out)
}

fn hyper_error(e: hyper::Error) -> ht::Error {
    ht::Error::new(ht::StatusCode::BadGateway, e)
}

/// A hyper body read as bytes, chunk by chunk without copying, with the
/// lease of its connection.
struct BodyReader {
    body: Incoming,
    chunk: Bytes,
    _lease: Lease,
}

impl AsyncBufRead for BodyReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        this.chunk = data;
                    }
                }
                Some(Err(e)) => return Poll::Ready(Err(io::Error::other(e))),
            }
        }
        Poll::Ready(Ok(&this.chunk[..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.get_mut();
        this.chunk.advance(amt.min(this.chunk.len()));
    }
}

impl AsyncRead for BodyReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let available = ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(n))
    }
}
