//! Credentials and form bodies: what `bearer_auth`, `basic_auth` and `form`
//! put on the wire, the same on every adapter.

use volley_core::{Request, RequestBuilder};

use crate::support::raw::{RawServer, Received};
use crate::support::{Adapter, Opts};

/// Sends the request `request` builds for a URL to a server that answers
/// 204, and returns what it read.
fn received(adapter: Adapter, request: impl FnOnce(&str) -> RequestBuilder) -> Received {
    let server = RawServer::respond_always(b"HTTP/1.1 204 No Content\r\n\r\n");
    let session = adapter.session(Opts::new(server.url("")));
    let resp = session
        .send(request(&server.url("/r")).build().unwrap())
        .unwrap();
    assert_eq!(resp.status(), 204);
    let mut sent = server.requests();
    assert_eq!(sent.len(), 1);
    sent.remove(0)
}

fn bearer_auth_arrives_as_an_authorization_header(adapter: Adapter) {
    let got = received(adapter, |url| Request::get(url).bearer_auth("tok-123.abc"));
    assert_eq!(got.all("authorization"), ["Bearer tok-123.abc"]);
}

fn basic_auth_arrives_base64_encoded(adapter: Adapter) {
    for (user, password, expected) in [
        (
            "Aladdin",
            Some("open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
        ),
        ("user", None, "Basic dXNlcjo="),
    ] {
        let got = received(adapter, |url| Request::get(url).basic_auth(user, password));
        assert_eq!(got.all("authorization"), [expected], "{user}:{password:?}");
    }
}

fn a_form_arrives_urlencoded_with_its_content_type(adapter: Adapter) {
    let got = received(adapter, |url| {
        Request::post(url).form(&[("name", "Ada Lovelace"), ("q", "a&b=c"), ("city", "Zürich")])
    });
    assert!(got.line.starts_with("POST /r "), "{}", got.line);
    assert_eq!(
        got.all("content-type"),
        ["application/x-www-form-urlencoded"]
    );
    let body = "name=Ada+Lovelace&q=a%26b%3Dc&city=Z%C3%BCrich";
    assert_eq!(got.body, body.as_bytes());
    assert_eq!(
        got.header("content-length"),
        Some(body.len().to_string().as_str())
    );
}

crate::on_every_adapter!(
    bearer_auth_arrives_as_an_authorization_header,
    basic_auth_arrives_base64_encoded,
    a_form_arrives_urlencoded_with_its_content_type,
);
