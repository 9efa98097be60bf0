//! One HTTP/1.1 exchange on a leased connection, spoken by hyper's client
//! connection (the same HTTP/1 engine as volley-tokio's reqwest) over
//! async-std's sockets, and handed to surf as its types.
//!
//! hyper reads what servers really send: HTTP/1.0, bodies that end at the
//! close, interim `1xx` responses (skipped), header bytes that are not
//! ASCII, a final response that arrives while the request body is still
//! being written; and it refuses a head that is not HTTP at once.
//!
//! The connection is driven by a task of its own while the response is
//! read. Once the response is done and the request has dropped its handle,
//! hyper hands the connection back ([`http1::Connection::without_shutdown`]);
//! it goes back to its pool only if nothing was left unread on it, the
//! response did not ask for a close, and the request said it read the
//! body to its end ([`Reuse`]).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use async_std::task::JoinHandle;
use bytes::{Buf, Bytes};
use futures_lite::io::{AsyncBufRead, AsyncRead};
use http::header::{CONNECTION, CONTENT_LENGTH, HOST};
use http::{HeaderMap, Method, Version};
use http_body_util::Full;
use hyper::body::{Body, Incoming};
use hyper::client::conn::http1;
use smol_hyper::rt::FuturesIo;
use surf::http as ht;

use crate::connections::{Lease, Reuse};

/// The response's headers exactly as the server sent them (http-types
/// keeps only ASCII values), carried in the surf response's extensions.
#[derive(Clone, Debug)]
pub(crate) struct RawHeaders(pub(crate) HeaderMap);

/// The request's headers as volley built them (http-types would add a
/// `Content-Type` of its own), carried in the surf request's extensions.
#[derive(Clone, Debug)]
pub(crate) struct RequestHeaders(pub(crate) HeaderMap);

/// Sends `request` on `lease` and returns the response with its body still
/// to be read (the connection inside it).
pub(crate) async fn exchange(
    lease: Lease,
    reuse: Reuse,
    mut request: ht::Request,
) -> ht::Result<ht::Response> {
    let request = to_hyper(&mut request).await?;
    let (mut sender, connection) = http1::Builder::new()
        .handshake::<_, Full<Bytes>>(FuturesIo::new(lease))
        .await
        .map_err(hyper_error)?;
    let driver_reuse = reuse.clone();
    // Once the response is done, the connection comes back from hyper and
    // is handed to the body reader, which keeps it until the request is
    // done with it (it then goes back to its pool, or is closed).
    let driver = async_std::task::spawn(async move {
        match connection.without_shutdown().await {
            Ok(parts) if parts.read_buf.is_empty() => Some(parts.io.into_inner()),
            Ok(_) => {
                // The server sent more than the response: never reused.
                driver_reuse.forbid();
                None
            }
            Err(_) => None,
        }
    });
    let response = sender.send_request(request).await.map_err(hyper_error)?;
    drop(sender);
    from_hyper(response, &reuse, driver)
}

async fn to_hyper(request: &mut ht::Request) -> ht::Result<http::Request<Full<Bytes>>> {
    let bad = |e: String| ht::Error::from_str(ht::StatusCode::BadRequest, e);
    let body = request.take_body().into_bytes().await?;
    let method =
        Method::from_bytes(request.method().as_ref().as_bytes()).map_err(|e| bad(e.to_string()))?;
    let url = request.url();
    // On a connection of its own origin, the request target is the path
    // and query; the origin goes in `Host`.
    let target = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err(bad(format!("the URL {url} has no host"))),
    };
    let mut builder = http::Request::builder()
        .method(method.clone())
        .uri(target)
        .header(HOST, host);
    if let Some(headers) = builder.headers_mut() {
        match request.ext().get::<RequestHeaders>() {
            // The request's own headers, exactly as volley has them.
            Some(RequestHeaders(own)) => {
                for (name, value) in own {
                    headers.append(name.clone(), value.clone());
                }
            }
            None => {
                for (name, values) in request.iter() {
                    let Ok(name) = http::HeaderName::from_bytes(name.as_str().as_bytes()) else {
                        continue;
                    };
                    for value in values.iter() {
                        if let Ok(value) = http::HeaderValue::from_str(value.as_str()) {
                            headers.append(name.clone(), value);
                        }
                    }
                }
            }
        }
        if body.is_empty() && matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            // hyper leaves out `content-length: 0`, which servers expect on
            // a POST without a body (volley-tokio sends it too).
            headers.insert(CONTENT_LENGTH, http::HeaderValue::from_static("0"));
        }
    }
    builder
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| bad(e.to_string()))
}

fn from_hyper(
    response: http::Response<Incoming>,
    reuse: &Reuse,
    driver: JoinHandle<Option<Lease>>,
) -> ht::Result<ht::Response> {
    let (parts, body) = response.into_parts();
    if closes_after(parts.version, &parts.headers) {
        reuse.forbid();
    }
    let status = ht::StatusCode::try_from(parts.status.as_u16())?;
    let mut out = ht::Response::new(status);
    for (name, value) in &parts.headers {
        if let Ok(text) = value.to_str() {
            out.append_header(name.as_str(), text);
        }
    }
    let declared = body
        .size_hint()
        .exact()
        .and_then(|n| usize::try_from(n).ok());
    out.set_body(ht::Body::from_reader(
        BodyReader {
            body,
            chunk: Bytes::new(),
            driver: Some(driver),
            lease: None,
        },
        declared,
    ));
    out.ext_mut().insert(RawHeaders(parts.headers));
    Ok(out)
}

/// True when the connection cannot carry another request after this
/// response: it said `Connection: close`, or it is HTTP/1.0 without
/// `keep-alive`.
fn closes_after(version: Version, headers: &HeaderMap) -> bool {
    let says = |token: &str| {
        headers.get_all(CONNECTION).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    says("close") || (version < Version::HTTP_11 && !says("keep-alive"))
}

fn hyper_error(e: hyper::Error) -> ht::Error {
    ht::Error::new(ht::StatusCode::BadGateway, e)
}

/// A hyper body read as bytes, chunk by chunk without copying. At its end
/// it waits for hyper to give the connection back and keeps it, so that by
/// the time a reader sees the end, the connection is ready to be reused.
struct BodyReader {
    body: Incoming,
    chunk: Bytes,
    driver: Option<JoinHandle<Option<Lease>>>,
    /// The connection, once hyper is done with it.
    lease: Option<Lease>,
}

impl AsyncBufRead for BodyReader {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        while this.chunk.is_empty() {
            match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                None => {
                    if let Some(driver) = this.driver.as_mut() {
                        this.lease = ready!(Pin::new(driver).poll(cx));
                        this.driver = None;
                    }
                    break;
                }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_or_http_1_0_ends_the_connection() {
        let headers = |connection: Option<&'static str>| {
            let mut h = HeaderMap::new();
            if let Some(c) = connection {
                h.insert(CONNECTION, http::HeaderValue::from_static(c));
            }
            h
        };
        assert!(!closes_after(Version::HTTP_11, &headers(None)));
        assert!(closes_after(Version::HTTP_11, &headers(Some("close"))));
        assert!(closes_after(
            Version::HTTP_11,
            &headers(Some("Upgrade, Close"))
        ));
        assert!(closes_after(Version::HTTP_10, &headers(None)));
        assert!(!closes_after(
            Version::HTTP_10,
            &headers(Some("keep-alive"))
        ));
    }
}
