//! A local JSON API server with latency and fault injection.
//!
//! `volley-mock` stands in for a remote HTTP API so that tests, examples and
//! benchmarks can run offline and reproducibly. It serves jsonplaceholder-style
//! records (`/users/{id}`, `/posts/{id}`), adds a configurable delay to each
//! request without tying up a thread, and has one path per failure mode a
//! client must cope with: error statuses, `429` with `Retry-After` (and a
//! route that answers it once, then counts who did not wait), endpoints
//! that fail a set number of times then recover, malformed JSON, slow and
//! huge bodies, requests that never answer, connections closed without a
//! response, redirects and redirect loops. `/stats` reports connection and
//! request counts, including the largest number of requests in flight at
//! once, which is how a benchmark checks that its calls really ran
//! concurrently.
//!
//! It is built on hyper's server, HTTP/1.1 with keep-alive and HTTP/2 on
//! the same port: a connection that opens with the HTTP/2 preface (h2c
//! with prior knowledge) is served as HTTP/2, any other as HTTP/1.1. On two
//! cores it holds 10,000 concurrent delayed connections and serves tens of
//! thousands of requests per second at zero latency. [`MockServerBuilder::tls`]
//! adds a TLS listener (HTTP/2 or HTTP/1.1, as the client chooses by ALPN)
//! with a self-signed certificate made when it starts.
//!
//! There are three ways to run it:
//!
//! * [`MockServer`]: an in-process handle with its own thread and tokio
//!   runtime, bound to a free port on `127.0.0.1` and stopped on drop. It
//!   works from any test, async or not, on any runtime.
//! * [`serve`]: the server as a future, to run inside a tokio runtime you
//!   already have.
//! * The `volley-mock` binary, for load generators in other processes.
//!
//! # When not to use it
//!
//! It is a test fixture, not a server to expose: it listens on loopback by
//! default, its certificate is self-signed, and it will happily send a gigabyte or
//! hang forever on request. Its records are generated, not stored, and
//! nothing written to it is kept. It measures what a client does to it; it is
//! not a model of any real service's behaviour under load.
//!
//! See [`MockServer`] for an example.

mod body;
mod data;
mod server;
mod stats;
mod tls;

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::oneshot;

pub use server::{Config, bind, serve};
pub use stats::{ARRIVALS_CAP, Arrivals, ServerState, Stats};

/// Raises this process's soft limit on open files to its hard limit, so the
/// server (and a client in the same process) can hold many thousands of
/// connections.
///
/// Returns the new soft limit, or `None` where the limit cannot be read or
/// changed (or on platforms without one). Failing here is not an error: the
/// server then simply holds fewer connections.
pub fn raise_fd_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rlimit::increase_nofile_limit(u64::MAX).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// A mock server running in the background of this process.
///
/// It has its own thread and its own tokio runtime (two worker threads), is
/// bound to `127.0.0.1` on a free port (or the one set with
/// [`MockServerBuilder::port`]), and can be used from synchronous code and
/// from any async runtime.
///
/// Dropping it shuts the server down: it stops accepting, aborts requests
/// still in progress (such as `/hang`), closes every connection and joins its
/// thread.
///
/// # Example
///
/// ```
/// use std::io::{Read, Write};
///
/// # fn main() -> std::io::Result<()> {
/// let server = volley_mock::MockServer::start();
/// assert!(server.url().starts_with("http://127.0.0.1:"));
///
/// // Any HTTP client will do; a raw request keeps the example short.
/// let mut stream = std::net::TcpStream::connect(server.addr())?;
/// stream.write_all(b"GET /users/1 HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n")?;
/// let mut response = String::new();
/// stream.read_to_string(&mut response)?;
/// assert!(response.starts_with("HTTP/1.1 200 OK"));
/// assert!(response.contains(r#""name":"Leanne Graham""#));
///
/// let stats = server.stats();
/// assert_eq!(stats.connections, 1);
/// assert_eq!(stats.requests, 1);
/// assert_eq!(stats.paths["/users/{id}"], 1);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    /// The TLS listener's address and certificate (PEM), when there is one.
    tls: Option<(SocketAddr, String)>,
    state: Arc<ServerState>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Starts a server with the default configuration: a free port, no added
    /// latency, no capacity limit.
    ///
    /// # Panics
    ///
    /// If no socket can be bound on `127.0.0.1` or the runtime cannot be
    /// created; use [`MockServerBuilder::try_start`] to get the error instead.
    pub fn start() -> MockServer {
        MockServer::builder().start()
    }

    /// Starts a server with the default configuration, or says why it could not.
    pub fn try_start() -> io::Result<MockServer> {
        MockServer::builder().try_start()
    }

    /// A builder for a server with latency, a capacity limit or a fixed port.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// The base URL, without a trailing slash, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL of the TLS listener, `https://localhost:PORT`, when the
    /// server was started with [`MockServerBuilder::tls`].
    ///
    /// ```
    /// let server = volley_mock::MockServer::builder().tls().start();
    /// assert!(server.https_url().is_some_and(|url| url.starts_with("https://localhost:")));
    /// assert!(server.certificate_pem().is_some_and(|pem| pem.contains("BEGIN CERTIFICATE")));
    /// assert!(volley_mock::MockServer::start().https_url().is_none());
    /// ```
    pub fn https_url(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|(addr, _)| format!("https://localhost:{}", addr.port()))
    }

    /// The TLS listener's self-signed certificate (for `localhost` and
    /// `127.0.0.1`), PEM, for a client to trust; `None` without
    /// [`MockServerBuilder::tls`].
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|(_, pem)| pem.as_str())
    }

    /// The current counters, read directly (no request is made).
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }

    /// When each request arrived since the start or the last reset, as
    /// `GET /arrivals` returns it.
    pub fn arrivals(&self) -> Arrivals {
        self.state.arrivals()
    }

    /// Zeroes the counters, the `/flaky` attempt counts and the arrivals, and arms
    /// `/cooldown/{id}`'s `429` again, as `POST /stats/reset` does.
    pub fn reset_stats(&self) {
        self.state.reset();
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // Ignored error: the server thread is already gone.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            // Ignored error: a panic on the server thread has already been
            // reported there, and re-raising it in a destructor would abort.
            let _ = thread.join();
        }
    }
}

