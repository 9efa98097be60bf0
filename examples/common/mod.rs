//! What every example shares: where the API is (and a tokio client of it),
//! a `User` record, a way to print times, and a layer that counts requests
//! in flight.
//!
//! By default an example starts `volley-mock` in this process, with 200 ms of
//! latency on every request, so it runs offline and its timings are easy to
//! read. Point it at a real API with the same paths (`/users/{id}`,
//! `/posts/{id}`) instead with an argument or an environment variable:
//!
//! ```text
//! cargo run --release --example gather_users -- --base-url https://jsonplaceholder.typicode.com
//! VOLLEY_BASE_URL=https://jsonplaceholder.typicode.com cargo run --release --example gather_users
//! ```

// Each example uses only part of this module.
#![allow(dead_code)]

use std::error::Error;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Deserialize;
use volley_core::{Fetcher, Request, Response, Result, rt::SharedTimer};
use volley_mock::{MockServer, Stats};

/// The latency the in-process mock adds to every request.
pub const LATENCY: Duration = Duration::from_millis(200);

/// The API an example talks to: the in-process mock, or a URL given by
/// `--base-url URL` or `VOLLEY_BASE_URL`.
pub struct Api {
    url: String,
    mock: Option<MockServer>,
}

impl Api {
    /// Reads `--base-url URL` (or `--base-url=URL`), then `VOLLEY_BASE_URL`;
    /// with neither, starts the mock with [`LATENCY`].
    pub fn from_args() -> std::result::Result<Api, Box<dyn Error>> {
        let mut args = std::env::args().skip(1);
        let mut url = std::env::var("VOLLEY_BASE_URL")
            .ok()
            .filter(|u| !u.is_empty());
        while let Some(arg) = args.next() {
            if let Some(value) = arg.strip_prefix("--base-url=") {
                url = Some(value.to_owned());
            } else if arg == "--base-url" {
                url = Some(args.next().ok_or("--base-url needs a URL")?);
            } else {
                return Err(format!("unknown argument {arg:?} (try --base-url URL)").into());
            }
        }
        match url {
            Some(url) => Ok(Api {
                url: url.trim_end_matches('/').to_owned(),
                mock: None,
            }),
            None => {
                let mock = MockServer::builder().latency(LATENCY).try_start()?;
                Ok(Api {
                    url: mock.url(),
                    mock: Some(mock),
                })
            }
        }
    }

    /// The base URL to give a client.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A volley-tokio client with this API as its base URL, made as in
    /// `first_call.rs`.
    pub fn tokio_client(&self) -> Result<volley_tokio::Client> {
        volley_tokio::Client::builder().base_url(self.url()).build()
    }

    /// The mock's counters, or `None` when talking to an external API.
    pub fn stats(&self) -> Option<Stats> {
        self.mock.as_ref().map(MockServer::stats)
    }

    /// Zeroes the mock's counters (nothing for an external API).
    pub fn reset_stats(&self) {
        if let Some(mock) = &self.mock {
            mock.reset_stats();
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mock {
            Some(_) => write!(
                f,
                "volley-mock at {} ({} ms latency per request)",
                self.url,
                LATENCY.as_millis()
            ),
            None => write!(f, "{}", self.url),
        }
    }
}

/// The part of a `/users/{id}` record the examples print.
#[derive(Debug, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: u64,
    /// Full name.
    pub name: String,
    /// E-mail address.
    pub email: String,
}

impl User {
    /// Prints the user's id and name and how long its request took, e.g.
    /// `user  1: Leanne Graham               203 ms`.
    pub fn print(&self, took: Duration) {
        println!("user {:>2}: {:<26} {:>7}", self.id, self.name, ms(took));
    }
}

/// A duration as whole milliseconds, e.g. `"203 ms"`.
pub fn ms(d: Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// A layer that counts the requests started and in flight on the client
/// side, and the most in flight at once: a `Fetcher` of our own, wrapping
/// any other.
///
/// Clones share the counters, so keep one clone to read them.
#[derive(Clone, Debug)]
pub struct InFlight<F> {
    inner: F,
    counts: Arc<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    started: AtomicUsize,
    now: AtomicUsize,
    max: AtomicUsize,
}

impl<F> InFlight<F> {
    /// Wraps `inner`.
    pub fn new(inner: F) -> Self {
        InFlight {
            inner,
            counts: Arc::default(),
        }
    }

    /// How many requests have been started (sent to the wrapped fetcher).
    pub fn started(&self) -> usize {
        self.counts.started.load(Ordering::Relaxed)
    }

    /// The most requests that were in flight at once.
    pub fn max(&self) -> usize {
        self.counts.max.load(Ordering::Relaxed)
    }
}

impl<F: Fetcher> Fetcher for InFlight<F> {
    async fn fetch(&self, request: Request) -> Result<Response> {
        // This body runs only when the future is first polled.
        self.counts.started.fetch_add(1, Ordering::Relaxed);
        let now = self.counts.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.counts.max.fetch_max(now, Ordering::Relaxed);
        // Count down when the request ends, even if it is dropped half way.
        let _leave = Leave(&self.counts);
        self.inner.fetch(request).await
    }

    fn timer(&self) -> SharedTimer {
        self.inner.timer()
    }
}

struct Leave<'a>(&'a Counts);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::Relaxed);
    }
}
