//! What runners report and what `compare` writes to JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use volley_core::ErrorKind;

use crate::cli::{ADAPTIVE_INITIAL, Plan, Runtime};
use crate::recorder::{Lanes, Step};

/// How one request ended: `Ok` is a 2xx answer with a JSON object holding
/// an `id`, `Decode` any other body, `Other` also a result a runner never
/// reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Connect,
    Timeout,
    Status,
    Decode,
    TooLarge,
    Body,
    Other,
}

/// Every outcome and its snake_case name in JSON and tables, in the order
/// of the variants: `Ok`, then the errors in the order they are reported.
const NAMES: [(Outcome, &str); 8] = [
    (Outcome::Ok, "ok"),
    (Outcome::Connect, "connect"),
    (Outcome::Timeout, "timeout"),
    (Outcome::Status, "status"),
    (Outcome::Decode, "decode"),
    (Outcome::TooLarge, "too_large"),
    (Outcome::Body, "body"),
    (Outcome::Other, "other"),
];

impl Outcome {
    /// The error kinds, in the order they are reported.
    pub fn errors() -> impl Iterator<Item = Outcome> {
        NAMES[1..].iter().map(|&(outcome, _)| outcome)
    }

    /// The outcome named as a volley error kind is (`Other` for the kinds
    /// with no outcome of their own).
    pub fn from_kind(kind: ErrorKind) -> Outcome {
        let named = NAMES.iter().find(|(_, name)| *name == kind.as_str());
        named.map_or(Outcome::Other, |&(outcome, _)| outcome)
    }

    /// The name used in JSON and tables.
    pub fn as_str(self) -> &'static str {
        NAMES[self as usize].1
    }
}

/// One request as its runner saw it: its (last attempt's) start and end in
/// µs from the start of the run, how it ended, and where its time went (µs
/// per lane of [`LANES`](crate::recorder::LANES); only with an observer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start_us: u64,
    pub end_us: u64,
    #[serde(rename = "kind")]
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub waits: Lanes,
}

fn is_zero(lanes: &Lanes) -> bool {
    lanes.iter().all(|&us| us == 0)
}

impl Span {
    /// The time it spent in the layers before its last attempt began, in µs.
    pub fn waited_us(&self) -> u64 {
        let total: u64 = self.waits.iter().map(|&us| u64::from(us)).sum();
        total.saturating_sub(self.end_us.saturating_sub(self.start_us))
    }
}

/// The one JSON line `run-one` prints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunOutput {
    pub runtime: Runtime,
    pub spans: Vec<Span>,
    /// From the start of the run to the last request's end, in µs.
    pub wall_us: u64,
    pub max_in_flight: u64,
    pub peak_rss_kb: Option<u64>,
    #[serde(default)]
    pub rejected: u64,
    #[serde(default)]
    pub final_limit: Option<usize>,
    /// Requests in flight after each change (thinned).
    #[serde(default)]
    pub in_flight: Vec<Step>,
    /// The adaptive limit after each change (thinned; empty for a fixed limit).
    #[serde(default)]
    pub limits: Vec<Step>,
}

impl RunOutput {
    /// All that is known of a run whose runner reported nothing: the wall
    /// time measured from outside.
    pub fn missing(runtime: Runtime, wall_us: u64) -> RunOutput {
        RunOutput {
            runtime,
            wall_us,
            ..RunOutput::default()
        }
    }
}

/// Failed requests by kind: a count for each kind of [`Outcome::errors`],
/// in that order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorCounts(BTreeMap<Outcome, u64>);

impl Default for ErrorCounts {
    fn default() -> ErrorCounts {
        ErrorCounts(Outcome::errors().map(|kind| (kind, 0)).collect())
    }
}

impl ErrorCounts {
    /// Counts `n` more `outcome`s (nothing for `Ok`).
    pub fn add(&mut self, outcome: Outcome, n: u64) {
        if let Some(count) = self.0.get_mut(&outcome) {
            *count += n;
        }
    }

    /// The count for one kind.
    #[cfg(test)]
    pub fn get(&self, outcome: Outcome) -> u64 {
        self.0.get(&outcome).copied().unwrap_or(0)
    }

    /// All failures.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// `timeout 3, status 1`, or empty when there were none.
    pub fn describe(&self) -> String {
        let counts = self.0.iter().filter(|&(_, &n)| n > 0);
        let parts: Vec<String> = counts.map(|(o, n)| format!("{} {n}", o.as_str())).collect();
        parts.join(", ")
    }
}

/// One runtime's results in a scenario, as written to JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RuntimeResult {
    pub runtime: Runtime,
    /// The concurrency it ran at; for an adaptive limit, its maximum.
    pub concurrency: usize,
    /// True when it ran with an adaptive limit (absent otherwise).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub adaptive: bool,
    pub ok: u64,
    /// Requests that failed, by kind; with `ok`, every request.
    pub errors: ErrorCounts,
    /// Results the runner never reported (also in `errors.other`).
    pub missing: u64,
    pub wall_s: f64,
    pub ideal_s: f64,
    pub ratio: Option<f64>,
    pub rps: f64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    /// Most in flight at once: counted by the embedded server, else the client.
    pub max_in_flight: u64,
    pub client_max_in_flight: u64,
    pub peak_rss_kb: Option<u64>,
    /// Requests turned away (with a capacity or `--adaptive` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejected: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_limit: Option<usize>,
    /// The cooldown scenario: requests that reached the server during the
    /// pause it asked for (counted by the server).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_during_cooldown: Option<u64>,
    /// Where a request's time went: the median per request of each lane of
    /// [`LANES`](crate::recorder::LANES), in ms (absent without an observer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<BTreeMap<String, f64>>,
    /// With `--repeat N`: every run's wall time, in order (absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub walls_s: Vec<f64>,
    #[serde(skip)]
    pub spans: Vec<Span>,
    #[serde(skip)]
    pub in_flight_curve: Vec<Step>,
    #[serde(skip)]
    pub limit_curve: Vec<Step>,
}

impl RuntimeResult {
    /// `adaptive 20->47` (initial and final) or `fixed 50`.
    pub fn limit_label(&self) -> String {
        if !self.adaptive {
            return format!("fixed {}", self.concurrency);
        }
        let unrecorded = ADAPTIVE_INITIAL.min(self.concurrency) as u64;
        let initial = self.limit_curve.first().map_or(unrecorded, |s| s.1);
        let end = self.final_limit.map_or("?".to_owned(), |n| n.to_string());
        format!("adaptive {initial}->{end}")
    }
}

/// A runtime that was not run, and why.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Skipped {
    pub runtime: Runtime,
    pub reason: String,
}

/// One scenario's results, as written to JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScenarioReport {
    #[serde(flatten)]
    pub plan: Plan,
    pub ideal_s: f64,
    pub url: String,
    pub embedded_server: bool,
    pub results: Vec<RuntimeResult>,
    pub skipped: Vec<Skipped>,
}
