//! From what a runner reported to a runtime's summary.

use std::collections::BTreeMap;

use volley_mock::Stats;

use super::model::{ErrorCounts, Outcome, RunOutput, RuntimeResult, Span};
use crate::cli::{Plan, Runtime};
use crate::recorder::LANES;

/// The ideal wall time, in s: ceil(requests / concurrency) x latency.
pub fn ideal_s(requests: usize, concurrency: usize, latency_ms: u64) -> f64 {
    let rounds = requests.div_ceil(concurrency.max(1));
    rounds as f64 * latency_ms as f64 / 1000.0
}

/// The `p`th percentile (0..=100) of `sorted` by nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len().max(1)) - 1).copied()
}

/// Reads `VmHWM` (peak resident memory, kB) from the text of `/proc/self/status`.
pub fn parse_vm_hwm(status: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix("VmHWM:")?;
        rest.trim().trim_end_matches("kB").trim().parse().ok()
    })
}

/// What `compare` knows of one runtime's run.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub runtime: Runtime,
    pub plan: &'a Plan,
    pub output: Option<&'a RunOutput>,
    /// Wall time measured from outside, used when the runner gave none.
    pub fallback_wall_us: u64,
    /// The embedded server's counters after the run.
    pub server: Option<&'a Stats>,
}

/// The median of each lane, in ms, over the spans that carry waits.
fn median_waits(spans: &[Span]) -> Option<BTreeMap<String, f64>> {
    let observed: Vec<&Span> = spans.iter().filter(|s| s.waits != [0; 6]).collect();
    let median = |lane: usize| {
        let mut ms: Vec<f64> = observed
            .iter()
            .map(|s| f64::from(s.waits[lane]) / 1e3)
            .collect();
        ms.sort_by(f64::total_cmp);
        Some((LANES[lane].to_owned(), percentile(&ms, 50.0)?))
    };
    (0..LANES.len()).map(median).collect()
}

/// Turns a run into its summary. Requests the runner did not report are
/// counted as `other`, so `ok` plus all errors is every request.
pub fn summarize(facts: &RunFacts<'_>) -> RuntimeResult {
    let (plan, output) = (facts.plan, facts.output);
    let requests = plan.requests;
    let spans: Vec<Span> = output
        .map(|o| o.spans.iter().take(requests).copied().collect())
        .unwrap_or_default();
    let mut errors = ErrorCounts::default();
    let mut latencies = Vec::with_capacity(spans.len());
    for span in &spans {
        if span.outcome == Outcome::Ok {
            latencies.push(span.end_us.saturating_sub(span.start_us) as f64 / 1000.0);
        } else {
            errors.add(span.outcome, 1);
        }
    }
    let missing = (requests - spans.len()) as u64;
    errors.add(Outcome::Other, missing);
    latencies.sort_by(f64::total_cmp);

    let wall_us = output.map_or(facts.fallback_wall_us, |o| o.wall_us).max(1);
    let wall_s = wall_us as f64 / 1e6;
    let concurrency = plan.runtime_concurrency(facts.runtime);
    let ideal = plan.ideal_s(concurrency);
    let server = facts.server;
    let client_max = output.map_or(0, |o| o.max_in_flight);
    let shows_rejections = plan.capacity.is_some() || plan.adaptive.is_some();
    RuntimeResult {
        runtime: facts.runtime,
        concurrency,
        adaptive: plan.is_adaptive(facts.runtime),
        ok: latencies.len() as u64,
        errors,
        missing,
        wall_s,
        ideal_s: ideal,
        ratio: (ideal > 0.0).then(|| wall_s / ideal),
        rps: requests as f64 / wall_s,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        max_in_flight: server.map_or(client_max, |s| s.max_in_flight),
        client_max_in_flight: client_max,
        peak_rss_kb: output.and_then(|o| o.peak_rss_kb),
        rejected: shows_rejections
            .then(|| server.map(|s| s.rejected).or(output.map(|o| o.rejected)))
            .flatten(),
        final_limit: output.and_then(|o| o.final_limit),
        sent_during_cooldown: plan.cooldown_s.and(server.map(|s| s.sent_during_cooldown)),
        wait_ms: median_waits(&spans),
        walls_s: Vec::new(),
        spans,
        in_flight_curve: output.map(|o| o.in_flight.clone()).unwrap_or_default(),
        limit_curve: output.map(|o| o.limits.clone()).unwrap_or_default(),
    }
}

/// The run of median wall time among `runs` of one runtime, with every
/// run's wall time in `walls_s` (a single run is returned as it is).
pub fn median_run(mut runs: Vec<RuntimeResult>) -> Option<RuntimeResult> {
    if runs.len() < 2 {
        return runs.pop();
    }
    let walls: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    runs.sort_by(|a, b| a.wall_s.total_cmp(&b.wall_s));
    let mut median = runs.swap_remove(runs.len() / 2);
    median.walls_s = walls;
    Some(median)
}
