//! A server may answer before it has read the whole request: a 413 sent at
//! once to a large upload, the server then reading no more and closing a
//! few seconds later, is the response, not a connection error.

use std::time::Duration;

use volley_core::{Request, Response, Result};

use crate::support::Adapter;
use crate::support::raw::RawServer;

/// POSTs `bytes` bytes to `server`'s `/upload`.
fn upload(adapter: Adapter, server: &RawServer, bytes: usize) -> Result<Response> {
    adapter.send(
        Request::post(server.url("/upload"))
            .body(vec![b'x'; bytes])
            .build()
            .unwrap(),
        Duration::from_secs(10),
    )
}

fn an_early_413_to_a_large_upload_is_returned(adapter: Adapter) {
    let server = RawServer::start(|conn| {
        if conn.read_head_only().is_some() {
            conn.write(
                b"HTTP/1.1 413 Content Too Large\r\nconnection: close\r\ncontent-length: 8\r\n\r\ntoo big!",
            );
            conn.shutdown_write();
            // The upload is never read; the socket closes (and resets) later.
            std::thread::sleep(Duration::from_secs(3));
        }
    });
    let resp = upload(adapter, &server, 16 * 1024 * 1024).expect("the server's answer");
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.text().unwrap(), "too big!");
}

/// A server that never answers `Expect: 100-continue` still gets a large
/// upload whole.
fn a_large_upload_reaches_a_server_that_ignores_expect(adapter: Adapter) {
    let server = RawServer::start(|conn| {
        if let Some(request) = conn.read_request() {
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{}",
                request.body.len().to_string().len(),
                request.body.len()
            );
            conn.write(answer.as_bytes());
        }
    });
    let resp = upload(adapter, &server, 2 * 1024 * 1024).expect("the upload");
    assert_eq!(resp.text().unwrap(), (2 * 1024 * 1024).to_string());
}

crate::on_every_adapter!(
    an_early_413_to_a_large_upload_is_returned,
    a_large_upload_reaches_a_server_that_ignores_expect,
);
