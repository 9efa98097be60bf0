//! API etiquette on a fake clock: a host's cool-down after 429/503, quotas
//! per host, waits that would cross a deadline, and the wait breakdown each
//! request reports.
#![allow(clippy::unwrap_used)]

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::StatusCode;
use support::{MS, get, refuses_once};
use volley_core::layer::{PerHost, Waits};
use volley_core::rt::Timer;
use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
use volley_core::{
    Adaptive, ErrorKind, Fetcher, FetcherExt, Finished, Observer, Rate, RetryPolicy, gather,
};

/// When each request arrived at the server, and at which host.
type Arrivals = Arc<Mutex<Vec<(Duration, String)>>>;

/// A fake clock; a server on it that answers 429 with `Retry-After: 2` to
/// the first request to `busy.test`, 200 to everything else, after
/// `latency`; and the arrivals.
fn server(latency: Duration) -> (ManualTimer, InMemoryFetcher, Arrivals) {
    let timer = ManualTimer::new();
    let arrivals = Arrivals::default();
    let (log, clock) = (arrivals.clone(), timer.clone());
    let first_busy = Arc::new(Mutex::new(true));
    let server = InMemoryFetcher::new(timer.clone())
        .latency(latency)
        .script(move |req, _| {
            let host = req.url().host().unwrap_or("").to_string();
            log.lock().unwrap().push((clock.elapsed(), host.clone()));
            let mut first = first_busy.lock().unwrap();
            if host == "busy.test" && *first {
                *first = false;
                Reply::status(StatusCode::TOO_MANY_REQUESTS, "").header("retry-after", "2")
            } else {
                Reply::status(StatusCode::OK, "")
            }
        });
    (timer, server, arrivals)
}

fn arrivals_at(arrivals: &Arrivals, host: &str) -> Vec<Duration> {
    let all = arrivals.lock().unwrap();
    all.iter()
        .filter(|(_, h)| h == host)
        .map(|(t, _)| *t)
        .collect()
}

fn no_jitter() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .base_delay(MS * 100)
        .jitter(false)
}

#[test]
fn a_429_pauses_its_host_and_no_other() {
    let (timer, server, arrivals) = server(MS * 10);
    let client = server
        .limit(8)
        .host_cooldown(Duration::from_secs(10))
        .retry(no_jitter());
    // The first busy request is answered 429 at 10 ms; the rest come later.
    let urls = ["http://busy.test/0"]
        .into_iter()
        .chain((1..6).flat_map(|_| ["http://busy.test/n", "http://calm.test/n"]));
    let out = run(
        &timer,
        gather(urls.enumerate().map(|(i, u)| {
            let client = &client;
            let timer = timer.clone();
            async move {
                // Stagger the arrivals so most come after the 429.
                Timer::sleep(&timer, MS * 20 * i as u32).await;
                client.fetch(get(u)).await
            }
        })),
    )
    .unwrap();
    assert!(
        out.iter()
            .all(|r| r.as_ref().unwrap().status() == StatusCode::OK)
    );
    // Nothing reached busy.test between the 429 (at 10 ms) and its end (2,010 ms).
    let busy = arrivals_at(&arrivals, "busy.test");
    assert_eq!(busy[0], Duration::ZERO);
    assert!(busy[1..].iter().all(|t| *t >= MS * 2010), "{busy:?}");
    assert_eq!(busy.len(), 7, "six requests and one retry");
    // calm.test was never held: each arrived when it was sent.
    let calm = arrivals_at(&arrivals, "calm.test");
    assert_eq!(calm, (0..5).map(|i| MS * 40 * (i + 1)).collect::<Vec<_>>());
}

