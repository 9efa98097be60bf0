//! Only `http` and `https` ever leave the process: checked when sent, for
//! the request and for every redirect hop, whatever the client underneath
//! could speak.

use std::time::Duration;

use volley_core::{ErrorKind, Request};

use crate::support::Adapter;
use crate::support::raw::RawServer;

fn with_url(url: &str) -> Request {
    let mut request = Request::get("http://127.0.0.1:9/").build().unwrap();
    request.set_url(url.parse().unwrap());
    request
}

fn a_url_changed_to_another_scheme_is_refused_and_nothing_is_opened(adapter: Adapter) {
    let server = RawServer::respond_always(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    let port = server.addr().port();
    for url in [
        "file://localhost/etc/hostname".to_owned(),
        format!("ws://127.0.0.1:{port}/socket"),
        format!("mqtt://127.0.0.1:{port}/"),
        format!("ftp://127.0.0.1:{port}/"),
        format!("gopher://127.0.0.1:{port}/"),
    ] {
        let out = adapter.send(with_url(&url), Duration::from_secs(3));
        let err = out.expect_err(&url);
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{url}: {err}");
        assert!(err.to_string().contains("scheme"), "{url}: {err}");
    }
    assert_eq!(server.accepted(), 0, "a refused scheme opened a connection");
}

fn a_redirect_to_another_scheme_is_refused(adapter: Adapter) {
    let server = RawServer::respond_always(
        b"HTTP/1.1 302 Found\r\nlocation: file:///etc/hostname\r\ncontent-length: 0\r\n\r\n",
    );
    let err = adapter
        .send(
            Request::get(server.url("/start")).build().unwrap(),
            Duration::from_secs(3),
        )
        .expect_err("file:// is never followed");
    assert_eq!(err.kind(), ErrorKind::Redirect, "{err}");
    assert_eq!(server.request_count(), 1);
}

crate::on_every_adapter!(
    a_url_changed_to_another_scheme_is_refused_and_nothing_is_opened,
    a_redirect_to_another_scheme_is_refused,
);
