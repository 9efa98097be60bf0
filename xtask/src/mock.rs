//! The embedded server: `xtask mock` runs volley-mock in a process of its
//! own, and [`MockProcess`] starts it from `compare`, reads and resets its
//! `/stats`, and stops it when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use volley_core::{Request, RequestBuilder, Response};
use volley_mock::{Arrivals, MockServer, Stats};

use crate::Result;
use crate::cli::MockArgs;
use crate::process::ChildGuard;

/// The first line the server prints, before its URL.
const LISTENING: &str = "volley-mock listening on ";

/// How long `compare` waits for the server to print its URL.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// `xtask mock`: serves until killed (or until stdin closes, with
/// `--exit-on-stdin-eof`).
pub fn run(args: &MockArgs) -> Result<()> {
    let mut builder = MockServer::builder()
        .port(args.port)
        .latency(Duration::from_millis(args.latency_ms));
    if let Some(k) = args.capacity {
        builder = builder.capacity(k);
    }
    let server = builder.try_start()?;
    writeln!(std::io::stdout(), "{LISTENING}{}", server.url())?;
    std::io::stdout().flush()?;
    if !args.exit_on_stdin_eof {
        loop {
            std::thread::park();
        }
    }
    let mut buf = [0u8; 256];
    while matches!(std::io::stdin().read(&mut buf), Ok(n) if n > 0) {}
    Ok(())
}

/// The embedded server, running as `xtask mock` in a child process.
#[derive(Debug)]
pub struct MockProcess {
    // Closed on drop, which also stops the server if the kill fails.
    _stdin: Option<ChildStdin>,
    _guard: ChildGuard,
    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    client: volley_blocking::Client,
}

impl MockProcess {
    /// Starts `exe mock` and waits (at most [`START_TIMEOUT`]) for its URL.
    pub fn start(exe: &Path, latency_ms: u64, capacity: Option<usize>) -> Result<MockProcess> {
        let mut command = Command::new(exe);
        command
            .args(["mock", "--port=0", "--exit-on-stdin-eof"])
            .arg(format!("--latency-ms={latency_ms}"))
            .args(capacity.map(|k| format!("--capacity={k}")))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start the embedded mock server ({exe:?} mock): {e}"))?;
        let mut guard = ChildGuard(child);
        let stdin = guard.0.stdin.take();
        let stdout = guard.0.stdout.take();
        let mut reader = BufReader::new(stdout.ok_or("the embedded mock server has no stdout")?);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            // Ignored error: the caller gave up waiting.
            let _ = tx.send(reader.read_line(&mut line).map(|_| line));
            // Keep draining so the server never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let secs = START_TIMEOUT.as_secs();
        let line = rx
            .recv_timeout(START_TIMEOUT)
            .map_err(|_| format!("the embedded mock server did not print its URL within {secs} s"))?
            .map_err(|e| format!("cannot read the embedded mock server's URL: {e}"))?;
        let line = line.trim();
        let url = line
            .strip_prefix(LISTENING)
            .filter(|url| url.starts_with("http://"));
        let url = url.ok_or_else(|| {
            format!("the embedded mock server printed {line:?} instead of `{LISTENING}http://...`")
        })?;
        let client = volley_blocking::Client::builder().timeout(Duration::from_secs(5));
        Ok(MockProcess {
            _stdin: stdin,
            _guard: guard,
            url: url.to_owned(),
            client: client.build()?,
        })
    }

    /// Zeroes the server's counters (`POST /stats/reset`).
    pub fn reset_stats(&self) -> Result<()> {
        let reset = Request::post(format!("{}/stats/reset", self.url));
        fetch_ok(&self.client, reset).map(drop)
    }

    /// When each request arrived since the last reset (`GET /arrivals`).
    pub fn arrivals(&self) -> Result<Arrivals> {
        Ok(fetch_ok(&self.client, Request::get(format!("{}/arrivals", self.url)))?.json()?)
    }

    /// The server's counters (`GET /stats`).
    pub fn stats(&self) -> Result<Stats> {
        Ok(fetch_ok(&self.client, Request::get(format!("{}/stats", self.url)))?.json()?)
    }
}

/// Sends `request`; an answer other than 2xx is an error.
fn fetch_ok(client: &volley_blocking::Client, request: RequestBuilder) -> Result<Response> {
    Ok(client.fetch(request.build()?)?.error_for_status()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_over_http() {
        let server = MockServer::start();
        let client = volley_blocking::Client::new().expect("client");
        let user =
            fetch_ok(&client, Request::get(format!("{}/users/1", server.url()))).expect("user");
        let body = user.text().expect("text");
        assert!(body.contains("\"id\":1"), "{body}");
        let stats: Stats = fetch_ok(&client, Request::get(format!("{}/stats", server.url())))
            .expect("stats")
            .json()
            .expect("stats JSON");
        assert_eq!(stats.requests, 1);
        fetch_ok(
            &client,
            Request::post(format!("{}/stats/reset", server.url())),
        )
        .expect("reset");
        assert_eq!(server.stats().requests, 0);
        assert!(
            fetch_ok(
                &client,
                Request::get(format!("{}/status/503", server.url()))
            )
            .is_err()
        );
    }
}
