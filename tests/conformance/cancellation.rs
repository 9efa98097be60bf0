//! A fetch is a future like any other: it sends nothing until polled, and
//! dropped (a gather dropped, `try_gather` stopping at its first error) it
//! frees what it held and closes its connection soon after, not at its
//! timeout, leaving the client working.

use std::time::{Duration, Instant};

use futures::future::{Either, select};
use volley_core::{ErrorKind, Fetcher, FetcherExt, Request, gather, try_gather};
use volley_mock::MockServer;

use crate::support::Opts;
use crate::support::raw::RawServer;
use crate::{get, json_of};

/// Like every future, a fetch does nothing until polled: one made and
/// dropped sends nothing, and one awaited afterwards is the only request.
async fn an_unpolled_fetch_sends_nothing<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url()));
    let timer = client.timer();
    let unpolled = client.fetch(get("/users/1"));
    timer.sleep(Duration::from_millis(100)).await;
    assert_eq!(
        server.stats().requests,
        0,
        "nothing sent before the first poll"
    );
    drop(unpolled);
    assert_eq!(json_of(client.fetch(get("/users/2")).await)["id"], 2);
    timer.sleep(Duration::from_millis(50)).await;
    assert_eq!(
        server.stats().requests,
        1,
        "only the awaited request was sent"
    );
}

async fn dropping_a_gather_frees_everything<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url())).limit(4);
    let timer = client.timer();
    let batch = gather((1..=20).map(|i| client.fetch(get(format!("/users/{i}?delay_ms=1000")))));
    match select(Box::pin(batch), timer.sleep(Duration::from_millis(300))).await {
        Either::Left(_) => panic!("the batch cannot finish in 300 ms"),
        Either::Right(((), batch)) => drop(batch),
    }
    assert_eq!(client.available(), 4, "every permit is back");
    // The server sees the dropped requests go away.
    let deadline = Instant::now() + Duration::from_secs(5);
    while server.stats().in_flight > 0 && Instant::now() < deadline {
        timer.sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.stats().in_flight, 0);
    let out = gather((1..=8).map(|i| client.fetch(get(format!("/users/{i}"))))).await;
    assert!(out.iter().all(|r| r.is_ok()), "the client still works");
}

/// Requests of a dropped gather that the server would answer late or never
/// end at the server by their timeout at the latest (on smol, libcurl's
/// backstop: the timeout plus a little), and the client works at once.
async fn a_dropped_gather_ends_at_the_server_by_its_timeout<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url()).timeout(Duration::from_secs(1)));
    let timer = client.timer();
    let batch = gather((1..=50).map(|i| {
        let path = if i % 2 == 0 {
            "/hang".to_owned()
        } else {
            format!("/users/{i}?delay_ms=5000")
        };
        client.fetch(get(path))
    }));
    let started = Instant::now();
    match select(Box::pin(batch), timer.sleep(Duration::from_millis(300))).await {
        Either::Left(_) => panic!("the batch cannot finish in 300 ms"),
        Either::Right(((), batch)) => drop(batch),
    }
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(server.stats().max_in_flight, 50, "{:?}", server.stats());

    // The client still works at once.
    let out = gather((1..=20).map(|i| client.fetch(get(format!("/users/{i}"))))).await;
    for (i, result) in (1..=20).zip(out) {
        assert_eq!(json_of(result)["id"], i);
    }

    let dropped = Instant::now();
    while server.stats().in_flight > 0 && dropped.elapsed() < Duration::from_secs(5) {
        timer.sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.stats().in_flight, 0, "{:?}", server.stats());
    eprintln!(
        "the dropped requests ended at the server {:?} after the drop",
        started.elapsed()
    );
}

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

crate::on_every_async_adapter!(
    a_timed_out_request_closes_its_connection,
    an_unpolled_fetch_sends_nothing,
    dropping_a_gather_frees_everything,
    a_dropped_gather_ends_at_the_server_by_its_timeout,
    // On smol, libcurl notices a dropped request only when the server next
    // sends something or its own timeout passes (the request's, plus 50 ms):
    // isahc gives no way to cancel a transfer. So only a timed-out request
    // closes its connection soon on smol.
    #[ignore(smol) = "isahc notices a dropped request only when the server next sends or libcurl's timeout passes; it cannot cancel a transfer"]
    a_dropped_gather_closes_its_connections,
    #[ignore(smol) = "isahc notices a dropped request only when the server next sends or libcurl's timeout passes; it cannot cancel a transfer"]
    try_gather_closes_the_rest_after_its_first_error,
);
