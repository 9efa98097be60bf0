//! Response bodies from a hostile server: decoding gives a value or a typed
//! error, and the size cap holds, never a panic.
#![no_main]

use http::{StatusCode, Uri};
use libfuzzer_sys::fuzz_target;
use volley_core::{ErrorKind, Response, adapter::BodyCollector};

fuzz_target!(|data: &[u8]| {
    let resp = Response::new(StatusCode::OK, Uri::from_static("/x"), data.to_vec());
    if let Err(e) = resp.json::<serde_json::Value>() {
        assert_eq!(e.kind(), ErrorKind::Decode);
    }
    let _ = resp.text();
    let cap = (data.len() / 2) as u64;
    let mut body = match BodyCollector::new(cap, None) {
        Ok(b) => b,
        Err(_) => return,
    };
    let mut refused = false;
    for chunk in data.chunks(7) {
        if body.push(chunk).is_err() {
            refused = true;
            break;
        }
    }
    assert!(body.len() as u64 <= cap);
    assert_eq!(refused, data.len() as u64 > cap);
});
