//! The command line: `compare`, and the hidden `mock` and `run-one` that
//! `compare` runs as child processes of itself.

use std::collections::HashSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

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
    /// Runs the scenarios of BENCHMARKS.md on every runtime, each runtime in its own
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

/// The ways a scenario can be run: the volley adapters (blocking strictly
/// one request after another), each async adapter's own client used alone
/// with `buffer_unordered` for reference (`plain-reqwest`, `plain-surf`,
/// `plain-isahc`), and volley-tokio at a fixed limit of N (`tokio-fixed-N`).
/// Named the same on the command line, in tables and in JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Runtime {
    #[default]
    Tokio,
    AsyncStd,
    Smol,
    Blocking,
    PlainReqwest,
    PlainSurf,
    PlainIsahc,
    TokioFixed(usize),
}

/// The runtimes with a name of their own, and the names.
const NAMES: [(Runtime, &str); 7] = [
    (Runtime::Tokio, "tokio"),
    (Runtime::AsyncStd, "async-std"),
    (Runtime::Smol, "smol"),
    (Runtime::Blocking, "blocking"),
    (Runtime::PlainReqwest, "plain-reqwest"),
    (Runtime::PlainSurf, "plain-surf"),
    (Runtime::PlainIsahc, "plain-isahc"),
];

impl Runtime {
    /// The runtimes `compare` runs when `--runtimes` is not given.
    pub const DEFAULT: [Runtime; 4] = [
        Runtime::Tokio,
        Runtime::AsyncStd,
        Runtime::Smol,
        Runtime::Blocking,
    ];

    /// The runtimes that can run with an adaptive limit.
    pub const ADAPTIVE: [Runtime; 3] = [Runtime::Tokio, Runtime::AsyncStd, Runtime::Smol];

    /// True for the volley adapters that run requests concurrently: not
    /// blocking, nor the clients used without volley, for reference.
    pub fn is_volley_async(self) -> bool {
        self.is_adaptive_capable() || matches!(self, Runtime::TokioFixed(_))
    }

    /// The client this volley adapter runs on, used alone: its reference.
    pub fn own_client(self) -> Option<Runtime> {
        match self {
            Runtime::Tokio => Some(Runtime::PlainReqwest),
            Runtime::AsyncStd => Some(Runtime::PlainSurf),
            Runtime::Smol => Some(Runtime::PlainIsahc),
            _ => None,
        }
    }

    /// True for the runtimes that `--adaptive` runs with an adaptive limit.
    pub fn is_adaptive_capable(self) -> bool {
        Runtime::ADAPTIVE.contains(&self)
    }

    /// The concurrency this runtime really runs at: 1 for blocking, N for
    /// `tokio-fixed-N`.
    pub fn effective_concurrency(self, concurrency: usize) -> usize {
        match self {
            Runtime::Blocking => 1,
            Runtime::TokioFixed(n) => n.max(1),
            _ => concurrency.max(1),
        }
    }
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Runtime::TokioFixed(n) = self {
            return write!(f, "tokio-fixed-{n}");
        }
        let name = NAMES.iter().find(|(runtime, _)| runtime == self);
        f.write_str(name.map_or("", |(_, name)| name))
    }
}

impl FromStr for Runtime {
    type Err = String;

    fn from_str(s: &str) -> Result<Runtime, String> {
        if let Some(&(runtime, _)) = NAMES.iter().find(|(_, name)| *name == s) {
            return Ok(runtime);
        }
        let Some(n) = s.strip_prefix("tokio-fixed-") else {
            let names = NAMES.map(|(_, name)| name).join(", ");
            return Err(format!("expected one of {names}, tokio-fixed-N"));
        };
        let n = positive(n).map_err(|e| format!("the N of tokio-fixed-N {e}"))?;
        Ok(Runtime::TokioFixed(n))
    }
}

impl Serialize for Runtime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Runtime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Runtime, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// The named scenarios (BENCHMARKS.md lists them).
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
    /// 5,000 users against a server that takes 50 at once (the rest get
    /// 503), 200 ms latency; ideal at the best fixed limit, 50. With
    /// `--adaptive`, the adaptive limit may grow to 1,000.
    Capacity,
    /// 100 users, concurrency 10, 100 ms latency, from a route whose first
    /// answer is 429 with `Retry-After: 2`: the volley runtimes send through
    /// `.limit(10).host_cooldown(max).retry(policy)`, plain-reqwest retries
    /// each request after its own `Retry-After`; the server counts the
    /// requests sent during the pause.
    Cooldown,
}

