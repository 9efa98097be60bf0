//! A batch gathered with no limit at all, larger than the process can open
//! connections for, runs slower but correct on every adapter: each client
//! keeps its connections within the open-files limit and the requests past
//! it wait for one, instead of failing with "too many open files".
//!
//! This binary lowers its own open-files limit (soft and hard) for good, so
//! it runs alone; the server is a child process (this binary again, running
//! the ignored `serve_for_connection_cap`), with the limit it started with.
#![allow(clippy::unwrap_used)]

mod support;

use support::child::ChildServer;

use std::time::{Duration, Instant};

use support::Opts;
use volley_core::{Fetcher, Request, gather};

/// The open-files limit the clients run under.
const LIMIT: u64 = 512;
/// More requests at once than that many connections.
const REQUESTS: usize = 1_500;

/// Not a test of its own: the server half of the test below.
#[test]
#[ignore = "started by a_batch_past_the_open_files_limit_waits_instead_of_failing"]
fn serve_for_connection_cap() {
    support::child::serve();
}

async fn run<F: Fetcher>(name: &str, client: F) {
    let start = Instant::now();
    let out = gather((0..REQUESTS).map(|i| {
        let req = Request::get(format!("/users/{}?delay_ms=50", i % 100 + 1)).build();
        let client = &client;
        async move { client.fetch(req?).await?.error_for_status() }
    }))
    .await;
    let errors: Vec<_> = out.iter().filter_map(|r| r.as_ref().err()).collect();
    eprintln!(
        "{name}: {REQUESTS} requests at once under an open-files limit of {LIMIT}: {} errors in {:?}",
        errors.len(),
        start.elapsed()
    );
    assert!(
        errors.is_empty(),
        "{name}: {:?}",
        &errors[..errors.len().min(3)]
    );
    assert_eq!(out.len(), REQUESTS);
}

#[test]
fn a_batch_past_the_open_files_limit_waits_instead_of_failing() {
    let server = ChildServer::start("serve_for_connection_cap");
    rlimit::Resource::NOFILE.set(LIMIT, LIMIT).unwrap();
    let opts = || Opts::new(server.url.clone()).timeout(Duration::from_secs(20));
    let cap = volley_core::adapter::default_connection_cap();
    assert!(cap < LIMIT as usize, "cap {cap} under a limit of {LIMIT}");
    support::tokio_block_on(run("tokio", build_client!(volley_tokio::Client, opts())));
    support::async_std_block_on(run(
        "async-std",
        build_client!(volley_async_std::Client, opts()),
    ));
    support::smol_block_on(run("smol", build_client!(volley_smol::Client, opts())));
    let blocking = build_client!(volley_blocking::Client, opts());
    let out: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| blocking.fetch(Request::get("/users/1").build().unwrap())))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(out.iter().all(|r| r.is_ok()), "blocking: {out:?}");
}
