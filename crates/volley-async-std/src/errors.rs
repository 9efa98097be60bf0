//! surf's errors as volley's [`ErrorKind`]s.
//!
//! surf's h1 client reports most failures as an `http_types::Error` wrapping
//! an `io::Error`, but some only as text: a failure to open a pooled
//! connection is turned into a string by the client ("An error occured while
//! creating a new object: Connection refused (os error 111)"), and the
//! HTTP/1 decoder says "connection closed" when the server hangs up before
//! answering. Both the error chain and the text are read.

use std::io;

use http::Uri;
use volley_core::{Error, ErrorKind};

/// What a failed send did to the connection it used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Connection {
    /// No connection was made, or the one used is closed: the pool drops
    /// closed connections by itself.
    Unharmed,
    /// A connection may have gone back to the pool in an unknown state
    /// (unread bytes, a malformed response): the pool must not be reused.
    Tainted,
}

/// The raw OS error of "too many open files" (EMFILE) on Unix.
const EMFILE: i32 = 24;

/// Maps an error from sending a request and reading the response head.
pub(crate) fn send_error(err: surf::Error, url: &Uri) -> (Error, Connection) {
    let inner = err.into_inner();
    let text = inner.to_string();
    let io = inner
        .chain()
        .find_map(|e| e.downcast_ref::<io::Error>())
        .map(|e| (e.kind(), e.raw_os_error()));
    let (kind, message, connection) = classify_send(&text, io);
    let error = Error::new(kind, message)
        .with_url(url.clone())
        .with_source(Box::<dyn std::error::Error + Send + Sync>::from(inner));
    (error, connection)
}

fn classify_send(
    text: &str,
    io: Option<(io::ErrorKind, Option<i32>)>,
) -> (ErrorKind, &'static str, Connection) {
    use Connection::{Tainted, Unharmed};
    use io::ErrorKind as K;

    let lower = text.to_ascii_lowercase();
    if io.is_some_and(|(_, raw)| raw == Some(EMFILE))
        || lower.contains(&format!("(os error {EMFILE})"))
    {
        return (
            ErrorKind::Connect,
            "too many open files: raise the file-descriptor limit (ulimit -n) or lower the concurrency",
            Unharmed,
        );
    }
    if let Some((kind, _)) = io {
        match kind {
            K::ConnectionRefused => {
                return (ErrorKind::Connect, "connection refused", Unharmed);
            }
            K::ConnectionReset
            | K::ConnectionAborted
            | K::BrokenPipe
            | K::UnexpectedEof
            | K::NotConnected => {
                return (
                    ErrorKind::Connect,
                    "the connection was closed before a response arrived",
                    Unharmed,
                );
            }
            K::AddrNotAvailable
            | K::AddrInUse
            | K::HostUnreachable
            | K::NetworkUnreachable
            | K::NetworkDown => {
                return (ErrorKind::Connect, "the server cannot be reached", Unharmed);
            }
            K::TimedOut => {
                return (
                    ErrorKind::Timeout,
                    "the operating system timed out the connection",
                    Unharmed,
                );
            }
            _ => {}
        }
    }
    // The pool's own wording for a connection that could not be opened
    // (refused, unreachable, TLS handshake failure): the cause is only text.
    if lower.contains("creating a new object") {
        let message = if lower.contains("connection refused") {
            "connection refused"
        } else if lower.contains("certificate") || lower.contains("tls") {
            "the TLS handshake failed"
        } else {
            "no connection could be made"
        };
        return (ErrorKind::Connect, message, Unharmed);
    }
    if lower.contains("failed to lookup address") || lower.contains("name or service not known") {
        return (
            ErrorKind::Connect,
            "the host name could not be resolved",
            Unharmed,
        );
    }
    // async-h1's decoder, on a connection that hung up without a response.
    if lower == "connection closed" || lower == "empty response" {
        return (
            ErrorKind::Connect,
            "the connection was closed before a response arrived",
            Unharmed,
        );
    }
    if lower.contains("invalid url scheme") {
        return (
            ErrorKind::InvalidRequest,
            "unsupported URL scheme",
            Unharmed,
        );
    }
    if lower.contains("invalid status code") {
        return (
            ErrorKind::Other,
            "the server answered with a status code surf does not know",
            Tainted,
        );
    }
    (ErrorKind::Other, "the response could not be read", Tainted)
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

    fn kind(text: &str, io: Option<(io::ErrorKind, Option<i32>)>) -> (ErrorKind, Connection) {
        let (k, _, c) = classify_send(text, io);
        (k, c)
    }

    #[test]
    fn maps_the_h1_clients_wording() {
        use Connection::*;
        assert_eq!(
            kind(
                "An error occured while creating a new object: Connection refused (os error 111)",
                None
            ),
            (ErrorKind::Connect, Unharmed)
        );
        assert_eq!(
            kind(
                "An error occured while creating a new object: Too many open files (os error 24)",
                None
            ),
            (ErrorKind::Connect, Unharmed)
        );
        assert_eq!(
            kind("x", Some((io::ErrorKind::Other, Some(24)))),
            (ErrorKind::Connect, Unharmed)
        );
        assert_eq!(
            kind(
                "connection reset",
                Some((io::ErrorKind::ConnectionReset, Some(104)))
            ),
            (ErrorKind::Connect, Unharmed)
        );
        assert_eq!(
            kind("connection closed", None),
            (ErrorKind::Connect, Unharmed)
        );
        assert_eq!(
            kind("Malformed HTTP head", None),
            (ErrorKind::Other, Tainted)
        );
        let (_, message, _) = classify_send(
            "An error occured while creating a new object: invalid certificate: UnknownIssuer",
            None,
        );
        assert_eq!(message, "the TLS handshake failed");
    }
}
