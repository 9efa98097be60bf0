//! Test support with no network and no real time: a fake clock
//! ([`ManualTimer`]), a scripted in-memory fetcher ([`InMemoryFetcher`]) and
//! a driver ([`run`]) that moves the clock whenever everything waits on it.
//!
//! Libraries written against [`Fetcher`] can test themselves with these too.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::error::{Error, ErrorKind, Result};
use crate::fetcher::Fetcher;
use crate::request::Request;
use crate::response::Response;
use crate::rt::{SharedTimer, Sleep, Timer};

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A fake clock: time stands still until [`advance`](ManualTimer::advance)
/// (or [`run`]) moves it, and sleepers wake in deadline order.
///
/// ```
/// use std::time::Duration;
/// use volley_core::rt::Timer;
/// use volley_core::testing::{ManualTimer, run};
///
/// let timer = ManualTimer::new();
/// run(&timer, timer.sleep(Duration::from_secs(3600))).unwrap();
/// assert_eq!(timer.elapsed(), Duration::from_secs(3600)); // instantly
/// ```
#[derive(Clone)]
pub struct ManualTimer {
    state: Arc<Mutex<ClockState>>,
}

struct ClockState {
    start: Instant,
    elapsed: Duration,
    next_id: u64,
    sleepers: BTreeMap<(Duration, u64), Waker>,
    requested: Vec<Duration>,
}

impl Default for ManualTimer {
    fn default() -> Self {
        ManualTimer::new()
    }
}

impl fmt::Debug for ManualTimer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualTimer")
            .field("elapsed", &self.elapsed())
            .finish()
    }
}

impl ManualTimer {
    /// A clock at zero.
    pub fn new() -> Self {
        ManualTimer {
            state: Arc::new(Mutex::new(ClockState {
                start: Instant::now(),
                elapsed: Duration::ZERO,
                next_id: 0,
                sleepers: BTreeMap::new(),
                requested: Vec::new(),
            })),
        }
    }

    /// This clock as a [`SharedTimer`].
    pub fn shared(&self) -> SharedTimer {
        Arc::new(self.clone())
    }

    /// The fake current instant.
    pub fn now(&self) -> Instant {
        let s = lock(&self.state);
        s.start + s.elapsed
    }

    /// Fake time since the clock was made.
    pub fn elapsed(&self) -> Duration {
        lock(&self.state).elapsed
    }

    /// Every duration passed to [`Timer::sleep`] so far, in call order.
    pub fn sleeps(&self) -> Vec<Duration> {
        lock(&self.state).requested.clone()
    }

    /// Moves the clock forward and wakes the sleepers that are due.
    pub fn advance(&self, by: Duration) {
        let wakers = {
            let mut s = lock(&self.state);
            s.elapsed += by;
            take_due(&mut s)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Moves the clock to the earliest sleeper's deadline and wakes it (and
    /// any due at the same instant). False when nobody sleeps.
    pub fn advance_to_next(&self) -> bool {
        let wakers = {
            let mut s = lock(&self.state);
            let Some(&(deadline, _)) = s.sleepers.keys().next() else {
                return false;
            };
            if deadline > s.elapsed {
                s.elapsed = deadline;
            }
            take_due(&mut s)
        };
        wakers.into_iter().for_each(Waker::wake);
        true
    }
}

fn take_due(s: &mut ClockState) -> Vec<Waker> {
    let later = s
        .sleepers
        .split_off(&(s.elapsed.saturating_add(Duration::from_nanos(1)), 0));
    std::mem::replace(&mut s.sleepers, later)
        .into_values()
        .collect()
}

impl Timer for ManualTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        let (deadline, id) = {
            let mut s = lock(&self.state);
            s.requested.push(duration);
            s.next_id += 1;
            (s.elapsed.saturating_add(duration), s.next_id)
        };
        Box::pin(ManualSleep {
            state: self.state.clone(),
            deadline,
            id,
        })
    }

    fn now(&self) -> Instant {
        ManualTimer::now(self)
    }
}

struct ManualSleep {
    state: Arc<Mutex<ClockState>>,
    deadline: Duration,
    id: u64,
}

impl Future for ManualSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = lock(&self.state);
        if s.elapsed >= self.deadline {
            s.sleepers.remove(&(self.deadline, self.id));
            Poll::Ready(())
        } else {
            s.sleepers
                .insert((self.deadline, self.id), cx.waker().clone());
            Poll::Pending
        }
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        lock(&self.state).sleepers.remove(&(self.deadline, self.id));
    }
}

