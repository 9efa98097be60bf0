//! Shared counters and the [`Stats`] snapshot built from them.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use serde::{Deserialize, Serialize};

/// A snapshot of the server's counters, as returned by
/// [`MockServer::stats`](crate::MockServer::stats), [`ServerState::stats`]
/// and `GET /stats`.
///
/// Requests to `/stats` and `/stats/reset` are never counted: observing the
/// server does not change what it reports.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    /// TCP connections accepted.
    pub connections: u64,
    /// Requests received, including those answered with a capacity `503`.
    pub requests: u64,
    /// Requests whose handler is running right now (sleeping in their delay,
    /// hanging, or building their response).
    pub in_flight: u64,
    /// The largest value `in_flight` has reached.
    pub max_in_flight: u64,
    /// Requests turned away with `503` because the capacity limit was reached.
    pub rejected: u64,
    /// Milliseconds from the first request received to the last (0 with
    /// fewer than two): `(requests - 1) / first_to_last_ms * 1000` is the
    /// rate the server really saw.
    #[serde(default)]
    pub first_to_last_ms: f64,
    /// Requests that reached `/cooldown/{id}` while the `429` it answered
    /// first said to wait: from 50 ms after that `429` was sent to the end
    /// of its `Retry-After: 2` (a client that honours the pause for every
    /// request to the host sends none).
    #[serde(default)]
    pub sent_during_cooldown: u64,
    /// Requests per route pattern, e.g. `"/users/{id}"`, `"/flaky"`, or
    /// `"unknown"` for paths that matched no route. Routes never hit are
    /// left out.
    pub paths: BTreeMap<String, u64>,
}

/// The most arrivals [`Arrivals`] keeps; later ones are only counted.
pub const ARRIVALS_CAP: usize = 200_000;

/// When each request arrived, as returned by [`ServerState::arrivals`] and
/// `GET /arrivals`: the arrival times (µs since the server started or its
/// stats were last reset), in order, each with the `?worker=N` its request
/// carried (`None` without one). At most [`ARRIVALS_CAP`] are kept (3 MB);
/// later ones are counted in `dropped`. Measures the rate a server really
/// sees, per client too.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Arrivals {
    /// `(µs since the start or the last reset, worker)` of each request kept.
    pub arrivals: Vec<(u64, Option<u32>)>,
    /// Requests that arrived once the log was full.
    pub dropped: u64,
}

#[derive(Debug)]
struct ArrivalLog {
    since: Instant,
    kept: Arrivals,
}

/// The routes whose hits are counted in [`Stats::paths`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Users,
    Posts,
    Status,
    RateLimited,
    Flaky,
    Malformed,
    SlowBody,
    Hang,
    Reset,
    Big,
    Redirect,
    RedirectLoop,
    Echo,
    Cooldown,
    Unknown,
}

impl Route {
    const COUNT: usize = 15;

    const ALL: [Route; Route::COUNT] = [
        Route::Users,
        Route::Posts,
        Route::Status,
        Route::RateLimited,
        Route::Flaky,
        Route::Malformed,
        Route::SlowBody,
        Route::Hang,
        Route::Reset,
        Route::Big,
        Route::Redirect,
        Route::RedirectLoop,
        Route::Echo,
        Route::Cooldown,
        Route::Unknown,
    ];

    /// The key used in [`Stats::paths`].
    pub(crate) fn pattern(self) -> &'static str {
        match self {
            Route::Users => "/users/{id}",
            Route::Posts => "/posts/{id}",
            Route::Status => "/status/{code}",
            Route::RateLimited => "/ratelimited",
            Route::Flaky => "/flaky",
            Route::Malformed => "/malformed",
            Route::SlowBody => "/slow-body",
            Route::Hang => "/hang",
            Route::Reset => "/reset",
            Route::Big => "/big",
            Route::Redirect => "/redirect",
            Route::RedirectLoop => "/redirect-loop",
            Route::Echo => "/echo",
            Route::Cooldown => "/cooldown/{id}",
            Route::Unknown => "unknown",
        }
    }
}

