//! What runners report, how it is summarised, and how it is shown: the
//! per-request records, the statistics, the JSON shape and the text table.

use serde::{Deserialize, Serialize};
use volley_core::ErrorKind;

use crate::cli::{ADAPTIVE_INITIAL, Plan, Runtime};
use crate::recorder::Step;

/// How one request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// 2xx and a JSON object with an `id`.
    Ok,
    /// No connection (refused, reset before a response, too many files...).
    Connect,
    /// Out of time.
    Timeout,
    /// A non-2xx status.
    Status,
    /// Not a JSON object with an `id`.
    Decode,
    /// Body over the cap.
    TooLarge,
    /// Body cut short.
    Body,
    /// Anything else (including results a runner never reported).
    Other,
}

impl Outcome {
    /// The error kinds, in the order they are reported.
    pub const ERRORS: [Outcome; 7] = [
        Outcome::Connect,
        Outcome::Timeout,
        Outcome::Status,
        Outcome::Decode,
        Outcome::TooLarge,
        Outcome::Body,
        Outcome::Other,
    ];

    /// The outcome for a volley error kind.
    pub fn from_kind(kind: ErrorKind) -> Outcome {
        match kind {
            ErrorKind::Connect => Outcome::Connect,
            ErrorKind::Timeout => Outcome::Timeout,
            ErrorKind::Status => Outcome::Status,
            ErrorKind::Decode => Outcome::Decode,
            ErrorKind::TooLarge => Outcome::TooLarge,
            ErrorKind::Body => Outcome::Body,
            _ => Outcome::Other,
        }
    }

    /// The outcome for a reqwest error (the plain-reqwest runner).
    pub fn from_reqwest(err: &reqwest::Error) -> Outcome {
        if err.is_timeout() {
            Outcome::Timeout
        } else if err.is_connect() {
            Outcome::Connect
        } else if err.is_status() {
            Outcome::Status
        } else if err.is_decode() {
            Outcome::Decode
        } else if err.is_body() {
            Outcome::Body
        } else {
            Outcome::Other
        }
    }

    /// The snake_case name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Connect => "connect",
            Outcome::Timeout => "timeout",
            Outcome::Status => "status",
            Outcome::Decode => "decode",
            Outcome::TooLarge => "too_large",
            Outcome::Body => "body",
            Outcome::Other => "other",
        }
    }
}

/// One request as its runner saw it: offsets from the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// When it started, in µs.
    pub start_us: u64,
    /// When it ended, in µs.
    pub end_us: u64,
    /// How it ended.
    #[serde(rename = "kind")]
    pub outcome: Outcome,
}

/// The one JSON line `run-one` prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOutput {
    /// The runtime that ran.
    pub runtime: Runtime,
    /// Every request, in input order.
    pub spans: Vec<Span>,
    /// From the first request's start to the last one's end, in µs (the
    /// client was built before the clock started).
    pub wall_us: u64,
    /// The most requests in flight at once, counted by the client.
    pub max_in_flight: u64,
    /// Peak resident memory of the runner process (VmHWM), in kB.
    pub peak_rss_kb: Option<u64>,
    /// Answers that were 429 or 503, counted by the client.
    #[serde(default)]
    pub rejected: u64,
    /// The adaptive limit at the end of the run (adaptive runs only).
    #[serde(default)]
    pub final_limit: Option<usize>,
    /// Requests in flight over time, counted by the client: `(µs, count)`
    /// after each change (thinned).
    #[serde(default)]
    pub in_flight: Vec<Step>,
    /// The adaptive limit over time: `(µs, limit)` after each change, from
    /// the initial limit at 0 (thinned; empty for a fixed limit).
    #[serde(default)]
    pub limits: Vec<Step>,
}

/// Failed requests by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts {
    /// Connection failures.
    pub connect: u64,
    /// Timeouts.
    pub timeout: u64,
    /// Non-2xx statuses.
    pub status: u64,
    /// Bodies that were not a JSON object with an `id`.
    pub decode: u64,
    /// Bodies over the cap.
    pub too_large: u64,
    /// Bodies cut short.
    pub body: u64,
    /// Anything else, including results a runner never reported.
    pub other: u64,
}

impl ErrorCounts {
    /// Counts one more `outcome` (nothing for `Ok`).
    pub fn add(&mut self, outcome: Outcome, n: u64) {
        let slot = match outcome {
            Outcome::Ok => return,
            Outcome::Connect => &mut self.connect,
            Outcome::Timeout => &mut self.timeout,
            Outcome::Status => &mut self.status,
            Outcome::Decode => &mut self.decode,
            Outcome::TooLarge => &mut self.too_large,
            Outcome::Body => &mut self.body,
            Outcome::Other => &mut self.other,
        };
        *slot += n;
    }

    /// The count for one kind.
    pub fn get(&self, outcome: Outcome) -> u64 {
        match outcome {
            Outcome::Ok => 0,
            Outcome::Connect => self.connect,
            Outcome::Timeout => self.timeout,
            Outcome::Status => self.status,
            Outcome::Decode => self.decode,
            Outcome::TooLarge => self.too_large,
            Outcome::Body => self.body,
            Outcome::Other => self.other,
        }
    }

    /// All failures.
    pub fn total(&self) -> u64 {
        Outcome::ERRORS.iter().map(|&o| self.get(o)).sum()
    }

