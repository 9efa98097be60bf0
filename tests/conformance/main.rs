//! One behaviour on every adapter off the happy path: each case runs on
//! tokio, async-std, smol and blocking against a raw-socket server
//! (`support::raw`) that writes the hostile bytes on purpose.
#![allow(clippy::unwrap_used)]

#[path = "../support/mod.rs"]
mod support;

mod cancellation;
mod early_response;
mod request_framing;
mod resend;
mod response_framing;
mod schemes;
