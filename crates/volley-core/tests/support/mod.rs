//! Shared by volley-core's test files: requests, scripted servers and the
//! ways their results are read.
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::time::Duration;

use http::StatusCode;
use volley_core::testing::{InMemoryFetcher, ManualTimer, Reply};
use volley_core::{ErrorKind, Fetcher, Request, Response};

pub const MS: Duration = Duration::from_millis(1);

/// A GET of `url`.
pub fn get(url: impl AsRef<str>) -> Request {
    Request::get(url).build().unwrap()
}

/// On `client`, the fetches of `{prefix}/1` to `{prefix}/n`, not yet polled.
pub fn fetches<F: Fetcher>(
    client: &F,
    prefix: &str,
    n: u64,
) -> impl Iterator<Item = impl Future<Output = volley_core::Result<Response>>> {
    (1..=n).map(move |i| client.fetch(get(format!("{prefix}/{i}"))))
}

/// Each result's error kind, `None` for a response.
pub fn kinds(results: &[volley_core::Result<Response>]) -> Vec<Option<ErrorKind>> {
    results
        .iter()
        .map(|r| r.as_ref().err().map(|e| e.kind()))
        .collect()
}

/// A server that answers its first call `status` with `Retry-After:
/// retry_after`, and every later one 200.
pub fn refuses_once(
    timer: &ManualTimer,
    status: StatusCode,
    retry_after: &'static str,
) -> InMemoryFetcher {
    InMemoryFetcher::new(timer.clone()).script(move |_, call| {
        if call == 1 {
            Reply::status(status, "").header("retry-after", retry_after)
        } else {
            Reply::status(StatusCode::OK, "")
        }
    })
}