    /// `timeout 3, status 1`, or empty when there were none.
    pub fn describe(&self) -> String {
        Outcome::ERRORS
            .iter()
            .filter(|&&o| self.get(o) > 0)
            .map(|&o| format!("{} {}", o.as_str(), self.get(o)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// One runtime's results in a scenario, as written to JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeResult {
    /// The runtime's name.
    pub runtime: Runtime,
    /// The concurrency it ran at (1 for blocking); for an adaptive limit,
    /// the most it could grow to.
    pub concurrency: usize,
    /// True when it ran with an adaptive limit (absent otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adaptive: bool,
    /// Requests that succeeded.
    pub ok: u64,
    /// Requests that failed, by kind; `ok` plus all of these is the
    /// scenario's request count.
    pub errors: ErrorCounts,
    /// Results the runner never reported (already counted in `errors.other`).
    pub missing: u64,
    /// Wall time, in s.
    pub wall_s: f64,
    /// The ideal time at this runtime's concurrency (at most the server's
    /// capacity), in s.
    pub ideal_s: f64,
    /// wall / ideal, when the ideal is not zero.
    pub ratio: Option<f64>,
    /// Requests (ok or not) per second of wall time.
    pub rps: f64,
    /// Median latency of the successful requests, in ms.
    pub p50_ms: Option<f64>,
    /// 99th percentile latency of the successful requests, in ms.
    pub p99_ms: Option<f64>,
    /// Most requests in flight at once: counted by the embedded server, or by
    /// the client with an external server.
    pub max_in_flight: u64,
    /// Most requests in flight at once, counted by the client.
    pub client_max_in_flight: u64,
    /// Peak resident memory of the runner process, in kB.
    pub peak_rss_kb: Option<u64>,
    /// Requests the server turned away (503): counted by the embedded
    /// server, or as 429/503 answers by the client with an external one.
    /// Only in runs against a server of limited capacity or with
    /// `--adaptive` (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u64>,
    /// The adaptive limit at the end of the run (adaptive rows only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_limit: Option<usize>,
    /// With `--repeat N`: the wall time of every run, in s, in the order
    /// run; the row is the run of median wall time (absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub walls_s: Vec<f64>,
    /// Every request, for the timeline (not written to JSON).
    #[serde(skip)]
    pub spans: Vec<Span>,
    /// Requests in flight over time, for the timeline (not written to JSON).
    #[serde(skip)]
    pub in_flight_curve: Vec<Step>,
    /// The adaptive limit over time, for the timeline (not written to JSON).
    #[serde(skip)]
    pub limit_curve: Vec<Step>,
}

impl RuntimeResult {
    /// The limit it ran under, for tables: `adaptive 20->47` (initial and
    /// final) or `fixed 50`.
    pub fn limit_label(&self) -> String {
        if self.adaptive {
            let initial = self
                .limit_curve
                .first()
                .map_or(ADAPTIVE_INITIAL.min(self.concurrency) as u64, |s| s.1);
            match self.final_limit {
                Some(end) => format!("adaptive {initial}->{end}"),
                None => format!("adaptive {initial}->?"),
            }
        } else {
            format!("fixed {}", self.concurrency)
        }
    }
}

/// A runtime that was not run, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    /// The runtime.
    pub runtime: Runtime,
    /// Why.
    pub reason: String,
}

/// One scenario's results, as written to JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// The scenario's name.
    pub scenario: String,
    /// Requests per runtime.
    pub requests: usize,
    /// The concurrency asked for (blocking runs at 1).
    pub concurrency: usize,
    /// The server's latency per request, in ms.
    pub latency_ms: u64,
    /// The server takes at most this many at once (the rest get 503), when
    /// limited (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<usize>,
    /// With `--adaptive`: the adaptive limit's initial and maximum values
    /// (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveBounds>,
    /// ceil(requests / concurrency) x latency, in s, with the concurrency
    /// at most the server's capacity.
    pub ideal_s: f64,
    /// The URL template requested.
    pub url: String,
    /// True when the server was the embedded volley-mock.
    pub embedded_server: bool,
    /// One entry per runtime that ran, in order.
    pub results: Vec<RuntimeResult>,
    /// Runtimes that were not run.
    pub skipped: Vec<Skipped>,
}

/// The bounds of an adaptive run's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdaptiveBounds {
    /// Where the limit starts.
    pub initial: usize,
    /// The most it may grow to.
    pub max: usize,
}

/// The ideal wall time, in s: ceil(requests / concurrency) x latency.
pub fn ideal_s(requests: usize, concurrency: usize, latency_ms: u64) -> f64 {
    let rounds = requests.div_ceil(concurrency.max(1));
    rounds as f64 * latency_ms as f64 / 1000.0
}

/// The `p`th percentile (0..=100) of `sorted` by nearest rank, or `None` when
/// it is empty.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted.get(index).copied()
}

/// Reads `VmHWM` (peak resident memory, kB) from the text of `/proc/self/status`.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix("VmHWM:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// What the orchestrator knows of one runtime's run.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    /// The runtime.
    pub runtime: Runtime,
    /// The scenario.
    pub plan: &'a Plan,
    /// The runner's report, if it gave one.
    pub output: Option<&'a RunOutput>,
    /// Wall time measured from outside, used when the runner gave none.
    pub fallback_wall_us: u64,
    /// The server's count of requests in flight at once, when embedded.
    pub server_max_in_flight: Option<u64>,
    /// The server's count of requests it turned away, when embedded.
    pub server_rejected: Option<u64>,
}

