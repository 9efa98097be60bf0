//! Compressed responses: `Accept-Encoding: gzip, br` sent unless the caller
//! sets their own, gzip, deflate and br bodies decoded by volley-core (the
//! clients under the adapters decode nothing themselves), the size cap held
//! on the decoded bytes, the encoding headers dropped once decoded, and
//! `decompress(false)` handing back the bytes as they came.

use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use volley_core::{ErrorKind, Request};

use crate::support::raw::RawServer;
use crate::support::{Adapter, Opts};

const JSON: &str = r#"{"id":1,"name":"Leanne Graham","tags":["a","b","c"],"note":"repeated repeated repeated repeated"}"#;

/// Everything `encoder` reads, encoded.
fn encoded(mut encoder: impl Read) -> Vec<u8> {
    let mut out = Vec::new();
    encoder.read_to_end(&mut out).unwrap();
    out
}

fn gzip(data: &[u8]) -> Vec<u8> {
    encoded(flate2::read::GzEncoder::new(
        data,
        flate2::Compression::default(),
    ))
}

fn zlib(data: &[u8]) -> Vec<u8> {
    encoded(flate2::read::ZlibEncoder::new(
        data,
        flate2::Compression::default(),
    ))
}

fn brotli(data: &[u8]) -> Vec<u8> {
    encoded(brotli::CompressorReader::new(data, 4096, 5, 22))
}

