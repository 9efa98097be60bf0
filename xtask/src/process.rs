//! Child processes: a guard that stops them, waiting for a server's port,
//! and installing a missing server from Debian's packages.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;

/// A child process that is killed and reaped when dropped.
#[derive(Debug)]
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        // Ignored errors: the child may have exited already.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A free port on loopback, for a server to listen on.
pub fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Waits (at most 10 s) until `server` accepts connections on `port`.
pub fn wait_for_port(server: &str, port: u16) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err(format!("{server} did not accept connections within 10 s").into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// Installs `packages` with apt-get (through sudo unless this is root), as
/// `.ci/run` does.
pub fn apt_install(packages: &[&str]) -> Result<()> {
    let names = packages.join(" ");
    eprintln!("installing {names} from Debian's packages...");
    let root = Command::new("id").arg("-u").output()?.stdout == b"0\n";
    let install = [&["install", "-y", "-q"], packages].concat();
    for step in [&["update", "-q"][..], &install] {
        let mut command = Command::new(if root { "env" } else { "sudo" });
        command.args((!root).then_some("env"));
        command.args(["DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        let status = command.args(step).stdout(Stdio::null()).status()?;
        if !status.success() {
            return Err(format!("apt-get {} failed ({status})", step.join(" ")).into());
        }
    }
    Ok(())
}
