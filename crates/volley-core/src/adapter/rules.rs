//! The protocol rules every adapter follows, decided here once: which
//! schemes may leave the process, which headers only the transport may
//! write, and what makes a response's framing invalid.
//!
//! [`SendPath`](crate::adapter::SendPath) applies them to every request and
//! every redirect hop before an adapter sees it, and to every response it
//! hands back; an adapter whose client pools connections also calls
//! [`check_response_framing`] before it reads a body, so that a connection
//! with a response it cannot frame is never reused.

use http::header::{
    CONNECTION, CONTENT_LENGTH, HeaderMap, HeaderName, TE, TRAILER, TRANSFER_ENCODING, UPGRADE,
};
use http::{Method, StatusCode, Uri};

use crate::error::{Error, ErrorKind, Result};

/// The headers only the transport may write: they frame the message or
/// describe one hop's connection (RFC 9110 section 7.6.1, RFC 9112 section
/// 6). A caller who set one would cut the body short, smuggle a second
/// request, or keep a connection in a state the client does not know; so
/// requests and default headers that set them are refused, and any that
/// arrive through [`Request::headers_mut`](crate::Request::headers_mut) are
/// dropped before sending.
pub const FRAMING_HEADERS: [&str; 7] = [
    "connection",
    "content-length",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// True for a header in [`FRAMING_HEADERS`].
///
/// ```
/// use volley_core::http::header::{CONTENT_LENGTH, ACCEPT};
/// assert!(volley_core::adapter::is_framing_header(&CONTENT_LENGTH));
/// assert!(!volley_core::adapter::is_framing_header(&ACCEPT));
/// ```
pub fn is_framing_header(name: &HeaderName) -> bool {
    *name == CONNECTION
        || *name == CONTENT_LENGTH
        || *name == TE
        || *name == TRAILER
        || *name == TRANSFER_ENCODING
        || *name == UPGRADE
        || name.as_str() == "keep-alive"
}

/// The error for a caller-set framing header, at build time.
pub(crate) fn framing_header_refused(name: &HeaderName) -> Error {
    Error::new(
        ErrorKind::InvalidRequest,
        format!(
            "the {name} header frames the message and is set by the client itself; \
             it cannot be set on a request or as a default"
        ),
    )
}

/// Drops every [`FRAMING_HEADERS`] entry from `headers`.
pub(crate) fn strip_framing(headers: &mut HeaderMap) {
    let framing: Vec<HeaderName> = headers
        .keys()
        .filter(|name| is_framing_header(name))
        .cloned()
        .collect();
    for name in framing {
        headers.remove(name);
    }
}

/// Checks that `url` may be sent: an absolute `http` or `https` URL with a
/// host. Every other scheme (`file`, `ws`, `ftp`, ...) is refused with
/// [`ErrorKind::InvalidRequest`] before anything is opened, whatever the
/// client underneath could speak.
///
/// ```
/// use volley_core::{ErrorKind, http::Uri, adapter::check_scheme};
/// assert!(check_scheme(&Uri::from_static("https://api.example.test/x")).is_ok());
/// let err = check_scheme(&Uri::from_static("file://localhost/etc/hostname")).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
/// ```
pub fn check_scheme(url: &Uri) -> Result<()> {
    match url.scheme_str() {
        Some("http" | "https") if url.host().is_some_and(|h| !h.is_empty()) => Ok(()),
        Some("http" | "https") => Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("bad URL {url}: no host"),
        )),
        Some(other) => Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("unsupported scheme {other:?}: only http and https are ever sent"),
        )
        .with_url(url.clone())),
        None => Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("{url} is not an absolute http(s) URL"),
        )),
    }
}

/// True when a response to `method` with `status` has no body, whatever its
/// headers say (RFC 9110 section 6.4.1): the answer to a HEAD, an interim
/// `1xx`, `204 No Content` and `304 Not Modified`.
///
/// ```
/// use volley_core::adapter::response_has_no_body;
/// use volley_core::http::{Method, StatusCode};
/// assert!(response_has_no_body(&Method::HEAD, StatusCode::OK));
/// assert!(response_has_no_body(&Method::GET, StatusCode::NOT_MODIFIED));
/// assert!(!response_has_no_body(&Method::GET, StatusCode::OK));
/// ```
pub fn response_has_no_body(method: &Method, status: StatusCode) -> bool {
    *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED
}