/// [`run`] found the future waiting with no sleeper to wake it: it would hang.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stalled;

impl fmt::Display for Stalled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the future is pending with no timer to wake it: it would never finish")
    }
}

impl std::error::Error for Stalled {}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Drives `future` to completion on the current thread, advancing `timer`
/// to the next deadline whenever nothing else can make progress, so hours of
/// fake time pass in microseconds and the result is deterministic.
///
/// Everything the future waits on must be in-memory or on `timer`; a future
/// that waits on anything else returns [`Stalled`] instead of hanging.
pub fn run<F: Future>(timer: &ManualTimer, future: F) -> Result<F::Output, Stalled> {
    let mut future = pin!(future);
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        flag.0.store(false, Ordering::SeqCst);
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return Ok(out);
        }
        if flag.0.load(Ordering::SeqCst) {
            continue;
        }
        if !timer.advance_to_next() {
            return Err(Stalled);
        }
    }
}

/// What an [`InMemoryFetcher`] answers to one request.
#[derive(Debug)]
pub struct Reply {
    latency: Option<Duration>,
    outcome: Outcome,
}

#[derive(Debug)]
enum Outcome {
    Response(StatusCode, HeaderMap, Bytes),
    Error(ErrorKind),
    Hang,
}

impl Reply {
    /// A response with `status` and a JSON body.
    pub fn json(status: StatusCode, body: &serde_json::Value) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Reply {
            latency: None,
            outcome: Outcome::Response(status, headers, Bytes::from(body.to_string())),
        }
    }

    /// A response with `status` and a raw body.
    pub fn status(status: StatusCode, body: impl Into<Bytes>) -> Self {
        Reply {
            latency: None,
            outcome: Outcome::Response(status, HeaderMap::new(), body.into()),
        }
    }

    /// An error of `kind` (a refused connection, a reset, ...).
    pub fn error(kind: ErrorKind) -> Self {
        Reply {
            latency: None,
            outcome: Outcome::Error(kind),
        }
    }

    /// No answer, ever: only a timeout or a drop ends the request.
    pub fn hang() -> Self {
        Reply {
            latency: None,
            outcome: Outcome::Hang,
        }
    }

    /// Adds a header to a response reply.
    #[must_use]
    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        if let (Outcome::Response(_, headers, _), Ok(v)) =
            (&mut self.outcome, HeaderValue::from_str(value))
        {
            headers.append(name, v);
        }
        self
    }

    /// Answers after `latency` instead of the fetcher's default.
    #[must_use]
    pub fn after(mut self, latency: Duration) -> Self {
        self.latency = Some(latency);
        self
    }
}

type Script = dyn Fn(&Request, u64) -> Reply + Send + Sync;

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    rejected: AtomicU64,
    completed: AtomicU64,
    cancelled: AtomicU64,
    in_flight: AtomicU64,
    max_in_flight: AtomicU64,
    started: Mutex<Vec<(Instant, String)>>,
}

/// A [`Fetcher`] that answers from a script after a latency on a
/// [`Timer`], counting calls, the requests in flight and their maximum,
/// and requests dropped before they finished.
///
/// By default every request gets `200 OK` with `{"id": N, "path": "..."}`,
/// where N is the last path segment if it is a number.
///
/// ```
/// use std::time::Duration;
/// use http::StatusCode;
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply, run};
/// use volley_core::{ErrorKind, Fetcher, Request};
///
/// let timer = ManualTimer::new();
/// let fetcher = InMemoryFetcher::new(timer.clone())
///     .latency(Duration::from_millis(50))
///     .script(|req, _call| match req.url().path() {
///         "/boom" => Reply::status(StatusCode::SERVICE_UNAVAILABLE, ""),
///         _ => Reply::json(StatusCode::OK, &serde_json::json!({"ok": true})),
///     });
/// run(&timer, async {
///     let resp = fetcher.fetch(Request::get("/boom").build()?).await?;
///     assert_eq!(resp.error_for_status().unwrap_err().kind(), ErrorKind::Status);
///     Ok::<_, volley_core::Error>(())
/// }).unwrap().unwrap();
/// assert_eq!(fetcher.calls(), 1);
/// ```
#[derive(Clone)]
pub struct InMemoryFetcher {
    timer: SharedTimer,
    latency: Duration,
    capacity: Option<u64>,
    script: Option<Arc<Script>>,
    counters: Arc<Counters>,
}

