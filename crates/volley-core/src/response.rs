//! Responses, with the body already read (up to the fetcher's size cap).

use bytes::Bytes;
use http::{HeaderMap, StatusCode, Uri, Version};
use serde::de::DeserializeOwned;

use crate::error::{Error, ErrorKind, Result};

/// A response whose body has been read in full, within the fetcher's
/// maximum body size.
///
/// ```
/// use volley_core::Response;
/// use http::StatusCode;
/// #[derive(serde::Deserialize)]
/// struct User { id: u32 }
/// let resp = Response::new(StatusCode::OK, http::Uri::from_static("/users/1"), r#"{"id":1}"#);
/// let user: User = resp.json()?;
/// assert_eq!(user.id, 1);
/// # Ok::<(), volley_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Response {
    status: StatusCode,
    headers: HeaderMap,
    url: Uri,
    version: Version,
    body: Bytes,
}

impl Response {
    /// A response with no headers, in HTTP/1.1 (see
    /// [`with_version`](Response::with_version)).
    pub fn new(status: StatusCode, url: Uri, body: impl Into<Bytes>) -> Self {
        Response {
            status,
            headers: HeaderMap::new(),
            url,
            version: Version::HTTP_11,
            body: body.into(),
        }
    }

    /// Replaces the HTTP version the response came in; every adapter sets
    /// the one its client spoke.
    ///
    /// ```
    /// use http::{StatusCode, Uri, Version};
    /// use volley_core::Response;
    /// let resp = Response::new(StatusCode::OK, Uri::from_static("/x"), "");
    /// assert_eq!(resp.version(), Version::HTTP_11);
    /// let resp = resp.with_version(Version::HTTP_2);
    /// assert_eq!(resp.version(), Version::HTTP_2);
    /// ```
    #[must_use]
    pub fn with_version(mut self, version: Version) -> Self {
        self.version = version;
        self
    }

    /// Replaces the headers.
    #[must_use]
    pub fn with_headers(mut self, headers: HeaderMap) -> Self {
        self.headers = headers;
        self
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The HTTP version the response came in: [`Version::HTTP_2`] when the
    /// connection spoke HTTP/2 (chosen by ALPN over https, or
    /// [`http2_prior_knowledge`](crate::ClientBuilder::http2_prior_knowledge)),
    /// else [`Version::HTTP_11`] (or `HTTP_10` from an HTTP/1.0 server).
    pub fn version(&self) -> Version {
        self.version
    }

    /// The URL that answered (after redirects).
    pub fn url(&self) -> &Uri {
        &self.url
    }

    /// The body.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body, taken out.
    pub fn into_bytes(self) -> Bytes {
        self.body
    }

    /// The body as UTF-8 text; [`ErrorKind::Decode`] if it is not UTF-8.
    pub fn text(&self) -> Result<&str> {
        std::str::from_utf8(&self.body).map_err(|e| {
            Error::new(ErrorKind::Decode, "the body is not UTF-8 text")
                .with_url(self.url.clone())
                .with_status(self.status)
                .with_source(e)
        })
    }

    /// Decodes the body as JSON into `T`; [`ErrorKind::Decode`] with
    /// serde_json's message (line and column) when it does not fit.
    ///
    /// ```
    /// use volley_core::{ErrorKind, Response};
    /// let resp = Response::new(http::StatusCode::OK, http::Uri::from_static("/x"), "<html>");
    /// let err = resp.json::<serde_json::Value>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Decode);
    /// ```
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::new(
                ErrorKind::Decode,
                format!("the body is not the JSON expected: {e}"),
            )
            .with_url(self.url.clone())
            .with_status(self.status)
        })
    }

    /// `Ok(self)` for 1xx-3xx, else an [`ErrorKind::Status`] error with the code.
    ///
    /// ```
    /// use volley_core::{ErrorKind, Response};
    /// let resp = Response::new(http::StatusCode::NOT_FOUND, http::Uri::from_static("/x"), "");
    /// let err = resp.error_for_status().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Status);
    /// assert_eq!(err.status(), Some(http::StatusCode::NOT_FOUND));
    /// ```
    pub fn error_for_status(self) -> Result<Self> {
        if self.status.is_client_error() || self.status.is_server_error() {
            Err(Error::status_error(self.status).with_url(self.url))
        } else {
            Ok(self)
        }
    }
}
