//! [`SmolTimer`]: volley's [`Timer`] on smol's clock ([`async_io::Timer`]).

use std::time::Duration;

use volley_core::rt::{Sleep, Timer};

/// smol's timer ([`async_io::Timer`]) as a [`volley_core::rt::Timer`].
///
/// ```
/// use std::time::Duration;
/// use volley_core::rt::Timer;
/// use volley_smol::SmolTimer;
///
/// smol::block_on(SmolTimer.sleep(Duration::from_millis(1)));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolTimer;

impl Timer for SmolTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(async move {
            // A duration too large for an `Instant` gives a timer that never fires.
            async_io::Timer::after(duration).await;
        })
    }
}
