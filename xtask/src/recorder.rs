//! [`Recorder`]: what a runner records of its run. On the volley async
//! runtimes it is the client's [`Observer`]; the plain-reqwest and blocking
//! runners call [`Recorder::begin`] and [`Recorder::end`] by hand. Either
//! way it moves the run's progress bar, if it has one.

use std::collections::HashMap;
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use volley::progress::Progress;
use volley_core::http::{StatusCode, Uri};
use volley_core::{Finished, Observer, Outcome, Request, RetryReason};

use crate::report::Outcome as Ended;

/// A point of a step curve: from `.0` µs after the start on, the value is `.1`.
pub type Step = (u64, u64);

/// Where one request's time went, in µs per lane of [`LANES`].
pub type Lanes = [u32; 6];

/// The lanes of [`Lanes`], as named in JSON.
pub const LANES: [&str; 6] = ["limit", "host_limit", "rate", "cooldown", "backoff", "wire"];

/// Microseconds in `d`, saturating.
pub fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// True for the statuses a server turns requests away with: 429 and 503.
pub fn is_rejection(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::SERVICE_UNAVAILABLE
}

/// A URL's key: its parts hashed as whole strings (`Uri`'s own `Hash` goes
/// byte by byte, which costs more than the rest of a request's bookkeeping).
fn url_key(url: &Uri) -> u64 {
    let mut hasher = DefaultHasher::new();
    url.scheme_str().hash(&mut hasher);
    url.authority().map(|a| a.as_str()).hash(&mut hasher);
    url.path_and_query().map(|p| p.as_str()).hash(&mut hasher);
    hasher.finish()
}

/// Records each request's start and end (µs from the start of the run),
/// the requests in flight and the limit after every change, and the
/// rejections (429 or 503). It is kept small, as it counts in the runner's
/// peak memory.
#[derive(Debug)]
pub struct Recorder {
    t0: OnceLock<Instant>,
    /// The request to each URL, by key.
    first: HashMap<u64, usize>,
    /// For URLs shared by several requests: their indices in input order,
    /// matched to attempts in the order they end.
    shared: HashMap<u64, Vec<usize>>,
    state: Mutex<State>,
    progress: Option<Progress>,
}

#[derive(Debug, Default)]
struct State {
    /// Each change of the in-flight count: `µs << 1 | 1` for one more,
    /// `µs << 1` for one less.
    changes: Vec<u64>,
    limit_steps: Vec<Step>,
    /// `(start_us, end_us)` of each request's attempt, by index.
    timings: Vec<Option<(u64, u64)>>,
    /// The waits of each request's last attempt, by index (observed runs).
    waits: Vec<Lanes>,
    /// For shared URLs: how many have been matched.
    matched: HashMap<u64, usize>,
    rejected: u64,
}

impl Recorder {
    /// A recorder for `requests` timed by hand, by index, moving `progress`.
    pub fn by_hand(requests: usize, progress: Option<Progress>) -> Recorder {
        Recorder {
            t0: OnceLock::new(),
            first: HashMap::new(),
            shared: HashMap::new(),
            state: Mutex::new(State {
                timings: vec![None; requests],
                waits: vec![[0; 6]; requests],
                ..State::default()
            }),
            progress,
        }
    }

