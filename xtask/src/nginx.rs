//! `--server nginx`: the JSON API served by nginx (Debian's nginx-light and
//! its echo module, installed when missing) with the repository's config,
//! in a directory of its own under `target/`, stopped when dropped. A C
//! server much faster than volley-mock, so that the client is what a
//! benchmark measures.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::mock::ChildGuard;

/// The config, with `@...@` values to fill in.
const CONFIG: &str = include_str!("../nginx/nginx.conf");

/// What nginx needs: the server and its echo module (for the latency).
const PACKAGES: [&str; 2] = ["nginx-light", "libnginx-mod-http-echo"];
const ECHO_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    _child: ChildGuard,
    url: String,
}

impl Nginx {
    /// Starts nginx on a free loopback port, answering after `latency_ms`.
    pub fn start(target_dir: &Path, latency_ms: u64) -> Result<Nginx> {
        install()?;
        let dir = target_dir.join(format!("volley-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let respond = if latency_ms == 0 {
            "return 200 $body;".to_string()
        } else {
            format!(
                "echo_sleep {:.3}; echo -n $body;",
                latency_ms as f64 / 1000.0
            )
        };
        let config = CONFIG
            .replace("@DIR@", &dir.display().to_string())
            .replace("@PORT@", &port.to_string())
            .replace("@RESPOND@", &respond);
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config)?;
        let child = Command::new(nginx_binary())
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start nginx: {e}"))?;
        let child = ChildGuard(child);
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
                return Err(format!("nginx did not start within 10 s: {log}").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Nginx {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

fn nginx_binary() -> PathBuf {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| PathBuf::from("nginx"))
}

/// Installs Debian's packages when nginx or its echo module is missing.
fn install() -> Result<()> {
    if nginx_binary().exists() && Path::new(ECHO_MODULE).exists() {
        return Ok(());
    }
    eprintln!(
        "installing {} from Debian's packages...",
        PACKAGES.join(" ")
    );
    let root = Command::new("id").arg("-u").output()?.stdout == b"0\n";
    let apt = |args: &[&str]| -> Result<()> {
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.arg("apt-get");
            sudo
        };
        let status = cmd
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("apt-get {} failed ({status})", args.join(" ")).into())
        }
    };
    apt(&["update", "-q"])?;
    let mut install = vec!["install", "-y", "-q"];
    install.extend(PACKAGES);
    apt(&install)
}
