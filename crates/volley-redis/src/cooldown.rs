//! [`SharedCooldown`]: a host's pause after a 429 or 503, kept in Redis for
//! every process.

use std::sync::Arc;
use std::time::Duration;

use volley_core::rt::SharedTimer;
use volley_core::{Fetcher, Result};

use crate::layer::SharedLimit;
use crate::shared::{Fault, Settings, Shared};

/// Host cool-downs shared by every process that uses the same Redis key
/// prefix, with no rate: when one process gets a 429 or 503 with a
/// `Retry-After`, the host is paused for all of them until then (on the
/// Redis server's clock), and every request checks its host's pause before
/// it is sent, in one round trip.
///
/// For a shared rate *and* shared cool-downs, use
/// [`SharedRateBuilder::share_cooldowns`](crate::SharedRateBuilder::share_cooldowns)
/// instead: both are then checked in the same round trip.
///
/// ```no_run
/// use std::time::Duration;
/// use volley_core::{Fetcher, Request};
/// use volley_redis::SharedCooldown;
///
/// async fn demo(client: impl Fetcher) -> volley_core::Result<()> {
///     let cooldown = SharedCooldown::builder("redis://127.0.0.1:6379", "myapp")?
///         .fail_closed(Duration::from_secs(2));
///     let client = cooldown.layer(client);
///     // A 429 with `Retry-After: 30` here pauses the host for every worker.
///     client.fetch(Request::get("https://api.example.com/users/1").build()?).await?;
///     Ok(())
/// }
/// ```
#[derive(Debug, Clone)]
pub struct SharedCooldown {
    shared: Arc<Shared>,
}

/// The options of a [`SharedCooldown`], until the choice of
/// [`fail_open`](SharedCooldownBuilder::fail_open) or
/// [`fail_closed`](SharedCooldownBuilder::fail_closed) ends them.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until fail_open or fail_closed"]
pub struct SharedCooldownBuilder {
    settings: Settings,
}

impl SharedCooldown {
    /// Cool-downs shared through the Redis at `redis` under the keys
    /// `{prefix}:pause:{host}`. Nothing connects yet; a malformed address
    /// is an [`ErrorKind::InvalidRequest`](volley_core::ErrorKind::InvalidRequest).
    pub fn builder(
        redis: impl redis::IntoConnectionInfo,
        prefix: impl Into<String>,
    ) -> Result<SharedCooldownBuilder> {
        let mut settings = Settings::new(redis, prefix.into())?;
        settings.cooldowns = true;
        Ok(SharedCooldownBuilder { settings })
    }

    /// Wraps `inner`: each request waits out its host's pause, then is sent;
    /// a 429 or 503 with a `Retry-After` pauses the host for everyone.
    pub fn layer<F: Fetcher>(&self, inner: F) -> SharedLimit<F> {
        SharedLimit::new(inner, self.shared.clone())
    }

    /// Pauses `host` (an authority, `api.example.com:443`, or `""` for
    /// requests by path) for every process, for `pause` (capped at
    /// [`max_pause`](SharedCooldownBuilder::max_pause)); `timer` bounds the
    /// call to Redis. The pause holds in this process even when Redis
    /// cannot be reached, which is then an
    /// [`ErrorKind::Connect`](volley_core::ErrorKind::Connect).
    pub async fn pause(&self, host: &str, pause: Duration, timer: &SharedTimer) -> Result<()> {
        let host = host.to_ascii_lowercase();
        self.shared.pause(timer, None, &host, pause).await
    }

    /// True while Redis is out of reach (the last call to it failed).
    pub fn is_degraded(&self) -> bool {
        self.shared.backend.is_degraded()
    }
}

impl SharedCooldownBuilder {
    crate::shared::settings_methods!();

    /// When Redis is out of reach, requests go on, honouring only the pauses
    /// this process has seen itself. Reported to the observer's
    /// `backend_changed("redis-cooldown", ..)`.
    pub fn fail_open(self) -> SharedCooldown {
        self.with_fault(Fault::Open { workers: 1 })
    }

    /// When Redis is out of reach, requests wait for it up to `max_wait`,
    /// then fail with an [`ErrorKind::Connect`](volley_core::ErrorKind::Connect)
    /// error that names Redis.
    pub fn fail_closed(self, max_wait: Duration) -> SharedCooldown {
        self.with_fault(Fault::Closed { max_wait })
    }

    fn with_fault(self, fault: Fault) -> SharedCooldown {
        let shared = Arc::new(Shared::new(self.settings, "redis-cooldown", fault));
        SharedCooldown { shared }
    }
}