/// Checks a response head's framing (RFC 9112 section 6.3): several
/// `Content-Length` values that disagree, or one that is not a number, make
/// the body's end unknowable, so the response is an [`ErrorKind::Body`]
/// error rather than a guess.
///
/// ```
/// use volley_core::http::{HeaderMap, HeaderValue, StatusCode, header::CONTENT_LENGTH};
/// let mut headers = HeaderMap::new();
/// headers.append(CONTENT_LENGTH, HeaderValue::from_static("5"));
/// assert!(volley_core::adapter::check_response_framing(StatusCode::OK, &headers).is_ok());
/// headers.append(CONTENT_LENGTH, HeaderValue::from_static("7"));
/// assert!(volley_core::adapter::check_response_framing(StatusCode::OK, &headers).is_err());
/// ```
pub fn check_response_framing(status: StatusCode, headers: &HeaderMap) -> Result<()> {
    let mut length: Option<u64> = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        // A list value ("5, 5") counts as its members.
        let text = value.to_str().unwrap_or("\u{0}");
        for part in text.split(',') {
            let Some(n) = parse_length(part.trim()) else {
                return Err(bad_framing(
                    status,
                    format!("the Content-Length {text:?} is not a number"),
                ));
            };
            match length {
                Some(seen) if seen != n => {
                    return Err(bad_framing(
                        status,
                        format!("the response declares two lengths, {seen} and {n}"),
                    ));
                }
                _ => length = Some(n),
            }
        }
    }
    Ok(())
}

fn parse_length(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn bad_framing(status: StatusCode, what: String) -> Error {
    Error::new(
        ErrorKind::Body,
        format!("{what}: the body's end cannot be known (RFC 9112 section 6.3)"),
    )
    .with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn strip_keeps_every_other_header_and_its_repeats() {
        let mut h = HeaderMap::new();
        h.append("x-a", HeaderValue::from_static("1"));
        h.append(CONTENT_LENGTH, HeaderValue::from_static("1"));
        h.append("x-a", HeaderValue::from_static("2"));
        h.append(TRANSFER_ENCODING, HeaderValue::from_static("chunked"));
        h.append("keep-alive", HeaderValue::from_static("timeout=5"));
        h.append(CONNECTION, HeaderValue::from_static("close"));
        h.append("accept", HeaderValue::from_static("*/*"));
        strip_framing(&mut h);
        let all: Vec<_> = h.get_all("x-a").iter().collect();
        assert_eq!(all, ["1", "2"]);
        assert_eq!(h.len(), 3);
        assert!(h.keys().all(|k| !is_framing_header(k)));
    }

    #[test]
    fn response_lengths() {
        let check = |values: &[&'static str]| {
            let mut h = HeaderMap::new();
            for v in values {
                h.append(CONTENT_LENGTH, HeaderValue::from_static(v));
            }
            check_response_framing(StatusCode::OK, &h).map_err(|e| e.kind())
        };
        assert_eq!(check(&[]), Ok(()));
        assert_eq!(check(&["5"]), Ok(()));
        assert_eq!(check(&["5", "5"]), Ok(()));
        assert_eq!(check(&["5, 5"]), Ok(()));
        assert_eq!(check(&["5", "7"]), Err(ErrorKind::Body));
        assert_eq!(check(&["5, 7"]), Err(ErrorKind::Body));
        assert_eq!(check(&["-1"]), Err(ErrorKind::Body));
        assert_eq!(check(&["+5"]), Err(ErrorKind::Body));
        assert_eq!(check(&[""]), Err(ErrorKind::Body));
    }

    #[test]
    fn only_http_and_https_leave() {
        for bad in [
            "file://localhost/etc/hostname",
            "ws://127.0.0.1/x",
            "mqtt://127.0.0.1/",
            "ftp://127.0.0.1/",
            "gopher://127.0.0.1/",
            "/relative",
        ] {
            let err = check_scheme(&bad.parse().unwrap()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{bad}");
        }
        assert!(check_scheme(&Uri::from_static("http://127.0.0.1:1/")).is_ok());
    }
}
