//! Shared by the root test suites: one way to build a client on every
//! adapter, and one way to run a future on every runtime.
#![allow(dead_code, clippy::unwrap_used)]

pub mod child;
pub mod proxy;
pub mod raw;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use volley_core::{Fetcher, Redirects, Request, Response};

/// Client options the suites vary; every adapter's builder takes the same ones.
#[derive(Clone, Debug, Default)]
pub struct Opts {
    pub base_url: String,
    pub timeout: Option<Duration>,
    pub connect_timeout: Option<Duration>,
    pub max_body_bytes: Option<u64>,
    pub headers: Vec<(&'static str, &'static str)>,
    pub user_agent: Option<&'static str>,
    pub redirects: Option<Redirects>,
    pub pool_size: Option<usize>,
    /// `Some(url)`: `proxy(url)`; `Some("")`: `no_proxy()`.
    pub proxy: Option<String>,
    pub accept_invalid_certs: bool,
    pub decompress: Option<bool>,
    pub http2_prior_knowledge: bool,
    /// PEMs given to `add_root_certificate`, in turn.
    pub root_certificates: Vec<String>,
    pub built_in_roots: Option<bool>,
    /// `(cert_chain_pem, key_pem)` for `identity`.
    pub identity: Option<(String, String)>,
}

/// Setters `name(value)` of [`Opts`] fields that are `Option`s: each sets
/// `Some(value)`.
macro_rules! option_setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty,)*) => {
        $(
            $(#[$doc])*
            pub fn $name(mut self, value: $ty) -> Self {
                self.$name = Some(value);
                self
            }
        )*
    };
}

impl Opts {
    pub fn new(base_url: String) -> Self {
        Opts {
            base_url,
            ..Opts::default()
        }
    }
    option_setters! {
        timeout: Duration,
        connect_timeout: Duration,
        max_body_bytes: u64,
        pool_size: usize,
        user_agent: &'static str,
        redirects: Redirects,
        /// Through the proxy at `url`; an empty `url` means `no_proxy()`.
        proxy: String,
        decompress: bool,
        built_in_roots: bool,
    }
    /// Adds a default header; may be called more than once.
    pub fn header(mut self, name: &'static str, value: &'static str) -> Self {
        self.headers.push((name, value));
        self
    }
    pub fn accept_invalid_certs(mut self) -> Self {
        self.accept_invalid_certs = true;
        self
    }
    pub fn http2_prior_knowledge(mut self) -> Self {
        self.http2_prior_knowledge = true;
        self
    }
    /// Adds a root certificate (PEM); may be called more than once.
    pub fn root_certificate(mut self, pem: impl Into<String>) -> Self {
        self.root_certificates.push(pem.into());
        self
    }
    pub fn identity(
        mut self,
        cert_chain_pem: impl Into<String>,
        key_pem: impl Into<String>,
    ) -> Self {
        self.identity = Some((cert_chain_pem.into(), key_pem.into()));
        self
    }
}

/// For each `field => method`: `builder = builder.method(value)` when
/// `opts.field` is `Some(value)`.
#[doc(hidden)]
#[macro_export]
macro_rules! set_if_some {
    ($builder:ident, $opts:ident, { $($field:ident => $method:ident),* $(,)? }) => {
        $(
            if let Some(value) = $opts.$field {
                $builder = $builder.$method(value);
            }
        )*
    };
}

/// Builds a client of `$client` (a `ClientBuilder`-shaped adapter) from
/// [`Opts`], or the builder's error. An empty `base_url` sets none.
#[macro_export]
macro_rules! try_build_client {
    ($client:ty, $opts:expr) => {{
        let opts: $crate::support::Opts = $opts;
        let mut b = <$client>::builder();
        if !opts.base_url.is_empty() {
            b = b.base_url(&opts.base_url);
        }
        $crate::set_if_some!(b, opts, {
            timeout => timeout,
            connect_timeout => connect_timeout,
            max_body_bytes => max_body_bytes,
            user_agent => user_agent,
            redirects => redirects,
            pool_size => pool_size,
            decompress => decompress,
            built_in_roots => tls_built_in_roots,
        });
        for (k, v) in opts.headers {
            b = b.default_header(k, v);
        }
        match opts.proxy.as_deref() {
            Some("") => b = b.no_proxy(),
            Some(url) => b = b.proxy(url),
            None => {}
        }
        b = b.danger_accept_invalid_certs(opts.accept_invalid_certs);
        if opts.http2_prior_knowledge {
            b = b.http2_prior_knowledge();
        }
        for pem in &opts.root_certificates {
            b = b.add_root_certificate(pem.as_bytes());
        }
        if let Some((chain, key)) = &opts.identity {
            b = b.identity(chain.as_bytes(), key.as_bytes());
        }
        b.build()
    }};
}

