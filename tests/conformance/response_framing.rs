//! What a server sends back is read the same way on every adapter: valid
//! HTTP/1 in all its old forms is accepted, a response whose body's end
//! cannot be known is a `Body` error, and bytes that are not HTTP fail at
//! once.

use std::time::{Duration, Instant};

use volley_core::{ErrorKind, Request};

use crate::answered_with;
use crate::support::Adapter;
use crate::support::raw::RawServer;

fn conflicting_content_lengths_are_a_body_error(adapter: Adapter) {
    let err = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 7\r\n\r\nhelloXX",
    )
    .expect_err("two lengths");
    assert_eq!(err.kind(), ErrorKind::Body, "{err}");
}

fn a_malformed_chunk_size_is_a_body_error(adapter: Adapter) {
    let err = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n",
    )
    .expect_err("bad chunk");
    assert_eq!(err.kind(), ErrorKind::Body, "{err}");
}

fn a_malformed_first_chunk_size_is_a_body_error(adapter: Adapter) {
    let err = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )
    .expect_err("bad chunk");
    assert_eq!(err.kind(), ErrorKind::Body, "{err}");
}

fn an_unregistered_status_is_a_response(adapter: Adapter) {
    let resp = answered_with(
        adapter,
        b"HTTP/1.1 499 Client Closed Request\r\ncontent-length: 2\r\n\r\nno",
    )
    .expect("a status no registry lists is still a response");
    assert_eq!(resp.status().as_u16(), 499);
    assert_eq!(resp.text().unwrap(), "no");
}

fn an_http_1_0_response_is_read(adapter: Adapter) {
    let resp = answered_with(
        adapter,
        b"HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nhello",
    )
    .expect("HTTP/1.0 with a length");
    assert_eq!(resp.text().unwrap(), "hello");
    let resp = answered_with(adapter, b"HTTP/1.0 200 OK\r\n\r\nuntil close")
        .expect("HTTP/1.0 without a length");
    assert_eq!(resp.text().unwrap(), "until close");
}

fn a_close_delimited_body_is_read_to_the_end(adapter: Adapter) {
    let resp = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n0123456789",
    )
    .expect("a body that ends at close");
    assert_eq!(resp.text().unwrap(), "0123456789");
}

fn interim_responses_are_skipped(adapter: Adapter) {
    let resp = answered_with(
        adapter,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nlast",
    )
    .expect("1xx then 200");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().unwrap(), "last");
}

fn an_obs_text_header_byte_is_kept(adapter: Adapter) {
    let resp = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\nx-name: caf\xe9\r\ncontent-length: 2\r\n\r\nok",
    )
    .expect("a Latin-1 byte in a header value");
    assert_eq!(resp.text().unwrap(), "ok");
    assert_eq!(resp.headers()["x-name"].as_bytes(), b"caf\xe9");
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

fn repeated_headers_are_all_kept(adapter: Adapter) {
    let resp = answered_with(
        adapter,
        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\nx-a: 2\r\n\r\nok",
    )
    .expect("response");
    assert_eq!(resp.bytes().as_ref(), b"ok");
    let values: Vec<_> = resp.headers().get_all("x-a").iter().collect();
    assert_eq!(values, ["1", "2"]);
}

crate::on_every_adapter!(
    conflicting_content_lengths_are_a_body_error,
    repeated_headers_are_all_kept,
    a_malformed_chunk_size_is_a_body_error,
    an_unregistered_status_is_a_response,
    an_http_1_0_response_is_read,
    a_close_delimited_body_is_read_to_the_end,
    interim_responses_are_skipped,
    an_obs_text_header_byte_is_kept,
    a_banner_that_is_not_http_fails_at_once,
);

crate::on_every_adapter!(
    a_malformed_first_chunk_size_is_a_body_error,
    ignore(smol) = "isahc reports an error before the first body byte as libcurl's bare code 56, the same as a reset before any response"
);
