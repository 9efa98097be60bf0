//! `xtask compare`: every scenario on every runtime, each runtime in its own
//! process (this binary as `xtask run-one`), against the embedded server
//! (this binary as `xtask mock`) or an external one.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::Result;
use serde::Serialize;

use crate::cli::{CompareArgs, Plan, Runtime, Server};
use crate::mock::MockProcess;
use crate::nginx::Nginx;
use crate::process::ChildGuard;
use crate::recorder::micros;
use crate::report::{
    RunOutput, RuntimeResult, ScenarioReport, Skipped, median_run, render_table, summarize,
};
use crate::svg;

/// `xtask compare`.
pub fn run(args: &CompareArgs) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run its runners: {e}"))?;
    if let Some(workers) = args.workers {
        return crate::workers::run(&exe, args, workers);
    }
    if let Some(url) = args.url.as_ref().filter(|url| !url.contains("{id}")) {
        eprintln!("warning: --url has no `{{id}}`: every request goes to {url}");
    }
    if args.capacity.is_some() && args.url.is_some() {
        eprintln!(
            "warning: --capacity only limits the embedded server; with --url it only sets the ideal time"
        );
    }
    let plans = args.plans();
    let mut reports = Vec::new();
    for mut plan in plans.iter().cloned() {
        // A name of its own, so that its timeline and JSON do not replace
        // the HTTP/1.1 run's.
        if args.client.http2 {
            plan.name.push_str("-http2");
        }
        let report = ScenarioRun::start(&exe, args, &plan)?.run(&args.runtimes(&plan))?;
        println!("{}", render_table(&report));
        // An adaptive run's timeline does not replace the fixed run's.
        let label = plan.name + if args.adaptive { "-adaptive" } else { "" };
        let svg_path = svg_path(args.svg.as_deref(), &label, plans.len() > 1);
        write_file(&svg_path, &svg::render(&report))?;
        println!("timeline: {}\n", svg_path.display());
        reports.push(report);
    }
    match reports.as_slice() {
        [one] => write_json(args.json.as_deref(), one),
        many => write_json(args.json.as_deref(), many),
    }
}

/// Writes `value` as JSON to `path` (when one is given) and says where.
pub fn write_json(path: Option<&Path>, value: &(impl Serialize + ?Sized)) -> Result<()> {
    if let Some(path) = path {
        write_file(path, &serde_json::to_string_pretty(value)?)?;
        println!("results: {}", path.display());
    }
    Ok(())
}

/// Writes `contents` to `path`, creating its directory.
pub fn write_file(path: &Path, contents: &str) -> Result<()> {
    let dir = path.parent().filter(|dir| !dir.as_os_str().is_empty());
    let written = dir.map_or(Ok(()), std::fs::create_dir_all);
    let written = written.and_then(|()| std::fs::write(path, contents));
    Ok(written.map_err(|e| format!("cannot write {}: {e}", path.display()))?)
}

/// The workspace's `target/` (`CARGO_TARGET_DIR` if set).
fn target_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or(Path::new("."));
    let target = std::env::var_os("CARGO_TARGET_DIR").unwrap_or_else(|| "target".into());
    root.join(target)
}

/// Where a scenario's timeline goes: `--svg FILE` (with `-<scenario>` before
/// the extension when several scenarios run), or
/// `target/volley-compare-<scenario>.svg` (`CARGO_TARGET_DIR` if set).
fn svg_path(given: Option<&Path>, scenario: &str, several: bool) -> PathBuf {
    match given {
        None => target_dir().join(format!("volley-compare-{scenario}.svg")),
        Some(path) if !several => path.to_path_buf(),
        Some(path) => {
            let stem = path
                .file_stem()
                .map_or("timeline".into(), |s| s.to_string_lossy());
            let ext = path
                .extension()
                .map(|ext| format!(".{}", ext.to_string_lossy()));
            path.with_file_name(format!("{stem}-{scenario}{}", ext.unwrap_or_default()))
        }
    }
}

