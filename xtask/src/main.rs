//! `cargo xtask`: project tasks for volley.
//!
//! `cargo xtask compare` runs the scenarios of `BENCHMARKS.md` on every
//! runtime and prints a table per scenario and an SVG timeline. Each runtime
//! runs in a process of its own (this binary as the hidden `run-one`), and
//! so does the embedded volley-mock server (the hidden `mock`). With
//! `--workers N`, N runners of each runtime share one rate through Redis.

mod cli;
mod compare;
mod mock;
mod nginx;
mod plain;
mod process;
mod recorder;
mod report;
mod runner;
mod svg;
mod workers;

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
