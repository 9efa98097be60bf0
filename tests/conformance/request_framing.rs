//! Framing and hop-by-hop headers are the transport's: refused when a
//! caller sets them on a request or as a default, dropped when they get in
//! through `headers_mut`, the same way on every adapter.

use std::time::Duration;

use volley_core::http::{HeaderName, HeaderValue};
use volley_core::{ErrorKind, Request, adapter::FRAMING_HEADERS};

use crate::support::raw::RawServer;
use crate::support::{Adapter, Opts};

fn framing_headers_are_refused_at_build_time(adapter: Adapter) {
    for name in FRAMING_HEADERS {
        let err = Request::post("/p")
            .header(name, "1")
            .build()
            .expect_err(name);
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{name}");
        let built = adapter.try_session(Opts::new("http://127.0.0.1:9".into()).header(name, "1"));
        let err = built
            .err()
            .unwrap_or_else(|| panic!("default header {name} accepted"));
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{name}");
    }
}

fn framing_headers_slipped_in_are_dropped_and_the_body_is_whole(adapter: Adapter) {
    let server = RawServer::respond_always(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    let session = adapter.session(Opts::new(server.url("")).timeout(Duration::from_secs(5)));
    for (name, value) in [
        ("content-length", "1"),
        ("transfer-encoding", "chunked"),
        ("connection", "close"),
        ("te", "trailers"),
        ("upgrade", "websocket"),
        ("keep-alive", "timeout=1"),
        ("trailer", "x-sum"),
    ] {
        let mut request = Request::post("/upload").body("hello").build().unwrap();
        request.headers_mut().insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
        let response = session
            .send(request)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(response.status(), 200, "{name}");
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 7);
    for received in &requests {
        assert_eq!(received.body, b"hello", "{received:?}");
        assert_eq!(received.all("content-length"), ["5"], "{received:?}");
        for name in [
            "transfer-encoding",
            "te",
            "upgrade",
            "keep-alive",
            "trailer",
        ] {
            assert!(received.header(name).is_none(), "{name} sent: {received:?}");
        }
        assert_ne!(received.header("connection"), Some("close"), "{received:?}");
    }
}

crate::on_every_adapter!(
    framing_headers_are_refused_at_build_time,
    framing_headers_slipped_in_are_dropped_and_the_body_is_whole,
);
