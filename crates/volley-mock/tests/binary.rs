//! The `volley-mock` binary announces its address on its first line and serves.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use support::exchange;

mod support;

#[test]
fn first_line_announces_the_url() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_volley-mock"))
        .args(["--port", "0", "--latency-ms", "50", "--threads", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut first = String::new();
    BufReader::new(stdout)
        .read_line(&mut first)
        .expect("first line");
    let result = std::panic::catch_unwind(|| {
        let addr = first
            .trim_end()
            .strip_prefix("volley-mock listening on http://127.0.0.1:")
            .unwrap_or_else(|| panic!("unexpected first line {first:?}"));
        let port: u16 = addr.parse().expect("port number");
        assert_ne!(port, 0);

        let request = b"GET /posts/1 HTTP/1.1\r\nHost: mock\r\nConnection: close\r\n\r\n";
        let response =
            exchange(("127.0.0.1", port), request, Duration::from_secs(10)).expect("read");
        let response = String::from_utf8(response).expect("UTF-8");
        assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
        assert!(response.contains(r#""userId":1"#), "{response}");
    });
    // Ignored errors: the child may already be gone.
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}
