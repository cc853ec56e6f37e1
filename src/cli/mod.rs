//! Subcommands of the `pclab` binary, one module each.

pub mod bench;
pub mod grads;
pub mod sweep;
pub mod train;

use clap::{Parser, Subcommand};

/// pclab: predictive coding networks, exact and fast.
#[derive(Parser, Debug)]
#[command(name = "pclab", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Times fixed workloads (products, PC and BP training steps); one JSON object per
    /// workload on stdout, a table on stderr.
    Bench(bench::Args),
    /// Computes a reference case (golden JSON schema) in f64 and prints one JSON object
    /// with the field names of the case's `expected`.
    Grads(grads::Args),
    /// Trains an experiment (classify, compress, generate, tradeoff) with PC, BP or BP through inference; one JSON
    /// object per epoch on stdout.
    Train(train::Args),
    /// Trains the tradeoff experiment at every λ (PC or BP through inference) and prints
    /// test accuracy against reconstruction MSE, one JSON object per λ.
    SweepTradeoff(sweep::SweepArgs),
}

/// Runs the chosen subcommand; the error is printed by `main`.
pub fn run(cli: Cli) -> Result<(), String> {
    match cli.command {
        Command::Bench(args) => bench::run(&args),
        Command::Grads(args) => grads::run(&args),
        Command::Train(args) => train::run(&args),
        Command::SweepTradeoff(args) => sweep::run(&args),
    }
}
