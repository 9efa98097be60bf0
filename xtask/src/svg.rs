//! The timeline picture: one panel per runtime, one lane per request, a bar
//! from its start to its end, the ideal time as a dashed line.

use std::fmt::Write;

use crate::cli::Runtime;
use crate::report::{Outcome, RuntimeResult, ScenarioReport};

/// At most this many lanes are drawn per panel; more requests are sampled
/// evenly.
pub const MAX_LANES: usize = 500;

const WIDTH: f64 = 1000.0;
const PLOT_X0: f64 = 70.0;
const PLOT_X1: f64 = 975.0;
const OK_COLOR: &str = "#3b6fb6";
const ERROR_COLOR: &str = "#d62728";
const IDEAL_COLOR: &str = "#2ca02c";

/// Escapes text for SVG.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The indices of the requests drawn: all of them, or `max` spread evenly.
pub fn sample(n: usize, max: usize) -> Vec<usize> {
    if n <= max {
        (0..n).collect()
    } else {
        (0..max).map(|i| i * n / max).collect()
    }
}

/// A round tick step (1, 2 or 5 x 10^k) giving about `target` ticks up to `max`.
pub fn tick_step(max: f64, target: f64) -> f64 {
    let raw = (max / target).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    for m in [1.0, 2.0, 5.0, 10.0] {
        if m * magnitude >= raw {
            return m * magnitude;
        }
    }
    10.0 * magnitude
}

fn label_ms(v: f64, step: f64) -> String {
    if step >= 1.0 {
        format!("{v:.0}")
    } else {
        let decimals = (-step.log10().floor()).max(0.0) as usize;
        format!("{v:.decimals$}")
    }
}

/// The time span, in ms, a panel's axis covers for these results.
fn axis_max<'a>(results: impl Iterator<Item = &'a RuntimeResult>) -> f64 {
    results
        .flat_map(|r| {
            let ends = r.spans.iter().map(|s| s.end_us as f64 / 1000.0);
            ends.chain([r.wall_s * 1000.0, r.ideal_s * 1000.0])
        })
        .fold(0.0f64, f64::max)
        .max(1.0)
        * 1.02
}

