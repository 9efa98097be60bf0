//! The combinators and the limit layer, on the in-memory fetcher and a fake clock.
#![allow(clippy::unwrap_used)]

mod support;

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use http::StatusCode;
use support::{MS, fetches, get, kinds};
use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
use volley_core::{
    ErrorKind, Fetcher, FetcherExt, as_completed, gather, gather_limited, layer::with_timeout,
    try_gather,
};

/// A fake clock and a server on it that answers every request after
/// `latency`.
fn answering_after(latency: Duration) -> (ManualTimer, InMemoryFetcher) {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).latency(latency);
    (timer, server)
}

/// Latency that scrambles completion order: id 1 is slowest.
fn scrambled(timer: &ManualTimer, n: u64) -> InMemoryFetcher {
    InMemoryFetcher::new(timer.clone()).script(move |req, _| {
        let id: u64 = req
            .url()
            .path()
            .rsplit('/')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let latency = MS * (((n - id) * 37 % 101) as u32 + 1);
        Reply::json(StatusCode::OK, &serde_json::json!({ "id": id })).after(latency)
    })
}

fn ids(results: Vec<volley_core::Result<volley_core::Response>>) -> Vec<u64> {
    results
        .into_iter()
        .map(|r| {
            r.unwrap().json::<serde_json::Value>().unwrap()["id"]
                .as_u64()
                .unwrap()
        })
        .collect()
}

#[test]
fn gather_keeps_input_order_and_runs_everything_at_once() {
    let timer = ManualTimer::new();
    let server = scrambled(&timer, 50);
    let out = run(&timer, gather(fetches(&server, "/u", 50))).unwrap();
    assert_eq!(ids(out), (1..=50).collect::<Vec<_>>());
    assert_eq!(server.max_in_flight(), 50);
    assert_eq!(
        timer.elapsed(),
        MS * 101,
        "as long as the slowest, no longer"
    );
}

#[test]
fn gather_keeps_every_error_in_its_slot() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|req, _| {
        if req.url().path().ends_with('3') {
            Reply::error(ErrorKind::Connect)
        } else {
            Reply::json(StatusCode::OK, &serde_json::json!({"ok": true}))
        }
    });
    let out = run(&timer, gather(fetches(&server, "/x", 5))).unwrap();
    assert_eq!(
        kinds(&out),
        [None, None, Some(ErrorKind::Connect), None, None]
    );
}

#[test]
fn gather_limited_never_exceeds_and_reaches_the_limit() {
    for limit in [1usize, 7, 20, 100] {
        let (timer, server) = answering_after(MS * 200);
        let out = run(&timer, gather_limited(fetches(&server, "/p", 100), limit)).unwrap();
        assert_eq!(ids(out), (1..=100).collect::<Vec<_>>());
        assert_eq!(server.max_in_flight(), limit as u64, "limit {limit}");
        assert_eq!(timer.elapsed(), MS * 200 * 100usize.div_ceil(limit) as u32);
    }
}

#[test]
fn gather_limited_keeps_order_when_completion_is_scrambled() {
    let timer = ManualTimer::new();
    let server = scrambled(&timer, 200);
    let out = run(&timer, gather_limited(fetches(&server, "/u", 200), 16)).unwrap();
    assert_eq!(ids(out), (1..=200).collect::<Vec<_>>());
    assert_eq!(server.max_in_flight(), 16);
}

#[test]
fn limit_layer_caps_every_clone_together() {
    let (timer, server) = answering_after(MS * 200);
    let client = server.clone().limit(20);
    let (a, b) = (client.clone(), client.clone());
    let out = run(&timer, async {
        let left = gather(fetches(&a, "/a", 50));
        let right = gather(fetches(&b, "/b", 50));
        futures::join!(left, right)
    })
    .unwrap();
    assert_eq!(out.0.len() + out.1.len(), 100);
    assert_eq!(server.max_in_flight(), 20);
    assert_eq!(timer.elapsed(), MS * 1000);
    assert_eq!(client.available(), 20);
}

#[test]
fn limit_zero_counts_as_one_instead_of_hanging() {
    let (timer, server) = answering_after(MS);
    let client = server.clone().limit(0);
    let out = run(&timer, gather(fetches(&client, "/z", 3))).unwrap();
    assert_eq!(out.len(), 3);
    assert_eq!(server.max_in_flight(), 1);
}

