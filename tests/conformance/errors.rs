//! Every way a request fails has its `ErrorKind`, the same on every
//! adapter: an error status (only when asked), a body that is not the JSON
//! asked for, a refused or reset connection, a server that closes or sends
//! garbage, a failed TLS handshake, a request that cannot be sent at all.

use std::time::Duration;

use serde_json::Value;
use volley_core::{ErrorKind, Request};
use volley_mock::MockServer;

use crate::support::raw::RawServer;
use crate::support::{self, Adapter, Opts};
use crate::{get, kind_of};

fn error_statuses_are_ok_until_asked(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    assert_eq!(kind_of(session.get("/status/404")), Some(ErrorKind::Status));

    let resp = session
        .get("/status/503")
        .expect("a 503 is still a response");
    assert_eq!(resp.status(), 503);
    let err = resp.error_for_status().expect_err("503 is an error status");
    assert_eq!(err.kind(), ErrorKind::Status);
    assert_eq!(err.status().map(|s| s.as_u16()), Some(503));
    assert_eq!(err.url().map(|u| u.path()), Some("/status/503"));
    assert!(err.to_string().contains("/status/503"), "{err}");

    let resp = session.get("/ratelimited?retry_after=7").unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["retry-after"], "7");

    let flaky = format!("/flaky?fail=2&key=k{}", fastrand::u64(..));
    assert_eq!(kind_of(session.get(&flaky)), Some(ErrorKind::Status));
    assert_eq!(kind_of(session.get(&flaky)), Some(ErrorKind::Status));
    assert_eq!(kind_of(session.get(&flaky)), None);
}

fn malformed_json_is_a_decode_error(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    let resp = session.get("/malformed").unwrap();
    let err = resp.json::<Value>().expect_err("truncated JSON");
    assert_eq!(err.kind(), ErrorKind::Decode);
}

fn a_refused_connection_is_connect(adapter: Adapter) {
    let session = adapter.session(Opts::new(String::new()).timeout(Duration::from_secs(5)));
    let url = format!("{}/users/1", support::refused_url());
    let err = session.get(&url).expect_err("refused");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert_eq!(err.url().map(ToString::to_string), Some(url));
}

fn a_refused_connection_says_so(adapter: Adapter) {
    let session =
        adapter.session(Opts::new(support::refused_url()).timeout(Duration::from_secs(5)));
    let err = session.get("/users/1").expect_err("refused");
    assert!(err.to_string().contains("refused"), "{err}");
}

fn a_reset_before_the_response_is_connect(adapter: Adapter) {
    let (_server, session) = adapter.mock_session();
    let err = session.get("/reset").expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    // Also on a connection taken from the pool.
    assert_eq!(session.get("/users/1").unwrap().status(), 200);
    let err = session.get("/reset").expect_err("reset");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
    assert_eq!(session.get("/users/1").expect("still works").status(), 200);
}

fn a_close_with_no_response_is_connect(adapter: Adapter) {
    let server = RawServer::start(|conn| {
        conn.read_request();
    });
    let err = adapter
        .send(get(server.url("/")), Duration::from_secs(5))
        .expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
}

fn garbage_instead_of_a_response_is_other(adapter: Adapter) {
    let server = RawServer::respond_once(b"SSH-2.0-OpenSSH_9.0\r\n\r\n");
    let err = adapter
        .send(get(server.url("/")), Duration::from_secs(5))
        .expect_err("not HTTP");
    assert_eq!(err.kind(), ErrorKind::Other, "{err}");
}

fn a_failed_tls_handshake_is_connect(adapter: Adapter) {
    // The mock speaks plain HTTP, so a TLS client hello gets no TLS answer.
    let server = MockServer::start();
    let session = adapter.session(
        Opts::new(server.url().replace("http://", "https://")).timeout(Duration::from_secs(5)),
    );
    let err = session.get("/users/1").expect_err("not TLS");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err}");
}

fn invalid_requests_are_refused_before_sending(adapter: Adapter) {
    let session = adapter.session(Opts::new(String::new()));
    let err = session.get("/users/1").expect_err("no base URL");
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    let bad = Request::get("/x").header("x-a", "a\r\nb: c").build();
    assert_eq!(bad.unwrap_err().kind(), ErrorKind::InvalidRequest);
    let ftp = Request::get("ftp://127.0.0.1/x").build();
    assert_eq!(ftp.unwrap_err().kind(), ErrorKind::InvalidRequest);
}

crate::on_every_adapter!(
    error_statuses_are_ok_until_asked,
    malformed_json_is_a_decode_error,
    a_refused_connection_is_connect,
    a_reset_before_the_response_is_connect,
    a_close_with_no_response_is_connect,
    garbage_instead_of_a_response_is_other,
    invalid_requests_are_refused_before_sending,
    a_failed_tls_handshake_is_connect,
    #[ignore(smol) = "isahc reports a refused connect as libcurl's CURLE_COULDNT_CONNECT: the error reads 'the connection could not be made: failed to connect to the server', never 'refused'"]
    a_refused_connection_says_so,
);
