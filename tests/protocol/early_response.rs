//! A server may answer before it has read the whole request: a 413 sent at
//! once to a large upload, the server then reading no more and closing a
//! few seconds later, is the response, not a connection error.

use std::time::Duration;

use volley_core::Request;

use crate::support::Adapter;
use crate::support::raw::RawServer;

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
    let body = vec![b'x'; 16 * 1024 * 1024];
    let resp = adapter
        .send(
            Request::post(server.url("/upload"))
                .body(body)
                .build()
                .unwrap(),
            Duration::from_secs(10),
        )
        .expect("the server's answer");
    assert_eq!(resp.status(), 413);
    assert_eq!(resp.text().unwrap(), "too big!");
}

crate::on_every_adapter!(@adapter tokio, Tokio; an_early_413_to_a_large_upload_is_returned);
crate::on_every_adapter!(@adapter smol, Smol; an_early_413_to_a_large_upload_is_returned);
crate::on_every_adapter!(@adapter async_std, AsyncStd; an_early_413_to_a_large_upload_is_returned);
crate::on_every_adapter!(@ignored blocking, Blocking,
    "ureq reads the response only once the whole body is written";
    an_early_413_to_a_large_upload_is_returned);
