//! [`try_gather`]: all succeed, or the first error cancels the rest.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{TryJoinAll, try_join_all};

/// Runs every future at once; gives back all the `Ok` values in input order,
/// or the first `Err` as soon as it happens, dropping (cancelling) every
/// future still running, like Python's `asyncio.TaskGroup`.
///
/// Dropped requests release their connection and any permit they held.
/// Use [`gather`](crate::gather) when every result must be kept.
///
/// ```
/// use volley_core::try_gather;
/// # futures::executor::block_on(async {
/// let all = try_gather((1..=3).map(|i| async move { Ok::<_, String>(i * 10) })).await;
/// assert_eq!(all, Ok(vec![10, 20, 30]));
/// let first_err = try_gather((1..=3).map(|i| async move {
///     if i == 2 { Err(format!("request {i} failed")) } else { Ok(i) }
/// })).await;
/// assert_eq!(first_err, Err("request 2 failed".to_owned()));
/// # });
/// ```
pub fn try_gather<I, T, E>(futures: I) -> TryGather<I::Item>
where
    I: IntoIterator,
    I::Item: Future<Output = Result<T, E>>,
{
    TryGather {
        inner: try_join_all(futures),
    }
}

/// The future of [`try_gather`].
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct TryGather<F: futures::TryFuture> {
    inner: TryJoinAll<F>,
}

impl<F, T, E> Future for TryGather<F>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<F: futures::TryFuture> std::fmt::Debug for TryGather<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TryGather")
    }
}
