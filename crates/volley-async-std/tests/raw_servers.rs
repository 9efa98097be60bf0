//! Faults volley-mock does not make (bodies cut short) and TLS, against
//! small servers written here on plain threads.
//!
//! `fixtures/localhost.*.der` is a self-signed certificate for `localhost`
//! (RSA 2048, valid for 100 years) and its PKCS#8 key, made for these tests
//! only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use volley_async_std::Client;
use volley_core::{ErrorKind, Fetcher, Request};

/// Serves each of the next `n` connections once with `respond`, on a thread.
fn serve<F>(n: usize, respond: F) -> u16
where
    F: Fn(&mut dyn ReadWrite) + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            read_head(&mut stream);
            respond(&mut stream);
        }
    });
    port
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// Reads a request head (up to the blank line); bodies are not expected.
fn read_head(stream: &mut dyn ReadWrite) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => return,
            Ok(_) => {}
        }
    }
}

fn get(url: &str) -> Request {
    Request::get(url).build().expect("valid request")
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

#[async_std::test]
async fn a_body_shorter_than_its_content_length_is_a_body_error() {
    let port = serve(1, |s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten..");
        // The connection closes here, 90 bytes short.
    });
    let err = client()
        .fetch(get(&format!("http://127.0.0.1:{port}/short")))
        .await
        .expect_err("truncated");
    assert_eq!(err.kind(), ErrorKind::Body, "{err:?}");
    assert_eq!(err.status(), Some(http::StatusCode::OK));
}

#[async_std::test]
async fn a_chunked_body_cut_short_is_a_body_error() {
    let port = serve(1, |s| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n40\r\npartial",
        );
    });
    let err = client()
        .fetch(get(&format!("http://127.0.0.1:{port}/chunked")))
        .await
        .expect_err("truncated");
    assert_eq!(err.kind(), ErrorKind::Body, "{err:?}");
}

#[async_std::test]
async fn a_close_with_no_response_is_a_connect_error() {
    let port = serve(1, |_| {});
    let err = client()
        .fetch(get(&format!("http://127.0.0.1:{port}/")))
        .await
        .expect_err("closed");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");
}

#[async_std::test]
async fn garbage_instead_of_a_response_is_an_error_not_a_panic() {
    let port = serve(1, |s| {
        let _ = s.write_all(b"SSH-2.0-OpenSSH_9.0\r\n\r\n");
    });
    let err = client()
        .fetch(get(&format!("http://127.0.0.1:{port}/")))
        .await
        .expect_err("not HTTP");
    assert_eq!(err.kind(), ErrorKind::Other, "{err:?}");
}

#[async_std::test]
async fn a_response_with_no_date_header_keeps_its_headers() {
    let port = serve(1, |s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-a: 1\r\nx-a: 2\r\n\r\nok");
    });
    let resp = client()
        .fetch(get(&format!("http://127.0.0.1:{port}/")))
        .await
        .expect("response");
    assert_eq!(resp.bytes().as_ref(), b"ok");
    let values: Vec<_> = resp.headers().get_all("x-a").iter().collect();
    assert_eq!(values, ["1", "2"]);
}

fn tls_config() -> Arc<rustls::ServerConfig> {
    let cert = include_bytes!("fixtures/localhost.cert.der").to_vec();
    let key = include_bytes!("fixtures/localhost.key.der").to_vec();
    let mut config = rustls::ServerConfig::new(rustls::NoClientAuth::new());
    config
        .set_single_cert(vec![rustls::Certificate(cert)], rustls::PrivateKey(key))
        .expect("test certificate and key");
    Arc::new(config)
}

/// An https server with a self-signed certificate for `localhost`.
fn serve_tls(n: usize) -> u16 {
    let config = tls_config();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    thread::spawn(move || {
        for stream in listener.incoming().take(n) {
            let Ok(stream): Result<TcpStream, _> = stream else {
                continue;
            };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let session = rustls::ServerSession::new(&config);
            let mut tls = rustls::StreamOwned::new(session, stream);
            read_head(&mut tls);
            let _ = tls.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret");
            let _ = tls.flush();
        }
    });
    port
}

#[async_std::test]
async fn certificates_are_verified_unless_told_otherwise() {
    let port = serve_tls(2);
    let url = format!("https://localhost:{port}/");

    let err = client()
        .fetch(get(&url))
        .await
        .expect_err("self-signed certificate refused");
    assert_eq!(err.kind(), ErrorKind::Connect, "{err:?}");

    let insecure = Client::builder()
        .timeout(Duration::from_secs(5))
        .danger_accept_invalid_certs(true)
        .build()
        .expect("client");
    let resp = insecure
        .fetch(get(&url))
        .await
        .expect("accepted when told to");
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().as_ref(), b"secret");
}

#[async_std::test]
async fn an_empty_response_with_content_length_zero_is_fine() {
    let port = serve(1, |s| {
        let _ = s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
    });
    let resp = client()
        .fetch(get(&format!("http://127.0.0.1:{port}/")))
        .await
        .expect("204");
    assert_eq!(resp.status(), 204);
    assert!(resp.bytes().is_empty());
}

#[async_std::test]
async fn an_idle_connection_the_server_closed_is_not_reused() {
    // Each connection answers once, keep-alive and all, then closes.
    let port = serve(2, |s| {
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
    });
    let client = client();
    let url = format!("http://127.0.0.1:{port}/");
    let first = client.fetch(get(&url)).await.expect("first");
    assert_eq!(first.bytes().as_ref(), b"ok");
    async_std::task::sleep(Duration::from_millis(200)).await;
    // The pooled connection is closed by now: a new one is opened.
    let second = client.fetch(get(&url)).await.expect("second");
    assert_eq!(second.bytes().as_ref(), b"ok");
}

#[async_std::test]
async fn bytes_sent_on_an_idle_connection_are_never_read_as_a_response() {
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = Arc::clone(&answered);
    let port = serve(2, move |s| {
        if count.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
            thread::sleep(Duration::from_millis(50));
            // Unasked, while the connection is idle in the client's pool.
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nstale");
            thread::sleep(Duration::from_millis(1500));
        } else {
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nfresh");
        }
    });
    let client = client();
    let url = format!("http://127.0.0.1:{port}/");
    let first = client.fetch(get(&url)).await.expect("first");
    assert_eq!(first.bytes().as_ref(), b"ok");
    async_std::task::sleep(Duration::from_millis(600)).await;
    let second = client.fetch(get(&url)).await.expect("second");
    assert_eq!(second.bytes().as_ref(), b"fresh");
}
