//! What every layer made from one [`SharedRate`](crate::SharedRate) or
//! [`SharedCooldown`](crate::SharedCooldown) shares: the backend, the
//! leased slots, the pauses this process knows of, and the rule for faults.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use volley_core::layer::{SharedObserver, pause_asked};
use volley_core::rt::SharedTimer;
use volley_core::{Error, ErrorKind, Rate, Response, Result};

use crate::backend::{Backend, Failure};
use crate::script::Reply;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What a request does when Redis cannot be reached in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// Go on under this process's share of the rate.
    Open { workers: u32 },
    /// Wait for Redis this long, then fail.
    Closed { max_wait: Duration },
}

/// How a request was let through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Redis gave it a slot (and the host was not paused).
    Shared,
    /// Redis could not be reached; it goes under the local fallback.
    Local,
}

/// The settings every builder of this crate shares, on a builder with a
/// `settings: Settings` field.
macro_rules! settings_methods {
    () => {
        /// The longest pause a `Retry-After` can set (default 5 minutes).
        pub fn max_pause(mut self, max: std::time::Duration) -> Self {
            self.settings.max_pause = max;
            self
        }

        /// The deadline of one call to Redis, connecting included (default
        /// 500 ms): a slow Redis counts as out of reach after it.
        pub fn redis_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.settings.timeout = timeout;
            self
        }

        /// How long to leave Redis alone after a failure before trying it
        /// again (default 1 s).
        pub fn retry_every(mut self, every: std::time::Duration) -> Self {
            self.settings.retry_every = every;
            self
        }
    };
}
pub(crate) use settings_methods;

/// The longest a response that asked for a pause waits while the pause is
/// written to Redis.
const PAUSE_WRITE_BUDGET: Duration = Duration::from_millis(50);

/// `now + wait`, or a year from now when the clock cannot hold it (a reply
/// from Redis is data: it may say anything).
fn later(now: Instant, wait: Duration) -> Instant {
    now.checked_add(wait)
        .or_else(|| now.checked_add(Duration::from_secs(365 * 24 * 3600)))
        .unwrap_or(now)
}

/// Slots leased in one round trip, taken one per request.
#[derive(Debug)]
struct Lease {
    /// When the reply arrived.
    base: Instant,
    /// µs from `base` to the first slot (negative while a burst is available).
    offset_us: i64,
    interval_us: i64,
    next: u32,
    count: u32,
}

impl Lease {
    fn slot(&self, i: u32) -> Instant {
        let at = self
            .offset_us
            .saturating_add(self.interval_us.saturating_mul(i64::from(i)));
        match u64::try_from(at) {
            Ok(us) if us > 0 => later(self.base, Duration::from_micros(us)),
            _ => self.base,
        }
    }

    /// The next slot, unless all are taken or the lease has gone stale (its
    /// last slot is more than an interval past): unused slots are dropped,
    /// never sent late in a heap.
    fn take(&mut self, now: Instant) -> Option<Instant> {
        if self.next >= self.count {
            return None;
        }
        let stale = self.slot(self.count - 1)
            + Duration::from_micros(u64::try_from(self.interval_us).unwrap_or(0));
        if now > stale {
            self.next = self.count;
            return None;
        }
        let at = self.slot(self.next);
        self.next += 1;
        Some(at)
    }
}

/// A grant from Redis.
enum Grant {
    /// Go at this instant.
    At(Instant),
    /// The host is paused this much longer.
    Paused(Duration),
}

/// The settings a builder collects.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) client: redis::Client,
    pub(crate) key: String,
    pub(crate) rate: Option<Rate>,
    pub(crate) lease: u32,
    pub(crate) cooldowns: bool,
    pub(crate) max_pause: Duration,
    pub(crate) timeout: Duration,
    pub(crate) retry_every: Duration,
}