/// The SVG of a scenario's timelines. The concurrent runtimes share one time
/// axis; blocking, often many times slower, gets its own.
pub fn render(report: &ScenarioReport) -> String {
    let concurrent = |r: &&RuntimeResult| r.runtime != Runtime::Blocking;
    let shared_max = axis_max(report.results.iter().filter(concurrent));
    let blocking_max = axis_max(report.results.iter().filter(|r| !concurrent(r)));
    let several_scales = report.results.iter().any(|r| concurrent(&r))
        && report.results.iter().any(|r| !concurrent(&r));

    let mut body = String::new();
    let mut y = 20.0;
    let sampled = report.requests > MAX_LANES;
    let title = format!(
        "volley compare: {} ({} requests, concurrency {}, server latency {} ms)",
        report.scenario, report.requests, report.concurrency, report.latency_ms
    );
    let _ = writeln!(
        body,
        r#"<text x="10" y="{y}" font-size="15" font-weight="bold">{}</text>"#,
        escape(&title)
    );
    y += 20.0;
    let _ = writeln!(
        body,
        r#"<rect x="10" y="{}" width="14" height="8" fill="{OK_COLOR}"/><text x="28" y="{y}">ok</text><rect x="60" y="{}" width="14" height="8" fill="{ERROR_COLOR}"/><text x="78" y="{y}">error</text><line x1="130" y1="{}" x2="150" y2="{}" stroke="{IDEAL_COLOR}" stroke-width="2" stroke-dasharray="4 3"/><text x="155" y="{y}">ideal time</text><text x="240" y="{y}">one lane per request, time in ms from the start of the run{}</text>"#,
        y - 8.0,
        y - 8.0,
        y - 4.0,
        y - 4.0,
        if sampled {
            format!(
                "; {MAX_LANES} of {} requests shown, sampled evenly",
                report.requests
            )
        } else {
            String::new()
        }
    );
    y += 14.0;

    for result in &report.results {
        let (x_max, own_scale) = if result.runtime == Runtime::Blocking {
            (blocking_max, several_scales)
        } else {
            (shared_max, false)
        };
        y = panel(&mut body, result, y, x_max, own_scale);
    }
    if report.results.is_empty() {
        let _ = writeln!(
            body,
            r#"<text x="10" y="{}">no runtime ran</text>"#,
            y + 20.0
        );
        y += 30.0;
    }
    let height = y + 10.0;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// Draws one runtime's panel from `y` down, its axis covering `x_max` ms;
/// returns the `y` after it.
fn panel(
    body: &mut String,
    result: &RuntimeResult,
    mut y: f64,
    x_max: f64,
    own_scale: bool,
) -> f64 {
    let scale = (PLOT_X1 - PLOT_X0) / x_max;
    let x = |ms: f64| PLOT_X0 + ms * scale;
    let step = tick_step(x_max, 8.0);
    let lanes = sample(result.spans.len(), MAX_LANES);
    y += 18.0;
    let ratio = result
        .ratio
        .map_or_else(String::new, |r| format!(" ({r:.2}x ideal)"));
    let heading = format!(
        "{}: concurrency {}, {} ok, {} errors, wall {:.0} ms{ratio}{}",
        result.runtime.name(),
        result.concurrency,
        result.ok,
        result.errors.total(),
        result.wall_s * 1000.0,
        if own_scale { "; its own time axis" } else { "" }
    );
    let _ = writeln!(
        body,
        r#"<text x="10" y="{y}" font-size="13" font-weight="bold">{}</text>"#,
        escape(&heading)
    );
    y += 6.0;
    let top = y;
    let height = (lanes.len() as f64 * 5.0).clamp(40.0, 200.0);
    let lane = height / lanes.len().max(1) as f64;
    let bar = (lane * 0.8).max(0.5);
    let _ = writeln!(
        body,
        r##"<rect x="{PLOT_X0}" y="{top}" width="{:.1}" height="{height:.1}" fill="#f6f6f6" stroke="#ccc"/>"##,
        PLOT_X1 - PLOT_X0
    );
    for (row, &index) in lanes.iter().enumerate() {
        let Some(span) = result.spans.get(index) else {
            continue;
        };
        let x0 = x(span.start_us as f64 / 1000.0);
        let x1 = x(span.end_us as f64 / 1000.0);
        let color = if span.outcome == Outcome::Ok {
            OK_COLOR
        } else {
            ERROR_COLOR
        };
        let _ = writeln!(
            body,
            r#"<rect x="{x0:.2}" y="{:.2}" width="{:.2}" height="{bar:.2}" fill="{color}"/>"#,
            top + row as f64 * lane + (lane - bar) / 2.0,
            (x1 - x0).max(1.0)
        );
    }
    if lanes.is_empty() {
        let _ = writeln!(
            body,
            r#"<text x="{}" y="{}">no results</text>"#,
            PLOT_X0 + 10.0,
            top + 20.0
        );
    }
    let bottom = top + height;
    let ideal_x = x(result.ideal_s * 1000.0);
    // The label goes right of the line, or left of it near the right edge.
    let (label_x, anchor) = if ideal_x > PLOT_X1 - 110.0 {
        (ideal_x - 3.0, "end")
    } else {
        (ideal_x + 3.0, "start")
    };
    let _ = writeln!(
        body,
        r#"<line x1="{ideal_x:.2}" y1="{}" x2="{ideal_x:.2}" y2="{}" stroke="{IDEAL_COLOR}" stroke-width="2" stroke-dasharray="4 3"/><text x="{label_x:.2}" y="{}" fill="{IDEAL_COLOR}" text-anchor="{anchor}">ideal {:.0} ms</text>"#,
        top - 4.0,
        bottom + 4.0,
        top + 10.0,
        result.ideal_s * 1000.0
    );
    // The x axis, in ms.
    let _ = writeln!(
        body,
        r##"<line x1="{PLOT_X0}" y1="{bottom:.2}" x2="{PLOT_X1}" y2="{bottom:.2}" stroke="#333"/>"##
    );
    let mut tick = 0.0;
    while tick <= x_max {
        let tx = x(tick);
        let _ = writeln!(
            body,
            r##"<line x1="{tx:.2}" y1="{bottom:.2}" x2="{tx:.2}" y2="{:.2}" stroke="#333"/><text x="{tx:.2}" y="{:.2}" text-anchor="middle">{}</text>"##,
            bottom + 4.0,
            bottom + 15.0,
            label_ms(tick, step)
        );
        tick += step;
    }
    let _ = writeln!(
        body,
        r#"<text x="{PLOT_X1}" y="{:.2}" text-anchor="end">ms</text>"#,
        bottom + 27.0
    );
    let _ = writeln!(
        body,
        r#"<text x="{}" y="{:.2}" text-anchor="end">{} req</text>"#,
        PLOT_X0 - 4.0,
        top + 10.0,
        result.spans.len()
    );
    bottom + 30.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{ErrorCounts, Span};

    #[test]
    fn sampling_is_even_and_capped() {
        assert_eq!(sample(3, 500), vec![0, 1, 2]);
        let s = sample(10_000, 500);
        assert_eq!(s.len(), 500);
        assert_eq!(s[0], 0);
        assert_eq!(s[1], 20);
        assert_eq!(s[499], 9_980);
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(2000.0, 8.0), 500.0);
        assert_eq!(tick_step(200.0, 8.0), 50.0);
        assert_eq!(tick_step(1000.0, 8.0), 200.0);
        assert_eq!(tick_step(3.0, 8.0), 0.5);
    }

    #[test]
    fn renders_panels_and_sampling_note() {
        let spans: Vec<Span> = (0..1000u64)
            .map(|i| Span {
                start_us: i * 100,
                end_us: i * 100 + 200_000,
                outcome: if i == 3 {
                    Outcome::Timeout
                } else {
                    Outcome::Ok
                },
            })
            .collect();
        let result = RuntimeResult {
            runtime: Runtime::Smol,
            concurrency: 100,
            ok: 999,
            errors: ErrorCounts {
                timeout: 1,
                ..ErrorCounts::default()
            },
            missing: 0,
            wall_s: 2.1,
            ideal_s: 2.0,
            ratio: Some(1.05),
            rps: 476.0,
            p50_ms: Some(200.0),
            p99_ms: Some(200.0),
            max_in_flight: 100,
            client_max_in_flight: 100,
            peak_rss_kb: Some(1),
            spans,
        };
        let report = ScenarioReport {
            scenario: "x<y".into(),
            requests: 1000,
            concurrency: 100,
            latency_ms: 200,
            ideal_s: 2.0,
            url: String::new(),
            embedded_server: true,
            results: vec![result],
            skipped: vec![],
        };
        let svg = render(&report);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("x&lt;y"));
        assert!(svg.contains("500 of 1000 requests shown"));
        assert!(svg.contains("ideal 2000 ms"));
        // Legend only: request 3 (the timeout) falls between the sampled lanes.
        assert_eq!(svg.matches(ERROR_COLOR).count(), 1);
    }
}