impl Scenario {
    /// The scenario's own numbers.
    pub fn plan(self) -> Plan {
        let (name, requests, concurrency, latency_ms, resource) = match self {
            Scenario::Seed => ("seed", 10, 10, 200, "users"),
            Scenario::Limit => ("limit", 100, 20, 200, "posts"),
            Scenario::Scale => ("scale", 10_000, 1_000, 200, "users"),
            Scenario::Throughput => ("throughput", 20_000, 64, 0, "users"),
            Scenario::Capacity => ("capacity", 5_000, 50, 200, "users"),
            Scenario::Cooldown => ("cooldown", 100, 10, 100, "cooldown"),
        };
        Plan {
            name: name.to_owned(),
            requests,
            concurrency,
            latency_ms,
            resource,
            capacity: (self == Scenario::Capacity).then_some(50),
            adaptive: None,
            cooldown_s: (self == Scenario::Cooldown).then_some(COOLDOWN_S),
        }
    }
}

/// The `Retry-After` of volley-mock's `/cooldown/{id}`, in s.
pub const COOLDOWN_S: u64 = 2;

/// Where an adaptive limit starts: the guess of `examples/limited_posts.rs`.
pub const ADAPTIVE_INITIAL: usize = 20;

/// One scenario as it will be run: its numbers after overrides, as the
/// head of its JSON report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The scenario's name (`custom` when only numbers were given).
    #[serde(rename = "scenario")]
    pub name: String,
    pub requests: usize,
    pub concurrency: usize,
    pub latency_ms: u64,
    /// The embedded server's resource: `users` or `posts`.
    #[serde(skip)]
    pub resource: &'static str,
    /// The most requests the server takes at once (the rest get 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<usize>,
    /// With `--adaptive`: the adaptive limit's bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveBounds>,
    /// The pause the server asks for once (the cooldown scenario), in s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cooldown_s: Option<u64>,
}

/// The bounds of an adaptive run's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdaptiveBounds {
    pub initial: usize,
    pub max: usize,
}

impl Plan {
    /// With `--adaptive`: the most the adaptive limit may grow to.
    pub fn adaptive_max(&self) -> Option<usize> {
        self.adaptive.map(|bounds| bounds.max)
    }

    /// The concurrency `runtime` runs at: the adaptive maximum in an
    /// adaptive run, otherwise its effective concurrency.
    pub fn runtime_concurrency(&self, runtime: Runtime) -> usize {
        match self.adaptive_max() {
            Some(max) if runtime.is_adaptive_capable() => max,
            _ => runtime.effective_concurrency(self.concurrency),
        }
    }

    /// True when `runtime` runs with an adaptive limit in this plan.
    pub fn is_adaptive(&self, runtime: Runtime) -> bool {
        self.adaptive.is_some() && runtime.is_adaptive_capable()
    }

    /// How many requests can be served at once at `concurrency`: no more
    /// than the server's capacity.
    pub fn served_at_once(&self, concurrency: usize) -> usize {
        concurrency.min(self.capacity.unwrap_or(usize::MAX)).max(1)
    }

    /// The ideal wall time at `concurrency`, in s: rounds of what can be
    /// served at once, and the pause the server asks for.
    pub fn ideal_s(&self, concurrency: usize) -> f64 {
        let served = self.served_at_once(concurrency);
        let pause = self.cooldown_s.unwrap_or(0) as f64;
        crate::report::ideal_s(self.requests, served, self.latency_ms) + pause
    }

    /// The runtimes of an adaptive run without `--runtimes`: the three async
    /// runtimes, then volley-tokio at fixed limits: 20, K and 2K against a
    /// server of capacity K, otherwise the adaptive maximum.
    pub fn adaptive_default_runtimes(&self) -> Vec<Runtime> {
        let fixed = match (self.capacity, self.adaptive_max()) {
            (Some(k), _) => vec![ADAPTIVE_INITIAL, k, 2 * k],
            (None, max) => max.into_iter().collect(),
        };
        let fixed = fixed.into_iter().map(Runtime::TokioFixed);
        dedup(Runtime::ADAPTIVE.into_iter().chain(fixed))
    }
}

