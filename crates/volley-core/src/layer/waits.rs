//! Where a request's time went: [`Waits`], filled in by the layers as the
//! request passes them and handed to the observer with every attempt.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::layer::observe::SharedObserver;
use crate::request::Request;

/// The time one request has spent so far, by what it was doing: queued for
/// the global limit, for its host's limit, for a rate slot, held by its
/// host's cool-down, backing off between attempts, and on the wire.
///
/// Every attempt reported to [`Observer::request_finished`](crate::Observer::request_finished)
/// carries the sums over the request's attempts up to and including that
/// one, so the last attempt's `waits` is the whole request's breakdown.
///
/// ```
/// use std::time::Duration;
/// use std::sync::{Arc, Mutex};
/// use volley_core::testing::{InMemoryFetcher, ManualTimer, run};
/// use volley_core::{Fetcher, FetcherExt, Finished, Observer, Request, gather, layer::Waits};
///
/// #[derive(Default)]
/// struct Last(Mutex<Vec<Waits>>);
/// impl Observer for Last {
///     fn request_finished(&self, f: &Finished<'_>) {
///         self.0.lock().unwrap().push(f.waits);
///     }
/// }
///
/// let timer = ManualTimer::new();
/// let seen = Arc::new(Last::default());
/// let client = InMemoryFetcher::new(timer.clone())
///     .latency(Duration::from_millis(100))
///     .observe(seen.clone())
///     .limit(1);
/// run(&timer, gather((0..2).map(|_| client.fetch(Request::get("/x").build().unwrap())))).unwrap();
/// let waits = seen.0.lock().unwrap().clone();
/// assert_eq!(waits[1].limit, Duration::from_millis(100)); // the second queued behind the first
/// assert_eq!(waits[1].wire, Duration::from_millis(100));
/// assert_eq!(waits[1].queued(), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waits {
    /// Queued for a permit of the global limit ([`Limit`](crate::layer::Limit)
    /// or [`AdaptiveLimit`](crate::layer::AdaptiveLimit)).
    pub limit: Duration,
    /// Queued for a permit of its host's limit ([`PerHostLimit`](crate::layer::PerHostLimit)).
    pub host_limit: Duration,
    /// Waiting for a slot of a rate ([`RateLimit`](crate::layer::RateLimit)
    /// or [`PerHostRate`](crate::layer::PerHostRate)).
    pub rate: Duration,
    /// Held while its host was cooling down ([`HostCooldown`](crate::layer::HostCooldown)).
    pub cooldown: Duration,
    /// Backing off between attempts ([`Retry`](crate::layer::Retry)).
    pub backoff: Duration,
    /// On the wire: the attempts themselves, as timed by the
    /// [`Observe`](crate::layer::Observe) layer.
    pub wire: Duration,
}

impl Waits {
    /// Everything but the time on the wire.
    pub fn queued(&self) -> Duration {
        self.limit + self.host_limit + self.rate + self.cooldown + self.backoff
    }
}

/// What a request waited for (a field of [`Waits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lane {
    Limit,
    HostLimit,
    Rate,
    Cooldown,
    Backoff,
    Wire,
}

const LANES: usize = 6;

/// The running sums of one request, shared by its clones (one per attempt)
/// through the request's `waits` field.
#[derive(Debug, Default)]
pub(crate) struct WaitLog {
    nanos: [AtomicU64; LANES],
}

impl WaitLog {
    pub(crate) fn add(&self, lane: Lane, waited: Duration) {
        let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.nanos[lane as usize].fetch_add(nanos, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Waits {
        let get =
            |lane: Lane| Duration::from_nanos(self.nanos[lane as usize].load(Ordering::Relaxed));
        Waits {
            limit: get(Lane::Limit),
            host_limit: get(Lane::HostLimit),
            rate: get(Lane::Rate),
            cooldown: get(Lane::Cooldown),
            backoff: get(Lane::Backoff),
            wire: get(Lane::Wire),
        }
    }
}

/// The request's log, made if it has none yet.
pub(crate) fn log_of(request: &mut Request) -> Arc<WaitLog> {
    Arc::clone(request.waits.get_or_insert_with(Arc::default))
}

/// True when someone will read the log: an observer, or the tracing span.
pub(crate) fn wanted(observer: Option<&SharedObserver>) -> bool {
    cfg!(feature = "tracing") || observer.is_some()
}

/// Adds `waited` to the request's `lane` when someone will read it.
pub(crate) fn record(
    request: &mut Request,
    observer: Option<&SharedObserver>,
    lane: Lane,
    waited: Duration,
) {
    if waited.is_zero() {
        return;
    }
    if let Some(log) = &request.waits {
        log.add(lane, waited);
    } else if wanted(observer) {
        log_of(request).add(lane, waited);
    }
}