/// Runs whose ideal time is at least this long get a progress bar (when
/// stderr is a terminal).
const LONG_RUN_S: f64 = 2.0;

/// Why `runtime` should not run in `plan`, if it should not: over HTTP/2
/// (h2c, which volley-mock serves on its one port) the clients that speak
/// HTTP/1.1 only; blocking in the cooldown scenario or past its budget.
fn skip_reason(runtime: Runtime, plan: &Plan, budget_s: u64, http2: bool) -> Option<String> {
    let ideal = plan.ideal_s(1);
    match runtime {
        Runtime::PlainSurf if http2 => {
            Some("surf's async-h1 client speaks HTTP/1.1 only".to_owned())
        }
        Runtime::AsyncStd | Runtime::Blocking if http2 => Some(format!(
            "volley-{runtime} speaks HTTP/1.1 only: http2_prior_knowledge() is a build error there"
        )),
        Runtime::Blocking if plan.cooldown_s.is_some() => {
            Some("volley-blocking has no layers: no retry, no host cool-down".to_owned())
        }
        Runtime::Blocking if budget_s > 0 && ideal > budget_s as f64 => Some(format!(
            "sequential ideal is {ideal:.0} s ({} x {} ms), over --blocking-budget-s {budget_s}",
            plan.requests, plan.latency_ms
        )),
        _ => None,
    }
}

/// One scenario being run: its server and what every runner is given.
struct ScenarioRun<'a> {
    exe: &'a Path,
    args: &'a CompareArgs,
    plan: &'a Plan,
    mock: Option<MockProcess>,
    _nginx: Option<Nginx>,
    template: String,
}

impl<'a> ScenarioRun<'a> {
    /// Starts the embedded server (unless `--url` is given).
    fn start(exe: &'a Path, args: &'a CompareArgs, plan: &'a Plan) -> Result<Self> {
        let (mut mock, mut nginx) = (None, None);
        let template = match (&args.url, args.server) {
            (Some(url), _) => url.clone(),
            (None, Server::Mock) => {
                let started = MockProcess::start(exe, plan.latency_ms, plan.capacity)?;
                format!("{}/{}/{{id}}", mock.insert(started).url, plan.resource)
            }
            (None, Server::Nginx) if plan.capacity.is_some() || plan.cooldown_s.is_some() => {
                return Err(format!(
                    "scenario {}: nginx has no capacity mode or cool-down route; use the mock",
                    plan.name
                )
                .into());
            }
            (None, Server::Nginx) => {
                let started = Nginx::start(&target_dir(), plan.latency_ms)?;
                format!("{}/{}/{{id}}", nginx.insert(started).url, plan.resource)
            }
        };
        Ok(ScenarioRun {
            exe,
            args,
            plan,
            mock,
            _nginx: nginx,
            template,
        })
    }

    /// Prints `line` when stdout is not a terminal (a terminal gets the
    /// runners' progress bars on long runs).
    fn say(&self, line: impl FnOnce() -> String) {
        if !std::io::stdout().is_terminal() {
            println!("{}", line());
        }
    }

    /// Runs every runtime `args.repeat` times, taking turns (so that a slow
    /// spell of a noisy machine falls on all of them).
    fn run(self, runtimes: &[Runtime]) -> Result<ScenarioReport> {
        let (plan, args) = (self.plan, self.args);
        self.say(|| {
            let (name, n, c, ms) = (&plan.name, plan.requests, plan.concurrency, plan.latency_ms);
            let url = &self.template;
            format!("scenario {name}: {n} requests, concurrency {c}, latency {ms} ms, {url}")
        });
        let (mut skipped, mut active) = (Vec::new(), Vec::new());
        for &runtime in runtimes {
            match skip_reason(runtime, plan, args.blocking_budget_s, args.client.http2) {
                Some(reason) => {
                    self.say(|| format!("skipping {runtime}: {reason}"));
                    skipped.push(Skipped { runtime, reason });
                }
                None => active.push(runtime),
            }
        }
        let mut runs = vec![Vec::new(); active.len()];
        for _ in 0..args.repeat {
            for (&runtime, runs) in active.iter().zip(&mut runs) {
                runs.push(self.run_runtime(runtime));
            }
        }
        Ok(ScenarioReport {
            plan: plan.clone(),
            ideal_s: plan.ideal_s(plan.concurrency),
            url: self.template,
            embedded_server: self.mock.is_some(),
            results: runs.into_iter().filter_map(median_run).collect(),
            skipped,
        })
    }