#[test]
fn requests_queued_for_a_permit_do_not_slip_out_during_the_pause() {
    let (timer, server, arrivals) = server(MS * 100);
    // One permit: the second request waits for it behind the 429'd first.
    let client = server.limit(1).host_cooldown(Duration::from_secs(10));
    let out = run(
        &timer,
        gather((0..3).map(|_| client.fetch(get("http://busy.test/")))),
    )
    .unwrap();
    assert_eq!(out[0].as_ref().unwrap().status(), 429);
    assert!(out[1..].iter().all(|r| r.as_ref().unwrap().status() == 200));
    assert_eq!(
        arrivals_at(&arrivals, "busy.test"),
        [Duration::ZERO, MS * 2100, MS * 2200]
    );
}

#[test]
fn requests_waiting_for_a_rate_slot_are_held_too() {
    let (timer, server, arrivals) = server(MS * 10);
    let client = server
        .rate_limit(Rate::per_second(10.0))
        .host_cooldown(Duration::from_secs(10));
    run(
        &timer,
        gather((0..3).map(|_| client.fetch(get("http://busy.test/")))),
    )
    .unwrap();
    // The 2nd had the 100 ms slot but the host was paused from 10 ms to
    // 2,010 ms; after the pause the two go a slot apart again.
    let busy = arrivals_at(&arrivals, "busy.test");
    assert_eq!(busy[0], Duration::ZERO);
    assert!(busy[1] >= MS * 2010, "{busy:?}");
    assert!(busy[2] >= busy[1] + MS * 100, "{busy:?}");
}

#[test]
fn a_pause_is_capped_by_its_maximum() {
    let timer = ManualTimer::new();
    let server = refuses_once(&timer, StatusCode::SERVICE_UNAVAILABLE, "3600");
    let client = server.host_cooldown(Duration::from_secs(5));
    run(&timer, async {
        client.fetch(get("http://a.test/")).await.unwrap();
        assert_eq!(
            client.remaining(&"http://a.test/".parse().unwrap(), timer.now()),
            Duration::from_secs(5)
        );
        client.fetch(get("http://a.test/")).await.unwrap();
    })
    .unwrap();
    assert_eq!(timer.elapsed(), Duration::from_secs(5));
}

#[test]
fn a_retry_after_past_the_deadline_fails_at_once() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone())
        .script(|_, _| Reply::status(StatusCode::TOO_MANY_REQUESTS, "").header("retry-after", "5"));
    let client = server
        .clone()
        .retry(no_jitter().max_delay(Duration::from_secs(30)))
        .timeout(Duration::from_secs(2));
    let err = run(&timer, client.fetch(get("http://a.test/")))
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.message().contains("Retry-After"), "{err}");
    assert!(err.message().contains("deadline"), "{err}");
    assert_eq!(err.status(), Some(StatusCode::TOO_MANY_REQUESTS));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(
        timer.elapsed(),
        Duration::ZERO,
        "no sleeping past the deadline"
    );
    assert_eq!(server.calls(), 1);
}

#[test]
fn a_backoff_that_fits_the_deadline_still_runs() {
    let timer = ManualTimer::new();
    let server = refuses_once(&timer, StatusCode::TOO_MANY_REQUESTS, "1");
    let client = server
        .retry(no_jitter())
        .deadline(timer.now() + Duration::from_secs(2));
    let resp = run(&timer, client.fetch(get("http://a.test/")))
        .unwrap()
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(timer.elapsed(), Duration::from_secs(1));
}

#[test]
fn a_cool_down_past_the_batch_deadline_fails_at_once() {
    let (timer, server, _) = server(MS * 10);
    let client = server
        .host_cooldown(Duration::from_secs(10))
        .deadline(timer.now() + Duration::from_secs(1));
    run(&timer, async {
        let first = client.fetch(get("http://busy.test/")).await.unwrap();
        assert_eq!(first.status(), 429);
        let err = client.fetch(get("http://busy.test/")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.message().contains("cool-down"), "{err}");
        assert_eq!(timer.elapsed(), MS * 10, "failed at once");
        // Another host is not paused.
        assert!(client.fetch(get("http://calm.test/")).await.is_ok());
    })
    .unwrap();
}

