//! The text table of a scenario and the lines under it.

use std::fmt::Display;

use super::model::{RuntimeResult, ScenarioReport};
use super::stats::ideal_s;
use crate::cli::Runtime;
use crate::recorder::LANES;

/// A column: its header and how a row's cell is written.
type Column = (&'static str, fn(&RuntimeResult) -> String);

fn secs(s: f64) -> String {
    format!("{s:.3} s")
}

/// `value`, or `-` when there is none.
pub fn or_dash(value: Option<impl Display>) -> String {
    value.map_or_else(|| "-".to_owned(), |v| v.to_string())
}

/// `v` to one decimal, or `-`.
pub fn tenths(v: Option<f64>) -> String {
    or_dash(v.map(|v| format!("{v:.1}")))
}

/// `1.10x faster` or `1.10x slower` for a ratio of speeds.
fn faster(ratio: f64, digits: usize) -> String {
    if ratio >= 1.0 {
        format!("{ratio:.digits$}x faster")
    } else {
        format!("{:.digits$}x slower", 1.0 / ratio)
    }
}

/// The table's columns for `report`.
fn columns(report: &ScenarioReport) -> Vec<Column> {
    let mut columns: Vec<Column> = vec![
        ("runtime", |r| r.runtime.to_string()),
        match report.plan.adaptive {
            Some(_) => ("limit", RuntimeResult::limit_label),
            None => ("conc", |r| r.concurrency.to_string()),
        },
        ("ok", |r| r.ok.to_string()),
        ("errors", |r| r.errors.total().to_string()),
    ];
    if report.plan.capacity.is_some() || report.plan.adaptive.is_some() {
        columns.push(("rejected", |r| or_dash(r.rejected)));
    }
    if report.plan.cooldown_s.is_some() {
        columns.push(("sent in cool-down", |r| or_dash(r.sent_during_cooldown)));
    }
    columns.extend::<[Column; 8]>([
        ("wall", |r| secs(r.wall_s)),
        ("ideal", |r| secs(r.ideal_s)),
        ("wall/ideal", |r| {
            or_dash(r.ratio.map(|x| format!("{x:.2}x")))
        }),
        ("req/s", |r| match r.rps {
            rps if rps >= 100.0 => format!("{rps:.0}"),
            rps => format!("{rps:.1}"),
        }),
        ("p50 ms", |r| tenths(r.p50_ms)),
        ("p99 ms", |r| tenths(r.p99_ms)),
        if report.embedded_server {
            ("max in flight srv/cli", |r| {
                format!("{}/{}", r.max_in_flight, r.client_max_in_flight)
            })
        } else {
            ("max in flight", |r| r.max_in_flight.to_string())
        },
        ("peak MB", |r| {
            or_dash(r.peak_rss_kb.map(|kb| format!("{:.1}", kb as f64 / 1024.0)))
        }),
    ]);
    columns
}

/// Aligns `rows` under `header`: the first column to the left, the others to
/// the right, two spaces between columns.
pub fn align(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            match i {
                0 => line.push_str(&format!("{cell:<width$}")),
                _ => line.push_str(&format!("  {cell:>width$}")),
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The scenario's table and the lines under it.
pub fn render_table(report: &ScenarioReport) -> String {
    let plan = &report.plan;
    let adaptive = plan.adaptive.is_some();
    let rejections = plan.capacity.is_some() || adaptive;
    let embedded = report.embedded_server;
    let bounds = plan.adaptive.map_or_else(String::new, |a| {
        format!(" (adaptive runs: limit from {} up to {})", a.initial, a.max)
    });
    let capacity = (plan.capacity).map_or_else(String::new, |k| format!(", server capacity {k}"));
    let server = match embedded {
        true => "embedded volley-mock",
        false => "external server",
    };
    let (name, requests, concurrency) = (&plan.name, plan.requests, plan.concurrency);
    let (latency, ideal, url) = (plan.latency_ms, secs(report.ideal_s), &report.url);
    let mut out = format!(
        "{name}: {requests} requests, concurrency {concurrency}{bounds}{capacity}, server latency {latency} ms, ideal {ideal} ({server}, {url})\n"
    );
    let columns = columns(report);
    let header: Vec<&str> = columns.iter().map(|c| c.0).collect();
    let row = |r| columns.iter().map(|c| (c.1)(r)).collect();
    let rows: Vec<Vec<String>> = report.results.iter().map(row).collect();
    if rows.is_empty() {
        out.push_str("(no runtime ran)\n")
    } else {
        out.push_str(&align(&header, &rows))
    }

    let mut notes = Vec::new();
    for r in report.results.iter().filter(|r| r.errors.total() > 0) {
        let missing = match r.missing {
            0 => String::new(),
            n => format!(" ({n} never reported by the runner)"),
        };
        let errors = r.errors.describe();
        notes.push(format!("{} errors: {errors}{missing}", r.runtime));
    }
    for r in report.results.iter().filter(|r| r.walls_s.len() > 1) {
        let walls: Vec<String> = r.walls_s.iter().map(|w| format!("{w:.3}")).collect();
        let (runs, walls) = (r.walls_s.len(), walls.join(", "));
        notes.push(format!(
            "{}: the median of {runs} runs, interleaved with the others; walls {walls} s",
            r.runtime
        ));
    }
    for s in &report.skipped {
        notes.push(format!("{} skipped: {}", s.runtime, s.reason));
    }
    let blocking = report
        .results
        .iter()
        .any(|r| r.runtime == Runtime::Blocking);
    let pause = plan.cooldown_s.unwrap_or(0);
    let explained = [
        (blocking, format!("blocking is strictly sequential: concurrency 1, ideal = {requests} x {latency} ms")),
        (embedded, "max in flight: requests the server was handling at once / the client had started".into()),
        (!embedded, "max in flight: counted by the client".into()),
        (true, "p50/p99: latency of the successful requests; peak MB: the runner process's VmHWM".into()),
        (adaptive, "limit: adaptive rows send every request at once through an adaptive limit (initial->final); fixed rows keep N in flight".into()),
        (rejections && embedded, "rejected: requests the server turned away with 503 (counted by the server; not retried, so also in `status` errors)".into()),
        (rejections && !embedded, "rejected: 429/503 answers seen by the client (not retried, so also in `status` errors)".into()),
        (plan.cooldown_s.is_some(), format!("sent in cool-down: requests that reached the server from 50 ms after its one 429 (Retry-After: {pause} s) to the end of that pause, counted by the server")),
    ];
    notes.extend(explained.into_iter().filter(|n| n.0).map(|n| n.1));
    let ideal: Vec<String> = [
        adaptive
            .then(|| "each row's at its own limit, an adaptive row's at its maximum".to_owned()),
        (plan.capacity).map(|k| format!("at most {k} at once can be served, whatever the limit")),
        (plan.cooldown_s).map(|s| format!("with the {s} s pause the server asks for")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !ideal.is_empty() {
        notes.push(format!("ideal: {}", ideal.join("; ")));
    }
    out.extend(notes.iter().map(|note| format!("  {note}\n")));
    for r in &report.results {
        if let Some(waits) = &r.wait_ms {
            let ms = |lane| waits.get(lane).copied().unwrap_or(0.0);
            let lanes = LANES.map(|lane| format!("{lane} {:.1}", ms(lane)));
            let (runtime, lanes) = (r.runtime, lanes.join(", "));
            out.push_str(&format!(
                "{runtime} wait breakdown, median ms per request: {lanes}\n"
            ));
        }
    }
    out.extend(comparisons(report).into_iter().map(|line| line + "\n"));
    out
}

/// The comparison lines: adaptive tokio against each fixed limit, the
/// fastest volley async runtime against blocking (or its ideal when it was
/// skipped) and against plain reqwest, and the round-by-round ratios.
pub(super) fn comparisons(report: &ScenarioReport) -> Vec<String> {
    let results = &report.results;
    let find = |runtime: Runtime| results.iter().find(|r| r.runtime == runtime);
    let mut lines = Vec::new();
    if let Some(adaptive) = find(Runtime::Tokio).filter(|r| r.adaptive) {
        let fixed = results
            .iter()
            .filter(|r| matches!(r.runtime, Runtime::TokioFixed(_)));
        lines.extend(fixed.map(|fixed| versus_fixed(adaptive, fixed)));
    }
    // The fastest among those that got every answer (a run that was mostly
    // turned away can be fast), or among all.
    let volley = results.iter().filter(|r| r.runtime.is_volley_async());
    let complete = volley
        .clone()
        .filter(|r| r.ok == report.plan.requests as u64);
    let by_wall = |a: &&RuntimeResult, b: &&RuntimeResult| a.wall_s.total_cmp(&b.wall_s);
    let Some(fastest) = complete.min_by(by_wall).or_else(|| volley.min_by(by_wall)) else {
        return lines;
    };
    let blocking_skipped = report
        .skipped
        .iter()
        .any(|s| s.runtime == Runtime::Blocking);
    let runtime = fastest.runtime;
    if let Some(blocking) = find(Runtime::Blocking) {
        let verdict = faster(blocking.wall_s / fastest.wall_s, 1);
        let (wall, blocking_wall) = (secs(fastest.wall_s), secs(blocking.wall_s));
        lines.push(format!(
            "speedup: {runtime} (fastest async) is {verdict} than blocking ({wall} vs {blocking_wall})"
        ));
    } else if blocking_skipped {
        let sequential = ideal_s(report.plan.requests, 1, report.plan.latency_ms);
        let speedup = sequential / fastest.wall_s;
        lines.push(format!(
            "speedup: blocking skipped; against its sequential ideal ({sequential:.0} s), {runtime} (fastest async) is {speedup:.0}x faster"
        ));
    }
    // In the cooldown scenario the plain clients are faster for not waiting.
    if report.plan.cooldown_s.is_none() {
        for volley in results {
            if let Some(plain) = volley.runtime.own_client().and_then(find) {
                lines.push(versus_own_client(volley, plain));
            }
        }
    }
    lines.extend(round_by_round(results));
    lines
}

/// `median (low-high)` of the ratios `a / b` of two runtimes' wall times
/// round by round, when both ran the same `--repeat N` rounds (N >= 2).
fn per_round(a: &RuntimeResult, b: &RuntimeResult) -> Option<String> {
    let rounds = a.walls_s.len();
    if rounds < 2 || b.walls_s.len() != rounds {
        return None;
    }
    let ratios = a.walls_s.iter().zip(&b.walls_s).map(|(a, b)| a / b);
    let mut ratios: Vec<f64> = ratios.collect();
    ratios.sort_by(f64::total_cmp);
    let (low, median, high) = (ratios[0], ratios[rounds / 2], ratios[rounds - 1]);
    Some(format!("{median:.2} ({low:.2}-{high:.2})"))
}

/// With `--repeat N`: each runtime's speed against tokio's in the same
/// round (tokio's wall time over its own), as the median and range of the
/// N ratios; the machine's drift mostly cancels within a round.
pub(super) fn round_by_round(results: &[RuntimeResult]) -> Option<String> {
    let tokio = results.iter().find(|r| r.runtime == Runtime::Tokio)?;
    let others = results.iter().filter(|r| r.runtime != Runtime::Tokio);
    let parts: Vec<String> = others
        .filter_map(|r| Some(format!("{} {}", r.runtime, per_round(tokio, r)?)))
        .collect();
    (!parts.is_empty()).then(|| format!(
        "round by round, speed against tokio (median and range of {} rounds; above 1 is faster): {}",
        tokio.walls_s.len(),
        parts.join(", ")
    ))
}

/// Adaptive tokio against a fixed limit; times are compared only when the
/// fixed limit got at least as many answers.
fn versus_fixed(adaptive: &RuntimeResult, fixed: &RuntimeResult) -> String {
    let side = |r: &RuntimeResult| {
        let rejected = or_dash(r.rejected);
        format!("{} ok, {rejected} rejected in {}", r.ok, secs(r.wall_s))
    };
    let verdict = match adaptive.ok.checked_sub(fixed.ok) {
        Some(lost) if lost > 0 => format!("the fixed limit lost {lost} more answers"),
        _ => format!("adaptive {}", faster(fixed.wall_s / adaptive.wall_s, 2)),
    };
    let (runtime, limit, fixed_runtime) = (adaptive.runtime, adaptive.limit_label(), fixed.runtime);
    let (adaptive, fixed) = (side(adaptive), side(fixed));
    format!(
        "adaptive vs fixed: {runtime} ({limit}): {adaptive}; {fixed_runtime}: {fixed}; {verdict}"
    )
}

/// `vs its own client: tokio takes 1.000 s against plain-reqwest's 1.100 s:
/// 1.10x faster; round by round 1.09 (1.02-1.12), peak memory 0.97x`: with
/// `--repeat`, the median and range of the per-round ratios of the plain
/// client's wall time over the adapter's, taken in the same round.
fn versus_own_client(volley: &RuntimeResult, plain: &RuntimeResult) -> String {
    let (runtime, wall, client) = (volley.runtime, secs(volley.wall_s), plain.runtime);
    let (client_wall, verdict) = (secs(plain.wall_s), faster(plain.wall_s / volley.wall_s, 2));
    let mut line = format!(
        "vs its own client: {runtime} takes {wall} against {client}'s {client_wall}: {verdict}"
    );
    if let Some(ratios) = per_round(plain, volley) {
        line.push_str(&format!("; round by round {ratios}"));
    }
    if let (Some(v), Some(p)) = (volley.peak_rss_kb, plain.peak_rss_kb) {
        line.push_str(&format!(", peak memory {:.2}x", v as f64 / p.max(1) as f64));
    }
    line
}
