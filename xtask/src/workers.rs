//! `xtask compare --workers N --rate R`: N runner processes of each runtime
//! share one rate of R requests/s through Redis (a `SharedRate` that fails
//! open with N workers), against the embedded server, which logs when each
//! request arrived. The rates are measured there, from those arrival times:
//! the total and each worker's, over the steady part of the run, and before
//! and after the kill with `--kill-redis-after-ms`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use volley_mock::Arrivals;

use crate::Result;
use crate::cli::{CompareArgs, Plan, Runtime, Scenario};
use crate::compare::{run_runner, runner_command, write_json};
use crate::mock::MockProcess;
use crate::process::{ChildGuard, apt_install, free_port, wait_for_port};
use crate::recorder::micros;
use crate::report::{ErrorCounts, RunOutput, align, or_dash, summarize, tenths};

/// Arrivals this soon after the first are left out of the steady rate: the
/// workers connecting to Redis.
const WARMUP_US: u64 = 250_000;

/// Arrivals this soon after the kill are left out of the rate after it:
/// slots reserved in Redis before the kill still go at their time, beside
/// the fallback's.
const SETTLE_US: u64 = 500_000;

/// How long after they are started the workers begin, together.
const START_DELAY: Duration = Duration::from_millis(500);

/// The rate of the arrivals in one part of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Phase {
    /// The first and last arrival counted, in ms since the server's reset.
    pub from_ms: f64,
    pub to_ms: f64,
    pub arrivals: usize,
    /// `(arrivals - 1) / (last - first)`, in requests/s (`None` with fewer
    /// than two arrivals).
    pub rps: Option<f64>,
    /// Against the target rate, in %.
    pub deviation_pct: Option<f64>,
    /// Each worker's rate, by the same rule over its own arrivals.
    pub per_worker_rps: Vec<Option<f64>>,
}

/// One worker's requests, as its runner reported them.
#[derive(Debug, Serialize)]
pub struct Worker {
    pub requests: usize,
    pub ok: u64,
    /// With `ok`, every request; results never reported are `other`.
    pub errors: ErrorCounts,
    pub missing: u64,
}

/// One runtime's run.
#[derive(Debug, Serialize)]
pub struct WorkersResult {
    pub runtime: Runtime,
    pub ok: u64,
    pub errors: u64,
    /// Requests that reached the server.
    pub arrivals: usize,
    pub steady: Phase,
    /// When redis-server was killed, in ms since the server's reset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill_at_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before_kill: Option<Phase>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after_kill: Option<Phase>,
    pub workers: Vec<Worker>,
}

/// The workers scenario, as written to JSON.
#[derive(Debug, Serialize)]
pub struct WorkersReport {
    /// Its numbers; the concurrency is per worker.
    #[serde(flatten)]
    pub plan: Plan,
    pub workers: u32,
    pub rate: f64,
    /// `own` for a redis-server of the xtask's own, else the URL given.
    pub redis: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kill_redis_after_ms: Option<u64>,
    pub results: Vec<WorkersResult>,
}

/// Worker `i`'s share of `total` requests.
fn share(total: usize, workers: u32, i: u32) -> usize {
    let n = workers.max(1) as usize;
    total / n + usize::from((i as usize) < total % n)
}

/// `(count - 1) / (last - first)` of arrival times in µs, in requests/s.
fn rate_of(times: &[u64]) -> Option<f64> {
    let (first, last) = (times.first()?, times.last()?);
    (last > first).then(|| (times.len() - 1) as f64 * 1e6 / (last - first) as f64)
}

/// The rates of the `arrivals` (µs, worker) in `[from_us, to_us)`, against `rate`.
fn phase(arrivals: &[(u64, Option<u32>)], span: (u64, u64), workers: u32, rate: f64) -> Phase {
    let times = |worker: Option<u32>| -> Vec<u64> {
        let inside = arrivals.iter().filter(|a| (span.0..span.1).contains(&a.0));
        let mine = inside.filter(|a| worker.is_none() || a.1 == worker);
        mine.map(|a| a.0).collect()
    };
    let all = times(None);
    let rps = rate_of(&all);
    let ms = |us: Option<&u64>| us.map_or(0.0, |&us| us as f64 / 1e3);
    Phase {
        from_ms: ms(all.first()),
        to_ms: ms(all.last()),
        arrivals: all.len(),
        rps,
        deviation_pct: rps.map(|r| (r - rate) / rate * 100.0),
        per_worker_rps: (0..workers).map(|w| rate_of(&times(Some(w)))).collect(),
    }
}

/// Starts a redis-server of the xtask's own on a free loopback port
/// (installing it when it is missing): the server, stopped when dropped,
/// and its URL.
fn start_redis() -> Result<(ChildGuard, String)> {
    let version = Command::new("redis-server").arg("--version").output();
    if !version.is_ok_and(|o| o.status.success()) {
        apt_install(&["redis-server"])
            .map_err(|e| format!("{e}; install redis-server or give --redis URL"))?;
    }
    let port = free_port()?;
    let child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start redis-server: {e}"))?;
    let server = ChildGuard(child);
    wait_for_port("redis-server", port)?;
    Ok((server, format!("redis://127.0.0.1:{port}/")))
}

