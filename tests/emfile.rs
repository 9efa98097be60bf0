//! Running out of file descriptors (EMFILE) on every adapter: a request
//! with nothing to wait for fails at once with a `Connect` error that says
//! so; requests that find no descriptor while others of their client hold
//! some wait for those and end well; the client recovers when descriptors
//! come back.
//!
//! The server runs in a child process (this test binary again, running the
//! ignored `serve_for_emfile` test), so only the client is starved.
#![allow(clippy::unwrap_used)]

mod support;

use support::child::ChildServer;

use std::time::Duration;

use support::Opts;
use volley_core::{ErrorKind, Fetcher, Request, gather};

/// Not a test of its own: the server half of `emfile_is_a_typed_error`.
#[test]
#[ignore = "started by emfile_is_a_typed_error in a child process"]
fn serve_for_emfile() {
    support::child::serve();
}

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count() as u64)
}

async fn starve<F: Fetcher>(name: &str, client: F) {
    let (soft, hard) = rlimit::Resource::NOFILE.get().unwrap();

    // No room at all, and no other request of the client holding any: the
    // request fails at once, with a typed error that says so. (A first
    // request to a closed port starts the runtime's reactor, which needs
    // descriptors of its own, and leaves no connection to reuse.)
    let refused = client
        .fetch(Request::get(support::refused_url()).build().unwrap())
        .await;
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::Connect)
    );
    rlimit::Resource::NOFILE.set(1, hard).unwrap();
    let alone = client
        .fetch(Request::get("/users/1?delay_ms=10").build().unwrap())
        .await;
    rlimit::Resource::NOFILE.set(soft, hard).unwrap();
    let err = alone.expect_err("no descriptor to connect with");
    assert_eq!(err.kind(), ErrorKind::Connect, "{name}: {err}");
    assert!(
        err.to_string().contains("too many open files"),
        "{name}: {err}"
    );

    // Room for a few connections under a client whose cap was set for many
    // more: the requests that find no descriptor wait for those on the
    // wire; what cannot be had (idle connections elsewhere in a pool hold
    // the rest) fails as a typed error, never as a timeout.
    let room = open_fds() + 24;
    rlimit::Resource::NOFILE.set(room, hard).unwrap();
    let start = std::time::Instant::now();
    let out = gather((1..=150).map(|i| {
        let req = Request::get(format!("/users/{}?delay_ms=100", i % 100 + 1)).build();
        let client = &client;
        async move { client.fetch(req?).await }
    }))
    .await;
    rlimit::Resource::NOFILE.set(soft, hard).unwrap();
    assert_eq!(out.len(), 150, "one result per request");
    let errors: Vec<_> = out.iter().filter_map(|r| r.as_ref().err()).collect();
    eprintln!(
        "{name}: 150 requests with room for about 24 connections: {} errors in {:?}",
        errors.len(),
        start.elapsed()
    );
    assert!(errors.len() < 150, "{name}: every request failed");
    assert!(
        errors.iter().all(
            |e| e.kind() == ErrorKind::Connect && e.to_string().contains("too many open files")
        ),
        "{name}: {errors:?}"
    );

    // Descriptors are back: the same client works again.
    let again = gather((1..=20).map(|i| {
        let req = Request::get(format!("/users/{i}")).build();
        let client = &client;
        async move { client.fetch(req?).await }
    }))
    .await;
    assert!(
        again.iter().all(|r| r.is_ok()),
        "{name} recovers: {again:?}"
    );
}

#[test]
fn emfile_is_a_typed_error() {
    let server = ChildServer::start("serve_for_emfile");
    let opts = || Opts::new(server.url.clone()).timeout(Duration::from_secs(20));
    support::tokio_block_on(starve("tokio", build_client!(volley_tokio::Client, opts())));
    support::async_std_block_on(starve(
        "async-std",
        build_client!(volley_async_std::Client, opts()),
    ));
    support::smol_block_on(starve("smol", build_client!(volley_smol::Client, opts())));
}
