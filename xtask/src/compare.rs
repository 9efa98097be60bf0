//! `xtask compare`: every scenario on every runtime, each runtime in its own
//! process (this binary, re-executed as `xtask run-one`), against the
//! embedded server (this binary as `xtask mock`) or an external one.

use std::io::{BufRead, BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::Result;
use crate::cli::{ADAPTIVE_INITIAL, CompareArgs, Plan, Runtime};
use crate::mock::{ChildGuard, MockProcess};
use crate::report::{
    AdaptiveBounds, RunFacts, RunOutput, RuntimeResult, ScenarioReport, Skipped, ideal_s,
    median_run, render_table, summarize,
};
use crate::svg;

/// `xtask compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let plans = args.plans();
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run its runners: {e}"))?;
    let interactive = std::io::stdout().is_terminal();
    if let Some(url) = &args.url
        && !url.contains("{id}")
    {
        eprintln!("warning: --url has no `{{id}}`: every request goes to {url}");
    }

    let mut reports = Vec::new();
    if args.capacity.is_some() && args.url.is_some() {
        eprintln!(
            "warning: --capacity only limits the embedded server; with --url it only sets the ideal time"
        );
    }
    for plan in &plans {
        let runtimes = args.runtimes(plan);
        let report = run_plan(&exe, args, plan, &runtimes, interactive)?;
        println!("{}", render_table(&report));
        // An adaptive run's timeline does not replace the fixed run's.
        let label = if args.adaptive {
            format!("{}-adaptive", plan.name)
        } else {
            plan.name.clone()
        };
        let svg_path = svg_path(args.svg.as_deref(), &label, plans.len() > 1);
        write_file(&svg_path, &svg::render(&report))?;
        println!("timeline: {}\n", svg_path.display());
        reports.push(report);
    }

    if let Some(path) = &args.json {
        let json = match reports.as_slice() {
            [one] => serde_json::to_string_pretty(one)?,
            many => serde_json::to_string_pretty(many)?,
        };
        write_file(path, &json)?;
        println!("results: {}", path.display());
    }
    Ok(())
}

/// Writes `contents` to `path`, creating its directory.
fn write_file(path: &Path, contents: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(())
}

/// The workspace's target directory: `CARGO_TARGET_DIR`, or `target/` at the
/// workspace root.
fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => root.join(dir),
        None => root.join("target"),
    }
}

/// Where a scenario's timeline goes: `--svg FILE` (with `-<scenario>` before
/// the extension when several scenarios run), or
/// `target/volley-compare-<scenario>.svg`.
pub fn svg_path(given: Option<&Path>, scenario: &str, several: bool) -> PathBuf {
    match given {
        None => target_dir().join(format!("volley-compare-{scenario}.svg")),
        Some(path) if !several => path.to_path_buf(),
        Some(path) => {
            let stem = path
                .file_stem()
                .map_or_else(|| "timeline".into(), |s| s.to_string_lossy().into_owned());
            let name = match path.extension() {
                Some(ext) => format!("{stem}-{scenario}.{}", ext.to_string_lossy()),
                None => format!("{stem}-{scenario}"),
            };
            path.with_file_name(name)
        }
    }
}

/// Why `runtime` should not run in `plan`, if it should not.
fn skip_reason(runtime: Runtime, plan: &Plan, budget_s: u64) -> Option<String> {
    if runtime != Runtime::Blocking || budget_s == 0 {
        return None;
    }
    let ideal = ideal_s(plan.requests, 1, plan.latency_ms);
    (ideal > budget_s as f64).then(|| {
        format!(
            "sequential ideal is {ideal:.0} s ({} x {} ms), over --blocking-budget-s {budget_s}",
            plan.requests, plan.latency_ms
        )
    })
}

