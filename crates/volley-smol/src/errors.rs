//! isahc's (libcurl's) errors as volley's [`ErrorKind`]s.

use std::error::Error as StdError;

use http::{StatusCode, Uri};
use volley_core::adapter::{is_too_many_open_files, too_many_open_files};
use volley_core::{Error, ErrorKind};

/// Maps a failure of isahc's send (no response has arrived) onto volley's
/// kinds. `early`: it came before volley's own deadline.
pub(crate) fn map_send_error(e: isahc::Error, url: &Uri, early: bool) -> Error {
    use isahc::error::ErrorKind as K;
    // A request libcurl could not rewind was written: whatever the process
    // is short of, it must never be taken for one that was not sent.
    let written = curl_code(&e).is_some_and(|c| c.is_send_fail_rewind());
    let connect_failed = matches!(e.kind(), K::ConnectionFailed);
    if !written && (is_too_many_open_files(&e) || (connect_failed && out_of_fds())) {
        return too_many_open_files().with_url(url.clone()).with_source(e);
    }
    let (kind, message) = match e.kind() {
        K::ConnectionFailed => (ErrorKind::Connect, "the connection could not be made"),
        K::NameResolution => (ErrorKind::Connect, "the host name could not be resolved"),
        K::BadServerCertificate
        | K::BadClientCertificate
        | K::TlsEngine
        | K::InvalidTlsConfiguration => (ErrorKind::Connect, "the TLS handshake failed"),
        K::Io if written => (
            ErrorKind::Connect,
            "the connection closed before a response arrived (the request was not sent again)",
        ),
        K::Io => (
            ErrorKind::Connect,
            "the connection failed before a response arrived",
        ),
        K::ProtocolViolation
            if curl_code(&e).is_some_and(|c| c.code() == CURLE_WEIRD_SERVER_REPLY) =>
        {
            (
                ErrorKind::Body,
                "the response's head or framing is invalid (such as two different lengths)",
            )
        }
        K::ProtocolViolation if curl_code(&e).is_some_and(|c| c.is_got_nothing()) => (
            ErrorKind::Connect,
            "the connection was closed before any response arrived",
        ),
        K::Timeout if early => (ErrorKind::Connect, "the connection timed out"),
        K::Timeout => (ErrorKind::Timeout, "libcurl timed out"),
        K::InvalidRequest => (ErrorKind::InvalidRequest, "libcurl refused the request"),
        K::TooManyRedirects => (ErrorKind::Redirect, "too many redirects"),
        _ => (ErrorKind::Other, ""),
    };
    Error::new(kind, message)
        .with_url(url.clone())
        .with_source(e)
}

/// Maps a failure while reading the body (the response had arrived).
pub(crate) fn map_body_error(e: std::io::Error, url: &Uri, status: StatusCode) -> Error {
    let (kind, message) = if e.kind() == std::io::ErrorKind::TimedOut {
        (ErrorKind::Timeout, "timed out while reading the body")
    } else {
        (
            ErrorKind::Body,
            "the connection broke before the body was complete",
        )
    };
    Error::new(kind, message)
        .with_url(url.clone())
        .with_status(status)
        .with_source(e)
}

/// The libcurl error behind an isahc error, if there is one.
fn curl_code(e: &isahc::Error) -> Option<&curl::Error> {
    let mut cause: Option<&(dyn StdError + 'static)> = e.source();
    while let Some(c) = cause {
        if let Some(curl) = c.downcast_ref::<curl::Error>() {
            return Some(curl);
        }
        cause = c.source();
    }
    None
}

/// libcurl's "weird server reply": a response head it could not make sense
/// of, such as two different `Content-Length`s (`curl-sys` has no name for
/// it in the `curl` crate's API).
const CURLE_WEIRD_SERVER_REPLY: u32 = 8;

/// True when this process cannot open one more socket right now.
///
/// libcurl reports a `socket()` that failed for lack of descriptors as a
/// plain "could not connect", without the OS error; so after a failed
/// connect, one socket is opened (and closed at once) to tell that case apart.
fn out_of_fds() -> bool {
    if !cfg!(unix) {
        return false;
    }
    match std::net::UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0)) {
        Ok(_) => false,
        Err(e) => is_too_many_open_files(&e),
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn url() -> Uri {
        Uri::from_static("http://127.0.0.1:9/x")
    }

    #[test]
    fn too_many_open_files_is_the_shared_connect_error() {
        let emfile = isahc::Error::from(io::Error::from_raw_os_error(24));
        let err = map_send_error(emfile, &url(), true);
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert_eq!(err.message(), too_many_open_files().message());
        assert_eq!(err.url(), Some(&url()));
        assert!(StdError::source(&err).is_some(), "the isahc error is kept");

        // Only the text says so.
        let text = isahc::Error::from(io::Error::other("socket: Too many open files"));
        let err = map_send_error(text, &url(), true);
        assert_eq!(err.message(), too_many_open_files().message());
    }

    #[test]
    fn send_errors_map_by_what_isahc_says() {
        use isahc::error::ErrorKind as K;
        let refused = isahc::Error::from(io::Error::from(io::ErrorKind::ConnectionRefused));
        let err = map_send_error(refused, &url(), true);
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert!(!err.message().contains("too many open files"), "{err}");
        let of = |kind: K, early: bool| map_send_error(kind.into(), &url(), early).kind();
        assert_eq!(of(K::NameResolution, true), ErrorKind::Connect);
        assert_eq!(of(K::BadServerCertificate, true), ErrorKind::Connect);
        assert_eq!(of(K::Timeout, true), ErrorKind::Connect);
        assert_eq!(of(K::Timeout, false), ErrorKind::Timeout);
        assert_eq!(of(K::TooManyRedirects, true), ErrorKind::Redirect);
        assert_eq!(of(K::InvalidRequest, true), ErrorKind::InvalidRequest);
    }

    #[test]
    fn body_errors_are_body_or_timeout() {
        let status = StatusCode::OK;
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let err = map_body_error(reset, &url(), status);
        assert_eq!(err.kind(), ErrorKind::Body);
        assert_eq!(err.status(), Some(status));
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(
            map_body_error(timed_out, &url(), status).kind(),
            ErrorKind::Timeout
        );
    }
}
