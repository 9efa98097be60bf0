//! What a server sends back is read the same way on every adapter: valid
//! HTTP/1 in all its old forms is accepted, a response whose body's end
//! cannot be known is a `Body` error, and bytes that are not HTTP fail at
//! once.

use std::time::{Duration, Instant};

use volley_core::{ErrorKind, Request};

use crate::support::Adapter;
use crate::support::raw::RawServer;
use crate::{answered_with, body_error};

/// Responses whose body's end cannot be known: each is a `Body` error.
fn unframeable_bodies_are_body_errors(adapter: Adapter) {
    let cases: [(&str, &[u8]); 2] = [
        (
            "two lengths",
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\nhelloXX",
        ),
        (
            "bad chunk",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n",
        ),
    ];
    for (what, response) in cases {
        body_error(adapter, what, response);
    }
}

fn a_malformed_first_chunk_size_is_a_body_error(adapter: Adapter) {
    body_error(
        adapter,
        "bad first chunk",
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    );
}

/// Valid HTTP/1 in its older or rarer forms: each is read as the response
/// it is, status and body.
fn every_valid_framing_is_read(adapter: Adapter) {
    let cases: [(&str, &[u8], u16, &str); 5] = [
        (
            "a status no registry lists is still a response",
            b"HTTP/1.1 499 Client Closed Request\r\ncontent-length: 2\r\n\r\nno",
            499,
            "no",
        ),
        (
            "HTTP/1.0 with a length",
            b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            200,
            "hello",
        ),
        (
            "HTTP/1.0 without a length",
            b"HTTP/1.0 200 OK\r\n\r\nuntil close",
            200,
            "until close",
        ),
        (
            "a body that ends at close",
            b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n0123456789",
            200,
            "0123456789",
        ),
        (
            "1xx then 200",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlast",
            200,
            "last",
        ),
    ];
    for (what, response, status, body) in cases {
        let resp = answered_with(adapter, response).expect(what);
        assert_eq!(resp.status().as_u16(), status, "{what}");
        assert_eq!(resp.text().unwrap(), body, "{what}");
    }
}

/// Header values reach the caller as sent: a Latin-1 byte is kept, and a
/// header sent twice has both its values.
fn header_values_are_kept_as_sent(adapter: Adapter) {
    let latin1 = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\nx-name: caf\xe9\r\ncontent-length: 2\r\n\r\nok",
    )
    .expect("a Latin-1 byte in a header value");
    assert_eq!(latin1.text().unwrap(), "ok");
    assert_eq!(latin1.headers()["x-name"].as_bytes(), b"caf\xe9");
    let repeated = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\nx-a: 2\r\n\r\nok",
    )
    .expect("response");
    assert_eq!(repeated.bytes().as_ref(), b"ok");
    let values: Vec<_> = repeated.headers().get_all("x-a").iter().collect();
    assert_eq!(values, ["1", "2"]);
}

fn a_banner_that_is_not_http_fails_at_once(adapter: Adapter) {
    let server = RawServer::start(|conn| {
        conn.write(b"SSH-2.0-OpenSSH_9.6\r\n");
        conn.wait_for_close(Duration::from_secs(10));
    });
    let start = Instant::now();
    let err = adapter
        .send(
            Request::get(server.url("/")).build().unwrap(),
            Duration::from_secs(5),
        )
        .expect_err("not HTTP");
    let took = start.elapsed();
    eprintln!("{adapter:?}: {err} after {took:?}");
    assert_ne!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        took < Duration::from_secs(4),
        "waited for the timeout: {took:?}"
    );
}

crate::on_every_adapter!(
    unframeable_bodies_are_body_errors,
    every_valid_framing_is_read,
    header_values_are_kept_as_sent,
    a_banner_that_is_not_http_fails_at_once,
    #[ignore(smol) = "isahc reports an error before the first body byte as libcurl's bare code 56, the same as a reset before any response"]
    a_malformed_first_chunk_size_is_a_body_error,
);
