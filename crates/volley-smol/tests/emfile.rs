//! Running out of file descriptors is a `Connect` error that says so.
//! Its own test binary, since it lowers the process's open-files limit.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

use std::net::TcpListener;
use std::time::Duration;

use volley_core::{ErrorKind, Fetcher, Request, gather};
use volley_smol::Client;

fn open_fds() -> u64 {
    std::fs::read_dir("/proc/self/fd").unwrap().count() as u64
}

#[test]
fn too_many_open_files_is_connect() {
    // A listener that never accepts: connections wait in its backlog.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let client = Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    // Warm up the agent thread and the timer's driver before the limit drops.
    let _ = smol::block_on(
        client.fetch(
            Request::get(&url)
                .timeout(Duration::from_millis(50))
                .build()
                .unwrap(),
        ),
    );

    let (soft, hard) = rlimit::getrlimit(rlimit::Resource::NOFILE).unwrap();
    rlimit::setrlimit(rlimit::Resource::NOFILE, open_fds() + 8, hard).unwrap();
    let results = smol::block_on(gather(
        (0..40).map(|_| client.fetch(Request::get(&url).build().unwrap())),
    ));
    rlimit::setrlimit(rlimit::Resource::NOFILE, soft, hard).unwrap();

    let emfile: Vec<_> = results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .filter(|e| e.kind() == ErrorKind::Connect)
        .collect();
    assert!(!emfile.is_empty(), "{results:?}");
    assert!(
        emfile[0].to_string().contains("too many open files"),
        "{}",
        emfile[0]
    );
    for r in &results {
        let kind = r.as_ref().map(|_| ()).map_err(|e| e.kind());
        assert!(
            matches!(kind, Err(ErrorKind::Connect | ErrorKind::Timeout)),
            "{r:?}"
        );
    }
    drop(listener);
}
