//! What a request carries reaches the server as it was built: JSON and raw
//! bodies, methods, the base URL, default headers and the user agent; and
//! what comes back decodes.

use serde_json::{Value, json};
use volley_core::Request;
use volley_mock::MockServer;

use crate::support::{Adapter, Opts};
use crate::{get, json_of};

fn decodes_users_and_posts(adapter: Adapter) {
    let (server, session) = adapter.mock_session();
    let resp = session.get("/users/3").unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.url().to_string(), format!("{}/users/3", server.url()));
    let content_type = resp.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let user: Value = resp.json().unwrap();
    assert_eq!(user["id"], 3);
    assert!(
        user["name"].is_string() && user["email"].is_string(),
        "{user}"
    );
    assert!(user["address"]["geo"]["lat"].is_string(), "{user}");
    assert!(user["company"]["name"].is_string(), "{user}");
    let post = json_of(session.get("/posts/7"));
    assert_eq!(post["id"], 7);
    assert!(post["userId"].is_number() && post["title"].is_string() && post["body"].is_string());
}

fn post_json_round_trips(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    let body = json!({"title": "volley", "tags": ["a", "b"], "n": 42});
    let req = Request::post("/echo?x=1").json(&body).build().unwrap();
    let echo = json_of(session.send(req));
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "x=1");
    assert_eq!(echo["json"], body);
    assert_eq!(echo["headers"]["content-type"], "application/json");
    assert_eq!(
        echo["headers"]["content-length"],
        serde_json::to_vec(&body).unwrap().len().to_string()
    );
    assert!(echo["headers"].get("expect").is_none(), "{echo}");
}

/// A POST with no body still says so.
fn an_empty_post_says_content_length_zero(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    let echo = json_of(session.send(Request::post("/echo").build().unwrap()));
    assert_eq!(echo["body"], "");
    assert_eq!(echo["headers"]["content-length"], "0", "{echo}");
}

fn other_methods_and_raw_bodies_go_through_unchanged(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    for method in ["PUT", "PATCH", "DELETE"] {
        let req = Request::builder(method, "/echo")
            .body("raw bytes")
            .build()
            .unwrap();
        let echo = json_of(session.send(req));
        assert_eq!(echo["method"], method);
        assert_eq!(echo["body"], "raw bytes");
        assert!(echo["headers"].get("content-type").is_none(), "{echo}");
    }
    let echo = json_of(session.send(Request::builder("DELETE", "/echo").build().unwrap()));
    assert_eq!(echo["method"], "DELETE");
    assert_eq!(echo["body"], "");
}

fn an_extension_method_reaches_the_server(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    let echo = json_of(session.send(Request::builder("PURGE", "/echo").build().unwrap()));
    assert_eq!(echo["method"], "PURGE");
}

fn base_url_default_headers_and_user_agent_reach_the_server(adapter: Adapter) {
    let server = MockServer::start();
    let session = adapter.session(
        Opts::new(format!("{}/", server.url()))
            .header("x-api-key", "secret")
            .header("x-overridden", "default"),
    );
    let req = Request::get("/echo")
        .query(&[("q", "a b")])
        .header("x-overridden", "mine")
        .header("x-multi", "one")
        .header("x-multi", "two")
        .build()
        .unwrap();
    let echo = json_of(session.send(req));
    assert_eq!(echo["method"], "GET");
    assert_eq!(echo["path"], "/echo");
    assert_eq!(echo["query"], "q=a+b");
    let headers = &echo["headers"];
    assert_eq!(headers["x-api-key"], "secret");
    // A request's own header wins over the default.
    assert_eq!(headers["x-overridden"], "mine");
    assert_eq!(headers["x-multi"], "one, two");
    let ua = headers["user-agent"].as_str().unwrap();
    assert!(ua.starts_with("volley/"), "{ua}");
    assert_eq!(ua, volley_core::USER_AGENT);
    // Compression is asked for once, in volley-core's words, never the
    // adapter's client's (see compression.rs).
    assert_eq!(headers["accept-encoding"], "gzip, br", "{echo}");
    // An absolute URL ignores the base.
    let abs = format!("{}/users/2", server.url());
    assert_eq!(json_of(session.send(get(abs)))["id"], 2);
}

fn a_custom_user_agent_is_sent_unless_a_request_sets_its_own(adapter: Adapter) {
    let (_server, session) = adapter.mock_session_with(|opts| opts.user_agent("my-app/1.0"));
    let echo = json_of(session.get("/echo"));
    assert_eq!(echo["headers"]["user-agent"], "my-app/1.0");
    let req = Request::get("/echo")
        .header("user-agent", "per-request/1")
        .build()
        .unwrap();
    let echo = json_of(session.send(req));
    assert_eq!(echo["headers"]["user-agent"], "per-request/1");
}

crate::on_every_adapter!(
    decodes_users_and_posts,
    post_json_round_trips,
    other_methods_and_raw_bodies_go_through_unchanged,
    base_url_default_headers_and_user_agent_reach_the_server,
    a_custom_user_agent_is_sent_unless_a_request_sets_its_own,
    an_extension_method_reaches_the_server,
    #[ignore(smol) = "volley-smol sends a body-less POST with an empty chunked body (Transfer-Encoding: chunked, no Content-Length), so that libcurl cannot send it again on a fresh connection"]
    an_empty_post_says_content_length_zero,
);