/// `xtask compare --workers N`.
pub fn run(exe: &Path, args: &CompareArgs, workers: u32) -> Result<()> {
    let plan = Plan {
        name: "workers".to_owned(),
        requests: args.requests.unwrap_or(2_000),
        concurrency: args.concurrency.unwrap_or(8),
        latency_ms: args.latency_ms.unwrap_or(20),
        capacity: args.capacity,
        // The users resource, no adaptive limit, no cool-down.
        ..Scenario::Seed.plan()
    };
    let runtimes = if args.runtimes.is_empty() {
        Runtime::ADAPTIVE.to_vec()
    } else {
        args.runtimes(&plan)
    };
    if let Some(r) = runtimes.iter().find(|r| !r.is_volley_async()) {
        return Err(format!("--workers runs volley's async runtimes, not {r}").into());
    }
    if plan.requests < workers as usize {
        let requests = plan.requests;
        return Err(format!("--requests {requests} is fewer than the {workers} workers").into());
    }
    let mock = MockProcess::start(exe, plan.latency_ms, plan.capacity)?;
    let mut results = Vec::new();
    for runtime in runtimes {
        println!("running {workers} {runtime} workers...");
        results.push(run_runtime(exe, args, &plan, &mock, runtime, workers)?);
    }
    let report = WorkersReport {
        plan,
        workers,
        rate: args.rate,
        redis: args.redis.clone().unwrap_or_else(|| "own".to_owned()),
        kill_redis_after_ms: args.kill_redis_after_ms,
        results,
    };
    println!("{}", render(&report));
    write_json(args.json.as_deref(), &report)
}

/// One runtime's workers, started together, sharing the rate through a
/// fresh key (and a fresh own redis-server).
fn run_runtime(
    exe: &Path,
    args: &CompareArgs,
    plan: &Plan,
    mock: &MockProcess,
    runtime: Runtime,
    workers: u32,
) -> Result<WorkersResult> {
    let mut own = args.redis.is_none().then(start_redis).transpose()?;
    let own_url = own.as_ref().map(|(_, url)| url.clone());
    let url = args.redis.clone().or(own_url).ok_or("no Redis")?;
    let key = format!("volley:xtask:workers:{}:{runtime}", std::process::id());
    let deadline = Duration::from_secs_f64(2.0 * plan.requests as f64 / args.rate)
        + Duration::from_millis(args.client.timeout_ms)
        + Duration::from_secs(60);
    mock.reset_stats()?;
    let reset = Instant::now();
    let start = reset + START_DELAY;
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH);
    let start_at_ms = (since_epoch.unwrap_or_default() + START_DELAY).as_millis();
    let shared = [
        format!("--redis={url}"),
        format!("--key={key}"),
        format!("--rate={}", args.rate),
        format!("--workers={workers}"),
        format!("--start-at-ms={start_at_ms}"),
    ];
    // Each worker's share of the plan.
    let plans: Vec<Plan> = (0..workers)
        .map(|i| Plan {
            requests: share(plan.requests, workers, i),
            ..plan.clone()
        })
        .collect();
    let (summaries, killed) = std::thread::scope(|s| {
        let handles: Vec<_> = (plans.iter().zip(0..))
            .map(|(plan, i)| {
                let template = format!("{}/users/{{id}}?worker={i}", mock.url);
                let mut command = runner_command(exe, runtime, &template, plan);
                command.args(args.client.to_args()).args(&shared);
                let name = format!("{runtime} worker {i}");
                s.spawn(move || run_runner(command, runtime, &name, plan.requests, deadline))
            })
            .collect();
        let killed = args.kill_redis_after_ms.and_then(|ms| {
            let at = start + Duration::from_millis(ms);
            std::thread::sleep(at.saturating_duration_since(Instant::now()));
            // Killed at once: its guard kills and reaps it.
            drop(own.take()?);
            Some(Instant::now())
        });
        let summaries: Vec<Worker> = (handles.into_iter().zip(&plans))
            .map(|(handle, plan)| {
                let missing = |_| RunOutput::missing(runtime, 0);
                let r = summarize(plan, handle.join().unwrap_or_else(missing), None);
                Worker {
                    requests: plan.requests,
                    ok: r.ok,
                    errors: r.errors,
                    missing: r.missing,
                }
            })
            .collect();
        (summaries, killed)
    });
    drop(own);
    let Arrivals { arrivals, dropped } = mock.arrivals()?;
    if dropped > 0 {
        let kept = arrivals.len();
        eprintln!("warning: the server kept only the first {kept} arrivals");
    }
    let kill_us = killed.map(|k| micros(k.saturating_duration_since(reset)));
    let start = arrivals.first().map_or(0, |a| a.0) + WARMUP_US;
    let part = |span| phase(&arrivals, span, workers, args.rate);
    Ok(WorkersResult {
        runtime,
        ok: summaries.iter().map(|w| w.ok).sum(),
        errors: summaries.iter().map(|w| w.errors.total()).sum(),
        arrivals: arrivals.len(),
        steady: part((start, u64::MAX)),
        kill_at_ms: kill_us.map(|us| us as f64 / 1e3),
        before_kill: kill_us.map(|k| part((start, k))),
        after_kill: kill_us.map(|k| part((k + SETTLE_US, u64::MAX))),
        workers: summaries,
    })
}

