//! The one error type every fetcher, layer and combinator returns.

use std::error::Error as StdError;
use std::fmt;

use http::{StatusCode, Uri};

/// What went wrong, in a form a caller can `match` on.
///
/// Every adapter maps its client's failures onto these kinds, so code that
/// handles errors is the same on every runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request could not be built: a bad URL, an unsupported scheme, an
    /// invalid method or a header value with CR/LF. Nothing was sent.
    InvalidRequest,
    /// No connection could be made (refused, unreachable, DNS, TLS handshake,
    /// too many open files) or it was reset before a response arrived.
    Connect,
    /// The request or a deadline ran out of time.
    Timeout,
    /// The server answered with a status that was not a success
    /// (see [`Error::status`]); produced by [`Response::error_for_status`](crate::Response::error_for_status).
    Status,
    /// The body could not be read to the end (connection reset mid-body).
    Body,
    /// The body was larger than the configured maximum; reading stopped there.
    TooLarge,
    /// The body was not the JSON (or text) that was asked for, or its
    /// `Content-Encoding` (gzip, deflate, br) could not be decoded: corrupt
    /// or cut short.
    Decode,
    /// Redirects went on too long, looped, or tried to downgrade https to http.
    Redirect,
    /// The request was cancelled before it finished (a fail-fast group gave up on it).
    Cancelled,
    /// Anything else a client reported.
    Other,
}

impl ErrorKind {
    /// A short, stable, snake_case name for reports and metrics
    /// (`"connect"`, `"timeout"`, `"status"`, ...).
    ///
    /// ```
    /// use volley_core::ErrorKind;
    /// assert_eq!(ErrorKind::TooLarge.as_str(), "too_large");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Connect => "connect",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Status => "status",
            ErrorKind::Body => "body",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Decode => "decode",
            ErrorKind::Redirect => "redirect",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Other => "other",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of a request: a [`kind`](Error::kind) to match on, and what is
/// known of the request (URL, status, attempts) to act on.
///
/// It is one pointer wide, so `Result<Response, Error>` stays small.
///
/// ```
/// use volley_core::{Error, ErrorKind};
/// let err = Error::new(ErrorKind::Timeout, "no response within 2s");
/// assert_eq!(err.kind(), ErrorKind::Timeout);
/// assert!(err.to_string().contains("timed out"));
/// ```
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: String,
    url: Option<Uri>,
    status: Option<StatusCode>,
    attempts: Option<u32>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// A new error of `kind` with a message that says what happened.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            inner: Box::new(Inner {
                kind,
                message: message.into(),
                url: None,
                status: None,
                attempts: None,
                source: None,
            }),
        }
    }

    /// An [`ErrorKind::Status`] error for a response with `status`.
    pub fn status_error(status: StatusCode) -> Self {
        Error::new(
            ErrorKind::Status,
            "the server answered with an error status",
        )
        .with_status(status)
    }

    /// An [`ErrorKind::Timeout`] error after `after`.
    pub fn timeout(after: std::time::Duration) -> Self {
        Error::new(ErrorKind::Timeout, format!("no response within {after:?}"))
    }

    /// Attaches the URL of the request.
    #[must_use]
    pub fn with_url(mut self, url: Uri) -> Self {
        self.inner.url = Some(url);
        self
    }

    /// Attaches the URL of the request unless the error names one already
    /// (a redirect's, say).
    ///
    /// ```
    /// use volley_core::{Error, ErrorKind, http::Uri};
    /// let err = Error::new(ErrorKind::Timeout, "late").or_url(Uri::from_static("http://a.test/x"));
    /// let kept = err.or_url(Uri::from_static("http://b.test/y"));
    /// assert_eq!(kept.url().map(|u| u.to_string()).as_deref(), Some("http://a.test/x"));
    /// ```
    #[must_use]
    pub fn or_url(mut self, url: Uri) -> Self {
        self.inner.url.get_or_insert(url);
        self
    }

    /// Attaches the response status.
    #[must_use]
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.inner.status = Some(status);
        self
    }

    /// Records how many attempts were made (set by the retry layer).
    #[must_use]
    pub fn with_attempts(mut self, attempts: u32) -> Self {
        self.inner.attempts = Some(attempts);
        self
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The URL of the request, when known.
    pub fn url(&self) -> Option<&Uri> {
        self.inner.url.as_ref()
    }

    /// The response status, for [`ErrorKind::Status`] errors (and others that saw one).
    pub fn status(&self) -> Option<StatusCode> {
        self.inner.status
    }

    /// How many attempts were made, when a retry layer was involved.
    pub fn attempts(&self) -> Option<u32> {
        self.inner.attempts
    }

    /// The message, without the kind, URL or source.
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// True for [`ErrorKind::Timeout`].
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// True for [`ErrorKind::Connect`].
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// True for [`ErrorKind::Status`].
    pub fn is_status(&self) -> bool {
        self.inner.kind == ErrorKind::Status
    }

    fn headline(&self) -> &'static str {
        match self.inner.kind {
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Connect => "could not connect",
            ErrorKind::Timeout => "timed out",
            ErrorKind::Status => "error status",
            ErrorKind::Body => "could not read the response body",
            ErrorKind::TooLarge => "response body too large",
            ErrorKind::Decode => "could not decode the response body",
            ErrorKind::Redirect => "redirect refused",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Other => "request failed",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.headline())?;
        if let Some(status) = self.inner.status {
            write!(f, " {status}")?;
        }
        if let Some(url) = &self.inner.url {
            write!(f, " for {url}")?;
        }
        if !self.inner.message.is_empty() {
            write!(f, ": {}", self.inner.message)?;
        }
        if let Some(attempts) = self.inner.attempts {
            write!(
                f,
                " (after {attempts} attempt{})",
                if attempts == 1 { "" } else { "s" }
            )?;
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind);
        d.field("message", &self.inner.message);
        if let Some(url) = &self.inner.url {
            d.field("url", url);
        }
        if let Some(status) = &self.inner.status {
            d.field("status", status);
        }
        if let Some(attempts) = &self.inner.attempts {
            d.field("attempts", attempts);
        }
        if let Some(source) = &self.inner.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_ref()
            .map(|s| &**s as &(dyn StdError + 'static))
    }
}

/// `From` for the `http` crate's errors: each is an
/// [`ErrorKind::InvalidRequest`] with the message given.
macro_rules! invalid_request_from {
    ($($source:ty => $message:expr),* $(,)?) => {$(
        impl From<$source> for Error {
            fn from(e: $source) -> Self {
                Error::new(ErrorKind::InvalidRequest, $message).with_source(e)
            }
        }
    )*};
}

invalid_request_from! {
    http::Error => "",
    http::uri::InvalidUri => "bad URL",
    http::header::InvalidHeaderValue =>
        "bad header value (control characters such as CR/LF are not allowed)",
    http::header::InvalidHeaderName => "bad header name",
    http::method::InvalidMethod => "bad method",
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

impl From<url::ParseError> for Error {
    fn from(e: url::ParseError) -> Self {
        Error::new(ErrorKind::InvalidRequest, "bad URL").with_source(e)
    }
}

/// A `Result` whose error is volley's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_is_one_pointer() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn display_says_what_to_act_on() {
        let e = Error::status_error(StatusCode::SERVICE_UNAVAILABLE)
            .with_url(Uri::from_static("http://127.0.0.1/flaky"))
            .with_attempts(3);
        let s = e.to_string();
        assert!(s.contains("503"), "{s}");
        assert!(s.contains("/flaky"), "{s}");
        assert!(s.contains("after 3 attempts"), "{s}");
    }
}