impl Settings {
    pub(crate) fn new(redis: impl redis::IntoConnectionInfo, key: String) -> Result<Self> {
        let client = redis::Client::open(redis).map_err(|e| {
            Error::new(
                ErrorKind::InvalidRequest,
                format!("not a usable Redis address: {e}"),
            )
        })?;
        Ok(Settings {
            client,
            key,
            rate: None,
            lease: 1,
            cooldowns: false,
            max_pause: Duration::from_secs(300),
            timeout: Duration::from_millis(500),
            retry_every: Duration::from_secs(1),
        })
    }
}

/// The state shared by every layer made from one limiter.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) backend: Backend,
    pub(crate) key: String,
    pub(crate) rate: Option<Rate>,
    lease: u32,
    cooldowns: bool,
    max_pause: Duration,
    pub(crate) fault: Fault,
    pool: async_lock::Mutex<Option<Lease>>,
    pauses: Mutex<HashMap<String, Instant>>,
}

fn micros(d: Duration) -> String {
    d.as_micros().max(1).to_string()
}

impl Shared {
    pub(crate) fn new(settings: Settings, name: &'static str, fault: Fault) -> Self {
        let mut backend = Backend::new(settings.client, name);
        backend.timeout = settings.timeout;
        backend.retry_every = settings.retry_every;
        Shared {
            backend,
            key: settings.key,
            rate: settings.rate,
            lease: settings.lease.max(1),
            cooldowns: settings.cooldowns,
            max_pause: settings.max_pause,
            fault,
            pool: async_lock::Mutex::new(None),
            pauses: Mutex::new(HashMap::new()),
        }
    }

    /// The fallback rate of one process when Redis is out of reach.
    pub(crate) fn local_rate(&self) -> Option<Rate> {
        let (Some(rate), Fault::Open { workers }) = (self.rate, self.fault) else {
            return None;
        };
        let workers = workers.max(1);
        let interval = rate.interval().as_secs_f64() * f64::from(workers);
        Some(Rate::per_second(1.0 / interval).burst((rate.burst_size() / workers).max(1)))
    }

    fn pause_key(&self, host: &str) -> String {
        format!("{}:pause:{host}", self.key)
    }

    /// A pause this process knows of for `host` that has not ended.
    fn local_pause(&self, host: &str, now: Instant) -> Option<Instant> {
        let mut pauses = lock(&self.pauses);
        match pauses.get(host) {
            Some(&until) if until > now => Some(until),
            Some(_) => {
                pauses.remove(host);
                None
            }
            None => None,
        }
    }

    fn note_pause(&self, host: &str, until: Instant, now: Instant) {
        let mut pauses = lock(&self.pauses);
        if pauses.len() >= 1024 {
            pauses.retain(|_, u| *u > now);
        }
        let entry = pauses.entry(host.to_owned()).or_insert(until);
        if *entry < until {
            *entry = until;
        }
    }

