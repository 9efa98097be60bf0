//! A request whose future is dropped (a gather dropped, `try_gather`
//! stopping at its first error) closes its connection soon after, not at
//! its timeout.

use std::time::{Duration, Instant};

use volley_core::{ErrorKind, Fetcher, Request, gather, try_gather};

use crate::support::Opts;
use crate::support::raw::RawServer;

/// A server that reads each request and never answers, holding the
/// connection until the client closes it.
fn silent() -> RawServer {
    RawServer::start(|conn| {
        if conn.read_request().is_some() {
            conn.wait_for_close(Duration::from_secs(30));
        }
    })
}

/// Waits for the server to see every connection closed; returns how long
/// that took, or fails after 5 s (the requests' timeout is 30 s).
fn closed_within(server: &RawServer, since: Instant) -> Duration {
    let closed = server.wait_until(Duration::from_secs(5), |s| s.open() == 0);
    let took = since.elapsed();
    assert!(
        closed,
        "{} connections still open after {took:?}",
        server.open()
    );
    took
}

async fn a_dropped_gather_closes_its_connections<F: Fetcher>(make: fn(Opts) -> F) {
    const N: usize = 6;
    let server = silent();
    let client = make(Opts::new(server.url("")).timeout(Duration::from_secs(30)));
    let timer = client.timer();
    let batch =
        gather((0..N).map(|i| client.fetch(Request::get(format!("/wait/{i}")).build().unwrap())));
    let waited = futures::future::select(
        Box::pin(batch),
        Box::pin(async {
            let start = Instant::now();
            while server.request_count() < N && start.elapsed() < Duration::from_secs(10) {
                timer.sleep(Duration::from_millis(5)).await;
            }
        }),
    )
    .await;
    assert_eq!(server.request_count(), N, "every request arrived");
    let dropped = Instant::now();
    drop(waited);
    let took = closed_within(&server, dropped);
    eprintln!("{N} connections closed {took:?} after the gather was dropped");
}

async fn try_gather_closes_the_rest_after_its_first_error<F: Fetcher>(make: fn(Opts) -> F) {
    const N: usize = 4;
    let server = silent();
    let client = make(Opts::new(server.url("")).timeout(Duration::from_secs(30)));
    let timer = client.timer();
    let start = Instant::now();
    let requests = (0..=N).map(|i| {
        let client = client.clone();
        let timer = timer.clone();
        let server = &server;
        async move {
            if i < N {
                return client
                    .fetch(Request::get(format!("/wait/{i}")).build().unwrap())
                    .await;
            }
            while server.request_count() < N && start.elapsed() < Duration::from_secs(10) {
                timer.sleep(Duration::from_millis(5)).await;
            }
            Err(volley_core::Error::new(ErrorKind::Other, "the first error"))
        }
    });
    let err = try_gather(requests).await.expect_err("one fails");
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
    assert!(err.to_string().contains("the first error"), "{err}");
    let took = closed_within(&server, Instant::now());
    eprintln!("{N} connections closed {took:?} after try_gather's first error");
}

async fn a_timed_out_request_closes_its_connection<F: Fetcher>(make: fn(Opts) -> F) {
    let server = silent();
    let client = make(Opts::new(server.url("")).timeout(Duration::from_millis(300)));
    let err = client
        .fetch(Request::get("/wait").build().unwrap())
        .await
        .expect_err("no answer");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    let took = closed_within(&server, Instant::now());
    eprintln!("the connection closed {took:?} after the request timed out");
}

crate::on_every_async_adapter!(a_timed_out_request_closes_its_connection);

// On smol, libcurl notices a dropped request only when the server next
// sends something or its own timeout passes (the request's, plus 50 ms):
// isahc gives no way to cancel a transfer. So only a timed-out request
// closes its connection soon on smol.
mod dropped {
    use super::*;
    crate::on_every_async_adapter!(@adapter tokio, volley_tokio::Client, tokio_block_on;
        a_dropped_gather_closes_its_connections,
        try_gather_closes_the_rest_after_its_first_error
    );
    crate::on_every_async_adapter!(@adapter async_std, volley_async_std::Client, async_std_block_on;
        a_dropped_gather_closes_its_connections,
        try_gather_closes_the_rest_after_its_first_error
    );
}
