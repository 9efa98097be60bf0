//! # volley-redis
//!
//! One request rate, and one cool-down per host, shared by every process
//! that talks to the same Redis (or Valkey) server. volley's own limits live
//! in one process's memory: 40 workers calling an API that allows 200
//! requests a second would send 40 × 200. With a [`SharedRate`] they send
//! 200 between them.
//!
//! - [`SharedRate`]: a GCRA rate limit whose state is one Redis key. One Lua
//!   script, loaded once and called by its SHA (loaded again if the server
//!   forgot it), reserves slots atomically and reads the time from the
//!   server (`TIME`), so the workers' clocks never matter. With
//!   [`lease`](SharedRateBuilder::lease) a process reserves several slots
//!   per round trip.
//! - [`SharedCooldown`]: a 429 or 503 with `Retry-After` seen by one process
//!   pauses that host for all of them; every request checks its host's
//!   pause before it is sent. A `SharedRate` can do both in one round trip
//!   ([`share_cooldowns`](SharedRateBuilder::share_cooldowns)); with a
//!   lease, only the request that makes the round trip checks its host's
//!   pause in Redis (the others honour the pauses this process knows).
//! - Faults are the caller's choice, made when the limiter is built:
//!   [`fail_open`](SharedRateBuilder::fail_open) (each process goes on at
//!   its share of the rate, through volley-core's in-process
//!   [`RateLimit`](volley_core::layer::RateLimit)) or
//!   [`fail_closed`](SharedRateBuilder::fail_closed) (requests wait for
//!   Redis, then fail with a typed [`volley_core::Error`]). Every call to
//!   Redis has a deadline on the fetcher's timer; the switch to the
//!   fallback and the way back are reported once each to
//!   [`Observer::backend_changed`](volley_core::Observer::backend_changed);
//!   Redis is tried again every second (by default) meanwhile. Every
//!   request yields exactly one result either way.
//!
//! The layers are [`SharedLimit`] fetchers, made with `.layer(fetcher)` or
//! [`RedisExt`]. volley-core knows nothing of Redis. The script needs Redis
//! 5 or newer (or any Valkey): it writes after reading `TIME`, which older
//! servers refuse. One key space, not a cluster: the script's two keys may
//! hash to different slots.
//!
//! ## Runtimes
//!
//! The connection is redis-rs's multiplexed connection on its smol
//! support: its socket is driven by async-io's reactor thread and its
//! driver task by smol's global executor, both started on first use, so it
//! works the same under tokio, async-std, smol or any other executor. The
//! layers sleep on the fetcher's own timer.
//!
//! ## When not to use it
//!
//! One process needs none of this: use
//! [`FetcherExt::rate_limit`](volley_core::FetcherExt::rate_limit). A round
//! trip to Redis costs a fraction of a millisecond on the same machine and
//! more across a network, per request (or per leased batch). Redis Cluster
//! is not supported: the script uses two keys that may be in different
//! slots.
//!
//! ## Example
//!
//! ```no_run
//! use std::time::Duration;
//! use volley_core::{Fetcher, FetcherExt, Rate, Request, gather};
//! use volley_redis::{RedisExt, SharedRate};
//!
//! /// Each of the workers runs this with its own client.
//! async fn worker(client: impl Fetcher) -> volley_core::Result<()> {
//!     let quota = SharedRate::builder("redis://127.0.0.1:6379", "quota:api.example.com", Rate::per_second(200.0))?
//!         .share_cooldowns()
//!         .fail_closed(Duration::from_secs(5));
//!     let client = client.limit(50).shared_rate(&quota);
//!     let requests = (1..=1000).map(|id| Request::get(format!("/users/{id}")).build());
//!     let results = gather(requests.map(|r| async { client.fetch(r?).await })).await;
//!     println!("{} done", results.iter().filter(|r| r.is_ok()).count());
//!     Ok(())
//! }
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod backend;
mod cooldown;
mod layer;
mod rate;
mod script;
mod shared;

pub use cooldown::{SharedCooldown, SharedCooldownBuilder};
pub use layer::{RedisExt, SharedLimit};
pub use rate::{SharedRate, SharedRateBuilder};

/// The `redis` crate, for its [`ConnectionInfo`](redis::ConnectionInfo).
pub use redis;
