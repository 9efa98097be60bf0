//! `Location` headers from a hostile server: a followed redirect or a
//! typed error, never a panic, never a scheme other than http(s).
#![no_main]

use futures::executor::block_on;
use http::header::LOCATION;
use http::{HeaderMap, HeaderValue, StatusCode, Uri};
use libfuzzer_sys::fuzz_target;
use volley_core::{Redirects, Request, Response, adapter::follow_redirects};

fuzz_target!(|data: &[u8]| {
    let Ok(location) = HeaderValue::from_bytes(data) else {
        return;
    };
    let Ok(req) = Request::get("https://origin.test/start").header("authorization", "x").build() else {
        return;
    };
    let mut hops = 0;
    let out = block_on(follow_redirects(&Redirects::default(), req, |r| {
        hops += 1;
        let scheme = r.url().scheme_str().map(str::to_owned);
        let first = hops == 1;
        let location = location.clone();
        async move {
            assert!(matches!(scheme.as_deref(), Some("http" | "https")));
            let mut headers = HeaderMap::new();
            if first {
                headers.insert(LOCATION, location);
                return Ok(Response::new(StatusCode::FOUND, Uri::from_static("/"), "").with_headers(headers));
            }
            Ok(Response::new(StatusCode::OK, Uri::from_static("/"), ""))
        }
    }));
    let _ = out;
});
