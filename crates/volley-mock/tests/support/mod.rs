//! Shared by volley-mock's test files: the clients that talk to the server.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// reqwest's builder. In the workspace, reqwest's features include
/// `rustls-no-provider` (volley-tokio's), so a crypto provider is installed
/// first.
pub fn builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

/// A reqwest client whose requests time out after `timeout`.
pub fn client_timing_out(timeout: Duration) -> reqwest::Client {
    builder().timeout(timeout).build().expect("client builds")
}

/// Writes the raw `request` on a new connection to `addr` and reads what
/// comes back until the server closes, each read waiting `timeout` at most.
pub fn exchange(
    addr: impl ToSocketAddrs,
    request: &[u8],
    timeout: Duration,
) -> std::io::Result<Vec<u8>> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(timeout)).expect("timeout");
    stream.write_all(request).expect("write");
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    Ok(received)
}
