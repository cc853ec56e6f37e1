//! The pclab command line: the engine, natively, for sweeps, benchmarks and exact checks.
//!
//! One subcommand per module under `src/cli/`; `main` only dispatches.

#[path = "../cli/mod.rs"]
mod cli;

use clap::Parser;

fn main() {
    let args = cli::Cli::parse();
    if let Err(message) = cli::run(args) {
        eprintln!("pclab: {message}");
        std::process::exit(1);
    }
}
