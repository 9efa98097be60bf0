//! [`gather`]: run futures at once, keep every result, in input order.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::future::{JoinAll, join_all};

/// Runs every future at once and gives back all their outputs, in the order
/// the futures were given, like `asyncio.gather(..., return_exceptions=True)`.
///
/// Nothing is lost: a failed request is an `Err` in its own slot and does not
/// disturb the others. It spawns nothing: the futures run inside this one, on
/// whatever executor polls it. To cap how many run at once, use
/// [`gather_limited`](crate::gather_limited) or a [`Limit`](crate::layer::Limit) layer.
///
/// ```
/// use volley_core::gather;
/// # futures::executor::block_on(async {
/// let out = gather((1..=3).map(|i| async move { if i == 2 { Err(i) } else { Ok(i) } })).await;
/// assert_eq!(out, vec![Ok(1), Err(2), Ok(3)]);
/// # });
/// ```
pub fn gather<I>(futures: I) -> Gather<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    Gather {
        inner: join_all(futures),
    }
}

/// The future of [`gather`].
#[must_use = "futures do nothing unless you .await or poll them"]
pub struct Gather<F: Future> {
    inner: JoinAll<F>,
}

impl<F: Future> Future for Gather<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.inner).poll(cx)
    }
}

impl<F: Future> std::fmt::Debug for Gather<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gather")
    }
}
