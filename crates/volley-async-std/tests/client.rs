//! What is true of volley-async-std alone: that its timer is async-std's,
//! and it works from a plain `block_on`. Everything
//! every adapter does the same is the root conformance suite's
//! (`tests/conformance`), run there on async-std too.

use std::time::{Duration, Instant};

use volley_async_std::Client;
use volley_core::{Fetcher, Request};
use volley_mock::MockServer;

fn client(server: &MockServer) -> Client {
    Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client builds")
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
