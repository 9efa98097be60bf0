//! A real `redis-server` on 127.0.0.1 for the tests, a timer that works on
//! any executor, an observer that records what the layers report, and the
//! requests the tests send.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use volley_core::rt::{Sleep, Timer};
use volley_core::{Fetcher, Observer, Request, Response};

/// A `redis-server` process on a free loopback port, killed when dropped.
/// A watchdog shell also kills it if the test binary dies first (a static
/// server is never dropped).
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    watchdog: Option<Child>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers.
    pub fn start() -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            child: None,
            watchdog: None,
        };
        server.restart();
        server
    }

    /// The server shared by every test of this binary.
    pub fn shared() -> &'static RedisServer {
        static SERVER: OnceLock<RedisServer> = OnceLock::new();
        SERVER.get_or_init(RedisServer::start)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (its data goes with it).
    pub fn kill(&mut self) {
        for child in [self.child.take(), self.watchdog.take()]
            .into_iter()
            .flatten()
        {
            let mut child = child;
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is not installed (apt-get install redis-server)");
        let script = format!(
            "while kill -0 {me} 2>/dev/null; do sleep 0.5; done; \
             grep -qa 'redis-server.*:{port}' /proc/{pid}/cmdline 2>/dev/null && kill {pid}",
            me = std::process::id(),
            port = self.port,
            pid = child.id(),
        );
        self.child = Some(child);
        self.watchdog = Command::new("sh")
            .args(["-c", &script])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok();
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.command(&["PING"]).as_deref() != Some("+PONG\r\n") {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends one command in RESP and returns the raw reply, if any.
    pub fn command(&self, args: &[&str]) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let mut out = format!("*{}\r\n", args.len());
        for a in args {
            out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        s.write_all(out.as_bytes()).ok()?;
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A key no other test uses.
pub fn key(name: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("test:{name}:{}:{n}", std::process::id())
}

/// A timer on async-io, which runs under any executor.
#[derive(Debug, Clone, Copy)]
pub struct IoTimer;

impl Timer for IoTimer {
    fn sleep(&self, d: Duration) -> Sleep {
        Box::pin(async move {
            async_io::Timer::after(d).await;
        })
    }
}

/// Records `backend_changed` reports and the rate-limit waits.
#[derive(Default)]
pub struct Recorder {
    pub changes: Mutex<Vec<(String, bool)>>,
    pub waits: Mutex<Vec<Duration>>,
}

impl Recorder {
    pub fn changes(&self) -> Vec<(String, bool)> {
        self.changes.lock().unwrap().clone()
    }
}

impl Observer for Recorder {
    fn backend_changed(&self, backend: &str, degraded: bool) {
        self.changes
            .lock()
            .unwrap()
            .push((backend.to_owned(), degraded));
    }
    fn rate_limit_waited(&self, waited: Duration) {
        self.waits.lock().unwrap().push(waited);
    }
}

/// A GET of `url`.
pub fn get(url: &str) -> Request {
    Request::get(url).build().unwrap()
}

/// GETs of `/0` to `/{n - 1}` sent on `client` at once, on smol.
pub fn gather_on(client: &impl Fetcher, n: usize) -> Vec<volley_core::Result<Response>> {
    smol::block_on(volley_core::gather(
        (0..n).map(|i| client.fetch(get(&format!("/{i}")))),
    ))
}

/// A `redis://` URL on 127.0.0.1 where nothing listens.
pub fn nothing_listens() -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("redis://127.0.0.1:{port}/")
}
