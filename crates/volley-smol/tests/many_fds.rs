//! Sockets numbered 1024 and above: a process with many open files (a big
//! batch, or the mock server in the same process) must still connect.
//!
//! The static libcurl that curl-sys builds uses `select()` instead of
//! `poll()` unless it is compiled with `HAVE_POLL` (curl 8.11 renamed the
//! macro curl-sys still defines), and `select()` cannot watch a socket
//! numbered 1024 or above: such connections fail with `Connect`. The
//! workspace's `.cargo/config.toml` defines `HAVE_POLL` for the build.
//! Its own test binary, so the files it holds open do not push the sockets
//! of other tests past 1024.
#![allow(clippy::unwrap_used)]

use std::fs::File;
use std::time::Duration;

use volley_core::{Fetcher, Request, gather};
use volley_mock::MockServer;
use volley_smol::Client;

#[test]
fn sockets_above_1024_connect() {
    let server = MockServer::start(); // raises the open-files limit
    let hold: Vec<File> = (0..1100)
        .map_while(|_| File::open("/dev/null").ok())
        .collect();
    assert_eq!(hold.len(), 1100, "could not open enough files");
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let results =
        smol::block_on(gather((0..20).map(|_| {
            client.fetch(Request::get("/users/1?delay_ms=100").build().unwrap())
        })));
    let failed: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(
        failed.is_empty(),
        "{} failed, e.g. {:?}",
        failed.len(),
        failed.first()
    );
    drop(hold);
}
