//! `cargo xtask`: project tasks for volley.
//!
//! `cargo xtask compare` runs the scenarios of `BENCHMARKS.md` (seed, limit,
//! scale, throughput, capacity) on every runtime and prints a table per scenario: wall
//! time against the ideal, requests per second, latency percentiles, how many
//! requests were really in flight at once, and peak memory. Each runtime runs
//! in its own process (this binary, re-executed as the hidden `run-one`), so
//! its timings and memory are its own; the embedded server is volley-mock, in
//! a process of its own too (the hidden `mock`). With `--adaptive` the async
//! runtimes send every request at once through an adaptive limit instead
//! (by default against a server of limited capacity, next to fixed limits),
//! and the timeline shows the limit and the requests in flight over time.
//! `cargo xtask compare --help` lists the options.

mod cli;
mod compare;
mod mock;
mod recorder;
mod report;
mod runner;
mod svg;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

/// The error type of the tasks: anything printable.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The result type of the tasks.
pub type Result<T, E = Error> = std::result::Result<T, E>;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Compare(args) => compare::run(args),
        Command::Mock(args) => mock::run(args),
        Command::RunOne(args) => runner::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err}");
            ExitCode::FAILURE
        }
    }
}
