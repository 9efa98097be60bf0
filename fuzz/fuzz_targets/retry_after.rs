//! `Retry-After` values from a hostile server: any text, never a panic.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let _ = volley_core::layer::parse_retry_after(text, now);
    }
});
