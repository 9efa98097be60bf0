//! The embedded server: `xtask mock` runs volley-mock in its own process,
//! [`MockProcess`] starts it from `compare`, reads its URL and kills it when
//! dropped, and [`http_request`] reads and resets its `/stats`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use volley_mock::{Config, ServerState, Stats};

use crate::Result;
use crate::cli::MockArgs;

/// The first line the server prints, before its URL.
const LISTENING: &str = "volley-mock listening on ";

/// How long `compare` waits for the server to print its URL.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);

/// `xtask mock`: serves until killed (or until stdin closes, with
/// `--exit-on-stdin-eof`).
pub fn run(args: &MockArgs) -> Result<()> {
    volley_mock::raise_fd_limit();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("volley-mock-worker")
        .build()?;
    let config = Config {
        latency: Duration::from_millis(args.latency_ms),
        capacity: args.capacity,
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    // Without --exit-on-stdin-eof the sender is kept here, so the server
    // runs until the process is killed.
    let _keep_running = if args.exit_on_stdin_eof {
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin();
            let mut buf = [0u8; 256];
            while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
            // Ignored error: the server has already stopped.
            let _ = stop_tx.send(());
        });
        None
    } else {
        Some(stop_tx)
    };
    runtime.block_on(async {
        let listener = volley_mock::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port)))?;
        let local = listener.local_addr()?;
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{LISTENING}http://{local}")?;
        stdout.flush()?;
        drop(stdout);
        let state = Arc::new(ServerState::new());
        volley_mock::serve(listener, config, state, async {
            // An error means the sender is gone: stop as well.
            let _ = stop_rx.await;
        })
        .await;
        Ok::<_, std::io::Error>(())
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    Ok(())
}

/// A child process that is killed and reaped when this guard is dropped,
/// whatever path the caller leaves by.
#[derive(Debug)]
pub struct ChildGuard {
    /// The child.
    pub child: Child,
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Ignored errors: the child may have exited already.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The embedded server, running as `xtask mock` in a child process.
#[derive(Debug)]
pub struct MockProcess {
    // Closed on drop, which also stops the server if the kill fails.
    _stdin: Option<ChildStdin>,
    _guard: ChildGuard,
    url: String,
    addr: String,
}

impl MockProcess {
    /// Starts `exe mock` and waits (at most [`START_TIMEOUT`]) for its URL.
    pub fn start(exe: &Path, latency_ms: u64, capacity: Option<usize>) -> Result<MockProcess> {
        let mut command = Command::new(exe);
        command
            .args(["mock", "--port", "0", "--exit-on-stdin-eof", "--latency-ms"])
            .arg(latency_ms.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(k) = capacity {
            command.arg("--capacity").arg(k.to_string());
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start the embedded mock server ({exe:?} mock): {e}"))?;
        let mut guard = ChildGuard { child };
        let stdin = guard.child.stdin.take();
        let stdout = guard
            .child
            .stdout
            .take()
            .ok_or("the embedded mock server has no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let first = reader.read_line(&mut line).map(|_| line);
            // Ignored error: the caller gave up waiting.
            let _ = tx.send(first);
            // Keep draining so the server never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => {
                return Err(format!("cannot read the embedded mock server's URL: {e}").into());
            }
            Err(_) => {
                return Err(format!(
                    "the embedded mock server did not print its URL within {} s",
                    START_TIMEOUT.as_secs()
                )
                .into());
            }
        };
        let url = line
            .trim()
            .strip_prefix(LISTENING)
            .ok_or_else(|| {
                format!(
                    "the embedded mock server printed {:?} instead of `{LISTENING}http://...`",
                    line.trim()
                )
            })?
            .to_owned();
        let addr = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("the embedded mock server's URL is not http: {url}"))?
            .trim_end_matches('/')
            .to_owned();
        Ok(MockProcess {
            _stdin: stdin,
            _guard: guard,
            url,
            addr,
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Zeroes the server's counters (`POST /stats/reset`).
    pub fn reset_stats(&self) -> Result<()> {
        http_request(&self.addr, "POST", "/stats/reset")?;
        Ok(())
    }

    /// The server's counters (`GET /stats`).
    pub fn stats(&self) -> Result<Stats> {
        let body = http_request(&self.addr, "GET", "/stats")?;
        Ok(serde_json::from_str(&body)?)
    }
}

/// One HTTP/1.0 request to `addr` (host:port) with no body; returns the body
/// of a 200 response. HTTP/1.0 keeps the answer simple: no chunks, the body
/// ends when the connection does.
pub fn http_request(addr: &str, method: &str, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{method} {path}: no complete HTTP response"))?;
    let status = head.lines().next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("{method} {path}: {status}").into());
    }
    Ok(body.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_over_raw_http() {
        let server = volley_mock::MockServer::start();
        let addr = server.addr().to_string();
        let body = http_request(&addr, "GET", "/users/1").expect("user");
        assert!(body.contains("\"id\":1"), "{body}");
        let stats: Stats =
            serde_json::from_str(&http_request(&addr, "GET", "/stats").expect("stats"))
                .expect("stats JSON");
        assert_eq!(stats.requests, 1);
        http_request(&addr, "POST", "/stats/reset").expect("reset");
        assert_eq!(server.stats().requests, 0);
        assert!(http_request(&addr, "GET", "/status/503").is_err());
    }
}
