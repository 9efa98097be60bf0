//! reqwest's errors as volley's [`ErrorKind`]s.

use std::error::Error as StdError;
use std::io;

use volley_core::adapter::{is_too_many_open_files, too_many_open_files};
use volley_core::{Error, ErrorKind};

/// Where a reqwest error happened: before the response head, or while
/// reading the body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Send,
    Body,
}

/// Maps a reqwest error onto volley's kinds, the same ones every adapter
/// gives for the same failure.
pub(crate) fn map_error(e: reqwest::Error, phase: Phase) -> Error {
    if is_too_many_open_files(&e) {
        return too_many_open_files().with_source(e.without_url());
    }
    let facts = Facts::of(&e);
    let cause = facts.root_cause.clone().unwrap_or_else(|| e.to_string());
    let (kind, what) = if facts.bad_framing {
        (
            ErrorKind::Body,
            format!("the response's framing is invalid: {cause}"),
        )
    } else if e.is_builder() {
        (
            ErrorKind::InvalidRequest,
            format!("the request could not be built: {cause}"),
        )
    } else if phase == Phase::Body {
        if e.is_timeout() {
            (
                ErrorKind::Timeout,
                format!("timed out while reading the body: {cause}"),
            )
        } else {
            (
                ErrorKind::Body,
                format!("the connection failed while reading the body: {cause}"),
            )
        }
    } else if e.is_connect() {
        let what = if e.is_timeout() {
            "the connection timed out"
        } else if e.is_dns() {
            "the host name could not be resolved"
        } else if facts.tls {
            "the TLS handshake failed"
        } else if facts.io_kind == Some(io::ErrorKind::ConnectionRefused) {
            "connection refused"
        } else {
            "the connection failed"
        };
        (ErrorKind::Connect, format!("{what}: {cause}"))
    } else if e.is_timeout() {
        (ErrorKind::Timeout, format!("timed out: {cause}"))
    } else if e.is_request() && !facts.bad_http {
        (
            ErrorKind::Connect,
            format!("the connection closed before a response arrived: {cause}"),
        )
    } else if e.is_body() || e.is_decode() {
        (
            ErrorKind::Body,
            format!("the body could not be read: {cause}"),
        )
    } else {
        (ErrorKind::Other, cause)
    };
    Error::new(kind, what).with_source(e.without_url())
}

/// What the source chain of an error says.
#[derive(Debug, Default)]
struct Facts {
    /// The first `io::Error` kind.
    io_kind: Option<io::ErrorKind>,
    /// A rustls error somewhere.
    tls: bool,
    /// hyper could not parse what the server sent.
    bad_http: bool,
    /// What it could not parse was the body's framing (two lengths, a bad
    /// chunk size): the body's end is unknowable.
    bad_framing: bool,
    /// The innermost error's message, which says what really happened
    /// ("Connection refused (os error 111)").
    root_cause: Option<String>,
}

impl Facts {
    fn of(e: &(dyn StdError + 'static)) -> Facts {
        let mut facts = Facts::default();
        facts.walk(e);
        facts
    }

    fn walk(&mut self, e: &(dyn StdError + 'static)) {
        let mut next = Some(e);
        while let Some(err) = next {
            if let Some(io_err) = err.downcast_ref::<io::Error>() {
                self.io_kind.get_or_insert(io_err.kind());
                // An io::Error's source() skips the error it wraps.
                if let Some(wrapped) = io_err.get_ref() {
                    self.walk(wrapped);
                    return;
                }
            }
            if err.is::<rustls::Error>() {
                self.tls = true;
            }
            if let Some(h) = err.downcast_ref::<hyper::Error>() {
                self.bad_http |= h.is_parse() || h.is_parse_status();
                // hyper names the framing header it could not make sense of.
                let text = h.to_string();
                self.bad_framing |= h.is_parse()
                    && (text.contains("content-length") || text.contains("transfer-encoding"));
            }
            if err.source().is_none() {
                self.root_cause = Some(err.to_string());
            }
            next = err.source();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_the_chain() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let facts = Facts::of(&refused);
        assert_eq!(facts.io_kind, Some(io::ErrorKind::ConnectionRefused));
        assert!(!facts.tls);
        let tls = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert!(Facts::of(&tls).tls);
        // The kind of the outer io::Error is kept, the wrapped one is walked.
        let wrapped = io::Error::other(io::Error::from(io::ErrorKind::ConnectionReset));
        assert_eq!(Facts::of(&wrapped).io_kind, Some(io::ErrorKind::Other));
    }

    /// A real reqwest error whose chain holds `source`: a redirect that the
    /// policy refuses with it.
    fn reqwest_error_from(source: io::Error) -> reqwest::Error {
        let server = volley_mock::MockServer::start();
        let source = std::sync::Mutex::new(Some(source));
        // reqwest is built without a crypto provider of its own.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::custom(
                move |attempt| match source.lock().ok().and_then(|mut s| s.take()) {
                    Some(e) => attempt.error(e),
                    None => attempt.stop(),
                },
            ))
            .build()
            .expect("reqwest client");
        let url = format!("{}/redirect", server.url());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(http.get(url).send())
            .expect_err("the redirect is refused")
    }

    #[test]
    fn too_many_open_files_anywhere_in_the_chain_is_the_shared_connect_error() {
        let err = map_error(
            reqwest_error_from(io::Error::from_raw_os_error(24)),
            Phase::Send,
        );
        assert_eq!(err.kind(), ErrorKind::Connect);
        assert_eq!(
            err.message(),
            too_many_open_files().message(),
            "the one wording of every adapter"
        );
        assert!(
            StdError::source(&err).is_some(),
            "the reqwest error is kept"
        );

        let wrapped = io::Error::other(io::Error::from_raw_os_error(24));
        let err = map_error(reqwest_error_from(wrapped), Phase::Body);
        assert_eq!(err.message(), too_many_open_files().message());

        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let err = map_error(reqwest_error_from(refused), Phase::Send);
        assert!(!err.message().contains("too many open files"), "{err}");
    }
}