    /// Runs one runtime in its own process and summarises what it reports;
    /// missing results are counted as `other`.
    fn run_runtime(&self, runtime: Runtime) -> RuntimeResult {
        let plan = self.plan;
        if let Some(Err(e)) = self.mock.as_ref().map(MockProcess::reset_stats) {
            eprintln!("warning: cannot reset the server's stats: {e}");
        }
        self.say(|| format!("running {runtime}..."));
        let output = self.spawn_runner(runtime);
        let stats = self.mock.as_ref().map(MockProcess::stats).transpose();
        let stats = stats.unwrap_or_else(|e| {
            eprintln!("warning: cannot read the server's stats: {e}; using the client's counts");
            None
        });
        if let Some(stats) = stats.as_ref().filter(|_| self.args.client.http2) {
            let (requests, connections) = (plan.requests, stats.connections);
            println!("{runtime}: {requests} requests over {connections} connection(s)");
        }
        let r = summarize(plan, output, stats.as_ref());
        let (ok, errors, wall_s) = (r.ok, r.errors.total(), r.wall_s);
        self.say(|| format!("{runtime}: {ok} ok, {errors} errors in {wall_s:.3} s"));
        r
    }

    /// Runs `exe run-one` (with a progress bar on a long run when stderr is
    /// a terminal) and returns what it reported. The runner is killed past
    /// its deadline: every round of requests timing out, plus a minute (an
    /// adaptive limit counted at its initial value).
    fn spawn_runner(&self, runtime: Runtime) -> RunOutput {
        let (plan, concurrency) = (self.plan, self.plan.runtime_concurrency(runtime));
        // The adaptive limit's bounds, when this runtime runs with one.
        let bounds = plan.adaptive.filter(|_| plan.is_adaptive(runtime));
        let mut command = runner_command(self.exe, runtime, &self.template, plan);
        command.args(self.args.client.to_args());
        command.args(bounds.map(|bounds| format!("--adaptive-max={}", bounds.max)));
        let long = plan.ideal_s(concurrency) >= LONG_RUN_S;
        command.args((long && std::io::stderr().is_terminal()).then_some("--progress"));
        command.args(plan.cooldown_s.map(|_| "--cooldown"));
        let at_once = bounds.map_or(concurrency, |bounds| bounds.initial);
        let rounds = plan.requests.div_ceil(at_once) as u64;
        let per_round = self.args.client.timeout_ms.max(plan.latency_ms) + 1_000;
        let deadline = rounds.saturating_mul(per_round).saturating_add(60_000);
        let (name, deadline) = (runtime.to_string(), Duration::from_millis(deadline));
        run_runner(command, runtime, &name, plan.requests, deadline)
    }
}

/// `exe run-one` on `runtime` for `plan.requests` URLs of `template`, at
/// most `plan.concurrency` in flight.
pub fn runner_command(exe: &Path, runtime: Runtime, template: &str, plan: &Plan) -> Command {
    let mut command = Command::new(exe);
    command.arg("run-one").args([
        format!("--runtime={runtime}"),
        format!("--url-template={template}"),
        format!("--requests={}", plan.requests),
        format!("--concurrency={}", plan.concurrency),
    ]);
    command
}

