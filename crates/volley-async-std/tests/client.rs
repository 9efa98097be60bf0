//! What is true of volley-async-std alone: what surf refuses before
//! sending, and that its timer is async-std's. Everything
//! every adapter does the same is the root conformance suite's
//! (`tests/conformance`), run there on async-std too.

use std::time::{Duration, Instant};

use volley_async_std::Client;
use volley_core::{ErrorKind, Fetcher, Request};
use volley_mock::MockServer;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
}

#[async_std::test]
async fn what_surf_cannot_send_is_refused_before_sending() {
    let server = MockServer::start();
    let client = client(&server);
    // surf's Method has only the registered methods.
    let err = client
        .fetch(Request::builder("PURGE", "/echo").build().expect("request"))
        .await
        .expect_err("unsupported method");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert_eq!(server.stats().requests, 0);
}

#[test]
fn works_from_block_on_and_exposes_the_async_std_timer() {
    let server = MockServer::start();
    let client = client(&server);
    async_std::task::block_on(async {
        let timer = client.timer();
        let started = Instant::now();
        timer.sleep(Duration::from_millis(30)).await;
        assert!(started.elapsed() >= Duration::from_millis(30));
        let resp = client
            .fetch(Request::get("/users/3").build().expect("request"))
            .await
            .expect("response");
        assert_eq!(resp.status(), 200);
    });
}
