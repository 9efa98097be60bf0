//! Response bodies: capped while they are read (never buffered past the
//! cap, however the server frames them), read in full under the cap, a
//! `Body` error when cut short, and absent when the response has none.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use volley_core::{ErrorKind, Request};

use crate::support::raw::RawServer;
use crate::support::{Adapter, Opts};
use crate::{answered_with, body_error};

fn bodies_are_capped_while_read(adapter: Adapter) {
    let (_server, session) = adapter.mock_session_with(|opts| opts.max_body_bytes(1_000_000));
    let err = session
        .get("/big?bytes=10000000")
        .expect_err("over the cap");
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
    assert_eq!(err.url().map(|u| u.path()), Some("/big"));

    let resp = session.get("/big?bytes=1000").expect("under the cap");
    assert_eq!(resp.bytes().len(), 1000);
    let resp = session.get("/big?bytes=1000000").expect("exactly the cap");
    assert_eq!(resp.bytes().len(), 1_000_000);

    // The client still works after a body was cut short.
    assert_eq!(session.get("/users/1").unwrap().status(), 200);
}

fn a_big_body_is_read_in_full_under_the_default_cap(adapter: Adapter) {
    let (_server, session) =
        adapter.mock_session_with(|opts| opts.timeout(Duration::from_secs(20)));
    let resp = session
        .get("/big?bytes=20000000")
        .expect("20 MB under the 64 MiB cap");
    assert_eq!(resp.bytes().len(), 20_000_000);
}

fn a_slowly_sent_body_is_read_whole(adapter: Adapter) {
    let (_server, session) =
        adapter.mock_session_with(|opts| opts.timeout(Duration::from_secs(10)));
    let resp = session.get("/slow-body?ms=200").unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.json::<serde_json::Value>().is_ok());
}

fn a_head_response_has_no_body_and_its_connection_is_reused(adapter: Adapter) {
    let (server, session) = adapter.mock_session_with(|opts| opts.max_body_bytes(1_000_000));
    // hyper (tokio) hands a body-less response to the caller before its
    // connection task has put the connection back in the pool, and a request
    // sent in that instant opens another: each request after a HEAD waits a
    // moment first. The second HEAD declares a size over the cap, but has no
    // body: it is not refused.
    for path in ["/users/1", "/big?bytes=10000000"] {
        let resp = session.send(Request::head(path).build().unwrap()).unwrap();
        assert_eq!(resp.status(), 200, "HEAD {path}");
        assert!(resp.bytes().is_empty(), "HEAD {path}");
        std::thread::sleep(Duration::from_millis(100));
    }
    // The connection is clean and reused.
    assert_eq!(session.get("/users/2").unwrap().status(), 200);
    assert_eq!(server.stats().connections, 1);
}

fn an_endless_chunked_body_stops_at_the_cap(adapter: Adapter) {
    const LIMIT: usize = 200 * 1024 * 1024;
    let sent = Arc::new(AtomicUsize::new(0));
    let server = {
        let sent = Arc::clone(&sent);
        RawServer::start(move |conn| {
            if conn.read_request().is_none()
                || !conn.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
            {
                return;
            }
            let mut chunk = format!("{:x}\r\n", 64 * 1024).into_bytes();
            chunk.extend_from_slice(&[b'x'; 64 * 1024]);
            chunk.extend_from_slice(b"\r\n");
            while sent.load(Ordering::SeqCst) < LIMIT && conn.write(&chunk) {
                sent.fetch_add(64 * 1024, Ordering::SeqCst);
            }
        })
    };
    let session = adapter.session(
        Opts::new(server.url(""))
            .max_body_bytes(1_000_000)
            .timeout(Duration::from_secs(10)),
    );
    let err = session.get("/endless").expect_err("over the cap");
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    drop(session);
    assert!(
        server.wait_until(Duration::from_secs(25), |s| s.open() == 0),
        "the server is still writing"
    );
    let sent = sent.load(Ordering::SeqCst);
    eprintln!("{adapter:?}: the server got {sent} bytes out before the client hung up");
    assert!(sent < LIMIT, "the client kept reading: {sent} bytes");
}

/// A body that ends before its framing said it would: a `Body` error, with
/// the status that came before it.
fn a_body_cut_short_is_a_body_error(adapter: Adapter) {
    let cases: [(&str, &[u8], u16); 2] = [
        (
            "shorter than its content-length",
            b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..",
            200,
        ),
        (
            "a chunk cut short",
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n40\r\npartial",
            200,
        ),
    ];
    for (what, response, status) in cases {
        let err = body_error(adapter, what, response);
        assert_eq!(
            err.status().map(|s| s.as_u16()),
            Some(status),
            "{what}: {err}"
        );
    }
}

fn an_empty_204_is_fine(adapter: Adapter) {
    let resp = answered_with(adapter, b"HTTP/1.1 204 No Content\r\n\r\n").expect("204");
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().is_empty());
}

crate::on_every_adapter!(
    bodies_are_capped_while_read,
    a_big_body_is_read_in_full_under_the_default_cap,
    a_slowly_sent_body_is_read_whole,
    a_head_response_has_no_body_and_its_connection_is_reused,
    an_endless_chunked_body_stops_at_the_cap,
    a_body_cut_short_is_a_body_error,
    an_empty_204_is_fine,
);