fn run_plan(
    exe: &Path,
    args: &CompareArgs,
    plan: &Plan,
    runtimes: &[Runtime],
    interactive: bool,
) -> Result<ScenarioReport> {
    let mock = match &args.url {
        Some(_) => None,
        None => Some(MockProcess::start(exe, plan.latency_ms, plan.capacity)?),
    };
    let template = match (&args.url, &mock) {
        (Some(url), _) => url.clone(),
        (None, Some(mock)) => format!("{}/{}/{{id}}", mock.url(), plan.resource),
        (None, None) => return Err("no server to run against".into()),
    };
    if !interactive {
        println!(
            "scenario {}: {} requests, concurrency {}{}{}, latency {} ms, {template}",
            plan.name,
            plan.requests,
            plan.concurrency,
            plan.adaptive_max.map_or_else(String::new, |max| format!(
                " (adaptive: {ADAPTIVE_INITIAL} up to {max})"
            )),
            plan.capacity
                .map_or_else(String::new, |k| format!(", server capacity {k}")),
            plan.latency_ms
        );
    }

    let mut skipped = Vec::new();
    let mut active = Vec::new();
    for &runtime in runtimes {
        match skip_reason(runtime, plan, args.blocking_budget_s) {
            Some(reason) => {
                if !interactive {
                    println!("skipping {}: {reason}", runtime.name());
                }
                skipped.push(Skipped { runtime, reason });
            }
            None => active.push(runtime),
        }
    }
    // Runtimes take turns, so that a slow spell of a noisy machine falls on
    // all of them.
    let mut runs: Vec<Vec<RuntimeResult>> = active.iter().map(|_| Vec::new()).collect();
    for _ in 0..args.repeat {
        for (&runtime, runs) in active.iter().zip(&mut runs) {
            if let Some(mock) = &mock
                && let Err(e) = mock.reset_stats()
            {
                eprintln!("warning: cannot reset the server's stats: {e}");
            }
            let result = run_runtime(
                exe,
                args,
                plan,
                runtime,
                &template,
                mock.as_ref(),
                interactive,
            );
            if !interactive {
                println!(
                    "{}: {} ok, {} errors in {:.3} s",
                    runtime.name(),
                    result.ok,
                    result.errors.total(),
                    result.wall_s
                );
            }
            runs.push(result);
        }
    }
    let results: Vec<RuntimeResult> = runs.into_iter().filter_map(median_run).collect();
    drop(mock);

    Ok(ScenarioReport {
        scenario: plan.name.clone(),
        requests: plan.requests,
        concurrency: plan.concurrency,
        latency_ms: plan.latency_ms,
        capacity: plan.capacity,
        adaptive: plan.adaptive_max.map(|max| AdaptiveBounds {
            initial: ADAPTIVE_INITIAL.min(max),
            max,
        }),
        ideal_s: ideal_s(
            plan.requests,
            plan.served_at_once(plan.concurrency),
            plan.latency_ms,
        ),
        url: template,
        embedded_server: args.url.is_none(),
        results,
        skipped,
    })
}

