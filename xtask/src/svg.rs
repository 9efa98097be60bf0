//! The timeline picture: one panel per runtime, one lane per request, a bar
//! from its (last attempt's) start to its end, what it waited for in the
//! layers before that in another colour, the ideal time as a dashed line. In an
//! adaptive run each panel has a strip under it with the limit and the
//! requests in flight over time.

use std::fmt::Write;

use crate::cli::Runtime;
use crate::recorder::Step;
use crate::report::{Outcome, RuntimeResult, ScenarioReport};

/// At most this many lanes are drawn per panel; more requests are sampled
/// evenly.
const MAX_LANES: usize = 500;

const WIDTH: f64 = 1000.0;
const PLOT_X0: f64 = 70.0;
const PLOT_X1: f64 = 975.0;
const OK_COLOR: &str = "#3b6fb6";
const ERROR_COLOR: &str = "#d62728";
const WAIT_COLOR: &str = "#f2c14e";
const IDEAL_COLOR: &str = "#2ca02c";
const LIMIT_COLOR: &str = "#ff7f0e";
const IN_FLIGHT_COLOR: &str = "#9467bd";
const CAPACITY_COLOR: &str = "#7f7f7f";
/// The height of the limit and in-flight strip.
const CURVE_HEIGHT: f64 = 90.0;
const AXIS: &str = r##"stroke="#333""##;
const END: &str = r#"text-anchor="end""#;

/// A point, or a width and a height.
type Xy = (f64, f64);

/// The SVG elements drawn so far, one a line.
#[derive(Default)]
struct Canvas(String);

impl Canvas {
    fn push(&mut self, element: &str) {
        self.0.push_str(element);
        self.0.push('\n');
    }

    /// A `<text>` at `(x, y)` with `attributes`, `content` escaped.
    fn text(&mut self, (x, y): Xy, attributes: &str, content: &str) {
        let content = content
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;");
        self.push(&format!(
            r#"<text x="{x:.2}" y="{y:.2}" {attributes}>{content}</text>"#
        ));
    }

    fn rect(&mut self, (x, y): Xy, (w, h): Xy, attributes: &str) {
        self.push(&format!(
            r#"<rect x="{x:.2}" y="{y:.2}" width="{w:.2}" height="{h:.2}" {attributes}/>"#
        ));
    }

    fn line(&mut self, (x1, y1): Xy, (x2, y2): Xy, attributes: &str) {
        self.push(&format!(
            r#"<line x1="{x1:.2}" y1="{y1:.2}" x2="{x2:.2}" y2="{y2:.2}" {attributes}/>"#
        ));
    }
}

/// The indices of the requests drawn: all of them, or `max` spread evenly.
fn sample(n: usize, max: usize) -> Vec<usize> {
    let drawn = n.min(max);
    (0..drawn).map(|i| i * n / drawn).collect()
}

/// A round tick step (1, 2 or 5 x 10^k) giving about `target` ticks up to `max`.
fn tick_step(max: f64, target: f64) -> f64 {
    let raw = (max / target).max(f64::MIN_POSITIVE);
    let magnitude = 10f64.powf(raw.log10().floor());
    let m = [1.0, 2.0, 5.0].into_iter().find(|m| m * magnitude >= raw);
    m.unwrap_or(10.0) * magnitude
}

/// The ticks from 0 up to `max`, `step` apart.
fn ticks(max: f64, step: f64) -> impl Iterator<Item = f64> {
    std::iter::successors(Some(0.0), move |t| Some(t + step)).take_while(move |&t| t <= max)
}

/// The time span, in ms, a panel's axis covers for these results.
fn axis_max(results: &[&RuntimeResult]) -> f64 {
    let ends = results.iter().flat_map(|r| {
        let ends = r.spans.iter().map(|s| s.end_us as f64 / 1000.0);
        ends.chain([r.wall_s * 1000.0, r.ideal_s * 1000.0])
    });
    ends.fold(1.0f64, f64::max) * 1.02
}

