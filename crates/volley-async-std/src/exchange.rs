//! [`Exchange`]: one request sent through surf, holding on to its response
//! body, and with it the connection, until the request is done with it.

use futures_lite::io::AsyncBufRead;

use crate::connections::Reuse;

/// A response body being read: the connection is inside.
pub(crate) type Reader = Box<dyn AsyncBufRead + Unpin + Send + Sync>;

/// One request's use of a connection. Unless [`Exchange::finish`] says the
/// response was read to its end, the connection is closed when the
/// exchange is dropped, never reused.
pub(crate) struct Exchange<'a> {
    client: &'a surf::Client,
    body: Option<Reader>,
    reuse: Reuse,
}

impl<'a> Exchange<'a> {
    /// An exchange on `client`.
    pub(crate) fn new(client: &'a surf::Client) -> Exchange<'a> {
        Exchange {
            client,
            body: None,
            reuse: Reuse::default(),
        }
    }

    /// Sends `request` and waits for the response head. The body, with the
    /// connection in it, stays in the exchange (see [`Exchange::body`]);
    /// the response comes back without it, with the body's declared length.
    pub(crate) async fn send(
        &mut self,
        mut request: surf::Request,
    ) -> surf::Result<(surf::Response, Option<usize>)> {
        request.set_ext(self.reuse.clone());
        let mut response = self.client.send(request).await?;
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