/// The table and the lines under it.
fn render(report: &WorkersReport) -> String {
    let (plan, workers, rate) = (&report.plan, report.workers, report.rate);
    let redis = match report.redis.as_str() {
        "own" => "a redis-server of its own",
        url => url,
    };
    let (requests, concurrency, latency) = (plan.requests, plan.concurrency, plan.latency_ms);
    let mut out = format!(
        "workers: {workers} workers per runtime share {rate} req/s through {redis}; {requests} requests, {concurrency} in flight per worker, server latency {latency} ms\n"
    );
    let header =
        "runtime,workers,target req/s,part,req/s at server,deviation,per-worker req/s,ok,errors";
    let (mut rows, mut notes) = (Vec::new(), Vec::new());
    for r in &report.results {
        let parts = [
            ("steady", Some(&r.steady)),
            ("before kill", r.before_kill.as_ref()),
            ("after kill", r.after_kill.as_ref()),
        ];
        for (part, phase) in parts.into_iter().filter_map(|(n, p)| Some((n, p?))) {
            let per: Vec<String> = phase.per_worker_rps.iter().copied().map(tenths).collect();
            let deviation = phase.deviation_pct.map(|d| format!("{d:+.1}%"));
            rows.push(vec![
                r.runtime.to_string(),
                workers.to_string(),
                rate.to_string(),
                part.to_owned(),
                tenths(phase.rps),
                or_dash(deviation),
                per.join("/"),
                r.ok.to_string(),
                r.errors.to_string(),
            ]);
        }
        for (i, w) in r.workers.iter().enumerate() {
            if w.errors.total() > 0 {
                let errors = w.errors.describe();
                notes.push(format!("{} worker {i} errors: {errors}", r.runtime));
            }
        }
        if let Some(at) = r.kill_at_ms {
            let after = at - START_DELAY.as_secs_f64() * 1e3;
            let line = format!("redis-server killed {after:.0} ms after the workers began");
            notes.push(format!("{}: {line}", r.runtime));
        }
    }
    let mut rule = format!(
        "req/s at server: (arrivals - 1) / (last - first), from the requests' arrival times at the server, leaving out the first {} ms",
        WARMUP_US / 1000
    );
    if report.kill_redis_after_ms.is_some() {
        rule.push_str(&format!(
            "; after kill: from {} ms after it (slots reserved in Redis before it still go at their time)",
            SETTLE_US / 1000
        ));
    }
    notes.push(rule);
    out.push_str(&align(&header.split(',').collect::<Vec<_>>(), &rows));
    out.extend(notes.iter().map(|note| format!("  {note}\n")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up() {
        let shares: Vec<usize> = (0..4).map(|i| share(10, 4, i)).collect();
        assert_eq!(shares, [3, 3, 2, 2]);
        assert_eq!((0..4).map(|i| share(2_000, 4, i)).sum::<usize>(), 2_000);
    }

    #[test]
    fn rates_from_arrivals() {
        // Two workers, each every 10 ms, interleaved: 200/s in all, 100/s each.
        let arrivals: Vec<(u64, Option<u32>)> = (0..100)
            .map(|i| (i * 5_000, Some((i % 2) as u32)))
            .collect();
        let p = phase(&arrivals, (0, u64::MAX), 2, 200.0);
        assert_eq!(p.arrivals, 100);
        assert!((p.rps.unwrap_or(0.0) - 200.0).abs() < 1e-9, "{p:?}");
        assert!(p.deviation_pct.unwrap_or(1.0).abs() < 1e-9, "{p:?}");
        for rps in &p.per_worker_rps {
            assert!((rps.unwrap_or(0.0) - 100.0).abs() < 1e-9, "{p:?}");
        }
        assert_eq!((p.from_ms, p.to_ms), (0.0, 495.0));
        assert_eq!(rate_of(&[7]), None);
        // A part: from 250 ms (included) to 300 ms (left out).
        let p = phase(&arrivals, (250_000, 300_000), 2, 250.0);
        assert_eq!((p.from_ms, p.to_ms, p.arrivals), (250.0, 295.0, 10));
        assert!(
            (p.deviation_pct.unwrap_or(0.0) + 20.0).abs() < 1e-9,
            "{p:?}"
        );
        assert_eq!(phase(&arrivals, (800_000, u64::MAX), 2, 1.0).rps, None);
    }
}
