//! ureq's errors as volley's [`ErrorKind`]s.

use std::fmt;
use std::io;
use std::time::Duration;

use volley_core::adapter::{is_too_many_open_files, too_many_open_files};
use volley_core::{Error, ErrorKind};

/// Where a ureq error happened: before the response head, or while reading
/// the body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Send,
    Body,
}

/// Maps a ureq error onto volley's kinds, the same ones every adapter gives
/// for the same failure. `limit` is the request's timeout, for the message.
pub(crate) fn map_error(e: ureq::Error, phase: Phase, limit: Duration) -> Error {
    use ureq::Error as U;
    // ureq's errors have no source chain: an I/O error is read as itself.
    let out_of_fds = match &e {
        U::Io(io) => is_too_many_open_files(io),
        other => is_too_many_open_files(other),
    };
    if out_of_fds {
        return too_many_open_files().with_source(e);
    }
    let (kind, what) = match &e {
        U::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve) => {
            (ErrorKind::Connect, "the connection timed out".to_owned())
        }
        U::Timeout(_) if phase == Phase::Body => (
            ErrorKind::Timeout,
            format!("the body was not read within {limit:?}"),
        ),
        U::Timeout(_) => (ErrorKind::Timeout, format!("no response within {limit:?}")),
        U::Io(io) => map_io(io, phase),
        U::HostNotFound => (
            ErrorKind::Connect,
            "the host name could not be resolved".to_owned(),
        ),
        U::ConnectionFailed | U::ConnectProxyFailed(_) | U::InvalidProxyUrl => {
            (ErrorKind::Connect, "the connection failed".to_owned())
        }
        U::Tls(_) | U::Rustls(_) | U::Pem(_) | U::TlsRequired => {
            (ErrorKind::Connect, "the TLS handshake failed".to_owned())
        }
        U::BadUri(_) | U::Http(_) | U::RequireHttpsOnly(_) => (
            ErrorKind::InvalidRequest,
            "the request could not be sent as built".to_owned(),
        ),
        U::TooManyRedirects | U::RedirectFailed => {
            (ErrorKind::Redirect, "redirect refused".to_owned())
        }
        U::Protocol(p) if phase == Phase::Body || is_framing(p) => (
            ErrorKind::Body,
            "the body was not valid HTTP framing".to_owned(),
        ),
        _ => (ErrorKind::Other, "the request failed".to_owned()),
    };
    Error::new(kind, what).with_source(e)
}

/// True when ureq could not frame the body (two lengths, a bad length or
/// chunk size): the body's end is unknowable.
fn is_framing(e: &impl fmt::Display) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    text.contains("content-length") || text.contains("chunk")
}

/// Maps an I/O error: refused, reset or closed before a response is
/// `Connect`; after it, `Body`. (Too many open files is told apart before,
/// in [`map_error`].)
fn map_io(io: &io::Error, phase: Phase) -> (ErrorKind, String) {
    if io
        .get_ref()
        .is_some_and(|inner| inner.is::<rustls::Error>())
    {
        return (ErrorKind::Connect, "the TLS handshake failed".to_owned());
    }
    match (phase, io.kind()) {
        (_, io::ErrorKind::TimedOut) => (ErrorKind::Timeout, "the socket timed out".to_owned()),
        (Phase::Body, _) => (
            ErrorKind::Body,
            "the connection failed while reading the body".to_owned(),
        ),
        (Phase::Send, io::ErrorKind::ConnectionRefused) => {
            (ErrorKind::Connect, "connection refused".to_owned())
        }
        (Phase::Send, _) => (
            ErrorKind::Connect,
            "the connection failed before a response arrived".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(5);

    #[test]
    fn too_many_open_files_is_the_shared_connect_error() {
        for phase in [Phase::Send, Phase::Body] {
            let emfile = ureq::Error::Io(io::Error::from_raw_os_error(24));
            let err = map_error(emfile, phase, LIMIT);
            assert_eq!(err.kind(), ErrorKind::Connect);
            assert_eq!(err.message(), too_many_open_files().message());
            assert!(
                std::error::Error::source(&err).is_some(),
                "the ureq error is kept"
            );
        }
        let wrapped = io::Error::other(io::Error::from_raw_os_error(23));
        let err = map_error(ureq::Error::Io(wrapped), Phase::Send, LIMIT);
        assert_eq!(err.message(), too_many_open_files().message());
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let err = map_error(ureq::Error::Io(refused), Phase::Send, LIMIT);
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert!(!err.message().contains("too many open files"), "{err}");
    }

    #[test]
    fn io_errors_map_by_phase() {
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(map_io(&reset, Phase::Send).0, ErrorKind::Connect);
        assert_eq!(map_io(&reset, Phase::Body).0, ErrorKind::Body);
        let timed_out = io::Error::from(io::ErrorKind::TimedOut);
        assert_eq!(map_io(&timed_out, Phase::Body).0, ErrorKind::Timeout);
        let tls = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        let (kind, msg) = map_io(&tls, Phase::Send);
        assert_eq!(kind, ErrorKind::Connect);
        assert!(msg.contains("TLS"));
    }

    #[test]
    fn framing_and_timeouts() {
        assert!(is_framing(&"Content-Length mismatch"));
        assert!(is_framing(&"bad chunk size"));
        assert!(!is_framing(&"bad header"));
        let connect = ureq::Error::Timeout(ureq::Timeout::Connect);
        assert_eq!(
            map_error(connect, Phase::Send, LIMIT).kind(),
            ErrorKind::Connect
        );
        let global = ureq::Error::Timeout(ureq::Timeout::Global);
        assert_eq!(
            map_error(global, Phase::Body, LIMIT).kind(),
            ErrorKind::Timeout
        );
    }
}
