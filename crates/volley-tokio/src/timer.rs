//! [`TokioTimer`]: volley's [`Timer`] on tokio's clock.

use std::time::{Duration, Instant};

use volley_core::rt::{Sleep, Timer};

/// tokio's timer as a volley [`Timer`]: `tokio::time::sleep` and tokio's
/// clock (so a test with tokio's paused time sees the time it sets).
///
/// Its sleeps must be polled inside a tokio runtime.
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}
