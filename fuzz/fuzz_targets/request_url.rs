//! URLs, query pairs and header values from callers: a typed error or a
//! request with an http(s) URL or a path, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use volley_core::{Request, adapter::Defaults};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(4, '\n');
    let url = parts.next().unwrap_or("");
    let key = parts.next().unwrap_or("");
    let value = parts.next().unwrap_or("");
    let base = parts.next().unwrap_or("");
    let built = Request::get(url)
        .query(&[(key, value)])
        .header("x-fuzz", value)
        .build();
    if let Ok(req) = built {
        let uri = req.url();
        assert!(matches!(uri.scheme_str(), None | Some("http" | "https")));
        if let Ok(defaults) = Defaults::new().base_url(base) {
            if let Ok(resolved) = defaults.apply(req) {
                assert!(resolved.url().scheme().is_some());
            }
        }
    }
});