/// A head with `content-encoding` and `content-length`, then `body`.
fn with_length(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: {encoding}\r\ncontent-length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A head with `content-encoding`, then `body` in chunks of 7 bytes.
fn chunked(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: {encoding}\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for chunk in body.chunks(7) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A server that answers every request with `response`, connections kept.
fn serving(response: Vec<u8>) -> RawServer {
    let response = Arc::new(response);
    RawServer::start(move |conn| {
        while conn.read_request().is_some() {
            if !conn.write(&response) {
                return;
            }
        }
    })
}

fn session(adapter: Adapter, server: &RawServer) -> crate::support::Session {
    adapter.session(Opts::new(server.url("")).timeout(Duration::from_secs(10)))
}

fn gzip_json_is_decoded_and_its_encoding_headers_dropped(adapter: Adapter) {
    let server = serving(with_length("gzip", &gzip(JSON.as_bytes())));
    let resp = session(adapter, &server).get("/users/1").unwrap();
    assert_eq!(resp.status(), 200);
    let user: Value = resp.json().unwrap();
    assert_eq!(user["name"], "Leanne Graham");
    assert!(resp.headers().get("content-encoding").is_none());
    assert!(resp.headers().get("content-length").is_none());
    assert_eq!(resp.headers()["content-type"], "application/json");
    let sent = server.requests();
    assert_eq!(sent[0].all("accept-encoding"), ["gzip, br"]);
}

/// Reuse of a connection after a chunked body is `connections.rs`'s case
/// (racy on tokio, ignored there); this one is about the decoding.
fn chunked_gzip_is_decoded_request_after_request(adapter: Adapter) {
    let server = serving(chunked("gzip", &gzip(JSON.as_bytes())));
    let session = session(adapter, &server);
    for _ in 0..3 {
        assert_eq!(session.get("/users/1").unwrap().bytes(), JSON);
    }
}

fn brotli_is_decoded(adapter: Adapter) {
    for response in [
        with_length("br", &brotli(JSON.as_bytes())),
        chunked("br", &brotli(JSON.as_bytes())),
    ] {
        let server = serving(response);
        let resp = session(adapter, &server).get("/users/1").unwrap();
        assert_eq!(resp.bytes(), JSON);
        assert!(resp.headers().get("content-encoding").is_none());
    }
}

fn deflate_is_decoded(adapter: Adapter) {
    let server = serving(with_length("deflate", &zlib(JSON.as_bytes())));
    let resp = session(adapter, &server).get("/users/1").unwrap();
    assert_eq!(resp.json::<Value>().unwrap()["id"], 1);
}

fn decompress_off_hands_back_the_raw_bytes_and_headers(adapter: Adapter) {
    let gz = gzip(JSON.as_bytes());
    let server = serving(with_length("gzip", &gz));
    let session = adapter.session(Opts::new(server.url("")).decompress(false));
    let resp = session.get("/users/1").unwrap();
    assert_eq!(
        resp.bytes(),
        &gz[..],
        "the adapter's client decoded it itself"
    );
    assert_eq!(resp.headers()["content-encoding"], "gzip");
    assert_eq!(
        resp.headers()["content-length"],
        gz.len().to_string().as_str()
    );
    assert_eq!(kind(resp.json::<Value>()), Some(ErrorKind::Decode));
    let sent = server.requests();
    assert!(
        sent[0].all("accept-encoding").is_empty(),
        "accept-encoding sent: {:?}",
        sent[0].headers
    );
}

fn kind<T>(result: volley_core::Result<T>) -> Option<ErrorKind> {
    result.err().map(|e| e.kind())
}

fn the_callers_accept_encoding_is_sent_as_it_is(adapter: Adapter) {
    let server = RawServer::respond_always(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    let session = session(adapter, &server);
    let req = Request::get("/a")
        .header("accept-encoding", "identity")
        .build()
        .unwrap();
    assert_eq!(session.send(req).unwrap().bytes(), "ok");
    let with_default = adapter.session(Opts::new(server.url("")).header("Accept-Encoding", "br"));
    assert_eq!(with_default.get("/b").unwrap().bytes(), "ok");
    let sent = server.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].all("accept-encoding"), ["identity"]);
    assert_eq!(sent[1].all("accept-encoding"), ["br"]);
}

fn a_gzip_bomb_is_too_large_at_once(adapter: Adapter) {
    let bomb = gzip(&vec![0u8; 10 * 1024 * 1024]);
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    for response in [with_length("gzip", &bomb), chunked("gzip", &bomb)] {
        let server = serving(response);
        let session = adapter.session(
            Opts::new(server.url(""))
                .max_body_bytes(1024 * 1024)
                .timeout(Duration::from_secs(10)),
        );
        let err = session.get("/bomb").expect_err("over the cap once decoded");
        assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
        assert_eq!(err.url().map(|u| u.path()), Some("/bomb"));
    }
}

fn a_body_that_decodes_to_the_cap_exactly_is_read(adapter: Adapter) {
    let plain = vec![b'x'; 100_000];
    let server = serving(with_length("gzip", &gzip(&plain)));
    let session = adapter.session(Opts::new(server.url("")).max_body_bytes(100_000));
    assert_eq!(session.get("/x").unwrap().bytes().len(), 100_000);
    let session = adapter.session(Opts::new(server.url("")).max_body_bytes(99_999));
    assert_eq!(kind(session.get("/x")), Some(ErrorKind::TooLarge));
}

fn a_corrupt_gzip_body_is_a_decode_error(adapter: Adapter) {
    let mut corrupt = gzip(JSON.as_bytes());
    let mid = corrupt.len() / 2;
    corrupt[10..mid].fill(0xff);
    let cut = &gzip(JSON.as_bytes())[..20];
    for body in [&b"plainly not gzip"[..], &corrupt, cut] {
        let server = serving(with_length("gzip", body));
        let err = session(adapter, &server).get("/c").expect_err("corrupt");
        assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
        assert_eq!(err.url().map(|u| u.path()), Some("/c"));
    }
}

fn an_unknown_encoding_is_handed_back_raw(adapter: Adapter) {
    let server = serving(with_length("compress", b"\x1f\x9d\x90raw"));
    let resp = session(adapter, &server).get("/z").unwrap();
    assert_eq!(resp.bytes(), &b"\x1f\x9d\x90raw"[..]);
    assert_eq!(resp.headers()["content-encoding"], "compress");
    assert_eq!(resp.headers()["content-length"], "6");
}

fn a_head_response_with_an_encoding_is_empty(adapter: Adapter) {
    let server = RawServer::respond_always(
        b"HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: 40\r\n\r\n",
    );
    let resp = session(adapter, &server)
        .send(Request::head("/h").build().unwrap())
        .unwrap();
    assert!(resp.bytes().is_empty());
    assert_eq!(resp.headers()["content-encoding"], "gzip");
}

crate::on_every_adapter!(
    gzip_json_is_decoded_and_its_encoding_headers_dropped,
    chunked_gzip_is_decoded_request_after_request,
    brotli_is_decoded,
    deflate_is_decoded,
    decompress_off_hands_back_the_raw_bytes_and_headers,
    the_callers_accept_encoding_is_sent_as_it_is,
    a_gzip_bomb_is_too_large_at_once,
    a_body_that_decodes_to_the_cap_exactly_is_read,
    a_corrupt_gzip_body_is_a_decode_error,
    an_unknown_encoding_is_handed_back_raw,
    a_head_response_with_an_encoding_is_empty,
);