fn progress_bar(runtime: Runtime, plan: &Plan) -> ProgressBar {
    let bar = ProgressBar::new(plan.requests as u64);
    let style = ProgressStyle::with_template(
        "{prefix:>14} [{elapsed_precise}] {wide_bar} {pos}/{len} requests",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_prefix(format!("{} {}", plan.name, runtime.name()));
    bar.enable_steady_tick(Duration::from_millis(100));
    bar
}

/// Runs one runtime in its own process and summarises what it reports.
fn run_runtime(
    exe: &Path,
    args: &CompareArgs,
    plan: &Plan,
    runtime: Runtime,
    template: &str,
    mock: Option<&MockProcess>,
    interactive: bool,
) -> RuntimeResult {
    let bar = interactive.then(|| progress_bar(runtime, plan));
    if !interactive {
        println!("running {}...", runtime.name());
    }
    let started = Instant::now();
    let (output, problem) = match spawn_runner(exe, args, plan, runtime, template, bar.as_ref()) {
        Ok((output, status)) => {
            let problem = match (&output, status.success()) {
                (Some(o), true) if o.spans.len() >= plan.requests => None,
                (Some(o), true) => Some(format!(
                    "reported {} of {} results",
                    o.spans.len(),
                    plan.requests
                )),
                (_, false) => Some(format!("exited with {status}")),
                (None, true) => Some("printed no results".to_owned()),
            };
            (output, problem)
        }
        Err(e) => (None, Some(e.to_string())),
    };
    let fallback_wall_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    if let Some(problem) = problem {
        eprintln!(
            "warning: the {} runner {problem}; missing results are counted as `other`",
            runtime.name()
        );
    }
    let stats = mock.and_then(|m| match m.stats() {
        Ok(stats) => Some(stats),
        Err(e) => {
            eprintln!("warning: cannot read the server's stats: {e}; using the client's counts");
            None
        }
    });
    summarize(&RunFacts {
        runtime,
        plan,
        output: output.as_ref(),
        fallback_wall_us,
        server_max_in_flight: stats.as_ref().map(|s| s.max_in_flight),
        server_rejected: stats.as_ref().map(|s| s.rejected),
    })
}

/// How long a runner may take before it is killed: every round of requests
/// timing out, plus a minute (an adaptive limit counted at its initial value).
fn runner_deadline(args: &CompareArgs, plan: &Plan, runtime: Runtime) -> Duration {
    let at_once = if plan.is_adaptive(runtime) {
        ADAPTIVE_INITIAL.min(plan.runtime_concurrency(runtime))
    } else {
        plan.runtime_concurrency(runtime)
    };
    let rounds = plan.requests.div_ceil(at_once) as u64;
    let per_round = args.timeout_ms.max(plan.latency_ms) + 1_000;
    Duration::from_millis(rounds.saturating_mul(per_round)) + Duration::from_secs(60)
}

/// Starts `exe run-one`, follows its progress lines and returns its result
/// line (if it printed one) and its exit status.
fn spawn_runner(
    exe: &Path,
    args: &CompareArgs,
    plan: &Plan,
    runtime: Runtime,
    template: &str,
    bar: Option<&ProgressBar>,
) -> Result<(Option<RunOutput>, ExitStatus)> {
    let mut command = Command::new(exe);
    command
        .arg("run-one")
        .args(["--runtime", &runtime.name(), "--url-template", template])
        .args(["--requests", &plan.requests.to_string()])
        .args(["--concurrency", &plan.concurrency.to_string()])
        .args(["--timeout-ms", &args.timeout_ms.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(max) = args.max_body_bytes {
        command.args(["--max-body-bytes", &max.to_string()]);
    }
    if let Some(max) = plan.adaptive_max.filter(|_| plan.is_adaptive(runtime)) {
        command.args(["--adaptive-max", &max.to_string()]);
    }
    if bar.is_some() {
        command.arg("--progress");
    }
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start the runner: {e}"))?;
    let mut guard = ChildGuard { child };
    let stdout = guard
        .child
        .stdout
        .take()
        .ok_or("the runner has no stdout")?;
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let deadline = Instant::now() + runner_deadline(args, plan, runtime);
    let mut output = None;
    loop {
        match rx.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => {
                if let Some(done) = line.strip_prefix("progress ") {
                    if let (Some(bar), Ok(done)) = (bar, done.trim().parse::<u64>()) {
                        bar.set_position(done);
                    }
                } else if line.starts_with('{') {
                    match serde_json::from_str::<RunOutput>(&line) {
                        Ok(parsed) => output = Some(parsed),
                        Err(e) => eprintln!("warning: unreadable runner result: {e}"),
                    }
                } else {
                    println!("{line}");
                }
            }
            Err(RecvTimeoutError::Timeout) => {
                if Instant::now() > deadline {
                    eprintln!(
                        "warning: the {} runner ran past its deadline; killing it",
                        runtime.name()
                    );
                    // Ignored error: it may have just exited.
                    let _ = guard.child.kill();
                }
            }
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let status = guard.child.wait()?;
    Ok((output, status))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Scenario;

    #[test]
    fn svg_paths() {
        let default = svg_path(None, "seed", true);
        assert!(
            default.ends_with("target/volley-compare-seed.svg")
                || std::env::var_os("CARGO_TARGET_DIR").is_some()
        );
        assert_eq!(
            svg_path(Some(Path::new("out/t.svg")), "seed", false),
            PathBuf::from("out/t.svg")
        );
        assert_eq!(
            svg_path(Some(Path::new("out/t.svg")), "limit", true),
            PathBuf::from("out/t-limit.svg")
        );
    }

    #[test]
    fn blocking_budget() {
        let scale = Scenario::Scale.plan();
        assert!(skip_reason(Runtime::Blocking, &scale, 60).is_some());
        assert!(skip_reason(Runtime::Blocking, &scale, 0).is_none());
        assert!(skip_reason(Runtime::Tokio, &scale, 60).is_none());
        assert!(skip_reason(Runtime::Blocking, &Scenario::Limit.plan(), 60).is_none());
    }
}
