//! The pclab command line: the engine, natively, for sweeps, benchmarks and exact checks.
//!
//! One subcommand per module under `src/cli/`; `main` only dispatches. Exit status: 0
//! success, 1 runtime error, 2 usage error.

#[path = "../cli/mod.rs"]
mod cli;

fn main() {
    if let Err(failure) = cli::run(cli::parse()) {
        eprintln!("pclab: {}", failure.message());
        std::process::exit(failure.code());
    }
}
