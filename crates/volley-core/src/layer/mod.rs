//! The layers: fetchers that wrap a fetcher, made with the methods of
//! [`FetcherExt`](crate::FetcherExt) (`.limit(n)`, `.retry(policy)`, ...).
//! Each takes its time from the fetcher's timer ([`rt`](crate::rt)).

/// A layer's `timer` and `observer`: those of the fetcher it wraps, held in
/// its `inner` field.
macro_rules! forward_timer_and_observer {
    () => {
        fn timer(&self) -> $crate::rt::SharedTimer {
            self.inner.timer()
        }

        fn observer(&self) -> Option<&$crate::layer::SharedObserver> {
            self.inner.observer()
        }
    };
}
pub(crate) use forward_timer_and_observer;

pub(crate) mod adaptive;
pub(crate) mod cooldown;
pub(crate) mod deadline;
pub(crate) mod host;
pub(crate) mod limit;
pub(crate) mod observe;
pub(crate) mod per_host;
pub(crate) mod per_host_rate;
pub(crate) mod rate_limit;
pub(crate) mod retry;
pub(crate) mod timeout;
pub(crate) mod waits;

pub use adaptive::{Adaptive, AdaptiveLimit};
pub use cooldown::{HostCooldown, pause_asked};
pub use deadline::Deadline;
pub use host::PerHost;
pub use limit::Limit;
pub use observe::{Finished, NoObserver, Observe, Observer, Outcome, RetryReason, SharedObserver};
pub use per_host::PerHostLimit;
pub use per_host_rate::PerHostRate;
pub use rate_limit::{Rate, RateLimit};
pub use retry::{Retry, RetryBudget, RetryPolicy, parse_retry_after};
pub use timeout::{Timeout, WithTimeout, with_timeout};
pub use waits::Waits;
