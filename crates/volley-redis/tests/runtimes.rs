//! The connection works the same under tokio, async-std and smol, with each
//! runtime's own timer under the layer.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, Instant};

use support::{RedisServer, key};
use volley_core::rt::{Sleep, Timer};
use volley_core::testing::InMemoryFetcher;
use volley_core::{Fetcher, Rate, Request, gather};
use volley_redis::SharedRate;

/// Ten requests at 20/s: nine gaps of 50 ms.
async fn ten_at_twenty_per_second(timer: impl Timer) {
    let limiter = SharedRate::builder(
        RedisServer::shared().url(),
        key("rt"),
        Rate::per_second(20.0),
    )
    .unwrap()
    .fail_closed(Duration::from_secs(5));
    let client = limiter.layer(InMemoryFetcher::new(timer));
    let start = Instant::now();
    let results =
        gather((0..10).map(|i| client.fetch(Request::get(format!("/{i}")).build().unwrap()))).await;
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert!(
        start.elapsed() >= Duration::from_millis(400),
        "{:?}",
        start.elapsed()
    );
    assert!(!limiter.is_degraded());
}

struct TokioTimer;
impl Timer for TokioTimer {
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(d))
    }
}

struct AsyncStdTimer;
impl Timer for AsyncStdTimer {
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(async_std::task::sleep(d))
    }
}

struct SmolTimer;
impl Timer for SmolTimer {
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(async move {
            smol::Timer::after(d).await;
        })
    }
}

#[tokio::test(flavor = "current_thread")]
async fn under_tokio() {
    ten_at_twenty_per_second(TokioTimer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_tokio_multi_thread() {
    ten_at_twenty_per_second(TokioTimer).await;
}

#[async_std::test]
async fn under_async_std() {
    ten_at_twenty_per_second(AsyncStdTimer).await;
}

#[test]
fn under_smol() {
    smol::block_on(ten_at_twenty_per_second(SmolTimer));
}
