//! Bodies that volley-mock does not send: endless chunked, truncated and
//! close-delimited, from a one-connection raw TCP server on loopback.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use volley_core::{ErrorKind, Fetcher, Request};
use volley_smol::Client;

/// Serves one connection with `respond` (after reading the request head) and
/// returns the URL and the thread, whose result is what `respond` returned.
fn serve_once<T, F>(respond: F) -> (String, JoinHandle<T>)
where
    T: Send + 'static,
    F: FnOnce(&mut TcpStream) -> T + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let thread = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if line == "\r\n" {
                break;
            }
            line.clear();
        }
        respond(&mut stream)
    });
    (url, thread)
}

fn client(max_body: u64) -> Client {
    Client::builder()
        .max_body_bytes(max_body)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[test]
fn endless_chunked_body_stops_at_the_cap() {
    const LIMIT: usize = 200 * 1024 * 1024;
    let (url, server) = serve_once(|stream| {
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0usize;
        if stream
            .write_all(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .is_err()
        {
            return sent;
        }
        while sent < LIMIT {
            let head = format!("{:x}\r\n", chunk.len());
            let ok = stream.write_all(head.as_bytes()).is_ok()
                && stream.write_all(&chunk).is_ok()
                && stream.write_all(b"\r\n").is_ok();
            if !ok {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    let err =
        smol::block_on(client(1_000_000).fetch(Request::get(&url).build().unwrap())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge, "{err}");
    let sent = server.join().unwrap();
    eprintln!("the server got {sent} bytes out before the client hung up");
    assert!(sent < LIMIT, "the client kept reading: {sent} bytes");
}

#[test]
fn truncated_body_is_body_error() {
    let (url, server) = serve_once(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        let _ = stream.write_all(&[b'y'; 100]);
    });
    let err =
        smol::block_on(client(1_000_000).fetch(Request::get(&url).build().unwrap())).unwrap_err();
    server.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::Body, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(200));
}

#[test]
fn close_delimited_body_is_read_to_the_end() {
    let (url, server) = serve_once(|stream| {
        let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let _ = stream.write_all(&[b'z'; 5000]);
    });
    let resp =
        smol::block_on(client(1_000_000).fetch(Request::get(&url).build().unwrap())).unwrap();
    server.join().unwrap();
    assert_eq!(resp.bytes().len(), 5000);
}
