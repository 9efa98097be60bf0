//! Nothing under volley re-sends a request by itself: a request whose
//! pooled connection dies after it was written fails (a POST is never sent
//! twice), and every re-send of an idempotent one is an attempt of the
//! retry layer, counted against its maximum.

use std::time::Duration;

use volley_core::{ErrorKind, Fetcher, FetcherExt, Request, RetryPolicy};

use crate::support::raw::{Conn, RawServer};
use crate::support::{Adapter, Opts};

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

/// The first connection answers its first request and then reads the next
/// one and closes without a word (a server that died, or closed an idle
/// connection just as the request went out); every later connection runs
/// `later`.
fn dying_connection(later: fn(&mut Conn)) -> RawServer {
    RawServer::start(move |conn| {
        if conn.index == 0 {
            if conn.read_request().is_some() && conn.write(OK) {
                conn.read_request();
            }
        } else {
            later(conn);
        }
    })
}

fn arrivals(server: &RawServer, path: &str) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.line.split(' ').nth(1) == Some(path))
        .count()
}

fn a_post_on_a_dead_pooled_connection_is_sent_once(adapter: Adapter) {
    // A later connection would accept a re-sent POST: a hidden retry shows
    // as a second arrival and an Ok.
    let server = dying_connection(|conn| {
        while conn.read_request().is_some() {
            if !conn.write(OK) {
                return;
            }
        }
    });
    let session = adapter.session(Opts::new(server.url("")).timeout(Duration::from_secs(5)));
    let warm = session
        .send(Request::get("/warm").build().unwrap())
        .unwrap();
    assert_eq!(warm.status(), 200);
    // The POST must find the warm connection in the pool, where hyper
    // (tokio) puts it from a task of its own a moment after the response.
    std::thread::sleep(Duration::from_millis(100));
    let out = session.send(Request::post("/charge").body("1 EUR").build().unwrap());
    let err = out.expect_err("the POST's connection closed without an answer");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert_eq!(arrivals(&server, "/charge"), 1, "the POST was sent again");
    // Let a silent re-send that is still on its way arrive before counting.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(arrivals(&server, "/charge"), 1, "the POST was sent again");
}

crate::on_every_adapter!(a_post_on_a_dead_pooled_connection_is_sent_once);

/// The retry layer's maximum is the number of arrivals at the server.
async fn every_resend_is_a_counted_attempt(
    client: impl Fetcher,
    server: &RawServer,
    request: impl Fn() -> Request,
) {
    let warm = client
        .fetch(Request::get("/warm").build().unwrap())
        .await
        .unwrap();
    assert_eq!(warm.status(), 200);
    let client = client.retry(
        RetryPolicy::default()
            .max_attempts(4)
            .base_delay(Duration::from_millis(5))
            .jitter(false),
    );
    let first = request();
    let path = first.url().path().to_owned();
    let err = client
        .fetch(first)
        .await
        .expect_err("every connection closes");
    assert_eq!(err.attempts(), Some(4), "{err}");
    client.timer().sleep(Duration::from_millis(100)).await;
    assert_eq!(arrivals(server, &path), 4, "arrivals past max_attempts");
}

fn closes_after_reading() -> RawServer {
    dying_connection(|conn| {
        conn.read_request();
    })
}

async fn a_put_with_a_body_arrives_max_attempts_times<F: Fetcher>(make: fn(Opts) -> F) {
    let server = closes_after_reading();
    let client = make(Opts::new(server.url("")).timeout(Duration::from_secs(5)));
    every_resend_is_a_counted_attempt(client, &server, || {
        Request::put("/doc").body("v2").build().unwrap()
    })
    .await;
}

async fn a_get_arrives_max_attempts_times<F: Fetcher>(make: fn(Opts) -> F) {
    let server = closes_after_reading();
    let client = make(Opts::new(server.url("")).timeout(Duration::from_secs(5)));
    every_resend_is_a_counted_attempt(client, &server, || Request::get("/flaky").build().unwrap())
        .await;
}

crate::on_every_async_adapter!(
    a_put_with_a_body_arrives_max_attempts_times,
    #[ignore(smol) = "libcurl re-sends a body-less request once on a fresh connection when a reused one died"]
    a_get_arrives_max_attempts_times,
);
