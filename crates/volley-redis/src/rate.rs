//! [`SharedRate`]: one GCRA rate kept in Redis for every process.

use std::sync::Arc;
use std::time::Duration;

use volley_core::rt::SharedTimer;
use volley_core::{Fetcher, Rate, Result};

use crate::layer::SharedLimit;
use crate::shared::{Fault, Settings, Shared};

/// A request rate shared by every process that uses the same Redis key.
///
/// The state is one key holding the GCRA's theoretical arrival time, in the
/// Redis server's clock; one Lua script reserves slots in it atomically, so
/// N workers with the same key send at the rate between them. Keys expire
/// once they carry no information, so abandoned ones vanish.
///
/// Made in two steps: [`SharedRate::builder`] gives a [`SharedRateBuilder`]
/// for the options, and the builder's [`fail_open`](SharedRateBuilder::fail_open)
/// or [`fail_closed`](SharedRateBuilder::fail_closed), the choice of what
/// happens when Redis is out of reach, gives the `SharedRate`. Wrap a
/// fetcher with [`layer`](SharedRate::layer) (or
/// [`RedisExt::shared_rate`](crate::RedisExt::shared_rate)). Clones share
/// the connection and the state.
///
/// ```no_run
/// use volley_core::{Fetcher, Rate, Request};
/// use volley_redis::SharedRate;
///
/// /// `client` is any fetcher: an adapter's client, with layers or without.
/// async fn demo(client: impl Fetcher) -> volley_core::Result<()> {
///     let quota = SharedRate::builder("redis://127.0.0.1:6379", "quota:api.example.com", Rate::per_second(200.0))?
///         .lease(4)
///         .fail_open(8); // 8 workers: each goes on at 25/s while Redis is out of reach
///     let client = quota.layer(client);
///     client.fetch(Request::get("/users/1").build()?).await?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct SharedRate {
    pub(crate) shared: Arc<Shared>,
}

/// The options of a [`SharedRate`], until the choice of
/// [`fail_open`](SharedRateBuilder::fail_open) or
/// [`fail_closed`](SharedRateBuilder::fail_closed) ends them.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until fail_open or fail_closed"]
pub struct SharedRateBuilder {
    settings: Settings,
}

impl SharedRate {
    /// A rate of `rate` shared through the Redis at `redis` (a URL such as
    /// `redis://127.0.0.1:6379/0`, or a [`redis::ConnectionInfo`]) under
    /// `key`. Every process with the same key and server shares the rate;
    /// give them the same `rate` too.
    ///
    /// Nothing connects yet; the first request does. A malformed address is
    /// an [`ErrorKind::InvalidRequest`](volley_core::ErrorKind::InvalidRequest).
    pub fn builder(
        redis: impl redis::IntoConnectionInfo,
        key: impl Into<String>,
        rate: Rate,
    ) -> Result<SharedRateBuilder> {
        let mut settings = Settings::new(redis, key.into())?;
        settings.rate = Some(rate);
        Ok(SharedRateBuilder { settings })
    }

    /// Wraps `inner`: each request waits for its slot, then is sent by `inner`.
    pub fn layer<F: Fetcher>(&self, inner: F) -> SharedLimit<F> {
        SharedLimit::new(inner, self.shared.clone())
    }

    /// The Redis key.
    pub fn key(&self) -> &str {
        &self.shared.key
    }

    /// True while Redis is out of reach (the last call to it failed).
    pub fn is_degraded(&self) -> bool {
        self.shared.backend.is_degraded()
    }

    /// Pauses `host` (an authority, `api.example.com:443`, or `""` for
    /// requests by path) for every process, for `pause`; only meaningful
    /// with [`share_cooldowns`](SharedRateBuilder::share_cooldowns), whose
    /// requests check the pause. `timer` bounds the call to Redis. The
    /// pause holds in this process even when Redis cannot be reached, which
    /// is then an [`ErrorKind::Connect`](volley_core::ErrorKind::Connect).
    pub async fn pause_host(&self, host: &str, pause: Duration, timer: &SharedTimer) -> Result<()> {
        let host = host.to_ascii_lowercase();
        self.shared.pause(timer, None, &host, pause).await
    }
}

impl SharedRateBuilder {
    /// Reserves `slots` slots per round trip to Redis (at least 1, the
    /// default) and hands them to this process's next requests, so a
    /// process at a high rate makes 1/`slots` of the round trips. Slots not
    /// used while they are due are dropped, never sent late: the shared
    /// rate can only be under-used, not exceeded. A host's pause in Redis
    /// is checked by the request that makes the round trip, for its own
    /// host; the leased slots then go to requests to any host, which honour
    /// the pauses this process knows of. A pause set by another process
    /// reaches this one at its next round trip to that host: keep leases
    /// small when pauses matter.
    pub fn lease(mut self, slots: u32) -> Self {
        self.settings.lease = slots.max(1);
        self
    }

    /// Shares host cool-downs as well: a 429 or 503 response with a
    /// `Retry-After` pauses its host for every process with this key, and
    /// each request checks its host's pause in the same round trip that
    /// takes its slot. The pause keys are `{key}:pause:{host}`.
    pub fn share_cooldowns(mut self) -> Self {
        self.settings.cooldowns = true;
        self
    }

    crate::shared::settings_methods!();

    /// When Redis is out of reach, each process goes on alone at its share
    /// of the rate: the rate divided by `workers` (the number of processes
    /// sharing the key), through volley-core's in-process
    /// [`RateLimit`](volley_core::layer::RateLimit). The switch and the way
    /// back are reported to the observer's `backend_changed("redis-rate", ..)`.
    pub fn fail_open(self, workers: u32) -> SharedRate {
        self.with_fault(Fault::Open {
            workers: workers.max(1),
        })
    }

    /// When Redis is out of reach, requests wait for it up to `max_wait`,
    /// trying again every [`retry_every`](Self::retry_every), then fail with
    /// an [`ErrorKind::Connect`](volley_core::ErrorKind::Connect) error that
    /// names Redis; nothing is sent without a slot. Reported to the
    /// observer like [`fail_open`](Self::fail_open).
    pub fn fail_closed(self, max_wait: Duration) -> SharedRate {
        self.with_fault(Fault::Closed { max_wait })
    }

    fn with_fault(self, fault: Fault) -> SharedRate {
        let shared = Arc::new(Shared::new(self.settings, "redis-rate", fault));
        SharedRate { shared }
    }
}
