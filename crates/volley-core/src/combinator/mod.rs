//! The combinators: many futures driven at once on whatever executor polls
//! them, none spawned. Each returns a named future or stream.
//!
//! - [`gather`]: every result, in input order (`asyncio.gather(...,
//!   return_exceptions=True)`).
//! - [`try_gather`]: in input order, the first error wins and the rest are
//!   dropped (a `TaskGroup`).
//! - [`gather_limited`]: at most N in flight, in input order.
//! - [`as_completed`]: at most N in flight, `(index, output)` as each ends.

pub(crate) mod as_completed;
pub(crate) mod gather;
pub(crate) mod gather_limited;
pub(crate) mod try_gather;

pub use as_completed::{AsCompleted, as_completed};
pub use gather::{Gather, gather};
pub use gather_limited::{GatherLimited, gather_limited};
pub use try_gather::{TryGather, try_gather};
