//! volley-core's combinators against plain `futures`, on ready futures and
//! on futures that are pending once before they finish.
//!
//! `cargo bench -p volley-core --bench combinators`

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use divan::{Bencher, black_box};
use futures::executor::block_on;
use futures::future::{join_all, ready, try_join_all};
use futures::stream::{self, StreamExt};
use volley_core::{as_completed, gather, gather_limited, try_gather};

fn main() {
    divan::main();
}

const READY: usize = 100_000;
const PENDING: usize = 10_000;
const LIMIT: usize = 64;

/// Pending on its first poll (it wakes itself), ready on the second:
/// the shape of a request that waits once on the network.
struct YieldOnce {
    value: usize,
    yielded: bool,
}

impl Future for YieldOnce {
    type Output = usize;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        if self.yielded {
            Poll::Ready(self.value)
        } else {
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

fn pending(n: usize) -> impl Iterator<Item = YieldOnce> {
    (0..n).map(|value| YieldOnce {
        value,
        yielded: false,
    })
}

fn readies(n: usize) -> impl Iterator<Item = futures::future::Ready<usize>> {
    (0..n).map(ready)
}

mod ordered_all {
    use super::*;

    #[divan::bench]
    fn volley_gather_ready(b: Bencher) {
        b.bench(|| black_box(block_on(gather(readies(READY)))));
    }

    #[divan::bench]
    fn futures_join_all_ready(b: Bencher) {
        b.bench(|| black_box(block_on(join_all(readies(READY)))));
    }

    #[divan::bench]
    fn volley_gather_pending(b: Bencher) {
        b.bench(|| black_box(block_on(gather(pending(PENDING)))));
    }

    #[divan::bench]
    fn futures_join_all_pending(b: Bencher) {
        b.bench(|| black_box(block_on(join_all(pending(PENDING)))));
    }

    #[divan::bench]
    fn volley_try_gather_ready(b: Bencher) {
        b.bench(|| {
            black_box(block_on(try_gather(
                (0..READY).map(|i| ready(Ok::<_, ()>(i))),
            )))
        });
    }

    #[divan::bench]
    fn futures_try_join_all_ready(b: Bencher) {
        b.bench(|| {
            black_box(block_on(try_join_all(
                (0..READY).map(|i| ready(Ok::<_, ()>(i))),
            )))
        });
    }
}

mod limited {
    use super::*;

    #[divan::bench]
    fn volley_gather_limited_ready(b: Bencher) {
        b.bench(|| black_box(block_on(gather_limited(readies(READY), LIMIT))));
    }

    #[divan::bench]
    fn futures_buffered_ready(b: Bencher) {
        b.bench(|| {
            black_box(block_on(
                stream::iter(readies(READY))
                    .buffered(LIMIT)
                    .collect::<Vec<_>>(),
            ))
        });
    }

    #[divan::bench]
    fn volley_gather_limited_pending(b: Bencher) {
        b.bench(|| black_box(block_on(gather_limited(pending(PENDING), LIMIT))));
    }

    #[divan::bench]
    fn futures_buffered_pending(b: Bencher) {
        b.bench(|| {
            black_box(block_on(
                stream::iter(pending(PENDING))
                    .buffered(LIMIT)
                    .collect::<Vec<_>>(),
            ))
        });
    }

    #[divan::bench]
    fn volley_as_completed_pending(b: Bencher) {
        b.bench(|| {
            black_box(block_on(
                as_completed(pending(PENDING), LIMIT).collect::<Vec<_>>(),
            ))
        });
    }

    /// The same with the input index kept, as `as_completed` does.
    #[divan::bench]
    fn futures_buffer_unordered_indexed_pending(b: Bencher) {
        use futures::FutureExt;
        b.bench(|| {
            black_box(block_on(
                stream::iter(
                    pending(PENDING)
                        .enumerate()
                        .map(|(i, f)| f.map(move |out| (i, out))),
                )
                .buffer_unordered(LIMIT)
                .collect::<Vec<_>>(),
            ))
        });
    }

    #[divan::bench]
    fn futures_buffer_unordered_pending(b: Bencher) {
        b.bench(|| {
            black_box(block_on(
                stream::iter(pending(PENDING))
                    .buffer_unordered(LIMIT)
                    .collect::<Vec<_>>(),
            ))
        });
    }
}