/// `runtimes` in order, without repeats.
fn dedup(runtimes: impl IntoIterator<Item = Runtime>) -> Vec<Runtime> {
    let mut seen = HashSet::new();
    runtimes.into_iter().filter(|r| seen.insert(*r)).collect()
}

/// The options `compare` hands on to each client (and to `run-one`).
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// Per-request timeout given to every client, in ms.
    #[arg(long, default_value_t = 30_000, value_parser = positive::<u64>)]
    pub timeout_ms: u64,
    /// Response body cap given to every volley client, in bytes (plain-reqwest
    /// has no such setting and ignores it).
    #[arg(long)]
    pub max_body_bytes: Option<u64>,
    /// Speak HTTP/2 with prior knowledge (h2c) to the server: tokio, smol
    /// and plain-reqwest run it; async-std and blocking, which speak
    /// HTTP/1.1 only, are listed as skipped.
    #[arg(long)]
    pub http2: bool,
}

impl ClientArgs {
    /// The same options as `run-one` arguments.
    pub fn to_args(&self) -> Vec<String> {
        let timeout = Some(format!("--timeout-ms={}", self.timeout_ms));
        let max_body = (self.max_body_bytes).map(|max| format!("--max-body-bytes={max}"));
        let http2 = self.http2.then(|| "--http2".to_owned());
        [timeout, max_body, http2].into_iter().flatten().collect()
    }
}

/// The server `compare` starts when no `--url` is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Server {
    /// volley-mock, in a process of its own.
    Mock,
    /// nginx with `xtask/nginx/nginx.conf`.
    Nginx,
}

/// Options of `compare` (`--help` shows `compare_help.txt` under them).
#[derive(Debug, Clone, Args)]
#[command(after_help = include_str!("compare_help.txt"))]
pub struct CompareArgs {
    /// A named scenario (default: seed, then limit; capacity with --adaptive).
    #[arg(long, value_enum)]
    pub scenario: Option<Scenario>,
    /// Number of requests (overrides the scenario's).
    #[arg(long, value_parser = positive::<usize>)]
    pub requests: Option<usize>,
    /// Requests in flight at once (overrides the scenario's).
    #[arg(long, value_parser = positive::<usize>)]
    pub concurrency: Option<usize>,
    /// Server latency per request in ms (overrides the scenario's). With
    /// --url it only sets the ideal time.
    #[arg(long)]
    pub latency_ms: Option<u64>,
    /// Runtimes to compare, comma-separated, in this order [default:
    /// tokio,async-std,smol,blocking]. `plain-reqwest`, `plain-surf` and
    /// `plain-isahc` (each adapter's client alone, with `buffer_unordered`)
    /// are references, and `tokio-fixed-N` is volley-tokio at a fixed limit.
    #[arg(long, value_delimiter = ',')]
    pub runtimes: Vec<Runtime>,
    /// Run tokio, async-std and smol with an adaptive limit instead of a
    /// fixed one (default scenario: capacity).
    #[arg(long)]
    pub adaptive: bool,
    /// With --adaptive: the most the limit may grow to [default: the
    /// scenario's concurrency; 1,000 for capacity].
    #[arg(long, value_name = "N", value_parser = positive::<usize>, requires = "adaptive")]
    pub max_limit: Option<usize>,
    /// Use this server instead of the embedded mock: a URL template where
    /// `{id}` is replaced by 1..=N, e.g. `http://127.0.0.1:8080/users/{id}`.
    #[arg(long, value_name = "TEMPLATE", conflicts_with = "server")]
    pub url: Option<String>,
    /// The server to start: the embedded volley-mock, or nginx (a C server
    /// much faster than the clients, from Debian's packages, installed when
    /// missing) with the repository's config, `xtask/nginx/nginx.conf`.
    #[arg(long, value_enum, default_value_t = Server::Mock)]
    pub server: Server,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Embedded mock: capacity mode, at most K requests at once, the rest
    /// answered with 503 (overrides the scenario's; capacity has 50). The
    /// ideal time counts at most K at once.
    #[arg(long, value_name = "K", value_parser = positive::<usize>)]
    pub capacity: Option<usize>,
    /// Run every runtime N times, taking turns, and show each runtime's run
    /// of median wall time (with every wall time under the table): noisy
    /// machines need it before a difference of a few percent means anything.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = positive::<usize>)]
    pub repeat: usize,
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
    /// The workers scenario: N runner processes of each runtime share one
    /// rate (--rate) through Redis, measured at the server.
    #[arg(long, value_name = "N", value_parser = positive::<u32>, conflicts_with_all = ["url", "adaptive"])]
    pub workers: Option<u32>,
    /// With --workers: the rate they share, in requests/s.
    #[arg(long, value_name = "R", default_value_t = 200.0, value_parser = rate, requires = "workers")]
    pub rate: f64,
    /// With --workers: the Redis to share it through [default: a
    /// redis-server of its own on a free loopback port].
    #[arg(long, value_name = "URL", requires = "workers")]
    pub redis: Option<String>,
    /// With --workers: kill that own redis-server T ms after the workers
    /// start; they fail open, each at its share of the rate.
    #[arg(long, value_name = "T", requires = "workers", conflicts_with = "redis")]
    pub kill_redis_after_ms: Option<u64>,
}