#[test]
fn per_host_rates_hold_at_the_server() {
    let (timer, server, arrivals) = server(Duration::ZERO);
    let quotas = PerHost::new(Rate::per_second(50.0)).host("calm.test", Rate::per_second(10.0));
    let client = server.rate_limit_per_host(quotas);
    let urls = (0..6).flat_map(|_| ["http://calm.test/", "http://other.test/"]);
    run(&timer, gather(urls.map(|u| client.fetch(get(u))))).unwrap();
    let gaps = |host| {
        let t = arrivals_at(&arrivals, host);
        t.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
    };
    assert_eq!(gaps("calm.test"), [MS * 100; 5]);
    assert_eq!(gaps("other.test"), [MS * 20; 5]);
}

#[test]
fn per_host_limits_take_overrides() {
    let timer = ManualTimer::new();
    let in_flight: Arc<Mutex<(u32, u32)>> = Arc::default(); // (now, max) at small.test
    let (seen, clock) = (in_flight.clone(), timer.clone());
    let server = InMemoryFetcher::new(timer.clone()).script(move |req, _| {
        if req.url().host() == Some("small.test") {
            let mut s = seen.lock().unwrap();
            s.0 += 1;
            s.1 = s.1.max(s.0);
        }
        Reply::status(StatusCode::OK, "").after(MS * 100)
    });
    let done = in_flight.clone();
    let client = server.limit_per_host(PerHost::new(8).host("small.test", 2));
    let urls = (0..6).flat_map(|_| ["http://small.test/", "http://big.test/"]);
    run(
        &timer,
        gather(urls.map(|u| {
            let done = done.clone();
            let client = &client;
            async move {
                let out = client.fetch(get(u)).await;
                if u.contains("small") {
                    done.lock().unwrap().0 -= 1;
                }
                out
            }
        })),
    )
    .unwrap();
    assert_eq!(in_flight.lock().unwrap().1, 2);
    assert_eq!(
        clock.elapsed(),
        MS * 300,
        "small.test: 6 requests, 2 at a time"
    );
}

#[derive(Default)]
struct Breakdown(Mutex<Vec<(String, u32, Waits)>>);

impl Observer for Breakdown {
    fn request_finished(&self, f: &Finished<'_>) {
        let path = f.url.path().to_string();
        self.0.lock().unwrap().push((path, f.attempt, f.waits));
    }
}

#[test]
fn every_request_reports_where_its_time_went() {
    let timer = ManualTimer::new();
    let seen = Arc::new(Breakdown::default());
    let server = InMemoryFetcher::new(timer.clone())
        .latency(MS * 100)
        .script(|req, _| {
            if req.url().path() == "/flaky" && req.attempt() == 1 {
                Reply::status(StatusCode::SERVICE_UNAVAILABLE, "")
            } else {
                Reply::status(StatusCode::OK, "")
            }
        });
    let client = server
        .observe(seen.clone())
        .limit(1)
        .limit_per_host(1)
        .retry(no_jitter())
        .rate_limit(Rate::per_second(20.0));
    // /a goes at 0; /flaky's slot is at 50 ms, it waits for /a's permit
    // until 100 ms, fails at 200 ms, backs off 100 ms and goes again.
    run(
        &timer,
        gather(["/a", "/flaky"].map(|p| client.fetch(get(format!("http://h.test{p}"))))),
    )
    .unwrap();
    let seen = seen.0.lock().unwrap();
    let waits = |path: &str, attempt: u32| {
        seen.iter()
            .find(|(p, a, _)| p == path && *a == attempt)
            .map(|(_, _, w)| *w)
            .unwrap()
    };
    let a = waits("/a", 1);
    assert_eq!(
        a,
        Waits {
            wire: MS * 100,
            ..Waits::default()
        }
    );
    let first = waits("/flaky", 1);
    assert_eq!(first.rate, MS * 50);
    // The global limit's permit: 50 ms waited; the host's was free by then.
    assert_eq!(first.limit + first.host_limit, MS * 50);
    assert_eq!(first.wire, MS * 100);
    let last = waits("/flaky", 2);
    assert_eq!(last.backoff, MS * 100);
    assert_eq!(last.wire, MS * 200, "both attempts on the wire");
    assert_eq!(last.rate, MS * 50);
    assert_eq!(last.queued(), MS * 200);
}

