//! # volley
//!
//! Many HTTP API calls at once, on any async runtime.
//!
//! This facade re-exports [`volley_core`] (the [`Fetcher`] trait, requests,
//! responses, errors, combinators and layers) and the runtime adapters
//! enabled by features:
//!
//! | feature     | module              | runtime and client        |
//! |-------------|---------------------|---------------------------|
//! | `tokio` (default) | [`tokio`](crate::tokio)     | tokio + reqwest      |
//! | `async-std` | `async_std`         | async-std + surf          |
//! | `smol`      | `smol`              | smol + isahc              |
//! | `blocking`  | `blocking`          | no runtime: the sequential baseline |
//! | `redis`     | `redis`             | rates and cool-downs shared by many processes through Redis (any runtime) |
//! | `progress`  | `progress`          | a progress bar with an ETA (indicatif) |
//!
//! Libraries that must run on every runtime depend on `volley-core` alone.
#![forbid(unsafe_code)]

pub use volley_core::*;

/// The tokio adapter (`volley-tokio`).
#[cfg(feature = "tokio")]
pub use volley_tokio as tokio;

/// The async-std adapter (`volley-async-std`).
#[cfg(feature = "async-std")]
pub use volley_async_std as async_std;

/// The smol adapter (`volley-smol`).
#[cfg(feature = "smol")]
pub use volley_smol as smol;

/// The sequential, blocking baseline (`volley-blocking`).
#[cfg(feature = "blocking")]
pub use volley_blocking as blocking;

/// Rates and host cool-downs shared by many processes through Redis
/// (`volley-redis`).
#[cfg(feature = "redis")]
pub use volley_redis as redis;
#[cfg(feature = "progress")]
pub mod progress;

/// Every code block of the README, compiled (and run where it can) as a test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