/// Builds a client of `$client` (a `ClientBuilder`-shaped adapter) from [`Opts`].
#[macro_export]
macro_rules! build_client {
    ($client:ty, $opts:expr) => {
        $crate::try_build_client!($client, $opts).expect("client builds")
    };
}

/// Invokes `$m!(adapter, Client, block_on)` for each async adapter: `tokio`,
/// `async_std` and `smol`, with its client type and the function that runs
/// a future on its runtime.
#[macro_export]
macro_rules! for_each_async_adapter {
    ($m:ident) => {
        $m!(tokio, volley_tokio::Client, $crate::support::tokio_block_on);
        $m!(
            async_std,
            volley_async_std::Client,
            $crate::support::async_std_block_on
        );
        $m!(smol, volley_smol::Client, $crate::support::smol_block_on);
    };
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

/// Every adapter, for suites that run each case on all four.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Adapter {
    Tokio,
    AsyncStd,
    Smol,
    Blocking,
}

/// A client of one adapter with what it needs to run, driven from
/// synchronous test code one request at a time. Clones share the client
/// (and the runtime), so they can be sent to other threads.
#[derive(Clone)]
pub enum Session {
    Tokio(Arc<tokio::runtime::Runtime>, volley_tokio::Client),
    AsyncStd(volley_async_std::Client),
    Smol(volley_smol::Client),
    Blocking(volley_blocking::Client),
}

/// How many connections a client of `F` may open beyond those it needs:
/// hyper (volley-tokio) puts a connection back in its pool from a task of
/// its own, after the response has reached the caller, and a request sent
/// in that instant opens another (2 or 3 for 100 sequential requests on a
/// loaded machine). Every other adapter reuses at once.
pub fn late_pool_returns<F: 'static>() -> u64 {
    if std::any::TypeId::of::<F>() == std::any::TypeId::of::<volley_tokio::Client>() {
        3
    } else {
        0
    }
}

impl Adapter {
    /// [`late_pool_returns`] of this adapter's client.
    pub fn late_pool_returns(self) -> u64 {
        match self {
            Adapter::Tokio => late_pool_returns::<volley_tokio::Client>(),
            _ => 0,
        }
    }

    /// A client of this adapter built from `opts`.
    pub fn session(self, opts: Opts) -> Session {
        self.try_session(opts).expect("client builds")
    }

    /// A client of this adapter built from `opts`, or the builder's error.
    pub fn try_session(self, opts: Opts) -> volley_core::Result<Session> {
        Ok(match self {
            Adapter::Tokio => Session::Tokio(
                Arc::new(
                    tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .expect("tokio runtime"),
                ),
                try_build_client!(volley_tokio::Client, opts)?,
            ),
            Adapter::AsyncStd => {
                Session::AsyncStd(try_build_client!(volley_async_std::Client, opts)?)
            }
            Adapter::Smol => Session::Smol(try_build_client!(volley_smol::Client, opts)?),
            Adapter::Blocking => {
                Session::Blocking(try_build_client!(volley_blocking::Client, opts)?)
            }
        })
    }

    /// A new volley-mock server and a client of this adapter with the
    /// server's URL as its base.
    pub fn mock_session(self) -> (volley_mock::MockServer, Session) {
        self.mock_session_with(|opts| opts)
    }

    /// A new volley-mock server and a client of this adapter built from
    /// what `opts` makes of the options with the server's URL as base.
    pub fn mock_session_with(
        self,
        opts: impl FnOnce(Opts) -> Opts,
    ) -> (volley_mock::MockServer, Session) {
        let server = volley_mock::MockServer::start();
        let session = self.session(opts(Opts::new(server.url())));
        (server, session)
    }

    /// Sends one request on a new client with `timeout`.
    pub fn send(self, request: Request, timeout: Duration) -> volley_core::Result<Response> {
        self.session(Opts::new("http://127.0.0.1:9".into()).timeout(timeout))
            .send(request)
    }
}

impl Session {
    /// Sends `request` and waits for its result.
    pub fn send(&self, request: Request) -> volley_core::Result<Response> {
        match self {
            Session::Tokio(rt, client) => rt.block_on(client.fetch(request)),
            Session::AsyncStd(client) => async_std_block_on(client.fetch(request)),
            Session::Smol(client) => smol_block_on(client.fetch(request)),
            Session::Blocking(client) => client.fetch(request),
        }
    }

