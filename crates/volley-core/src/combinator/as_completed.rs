//! [`as_completed`]: a stream of `(index, output)` as futures finish.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{self, BufferUnordered, Stream, StreamExt};

/// Runs at most `limit` futures at once (a `limit` of 0 counts as 1) and
/// yields each output with its input index as soon as it is ready, like
/// `asyncio.as_completed`. Futures are started in input order as slots free up.
///
/// Every future yields exactly once; dropping the stream cancels the ones
/// still running.
///
/// ```
/// use futures::StreamExt;
/// use volley_core::as_completed;
/// # futures::executor::block_on(async {
/// let mut done: Vec<(usize, u32)> = as_completed((0..4u32).map(|i| async move { i * i }), 2)
///     .collect().await;
/// done.sort();
/// assert_eq!(done, vec![(0, 0), (1, 1), (2, 4), (3, 9)]);
/// # });
/// ```
pub fn as_completed<I>(futures: I, limit: usize) -> AsCompleted<I::IntoIter>
where
    I: IntoIterator,
    I::Item: Future,
{
    let indexed = Indexed {
        iter: futures.into_iter(),
        next: 0,
    };
    AsCompleted {
        inner: stream::iter(indexed).buffer_unordered(limit.max(1)),
    }
}

pin_project_lite::pin_project! {
    /// The stream of [`as_completed`].
    #[must_use = "streams do nothing unless polled"]
    pub struct AsCompleted<I>
    where
        I: Iterator,
        I: Iterator<Item: Future>,
    {
        #[pin]
        inner: BufferUnordered<stream::Iter<Indexed<I>>>,
    }
}

impl<I> Stream for AsCompleted<I>
where
    I: Iterator,
    I::Item: Future,
{
    type Item = (usize, <I::Item as Future>::Output);

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.project().inner.poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<I> std::fmt::Debug for AsCompleted<I>
where
    I: Iterator,
    I::Item: Future,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AsCompleted")
    }
}

/// An iterator that pairs each future with its index.
pub(crate) struct Indexed<I> {
    iter: I,
    next: usize,
}

impl<I> Iterator for Indexed<I>
where
    I: Iterator,
    I::Item: Future,
{
    type Item = WithIndex<I::Item>;

    fn next(&mut self) -> Option<Self::Item> {
        let future = self.iter.next()?;
        let index = self.next;
        self.next += 1;
        Some(WithIndex { index, future })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.iter.size_hint()
    }
}

pin_project_lite::pin_project! {
    /// A future that yields its output together with its input index.
    pub(crate) struct WithIndex<F> {
        index: usize,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for WithIndex<F> {
    type Output = (usize, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match this.future.poll(cx) {
            Poll::Ready(out) => Poll::Ready((*this.index, out)),
            Poll::Pending => Poll::Pending,
        }
    }
}
