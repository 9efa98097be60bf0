//! [`FetcherExt`]: layers, added in the order they are written.

use crate::fetcher::{BoxFetcher, Fetcher};
use crate::limit::Limit;
use crate::timeout::Timeout;
use std::time::Duration;

/// Layers for any [`Fetcher`], applied in the order written: the first
/// written is the outermost, so
/// `client.rate_limit(..).retry(..).timeout(..).limit(..)` waits for the
/// rate limiter first, retries around a timeout, and holds a permit only
/// while a request is really in flight.
pub trait FetcherExt: Fetcher + Sized {
    /// At most `max` requests in flight at once through this fetcher and its
    /// clones (see [`Limit`]).
    fn limit(self, max: usize) -> Limit<Self> {
        Limit::new(self, max)
    }

    /// Gives every request at most `duration`, on the fetcher's own timer
    /// (see [`Timeout`]).
    fn timeout(self, duration: Duration) -> Timeout<Self> {
        Timeout::new(self, duration)
    }

    /// Erases the type, for `dyn` use (see [`BoxFetcher`]).
    fn boxed(self) -> BoxFetcher {
        BoxFetcher::new(self)
    }
}

impl<F: Fetcher> FetcherExt for F {}