    /// Sends a GET of `path` and waits for its result.
    pub fn get(&self, path: &str) -> volley_core::Result<Response> {
        self.send(Request::get(path).build()?)
    }
}

/// Generates, for each case `name(adapter: Adapter)`, a module `name` with
/// one test per adapter: `tokio`, `async_std`, `smol` and `blocking`. A case
/// that does not hold on one adapter yet is kept and ignored there with the
/// reason, written on the case:
/// `on_every_adapter!(case_a, #[ignore(smol) = "why"] case_b);`.
#[macro_export]
macro_rules! on_every_adapter {
    (@one $case:ident, [$($tokio:tt)*], [$($async_std:tt)*], [$($smol:tt)*], [$($blocking:tt)*]) => {
        mod $case {
            use $crate::support::Adapter;
            #[test] $($tokio)*
            fn tokio() { super::$case(Adapter::Tokio) }
            #[test] $($async_std)*
            fn async_std() { super::$case(Adapter::AsyncStd) }
            #[test] $($smol)*
            fn smol() { super::$case(Adapter::Smol) }
            #[test] $($blocking)*
            fn blocking() { super::$case(Adapter::Blocking) }
        }
    };
    (@case $case:ident) => {
        $crate::on_every_adapter!(@one $case, [], [], [], []);
    };
    (@case $case:ident, tokio = $why:literal) => {
        $crate::on_every_adapter!(@one $case, [#[ignore = $why]], [], [], []);
    };
    (@case $case:ident, async_std = $why:literal) => {
        $crate::on_every_adapter!(@one $case, [], [#[ignore = $why]], [], []);
    };
    (@case $case:ident, smol = $why:literal) => {
        $crate::on_every_adapter!(@one $case, [], [], [#[ignore = $why]], []);
    };
    (@case $case:ident, blocking = $why:literal) => {
        $crate::on_every_adapter!(@one $case, [], [], [], [#[ignore = $why]]);
    };
    ($($(#[ignore($adapter:ident) = $why:literal])? $case:ident),* $(,)?) => {
        $( $crate::on_every_adapter!(@case $case $(, $adapter = $why)?); )*
    };
}

/// Generates, for each case `name<F: Fetcher>(make: fn(Opts) -> F)` (an
/// async fn), a module `name` with one test per async adapter, each run on
/// its runtime: `tokio`, `async_std` and `smol`. As with
/// [`on_every_adapter!`], `#[ignore(smol) = "why"] case` keeps a case that
/// does not hold there yet.
#[macro_export]
macro_rules! on_every_async_adapter {
    (@one $case:ident, [$($tokio:tt)*], [$($async_std:tt)*], [$($smol:tt)*]) => {
        mod $case {
            use $crate::support::{Opts, async_std_block_on, smol_block_on, tokio_block_on};
            fn tokio_client(opts: Opts) -> volley_tokio::Client {
                $crate::build_client!(volley_tokio::Client, opts)
            }
            fn async_std_client(opts: Opts) -> volley_async_std::Client {
                $crate::build_client!(volley_async_std::Client, opts)
            }
            fn smol_client(opts: Opts) -> volley_smol::Client {
                $crate::build_client!(volley_smol::Client, opts)
            }
            #[test] $($tokio)*
            fn tokio() { tokio_block_on(super::$case(tokio_client)) }
            #[test] $($async_std)*
            fn async_std() { async_std_block_on(super::$case(async_std_client)) }
            #[test] $($smol)*
            fn smol() { smol_block_on(super::$case(smol_client)) }
        }
    };
    (@case $case:ident) => {
        $crate::on_every_async_adapter!(@one $case, [], [], []);
    };
    (@case $case:ident, tokio = $why:literal) => {
        $crate::on_every_async_adapter!(@one $case, [#[ignore = $why]], [], []);
    };
    (@case $case:ident, async_std = $why:literal) => {
        $crate::on_every_async_adapter!(@one $case, [], [#[ignore = $why]], []);
    };
    (@case $case:ident, smol = $why:literal) => {
        $crate::on_every_async_adapter!(@one $case, [], [], [#[ignore = $why]]);
    };
    ($($(#[ignore($adapter:ident) = $why:literal])? $case:ident),* $(,)?) => {
        $( $crate::on_every_async_adapter!(@case $case $(, $adapter = $why)?); )*
    };
}