/// Turns a run into its summary. Requests the runner did not report (it
/// crashed, or gave fewer results) are counted as `other`, so `ok` plus all
/// errors is always the scenario's request count.
pub fn summarize(facts: &RunFacts<'_>) -> RuntimeResult {
    let plan = facts.plan;
    let requests = plan.requests;
    let spans: Vec<Span> = facts
        .output
        .map(|o| o.spans.iter().take(requests).copied().collect())
        .unwrap_or_default();
    let mut ok = 0u64;
    let mut errors = ErrorCounts::default();
    let mut latencies = Vec::with_capacity(spans.len());
    for span in &spans {
        if span.outcome == Outcome::Ok {
            ok += 1;
            latencies.push(span.end_us.saturating_sub(span.start_us) as f64 / 1000.0);
        } else {
            errors.add(span.outcome, 1);
        }
    }
    let missing = (requests - spans.len()) as u64;
    errors.add(Outcome::Other, missing);
    latencies.sort_by(f64::total_cmp);

    let wall_us = facts
        .output
        .map_or(facts.fallback_wall_us, |o| o.wall_us)
        .max(1);
    let wall_s = wall_us as f64 / 1e6;
    let concurrency = plan.runtime_concurrency(facts.runtime);
    let ideal = ideal_s(requests, plan.served_at_once(concurrency), plan.latency_ms);
    let client_max = facts.output.map_or(0, |o| o.max_in_flight);
    let shows_rejections = plan.capacity.is_some() || plan.adaptive_max.is_some();
    let client_rejected = facts.output.map(|o| o.rejected);
    RuntimeResult {
        runtime: facts.runtime,
        concurrency,
        adaptive: plan.is_adaptive(facts.runtime),
        ok,
        errors,
        missing,
        wall_s,
        ideal_s: ideal,
        ratio: (ideal > 0.0).then(|| wall_s / ideal),
        rps: requests as f64 / wall_s,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        max_in_flight: facts.server_max_in_flight.unwrap_or(client_max),
        client_max_in_flight: client_max,
        peak_rss_kb: facts.output.and_then(|o| o.peak_rss_kb),
        rejected: shows_rejections
            .then(|| facts.server_rejected.or(client_rejected))
            .flatten(),
        final_limit: facts.output.and_then(|o| o.final_limit),
        walls_s: Vec::new(),
        spans,
        in_flight_curve: facts
            .output
            .map(|o| o.in_flight.clone())
            .unwrap_or_default(),
        limit_curve: facts.output.map(|o| o.limits.clone()).unwrap_or_default(),
    }
}

/// The run of median wall time among `runs` of one runtime, carrying every
/// run's wall time in `walls_s` (a single run is returned as it is).
pub fn median_run(mut runs: Vec<RuntimeResult>) -> Option<RuntimeResult> {
    if runs.len() < 2 {
        return runs.pop();
    }
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let mid = runs.len() / 2;
    let mut median = runs.swap_remove(mid);
    median.walls_s = walls;
    Some(median)
}