/// The state shared by every connection of one server: counters for
/// [`Stats`] and the per-key attempt counters of `/flaky`.
///
/// Create one with [`ServerState::new`], wrap it in an `Arc`, hand it to
/// [`serve`](crate::serve) and keep a clone to read the counters directly.
#[derive(Debug)]
pub struct ServerState {
    epoch: Instant,
    first_arrival_us: AtomicU64,
    last_arrival_us: AtomicU64,
    connections: AtomicU64,
    requests: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    rejected: AtomicU64,
    paths: [AtomicU64; Route::COUNT],
    /// When `/cooldown/{id}` sent its `429` (µs from `epoch`; `u64::MAX`
    /// until it has).
    cooldown_sent_us: AtomicU64,
    sent_during_cooldown: AtomicU64,
    flaky: Mutex<HashMap<String, u64>>,
    arrivals: Mutex<ArrivalLog>,
}

impl ServerState {
    /// A state with every counter at zero.
    pub fn new() -> ServerState {
        ServerState {
            epoch: Instant::now(),
            first_arrival_us: AtomicU64::new(u64::MAX),
            last_arrival_us: AtomicU64::new(0),
            connections: AtomicU64::default(),
            requests: AtomicU64::default(),
            in_flight: AtomicU64::default(),
            max_in_flight: AtomicU64::default(),
            rejected: AtomicU64::default(),
            paths: Default::default(),
            cooldown_sent_us: AtomicU64::new(u64::MAX),
            sent_during_cooldown: AtomicU64::default(),
            flaky: Mutex::default(),
            arrivals: Mutex::new(ArrivalLog {
                since: Instant::now(),
                kept: Arrivals::default(),
            }),
        }
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        let paths = Route::ALL
            .iter()
            .zip(&self.paths)
            .filter_map(|(route, count)| {
                let n = count.load(Relaxed);
                (n > 0).then(|| (route.pattern().to_owned(), n))
            })
            .collect();
        Stats {
            connections: self.connections.load(Relaxed),
            requests: self.requests.load(Relaxed),
            in_flight: self.in_flight.load(Relaxed),
            max_in_flight: self.max_in_flight.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            first_to_last_ms: {
                let first = self.first_arrival_us.load(Relaxed);
                let last = self.last_arrival_us.load(Relaxed);
                if first == u64::MAX || last <= first {
                    0.0
                } else {
                    (last - first) as f64 / 1000.0
                }
            },
            sent_during_cooldown: self.sent_during_cooldown.load(Relaxed),
            paths,
        }
    }

    /// The arrivals since the start or the last reset.
    pub fn arrivals(&self) -> Arrivals {
        lock(&self.arrivals).kept.clone()
    }

    /// Zeroes the counters, forgets every `/flaky` key and the arrivals
    /// (whose clock starts again now) and arms `/cooldown/{id}` again (its
    /// next request gets the `429`), then returns the fresh snapshot.
    ///
    /// `in_flight` is not a count of past events but of requests running now,
    /// so it is kept, and `max_in_flight` restarts from it.
    pub fn reset(&self) -> Stats {
        self.connections.store(0, Relaxed);
        self.requests.store(0, Relaxed);
        self.rejected.store(0, Relaxed);
        self.first_arrival_us.store(u64::MAX, Relaxed);
        self.last_arrival_us.store(0, Relaxed);
        for count in &self.paths {
            count.store(0, Relaxed);
        }
        self.cooldown_sent_us.store(u64::MAX, Relaxed);
        self.sent_during_cooldown.store(0, Relaxed);
        self.max_in_flight
            .store(self.in_flight.load(Relaxed), Relaxed);
        lock(&self.flaky).clear();
        *lock(&self.arrivals) = ArrivalLog {
            since: Instant::now(),
            kept: Arrivals::default(),
        };
        self.stats()
    }

    pub(crate) fn count_connection(&self) {
        self.connections.fetch_add(1, Relaxed);
    }

