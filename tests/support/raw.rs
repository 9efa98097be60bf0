//! A hostile-server fixture: a std `TcpListener` on 127.0.0.1 whose every
//! connection is handed, on a thread of its own, to a script that reads
//! what the client sent and writes hand-made bytes back. It is not an HTTP
//! implementation: it reads a request head line by line and a body by its
//! `Content-Length`, and writes whatever the test says, malformed on purpose.
//!
//! It records every request it read and how many connections are open, so
//! tests can count arrivals (a re-sent POST) and see when the client closed
//! a connection (a dropped request). Dropped, it stops accepting.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Received {
    /// Which connection it came on, from 0.
    pub conn: usize,
    /// The request line.
    pub line: String,
    /// The header lines, as sent (names lowercased).
    pub headers: Vec<(String, String)>,
    /// The body, as far as it was read.
    pub body: Vec<u8>,
}

impl Received {
    /// The value of header `name`, the first if there are several.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of header `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[derive(Default)]
struct Log {
    requests: Mutex<Vec<Received>>,
    accepted: AtomicUsize,
    open: AtomicUsize,
}

/// A raw server; see the module docs.
pub struct RawServer {
    addr: SocketAddr,
    log: Arc<Log>,
    stop: Arc<AtomicBool>,
}

/// One accepted connection, as a script sees it.
pub struct Conn {
    /// Which connection this is, from 0.
    pub index: usize,
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    log: Arc<Log>,
}

impl RawServer {
    /// Starts a server whose every connection runs `script`; the connection
    /// is closed when the script returns.
    pub fn start<F>(script: F) -> RawServer
    where
        F: Fn(&mut Conn) + Send + Sync + 'static,
    {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let log = Arc::new(Log::default());
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(script);
        {
            let log = Arc::clone(&log);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(stream) = stream else { continue };
                    let index = log.accepted.fetch_add(1, Ordering::SeqCst);
                    log.open.fetch_add(1, Ordering::SeqCst);
                    let log = Arc::clone(&log);
                    let script = Arc::clone(&script);
                    thread::spawn(move || {
                        let _ = stream.set_read_timeout(Some(Duration::from_secs(20)));
                        let _ = stream.set_write_timeout(Some(Duration::from_secs(20)));
                        let _ = stream.set_nodelay(true);
                        if let Ok(read_half) = stream.try_clone() {
                            let mut conn = Conn {
                                index,
                                stream,
                                reader: BufReader::new(read_half),
                                log: Arc::clone(&log),
                            };
                            script(&mut conn);
                        }
                        log.open.fetch_sub(1, Ordering::SeqCst);
                    });
                }
            });
        }
        RawServer { addr, log, stop }
    }

    /// A server that answers every request on every connection with
    /// `response`, keeping connections open between requests.
    pub fn respond_always(response: &'static [u8]) -> RawServer {
        RawServer::start(move |conn| {
            while conn.read_request().is_some() {
                if !conn.write(response) {
                    return;
                }
            }
        })
    }

    /// A server that answers the first request of each connection with
    /// `response` and then closes it.
    pub fn respond_once(response: &'static [u8]) -> RawServer {
        RawServer::start(move |conn| {
            if conn.read_request().is_some() {
                conn.write(response);
            }
        })
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request read so far.
    pub fn requests(&self) -> Vec<Received> {
        self.log.requests.lock().expect("log").clone()
    }

    /// How many requests were read so far.
    pub fn request_count(&self) -> usize {
        self.log.requests.lock().expect("log").len()
    }

    /// How many connections were accepted.
    pub fn accepted(&self) -> usize {
        self.log.accepted.load(Ordering::SeqCst)
    }

    /// How many connections are open (their scripts still running).
    pub fn open(&self) -> usize {
        self.log.open.load(Ordering::SeqCst)
    }

    /// Waits, up to `max`, until `done` holds; returns whether it did.
    pub fn wait_until(&self, max: Duration, done: impl Fn(&RawServer) -> bool) -> bool {
        let start = Instant::now();
        while !done(self) {
            if start.elapsed() > max {
                return false;
            }
            thread::sleep(Duration::from_millis(5));
        }
        true
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(200));
    }
}

impl Conn {
    /// Reads a request head and, by its `Content-Length`, its body; records
    /// it. `None` when the client closed the connection (or sent no head).
    pub fn read_request(&mut self) -> Option<Received> {
        let mut received = self.read_head()?;
        let length: usize = received
            .header("content-length")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        let read = read_full(&mut self.reader, &mut body);
        body.truncate(read);
        received.body = body;
        self.record(received.clone());
        Some(received)
    }

    /// Reads a request head only, leaving any body unread; records it.
    pub fn read_head_only(&mut self) -> Option<Received> {
        let received = self.read_head()?;
        self.record(received.clone());
        Some(received)
    }

    fn record(&self, received: Received) {
        self.log.requests.lock().expect("log").push(received);
    }

    fn read_head(&mut self) -> Option<Received> {
        let mut line = String::new();
        // Skip blank lines between requests.
        while line.trim().is_empty() {
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
        let request_line = line.trim_end().to_owned();
        let mut headers = Vec::new();
        loop {
            line.clear();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) if line == "\r\n" || line == "\n" => break,
                Ok(_) => {
                    if let Some((name, value)) = line.split_once(':') {
                        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
                    }
                }
            }
        }
        Some(Received {
            conn: self.index,
            line: request_line,
            headers,
            body: Vec::new(),
        })
    }

    /// Writes `bytes`; false when the client has gone.
    pub fn write(&mut self, bytes: &[u8]) -> bool {
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .is_ok()
    }

    /// Waits, up to `max`, for the client to close the connection; returns
    /// whether it did. Anything it sends meanwhile is read and dropped.
    pub fn wait_for_close(&mut self, max: Duration) -> bool {
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(20)));
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while start.elapsed() < max {
            match self.reader.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    }

    /// Ends the server's side of the stream (a FIN): the client has read
    /// everything it will get.
    pub fn shutdown_write(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }

    /// Closes the connection at once, in both directions.
    pub fn close(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
    }
}

fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut read = 0;
    while read < buf.len() {
        match reader.read(&mut buf[read..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => read += n,
        }
    }
    read
}
