//! The blocking baseline on the part of the conformance suite that applies
//! to a sequential client.
#![allow(clippy::unwrap_used)]

mod support;

use std::time::Duration;

use serde_json::Value;
use support::Opts;
use volley_blocking::Client;
use volley_core::{ErrorKind, Request};
use volley_mock::MockServer;

fn make(opts: Opts) -> Client {
    build_client!(Client, opts)
}

fn get(path: &str) -> Request {
    Request::get(path).build().unwrap()
}

fn kind_of(client: &Client, path: &str) -> Option<ErrorKind> {
    match client.fetch(get(path)) {
        Ok(resp) => resp.error_for_status().err().map(|e| e.kind()),
        Err(e) => Some(e.kind()),
    }
}

#[test]
fn decodes_and_round_trips() {
    let server = MockServer::start();
    let client = make(Opts::new(server.url()).header("x-api-key", "k1"));
    let user: Value = client.fetch(get("/users/4")).unwrap().json().unwrap();
    assert_eq!(user["id"], 4);
    assert!(user["company"]["name"].is_string());
    let body = serde_json::json!({"a": [1, 2]});
    let echo: Value = client
        .fetch(Request::post("/echo").json(&body).build().unwrap())
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["json"], body);
    assert_eq!(echo["headers"]["x-api-key"], "k1");
    assert!(
        echo["headers"]["user-agent"]
            .as_str()
            .unwrap()
            .starts_with("volley/")
    );
}

#[test]
fn reuses_one_connection() {
    let server = MockServer::start();
    let client = make(Opts::new(server.url()));
    for i in 1..=100 {
        let user: Value = client
            .fetch(get(&format!("/users/{i}")))
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(user["id"], i);
    }
    assert_eq!(server.stats().connections, 1);
    assert_eq!(server.stats().max_in_flight, 1, "sequential");
}

#[test]
fn faults_have_their_error_kinds() {
    let server = MockServer::start();
    // Long enough that a loaded machine never turns a slow answer into a
    // timeout; `/hang` gets a short one of its own below.
    let client = make(
        Opts::new(server.url())
            .timeout(Duration::from_secs(10))
            .max_body_bytes(1_000_000),
    );
    assert_eq!(kind_of(&client, "/status/500"), Some(ErrorKind::Status));
    assert_eq!(kind_of(&client, "/ratelimited"), Some(ErrorKind::Status));
    let malformed = client.fetch(get("/malformed")).unwrap();
    assert_eq!(
        malformed.json::<Value>().unwrap_err().kind(),
        ErrorKind::Decode
    );
    let hang = Request::get("/hang")
        .timeout(Duration::from_millis(400))
        .build()
        .unwrap();
    assert_eq!(
        client.fetch(hang).map(|_| ()).map_err(|e| e.kind()),
        Err(ErrorKind::Timeout)
    );
    assert_eq!(kind_of(&client, "/reset"), Some(ErrorKind::Connect));
    assert_eq!(
        kind_of(&client, "/big?bytes=5000000"),
        Some(ErrorKind::TooLarge)
    );
    assert_eq!(
        client.fetch(get("/big?bytes=999")).unwrap().bytes().len(),
        999
    );
    let user: Value = client
        .fetch(get("/redirect?to=/users/5"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(user["id"], 5);
    assert_eq!(
        kind_of(&client, "/redirect-loop"),
        Some(ErrorKind::Redirect)
    );
    let refused = make(Opts::new(support::refused_url()));
    assert_eq!(kind_of(&refused, "/users/1"), Some(ErrorKind::Connect));
}
