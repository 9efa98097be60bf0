//! Every request ends by its timeout, the client's or its own (which wins),
//! whether the server never answers or sends the body too slowly; the
//! connection it leaves behind is never reused.

use std::time::{Duration, Instant};

use volley_core::{ErrorKind, Fetcher, FetcherExt, Request};
use volley_mock::MockServer;

use crate::support::{Adapter, Opts, Session};
use crate::{get, json_of, kind_of};

/// Sends a GET of `path` on `session`, whose timeout is 300 ms: a `Timeout`
/// error that names the path, once the timeout has passed and before
/// `too_late`.
fn times_out_by_the_client(session: &Session, path: &str, too_late: Duration) {
    let start = Instant::now();
    let err = session.get(path).expect_err("answered within the timeout");
    let took = start.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{path}: {err}");
    assert_eq!(err.url().map(|u| u.path()), path.split('?').next(), "{err}");
    assert!(took >= Duration::from_millis(290), "{path}: {took:?}");
    assert!(took < too_late, "{path}: {took:?}");
}

/// Five requests in turn on `session` each get their own answer: no
/// connection a timed-out request left behind is reused.
fn the_pool_is_clean(session: &Session) {
    for i in 1..=5 {
        assert_eq!(json_of(session.get(&format!("/users/{i}")))["id"], i);
    }
}

fn a_hanging_server_times_out_and_the_client_recovers(adapter: Adapter) {
    let (server, session) =
        adapter.mock_session_with(|opts| opts.timeout(Duration::from_millis(300)));
    // Warm the pool so the hanging request goes out on a pooled connection.
    assert_eq!(json_of(session.get("/users/1"))["id"], 1);
    times_out_by_the_client(&session, "/hang", Duration::from_secs(5));
    // The abandoned request is closed soon after.
    let start = Instant::now();
    while server.stats().in_flight > 0 && start.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(server.stats().in_flight, 0, "{:?}", server.stats());

    // The connection left waiting on /hang is not reused.
    the_pool_is_clean(&session);

    // A request's own timeout wins over the client's.
    let slow = Request::get("/users/1?delay_ms=600")
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert_eq!(
        session.send(slow).expect("own, longer timeout").status(),
        200
    );
    let hang = Request::get("/hang")
        .timeout(Duration::from_millis(50))
        .build()
        .unwrap();
    let start = Instant::now();
    let err = session.send(hang).expect_err("hangs");
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        start.elapsed() < Duration::from_millis(290),
        "{:?}",
        start.elapsed()
    );
}

fn a_slow_body_times_out_and_leaves_the_pool_clean(adapter: Adapter) {
    let (_server, session) =
        adapter.mock_session_with(|opts| opts.timeout(Duration::from_millis(300)));
    // The body takes 2 s to arrive.
    times_out_by_the_client(&session, "/slow-body?ms=2000", Duration::from_secs(2));
    the_pool_is_clean(&session);
}

crate::on_every_adapter!(
    a_hanging_server_times_out_and_the_client_recovers,
    a_slow_body_times_out_and_leaves_the_pool_clean,
);

async fn hang_times_out_through_the_layer<F: Fetcher>(make: impl Fn(Opts) -> F) {
    let server = MockServer::start();
    let client = make(Opts::new(server.url())).timeout(Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(
        kind_of(client.fetch(get("/hang")).await),
        Some(ErrorKind::Timeout)
    );
    let took = start.elapsed();
    eprintln!(
        "timeout 300 ms on /hang: returned after {:.1} ms",
        took.as_secs_f64() * 1e3
    );
    assert!(took >= Duration::from_millis(300));
}

mod layer {
    use super::*;
    crate::on_every_async_adapter!(hang_times_out_through_the_layer);
}