impl CompareArgs {
    /// The runtimes to run in `plan`, in order, without repeats.
    pub fn runtimes(&self, plan: &Plan) -> Vec<Runtime> {
        if !self.runtimes.is_empty() {
            dedup(self.runtimes.iter().copied())
        } else if self.adaptive {
            plan.adaptive_default_runtimes()
        } else if plan.cooldown_s.is_some() {
            [&Runtime::ADAPTIVE[..], &[Runtime::PlainReqwest]].concat()
        } else {
            Runtime::DEFAULT.to_vec()
        }
    }

    /// The scenarios to run, with the overrides applied.
    pub fn plans(&self) -> Vec<Plan> {
        let overridden =
            self.requests.is_some() || self.concurrency.is_some() || self.latency_ms.is_some();
        let scenarios = match (self.scenario, overridden, self.adaptive) {
            (Some(scenario), _, _) => vec![scenario],
            (None, _, true) => vec![Scenario::Capacity],
            (None, true, false) => vec![Scenario::Seed],
            (None, false, false) => vec![Scenario::Seed, Scenario::Limit],
        };
        scenarios
            .into_iter()
            .map(|scenario| {
                let mut plan = scenario.plan();
                if self.scenario.is_none() && overridden {
                    plan.name = "custom".to_owned();
                }
                plan.requests = self.requests.unwrap_or(plan.requests);
                plan.concurrency = self.concurrency.unwrap_or(plan.concurrency);
                plan.latency_ms = self.latency_ms.unwrap_or(plan.latency_ms);
                if let Some(k) = self.capacity {
                    plan.capacity = Some(k);
                    // In capacity, the concurrency is the best fixed limit.
                    if scenario == Scenario::Capacity && self.concurrency.is_none() {
                        plan.concurrency = k;
                    }
                }
                if self.adaptive {
                    // Against a server of limited capacity the limit has to
                    // find that capacity itself.
                    let default = match scenario {
                        Scenario::Capacity => 1_000,
                        _ => plan.concurrency,
                    };
                    let max = self.max_limit.unwrap_or(default);
                    let initial = ADAPTIVE_INITIAL.min(max);
                    plan.adaptive = Some(AdaptiveBounds { initial, max });
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
    #[arg(long)]
    pub runtime: Runtime,
    /// URL template; `{id}` is replaced by 1..=N.
    #[arg(long)]
    pub url_template: String,
    /// Number of requests.
    #[arg(long, value_parser = positive::<usize>)]
    pub requests: usize,
    /// Requests in flight at once (blocking ignores it).
    #[arg(long, value_parser = positive::<usize>)]
    pub concurrency: usize,
    #[command(flatten)]
    pub client: ClientArgs,
    /// Send every request at once through an adaptive limit that starts at
    /// 20 and grows to at most N (tokio, async-std and smol only).
    #[arg(long, value_name = "N", value_parser = positive::<usize>)]
    pub adaptive_max: Option<usize>,
    /// Draw a progress bar on stderr (when it is a terminal).
    #[arg(long)]
    pub progress: bool,
    /// Send every request at once through `.limit(N).host_cooldown(max)
    /// .retry(policy)` (the volley async runtimes); plain-reqwest retries
    /// 429 and 503 after each one's own `Retry-After`.
    #[arg(long)]
    pub cooldown: bool,
    #[command(flatten)]
    pub shared: SharedArgs,
}

/// Options of `run-one` for the workers scenario.
#[derive(Debug, Clone, Default, Args)]
pub struct SharedArgs {
    /// Send through a rate shared with the other runners in this Redis
    /// (the volley async runtimes), failing open.
    #[arg(long, value_name = "URL")]
    pub redis: Option<String>,
    /// The rate's Redis key.
    #[arg(long, default_value = "volley:xtask:workers")]
    pub key: String,
    /// The shared rate, in requests/s.
    #[arg(long, default_value_t = 200.0, value_parser = rate)]
    pub rate: f64,
    /// How many runners share it (each goes on at its share without Redis).
    #[arg(long, default_value_t = 1, value_parser = positive::<u32>)]
    pub workers: u32,
    /// Start at this instant, in ms since the Unix epoch (so that every
    /// worker starts together).
    #[arg(long, value_name = "MS")]
    pub start_at_ms: Option<u64>,
}

/// A rate above 0 requests/s.
fn rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>().map_err(|e| e.to_string())? {
        r if r.is_finite() && r > 0.0 => Ok(r),
        _ => Err("must be above 0".to_owned()),
    }
}

/// A number of at least 1.
fn positive<T: FromStr<Err: fmt::Display> + Default + PartialEq>(s: &str) -> Result<T, String> {
    match s.parse::<T>().map_err(|e| e.to_string())? {
        n if n == T::default() => Err("must be at least 1".to_owned()),
        n => Ok(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    /// `xtask compare` with `args` (split at spaces).
    fn compare(args: &str) -> Result<CompareArgs, clap::Error> {
        let argv = ["xtask", "compare"]
            .into_iter()
            .chain(args.split_whitespace());
        match Cli::try_parse_from(argv)?.command {
            Command::Compare(args) => Ok(args),
            other => panic!("not compare: {other:?}"),
        }
    }

    /// The one plan of `compare args`, and its runtimes.
    fn one_plan(args: &str) -> (Plan, Vec<Runtime>) {
        let args = compare(args).expect("parses");
        let plans = args.plans();
        assert_eq!(plans.len(), 1, "{plans:?}");
        let runtimes = args.runtimes(&plans[0]);
        (plans[0].clone(), runtimes)
    }

    /// tokio, async-std and smol, then `more`.
    fn adaptive_then(more: &[Runtime]) -> Vec<Runtime> {
        [&Runtime::ADAPTIVE[..], more].concat()
    }

    /// A plan's requests, concurrency and latency.
    fn numbers(plan: &Plan) -> (usize, usize, u64) {
        (plan.requests, plan.concurrency, plan.latency_ms)
    }

    #[test]
    fn default_runs_seed_then_limit_on_all_four() {
        let args = compare("").expect("parses");
        let plans = args.plans();
        assert_eq!(plans, [Scenario::Seed.plan(), Scenario::Limit.plan()]);
        assert_eq!(numbers(&plans[0]), (10, 10, 200));
        assert_eq!(numbers(&plans[1]), (100, 20, 200));
        assert_eq!(plans[1].resource, "posts");
        assert!(
            plans
                .iter()
                .all(|p| p.capacity.is_none() && p.adaptive.is_none())
        );
        assert_eq!(args.runtimes(&plans[0]), Runtime::DEFAULT.to_vec());
        assert!(!args.adaptive);
        assert_eq!(args.client.timeout_ms, 30_000);
        assert!(args.url.is_none() && args.json.is_none() && args.svg.is_none());
    }

    #[test]
    fn named_scenarios() {
        for (name, n, c, l) in [
            ("seed", 10, 10, 200),
            ("limit", 100, 20, 200),
            ("scale", 10_000, 1_000, 200),
            ("throughput", 20_000, 64, 0),
            ("capacity", 5_000, 50, 200),
            ("cooldown", 100, 10, 100),
        ] {
            let (plan, _) = one_plan(&format!("--scenario {name}"));
            assert_eq!((plan.name.as_str(), numbers(&plan)), (name, (n, c, l)));
        }
        assert!(compare("--scenario nope").is_err());
    }

    #[test]
    fn overrides_replace_the_scenario_numbers() {
        let (plan, _) = one_plan("--scenario scale --requests 500");
        assert_eq!(plan.name, "scale");
        assert_eq!(numbers(&plan), (500, 1_000, 200));
        let (plan, _) = one_plan("--requests 20 --concurrency 5 --latency-ms 20");
        assert_eq!(plan.name, "custom");
        assert_eq!(numbers(&plan), (20, 5, 20));
        assert!(compare("--requests 0").is_err());
        assert!(compare("--concurrency x").is_err());
    }

    #[test]
    fn runtimes_list() {
        use Runtime::*;
        for (list, runtimes) in [
            (
                "smol,plain-reqwest,smol,blocking",
                &[Smol, PlainReqwest, Blocking][..],
            ),
            ("async-std --runtimes tokio", &[AsyncStd, Tokio]),
            (
                "tokio-fixed-50,tokio,tokio-fixed-7,tokio-fixed-50",
                &[TokioFixed(50), Tokio, TokioFixed(7)],
            ),
        ] {
            let args = compare(&format!("--runtimes {list}")).expect("parses");
            assert_eq!(args.runtimes(&Scenario::Seed.plan()), runtimes);
        }
    }

    #[test]
    fn fixed_runtime_names() {
        for (name, runtime) in [
            ("tokio-fixed-20", Runtime::TokioFixed(20)),
            ("tokio-fixed-1000", Runtime::TokioFixed(1000)),
            ("plain-reqwest", Runtime::PlainReqwest),
        ] {
            assert_eq!(name.parse::<Runtime>(), Ok(runtime));
            assert_eq!(runtime.to_string(), name);
            let json = serde_json::to_string(&runtime).expect("serializes");
            assert_eq!(json, format!("\"{name}\""));
            let back: Runtime = serde_json::from_str(&json).expect("deserializes");
            assert_eq!(back, runtime);
        }
        assert_eq!(Runtime::TokioFixed(50).effective_concurrency(20), 50);
        assert!(Runtime::TokioFixed(50).is_volley_async());
        assert!(!Runtime::TokioFixed(50).is_adaptive_capable());
        for bad in [
            "tokio-fixed-0",
            "tokio-fixed-",
            "tokio-fixed-x",
            "tokio-fixed",
            "Tokio",
        ] {
            assert!(bad.parse::<Runtime>().is_err(), "{bad}");
            let err = compare(&format!("--runtimes {bad}")).expect_err(bad);
            assert_eq!(err.kind(), ErrorKind::ValueValidation, "{bad}");
            assert!(err.to_string().contains(bad), "{err}");
        }
        assert!(serde_json::from_str::<Runtime>("\"tokio-fixed-0\"").is_err());
    }

    #[test]
    fn adaptive_defaults_to_the_capacity_scenario() {
        assert!(compare("--adaptive").expect("parses").adaptive);
        let (plan, runtimes) = one_plan("--adaptive");
        assert_eq!(plan.name, "capacity");
        assert_eq!(numbers(&plan), (5_000, 50, 200));
        assert_eq!(plan.capacity, Some(50));
        let bounds = AdaptiveBounds {
            initial: 20,
            max: 1_000,
        };
        assert_eq!(plan.adaptive, Some(bounds));
        let fixed = [20, 50, 100].map(Runtime::TokioFixed);
        assert_eq!(runtimes, adaptive_then(&fixed));
        assert!(plan.is_adaptive(Runtime::Smol));
        assert!(!plan.is_adaptive(Runtime::TokioFixed(50)));
        assert!(!plan.is_adaptive(Runtime::Blocking));
        assert_eq!(plan.runtime_concurrency(Runtime::Tokio), 1_000);
        assert_eq!(plan.runtime_concurrency(Runtime::TokioFixed(100)), 100);
        // At most the capacity is served at once, whatever the limit.
        assert_eq!(plan.served_at_once(1_000), 50);
        assert_eq!(plan.served_at_once(20), 20);

        let (plan, _) = one_plan("--adaptive --max-limit 300");
        assert_eq!(plan.adaptive_max(), Some(300));
    }

    #[test]
    fn cooldown_scenario() {
        let (plan, runtimes) = one_plan("--scenario cooldown");
        assert_eq!((plan.resource, plan.cooldown_s), ("cooldown", Some(2)));
        assert_eq!(runtimes, adaptive_then(&[Runtime::PlainReqwest]));
    }

    #[test]
    fn capacity_scenario_without_adaptive() {
        let (plan, runtimes) = one_plan("--scenario capacity");
        assert_eq!(plan.capacity, Some(50));
        assert_eq!(plan.adaptive, None);
        assert!(!plan.is_adaptive(Runtime::Tokio));
        assert_eq!(plan.runtime_concurrency(Runtime::Tokio), 50);
        assert_eq!(runtimes, Runtime::DEFAULT.to_vec());
    }

    #[test]
    fn adaptive_with_other_scenarios_and_overrides() {
        let (plan, runtimes) =
            one_plan("--adaptive --scenario limit --max-limit 100 --requests 5000");
        assert_eq!(plan.name, "limit");
        assert_eq!((plan.requests, plan.concurrency), (5_000, 20));
        assert_eq!((plan.capacity, plan.adaptive_max()), (None, Some(100)));
        assert_eq!(runtimes, adaptive_then(&[Runtime::TokioFixed(100)]));
        // Without --max-limit: the scenario's concurrency.
        let (plan, _) = one_plan("--adaptive --scenario scale");
        assert_eq!(plan.adaptive_max(), Some(1_000));

        // Numbers only: a custom scenario built on capacity; --capacity also
        // moves its best fixed limit.
        let (plan, runtimes) =
            one_plan("--adaptive --requests 300 --latency-ms 20 --capacity 10 --runtimes tokio");
        assert_eq!(plan.name, "custom");
        assert_eq!(numbers(&plan), (300, 10, 20));
        let limits = (plan.capacity, plan.adaptive_max());
        assert_eq!(limits, (Some(10), Some(1_000)));
        assert_eq!(runtimes, vec![Runtime::Tokio]);
        let (plan, _) = one_plan("--adaptive --capacity 30");
        assert_eq!(
            (plan.name.as_str(), plan.capacity, plan.concurrency),
            ("capacity", Some(30), 30)
        );
        let fixed = [20, 30, 60].map(Runtime::TokioFixed);
        assert_eq!(plan.adaptive_default_runtimes(), adaptive_then(&fixed));

        // --max-limit needs --adaptive, and a positive number.
        assert!(compare("--max-limit 100").is_err());
        assert!(compare("--adaptive --max-limit 0").is_err());
    }

    #[test]
    fn bad_runtime_rejected() {
        let err = compare("--runtimes tokio,glommio").expect_err("rejected");
        assert_eq!(err.kind(), ErrorKind::ValueValidation);
        let message = err.to_string();
        assert!(
            message.contains("expected one of tokio, async-std"),
            "{message}"
        );
    }

    #[test]
    fn other_options() {
        let args = compare(
            "--url http://127.0.0.1:9/users/{id} --timeout-ms 500 --max-body-bytes 4096 \
             --json out.json --svg out.svg",
        )
        .expect("parses");
        assert_eq!(args.url.as_deref(), Some("http://127.0.0.1:9/users/{id}"));
        assert_eq!(args.client.timeout_ms, 500);
        assert_eq!(args.client.max_body_bytes, Some(4096));
        assert_eq!(args.json, Some(PathBuf::from("out.json")));
        assert_eq!(args.svg, Some(PathBuf::from("out.svg")));
        assert!(compare("--timeout-ms 0").is_err());
    }

    /// `run-one` on `runtime` for 3 requests, 2 at once, and `extra`.
    fn run_one(runtime: &str, extra: &[&str]) -> RunOneArgs {
        let argv = ["xtask", "run-one", "--runtime", runtime, "--url-template"];
        let argv = argv.into_iter().chain(["http://x/{id}", "--requests", "3"]);
        let argv = argv
            .chain(["--concurrency", "2"])
            .chain(extra.iter().copied());
        match Cli::try_parse_from(argv).expect("parses").command {
            Command::RunOne(args) => args,
            other => panic!("not run-one: {other:?}"),
        }
    }

    #[test]
    fn hidden_subcommands_parse() {
        let a = run_one("async-std", &[]);
        assert_eq!(a.runtime, Runtime::AsyncStd);
        assert_eq!(
            (a.requests, a.concurrency, a.client.timeout_ms),
            (3, 2, 30_000)
        );
        assert_eq!(a.adaptive_max, None);
        let a = run_one("tokio-fixed-50", &["--adaptive-max", "100"]);
        assert_eq!(a.runtime, Runtime::TokioFixed(50));
        assert_eq!(a.adaptive_max, Some(100));
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
            assert_eq!(r.to_string().parse::<Runtime>(), Ok(r));
        }
    }
}
