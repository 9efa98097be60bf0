//! [`gather_limited`]: at most `limit` at once, results in input order.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::Stream;

use crate::combinator::as_completed::{AsCompleted, as_completed};

/// Runs the futures with at most `limit` in flight and gives back every
/// output in input order: `asyncio.gather` behind an `asyncio.Semaphore`.
/// A `limit` of 0 counts as 1.
///
/// A slow future does not hold up the others: as soon as any finishes, the
/// next one starts. Futures that are not yet started cost nothing but their
/// closure; requests are only sent when their turn comes.
///
/// ```
/// use volley_core::gather_limited;
/// # futures::executor::block_on(async {
/// let out = gather_limited((0..100).map(|i| async move { i }), 20).await;
/// assert_eq!(out, (0..100).collect::<Vec<_>>());
/// # });
/// ```
pub fn gather_limited<I>(futures: I, limit: usize) -> GatherLimited<I::IntoIter>
where
    I: IntoIterator,
    I::Item: Future,
{
    let stream = as_completed(futures, limit);
    let (lower, _) = stream.size_hint();
    GatherLimited {
        stream,
        done: Vec::with_capacity(lower),
        early: VecDeque::new(),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`gather_limited`].
    #[must_use = "futures do nothing unless you .await or poll them"]
    pub struct GatherLimited<I>
    where
        I: Iterator,
        I: Iterator<Item: Future>,
    {
        #[pin]
        stream: AsCompleted<I>,
        // Outputs in input order, up to the first one still running.
        done: Vec<<I::Item as Future>::Output>,
        // Outputs that finished ahead of an earlier one; slot 0 is `done.len()`.
        early: VecDeque<Option<<I::Item as Future>::Output>>,
    }
}

impl<I> Future for GatherLimited<I>
where
    I: Iterator,
    I::Item: Future,
{
    type Output = Vec<<I::Item as Future>::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.stream.as_mut().poll_next(cx) {
                Poll::Ready(Some((index, out))) => {
                    let offset = index - this.done.len();
                    if offset == 0 && this.early.is_empty() {
                        this.done.push(out);
                        continue;
                    }
                    if offset >= this.early.len() {
                        this.early.resize_with(offset + 1, || None);
                    }
                    this.early[offset] = Some(out);
                    while let Some(Some(_)) = this.early.front() {
                        if let Some(Some(next)) = this.early.pop_front() {
                            this.done.push(next);
                        }
                    }
                }
                Poll::Ready(None) => return Poll::Ready(std::mem::take(this.done)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl<I> std::fmt::Debug for GatherLimited<I>
where
    I: Iterator,
    I::Item: Future,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatherLimited")
            .field("done", &self.done.len())
            .field("early", &self.early.iter().filter(|s| s.is_some()).count())
            .finish()
    }
}
