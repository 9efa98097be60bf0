//! The conformance suite: one binary, one file per behaviour, each case
//! written once and run on every adapter it applies to.
//!
//! Cases of the shape `fn case(adapter: Adapter)` run on all four adapters
//! (tokio, async-std, smol, blocking) through `on_every_adapter!`, one
//! request at a time; cases that need concurrency, the combinators or the
//! layers are `async fn case(make)` run on the three async adapters through
//! `on_every_async_adapter!`. Servers are volley-mock, in process, for the
//! well-behaved ones and a raw-socket server (`support::raw`) for the hostile
//! bytes volley-mock does not send.
//!
//! A case that does not hold on one adapter is kept, ignored there with the
//! reason (`#[ignore(adapter) = "why"] case` in the macros).
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod bodies;
mod builder;
mod cancellation;
mod compression;
mod connections;
mod early_response;
mod errors;
mod http2;
mod limits;
mod proxies;
mod rate_limit;
mod redirects;
mod request_framing;
mod requests;
mod resend;
mod response_framing;
mod retries;
mod schemes;
mod timeouts;
mod tls;

use std::time::Duration;

use serde_json::Value;
use support::Adapter;
use support::raw::RawServer;
use volley_core::{ErrorKind, Request, Response};

/// A GET of `path`.
fn get(path: impl AsRef<str>) -> Request {
    Request::get(path.as_ref()).build().unwrap()
}

/// The JSON body of a successful response.
fn json_of(result: volley_core::Result<Response>) -> Value {
    result.unwrap().error_for_status().unwrap().json().unwrap()
}

/// The kind of the error a result is, counting an error status as one.
fn kind_of(result: volley_core::Result<Response>) -> Option<ErrorKind> {
    match result {
        Ok(resp) => resp.error_for_status().err().map(|e| e.kind()),
        Err(e) => Some(e.kind()),
    }
}

/// Sends a GET on `adapter` to a raw server that answers it with
/// `response` and closes.
fn answered_with(adapter: Adapter, response: &'static [u8]) -> volley_core::Result<Response> {
    let server = RawServer::respond_once(response);
    adapter.send(
        Request::get(server.url("/r")).build().unwrap(),
        Duration::from_secs(5),
    )
}

/// The error a raw server's `response` (see [`answered_with`]) fails with on
/// `adapter`, checked to be a `Body` error; `what` names the case.
fn body_error(adapter: Adapter, what: &str, response: &'static [u8]) -> volley_core::Error {
    let err = answered_with(adapter, response).expect_err(what);
    assert_eq!(err.kind(), ErrorKind::Body, "{what}: {err}");
    err
}
