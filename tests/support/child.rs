//! A volley-mock server in a child process (this test binary again,
//! running one ignored test), for suites that starve their own process of
//! file descriptors: only the client is starved.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};

/// Set in the child's environment, so the ignored server test serves only
/// when started by [`ChildServer::start`].
const SERVE: &str = "VOLLEY_CHILD_SERVER";

/// The child; killed when dropped.
pub struct ChildServer {
    child: Child,
    /// The server's base URL.
    pub url: String,
}

impl ChildServer {
    /// Runs this binary's ignored test `serve_test` (which calls [`serve`])
    /// in a child process and waits for its URL.
    pub fn start(serve_test: &str) -> ChildServer {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                serve_test,
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(SERVE, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = loop {
            let line = lines
                .next()
                .expect("the child server prints its URL")
                .unwrap();
            // The test harness may print "test serve_... " first.
            if let Some((_, url)) = line.split_once("serving ") {
                break url.trim().to_owned();
            }
        };
        ChildServer { child, url }
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The body of the ignored server test: serves volley-mock until the parent
/// closes stdin (or kills the process). Does nothing when run by hand.
pub fn serve() {
    if std::env::var_os(SERVE).is_none() {
        return;
    }
    let server = volley_mock::MockServer::start();
    println!("serving {}", server.url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
}
