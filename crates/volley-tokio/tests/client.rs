//! What is true of volley-tokio alone. Everything every adapter does the
//! same is the root conformance suite's (`tests/conformance`), run there on
//! tokio too.

use std::time::Duration;

use volley_core::{Fetcher, rt::Timer};
use volley_tokio::{Client, TokioTimer};

#[tokio::test]
async fn the_timer_is_tokios() {
    let client = Client::new().expect("client");
    let timer = client.timer();
    let start = timer.now();
    timer.sleep(Duration::from_millis(50)).await;
    assert!(timer.now() - start >= Duration::from_millis(50));
    let start = tokio::time::Instant::now();
    TokioTimer.sleep(Duration::from_millis(20)).await;
    assert!(start.elapsed() >= Duration::from_millis(20));
}