    /// A recorder observing requests to `urls` (`urls[i]` is request `i`).
    pub fn new(urls: &[String], progress: Option<Progress>) -> Recorder {
        let mut first = HashMap::with_capacity(urls.len());
        let mut shared: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, url) in urls.iter().enumerate() {
            // One that does not parse fails before it reaches the layers.
            let Ok(key) = url.parse().map(|uri: Uri| url_key(&uri)) else {
                continue;
            };
            let earlier = *first.entry(key).or_insert(i);
            if earlier != i {
                shared.entry(key).or_insert_with(|| vec![earlier]).push(i);
            }
        }
        Recorder {
            first,
            shared,
            ..Recorder::by_hand(urls.len(), progress)
        }
    }

    /// Moves the progress bar, if there is one.
    fn progress(&self, moved: impl FnOnce(&Progress)) {
        if let Some(progress) = &self.progress {
            moved(progress);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts the clock (the first call only) and returns when it started.
    pub fn start(&self) -> Instant {
        *self.t0.get_or_init(Instant::now)
    }

    fn offset(&self, at: Instant) -> u64 {
        micros(at.saturating_duration_since(self.start()))
    }

    /// Now, in µs from the start.
    pub fn now_us(&self) -> u64 {
        self.offset(Instant::now())
    }

    /// The limit is `limit` from now on.
    pub fn limit_is(&self, limit: usize) {
        let at = self.now_us();
        self.lock().limit_steps.push((at, limit as u64));
    }

    /// A request timed by hand starts now; returns its start.
    pub fn begin(&self) -> u64 {
        self.progress(Progress::started);
        let at = self.now_us();
        self.lock().changes.push(at << 1 | 1);
        at
    }

    /// Request `index`, begun at `start_us`, ends now as `outcome`
    /// (`rejected` when the server turned it away); `on_wire` for a request
    /// sent straight to a volley client (no layers to wait in), whose whole
    /// time is on the wire. Returns how it ended and when.
    pub fn end(
        &self,
        index: usize,
        start_us: u64,
        (outcome, rejected): (Ended, bool),
        on_wire: bool,
    ) -> (Ended, u64) {
        let at = self.now_us();
        let took = u32::try_from(at.saturating_sub(start_us)).unwrap_or(u32::MAX);
        let wire = if on_wire { took } else { 0 };
        self.ended(Some(index), (start_us, at), rejected, [0, 0, 0, 0, 0, wire]);
        self.progress(|p| p.ended(outcome == Ended::Ok));
        (outcome, at)
    }

    fn ended(&self, index: Option<usize>, (start, end): (u64, u64), rejected: bool, waits: Lanes) {
        let mut s = self.lock();
        let left = self.now_us().max(end);
        s.changes.push(left << 1);
        // `timings` and `waits` both hold every request.
        if let Some(i) = index.filter(|&i| i < s.timings.len()) {
            s.timings[i] = Some((start, end.max(start)));
            s.waits[i] = waits;
        }
        s.rejected += u64::from(rejected);
    }

    /// What was recorded, once the run is over.
    pub fn finish(&self) -> Recording {
        let s = self.lock();
        let in_flight = s.changes.iter().scan(0u64, |count, &change| {
            *count = match change & 1 {
                1 => *count + 1,
                _ => count.saturating_sub(1),
            };
            Some((change >> 1, *count))
        });
        let in_flight: Vec<Step> = in_flight.collect();
        Recording {
            timings: s.timings.clone(),
            waits: s.waits.clone(),
            max_in_flight: in_flight.iter().map(|step| step.1).max().unwrap_or(0),
            in_flight,
            limits: s.limit_steps.clone(),
            rejected: s.rejected,
        }
    }
}

impl Observer for Recorder {
    fn request_started(&self, _request: &Request) {
        self.begin();
    }

    fn retry_scheduled(&self, attempt: u32, delay: Duration, reason: RetryReason) {
        self.progress(|p| p.retry_scheduled(attempt, delay, reason));
    }

    fn request_finished(&self, finished: &Finished<'_>) {
        let start = self.offset(finished.started);
        let end = start.saturating_add(micros(finished.elapsed));
        let key = url_key(finished.url);
        let index = match self.shared.get(&key) {
            None => self.first.get(&key).copied(),
            Some(many) => {
                let mut s = self.lock();
                let k = s.matched.entry(key).or_insert(0);
                *k += 1;
                many.get(*k - 1).copied()
            }
        };
        let rejected =
            matches!(finished.outcome, Outcome::Response(status) if is_rejection(status));
        let w = &finished.waits;
        let lanes = [w.limit, w.host_limit, w.rate, w.cooldown, w.backoff, w.wire];
        let lanes = lanes.map(|d| u32::try_from(d.as_micros()).unwrap_or(u32::MAX));
        self.ended(index, (start, end), rejected, lanes);
        self.progress(|p| p.request_finished(finished));
    }

    fn limit_changed(&self, limit: usize) {
        self.limit_is(limit);
    }
}

/// What a [`Recorder`] saw: each request's `(start_us, end_us)` by index
/// (`None` when it never reached the client) and its waits (observed runs
/// only), the requests in flight and the limit after each change, and the
/// answers that were 429 or 503.
#[derive(Debug, Clone, Default)]
pub struct Recording {
    pub timings: Vec<Option<(u64, u64)>>,
    pub waits: Vec<Lanes>,
    pub max_in_flight: u64,
    pub in_flight: Vec<Step>,
    pub limits: Vec<Step>,
    pub rejected: u64,
}

/// Thins a step curve to about `3 x buckets` points: in each of `buckets`
/// equal slices of time it keeps the lowest, the highest and the last value,
/// in order, so dips and peaks stay visible.
pub fn thin(steps: &[Step], buckets: usize) -> Vec<Step> {
    let buckets = buckets.max(1);
    if steps.len() <= 3 * buckets {
        return steps.to_vec();
    }
    let first = steps.first().map_or(0, |s| s.0);
    let last = steps.last().map_or(0, |s| s.0);
    let width = (last - first).div_ceil(buckets as u64).max(1);
    let bucket = |s: &Step| s.0.saturating_sub(first) / width;
    let mut out = Vec::with_capacity(3 * buckets + 1);
    for slice in steps.chunk_by(|a, b| bucket(a) == bucket(b)) {
        let lowest = (0..slice.len()).min_by_key(|&i| slice[i].1);
        let highest = (0..slice.len()).max_by_key(|&i| slice[i].1);
        let keep = [lowest, highest, Some(slice.len() - 1)];
        let kept = (0..slice.len()).filter(|&i| keep.contains(&Some(i)));
        out.extend(kept.map(|i| slice[i]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use volley_core::http::Method;
    use volley_core::layer::Waits;

    fn uri(s: &str) -> Uri {
        s.parse().expect("a URI")
    }

    fn finished<'a>(method: &'a Method, url: &'a Uri, started: Instant, ms: u64) -> Finished<'a> {
        Finished {
            method,
            url,
            attempt: 1,
            started,
            elapsed: Duration::from_millis(ms),
            outcome: Outcome::Response(StatusCode::OK),
            waits: Default::default(),
        }
    }

    #[test]
    fn observer_matches_attempts_to_requests() {
        let urls = [
            uri("http://h/u/1"),
            uri("http://h/u/2"),
            uri("http://h/u/1"),
        ];
        let rec = Recorder::new(&urls.each_ref().map(ToString::to_string), None);
        let t0 = rec.start();
        let get = Method::GET;
        let req = Request::get("http://h/u/2").build().expect("request");
        rec.request_started(&req);
        rec.request_started(&req);
        let later = t0 + Duration::from_millis(5);
        rec.request_finished(&Finished {
            waits: Waits {
                limit: Duration::from_millis(3),
                wire: Duration::from_millis(10),
                ..Waits::default()
            },
            ..finished(&get, &urls[1], later, 10)
        });
        rec.request_finished(&Finished {
            outcome: Outcome::Response(StatusCode::SERVICE_UNAVAILABLE),
            ..finished(&get, &urls[0], t0, 1)
        });
        rec.request_started(&req);
        rec.request_finished(&finished(&get, &urls[0], later, 2));
        rec.limit_changed(7);
        let r = rec.finish();
        assert_eq!(
            r.timings,
            vec![
                Some((0, 1_000)),
                Some((5_000, 15_000)),
                Some((5_000, 7_000))
            ]
        );
        assert_eq!(r.waits[1], [3_000, 0, 0, 0, 0, 10_000]);
        assert_eq!(r.waits[0], [0; 6]);
        assert_eq!(r.max_in_flight, 2);
        assert_eq!(r.rejected, 1);
        let counts: Vec<u64> = r.in_flight.iter().map(|s| s.1).collect();
        assert_eq!(counts, [1, 2, 1, 0, 1, 0]);
        assert_eq!(r.limits.len(), 1);
        assert_eq!(r.limits[0].1, 7);
    }

    #[test]
    fn by_hand() {
        let progress = Progress::new(2);
        let rec = Recorder::by_hand(2, Some(progress.clone()));
        rec.start();
        let a = rec.begin();
        let b = rec.begin();
        assert_eq!(rec.end(1, b, (Ended::Status, true), false).0, Ended::Status);
        rec.end(0, a, (Ended::Ok, false), false);
        let r = rec.finish();
        assert!(r.timings.iter().all(Option::is_some));
        assert_eq!((r.max_in_flight, r.rejected), (2, 1));
        assert_eq!((progress.done(), progress.failed()), (2, 1));
    }

    #[test]
    fn thinning_keeps_peaks_and_dips() {
        let steps: Vec<Step> = (0..10_000u64).map(|i| (i, i % 97)).collect();
        let thin = thin(&steps, 100);
        assert!(thin.len() <= 300 && thin.len() >= 100, "{}", thin.len());
        assert!(thin.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(thin.iter().map(|s| s.1).max(), Some(96));
        assert_eq!(thin.iter().map(|s| s.1).min(), Some(0));
        assert_eq!(thin.last(), steps.last());
        let few = [(0, 1), (5, 2)];
        assert_eq!(super::thin(&few, 100), few);
    }
}