    /// Waits until `request`'s slot (and the end of its host's pause), or
    /// decides it goes under the fallback, or fails (fail-closed).
    pub(crate) async fn admit(
        &self,
        timer: &SharedTimer,
        observer: Option<&SharedObserver>,
        host: &str,
    ) -> Result<Admit> {
        // Time spent waiting for Redis, not for a pause, counts against max_wait.
        let mut started = timer.now();
        let mut last: Option<Failure> = None;
        loop {
            let now = timer.now();
            if let Some(until) = self.local_pause(host, now) {
                if let Some(o) = observer {
                    o.rate_limit_waited(until - now);
                }
                timer.sleep_until(until).await;
                started = timer.now();
                continue;
            }
            let budget = match self.fault {
                Fault::Open { .. } => self.backend.timeout,
                Fault::Closed { max_wait } => {
                    let left = max_wait.saturating_sub(now.saturating_duration_since(started));
                    if left.is_zero() {
                        return Err(self.closed_error(max_wait, last.as_ref()));
                    }
                    left
                }
            };
            match self.acquire(timer, host, budget).await {
                Ok(Grant::At(at)) => {
                    self.backend.set_degraded(false, observer);
                    let now = timer.now();
                    if at > now {
                        if let Some(o) = observer {
                            o.rate_limit_waited(at - now);
                        }
                        timer.sleep_until(at).await;
                    }
                    return Ok(Admit::Shared);
                }
                Ok(Grant::Paused(left)) => {
                    self.backend.set_degraded(false, observer);
                    let now = timer.now();
                    self.note_pause(host, later(now, left), now);
                }
                Err(failure) => {
                    self.backend.set_degraded(true, observer);
                    match self.fault {
                        Fault::Open { .. } => return Ok(Admit::Local),
                        Fault::Closed { max_wait } => {
                            let now = timer.now();
                            let deadline = later(started, max_wait);
                            let next = self
                                .backend
                                .next_try()
                                .filter(|t| *t > now)
                                .unwrap_or(later(now, Duration::from_millis(10)));
                            timer.sleep_until(next.min(deadline)).await;
                            if !matches!(failure, Failure::Resting) || last.is_none() {
                                last = Some(failure);
                            }
                        }
                    }
                }
            }
        }
    }

    fn closed_error(&self, max_wait: Duration, last: Option<&Failure>) -> Error {
        let why = last.map_or_else(|| "no answer".to_owned(), ToString::to_string);
        Error::new(
            ErrorKind::Connect,
            format!(
                "Redis at {} (key {:?}) was out of reach for {max_wait:?}, so the request was not sent: {why}",
                self.backend.addr(),
                self.key,
            ),
        )
    }

    async fn acquire(
        &self,
        timer: &SharedTimer,
        host: &str,
        budget: Duration,
    ) -> Result<Grant, Failure> {
        let ask = |interval, tolerance, slots| {
            self.ask(timer, budget, host, [interval, tolerance, slots])
        };
        let Some(rate) = self.rate else {
            return Ok(match ask("0", "0", "1").await? {
                Reply::Granted(_) => Grant::At(timer.now()),
                Reply::Paused(us) => self.paused(us),
            });
        };
        let interval = micros(rate.interval());
        let tolerance = (rate.interval().as_micros()
            * u128::from(rate.burst_size().saturating_sub(1)))
        .to_string();
        let interval_us = i64::try_from(rate.interval().as_micros()).unwrap_or(i64::MAX);
        if self.lease <= 1 {
            let reply = ask(&interval, &tolerance, "1").await?;
            return Ok(self.grant(reply, timer.now(), interval_us, 1, &mut None));
        }
        // The wait for the pool is part of the round trip's budget: behind
        // a slow Redis, waiters give up with it.
        let pool = futures_lite::future::or(async { Some(self.pool.lock().await) }, async {
            timer.sleep(budget).await;
            None
        })
        .await;
        let Some(mut pool) = pool else {
            return Err(Failure::Timeout(budget));
        };
        let now = timer.now();
        if let Some(at) = pool.as_mut().and_then(|l| l.take(now)) {
            return Ok(Grant::At(at));
        }
        let reply = ask(&interval, &tolerance, &self.lease.to_string()).await?;
        Ok(self.grant(reply, timer.now(), interval_us, self.lease, &mut pool))
    }

    /// One call of the script: `[interval, tolerance, slots]` in µs and
    /// slots, and whether `host`'s pause is checked.
    async fn ask(
        &self,
        timer: &SharedTimer,
        budget: Duration,
        host: &str,
        [interval, tolerance, slots]: [&str; 3],
    ) -> Result<Reply, Failure> {
        let check = if self.cooldowns { "1" } else { "0" };
        let keys = [self.key.as_str(), &self.pause_key(host)];
        let args = ["a", interval, tolerance, slots, check];
        self.backend.run(timer, budget, keys, &args).await
    }

