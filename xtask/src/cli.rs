//! The command line: `compare`, and the hidden `mock` and `run-one` that
//! `compare` runs as child processes of itself.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

/// Project tasks for volley.
#[derive(Debug, Parser)]
#[command(
    name = "xtask",
    about = "Project tasks for volley (run as `cargo xtask ...`)"
)]
pub struct Cli {
    /// The task to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The tasks.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs the tutorial's scenarios on every runtime, each runtime in its own
    /// process, and prints a table per scenario (and writes an SVG timeline).
    Compare(CompareArgs),
    /// Runs the volley-mock server in this process (used by `compare`).
    #[command(hide = true)]
    Mock(MockArgs),
    /// Runs one scenario on one runtime and prints one JSON line of results
    /// (used by `compare`).
    #[command(hide = true, name = "run-one")]
    RunOne(RunOneArgs),
}

/// The ways a scenario can be run: the volley adapters, and one plain stack
/// for reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Runtime {
    /// volley-tokio on a multi-thread tokio runtime.
    Tokio,
    /// volley-async-std in `async_std::task::block_on`.
    AsyncStd,
    /// volley-smol in `smol::block_on`.
    Smol,
    /// volley-blocking, strictly one request after another.
    Blocking,
    /// one reqwest client and `buffer_unordered`, without volley (reference).
    PlainReqwest,
}

impl Runtime {
    /// The runtimes `compare` runs when `--runtimes` is not given.
    pub const DEFAULT: [Runtime; 4] = [
        Runtime::Tokio,
        Runtime::AsyncStd,
        Runtime::Smol,
        Runtime::Blocking,
    ];

    /// The name used on the command line, in tables and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Tokio => "tokio",
            Runtime::AsyncStd => "async-std",
            Runtime::Smol => "smol",
            Runtime::Blocking => "blocking",
            Runtime::PlainReqwest => "plain-reqwest",
        }
    }

    /// True for the volley adapters that run requests concurrently.
    pub fn is_volley_async(self) -> bool {
        matches!(self, Runtime::Tokio | Runtime::AsyncStd | Runtime::Smol)
    }

    /// The concurrency this runtime really runs at: blocking is sequential.
    pub fn effective_concurrency(self, concurrency: usize) -> usize {
        match self {
            Runtime::Blocking => 1,
            _ => concurrency.max(1),
        }
    }
}

/// The named scenarios of the design notes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// 10 users, concurrency 10, 200 ms latency.
    Seed,
    /// 100 posts, concurrency 20, 200 ms latency.
    Limit,
    /// 10,000 users, concurrency 1,000, 200 ms latency.
    Scale,
    /// 20,000 users, concurrency 64, no latency.
    Throughput,
}

impl Scenario {
    /// The scenario's own numbers.
    pub fn plan(self) -> Plan {
        let (name, requests, concurrency, latency_ms, resource) = match self {
            Scenario::Seed => ("seed", 10, 10, 200, "users"),
            Scenario::Limit => ("limit", 100, 20, 200, "posts"),
            Scenario::Scale => ("scale", 10_000, 1_000, 200, "users"),
            Scenario::Throughput => ("throughput", 20_000, 64, 0, "users"),
        };
        Plan {
            name: name.to_owned(),
            requests,
            concurrency,
            latency_ms,
            resource,
        }
    }
}

/// One scenario as it will be run: its numbers after overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The scenario's name (`custom` when only numbers were given).
    pub name: String,
    /// How many requests.
    pub requests: usize,
    /// How many in flight at once (blocking ignores it).
    pub concurrency: usize,
    /// The server's latency per request, in ms.
    pub latency_ms: u64,
    /// The embedded server's resource: `users` or `posts`.
    pub resource: &'static str,
}

/// Options of `compare`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "\
With no --scenario and no numbers, runs `seed` then `limit`. With numbers only \
(--requests/--concurrency/--latency-ms), runs one `custom` scenario built on `seed`.

Files: --json FILE gets one JSON object for one scenario, or an array of objects \
(one per scenario, in order) when several run. The SVG timeline is always written: \
--svg FILE for one scenario, FILE with `-<scenario>` before its extension for \
several; by default target/volley-compare-<scenario>.svg.

