//! Timeouts, retries, rate limits, per-host limits and deadlines on a fake
//! clock: exact schedules, no real sleeping.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::{Duration, SystemTime};

use http::StatusCode;
use support::{MS, fetches, get, kinds};
use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
use volley_core::{
    ErrorKind, Fetcher, FetcherExt, Rate, Request, RetryBudget, RetryPolicy, gather,
};

/// 503 for the first `fail` calls, then 200.
fn flaky(timer: &ManualTimer, fail: u64) -> InMemoryFetcher {
    InMemoryFetcher::new(timer.clone()).script(move |_, call| {
        if call <= fail {
            Reply::status(StatusCode::SERVICE_UNAVAILABLE, "")
        } else {
            Reply::status(StatusCode::OK, "")
        }
    })
}

#[test]
fn retry_backs_off_exponentially_and_recovers() {
    let timer = ManualTimer::new();
    let server = flaky(&timer, 3);
    let client = server.clone().retry(
        RetryPolicy::default()
            .max_attempts(5)
            .base_delay(MS * 100)
            .jitter(false),
    );
    let resp = run(&timer, client.fetch(get("/flaky"))).unwrap().unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(server.calls(), 4);
    assert_eq!(timer.sleeps(), vec![MS * 100, MS * 200, MS * 400]);
}

#[test]
fn full_jitter_stays_under_the_exponential_cap() {
    let timer = ManualTimer::new();
    let server = flaky(&timer, 6);
    let policy = RetryPolicy::default()
        .max_attempts(7)
        .base_delay(MS * 100)
        .max_delay(MS * 1000);
    let client = server.retry(policy.clone());
    run(&timer, client.fetch(get("/flaky"))).unwrap().unwrap();
    let sleeps = timer.sleeps();
    assert_eq!(sleeps.len(), 6);
    for (i, s) in sleeps.iter().enumerate() {
        assert!(*s <= policy.backoff(i as u32 + 1), "retry {}: {s:?}", i + 1);
    }
    assert_eq!(policy.backoff(6), MS * 1000, "capped by the maximum delay");
}

#[test]
fn gives_up_with_the_number_of_attempts() {
    let timer = ManualTimer::new();
    let client = flaky(&timer, u64::MAX).retry(RetryPolicy::default().max_attempts(3));
    let err = run(&timer, client.fetch(get("/down")))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(err.attempts(), Some(3));
    assert!(err.to_string().contains("after 3 attempts"), "{err}");
}

#[test]
fn retries_connect_errors_and_timeouts_but_not_other_failures() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|req, _| match req.url().path() {
        "/refused" => Reply::error(ErrorKind::Connect),
        "/slow" => Reply::hang(),
        "/bad" => Reply::status(StatusCode::BAD_REQUEST, ""),
        _ => Reply::error(ErrorKind::Decode),
    });
    let client = server
        .clone()
        .retry(RetryPolicy::default().max_attempts(2))
        .timeout(MS * 300);
    // The timeout is written last, so it is outermost: it bounds all attempts together.
    let out = run(
        &timer,
        gather(["/refused", "/slow", "/bad", "/other"].map(|p| client.fetch(get(p)))),
    )
    .unwrap();
    assert_eq!(
        kinds(&out),
        [
            Some(ErrorKind::Connect),
            Some(ErrorKind::Timeout),
            None,
            Some(ErrorKind::Decode)
        ]
    );
    assert_eq!(server.calls(), 5, "/refused tried twice, the rest once");

    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|_, _| Reply::hang());
    let client = server
        .clone()
        .timeout(MS * 300)
        .retry(RetryPolicy::default().max_attempts(3).jitter(false));
    let err = run(&timer, client.fetch(get("/slow")))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(server.calls(), 3);
}

#[test]
fn never_retries_a_post_by_default() {
    let timer = ManualTimer::new();
    let server = flaky(&timer, 1);
    let client = server.clone().retry(RetryPolicy::default());
    let post = Request::post("/orders").json(&1).build().unwrap();
    let resp = run(&timer, client.fetch(post.clone())).unwrap().unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(server.calls(), 1);

    let client = server
        .clone()
        .retry(RetryPolicy::default().retry_non_idempotent(true));
    let resp = run(&timer, client.fetch(post)).unwrap().unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[test]
fn honours_retry_after_seconds_and_dates_capped_by_the_maximum() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|req, call| {
        let after = req.url().query().unwrap_or("").to_owned();
        if call % 2 == 1 {
            Reply::status(StatusCode::TOO_MANY_REQUESTS, "").header("retry-after", &after)
        } else {
            Reply::status(StatusCode::OK, "")
        }
    });
    let client = server.retry(RetryPolicy::default().max_delay(MS * 10_000));
    run(&timer, client.fetch(get("/r?3"))).unwrap().unwrap();
    assert_eq!(timer.sleeps(), vec![MS * 3000]);

    run(&timer, client.fetch(get("/r?99999"))).unwrap().unwrap();
    assert_eq!(timer.sleeps()[1], MS * 10_000, "capped by max_delay");

    let date = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(6));
    let path = format!("/r?{}", date.replace(' ', "%20"));
    let server2 = InMemoryFetcher::new(timer.clone()).script(move |_, call| {
        if call == 1 {
            Reply::status(StatusCode::SERVICE_UNAVAILABLE, "").header("retry-after", &date)
        } else {
            Reply::status(StatusCode::OK, "")
        }
    });
    let client = server2.retry(RetryPolicy::default().max_delay(MS * 10_000));
    run(&timer, client.fetch(get(&path))).unwrap().unwrap();
    let waited = timer.sleeps()[2];
    assert!(waited > MS * 4000 && waited <= MS * 6000, "{waited:?}");
}