    /// A pause Redis reports, in µs, as long as this limiter allows.
    fn paused(&self, us: i64) -> Grant {
        Grant::Paused(Duration::from_micros(us.unsigned_abs()).min(self.max_pause))
    }

    fn grant(
        &self,
        reply: Reply,
        now: Instant,
        interval_us: i64,
        count: u32,
        pool: &mut Option<Lease>,
    ) -> Grant {
        match reply {
            Reply::Paused(us) => self.paused(us),
            Reply::Granted(offset_us) => {
                let mut lease = Lease {
                    base: now,
                    offset_us,
                    interval_us,
                    next: 0,
                    count,
                };
                let at = lease.take(now).unwrap_or(now);
                if count > 1 {
                    *pool = Some(lease);
                }
                Grant::At(at)
            }
        }
    }

    /// Pauses `host` for every process for `pause` (capped at the limiter's
    /// longest pause), and for this one even if Redis is out of reach.
    pub(crate) async fn pause(
        &self,
        timer: &SharedTimer,
        observer: Option<&SharedObserver>,
        host: &str,
        pause: Duration,
    ) -> Result<()> {
        let pause = pause.min(self.max_pause);
        if pause.is_zero() {
            return Ok(());
        }
        let now = timer.now();
        self.note_pause(host, later(now, pause), now);
        let key = self.pause_key(host);
        // The response that asked for the pause waits for this call: a
        // short budget, as the pause holds here whatever Redis does.
        let budget = self.backend.timeout.min(PAUSE_WRITE_BUDGET);
        match self
            .backend
            .run(timer, budget, [&self.key, &key], &["p", &micros(pause)])
            .await
        {
            Ok(_) => {
                self.backend.set_degraded(false, observer);
                Ok(())
            }
            Err(failure) => {
                self.backend.set_degraded(true, observer);
                Err(Error::new(
                    ErrorKind::Connect,
                    format!(
                        "Redis at {} did not take the pause of {host:?}: {failure}",
                        self.backend.addr()
                    ),
                ))
            }
        }
    }

    /// After a response: a 429 or 503 with a `Retry-After` pauses its host.
    pub(crate) async fn note_response(
        &self,
        timer: &SharedTimer,
        observer: Option<&SharedObserver>,
        host: &str,
        response: &Response,
    ) {
        if !self.cooldowns {
            return;
        }
        // The same rule as volley-core's own cool-down.
        let Some(after) = pause_asked(response) else {
            return;
        };
        // The pause holds locally whatever Redis says; a failure to share it
        // is already reported as the backend's state.
        let _ = self.pause(timer, observer, host, after).await;
    }
}

/// The key a request's host is paused under: its authority, lowercased
/// (empty for a path, which goes to the client's base URL).
pub(crate) fn host_of(url: &http::Uri) -> String {
    url.authority()
        .map(|a| a.as_str().to_ascii_lowercase())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_spaces_its_slots_and_goes_stale() {
        let base = Instant::now();
        let mut lease = Lease {
            base,
            offset_us: -20_000,
            interval_us: 10_000,
            next: 0,
            count: 4,
        };
        assert_eq!(lease.take(base), Some(base));
        assert_eq!(lease.take(base), Some(base));
        assert_eq!(lease.take(base), Some(base));
        assert_eq!(lease.take(base), Some(base + Duration::from_millis(10)));
        assert_eq!(lease.take(base), None);

        let mut lease = Lease {
            base,
            offset_us: 0,
            interval_us: 10_000,
            next: 0,
            count: 3,
        };
        assert_eq!(lease.take(base + Duration::from_secs(1)), None);
    }

    #[test]
    fn hosts_are_keyed_by_authority() {
        assert_eq!(
            host_of(&http::Uri::from_static("http://API.test:8080/x")),
            "api.test:8080"
        );
        assert_eq!(host_of(&http::Uri::from_static("/users/1")), "");
    }
}