/// The x of `ms` on an axis covering `x_max` ms.
fn x_of(x_max: f64) -> impl Fn(f64) -> f64 + Copy {
    let scale = (PLOT_X1 - PLOT_X0) / x_max;
    move |ms| PLOT_X0 + ms * scale
}

/// The SVG of a scenario's timelines. The concurrent runtimes share one time
/// axis; blocking, often many times slower, gets its own.
pub fn render(report: &ScenarioReport) -> String {
    let plan = &report.plan;
    let (blocking, concurrent): (Vec<&RuntimeResult>, Vec<&RuntimeResult>) = (report.results)
        .iter()
        .partition(|r| r.runtime == Runtime::Blocking);
    let several_scales = !blocking.is_empty() && !concurrent.is_empty();
    let (blocking_max, shared_max) = (axis_max(&blocking), axis_max(&concurrent));

    let mut svg = Canvas::default();
    let title = format!(
        "volley compare: {} ({} requests, concurrency {}, server latency {} ms)",
        plan.name, plan.requests, plan.concurrency, plan.latency_ms
    );
    svg.text((10.0, 20.0), r#"font-size="15" font-weight="bold""#, &title);
    let mut y = 40.0;
    let capacity = plan
        .capacity
        .map(|k| format!("the server takes {k} at once and answers the rest with 503"));
    let adaptive = plan.adaptive.map(|a| {
        let (initial, max) = (a.initial, a.max);
        format!("adaptive rows: every request sent at once, the limit from {initial} up to {max}")
    });
    let extras: Vec<String> = capacity.into_iter().chain(adaptive).collect();
    if !extras.is_empty() {
        svg.text((10.0, y), r#"font-size="12""#, &extras.join("; "));
        y += 18.0;
    }
    let sampled = match plan.requests {
        n if n > MAX_LANES => format!("; {MAX_LANES} of {n} requests shown, sampled evenly"),
        _ => String::new(),
    };
    let (box_y, line_y) = (y - 8.0, y - 4.0);
    svg.push(&format!(
        r#"<rect x="10" y="{box_y}" width="14" height="8" fill="{OK_COLOR}"/><text x="28" y="{y}">ok</text><rect x="60" y="{box_y}" width="14" height="8" fill="{ERROR_COLOR}"/><text x="78" y="{y}">error</text><line x1="130" y1="{line_y}" x2="150" y2="{line_y}" stroke="{IDEAL_COLOR}" stroke-width="2" stroke-dasharray="4 3"/><text x="155" y="{y}">ideal time</text><rect x="225" y="{box_y}" width="14" height="8" fill="{WAIT_COLOR}"/><text x="243" y="{y}">waiting (limits, rate, cool-down, backoff)</text><text x="470" y="{y}">one lane per request, ms from the start{sampled}</text>"#
    ));
    y += 14.0;
    if let Some(bounds) = plan.adaptive {
        y += 4.0;
        let (line_y, initial) = (y - 4.0, bounds.initial);
        let capacity = plan.capacity.map(|k| format!(
            r#"<line x1="180" y1="{line_y}" x2="194" y2="{line_y}" stroke="{CAPACITY_COLOR}" stroke-dasharray="3 3"/><text x="198" y="{y}">server capacity {k}</text>"#
        ));
        let text_x = if capacity.is_some() { 310 } else { 180 };
        let capacity = capacity.unwrap_or_default();
        svg.push(&format!(
            r#"<line x1="10" y1="{line_y}" x2="24" y2="{line_y}" stroke="{LIMIT_COLOR}" stroke-width="2"/><text x="28" y="{y}">limit</text><line x1="60" y1="{line_y}" x2="74" y2="{line_y}" stroke="{IN_FLIGHT_COLOR}" stroke-width="1.5"/><text x="78" y="{y}">in flight (client)</text>{capacity}<text x="{text_x}" y="{y}">under each panel: the limit over time (adaptive rows start at {initial} and move; fixed rows stay) and the requests in flight</text>"#
        ));
        y += 14.0;
    }

    for result in &report.results {
        let (x_max, own_scale) = match result.runtime {
            Runtime::Blocking => (blocking_max, several_scales),
            _ => (shared_max, false),
        };
        y = panel(&mut svg, result, y, x_max, own_scale);
        if plan.adaptive.is_some() {
            y = curves(&mut svg, result, y, x_max, plan.capacity);
        }
    }
    if report.results.is_empty() {
        svg.text((10.0, y + 20.0), "", "no runtime ran");
        y += 30.0;
    }
    let (height, body) = (y + 10.0, svg.0);
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{body}</svg>\n"
    )
}

/// Draws one runtime's panel from `y` down, its axis covering `x_max` ms;
/// returns the `y` after it.
fn panel(svg: &mut Canvas, result: &RuntimeResult, y: f64, x_max: f64, own_scale: bool) -> f64 {
    let x = x_of(x_max);
    let lanes = sample(result.spans.len(), MAX_LANES);
    let limit = if result.adaptive {
        format!("limit {}", result.limit_label())
    } else {
        format!("concurrency {}", result.concurrency)
    };
    let rejected = result
        .rejected
        .map_or(String::new(), |n| format!(" ({n} rejected)"));
    let ratio = result
        .ratio
        .map_or(String::new(), |r| format!(" ({r:.2}x ideal)"));
    let axis = if own_scale { "; its own time axis" } else { "" };
    let (runtime, ok, errors) = (result.runtime, result.ok, result.errors.total());
    let wall_ms = result.wall_s * 1000.0;
    let heading = format!(
        "{runtime}: {limit}, {ok} ok, {errors} errors{rejected}, wall {wall_ms:.0} ms{ratio}{axis}"
    );
    let bold = r#"font-size="13" font-weight="bold""#;
    svg.text((10.0, y + 18.0), bold, &heading);
    let top = y + 24.0;
    let height = (lanes.len() as f64 * 5.0).clamp(40.0, 200.0);
    let lane = height / lanes.len().max(1) as f64;
    let bar = (lane * 0.8).max(0.5);
    let plot = (PLOT_X1 - PLOT_X0, height);
    svg.rect((PLOT_X0, top), plot, r##"fill="#f6f6f6" stroke="#ccc""##);
    let waiting = format!(r#"class="waiting" fill="{WAIT_COLOR}""#);
    for (row, span) in lanes.iter().map(|&i| &result.spans[i]).enumerate() {
        let ms = |us: u64| us as f64 / 1000.0;
        let (x0, x1) = (x(ms(span.start_us)), x(ms(span.end_us)));
        let bar_y = top + row as f64 * lane + (lane - bar) / 2.0;
        let waited_from = x(ms(span.start_us.saturating_sub(span.waited_us())));
        if x0 - waited_from >= 0.5 {
            svg.rect((waited_from, bar_y), (x0 - waited_from, bar), &waiting);
        }
        let ok = span.outcome == Outcome::Ok;
        let fill = format!(r#"fill="{}""#, if ok { OK_COLOR } else { ERROR_COLOR });
        svg.rect((x0, bar_y), ((x1 - x0).max(1.0), bar), &fill);
    }
    if lanes.is_empty() {
        svg.text((PLOT_X0 + 10.0, top + 20.0), "", "no results");
    }
    let bottom = top + height;
    let ideal_ms = result.ideal_s * 1000.0;
    let ideal_x = x(ideal_ms);
    let dashed = format!(r#"stroke="{IDEAL_COLOR}" stroke-width="2" stroke-dasharray="4 3""#);
    svg.line((ideal_x, top - 4.0), (ideal_x, bottom + 4.0), &dashed);
    // The label goes right of the line, or left of it near the right edge.
    let (label_x, anchor) = if ideal_x > PLOT_X1 - 110.0 {
        (ideal_x - 3.0, "end")
    } else {
        (ideal_x + 3.0, "start")
    };
    let style = format!(r#"fill="{IDEAL_COLOR}" text-anchor="{anchor}""#);
    let label = format!("ideal {ideal_ms:.0} ms");
    svg.text((label_x, top + 10.0), &style, &label);
    // The x axis, in ms.
    svg.line((PLOT_X0, bottom), (PLOT_X1, bottom), AXIS);
    let step = tick_step(x_max, 8.0);
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    for tick in ticks(x_max, step) {
        let tx = x(tick);
        svg.line((tx, bottom), (tx, bottom + 4.0), AXIS);
        let label = format!("{tick:.decimals$}");
        svg.text((tx, bottom + 15.0), r#"text-anchor="middle""#, &label);
    }
    svg.text((PLOT_X1, bottom + 27.0), END, "ms");
    let requests = format!("{} req", result.spans.len());
    svg.text((PLOT_X0 - 4.0, top + 10.0), END, &requests);
    bottom + 30.0
}

/// A step line through `steps` (µs, value) up to `end_ms`, as SVG path data.
fn step_path(
    steps: &[Step],
    end_ms: f64,
    x: impl Fn(f64) -> f64,
    y: impl Fn(f64) -> f64,
) -> String {
    let mut d = String::new();
    for (i, &(t, v)) in steps.iter().enumerate() {
        let (px, py) = (x(t as f64 / 1000.0), y(v as f64));
        let _ = match i {
            0 => write!(d, "M{px:.2} {py:.2}"),
            _ => write!(d, "H{px:.2}V{py:.2}"),
        };
    }
    if let Some(&(t, _)) = steps.last() {
        let _ = write!(d, "H{:.2}", x(end_ms.max(t as f64 / 1000.0)));
    }
    d
}

/// Draws, from `top` down, the strip under a panel: the limit (a fixed limit
/// is a flat line), the requests in flight and the server's capacity over
/// time, on a y axis of their own. Returns the `y` after it.
fn curves(
    svg: &mut Canvas,
    result: &RuntimeResult,
    top: f64,
    x_max: f64,
    capacity: Option<usize>,
) -> f64 {
    let x = x_of(x_max);
    let fixed = [(0, result.concurrency as u64)];
    let limits: &[Step] = if result.limit_curve.is_empty() && !result.adaptive {
        &fixed
    } else {
        &result.limit_curve
    };
    let bottom = top + CURVE_HEIGHT;
    let highest = limits
        .iter()
        .chain(&result.in_flight_curve)
        .map(|s| s.1 as f64)
        .chain(capacity.map(|k| k as f64))
        .fold(1.0f64, f64::max);
    let step = tick_step(highest, 3.0);
    let y_max = (highest * 1.1 / step).ceil() * step;
    let to_y = |v: f64| bottom - v / y_max * CURVE_HEIGHT;
    let strip = (PLOT_X1 - PLOT_X0, CURVE_HEIGHT);
    svg.rect((PLOT_X0, top), strip, r##"fill="#fbfbfb" stroke="#ccc""##);
    for tick in ticks(y_max, step) {
        let ty = to_y(tick);
        svg.line((PLOT_X0 - 4.0, ty), (PLOT_X0, ty), AXIS);
        svg.line((PLOT_X0, ty), (PLOT_X1, ty), r##"stroke="#eee""##);
        svg.text((PLOT_X0 - 6.0, ty + 4.0), END, &format!("{tick:.0}"));
    }
    let middle = top + CURVE_HEIGHT / 2.0;
    svg.text((12.0, middle - 2.0), r#"font-size="10""#, "limit /");
    svg.text((12.0, middle + 10.0), r#"font-size="10""#, "in flight");
    if let Some(k) = capacity {
        let ky = to_y(k as f64);
        let dashed =
            format!(r#"class="capacity" stroke="{CAPACITY_COLOR}" stroke-dasharray="3 3""#);
        svg.line((PLOT_X0, ky), (PLOT_X1, ky), &dashed);
    }
    let end_ms = result.wall_s * 1000.0;
    let in_flight = &result.in_flight_curve[..];
    for (class, steps, color, width) in [
        ("in-flight-curve", in_flight, IN_FLIGHT_COLOR, 1),
        ("limit-curve", limits, LIMIT_COLOR, 2),
    ] {
        if !steps.is_empty() {
            let d = step_path(steps, end_ms, x, to_y);
            svg.push(&format!(
                r#"<path class="{class}" d="{d}" fill="none" stroke="{color}" stroke-width="{width}"/>"#
            ));
        }
    }
    let label = match (result.adaptive, result.final_limit) {
        (true, Some(end)) => format!("limit {end} at the end"),
        (true, None) => "limit: not reported".to_owned(),
        (false, _) => format!("fixed limit {}", result.concurrency),
    };
    let style = format!(r#"text-anchor="end" fill="{LIMIT_COLOR}""#);
    svg.text((PLOT_X1, bottom + 12.0), &style, &label);
    bottom + 16.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{AdaptiveBounds, Plan, Scenario};
    use crate::report::tests::{test_report, test_result};
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
                start_us: i * 100 + 50_000,
                end_us: i * 100 + 250_000,
                outcome: if i == 3 {
                    Outcome::Timeout
                } else {
                    Outcome::Ok
                },
                // Every other one waited 50 ms for the limit before it went.
                waits: [if i % 2 == 0 { 50_000 } else { 0 }, 0, 0, 0, 0, 200_000],
            })
            .collect();
        let mut errors = ErrorCounts::default();
        errors.add(Outcome::Timeout, 1);
        let result = RuntimeResult {
            concurrency: 100,
            ok: 999,
            errors,
            spans,
            in_flight_curve: vec![(0, 100), (2_000_000, 0)],
            ..test_result(Runtime::Smol, 2.1)
        };
        let plan = Plan {
            name: "x<y".into(),
            requests: 1000,
            concurrency: 100,
            ..Scenario::Seed.plan()
        };
        let report = test_report(plan, vec![result]);
        let svg = render(&report);
        assert!(svg.starts_with("<svg"));
        assert!(svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("x&lt;y"));
        assert!(svg.contains("500 of 1000 requests shown"));
        assert!(svg.contains("ideal 2000 ms"));
        // Legend only: request 3 (the timeout) falls between the sampled lanes.
        assert_eq!(svg.matches(ERROR_COLOR).count(), 1);
        // The waits before each even request's attempt, in their own colour.
        assert_eq!(svg.matches(r#"class="waiting""#).count(), 500, "{svg}");
        // Not adaptive: no limit strip.
        assert!(!svg.contains("limit-curve") && !svg.contains("in-flight-curve"));

        // Adaptive: a strip with the limit's steps and the in-flight count,
        // and the server's capacity; a fixed row gets a flat limit.
        let mut report = report;
        report.plan.capacity = Some(50);
        report.plan.adaptive = Some(AdaptiveBounds {
            initial: 20,
            max: 1000,
        });
        let mut adaptive = report.results[0].clone();
        adaptive.runtime = Runtime::Tokio;
        adaptive.adaptive = true;
        adaptive.final_limit = Some(47);
        adaptive.rejected = Some(3);
        adaptive.limit_curve = vec![(0, 20), (500_000, 10), (1_500_000, 47)];
        report.results.insert(0, adaptive);
        let svg = render(&report);
        assert_eq!(svg.matches(r#"class="limit-curve""#).count(), 2, "{svg}");
        assert_eq!(svg.matches(r#"class="in-flight-curve""#).count(), 2);
        assert_eq!(svg.matches(r#"class="capacity""#).count(), 2);
        assert!(svg.contains("limit adaptive 20-&gt;47"));
        assert!(svg.contains("limit 47 at the end"));
        assert!(svg.contains("fixed limit 100"));
        assert!(svg.contains("(3 rejected)"));
    }

    #[test]
    fn step_paths() {
        let d = step_path(&[(0, 20), (1_000, 10)], 3.0, |ms| ms * 10.0, |v| 100.0 - v);
        assert_eq!(d, "M0.00 80.00H10.00V90.00H30.00");
        assert_eq!(step_path(&[], 3.0, |ms| ms, |v| v), "");
    }
}