#[test]
fn the_budget_keeps_retries_to_a_share_of_requests() {
    let timer = ManualTimer::new();
    let server = flaky(&timer, u64::MAX);
    let client = server.clone().retry(
        RetryPolicy::default()
            .max_attempts(3)
            .budget(Some(RetryBudget::new(0.2, 10))),
    );
    let out = run(&timer, gather((0..100).map(|_| client.fetch(get("/down"))))).unwrap();
    assert_eq!(out.len(), 100);
    assert!(
        out.iter()
            .all(|r| r.as_ref().unwrap_err().kind() == ErrorKind::Status)
    );
    // 100 first attempts, and at most 10 + 0.2 * 100 = 30 retries (not 200).
    assert_eq!(server.calls(), 130);

    let timer = ManualTimer::new();
    let server = flaky(&timer, u64::MAX);
    let client = server
        .clone()
        .retry(RetryPolicy::default().max_attempts(3).budget(None));
    run(&timer, gather((0..100).map(|_| client.fetch(get("/down"))))).unwrap();
    assert_eq!(
        server.calls(),
        300,
        "without a budget every request retries"
    );
}

#[test]
fn rate_limit_spaces_requests_evenly() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).latency(MS * 5);
    let client = server.clone().rate_limit(Rate::per_second(20.0));
    run(&timer, gather((0..21).map(|_| client.fetch(get("/x"))))).unwrap();
    let start = server.arrivals()[0].0;
    let offsets: Vec<Duration> = server.arrivals().iter().map(|a| a.0 - start).collect();
    let expected: Vec<Duration> = (0..21).map(|i| MS * 50 * i).collect();
    assert_eq!(offsets, expected);
}

#[test]
fn rate_limit_allows_a_burst_then_the_steady_rate_and_is_shared_by_clones() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone());
    let client = server.clone().rate_limit(Rate::per_second(10.0).burst(5));
    let other = client.clone();
    run(&timer, async {
        futures::join!(
            gather((0..4).map(|_| client.fetch(get("/a")))),
            gather((0..4).map(|_| other.fetch(get("/b")))),
        )
    })
    .unwrap();
    let start = server.arrivals()[0].0;
    let offsets: Vec<u128> = server
        .arrivals()
        .iter()
        .map(|a| (a.0 - start).as_millis())
        .collect();
    assert_eq!(offsets, vec![0, 0, 0, 0, 0, 100, 200, 300]);
}

#[test]
fn per_host_limit_caps_each_host_separately() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).latency(MS * 100);
    let client = server.clone().limit_per_host(2);
    let urls = (0..20).map(|i| {
        if i % 2 == 0 {
            "http://a.test/x"
        } else {
            "http://b.test:8080/y"
        }
    });
    run(&timer, gather(urls.map(|u| client.fetch(get(u))))).unwrap();
    assert_eq!(server.max_in_flight(), 4, "2 per host, 2 hosts");
    assert_eq!(timer.elapsed(), MS * 500, "10 per host at 2 at a time");
}

#[test]
fn timeout_layer_and_per_request_override() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|_, _| Reply::hang());
    let client = server.clone().timeout(MS * 2000);
    let err = run(&timer, client.fetch(get("/hang")))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert_eq!(timer.elapsed(), MS * 2000);
    assert_eq!(err.url().unwrap().path(), "/hang");

    let quick = Request::get("/hang").timeout(MS * 100).build().unwrap();
    run(&timer, client.fetch(quick)).unwrap().unwrap_err();
    assert_eq!(timer.elapsed(), MS * 2100);
    assert_eq!(server.in_flight(), 0, "timed-out requests are dropped");
}

#[test]
fn deadline_gives_one_result_per_request() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone()).script(|req, _| {
        let id: u32 = req.url().path()[1..].parse().unwrap();
        Reply::status(StatusCode::OK, "").after(MS * 100 * id)
    });
    let client = server.clone().limit(2).deadline(timer.now() + MS * 450);
    let out = run(&timer, gather(fetches(&client, "", 8))).unwrap();
    let ok: Vec<bool> = out.iter().map(|r| r.is_ok()).collect();
    // limit 2: 1 and 2 start at 0 (end 100, 200); 3 starts 100 (ends 400); 4 at 200 (ends 600 > 450).
    assert_eq!(
        ok,
        vec![true, true, true, false, false, false, false, false]
    );
    assert!(out.iter().flatten().count() + out.iter().filter(|r| r.is_err()).count() == 8);
    assert_eq!(timer.elapsed(), MS * 450);
}

#[test]
fn layers_compose_in_the_order_written() {
    let timer = ManualTimer::new();
    let server = flaky(&timer, 2).latency(MS * 10);
    let client = server
        .clone()
        .limit(4)
        .timeout(MS * 1000)
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .jitter(false)
                .base_delay(MS * 50),
        )
        .rate_limit(Rate::per_second(100.0));
    let out = run(&timer, gather((0..10).map(|_| client.fetch(get("/f"))))).unwrap();
    assert!(out.iter().all(|r| r.is_ok()), "{out:?}");
    assert_eq!(server.calls(), 12);
    assert!(server.max_in_flight() <= 4);
}
