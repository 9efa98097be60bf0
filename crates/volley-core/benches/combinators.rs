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

/// The futures one sample runs: how many, and of which kind.
trait Inputs {
    type Fut: Future<Output = usize>;
    fn futures() -> impl Iterator<Item = Self::Fut>;
}

/// `READY` futures, each ready at once.
struct Ready;

impl Inputs for Ready {
    type Fut = futures::future::Ready<usize>;
    fn futures() -> impl Iterator<Item = Self::Fut> {
        (0..READY).map(ready)
    }
}

/// `PENDING` futures, each pending once.
struct Pending;

impl Inputs for Pending {
    type Fut = YieldOnce;
    fn futures() -> impl Iterator<Item = Self::Fut> {
        (0..PENDING).map(|value| YieldOnce {
            value,
            yielded: false,
        })
    }
}

/// Benches running the future `make` makes to its end on this thread.
fn run<F: Future>(b: Bencher, make: impl Fn() -> F + Sync) {
    b.bench(|| black_box(block_on(make())));
}

mod ordered_all {
    use super::*;

    #[divan::bench(types = [Ready, Pending])]
    fn volley_gather<T: Inputs>(b: Bencher) {
        run(b, || gather(T::futures()));
    }

    #[divan::bench(types = [Ready, Pending])]
    fn futures_join_all<T: Inputs>(b: Bencher) {
        run(b, || join_all(T::futures()));
    }

    #[divan::bench]
    fn volley_try_gather_ready(b: Bencher) {
        run(b, || try_gather((0..READY).map(|i| ready(Ok::<_, ()>(i)))));
    }

    #[divan::bench]
    fn futures_try_join_all_ready(b: Bencher) {
        run(b, || {
            try_join_all((0..READY).map(|i| ready(Ok::<_, ()>(i))))
        });
    }
}

mod limited {
    use super::*;

    #[divan::bench(types = [Ready, Pending])]
    fn volley_gather_limited<T: Inputs>(b: Bencher) {
        run(b, || gather_limited(T::futures(), LIMIT));
    }

    #[divan::bench(types = [Ready, Pending])]
    fn futures_buffered<T: Inputs>(b: Bencher) {
        run(b, || {
            stream::iter(T::futures())
                .buffered(LIMIT)
                .collect::<Vec<_>>()
        });
    }

    #[divan::bench]
    fn volley_as_completed_pending(b: Bencher) {
        run(b, || {
            as_completed(Pending::futures(), LIMIT).collect::<Vec<_>>()
        });
    }

    /// The same with the input index kept, as `as_completed` does.
    #[divan::bench]
    fn futures_buffer_unordered_indexed_pending(b: Bencher) {
        use futures::FutureExt;
        run(b, || {
            stream::iter(
                Pending::futures()
                    .enumerate()
                    .map(|(i, f)| f.map(move |out| (i, out))),
            )
            .buffer_unordered(LIMIT)
            .collect::<Vec<_>>()
        });
    }

    #[divan::bench]
    fn futures_buffer_unordered_pending(b: Bencher) {
        run(b, || {
            stream::iter(Pending::futures())
                .buffer_unordered(LIMIT)
                .collect::<Vec<_>>()
        });
    }
}
