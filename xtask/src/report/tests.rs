use super::stats::percentile;
use super::table::{align, comparisons, round_by_round};
use super::*;
use crate::cli::{AdaptiveBounds, Plan, Runtime, Scenario};
use volley_core::ErrorKind;
use volley_mock::Stats;

/// A runtime's result of 10,000 requests, all ok, at concurrency 1,000 in
/// `wall_s` against an ideal of 2 s.
pub(crate) fn test_result(runtime: Runtime, wall_s: f64) -> RuntimeResult {
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
        sent_during_cooldown: None,
        wait_ms: None,
        walls_s: vec![],
        spans: vec![],
        in_flight_curve: vec![],
        limit_curve: vec![],
    }
}

/// `plan`'s report of `results` against the embedded server, nothing skipped.
pub(crate) fn test_report(plan: Plan, results: Vec<RuntimeResult>) -> ScenarioReport {
    ScenarioReport {
        ideal_s: plan.ideal_s(plan.concurrency),
        plan,
        url: "http://127.0.0.1:1/users/{id}".to_owned(),
        embedded_server: true,
        results,
        skipped: vec![],
    }
}

/// A runner's report of `spans` in `wall_us`, and nothing else.
fn run_output(runtime: Runtime, spans: Vec<Span>, wall_us: u64) -> RunOutput {
    RunOutput {
        spans,
        ..RunOutput::missing(runtime, wall_us)
    }
}

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
    for o in Outcome::errors() {
        counts.add(o, 2);
    }
    counts.add(Outcome::Ok, 5);
    assert_eq!(counts.total(), 14);
    let json = serde_json::to_value(counts).expect("serializes");
    for o in Outcome::errors() {
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
        waits: [0; 6],
    }
}

