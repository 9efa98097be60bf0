//! From what a runner reported to a runtime's summary.

use std::collections::BTreeMap;

use volley_mock::Stats;

use super::model::{ErrorCounts, Outcome, RunOutput, RuntimeResult, Span};
use crate::cli::Plan;
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

/// The median of each lane, in ms, over the spans that carry waits.
fn median_waits(spans: &[Span]) -> Option<BTreeMap<String, f64>> {
    let observed: Vec<&Span> = spans.iter().filter(|s| s.waits != [0; 6]).collect();
    let median = |lane: usize| {
        let ms = observed.iter().map(|s| f64::from(s.waits[lane]) / 1e3);
        let mut ms: Vec<f64> = ms.collect();
        ms.sort_by(f64::total_cmp);
        Some((LANES[lane].to_owned(), percentile(&ms, 50.0)?))
    };
    (0..LANES.len()).map(median).collect()
}

/// Turns a run into its summary, with the embedded server's counters
/// after it if they could be read. Requests the runner did not report are
/// counted as `other`, so `ok` plus all errors is every request.
pub fn summarize(plan: &Plan, mut output: RunOutput, server: Option<&Stats>) -> RuntimeResult {
    let (runtime, requests) = (output.runtime, plan.requests);
    output.spans.truncate(requests);
    let mut errors = ErrorCounts::default();
    let spans = &output.spans;
    spans.iter().for_each(|span| errors.add(span.outcome, 1));
    let ok = spans.iter().filter(|span| span.outcome == Outcome::Ok);
    let latency_ms = |span: &Span| span.end_us.saturating_sub(span.start_us) as f64 / 1000.0;
    let mut latencies: Vec<f64> = ok.map(latency_ms).collect();
    let missing = (requests - output.spans.len()) as u64;
    errors.add(Outcome::Other, missing);
    latencies.sort_by(f64::total_cmp);

    let wall_s = output.wall_us.max(1) as f64 / 1e6;
    let concurrency = plan.runtime_concurrency(runtime);
    let ideal = plan.ideal_s(concurrency);
    let shows_rejections = plan.capacity.is_some() || plan.adaptive.is_some();
    RuntimeResult {
        runtime,
        concurrency,
        adaptive: plan.is_adaptive(runtime),
        ok: latencies.len() as u64,
        errors,
        missing,
        wall_s,
        ideal_s: ideal,
        ratio: (ideal > 0.0).then(|| wall_s / ideal),
        rps: requests as f64 / wall_s,
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        max_in_flight: server.map_or(output.max_in_flight, |s| s.max_in_flight),
        client_max_in_flight: output.max_in_flight,
        peak_rss_kb: output.peak_rss_kb,
        rejected: shows_rejections.then(|| server.map_or(output.rejected, |s| s.rejected)),
        final_limit: output.final_limit,
        sent_during_cooldown: plan.cooldown_s.and(server.map(|s| s.sent_during_cooldown)),
        wait_ms: median_waits(&output.spans),
        walls_s: Vec::new(),
        spans: output.spans,
        in_flight_curve: output.in_flight,
        limit_curve: output.limits,
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
