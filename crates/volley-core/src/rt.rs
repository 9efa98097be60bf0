//! Time, borrowed from the runtime: the [`Timer`] trait adapters implement.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A sleep in progress, as returned by [`Timer::sleep`].
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// A source of time: sleeping and the current instant.
///
/// Core names no runtime; each adapter implements this with its runtime's
/// timer (`tokio::time::sleep`, `async_io::Timer`, ...) and hands it to the
/// layers that need time (timeouts, retries, rate limits). Tests use
/// [`testing::ManualTimer`](crate::testing::ManualTimer), a fake clock, so
/// nothing really sleeps.
///
/// Like hyper's `rt::Timer`, it is object-safe and shared as a [`SharedTimer`];
/// one allocation per sleep costs nothing next to a network round trip.
///
/// ```
/// use std::time::{Duration, Instant};
/// use volley_core::{rt::{Sleep, Timer}};
///
/// /// A timer for a runtime that has `async_io`.
/// # mod async_io { pub struct Timer; impl Timer { pub async fn after(_: std::time::Duration) {} } }
/// struct MyTimer;
/// impl Timer for MyTimer {
///     fn sleep(&self, d: Duration) -> Sleep {
///         Box::pin(async move { async_io::Timer::after(d).await; })
///     }
/// }
/// ```
pub trait Timer: Send + Sync + 'static {
    /// A future that completes after `duration`.
    fn sleep(&self, duration: Duration) -> Sleep;

    /// The current instant (a fake clock returns its own).
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// A future that completes at `deadline`.
    fn sleep_until(&self, deadline: Instant) -> Sleep {
        self.sleep(deadline.saturating_duration_since(self.now()))
    }
}

/// A timer shared by every layer and clone of a fetcher.
pub type SharedTimer = Arc<dyn Timer>;
