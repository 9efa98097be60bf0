//! A `CONNECT` tunnel through an HTTP proxy, for https origins: asked and
//! answered by hyper's client connection, after which the socket carries
//! the origin's TLS.

use std::future::Future;
use std::io;
use std::task::Poll;

use async_std::net::TcpStream;
use bytes::Bytes;
use futures_lite::future;
use http::header::{HOST, PROXY_AUTHORIZATION};
use http_body_util::Empty;
use hyper::client::conn::http1;
use smol_hyper::rt::FuturesIo;
use volley_core::adapter::Proxy;

/// Asks the proxy at the other end of `tcp` for a tunnel to `host:port`
/// and returns the socket once the proxy said yes (a 2xx); any other
/// answer is an error naming the status (407: the proxy wants credentials).
pub(crate) async fn open_tunnel(
    tcp: TcpStream,
    host: &str,
    port: u16,
    proxy: &Proxy,
) -> io::Result<TcpStream> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let (mut sender, connection) = http1::Builder::new()
        .handshake::<_, Empty<Bytes>>(FuturesIo::new(tcp))
        .await
        .map_err(io::Error::other)?;
    let mut request = http::Request::connect(target.as_str())
        .header(HOST, target.as_str())
        .body(Empty::new())
        .map_err(io::Error::other)?;
    if let Some(auth) = proxy.authorization() {
        request
            .headers_mut()
            .insert(PROXY_AUTHORIZATION, auth.clone());
    }
    // The connection is driven while the request waits for its answer;
    // after a 2xx it stops, handing the socket back (it may stop before
    // the answer is read here).
    let mut connection = Box::pin(connection.without_shutdown());
    let mut send = Box::pin(sender.send_request(request));
    let mut parts = None;
    let answer = future::poll_fn(|cx| {
        if parts.is_none() {
            if let Poll::Ready(done) = connection.as_mut().poll(cx) {
                match done {
                    Ok(p) => parts = Some(p),
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        }
        send.as_mut().poll(cx)
    })
    .await;
    let status = answer.map_err(io::Error::other)?.status();
    if !status.is_success() {
        return Err(io::Error::new(
            io::ErrorKind::ConnectionRefused,
            format!(
                "the proxy {} refused the tunnel to {target}: {status}",
                proxy.authority()
            ),
        ));
    }
    let parts = match parts {
        Some(parts) => parts,
        None => connection.await.map_err(io::Error::other)?,
    };
    if !parts.read_buf.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "the proxy {} sent bytes before the tunnel's first",
                proxy.authority()
            ),
        ));
    }
    Ok(parts.io.into_inner())
}
