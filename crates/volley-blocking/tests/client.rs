//! What is true of volley-blocking alone: a fetch blocks its thread, so one
//! client's requests go one at a time. Everything every adapter does the
//! same is the root conformance suite's (`tests/conformance`), run there on
//! blocking too.

use std::time::{Duration, Instant};

use volley_blocking::Client;
use volley_core::Request;
use volley_mock::MockServer;

#[test]
fn sequential_means_one_at_a_time() {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let start = Instant::now();
    for i in 1..=5 {
        let req = Request::get(format!("/users/{i}"))
            .query(&[("delay_ms", "100")])
            .build()
            .expect("request");
        assert!(client.fetch(req).is_ok());
    }
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert_eq!(server.stats().max_in_flight, 1);
}
