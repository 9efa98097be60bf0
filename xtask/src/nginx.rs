//! `--server nginx`: the JSON API served by nginx (Debian's nginx-light and
//! its echo module, installed when missing) with the repository's config,
//! in a directory of its own under `target/`, stopped when dropped. A C
//! server much faster than volley-mock, so that the client is what a
//! benchmark measures.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::Result;
use crate::process::{ChildGuard, apt_install, free_port, wait_for_port};

/// The config, with `@...@` values to fill in.
const CONFIG: &str = include_str!("../nginx/nginx.conf");

/// Where Debian puts nginx, and its echo module (for the latency).
const NGINX: [&str; 2] = ["/usr/sbin/nginx", "/usr/bin/nginx"];
const ECHO_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_echo_module.so";

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    _child: ChildGuard,
    /// `http://127.0.0.1:<port>`.
    pub url: String,
}

impl Nginx {
    /// Starts nginx on a free loopback port, answering after `latency_ms`.
    pub fn start(target_dir: &Path, latency_ms: u64) -> Result<Nginx> {
        let installed = NGINX.into_iter().find(|path| Path::new(path).exists());
        let nginx = match installed.filter(|_| Path::new(ECHO_MODULE).exists()) {
            Some(nginx) => nginx,
            None => apt_install(&["nginx-light", "libnginx-mod-http-echo"]).map(|()| NGINX[0])?,
        };
        let dir = target_dir.join(format!("volley-nginx-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let port = free_port()?;
        let respond = match latency_ms {
            0 => "return 200 $body;".to_owned(),
            ms => format!("echo_sleep {:.3}; echo -n $body;", ms as f64 / 1000.0),
        };
        let config = CONFIG
            .replace("@DIR@", &dir.display().to_string())
            .replace("@PORT@", &port.to_string())
            .replace("@RESPOND@", &respond);
        let conf = dir.join("nginx.conf");
        std::fs::write(&conf, config)?;
        let child = Command::new(nginx)
            .arg("-p")
            .arg(&dir)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start nginx: {e}"))?;
        let child = ChildGuard(child);
        wait_for_port("nginx", port).map_err(|e| {
            let log = std::fs::read_to_string(dir.join("error.log")).unwrap_or_default();
            format!("{e}: {log}")
        })?;
        Ok(Nginx {
            _child: child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}