#[test]
fn dropping_a_gather_midway_releases_every_permit() {
    let (timer, server) = answering_after(MS * 200);
    let client = server.clone().limit(10);
    let out = run(
        &timer,
        with_timeout(&timer, Some(MS * 250), async {
            gather(fetches(&client, "/p", 100)).await;
            Ok(())
        }),
    )
    .unwrap();
    assert_eq!(out.unwrap_err().kind(), ErrorKind::Timeout);
    assert_eq!(server.completed(), 10);
    assert_eq!(
        server.cancelled(),
        10,
        "the second wave was dropped in flight"
    );
    assert_eq!(server.in_flight(), 0);
    assert_eq!(client.available(), 10, "every permit is back");

    // The client still works, at full width.
    let again = run(&timer, gather(fetches(&client, "/q", 10))).unwrap();
    assert!(again.iter().all(|r| r.is_ok()));
}

#[test]
fn a_panicking_request_gives_its_permit_back() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|req, _| {
        if req.url().path() == "/panic" {
            panic!("scripted panic");
        }
        Reply::status(StatusCode::OK, "")
    });
    let client = server.limit(2);
    let caught = run(
        &timer,
        AssertUnwindSafe(client.fetch(get("/panic"))).catch_unwind(),
    )
    .unwrap();
    assert!(caught.is_err());
    assert_eq!(client.available(), 2);
}

#[test]
fn try_gather_fails_fast_and_cancels_the_rest() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|req, _| {
        if req.url().path() == "/x/4" {
            Reply::error(ErrorKind::Connect).after(MS * 50)
        } else {
            Reply::status(StatusCode::OK, "").after(MS * 1000)
        }
    });
    let out = run(&timer, try_gather(fetches(&server, "/x", 10))).unwrap();
    assert_eq!(out.unwrap_err().kind(), ErrorKind::Connect);
    assert_eq!(timer.elapsed(), MS * 50, "returned at the first error");
    assert_eq!(server.cancelled(), 9, "the other nine were dropped");
    assert_eq!(server.in_flight(), 0);
}

#[test]
fn try_gather_returns_everything_in_order_when_all_succeed() {
    let timer = ManualTimer::new();
    let server = scrambled(&timer, 30);
    let out = run(&timer, try_gather(fetches(&server, "/u", 30))).unwrap();
    assert_eq!(
        ids(out.unwrap().into_iter().map(Ok).collect()),
        (1..=30).collect::<Vec<_>>()
    );
}

#[test]
fn as_completed_yields_each_index_once_in_completion_order() {
    let timer = ManualTimer::new();
    let server = scrambled(&timer, 40);
    let done: Vec<(usize, u64, Duration)> = run(&timer, async {
        as_completed(fetches(&server, "/u", 40), 8)
            .map(|(i, r)| {
                let id = r.unwrap().json::<serde_json::Value>().unwrap()["id"]
                    .as_u64()
                    .unwrap();
                (i, id, timer.elapsed())
            })
            .collect()
            .await
    })
    .unwrap();
    assert_eq!(done.len(), 40);
    let mut seen: Vec<usize> = done.iter().map(|d| d.0).collect();
    seen.sort();
    assert_eq!(seen, (0..40).collect::<Vec<_>>());
    assert!(
        done.iter().all(|(i, id, _)| *i as u64 + 1 == *id),
        "index matches input"
    );
    assert!(
        done.windows(2).all(|w| w[0].2 <= w[1].2),
        "in completion order"
    );
    assert_ne!(
        done.iter().map(|d| d.0).collect::<Vec<_>>(),
        (0..40).collect::<Vec<_>>()
    );
    assert_eq!(server.max_in_flight(), 8);
}

#[test]
fn boxed_fetcher_behaves_the_same() {
    let (timer, server) = answering_after(MS * 10);
    let client: volley_core::BoxFetcher = server.clone().limit(3).boxed();
    let out = run(&timer, gather(fetches(&client, "/b", 9))).unwrap();
    assert_eq!(ids(out), (1..=9).collect::<Vec<_>>());
    assert_eq!(server.max_in_flight(), 3);
    assert_eq!(timer.elapsed(), MS * 30);
}