    /// Counts a request that arrived now, tagged `worker`; returns its
    /// arrival (µs from `epoch`).
    pub(crate) fn count_request(&self, route: Route, worker: Option<u32>) -> u64 {
        {
            let mut log = lock(&self.arrivals);
            let since = u64::try_from(log.since.elapsed().as_micros()).unwrap_or(u64::MAX);
            if log.kept.arrivals.len() < ARRIVALS_CAP {
                log.kept.arrivals.push((since, worker));
            } else {
                log.kept.dropped += 1;
            }
        }
        let at = u64::try_from(self.epoch.elapsed().as_micros()).unwrap_or(u64::MAX - 1);
        self.first_arrival_us.fetch_min(at, Relaxed);
        self.last_arrival_us.fetch_max(at, Relaxed);
        self.requests.fetch_add(1, Relaxed);
        self.paths[route as usize].fetch_add(1, Relaxed);
        at
    }

    /// A request to `/cooldown/{id}` arrived at `at`: true for the first
    /// since the start or the last reset (it gets the `429`). A later one
    /// is counted in `sent_during_cooldown` when it arrived more than
    /// `grace` after that `429` and at most `window` after it.
    pub(crate) fn cooldown_arrival(&self, at: u64, grace: u64, window: u64) -> bool {
        match self
            .cooldown_sent_us
            .compare_exchange(u64::MAX, at, Relaxed, Relaxed)
        {
            Ok(_) => true,
            Err(sent) => {
                let since = at.saturating_sub(sent);
                if at > sent && since > grace && since <= window {
                    self.sent_during_cooldown.fetch_add(1, Relaxed);
                }
                false
            }
        }
    }

    pub(crate) fn count_rejected(&self) {
        self.rejected.fetch_add(1, Relaxed);
    }

    /// Marks a request as in flight until the returned guard is dropped.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Relaxed) + 1;
        self.max_in_flight.fetch_max(now, Relaxed);
        InFlight { state: self }
    }

    /// Counts one more call for `key` and returns its attempt number (from 1).
    pub(crate) fn flaky_attempt(&self, key: &str) -> u64 {
        let mut map = lock(&self.flaky);
        if let Some(n) = map.get_mut(key) {
            *n += 1;
            *n
        } else {
            map.insert(key.to_owned(), 1);
            1
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Decrements `in_flight` when dropped, whether the request finished or was
/// cancelled.
pub(crate) struct InFlight<'a> {
    state: &'a ServerState,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.state.in_flight.fetch_sub(1, Relaxed);
    }
}

impl Default for ServerState {
    fn default() -> Self {
        ServerState::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cooldown_counts_arrivals_inside_its_window_only() {
        let state = ServerState::new();
        // The first arrival gets the 429; the window is (50 ms, 2 s] after it.
        assert!(state.cooldown_arrival(1_000_000, 50_000, 2_000_000));
        for (at, counted) in [
            (1_000_000, false),
            (1_050_000, false),
            (1_050_001, true),
            (2_500_000, true),
            (3_000_000, true),
            (3_000_001, false),
            (500_000, false),
        ] {
            let before = state.stats().sent_during_cooldown;
            assert!(!state.cooldown_arrival(at, 50_000, 2_000_000), "{at}");
            let after = state.stats().sent_during_cooldown;
            assert_eq!(after - before, u64::from(counted), "{at}");
        }
        assert_eq!(state.stats().sent_during_cooldown, 3);
        // A reset zeroes the count and arms the 429 again.
        assert_eq!(state.reset().sent_during_cooldown, 0);
        assert!(state.cooldown_arrival(9_000_000, 50_000, 2_000_000));
        assert!(!state.cooldown_arrival(9_000_000, 50_000, 2_000_000));
    }

    #[test]
    fn arrivals_are_logged_in_order_with_their_worker_and_cleared_by_a_reset() {
        let state = ServerState::new();
        state.count_request(Route::Users, Some(3));
        state.count_request(Route::Posts, None);
        let log = state.arrivals();
        let tags: Vec<Option<u32>> = log.arrivals.iter().map(|a| a.1).collect();
        assert_eq!(tags, [Some(3), None]);
        assert!(log.arrivals[0].0 <= log.arrivals[1].0);
        assert_eq!(log.dropped, 0);
        state.reset();
        assert_eq!(state.arrivals(), Arrivals::default());
    }
}
