//! The environment's proxies, read once by volley-core and applied the same
//! way on every adapter (no client reads the environment on its own). The
//! variables are set for a child process running this binary's
//! `in_the_environment` test, so no other test sees them.
#![allow(clippy::unwrap_used)]

mod support;

use std::process::Command;
use std::time::Duration;

use support::proxy::ProxyServer;
use support::{Adapter, Opts};
use volley_mock::MockServer;

const ADAPTERS: [Adapter; 4] = [
    Adapter::Tokio,
    Adapter::AsyncStd,
    Adapter::Smol,
    Adapter::Blocking,
];

/// Runs `in_the_environment` in a child with `vars` set (`{proxy}` in a
/// value is the proxy's URL) and the addresses of a new origin and proxy
/// passed along; returns the origin and what the proxy saw, a line a
/// request (see [`lines`]).
fn run_child(vars: &[(&str, &str)]) -> (MockServer, Vec<String>) {
    let origin = MockServer::start();
    let proxy = ProxyServer::start();
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["in_the_environment", "--exact", "--ignored", "--nocapture"])
        .env("VOLLEY_TEST_ORIGIN", origin.url());
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "REQUEST_METHOD",
    ] {
        child.env_remove(name);
    }
    for (name, value) in vars {
        child.env(name, value.replace("{proxy}", &proxy.url(None)));
    }
    let out = child.output().unwrap();
    assert!(
        out.status.success(),
        "child failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (origin, lines(&proxy))
}

/// In the child: each adapter, built with the defaults (and once with
/// `no_proxy()`), gets the origin's `/users/1`.
#[test]
#[ignore = "run by the tests of this file in a child process, with proxy variables set"]
fn in_the_environment() {
    let origin = std::env::var("VOLLEY_TEST_ORIGIN").unwrap();
    for adapter in ADAPTERS {
        let opts = Opts::new(origin.clone()).timeout(Duration::from_secs(10));
        let session = adapter.session(opts.clone());
        let resp = session.get("/users/1").unwrap();
        assert_eq!(resp.status(), 200, "{adapter:?}");
        let direct = adapter.session(opts.proxy(String::new()));
        assert_eq!(direct.get("/users/2").unwrap().status(), 200, "{adapter:?}");
    }
}

fn lines(proxy: &ProxyServer) -> Vec<String> {
    proxy
        .seen()
        .iter()
        .map(|s| format!("{} {}", s.method, s.target))
        .collect()
}

#[test]
fn http_proxy_is_used_by_every_adapter_and_no_proxy_goes_direct() {
    let (origin, seen) = run_child(&[("http_proxy", "{proxy}")]);
    // Four adapters, one request each through the proxy; the no_proxy()
    // clients went direct. ureq tunnels plain http.
    let authority = origin.url().trim_start_matches("http://").to_string();
    let absolute = format!("GET {}/users/1", origin.url());
    assert_eq!(
        seen.iter().filter(|l| **l == absolute).count(),
        3,
        "{seen:?}"
    );
    assert_eq!(
        seen.iter()
            .filter(|l| **l == format!("CONNECT {authority}"))
            .count(),
        1,
        "{seen:?}"
    );
    assert!(seen.iter().all(|l| !l.contains("/users/2")), "{seen:?}");
}

#[test]
fn hosts_in_no_proxy_go_direct_on_every_adapter() {
    let (_, seen) = run_child(&[
        ("HTTP_PROXY", "{proxy}"),
        ("NO_PROXY", "localhost, 127.0.0.1"),
    ]);
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn upper_case_http_proxy_is_ignored_in_a_cgi_script() {
    let (_, seen) = run_child(&[("HTTP_PROXY", "{proxy}"), ("REQUEST_METHOD", "GET")]);
    assert!(seen.is_empty(), "{seen:?}");
}

#[test]
fn all_proxy_serves_plain_http_when_http_proxy_is_unset() {
    let (_, seen) = run_child(&[("ALL_PROXY", "{proxy}"), ("http_proxy", " ")]);
    assert_eq!(seen.len(), 4, "{seen:?}");
}

#[test]
fn https_proxy_alone_leaves_plain_http_direct() {
    let (_, seen) = run_child(&[("HTTPS_PROXY", "{proxy}")]);
    assert!(seen.is_empty(), "{seen:?}");
}