The blocking runtime is strictly sequential (concurrency 1; its ideal time is \
requests x latency). It is skipped when that ideal exceeds --blocking-budget-s.")]
pub struct CompareArgs {
    /// A named scenario (default: seed, then limit).
    #[arg(long, value_enum)]
    pub scenario: Option<Scenario>,
    /// Number of requests (overrides the scenario's).
    #[arg(long, value_parser = positive)]
    pub requests: Option<usize>,
    /// Requests in flight at once (overrides the scenario's).
    #[arg(long, value_parser = positive)]
    pub concurrency: Option<usize>,
    /// Server latency per request in ms (overrides the scenario's). With
    /// --url it only sets the ideal time.
    #[arg(long)]
    pub latency_ms: Option<u64>,
    /// Runtimes to compare, comma-separated, in this order [default:
    /// tokio,async-std,smol,blocking]. `plain-reqwest` (reqwest and
    /// `buffer_unordered`, without volley) is available as a reference.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub runtimes: Vec<Runtime>,
    /// Use this server instead of the embedded mock: a URL template where
    /// `{id}` is replaced by 1..=N, e.g. `http://127.0.0.1:8080/users/{id}`.
    #[arg(long, value_name = "TEMPLATE")]
    pub url: Option<String>,
    /// Per-request timeout given to every client, in ms.
    #[arg(long, default_value_t = 30_000, value_parser = positive_u64)]
    pub timeout_ms: u64,
    /// Response body cap given to every volley client, in bytes (plain-reqwest
    /// has no such setting and ignores it).
    #[arg(long)]
    pub max_body_bytes: Option<u64>,
    /// Embedded mock only: capacity mode, at most K requests at once, the rest
    /// answered with 503.
    #[arg(long, value_name = "K", value_parser = positive)]
    pub capacity: Option<usize>,
    /// Skip blocking when its ideal (sequential) time exceeds this many
    /// seconds; 0 never skips.
    #[arg(long, default_value_t = 60)]
    pub blocking_budget_s: u64,
    /// Write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the timeline SVG to FILE.
    #[arg(long, value_name = "FILE")]
    pub svg: Option<PathBuf>,
}

impl CompareArgs {
    /// The runtimes to run, in order, without repeats.
    pub fn runtimes(&self) -> Vec<Runtime> {
        let chosen: &[Runtime] = if self.runtimes.is_empty() {
            &Runtime::DEFAULT
        } else {
            &self.runtimes
        };
        let mut out = Vec::new();
        for &runtime in chosen {
            if !out.contains(&runtime) {
                out.push(runtime);
            }
        }
        out
    }

    /// The scenarios to run, with the overrides applied.
    pub fn plans(&self) -> Vec<Plan> {
        let overridden =
            self.requests.is_some() || self.concurrency.is_some() || self.latency_ms.is_some();
        let base = match (self.scenario, overridden) {
            (Some(scenario), _) => vec![scenario.plan()],
            (None, true) => {
                let mut plan = Scenario::Seed.plan();
                plan.name = "custom".to_owned();
                vec![plan]
            }
            (None, false) => vec![Scenario::Seed.plan(), Scenario::Limit.plan()],
        };
        base.into_iter()
            .map(|mut plan| {
                if let Some(n) = self.requests {
                    plan.requests = n;
                }
                if let Some(c) = self.concurrency {
                    plan.concurrency = c;
                }
                if let Some(l) = self.latency_ms {
                    plan.latency_ms = l;
                }
                plan
            })
            .collect()
    }
}

/// Options of the hidden `mock`.
#[derive(Debug, Clone, Args)]
pub struct MockArgs {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Delay added to every request, in ms.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Capacity mode: at most K requests at once, the rest answered with 503.
    #[arg(long, value_name = "K")]
    pub capacity: Option<usize>,
    /// Stop when standard input is closed (so the server never outlives the
    /// process that started it).
    #[arg(long)]
    pub exit_on_stdin_eof: bool,
}

/// Options of the hidden `run-one`.
#[derive(Debug, Clone, Args)]
pub struct RunOneArgs {
    /// The runtime to run on.
    #[arg(long, value_enum)]
    pub runtime: Runtime,
    /// URL template; `{id}` is replaced by 1..=N.
    #[arg(long)]
    pub url_template: String,
    /// Number of requests.
    #[arg(long, value_parser = positive)]
    pub requests: usize,
    /// Requests in flight at once (blocking ignores it).
    #[arg(long, value_parser = positive)]
    pub concurrency: usize,
    /// Per-request timeout in ms.
    #[arg(long, default_value_t = 30_000, value_parser = positive_u64)]
    pub timeout_ms: u64,
    /// Response body cap in bytes.
    #[arg(long)]
    pub max_body_bytes: Option<u64>,
    /// Print `progress N` lines (requests done so far) while running.
    #[arg(long)]
    pub progress: bool,
}