#[test]
fn summary_and_json_shape() {
    let plan = Scenario::Seed.plan();
    let mut spans: Vec<Span> = (0..8).map(|i| span(i, 200 + i, Outcome::Ok)).collect();
    spans.push(span(0, 30_000, Outcome::Timeout));
    let output = RunOutput {
        max_in_flight: 10,
        peak_rss_kb: Some(10_240),
        in_flight: vec![(0, 1), (5, 0)],
        // 9 of 10: one never reported
        ..run_output(Runtime::Tokio, spans, 250_000)
    };
    let server = Stats {
        max_in_flight: 9,
        ..Stats::default()
    };
    let result = summarize(&plan, output, Some(&server));
    assert_eq!(result.ok, 8);
    assert_eq!(result.errors.get(Outcome::Timeout), 1);
    assert_eq!(result.errors.get(Outcome::Other), 1);
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
    let crashed = summarize(
        &plan,
        RunOutput::missing(Runtime::Blocking, 1_000_000),
        None,
    );
    assert_eq!(crashed.ok, 0);
    assert_eq!(crashed.errors.get(Outcome::Other), 10);
    assert_eq!(crashed.concurrency, 1);
    assert_eq!(crashed.ideal_s, 2.0);
    assert_eq!(crashed.p50_ms, None);

    let report = test_report(plan, vec![result, crashed]);
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
        rejected: 3,
        final_limit: Some(7),
        in_flight: vec![(0, 1), (2, 0)],
        limits: vec![(0, 20), (1, 10)],
        ..run_output(
            Runtime::PlainReqwest,
            vec![span(1, 2, Outcome::TooLarge)],
            5,
        )
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

#[test]
fn the_median_run_keeps_every_wall() {
    let runs = [2.3, 2.1, 2.2].map(|wall_s| test_result(Runtime::Tokio, wall_s));
    let median = median_run(runs.to_vec()).expect("a run");
    assert_eq!(median.wall_s, 2.2);
    assert_eq!(median.walls_s, vec![2.3, 2.1, 2.2]);
    let one = median_run(vec![test_result(Runtime::Smol, 2.0)]).expect("a run");
    assert!(one.walls_s.is_empty());
    assert!(median_run(vec![]).is_none());
}

#[test]
fn comparison_lines() {
    let results = vec![
        test_result(Runtime::Tokio, 2.5),
        test_result(Runtime::Smol, 2.0),
        test_result(Runtime::PlainReqwest, 2.2),
        test_result(Runtime::PlainIsahc, 2.2),
    ];
    let mut report = test_report(Scenario::Scale.plan(), results);
    report.skipped.push(Skipped {
        runtime: Runtime::Blocking,
        reason: "too slow".to_owned(),
    });
    let lines = comparisons(&report);
    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(
        lines[0].contains("blocking skipped") && lines[0].contains("1000x"),
        "{lines:?}"
    );
    assert!(
        lines[1].contains("tokio takes 2.500 s against plain-reqwest's 2.200 s")
            && lines[1].contains("1.14x slower"),
        "{lines:?}"
    );
    assert!(
        lines[2].contains("smol takes 2.000 s against plain-isahc's"),
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
        ..test_result(runtime, walls[walls.len() / 2])
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
    let single = vec![
        test_result(Runtime::Tokio, 1.0),
        test_result(Runtime::Smol, 2.0),
    ];
    assert!(round_by_round(&single).is_none());
}

#[test]
fn adaptive_summary_table_and_json() {
    let mut plan = Scenario::Capacity.plan();
    plan.adaptive = Some(AdaptiveBounds {
        initial: 20,
        max: 1_000,
    });
    let spans: Vec<Span> = (0..plan.requests as u64)
        .map(|i| {
            let outcome = if i < 12 { Outcome::Status } else { Outcome::Ok };
            span(i * 4, i * 4 + 200, outcome)
        })
        .collect();
    let output = RunOutput {
        max_in_flight: 60,
        peak_rss_kb: Some(20_000),
        rejected: 11, // the client's count; the server's wins
        final_limit: Some(47),
        in_flight: vec![(0, 20), (10, 50)],
        limits: vec![(0, 20), (200_000, 10), (400_000, 11)],
        ..run_output(Runtime::Tokio, spans, 21_000_000)
    };
    let server = Stats {
        max_in_flight: 50,
        rejected: 12,
        ..Stats::default()
    };
    let adaptive = summarize(&plan, output, Some(&server));
    assert!(adaptive.adaptive);
    assert_eq!(adaptive.concurrency, 1_000);
    assert_eq!(adaptive.ideal_s, 20.0); // at most 50 served at once
    assert_eq!(adaptive.rejected, Some(12));
    assert_eq!(adaptive.final_limit, Some(47));
    assert_eq!(adaptive.errors.get(Outcome::Status), 12);
    assert_eq!(adaptive.ok + adaptive.errors.total(), 5_000);
    assert_eq!(adaptive.limit_label(), "adaptive 20->47");
    assert_eq!(adaptive.limit_curve.len(), 3);

    let spans = (0..5_000).map(|i| span(i, i + 200, Outcome::Ok)).collect();
    let fixed_output = RunOutput {
        max_in_flight: 20,
        ..run_output(Runtime::TokioFixed(20), spans, 50_000_000)
    };
    // Stats unreadable: the client's counts.
    let fixed = summarize(&plan, fixed_output, None);
    assert!(!fixed.adaptive);
    assert_eq!(fixed.concurrency, 20);
    assert_eq!(fixed.ideal_s, 50.0);
    assert_eq!((fixed.rejected, fixed.final_limit), (Some(0), None));
    assert_eq!(fixed.limit_label(), "fixed 20");

    let report = test_report(plan, vec![adaptive, fixed]);
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

#[test]
fn cooldown_counts_and_wait_breakdown() {
    let plan = Scenario::Cooldown.plan();
    assert_eq!(plan.ideal_s(10), 3.0); // 10 rounds of 100 ms, and the 2 s pause
    let spans: Vec<Span> = (0..100u32)
        .map(|i| Span {
            waits: [i * 1_000, 0, 0, 2_000_000, 0, 100_000],
            ..span(2_000, 2_100, Outcome::Ok)
        })
        .collect();
    let output = RunOutput {
        max_in_flight: 10,
        rejected: 1,
        ..run_output(Runtime::Smol, spans, 3_000_000)
    };
    let server = Stats {
        sent_during_cooldown: 0,
        ..Stats::default()
    };
    let polite = summarize(&plan, output, Some(&server));
    assert_eq!(polite.sent_during_cooldown, Some(0));
    let waits = polite.wait_ms.clone().expect("observed");
    let medians = crate::recorder::LANES.map(|lane| waits[lane]);
    assert_eq!(medians, [49.0, 0.0, 0.0, 2_000.0, 0.0, 100.0]);
    assert_eq!(polite.spans[3].waited_us(), 2_003_000);
    // Not observed (plain reqwest): no breakdown.
    let mut plain = test_result(Runtime::PlainReqwest, 2.1);
    plain.sent_during_cooldown = Some(90);

    let report = test_report(plan, vec![polite, plain]);
    let json = serde_json::to_value(&report).expect("serializes");
    assert_eq!(json["cooldown_s"], 2);
    assert_eq!(json["results"][0]["sent_during_cooldown"], 0);
    assert_eq!(json["results"][0]["wait_ms"]["cooldown"], 2_000.0);
    assert!(json["results"][1].get("wait_ms").is_none());
    let table = render_table(&report);
    assert!(table.contains("sent in cool-down"), "{table}");
    assert!(
        table.contains("smol wait breakdown, median ms per request: limit 49.0, host_limit 0.0, rate 0.0, cooldown 2000.0, backoff 0.0, wire 100.0"),
        "{table}"
    );
    assert!(!table.contains("plain-reqwest wait breakdown"), "{table}");
    assert!(!table.contains("vs its own client"), "{table}");
}
