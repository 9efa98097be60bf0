//! Every public future and stream is `Send` when its inputs are, so it can be
//! spawned on a multi-threaded runtime.
#![allow(clippy::unwrap_used)]

use volley_core::testing::{InMemoryFetcher, ManualTimer};
use volley_core::{
    BoxFetcher, Fetcher, FetcherExt, Request, as_completed, gather, gather_limited, try_gather,
};

fn assert_send<T: Send>(_: &T) {}
fn assert_sync<T: Sync>(_: &T) {}

async fn send_future() -> volley_core::Result<()> {
    Ok(())
}

#[test]
fn combinators_are_send() {
    assert_send(&gather([send_future()]));
    assert_send(&try_gather([send_future()]));
    assert_send(&gather_limited([send_future()], 2));
    assert_send(&as_completed([send_future()], 2));
}

#[test]
fn layered_fetchers_and_their_futures_are_send_and_sync() {
    let fetcher = InMemoryFetcher::new(ManualTimer::new())
        .timeout(std::time::Duration::from_secs(1))
        .limit(4);
    assert_send(&fetcher);
    assert_sync(&fetcher);
    let req = Request::get("/x").build().unwrap();
    assert_send(&fetcher.fetch(req.clone()));
    let boxed: BoxFetcher = fetcher.boxed();
    assert_send(&boxed.fetch(req));
}
