//! `xtask compare` end to end: the built binary starts its own mock server and
//! runners, and writes the JSON and SVG it was asked for.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("compare-e2e");
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join(name);
    // Ignored error: the file may not exist yet.
    let _ = std::fs::remove_file(&path);
    path
}

/// What one `xtask compare` run left: its standard output, the JSON report,
/// the result rows' runtime names and the SVG timeline.
struct Run {
    stdout: String,
    report: serde_json::Value,
    runtimes: Vec<String>,
    svg: String,
}

/// Runs `xtask compare` with `args` (split at spaces), writing its JSON and
/// SVG under `name`; checks that it succeeded within `within` and reads what
/// it wrote.
fn compare(name: &str, args: &str, within: Duration) -> Run {
    let json = scratch(&format!("{name}.json"));
    let svg = scratch(&format!("{name}.svg"));
    let started = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("compare")
        .args(args.split_whitespace())
        .arg("--json")
        .arg(&json)
        .arg("--svg")
        .arg(&svg)
        .output()
        .expect("xtask runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "xtask failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(started.elapsed() < within, "took {:?}", started.elapsed());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("JSON written"))
            .expect("valid JSON");
    let runtimes = report["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["runtime"].as_str().expect("runtime name").to_owned())
        .collect();
    Run {
        stdout,
        report,
        runtimes,
        svg: std::fs::read_to_string(&svg).expect("SVG written"),
    }
}

#[test]
fn small_scenario_on_tokio_and_blocking() {
    let run = compare(
        "small",
        "--requests 20 --concurrency 5 --latency-ms 20 --runtimes tokio,blocking --timeout-ms 5000",
        Duration::from_secs(60),
    );
    // Not a terminal: plain progress lines, then the table.
    assert!(run.stdout.contains("running tokio..."), "{}", run.stdout);
    assert!(run.stdout.contains("wall/ideal"), "{}", run.stdout);
    assert!(run.stdout.contains("speedup: tokio"), "{}", run.stdout);

    assert_eq!(run.report["scenario"], "custom");
    assert_eq!(run.report["requests"], 20);
    assert_eq!(run.report["concurrency"], 5);
    assert_eq!(run.report["latency_ms"], 20);
    assert_eq!(run.report["ideal_s"], 0.08);
    let results = run.report["results"].as_array().expect("results");
    assert_eq!(run.runtimes, ["tokio", "blocking"]);
    for r in results {
        assert_eq!(r["ok"], 20, "{r}");
        let errors = r["errors"].as_object().expect("errors");
        assert!(errors.values().all(|v| v == 0), "{r}");
        assert!(r["wall_s"].as_f64().expect("wall") > 0.0, "{r}");
        assert!(r["peak_rss_kb"].as_u64().expect("rss") > 0, "{r}");
    }
    // Counted by the server: blocking never overlaps, tokio reaches its limit
    // (sanity bound only: at least 2 at once).
    assert_eq!(results[1]["max_in_flight"], 1, "{}", results[1]);
    let tokio_max = results[0]["max_in_flight"].as_u64().expect("max");
    assert!((2..=5).contains(&tokio_max), "{}", results[0]);

    assert!(
        run.svg.starts_with("<svg"),
        "{}",
        &run.svg[..run.svg.len().min(100)]
    );
    assert!(run.svg.contains("tokio") && run.svg.contains("blocking"));
}

#[test]
fn unknown_runtime_is_rejected() {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["compare", "--runtimes", "tokio,nope"])
        .output()
        .expect("xtask runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn adaptive_run_against_a_server_of_limited_capacity() {
    let run = compare(
        "adaptive",
        "--adaptive --requests 300 --latency-ms 20 --capacity 10 --runtimes tokio,tokio-fixed-10 --timeout-ms 5000",
        Duration::from_secs(30),
    );
    assert!(run.stdout.contains("rejected"), "{}", run.stdout);
    assert!(
        run.stdout.contains("adaptive vs fixed: tokio"),
        "{}",
        run.stdout
    );

    assert_eq!(run.report["requests"], 300);
    assert_eq!(run.report["capacity"], 10);
    assert_eq!(run.report["adaptive"]["max"], 1000);
    // At most 10 served at once: 30 rounds of 20 ms.
    assert_eq!(run.report["ideal_s"], 0.6);
    let results = run.report["results"].as_array().expect("results");
    assert_eq!(run.runtimes, ["tokio", "tokio-fixed-10"]);
    for r in results {
        let errors = r["errors"].as_object().expect("errors");
        let failed: u64 = errors.values().map(|v| v.as_u64().expect("count")).sum();
        let ok = r["ok"].as_u64().expect("ok");
        assert_eq!(ok + failed, 300, "ok + errors == requests in {r}");
        // Rejections are not retried: every one is a `status` error.
        let rejected = r["rejected"].as_u64().expect("rejected");
        assert_eq!(
            rejected,
            r["errors"]["status"].as_u64().expect("status"),
            "{r}"
        );
        // The server never handled more than its capacity.
        assert!(r["max_in_flight"].as_u64().expect("max") <= 10, "{r}");
    }
    let adaptive = &results[0];
    assert_eq!(adaptive["adaptive"], true);
    assert_eq!(adaptive["concurrency"], 1000);
    let final_limit = adaptive["final_limit"].as_u64().expect("final_limit");
    assert!((1..=1000).contains(&final_limit), "{adaptive}");
    // It found the capacity rather than sending everything at once.
    assert!(
        adaptive["rejected"].as_u64().expect("rejected") < 150,
        "{adaptive}"
    );
    let fixed = &results[1];
    assert_eq!(fixed["concurrency"], 10);
    assert!(fixed.get("final_limit").is_none(), "{fixed}");

    assert_eq!(
        run.svg.matches(r#"class="limit-curve""#).count(),
        2,
        "two panels"
    );
    assert!(run.svg.contains(r#"class="in-flight-curve""#));
    assert!(run.svg.contains(&format!("limit {final_limit} at the end")));
    assert!(run.svg.contains("server capacity 10"));
}

#[test]
fn cooldown_run_counts_requests_sent_during_the_pause() {
    let run = compare(
        "cooldown",
        "--scenario cooldown --requests 20 --latency-ms 20 --runtimes tokio,plain-reqwest,blocking",
        Duration::from_secs(60),
    );
    assert!(run.stdout.contains("sent in cool-down"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("tokio wait breakdown, median ms per request: limit "),
        "{}",
        run.stdout
    );
    assert_eq!(run.report["cooldown_s"], 2);
    // Blocking has no layers to wait with.
    assert_eq!(run.runtimes, ["tokio", "plain-reqwest"]);
    assert_eq!(run.report["skipped"][0]["runtime"], "blocking");
    for r in run.report["results"].as_array().expect("results") {
        // The one 429 is retried after its Retry-After.
        assert_eq!(r["ok"], 20, "{r}");
        assert!(r["sent_during_cooldown"].is_u64(), "{r}");
    }
    let tokio = &run.report["results"][0];
    for lane in ["limit", "host_limit", "rate", "cooldown", "backoff", "wire"] {
        assert!(tokio["wait_ms"][lane].is_f64(), "{lane} in {tokio}");
    }
    assert!(run.report["results"][1].get("wait_ms").is_none());
    assert!(run.svg.contains(r#"class="waiting""#));
}

#[test]
fn nginx_serves_every_adapter_and_its_own_client() {
    let run = compare(
        "nginx",
        "--server nginx --requests 60 --concurrency 8 --latency-ms 0 \
         --runtimes tokio,plain-reqwest,async-std,plain-surf,smol,plain-isahc",
        Duration::from_secs(240),
    );
    assert_eq!(
        run.runtimes,
        [
            "tokio",
            "plain-reqwest",
            "async-std",
            "plain-surf",
            "smol",
            "plain-isahc"
        ]
    );
    for result in run.report["results"].as_array().expect("results") {
        assert_eq!(result["ok"], 60, "{result}");
    }
    assert!(!run.report["embedded_server"].as_bool().expect("a bool"));
    for (volley, plain) in [
        ("tokio", "plain-reqwest"),
        ("async-std", "plain-surf"),
        ("smol", "plain-isahc"),
    ] {
        let line = format!("vs its own client: {volley} takes");
        assert!(
            run.stdout.contains(&line) && run.stdout.contains(&format!("against {plain}'s")),
            "{}",
            run.stdout
        );
    }
}