/// Aligns `rows` under `header`: the first column to the left, the others to
/// the right, two spaces between columns.
pub fn align(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(cell.chars().count());
            }
        }
    }
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let width = widths.get(i).copied().unwrap_or(0);
            if i == 0 {
                line.push_str(&format!("{cell:<width$}"));
            } else {
                line.push_str(&format!("  {cell:>width$}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn secs(s: f64) -> String {
    format!("{s:.3} s")
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn rate(rps: f64) -> String {
    if rps >= 100.0 {
        format!("{rps:.0}")
    } else {
        format!("{rps:.1}")
    }
}

/// The scenario's table and the lines under it.
pub fn render_table(report: &ScenarioReport) -> String {
    let adaptive = report.adaptive.is_some();
    let rejections = report.capacity.is_some() || adaptive;
    let mut header = vec![
        "runtime",
        if adaptive { "limit" } else { "conc" },
        "ok",
        "errors",
        "wall",
        "ideal",
        "wall/ideal",
        "req/s",
        "p50 ms",
        "p99 ms",
        if report.embedded_server {
            "max in flight srv/cli"
        } else {
            "max in flight"
        },
        "peak MB",
    ];
    if rejections {
        header.insert(4, "rejected");
    }
    let rows: Vec<Vec<String>> = report
        .results
        .iter()
        .map(|r| {
            let mut row = vec![
                r.runtime.name(),
                if adaptive {
                    r.limit_label()
                } else {
                    r.concurrency.to_string()
                },
                r.ok.to_string(),
                r.errors.total().to_string(),
                secs(r.wall_s),
                secs(r.ideal_s),
                r.ratio
                    .map_or_else(|| "-".to_owned(), |x| format!("{x:.2}x")),
                rate(r.rps),
                ms(r.p50_ms),
                ms(r.p99_ms),
                if report.embedded_server {
                    format!("{}/{}", r.max_in_flight, r.client_max_in_flight)
                } else {
                    r.max_in_flight.to_string()
                },
                r.peak_rss_kb
                    .map_or_else(|| "-".to_owned(), |kb| format!("{:.1}", kb as f64 / 1024.0)),
            ];
            if rejections {
                row.insert(
                    4,
                    r.rejected.map_or_else(|| "-".to_owned(), |n| n.to_string()),
                );
            }
            row
        })
        .collect();

    let mut out = format!(
        "{}: {} requests, concurrency {}{}{}, server latency {} ms, ideal {} ({})\n",
        report.scenario,
        report.requests,
        report.concurrency,
        report.adaptive.map_or_else(String::new, |a| format!(
            " (adaptive runs: limit from {} up to {})",
            a.initial, a.max
        )),
        report
            .capacity
            .map_or_else(String::new, |k| format!(", server capacity {k}")),
        report.latency_ms,
        secs(report.ideal_s),
        if report.embedded_server {
            format!("embedded volley-mock, {}", report.url)
        } else {
            format!("external server, {}", report.url)
        }
    );
    if rows.is_empty() {
        out.push_str("(no runtime ran)\n");
    } else {
        out.push_str(&align(&header, &rows));
    }
    for r in &report.results {
        if r.errors.total() > 0 {
            out.push_str(&format!(
                "  {} errors: {}{}\n",
                r.runtime.name(),
                r.errors.describe(),
                if r.missing > 0 {
                    format!(" ({} never reported by the runner)", r.missing)
                } else {
                    String::new()
                }
            ));
        }
    }
    for r in report.results.iter().filter(|r| r.walls_s.len() > 1) {
        let walls: Vec<String> = r.walls_s.iter().map(|w| format!("{w:.3}")).collect();
        out.push_str(&format!(
            "  {}: the median of {} runs, interleaved with the others; walls {} s\n",
            r.runtime.name(),
            r.walls_s.len(),
            walls.join(", ")
        ));
    }
    for s in &report.skipped {
        out.push_str(&format!("  {} skipped: {}\n", s.runtime.name(), s.reason));
    }
    if report
        .results
        .iter()
        .any(|r| r.runtime == Runtime::Blocking)
    {
        out.push_str(&format!(
            "  blocking is strictly sequential: concurrency 1, ideal = {} x {} ms\n",
            report.requests, report.latency_ms
        ));
    }
    out.push_str(if report.embedded_server {
        "  max in flight: requests the server was handling at once / the client had started\n"
    } else {
        "  max in flight: counted by the client\n"
    });
    out.push_str(
        "  p50/p99: latency of the successful requests; peak MB: the runner process's VmHWM\n",
    );
    if adaptive {
        out.push_str(
            "  limit: adaptive rows send every request at once through an adaptive limit (initial->final); fixed rows keep N in flight\n",
        );
    }
    if rejections {
        out.push_str(if report.embedded_server {
            "  rejected: requests the server turned away with 503 (counted by the server; not retried, so also in `status` errors)\n"
        } else {
            "  rejected: 429/503 answers seen by the client (not retried, so also in `status` errors)\n"
        });
    }
    let at_most = report.capacity.map_or_else(String::new, |k| {
        format!("; at most {k} at once can be served, whatever the limit")
    });
    if adaptive {
        out.push_str(&format!(
            "  ideal: each row's at its own limit, an adaptive row's at its maximum{at_most}\n"
        ));
    } else if !at_most.is_empty() {
        out.push_str(&format!("  ideal: {}\n", &at_most[2..]));
    }
    for line in comparisons(report) {
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// The speedup lines: the fastest volley async runtime over blocking (or
/// over blocking's ideal when it was skipped), and volley against plain
/// reqwest when it ran.
pub fn comparisons(report: &ScenarioReport) -> Vec<String> {
    let results = &report.results;
    let find = |runtime: Runtime| results.iter().find(|r| r.runtime == runtime);
    // The fastest volley async runtime among those that got every answer
    // (a run that was mostly turned away can be fast), or among all.
    let volley: Vec<&RuntimeResult> = results
        .iter()
        .filter(|r| r.runtime.is_volley_async())
        .collect();
    let complete: Vec<&RuntimeResult> = volley
        .iter()
        .copied()
        .filter(|r| r.ok == report.requests as u64)
        .collect();
    let fastest = if complete.is_empty() {
        volley
    } else {
        complete
    }
    .into_iter()
    .min_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let mut lines = Vec::new();
    if let Some(adaptive) = find(Runtime::Tokio).filter(|r| r.adaptive) {
        for fixed in results
            .iter()
            .filter(|r| matches!(r.runtime, Runtime::TokioFixed(_)))
        {
            lines.push(versus_fixed(adaptive, fixed));
        }
    }
    let Some(fastest) = fastest else {
        return lines;
    };
    if let Some(blocking) = find(Runtime::Blocking) {
        let ratio = blocking.wall_s / fastest.wall_s;
        lines.push(format!(
            "speedup: {} (fastest async) is {:.1}x {} than blocking ({} vs {})",
            fastest.runtime.name(),
            if ratio >= 1.0 { ratio } else { 1.0 / ratio },
            if ratio >= 1.0 { "faster" } else { "slower" },
            secs(fastest.wall_s),
            secs(blocking.wall_s)
        ));
    } else if report
        .skipped
        .iter()
        .any(|s| s.runtime == Runtime::Blocking)
    {
        let sequential = ideal_s(report.requests, 1, report.latency_ms);
        lines.push(format!(
            "speedup: blocking skipped; against its sequential ideal ({sequential:.0} s), {} (fastest async) is {:.0}x faster",
            fastest.runtime.name(),
            sequential / fastest.wall_s
        ));
    }
    if let Some(plain) = find(Runtime::PlainReqwest) {
        lines.push(versus_plain("fastest volley", fastest, plain));
        if let Some(tokio) = find(Runtime::Tokio).filter(|t| t.runtime != fastest.runtime) {
            lines.push(versus_plain("same runtime and client", tokio, plain));
        }
    }
    lines.extend(round_by_round(results));
    lines
}

/// With `--repeat N`: each runtime's speed against tokio's, round by round
/// (tokio's wall time over its own, in the same round), as the median and
/// range of the N ratios. The machine's speed drifts over minutes; within
/// a round the runtimes run one after another, so the drift mostly cancels.
fn round_by_round(results: &[RuntimeResult]) -> Option<String> {
    let tokio = results.iter().find(|r| r.runtime == Runtime::Tokio)?;
    let rounds = tokio.walls_s.len();
    if rounds < 2 {
        return None;
    }
    let parts: Vec<String> = results
        .iter()
        .filter(|r| r.runtime != Runtime::Tokio && r.walls_s.len() == rounds)
        .filter_map(|r| {
            let mut ratios: Vec<f64> = tokio
                .walls_s
                .iter()
                .zip(&r.walls_s)
                .map(|(t, w)| t / w)
                .collect();
            ratios.sort_by(f64::total_cmp);
            let median = ratios[rounds / 2];
            Some(format!(
                "{} {median:.2} ({:.2}-{:.2})",
                r.runtime.name(),
                ratios.first()?,
                ratios.last()?
            ))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    Some(format!(
        "round by round, speed against tokio (median and range of {rounds} rounds; above 1 is faster): {}",
        parts.join(", ")
    ))
}

/// `adaptive vs fixed: tokio (adaptive 20->47): 4988 ok, 12 rejected in
/// 21.000 s; tokio-fixed-20: 5000 ok, 0 rejected in 50.000 s; adaptive
/// 2.38x faster`. Times are compared only when the fixed limit got at least
/// as many answers; otherwise the line says how many more it lost.
fn versus_fixed(adaptive: &RuntimeResult, fixed: &RuntimeResult) -> String {
    let rejected = |r: &RuntimeResult| r.rejected.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let verdict = if fixed.ok < adaptive.ok {
        format!(
            "the fixed limit lost {} more answers",
            adaptive.ok - fixed.ok
        )
    } else {
        let ratio = fixed.wall_s / adaptive.wall_s;
        format!(
            "adaptive {:.2}x {}",
            if ratio >= 1.0 { ratio } else { 1.0 / ratio },
            if ratio >= 1.0 { "faster" } else { "slower" }
        )
    };
    format!(
        "adaptive vs fixed: {} ({}): {} ok, {} rejected in {}; {}: {} ok, {} rejected in {}; {verdict}",
        adaptive.runtime.name(),
        adaptive.limit_label(),
        adaptive.ok,
        rejected(adaptive),
        secs(adaptive.wall_s),
        fixed.runtime.name(),
        fixed.ok,
        rejected(fixed),
        secs(fixed.wall_s),
    )
}

/// `vs plain reqwest: tokio (what) takes 1.000 s against 1.100 s: 1.10x faster`.
fn versus_plain(what: &str, volley: &RuntimeResult, plain: &RuntimeResult) -> String {
    let ratio = plain.wall_s / volley.wall_s;
    format!(
        "vs plain reqwest: {} ({what}) takes {} against {}: {:.2}x {}",
        volley.runtime.name(),
        secs(volley.wall_s),
        secs(plain.wall_s),
        if ratio >= 1.0 { ratio } else { 1.0 / ratio },
        if ratio >= 1.0 { "faster" } else { "slower" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Scenario;

    #[test]
    fn ideal_time() {
        assert_eq!(ideal_s(10, 10, 200), 0.2);
        assert_eq!(ideal_s(10, 1, 200), 2.0);
        assert_eq!(ideal_s(100, 20, 200), 1.0);
        assert_eq!(ideal_s(101, 20, 200), 1.2);
        assert_eq!(ideal_s(10_000, 1_000, 200), 2.0);
        assert_eq!(ideal_s(20_000, 64, 0), 0.0);
        assert_eq!(ideal_s(5, 0, 100), 0.5); // 0 counts as 1
        assert_eq!(ideal_s(3, 10, 200), 0.2);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), Some(50.0));
        assert_eq!(percentile(&v, 99.0), Some(99.0));
        assert_eq!(percentile(&v, 100.0), Some(100.0));
        assert_eq!(percentile(&v, 0.0), Some(1.0));
        assert_eq!(percentile(&[7.0], 99.0), Some(7.0));
        assert_eq!(percentile(&[1.0, 2.0], 50.0), Some(1.0));
        assert_eq!(percentile(&[1.0, 2.0], 99.0), Some(2.0));
        let ten: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(percentile(&ten, 50.0), Some(5.0));
        assert_eq!(percentile(&ten, 99.0), Some(10.0));
        assert_eq!(percentile(&[], 50.0), None);
    }

    #[test]
    fn error_kind_mapping() {
        let cases = [
            (ErrorKind::Connect, "connect"),
            (ErrorKind::Timeout, "timeout"),
            (ErrorKind::Status, "status"),
            (ErrorKind::Decode, "decode"),
            (ErrorKind::TooLarge, "too_large"),
            (ErrorKind::Body, "body"),
            (ErrorKind::InvalidRequest, "other"),
            (ErrorKind::Redirect, "other"),
            (ErrorKind::Cancelled, "other"),
            (ErrorKind::Other, "other"),
        ];
        for (kind, name) in cases {
            let outcome = Outcome::from_kind(kind);
            assert_eq!(outcome.as_str(), name, "{kind:?}");
            assert_eq!(
                serde_json::to_value(outcome).expect("serializes"),
                serde_json::json!(name)
            );
        }
        let mut counts = ErrorCounts::default();
        for o in Outcome::ERRORS {
            counts.add(o, 2);
        }
        counts.add(Outcome::Ok, 5);
        assert_eq!(counts.total(), 14);
        let json = serde_json::to_value(counts).expect("serializes");
        for o in Outcome::ERRORS {
            assert_eq!(json[o.as_str()], 2, "{o:?}");
        }
    }

    #[test]
    fn vm_hwm() {
        let status = "Name:\txtask\nVmPeak:\t  123456 kB\nVmHWM:\t    8812 kB\nVmRSS:\t 8000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(8812));
        assert_eq!(parse_vm_hwm("Name: x\n"), None);
    }

    fn span(start_ms: u64, end_ms: u64, outcome: Outcome) -> Span {
        Span {
            start_us: start_ms * 1000,
            end_us: end_ms * 1000,
            outcome,
        }
    }

    #[test]
    fn summary_and_json_shape() {
        let plan = Scenario::Seed.plan();
        let mut spans: Vec<Span> = (0..8).map(|i| span(i, 200 + i, Outcome::Ok)).collect();
        spans.push(span(0, 30_000, Outcome::Timeout));
        let output = RunOutput {
            runtime: Runtime::Tokio,
            spans, // 9 of 10: one never reported
            wall_us: 250_000,
            max_in_flight: 10,
            peak_rss_kb: Some(10_240),
            rejected: 0,
            final_limit: None,
            in_flight: vec![(0, 1), (5, 0)],
            limits: vec![],
        };
        let result = summarize(&RunFacts {
            runtime: Runtime::Tokio,
            plan: &plan,
            output: Some(&output),
            fallback_wall_us: 0,
            server_max_in_flight: Some(9),
            server_rejected: Some(0),
        });
        assert_eq!(result.ok, 8);
        assert_eq!(result.errors.timeout, 1);
        assert_eq!(result.errors.other, 1);
        assert_eq!(result.missing, 1);
        assert_eq!(result.max_in_flight, 9);
        assert_eq!(result.client_max_in_flight, 10);
        assert_eq!(result.p50_ms, Some(200.0));
        assert!((result.wall_s - 0.25).abs() < 1e-9);
        assert!((result.rps - 40.0).abs() < 1e-9);
        assert_eq!(result.ratio, Some(1.25));
        // Not an adaptive run, no capacity: neither field is shown.
        assert!(!result.adaptive);
        assert_eq!((result.rejected, result.final_limit), (None, None));
        assert_eq!(result.in_flight_curve, [(0, 1), (5, 0)]);

        // A runner that crashed before reporting anything.
        let crashed = summarize(&RunFacts {
            runtime: Runtime::Blocking,
            plan: &plan,
            output: None,
            fallback_wall_us: 1_000_000,
            server_max_in_flight: None,
            server_rejected: None,
        });
        assert_eq!(crashed.ok, 0);
        assert_eq!(crashed.errors.other, 10);
        assert_eq!(crashed.concurrency, 1);
        assert_eq!(crashed.ideal_s, 2.0);
        assert_eq!(crashed.p50_ms, None);

        let report = ScenarioReport {
            scenario: plan.name.clone(),
            requests: plan.requests,
            concurrency: plan.concurrency,
            latency_ms: plan.latency_ms,
            capacity: None,
            adaptive: None,
            ideal_s: ideal_s(plan.requests, plan.concurrency, plan.latency_ms),
            url: "http://127.0.0.1:1/users/{id}".to_owned(),
            embedded_server: true,
            results: vec![result, crashed],
            skipped: vec![],
        };
        let json = serde_json::to_value(&report).expect("serializes");
        for field in [
            "scenario",
            "requests",
            "concurrency",
            "latency_ms",
            "ideal_s",
        ] {
            assert!(json.get(field).is_some(), "{field} missing");
        }
        for field in ["capacity", "adaptive"] {
            assert!(json.get(field).is_none(), "{field} present");
        }
        assert_eq!(json["scenario"], "seed");
        assert_eq!(json["ideal_s"], 0.2);
        let results = json["results"].as_array().expect("results array");
        assert_eq!(results.len(), 2);
        assert_eq!(results[0]["runtime"], "tokio");
        assert_eq!(results[1]["runtime"], "blocking");
        for r in results {
            for field in [
                "runtime",
                "ok",
                "errors",
                "wall_s",
                "rps",
                "p50_ms",
                "p99_ms",
                "max_in_flight",
                "peak_rss_kb",
            ] {
                assert!(r.get(field).is_some(), "{field} missing in {r}");
            }
            for absent in ["spans", "rejected", "final_limit", "adaptive"] {
                assert!(r.get(absent).is_none(), "{absent} in {r}");
            }
            let errors = r["errors"].as_object().expect("errors object");
            assert_eq!(errors.len(), 7);
            let failed: u64 = errors.values().map(|v| v.as_u64().expect("count")).sum();
            let ok = r["ok"].as_u64().expect("ok");
            assert_eq!(ok + failed, 10, "ok + errors == requests in {r}");
        }
        // It reads back.
        let back: ScenarioReport = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back.results.len(), 2);

        let table = render_table(&report);
        assert!(table.contains("wall/ideal"), "{table}");
        assert!(
            table.contains("tokio errors: timeout 1, other 1"),
            "{table}"
        );
        assert!(table.contains("speedup: tokio"), "{table}");
    }

    #[test]
    fn run_output_round_trip() {
        let output = RunOutput {
            runtime: Runtime::PlainReqwest,
            spans: vec![span(1, 2, Outcome::TooLarge)],
            wall_us: 5,
            max_in_flight: 1,
            peak_rss_kb: None,
            rejected: 3,
            final_limit: Some(7),
            in_flight: vec![(0, 1), (2, 0)],
            limits: vec![(0, 20), (1, 10)],
        };
        let line = serde_json::to_string(&output).expect("serializes");
        assert!(!line.contains('\n'));
        assert!(line.contains(r#""runtime":"plain-reqwest""#), "{line}");
        assert!(line.contains(r#""kind":"too_large""#), "{line}");
        let back: RunOutput = serde_json::from_str(&line).expect("parses");
        assert_eq!(back.spans, output.spans);
        assert_eq!((back.rejected, back.final_limit), (3, Some(7)));
        assert_eq!(back.limits, output.limits);
        assert_eq!(back.in_flight, output.in_flight);
    }

    fn result(runtime: Runtime, wall_s: f64) -> RuntimeResult {
        RuntimeResult {
            runtime,
            concurrency: 1000,
            ok: 10_000,
            errors: ErrorCounts::default(),
            missing: 0,
            wall_s,
            ideal_s: 2.0,
            ratio: Some(wall_s / 2.0),
            rps: 10_000.0 / wall_s,
            p50_ms: Some(200.0),
            p99_ms: Some(300.0),
            max_in_flight: 1000,
            client_max_in_flight: 1000,
            peak_rss_kb: Some(40_000),
            adaptive: false,
            rejected: None,
            final_limit: None,
            walls_s: vec![],
            spans: vec![],
            in_flight_curve: vec![],
            limit_curve: vec![],
        }
    }

    #[test]
    fn the_median_run_keeps_every_wall() {
        let runs = vec![
            result(Runtime::Tokio, 2.3),
            result(Runtime::Tokio, 2.1),
            result(Runtime::Tokio, 2.2),
        ];
        let median = median_run(runs).expect("a run");
        assert_eq!(median.wall_s, 2.2);
        assert_eq!(median.walls_s, vec![2.3, 2.1, 2.2]);
        let one = median_run(vec![result(Runtime::Smol, 2.0)]).expect("a run");
        assert!(one.walls_s.is_empty());
        assert!(median_run(vec![]).is_none());
    }

    #[test]
    fn comparison_lines() {
        let plan = Scenario::Scale.plan();
        let report = ScenarioReport {
            scenario: plan.name.clone(),
            requests: plan.requests,
            concurrency: plan.concurrency,
            latency_ms: plan.latency_ms,
            capacity: None,
            adaptive: None,
            ideal_s: 2.0,
            url: "http://127.0.0.1:1/users/{id}".to_owned(),
            embedded_server: true,
            results: vec![
                result(Runtime::Tokio, 2.5),
                result(Runtime::Smol, 2.0),
                result(Runtime::PlainReqwest, 2.2),
            ],
            skipped: vec![Skipped {
                runtime: Runtime::Blocking,
                reason: "too slow".to_owned(),
            }],
        };
        let lines = comparisons(&report);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(
            lines[0].contains("blocking skipped") && lines[0].contains("1000x"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("smol (fastest volley)") && lines[1].contains("1.10x faster"),
            "{lines:?}"
        );
        assert!(
            lines[2].contains("tokio (same runtime and client)") && lines[2].contains("slower"),
            "{lines:?}"
        );
        let table = render_table(&report);
        assert!(table.contains("1000/1000"), "{table}");
        assert!(table.contains("blocking skipped: too slow"), "{table}");
    }

    #[test]
    fn round_by_round_ratios_against_tokio() {
        let with_walls = |runtime, walls: &[f64]| RuntimeResult {
            walls_s: walls.to_vec(),
            ..result(runtime, walls[walls.len() / 2])
        };
        let results = vec![
            with_walls(Runtime::Tokio, &[1.0, 2.0, 1.0]),
            // Twice as slow in every round, whatever the round's speed.
            with_walls(Runtime::Smol, &[2.0, 4.0, 2.0]),
            with_walls(Runtime::PlainReqwest, &[0.5, 2.0, 1.25]),
        ];
        let line = round_by_round(&results).expect("a line");
        assert!(line.contains("of 3 rounds"), "{line}");
        assert!(line.contains("smol 0.50 (0.50-0.50)"), "{line}");
        assert!(line.contains("plain-reqwest 1.00 (0.80-2.00)"), "{line}");
        // One run each: nothing to pair.
        let single = vec![result(Runtime::Tokio, 1.0), result(Runtime::Smol, 2.0)];
        assert!(round_by_round(&single).is_none());
    }

    #[test]
    fn adaptive_summary_table_and_json() {
        let mut plan = Scenario::Capacity.plan();
        plan.adaptive_max = Some(1_000);
        let spans: Vec<Span> = (0..plan.requests as u64)
            .map(|i| {
                let outcome = if i < 12 { Outcome::Status } else { Outcome::Ok };
                span(i * 4, i * 4 + 200, outcome)
            })
            .collect();
        let output = RunOutput {
            runtime: Runtime::Tokio,
            spans,
            wall_us: 21_000_000,
            max_in_flight: 60,
            peak_rss_kb: Some(20_000),
            rejected: 11, // the client's count; the server's wins
            final_limit: Some(47),
            in_flight: vec![(0, 20), (10, 50)],
            limits: vec![(0, 20), (200_000, 10), (400_000, 11)],
        };
        let adaptive = summarize(&RunFacts {
            runtime: Runtime::Tokio,
            plan: &plan,
            output: Some(&output),
            fallback_wall_us: 0,
            server_max_in_flight: Some(50),
            server_rejected: Some(12),
        });
        assert!(adaptive.adaptive);
        assert_eq!(adaptive.concurrency, 1_000);
        assert_eq!(adaptive.ideal_s, 20.0); // at most 50 served at once
        assert_eq!(adaptive.rejected, Some(12));
        assert_eq!(adaptive.final_limit, Some(47));
        assert_eq!(adaptive.errors.status, 12);
        assert_eq!(adaptive.ok + adaptive.errors.total(), 5_000);
        assert_eq!(adaptive.limit_label(), "adaptive 20->47");
        assert_eq!(adaptive.limit_curve.len(), 3);

        let fixed_output = RunOutput {
            runtime: Runtime::TokioFixed(20),
            spans: (0..5_000).map(|i| span(i, i + 200, Outcome::Ok)).collect(),
            wall_us: 50_000_000,
            max_in_flight: 20,
            peak_rss_kb: None,
            rejected: 0,
            final_limit: None,
            in_flight: vec![],
            limits: vec![],
        };
        let fixed = summarize(&RunFacts {
            runtime: Runtime::TokioFixed(20),
            plan: &plan,
            output: Some(&fixed_output),
            fallback_wall_us: 0,
            server_max_in_flight: Some(20),
            server_rejected: None, // stats unreadable: the client's count
        });
        assert!(!fixed.adaptive);
        assert_eq!(fixed.concurrency, 20);
        assert_eq!(fixed.ideal_s, 50.0);
        assert_eq!((fixed.rejected, fixed.final_limit), (Some(0), None));
        assert_eq!(fixed.limit_label(), "fixed 20");

        let report = ScenarioReport {
            scenario: plan.name.clone(),
            requests: plan.requests,
            concurrency: plan.concurrency,
            latency_ms: plan.latency_ms,
            capacity: plan.capacity,
            adaptive: Some(AdaptiveBounds {
                initial: 20,
                max: 1_000,
            }),
            ideal_s: 20.0,
            url: "http://127.0.0.1:1/users/{id}".to_owned(),
            embedded_server: true,
            results: vec![adaptive, fixed],
            skipped: vec![],
        };
        let json = serde_json::to_value(&report).expect("serializes");
        assert_eq!(json["capacity"], 50);
        assert_eq!(json["adaptive"]["max"], 1_000);
        let results = json["results"].as_array().expect("results");
        assert_eq!(results[0]["rejected"], 12);
        assert_eq!(results[0]["final_limit"], 47);
        assert_eq!(results[0]["adaptive"], true);
        assert_eq!(results[1]["runtime"], "tokio-fixed-20");
        assert_eq!(results[1]["rejected"], 0);
        assert!(results[1].get("final_limit").is_none());
        assert!(results[1].get("adaptive").is_none());
        let back: ScenarioReport = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back.results[0].final_limit, Some(47));

        let table = render_table(&report);
        let header = table.lines().nth(1).expect("header");
        assert!(header.starts_with("runtime"), "{table}");
        assert!(
            header.contains("limit") && header.contains("rejected") && !header.contains("conc"),
            "{table}"
        );
        assert!(table.contains("adaptive 20->47"), "{table}");
        assert!(table.contains("fixed 20"), "{table}");
        assert!(table.contains("server capacity 50"), "{table}");
        assert!(
            table.contains("adaptive vs fixed: tokio (adaptive 20->47): 4988 ok, 12 rejected in 21.000 s; tokio-fixed-20: 5000 ok, 0 rejected in 50.000 s; adaptive 2.38x faster"),
            "{table}"
        );
        // A fixed limit that was mostly turned away is quick, not better.
        let mut report = report;
        report.results[1].ok = 50;
        report.results[1].wall_s = 0.2;
        assert!(
            render_table(&report).contains("in 0.200 s; the fixed limit lost 4938 more answers"),
            "{}",
            render_table(&report)
        );
    }

    #[test]
    fn table_is_aligned() {
        let t = align(
            &["runtime", "ok"],
            &[
                vec!["tokio".into(), "10".into()],
                vec!["async-std".into(), "9".into()],
            ],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "runtime    ok");
        assert_eq!(lines[1], "tokio      10");
        assert_eq!(lines[2], "async-std   9");
    }
}
