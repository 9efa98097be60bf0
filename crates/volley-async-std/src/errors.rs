//! surf's errors as volley's [`ErrorKind`]s.
//!
//! A connection that could not be opened comes as a
//! [`ConnectFailed`](crate::connections::ConnectFailed) in the error's
//! chain. Failures on an open connection come from hyper: a
//! `hyper::Error` (a head that is not HTTP, an invalid length, a connection
//! closed before the response was complete) with, for I/O, an `io::Error`
//! (reset, broken pipe) under it. The chain, the `io::Error`'s kind and the
//! text are all read.

use std::io;

use http::Uri;
use volley_core::adapter::{is_too_many_open_files, too_many_open_files};
use volley_core::{Error, ErrorKind};

use crate::connections::ConnectFailed;

/// What failed, as read from a send error's chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Cause {
    /// No connection could be opened; `Some(true)` if the TLS handshake
    /// failed.
    connect: Option<bool>,
    io: Option<(io::ErrorKind, Option<i32>)>,
    /// What hyper said of the exchange, if it failed there.
    hyper: Option<Hyper>,
    /// rustls failed on an open connection: the server ended the TLS
    /// session with an alert (in TLS 1.3 a server that refuses the client's
    /// certificate says so only after the handshake).
    tls: bool,
}

/// The hyper failures that have a kind of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hyper {
    /// The connection closed before a complete response.
    Incomplete,
    /// The connection ended (its task failed, as on a TLS alert) before the
    /// request was answered, and took the request with it.
    Canceled,
    /// The head's framing (a length, a transfer coding) was invalid.
    Framing,
    /// The head was not HTTP.
    Parse,
    /// Anything else.
    Other,
}

impl Hyper {
    fn of(e: &hyper::Error) -> Hyper {
        if e.is_incomplete_message() {
            return Hyper::Incomplete;
        }
        if e.is_canceled() {
            return Hyper::Canceled;
        }
        if e.is_parse() {
            let text = e.to_string();
            if text.contains("content-length") || text.contains("transfer-encoding") {
                return Hyper::Framing;
            }
            return Hyper::Parse;
        }
        Hyper::Other
    }
}

/// Maps an error from sending a request and reading the response head.
pub(crate) fn send_error(err: surf::Error, url: &Uri) -> Error {
    let inner = err.into_inner();
    if is_too_many_open_files(&*inner) {
        return too_many_open_files()
            .with_url(url.clone())
            .with_source(Box::<dyn std::error::Error + Send + Sync>::from(inner));
    }
    let text = inner.to_string();
    let cause = Cause {
        connect: inner
            .chain()
            .find_map(|e| e.downcast_ref::<ConnectFailed>())
            .map(|failed| failed.tls),
        io: inner
            .chain()
            .find_map(|e| e.downcast_ref::<io::Error>())
            .map(|e| (e.kind(), e.raw_os_error())),
        hyper: inner
            .chain()
            .find_map(|e| e.downcast_ref::<hyper::Error>())
            .map(Hyper::of),
        tls: inner.chain().any(|e| {
            e.is::<rustls::Error>()
                || e.downcast_ref::<io::Error>()
                    .and_then(|io| io.get_ref())
                    .is_some_and(|inner| inner.is::<rustls::Error>())
        }),
    };
    let (kind, message) = classify_send(&text, cause);
    Error::new(kind, message)
        .with_url(url.clone())
        .with_source(Box::<dyn std::error::Error + Send + Sync>::from(inner))
}

