//! Running out of file descriptors is a `Connect` error that says so.
//!
//! In a test binary of its own: it uses up every descriptor of the process.

#![cfg(unix)]

use std::fs::File;
use std::net::TcpListener;
use std::time::Duration;

use volley_async_std::Client;
use volley_core::{ErrorKind, Fetcher, Request};

#[async_std::test]
async fn too_many_open_files_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().expect("addr").port()
    );
    let client = Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    let request = Request::get(&url).build().expect("request");

    // Use up every descriptor (bounded, in case the limit is huge).
    let mut held = Vec::new();
    let mut exhausted = false;
    for _ in 0..200_000 {
        match File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(e) if e.raw_os_error() == Some(24) => {
                exhausted = true;
                break;
            }
            Err(e) => panic!("unexpected error opening /dev/null: {e}"),
        }
    }
    if !exhausted {
        eprintln!("skipped: could not reach the descriptor limit");
        return;
    }
    let result = client.fetch(request).await;
    drop(held);

    let err = result.expect_err("no descriptor left for a socket");
    eprintln!("{err}");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
    assert!(err.to_string().contains("too many open files"), "{err}");
}
