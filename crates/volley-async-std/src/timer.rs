//! [`AsyncStdTimer`]: volley's [`Timer`] on async-std's clock.

use std::time::Duration;

use volley_core::rt::{Sleep, Timer};

/// The [`Timer`] of async-std: sleeps with [`async_std::task::sleep`].
///
/// [`Client`](crate::Client) uses it for its timeouts and hands it to
/// volley's layers (retries, rate limits, deadlines) through
/// [`Fetcher::timer`](volley_core::Fetcher::timer).
///
/// ```
/// use std::time::Duration;
/// use volley_async_std::AsyncStdTimer;
/// use volley_core::rt::Timer;
///
/// async_std::task::block_on(async {
///     let start = std::time::Instant::now();
///     AsyncStdTimer.sleep(Duration::from_millis(20)).await;
///     assert!(start.elapsed() >= Duration::from_millis(20));
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStdTimer;

impl Timer for AsyncStdTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(async_std::task::sleep(duration))
    }
}
