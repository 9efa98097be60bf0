//! `xtask compare --workers` end to end: the built binary starts the mock
//! server, a real redis-server of its own and the workers, and writes the
//! JSON it was asked for. Only shapes and counts are checked, no timings.

use std::path::PathBuf;
use std::process::Command;

/// Runs `xtask compare` with `args` (split at spaces) and returns its JSON.
fn workers(name: &str, args: &str) -> serde_json::Value {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("workers-e2e");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let json = dir.join(format!("{name}.json"));
    // Ignored error: the file may not exist yet.
    let _ = std::fs::remove_file(&json);
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("compare")
        .args(args.split_whitespace())
        .arg("--json")
        .arg(&json)
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "xtask failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(stdout.contains("req/s at server"), "{stdout}");
    let text = std::fs::read_to_string(&json).expect("JSON written");
    serde_json::from_str(&text).expect("valid JSON")
}

/// Every request of every worker got exactly one result, and the server saw
/// each one that succeeded.
fn every_request_has_a_result(result: &serde_json::Value, requests: u64) {
    let workers = result["workers"].as_array().expect("workers");
    assert_eq!(workers.len(), 2, "{result}");
    let mut total = 0;
    for w in workers {
        let errors = w["errors"].as_object().expect("errors");
        let failed: u64 = errors.values().map(|v| v.as_u64().expect("count")).sum();
        assert_eq!(w["missing"], 0, "{w}");
        assert_eq!(w["ok"].as_u64().expect("ok") + failed, 20, "{w}");
        total += w["requests"].as_u64().expect("requests");
    }
    assert_eq!(total, requests);
    assert_eq!(result["ok"], requests, "{result}");
    assert_eq!(result["errors"], 0, "{result}");
    assert_eq!(result["arrivals"], requests, "{result}");
}

fn phase_shape(phase: &serde_json::Value) {
    assert!(phase["rps"].is_f64(), "{phase}");
    assert!(phase["deviation_pct"].is_f64(), "{phase}");
    assert!(phase["arrivals"].as_u64().expect("arrivals") > 1, "{phase}");
    let per = phase["per_worker_rps"].as_array().expect("per worker");
    assert_eq!(per.len(), 2, "{phase}");
}

#[test]
fn two_workers_share_one_rate_through_redis() {
    let report = workers(
        "steady",
        "--workers 2 --rate 20 --requests 40 --latency-ms 5 --runtimes tokio,smol",
    );
    assert_eq!(report["scenario"], "workers");
    assert_eq!(report["workers"], 2);
    assert_eq!(report["rate"], 20.0);
    assert_eq!(report["requests"], 40);
    assert_eq!(report["redis"], "own");
    let results = report["results"].as_array().expect("results");
    let runtimes: Vec<&str> = results
        .iter()
        .map(|r| r["runtime"].as_str().expect("runtime"))
        .collect();
    assert_eq!(runtimes, ["tokio", "smol"]);
    for r in results {
        every_request_has_a_result(r, 40);
        phase_shape(&r["steady"]);
        assert!(r.get("before_kill").is_none(), "{r}");
    }
}

#[test]
fn killing_redis_mid_run_fails_open() {
    let report = workers(
        "kill",
        "--workers 2 --rate 20 --requests 40 --latency-ms 5 --runtimes tokio --kill-redis-after-ms 700",
    );
    assert_eq!(report["kill_redis_after_ms"], 700);
    let r = &report["results"][0];
    every_request_has_a_result(r, 40);
    assert!(r["kill_at_ms"].as_f64().expect("kill_at_ms") > 700.0, "{r}");
    phase_shape(&r["before_kill"]);
    phase_shape(&r["after_kill"]);
}