/// Configures and starts a [`MockServer`].
#[derive(Debug, Clone, Default)]
pub struct MockServerBuilder {
    config: Config,
    port: u16,
    tls: bool,
}

impl MockServerBuilder {
    /// Delay added to every request (except `/stats`) that does not set its
    /// own with `?delay_ms=N`. Default: none.
    pub fn latency(mut self, d: Duration) -> Self {
        self.config.latency = d;
        self
    }

    /// Capacity mode: at most `k` requests are handled at once; any request
    /// beyond that is answered at once with `503`, a JSON error body and
    /// `Retry-After: 1`, and counted in [`Stats::rejected`]. `/stats` is never
    /// limited. Default: no limit.
    pub fn capacity(mut self, k: usize) -> Self {
        self.config.capacity = Some(k);
        self
    }

    /// The port to listen on; `0` (the default) picks a free one.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// A TLS listener as well, on another free port of `127.0.0.1`
    /// ([`MockServer::https_url`]), with a self-signed certificate for
    /// `localhost` and `127.0.0.1` made at start
    /// ([`MockServer::certificate_pem`]). It offers HTTP/2 and HTTP/1.1 by
    /// ALPN, serves the same routes and counts in the same [`Stats`].
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Starts the server.
    ///
    /// # Panics
    ///
    /// If binding `127.0.0.1` fails (for example because the port set with
    /// [`port`](Self::port) is taken) or the runtime cannot be created. Use
    /// [`try_start`](Self::try_start) to handle that instead.
    pub fn start(self) -> MockServer {
        match self.try_start() {
            Ok(server) => server,
            Err(err) => panic!("volley-mock: cannot start the server on 127.0.0.1: {err}"),
        }
    }

    /// Starts the server, or returns why it could not: binding the socket,
    /// making the certificate, creating the runtime or spawning its thread
    /// failed.
    ///
    /// # Errors
    ///
    /// The I/O error from the step that failed.
    pub fn try_start(self) -> io::Result<MockServer> {
        raise_fd_limit();
        let state = Arc::new(ServerState::new());
        let (stop, stopped) = oneshot::channel::<()>();
        type Bound = (SocketAddr, Option<(SocketAddr, String)>);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<io::Result<Bound>>();
        let config = self.config;
        let port = self.port;
        let tls = if self.tls {
            Some(tls::self_signed()?)
        } else {
            None
        };
        let server_state = state.clone();
        // The runtime is created, used and dropped on the server thread only,
        // so starting (or failing to start) from async code is fine.
        let thread = std::thread::Builder::new()
            .name("volley-mock".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("volley-mock-worker")
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        // Ignored error: the caller gave up waiting.
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                let bound = {
                    let _context = runtime.enter();
                    let plain = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
                        .and_then(|listener| Ok((listener.local_addr()?, listener)));
                    plain.and_then(|plain| {
                        let Some(tls) = tls else {
                            return Ok((plain, None));
                        };
                        let listener = bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
                        Ok((plain, Some((listener.local_addr()?, listener, tls))))
                    })
                };
                let (listener, tls) = match bound {
                    Ok(((addr, listener), tls)) => {
                        let tls_addr = tls
                            .as_ref()
                            .map(|(addr, _, tls)| (*addr, tls.certificate_pem.clone()));
                        let _ = ready_tx.send(Ok((addr, tls_addr)));
                        (listener, tls.map(|(_, listener, tls)| (listener, tls)))
                    }
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                runtime.block_on(server::serve_with_tls(
                    listener,
                    tls,
                    config,
                    server_state,
                    stopped,
                ));
                runtime.shutdown_timeout(Duration::from_secs(1));
            })?;
        let started = ready_rx.recv().unwrap_or_else(|_| {
            Err(io::Error::other(
                "the server thread ended before it started",
            ))
        });
        match started {
            Ok((addr, tls)) => Ok(MockServer {
                addr,
                tls,
                state,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Err(err) => {
                // Ignored error: the thread has already reported its failure.
                let _ = thread.join();
                Err(err)
            }
        }
    }
}
