//! What is true of volley-smol alone: its futures need no particular
//! executor, and its timer is async-io's. Everything every adapter does the
//! same is the root conformance suite's (`tests/conformance`), run there on
//! smol too.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use serde_json::Value;
use volley_core::{Fetcher, Request, Result, rt::Timer};
use volley_mock::MockServer;
use volley_smol::{Client, SmolTimer};

fn get(path: &str) -> Request {
    Request::get(path).build().expect("request builds")
}

#[test]
fn futures_run_on_any_executor() -> Result<()> {
    let server = MockServer::start();
    let client = Client::builder()
        .base_url(&server.url())
        .timeout(Duration::from_secs(20))
        .build()?;
    let resp = futures::executor::block_on(client.fetch(get("/users/4")))?;
    assert_eq!(resp.json::<Value>()?["id"], 4);
    let ex = smol::Executor::new();
    let task = ex.spawn({
        let client = client.clone();
        async move { client.fetch(get("/posts/1")).await }
    });
    let resp = smol::block_on(ex.run(task))?;
    assert_eq!(resp.status(), 200);
    Ok(())
}

#[test]
fn smol_timer_sleeps() {
    let start = Instant::now();
    smol::block_on(SmolTimer.sleep(Duration::from_millis(50)));
    assert!(start.elapsed() >= Duration::from_millis(50));
    let timer = Client::new().unwrap().timer();
    let start = timer.now();
    smol::block_on(timer.sleep(Duration::from_millis(10)));
    assert!(timer.now() - start >= Duration::from_millis(10));
}
