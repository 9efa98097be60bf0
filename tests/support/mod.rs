//! Shared by the root test suites: one way to build a client on every
//! adapter, and one way to run a future on every runtime.
#![allow(dead_code, clippy::unwrap_used)]

use std::future::Future;
use std::time::Duration;

/// Client options the suites vary; every adapter's builder takes the same ones.
#[derive(Clone, Debug, Default)]
pub struct Opts {
    pub base_url: String,
    pub timeout: Option<Duration>,
    pub max_body_bytes: Option<u64>,
    pub header: Option<(&'static str, &'static str)>,
    pub pool_size: Option<usize>,
}

impl Opts {
    pub fn new(base_url: String) -> Self {
        Opts {
            base_url,
            ..Opts::default()
        }
    }
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }
    pub fn max_body_bytes(mut self, n: u64) -> Self {
        self.max_body_bytes = Some(n);
        self
    }
    pub fn pool_size(mut self, n: usize) -> Self {
        self.pool_size = Some(n);
        self
    }
    pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.header = Some((name, value));
        self
    }
}

/// Builds a client of `$client` (a `ClientBuilder`-shaped adapter) from [`Opts`].
#[macro_export]
macro_rules! build_client {
    ($client:ty, $opts:expr) => {{
        let opts: $crate::support::Opts = $opts;
        let mut b = <$client>::builder().base_url(&opts.base_url);
        if let Some(t) = opts.timeout {
            b = b.timeout(t);
        }
        if let Some(n) = opts.max_body_bytes {
            b = b.max_body_bytes(n);
        }
        if let Some((k, v)) = opts.header {
            b = b.default_header(k, v);
        }
        if let Some(n) = opts.pool_size {
            b = b.pool_size(n);
        }
        b.build().expect("client builds")
    }};
}

/// Runs a future to completion on tokio's multi-threaded runtime.
pub fn tokio_block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Runs a future to completion on async-std.
pub fn async_std_block_on<F: Future>(f: F) -> F::Output {
    async_std::task::block_on(f)
}

/// Runs a future to completion on smol.
pub fn smol_block_on<F: Future>(f: F) -> F::Output {
    smol::block_on(f)
}

/// A port on 127.0.0.1 where nothing listens.
pub fn refused_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}
