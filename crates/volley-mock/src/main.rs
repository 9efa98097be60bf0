//! The `volley-mock` binary: runs the mock server until interrupted.
//!
//! The first line on stdout is `volley-mock listening on http://HOST:PORT`,
//! flushed at once, so other tools can start it with `--port 0` and read the
//! port it got.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use volley_mock::{Config, ServerState};

/// Local JSON API server with latency and fault injection.
#[derive(Debug, Parser)]
#[command(name = "volley-mock", version, about)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Delay added to every request, in milliseconds (a request's own
    /// `?delay_ms=N` overrides it).
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Capacity mode: handle at most K requests at once and answer the rest
    /// with 503 and `Retry-After: 1`.
    #[arg(long, value_name = "K")]
    capacity: Option<usize>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Runtime worker threads (default: one per CPU).
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("volley-mock: {err}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> std::io::Result<()> {
    volley_mock::raise_fd_limit();
    let addr = resolve(&args.host, args.port)?;
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all().thread_name("volley-mock-worker");
    if let Some(threads) = args.threads {
        runtime.worker_threads(threads.max(1));
    }
    let runtime = runtime.build()?;
    let config = Config {
        latency: Duration::from_millis(args.latency_ms),
        capacity: args.capacity,
    };
    runtime.block_on(async {
        let listener = volley_mock::bind(addr)?;
        let local = listener.local_addr()?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "volley-mock listening on http://{local}")?;
        stdout.flush()?;
        drop(stdout);
        let state = Arc::new(ServerState::new());
        volley_mock::serve(listener, config, state, stop_signal()).await;
        Ok::<_, std::io::Error>(())
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// The first address `host` resolves to, with `port`.
fn resolve(host: &str, port: u16) -> std::io::Result<SocketAddr> {
    (host, port).to_socket_addrs()?.next().ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("host {host:?} resolves to no address"),
        )
    })
}

/// Completes on Ctrl-C (SIGINT) or, on Unix, SIGTERM.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No signal handling available: run until killed.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut sig) => {
                sig.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
