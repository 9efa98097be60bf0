//! Delayed requests cost no thread: hundreds of them overlap fully.

use std::time::{Duration, Instant};

use support::client_timing_out;
use volley_mock::MockServer;

mod support;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_hundred_one_second_requests_overlap() {
    const N: u64 = 500;
    let server = MockServer::start();
    let client = client_timing_out(Duration::from_secs(10));
    let start = Instant::now();
    let tasks: Vec<_> = (1..=N)
        .map(|i| {
            let client = client.clone();
            let url = format!("{}/users/{i}?delay_ms=1000", server.url());
            tokio::spawn(async move {
                let resp = client.get(url).send().await?;
                let status = resp.status();
                let body = resp.bytes().await?;
                Ok::<_, reqwest::Error>((status, body.len()))
            })
        })
        .collect();
    for task in tasks {
        let (status, len) = task.await.expect("task").expect("request succeeds");
        assert_eq!(status, reqwest::StatusCode::OK);
        assert!(len > 0);
    }
    let took = start.elapsed();
    println!("{N} concurrent requests with delay_ms=1000 took {took:?}");
    assert!(took >= Duration::from_secs(1), "took {took:?}");
    assert!(
        took < Duration::from_millis(1900),
        "the delays did not overlap: took {took:?}"
    );
    let stats = server.stats();
    assert_eq!(stats.requests, N);
    assert_eq!(stats.max_in_flight, N);
    assert_eq!(stats.in_flight, 0);
}
