//! [`Exchange`]: one request sent through surf, holding on to its response
//! body, and with it the connection, until the request is done with it.

use std::future::Future;
use std::pin::Pin;

use futures_lite::io::AsyncBufRead;

use crate::connections::Reuse;

/// surf's send, boxed: surf's client hands out no nameable future.
type Sending = Pin<Box<dyn Future<Output = surf::Result<surf::Response>> + Send>>;

/// A response body being read: the connection is inside.
pub(crate) type Reader = Box<dyn AsyncBufRead + Unpin + Send + Sync>;

/// One request's use of a connection. Unless [`Exchange::finish`] says the
/// response was read to its end, the connection is closed when the
/// exchange is dropped, never reused.
pub(crate) struct Exchange {
    client: Option<surf::Client>,
    request: Option<surf::Request>,
    sending: Option<Sending>,
    body: Option<Reader>,
    reuse: Reuse,
}

impl Exchange {
    /// An exchange that sends `request` on `client` when first polled.
    pub(crate) fn new(client: &surf::Client, request: surf::Request) -> Exchange {
        Exchange {
            client: Some(client.clone()),
            request: Some(request),
            sending: None,
            body: None,
            reuse: Reuse::default(),
        }
    }

    /// Sends the request and waits for the response head. The body, with
    /// the connection in it, stays in the exchange (see [`Exchange::body`]);
    /// the response comes back without it, with the body's declared length.
    pub(crate) async fn send(&mut self) -> surf::Result<(surf::Response, Option<usize>)> {
        if let (Some(client), Some(mut request)) = (self.client.take(), self.request.take()) {
            request.set_ext(self.reuse.clone());
            self.sending = Some(Box::pin(async move { client.send(request).await }));
        }
        let Some(sending) = self.sending.as_mut() else {
            return Err(surf::Error::from_str(
                surf::StatusCode::InternalServerError,
                "the request was already sent",
            ));
        };
        let mut response = sending.await?;
        self.sending = None;
        let body = response.take_body();
        let declared = body.len();
        self.body = Some(body.into_reader());
        Ok((response, declared))
    }

    /// The body of the response, once sent.
    pub(crate) fn body(&mut self) -> Option<&mut Reader> {
        self.body.as_mut()
    }

    /// The response was read to its end, or has no body: the connection is
    /// clean and goes back to its pool.
    pub(crate) fn finish(self) {
        self.reuse.allow();
    }
}