fn classify_send(text: &str, cause: Cause) -> (ErrorKind, &'static str) {
    use io::ErrorKind as K;

    if cause.connect == Some(true) {
        return (ErrorKind::Connect, "the TLS handshake failed");
    }
    if cause.tls {
        return (ErrorKind::Connect, "the server refused the TLS session");
    }
    if cause.connect.is_some() && cause.io.is_some_and(|(kind, _)| kind == K::TimedOut) {
        return (ErrorKind::Connect, "the connection timed out");
    }
    match cause.hyper {
        Some(Hyper::Framing) => {
            return (
                ErrorKind::Body,
                "the response's framing is invalid (such as two different lengths)",
            );
        }
        Some(Hyper::Parse) => return (ErrorKind::Other, "the server's answer is not HTTP"),
        Some(Hyper::Incomplete | Hyper::Canceled) if cause.io.is_none() => {
            return (
                ErrorKind::Connect,
                "the connection was closed before a response arrived",
            );
        }
        _ => {}
    }
    if let Some((kind, _)) = cause.io {
        match kind {
            K::ConnectionRefused => return (ErrorKind::Connect, "connection refused"),
            K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::NotConnected => {
                return (
                    ErrorKind::Connect,
                    "the connection was closed before a response arrived",
                );
            }
            K::AddrNotAvailable
            | K::AddrInUse
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown => return (ErrorKind::Connect, "the server cannot be reached"),
            K::TimedOut => {
                return (
                    ErrorKind::Timeout,
                    "the operating system timed out the connection",
                );
            }
            _ => {}
        }
    }
    // The rest is read from the text, whatever its case.
    let lower = text.to_ascii_lowercase();
    if cause.connect.is_some() {
        if lower.contains("lookup") || lower.contains("resolve") || lower.contains("not known") {
            return (ErrorKind::Connect, "the host name could not be resolved");
        }
        return (ErrorKind::Connect, "no connection could be made");
    }
    // The transport's own refusals, before connecting.
    if lower.contains("invalid url scheme") {
        return (ErrorKind::InvalidRequest, "unsupported URL scheme");
    }
    if lower.starts_with("the url ") {
        return (ErrorKind::InvalidRequest, "the URL has no host or port");
    }
    if lower.contains("invalid status code") {
        return (
            ErrorKind::Other,
            "the server answered with a status code surf does not know",
        );
    }
    (ErrorKind::Other, "the response could not be read")
}

/// Maps an error from reading the body: the body could not be read to its
/// end.
pub(crate) fn body_error(err: io::Error, url: &Uri) -> Error {
    let message = match err.kind() {
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
            "the connection was reset while the body was read"
        }
        io::ErrorKind::UnexpectedEof => "the body ended early",
        _ => "the body could not be read to its end",
    };
    Error::new(ErrorKind::Body, message)
        .with_url(url.clone())
        .with_source(err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(
        text: &str,
        connect: Option<bool>,
        io: Option<(io::ErrorKind, Option<i32>)>,
    ) -> ErrorKind {
        classify_send(
            text,
            Cause {
                connect,
                io,
                hyper: None,
                tls: false,
            },
        )
        .0
    }

    #[test]
    fn maps_connect_failures_and_hyper_failures() {
        let refused = Some((io::ErrorKind::ConnectionRefused, Some(111)));
        assert_eq!(kind("x", Some(false), refused), ErrorKind::Connect);
        let emfile = surf::Error::from(io::Error::from_raw_os_error(24));
        let err = send_error(emfile, &Uri::from_static("http://127.0.0.1:1/"));
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert!(err.to_string().contains("too many open files"), "{err}");
        let bad_cert = Some((io::ErrorKind::InvalidData, None));
        assert_eq!(
            classify_send(
                "invalid certificate: UnknownIssuer",
                Cause {
                    connect: Some(true),
                    io: bad_cert,
                    hyper: None,
                    tls: false,
                }
            ),
            (ErrorKind::Connect, "the TLS handshake failed")
        );
        assert_eq!(
            classify_send(
                "failed to lookup address information",
                Cause {
                    connect: Some(false),
                    io: Some((io::ErrorKind::Other, None)),
                    hyper: None,
                    tls: false,
                }
            )
            .1,
            "the host name could not be resolved"
        );
        let alert = Cause {
            io: Some((io::ErrorKind::InvalidData, None)),
            tls: true,
            ..Cause::default()
        };
        assert_eq!(
            classify_send("received fatal alert: CertificateRequired", alert),
            (ErrorKind::Connect, "the server refused the TLS session")
        );
        let timed_out = Some((io::ErrorKind::TimedOut, None));
        assert_eq!(
            classify_send(
                "x",
                Cause {
                    connect: Some(false),
                    io: timed_out,
                    hyper: None,
                    tls: false,
                }
            ),
            (ErrorKind::Connect, "the connection timed out")
        );
        assert_eq!(kind("x", None, timed_out), ErrorKind::Timeout);
        let reset = Some((io::ErrorKind::ConnectionReset, Some(104)));
        assert_eq!(kind("connection reset", None, reset), ErrorKind::Connect);
        let hyper = |h| {
            classify_send(
                "x",
                Cause {
                    hyper: Some(h),
                    ..Cause::default()
                },
            )
            .0
        };
        assert_eq!(hyper(Hyper::Incomplete), ErrorKind::Connect);
        assert_eq!(hyper(Hyper::Canceled), ErrorKind::Connect);
        assert_eq!(hyper(Hyper::Framing), ErrorKind::Body);
        assert_eq!(hyper(Hyper::Parse), ErrorKind::Other);
        assert_eq!(
            kind("invalid url scheme 'ftp'", None, None),
            ErrorKind::InvalidRequest
        );
    }
}