/// Runs a runner (`command`) of `runtime` that is to report `requests`
/// results, killing it past `deadline`, and returns what it reported (when
/// it reported nothing, the wall time measured from here); says so when it
/// failed or reported fewer.
pub fn run_runner(
    command: Command,
    runtime: Runtime,
    name: &str,
    requests: usize,
    deadline: Duration,
) -> RunOutput {
    let started = Instant::now();
    let (output, problem) = match read_runner(command, name, deadline) {
        Ok((Some(o), status)) if status.success() && o.spans.len() >= requests => (Some(o), None),
        Ok((Some(o), status)) if status.success() => {
            let problem = format!("reported {} of {requests} results", o.spans.len());
            (Some(o), Some(problem))
        }
        Ok((output, status)) if !status.success() => {
            (output, Some(format!("exited with {status}")))
        }
        Ok((output, _)) => (output, Some("printed no results".to_owned())),
        Err(e) => (None, Some(e.to_string())),
    };
    if let Some(problem) = problem {
        eprintln!("warning: the {name} runner {problem}; missing results are counted as `other`");
    }
    output.unwrap_or_else(|| RunOutput::missing(runtime, micros(started.elapsed())))
}

/// Starts `command` and returns its result line (if it printed one) and
/// its exit status, printing its other lines once it is done.
fn read_runner(
    mut command: Command,
    name: &str,
    deadline: Duration,
) -> Result<(Option<RunOutput>, ExitStatus)> {
    command.stdin(Stdio::null()).stdout(Stdio::piped());
    let child = command.spawn();
    let mut guard = ChildGuard(child.map_err(|e| format!("cannot start the runner: {e}"))?);
    let stdout = guard.0.stdout.take().ok_or("the runner has no stdout")?;
    let (tx, rx) = mpsc::channel();
    // Reads until the runner closes its stdout.
    std::thread::spawn(move || {
        // Ignored error: no one waits for it any more.
        let _ = tx.send(std::io::read_to_string(stdout));
    });
    let text = rx.recv_timeout(deadline).or_else(|_| {
        eprintln!("warning: the {name} runner ran past its deadline; killing it");
        // Ignored error: it may have just exited.
        let _ = guard.0.kill();
        rx.recv()
    });
    let text = text.map_err(|_| "the runner's output was lost")??;
    let mut output = None;
    for line in text.lines() {
        match line.starts_with('{').then(|| serde_json::from_str(line)) {
            None => println!("{line}"),
            Some(Ok(parsed)) => output = Some(parsed),
            Some(Err(e)) => eprintln!("warning: unreadable runner result: {e}"),
        }
    }
    Ok((output, guard.0.wait()?))
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
        assert!(skip_reason(Runtime::Blocking, &scale, 60, false).is_some());
        assert!(skip_reason(Runtime::Blocking, &scale, 0, false).is_none());
        assert!(skip_reason(Runtime::Tokio, &scale, 60, false).is_none());
        let limit = Scenario::Limit.plan();
        assert!(skip_reason(Runtime::Blocking, &limit, 60, false).is_none());
        let cooldown = Scenario::Cooldown.plan();
        assert!(skip_reason(Runtime::Blocking, &cooldown, 0, false).is_some());
        assert!(skip_reason(Runtime::PlainReqwest, &cooldown, 60, false).is_none());
    }

    #[test]
    fn http2_skips_the_clients_that_speak_http1_only() {
        let limit = Scenario::Limit.plan();
        let skip = |runtime| skip_reason(runtime, &limit, 60, true);
        for runtime in [Runtime::Tokio, Runtime::Smol, Runtime::PlainReqwest] {
            assert!(skip(runtime).is_none(), "{runtime}");
        }
        assert!(skip(Runtime::TokioFixed(50)).is_none());
        assert!(skip(Runtime::PlainIsahc).is_none());
        for runtime in [Runtime::AsyncStd, Runtime::Blocking, Runtime::PlainSurf] {
            let reason = skip(runtime).expect("skipped");
            assert!(reason.contains("HTTP/1.1 only"), "{reason}");
        }
    }
}