impl fmt::Debug for InMemoryFetcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InMemoryFetcher")
            .field("latency", &self.latency)
            .field("calls", &self.calls())
            .finish()
    }
}

impl InMemoryFetcher {
    /// A fetcher on `timer` with no latency and the default answer.
    pub fn new(timer: impl Timer) -> Self {
        InMemoryFetcher {
            timer: Arc::new(timer),
            latency: Duration::ZERO,
            capacity: None,
            script: None,
            counters: Arc::default(),
        }
    }

    /// Sets the default latency of every answer.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Serves at most `k` requests at once; beyond that it answers `503`
    /// at once, like a server at capacity (counted in [`rejected`](Self::rejected)).
    #[must_use]
    pub fn capacity(mut self, k: u64) -> Self {
        self.capacity = Some(k);
        self
    }

    /// Requests answered 503 because the capacity was full.
    pub fn rejected(&self) -> u64 {
        self.counters.rejected.load(Ordering::SeqCst)
    }

    /// Answers with `script(request, call_number)`; call numbers start at 1.
    #[must_use]
    pub fn script(
        mut self,
        script: impl Fn(&Request, u64) -> Reply + Send + Sync + 'static,
    ) -> Self {
        self.script = Some(Arc::new(script));
        self
    }

    /// Requests received.
    pub fn calls(&self) -> u64 {
        self.counters.calls.load(Ordering::SeqCst)
    }

    /// Requests answered (response or error).
    pub fn completed(&self) -> u64 {
        self.counters.completed.load(Ordering::SeqCst)
    }

    /// Requests dropped before they were answered.
    pub fn cancelled(&self) -> u64 {
        self.counters.cancelled.load(Ordering::SeqCst)
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> u64 {
        self.counters.in_flight.load(Ordering::SeqCst)
    }

    /// The most requests ever in flight at once.
    pub fn max_in_flight(&self) -> u64 {
        self.counters.max_in_flight.load(Ordering::SeqCst)
    }

    /// When each request arrived (on the fetcher's timer), with its path and query.
    pub fn arrivals(&self) -> Vec<(Instant, String)> {
        lock(&self.counters.started).clone()
    }

    fn default_reply(req: &Request) -> Reply {
        let path = req.url().path();
        let id: u64 = path
            .rsplit('/')
            .next()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        Reply::json(
            StatusCode::OK,
            &serde_json::json!({ "id": id, "path": path }),
        )
    }
}

struct InFlight<'a> {
    counters: &'a Counters,
    done: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.done {
            self.counters.completed.fetch_add(1, Ordering::SeqCst);
        } else {
            self.counters.cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Fetcher for InMemoryFetcher {
    async fn fetch(&self, request: Request) -> Result<Response> {
        let c = &*self.counters;
        let call = c.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let target = request
            .url()
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.to_string());
        lock(&c.started).push((self.timer.now(), target));
        let now = c.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        if self.capacity.is_some_and(|k| now > k) {
            // At capacity: rejected at once, never counted as served.
            c.in_flight.fetch_sub(1, Ordering::SeqCst);
            c.rejected.fetch_add(1, Ordering::SeqCst);
            c.completed.fetch_add(1, Ordering::SeqCst);
            return Ok(Response::new(
                StatusCode::SERVICE_UNAVAILABLE,
                request.url().clone(),
                "",
            ));
        }
        c.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let mut guard = InFlight {
            counters: c,
            done: false,
        };
        let reply = match &self.script {
            Some(script) => script(&request, call),
            None => Self::default_reply(&request),
        };
        let latency = reply.latency.unwrap_or(self.latency);
        if !latency.is_zero() {
            self.timer.sleep(latency).await;
        }
        let out = match reply.outcome {
            Outcome::Response(status, headers, body) => {
                Ok(Response::new(status, request.url().clone(), body).with_headers(headers))
            }
            Outcome::Error(kind) => {
                Err(Error::new(kind, "scripted failure").with_url(request.url().clone()))
            }
            Outcome::Hang => {
                std::future::pending::<()>().await;
                Err(Error::new(ErrorKind::Other, "unreachable"))
            }
        };
        guard.done = true;
        out
    }

    fn timer(&self) -> SharedTimer {
        self.timer.clone()
    }
}
