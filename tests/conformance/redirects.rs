//! Redirects are followed by volley's rules on every adapter: up to the
//! policy's maximum, a loop is a `Redirect` error, and `Redirects::none()`
//! hands the 3xx back as it is. (Redirects to other schemes: `schemes.rs`.)

use volley_core::{ErrorKind, Redirects};

use crate::support::{Adapter, Opts};

fn redirects_are_followed_by_volley_rules(adapter: Adapter) {
    let (server, session) = adapter.mock_session();
    let resp = session.get("/redirect?to=/users/2").unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().path(), "/users/2");
    assert_eq!(resp.json::<serde_json::Value>().unwrap()["id"], 2);

    let err = session.get("/redirect-loop").expect_err("loop");
    assert_eq!(err.kind(), ErrorKind::Redirect, "{err}");

    let manual = adapter.session(Opts::new(server.url()).redirects(Redirects::none()));
    let resp = manual.get("/redirect?to=/users/2").unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/users/2");
}

crate::on_every_adapter!(redirects_are_followed_by_volley_rules);