#[test]
fn the_cool_down_counts_in_the_breakdown() {
    let seen = Arc::new(Breakdown::default());
    let (timer, server, _) = server(MS * 10);
    let client = server
        .observe(seen.clone())
        .limit(4)
        .host_cooldown(Duration::from_secs(10));
    run(&timer, async {
        client.fetch(get("http://busy.test/1")).await.unwrap();
        client.fetch(get("http://busy.test/2")).await.unwrap();
    })
    .unwrap();
    let seen = seen.0.lock().unwrap();
    assert_eq!(seen[1].2.cooldown, Duration::from_secs(2));
    assert_eq!(seen[1].2.wire, MS * 10);
}

#[test]
fn the_adaptive_limit_and_the_cool_down_agree_on_overload() {
    let (timer, server, arrivals) = server(MS * 10);
    let adaptive = server.adaptive_limit(Adaptive::default().initial(8));
    let client = adaptive.clone().host_cooldown(Duration::from_secs(10));
    run(&timer, async {
        client.fetch(get("http://busy.test/")).await.unwrap();
    })
    .unwrap();
    assert!(adaptive.current() < 8, "the 429 cut the limit too");
    run(
        &timer,
        gather((0..4).map(|_| client.fetch(get("http://busy.test/")))),
    )
    .unwrap();
    let busy = arrivals_at(&arrivals, "busy.test");
    assert!(busy[1..].iter().all(|t| *t >= MS * 2010), "{busy:?}");
}

#[test]
fn a_pause_past_an_attempts_timeout_is_not_retried() {
    let timer = ManualTimer::new();
    // The server pauses c.test for 30 s: the next request's attempt (1 s
    // timeout) cannot wait it out, and fails once, at once.
    let server = refuses_once(&timer, StatusCode::TOO_MANY_REQUESTS, "30");
    let cooled = server.clone().host_cooldown(Duration::from_secs(60));
    let client = cooled
        .clone()
        .timeout(Duration::from_secs(1))
        .retry(no_jitter().max_attempts(5));
    run(&timer, async {
        assert_eq!(
            cooled.fetch(get("http://c.test/")).await.unwrap().status(),
            429
        );
        let start = timer.now();
        let err = client.fetch(get("http://c.test/")).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(err.message().contains("cool-down"), "{err}");
        assert_eq!(err.attempts(), Some(1), "not retried");
        assert_eq!(timer.now(), start, "at once");
    })
    .unwrap();
    assert_eq!(server.calls(), 1);
}

#[test]
fn a_rate_slot_past_the_deadline_fails_at_once() {
    let timer = ManualTimer::new();
    let server = InMemoryFetcher::new(timer.clone());
    let client = server
        .clone()
        .rate_limit(Rate::per_second(1.0))
        .timeout(Duration::from_millis(500));
    let out = run(
        &timer,
        gather((0..2).map(|_| client.fetch(get("http://a.test/")))),
    )
    .unwrap();
    assert!(out[0].is_ok());
    let err = out[1].as_ref().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout);
    assert!(err.message().contains("rate limit"), "{err}");
    assert_eq!(timer.elapsed(), Duration::ZERO);
    assert_eq!(server.calls(), 1);
}

#[test]
fn huge_timeouts_and_pauses_do_not_overflow_the_clock() {
    let timer = ManualTimer::new();
    let server = refuses_once(
        &timer,
        StatusCode::SERVICE_UNAVAILABLE,
        "99999999999999999999",
    );
    let client = server.host_cooldown(Duration::MAX).timeout(Duration::MAX);
    run(&timer, async {
        let first = client.fetch(get("http://a.test/")).await.unwrap();
        assert_eq!(first.status(), 503);
        // Paused for as long as the clock can tell; another host goes on.
        assert!(client.fetch(get("http://b.test/")).await.is_ok());
    })
    .unwrap();
}
