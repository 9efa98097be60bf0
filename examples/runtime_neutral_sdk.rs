//! Step 7: a tiny API client library written against `volley_core` alone,
//! then driven from tokio, async-std and smol in turn.
//!
//! The `jsonplaceholder` module below names no runtime and no HTTP client:
//! it takes any `Fetcher`. A program picks an adapter and hands it over, so
//! one library serves every runtime with the same output and timings.
//!
//! Run it with `cargo run --release --example runtime_neutral_sdk`.

mod common;

use std::error::Error;
use std::time::Instant;

use common::{Api, ms};
use jsonplaceholder::JsonPlaceholder;
use volley_core::Fetcher;

/// The library: in a real project, its own crate depending on `volley-core`,
/// `serde` and nothing else.
mod jsonplaceholder {
    use serde::Deserialize;
    use volley_core::{Fetcher, Request, Result, gather_limited};

    /// A user record.
    #[derive(Debug, Deserialize)]
    pub struct User {
        /// The user's id.
        pub id: u64,
        /// Full name.
        pub name: String,
        /// Login name.
        pub username: String,
        /// The company the user works for.
        pub company: Company,
    }

    /// A user's company.
    #[derive(Debug, Deserialize)]
    pub struct Company {
        /// Its name.
        pub name: String,
    }

    /// A client for the API, over any fetcher (an adapter's client, with or
    /// without layers such as `.limit(n)` or `.retry(..)`).
    pub struct JsonPlaceholder<F: Fetcher> {
        fetcher: F,
    }

    impl<F: Fetcher> JsonPlaceholder<F> {
        /// Wraps a fetcher whose base URL points at the API.
        pub fn new(fetcher: F) -> Self {
            JsonPlaceholder { fetcher }
        }

        /// One user.
        pub async fn user(&self, id: u64) -> Result<User> {
            let request = Request::get(format!("/users/{id}")).build()?;
            self.fetcher
                .fetch(request)
                .await?
                .error_for_status()?
                .json()
        }

        /// Many users, at most `limit` at once, in the order of `ids`.
        pub async fn users(
            &self,
            ids: impl IntoIterator<Item = u64>,
            limit: usize,
        ) -> Vec<Result<User>> {
            gather_limited(ids.into_iter().map(|id| self.user(id)), limit).await
        }
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let api = Api::from_args()?;
    println!("API: {api}");
    println!("10 users, 5 at a time, through the same library on each runtime:\n");

    tokio::runtime::Runtime::new()?.block_on(async {
        let client = volley_tokio::Client::builder()
            .base_url(api.url())
            .build()?;
        run("tokio", &JsonPlaceholder::new(client)).await
    })?;

    async_std::task::block_on(async {
        let client = volley_async_std::Client::builder()
            .base_url(api.url())
            .build()?;
        run("async-std", &JsonPlaceholder::new(client)).await
    })?;

    smol::block_on(async {
        let client = volley_smol::Client::builder().base_url(api.url()).build()?;
        run("smol", &JsonPlaceholder::new(client)).await
    })?;
    Ok(())
}

/// The program's side: the same calls whatever the runtime.
async fn run<F: Fetcher>(runtime: &str, api: &JsonPlaceholder<F>) -> Result<(), Box<dyn Error>> {
    let start = Instant::now();
    let users = api.users(1..=10, 5).await;
    let elapsed = start.elapsed();
    let users = users.into_iter().collect::<Result<Vec<_>, _>>()?;
    let names: Vec<&str> = users.iter().map(|u| u.username.as_str()).collect();
    println!(
        "{runtime:<9}  {} users in {}: {}",
        users.len(),
        ms(elapsed),
        names.join(", ")
    );
    if let Some(first) = users.first() {
        println!(
            "{runtime:<9}  user {}: {} of {}",
            first.id, first.name, first.company.name
        );
    }
    Ok(())
}
