//! Running out of file descriptors (EMFILE) is an error of kind `Connect`
//! that says so, not a crash, on every adapter; the client recovers when
//! descriptors come back.
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
    let room = open_fds() + 24;
    rlimit::Resource::NOFILE.set(room, hard).unwrap();
    let out = gather((1..=150).map(|i| {
        let req = Request::get(format!("/users/{}?delay_ms=300", i % 100 + 1)).build();
        let client = &client;
        async move { client.fetch(req?).await }
    }))
    .await;
    rlimit::Resource::NOFILE.set(soft, hard).unwrap();

    assert_eq!(out.len(), 150, "one result per request");
    let ok = out.iter().filter(|r| r.is_ok()).count();
    let errors: Vec<_> = out.iter().filter_map(|r| r.as_ref().err()).collect();
    let emfile = errors
        .iter()
        .filter(|e| e.kind() == ErrorKind::Connect && e.to_string().contains("too many open files"))
        .count();
    eprintln!(
        "{name}: {ok} ok, {} errors, {emfile} of them 'too many open files'",
        errors.len()
    );
    assert!(emfile > 0, "{name}: no EMFILE error: {errors:?}");
    assert!(
        errors
            .iter()
            .all(|e| matches!(e.kind(), ErrorKind::Connect | ErrorKind::Timeout)),
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
    let opts = || Opts::new(server.url.clone()).timeout(Duration::from_secs(3));
    support::tokio_block_on(starve("tokio", build_client!(volley_tokio::Client, opts())));
    support::async_std_block_on(starve(
        "async-std",
        build_client!(volley_async_std::Client, opts()),
    ));
    support::smol_block_on(starve("smol", build_client!(volley_smol::Client, opts())));
}