/// A count of at least 1.
fn positive(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A duration of at least 1.
fn positive_u64(s: &str) -> Result<u64, String> {
    match s.parse::<u64>() {
        Ok(0) => Err("must be at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(args: &[&str]) -> Result<CompareArgs, clap::Error> {
        let argv = ["xtask", "compare"].iter().chain(args).copied();
        match Cli::try_parse_from(argv)?.command {
            Command::Compare(args) => Ok(args),
            other => panic!("not compare: {other:?}"),
        }
    }

    #[test]
    fn default_runs_seed_then_limit_on_all_four() {
        let args = compare(&[]).expect("parses");
        let plans = args.plans();
        assert_eq!(plans.len(), 2);
        assert_eq!(plans[0], Scenario::Seed.plan());
        assert_eq!(plans[1], Scenario::Limit.plan());
        assert_eq!(
            (plans[0].requests, plans[0].concurrency, plans[0].latency_ms),
            (10, 10, 200)
        );
        assert_eq!(
            (plans[1].requests, plans[1].concurrency, plans[1].latency_ms),
            (100, 20, 200)
        );
        assert_eq!(plans[1].resource, "posts");
        assert_eq!(args.runtimes(), Runtime::DEFAULT.to_vec());
        assert_eq!(args.timeout_ms, 30_000);
        assert!(args.url.is_none() && args.json.is_none() && args.svg.is_none());
    }

    #[test]
    fn named_scenarios() {
        for (name, n, c, l) in [
            ("seed", 10, 10, 200),
            ("limit", 100, 20, 200),
            ("scale", 10_000, 1_000, 200),
            ("throughput", 20_000, 64, 0),
        ] {
            let plans = compare(&["--scenario", name]).expect("parses").plans();
            assert_eq!(plans.len(), 1);
            assert_eq!(plans[0].name, name);
            assert_eq!(
                (plans[0].requests, plans[0].concurrency, plans[0].latency_ms),
                (n, c, l)
            );
        }
        assert!(compare(&["--scenario", "nope"]).is_err());
    }

    #[test]
    fn overrides_replace_the_scenario_numbers() {
        let plans = compare(&["--scenario", "scale", "--requests", "500"])
            .expect("parses")
            .plans();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].name, "scale");
        assert_eq!(
            (plans[0].requests, plans[0].concurrency, plans[0].latency_ms),
            (500, 1_000, 200)
        );

        let plans = compare(&[
            "--requests",
            "20",
            "--concurrency",
            "5",
            "--latency-ms",
            "20",
        ])
        .expect("parses")
        .plans();
        assert_eq!(plans.len(), 1);
        assert_eq!(plans[0].name, "custom");
        assert_eq!(
            (plans[0].requests, plans[0].concurrency, plans[0].latency_ms),
            (20, 5, 20)
        );
        assert!(compare(&["--requests", "0"]).is_err());
        assert!(compare(&["--concurrency", "x"]).is_err());
    }

    #[test]
    fn runtimes_list() {
        let args = compare(&["--runtimes", "smol,plain-reqwest,smol,blocking"]).expect("parses");
        assert_eq!(
            args.runtimes(),
            vec![Runtime::Smol, Runtime::PlainReqwest, Runtime::Blocking]
        );
        let args = compare(&["--runtimes", "async-std", "--runtimes", "tokio"]).expect("parses");
        assert_eq!(args.runtimes(), vec![Runtime::AsyncStd, Runtime::Tokio]);
    }

    #[test]
    fn bad_runtime_rejected() {
        let err = compare(&["--runtimes", "tokio,glommio"]).expect_err("rejected");
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn other_options() {
        let args = compare(&[
            "--url",
            "http://127.0.0.1:9/users/{id}",
            "--timeout-ms",
            "500",
            "--max-body-bytes",
            "4096",
            "--json",
            "out.json",
            "--svg",
            "out.svg",
        ])
        .expect("parses");
        assert_eq!(args.url.as_deref(), Some("http://127.0.0.1:9/users/{id}"));
        assert_eq!(args.timeout_ms, 500);
        assert_eq!(args.max_body_bytes, Some(4096));
        assert_eq!(args.json, Some(PathBuf::from("out.json")));
        assert_eq!(args.svg, Some(PathBuf::from("out.svg")));
        assert!(compare(&["--timeout-ms", "0"]).is_err());
    }

    #[test]
    fn hidden_subcommands_parse() {
        let cli = Cli::try_parse_from([
            "xtask",
            "run-one",
            "--runtime",
            "async-std",
            "--url-template",
            "http://x/{id}",
            "--requests",
            "3",
            "--concurrency",
            "2",
        ])
        .expect("parses");
        match cli.command {
            Command::RunOne(a) => {
                assert_eq!(a.runtime, Runtime::AsyncStd);
                assert_eq!((a.requests, a.concurrency, a.timeout_ms), (3, 2, 30_000));
            }
            other => panic!("not run-one: {other:?}"),
        }
        let cli = Cli::try_parse_from(["xtask", "mock", "--port", "0", "--latency-ms", "200"])
            .expect("parses");
        assert!(matches!(
            cli.command,
            Command::Mock(MockArgs {
                latency_ms: 200,
                ..
            })
        ));
    }

    #[test]
    fn blocking_is_sequential() {
        assert_eq!(Runtime::Blocking.effective_concurrency(10), 1);
        assert_eq!(Runtime::Tokio.effective_concurrency(10), 10);
        for r in Runtime::DEFAULT {
            assert_eq!(Runtime::from_str(r.name(), false).expect("round trip"), r);
        }
    }
}
