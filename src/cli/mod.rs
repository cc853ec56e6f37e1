//! Subcommands of the `pclab` binary, one module each.

pub mod bench;
pub mod beyond;
pub mod dynamics;
pub mod grads;
pub mod sample;
pub mod seeds;
pub mod settings;
pub mod sweep;
pub mod train;
pub mod vae;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use std::fmt::Display;

/// The exit statuses, as `--help` and the README list them.
const EXIT_STATUS: &str = "Exit status: 0 success; 1 runtime error (an unreadable or malformed \
input file, a failed run); 2 usage error (an unknown flag, a missing or bad value, an \
inconsistent configuration).";

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
    /// Trains an experiment (classify, compress, generate, tradeoff) with PC, BP or BP
    /// through inference; one JSON object per epoch on stdout.
    Train(train::Args),
    /// Trains the tradeoff experiment at every λ (PC or BP through inference) and prints
    /// test accuracy against reconstruction MSE, one JSON object per λ.
    SweepTradeoff(sweep::SweepArgs),
    /// Trains a decoder (compress, tradeoff) by PC and by BP through inference on
    /// identical batches and prints each one's inference of the same test digits: one JSON
    /// object per rule, digit and inference step t.
    Dynamics(dynamics::DynamicsArgs),
    /// Samples a generative run (trained here, or a model saved by the page): one JSON
    /// line with its noise model (prior and per-layer variances), then one per sample.
    Sample(sample::SampleArgs),
    /// The beyond-Gaussian toy: a truly Bernoulli hidden layer learnt by Gaussian PC,
    /// distribution-matched PC and BP; one JSON object per seed (gradient cosines with BP
    /// per T and block, test-loss curves), then a mean ± sd summary.
    BeyondGaussian(beyond::BeyondArgs),
    /// Trains a VAE by BP (negative ELBO) and by PC (sampled latent) on identical
    /// batches: one JSON object per seed, rule and epoch (test MSE, ELBO), then the mean ±
    /// sd over the seeds per rule.
    Vae(vae::VaeArgs),
}

/// Why a subcommand failed, which decides the exit status.
#[derive(Debug)]
pub enum Failure {
    /// The command line asks for something impossible (exit status 2, as clap's own
    /// usage errors).
    Usage(String),
    /// Something went wrong while running (exit status 1).
    Runtime(String),
}

impl Failure {
    /// The process exit status.
    pub fn code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            Self::Runtime(_) => 1,
        }
    }

    /// The message for stderr.
    pub fn message(&self) -> &str {
        match self {
            Self::Usage(m) | Self::Runtime(m) => m,
        }
    }
}

/// A usage error from anything displayable.
pub fn usage(e: impl Display) -> Failure {
    Failure::Usage(e.to_string())
}

/// A runtime error from anything displayable.
pub fn runtime(e: impl Display) -> Failure {
    Failure::Runtime(e.to_string())
}

/// Parses the process arguments; on a usage error, prints it and exits with status 2.
pub fn parse() -> Cli {
    let command = Cli::command()
        .after_help(EXIT_STATUS)
        .mut_subcommands(|sub| sub.after_help(EXIT_STATUS));
    Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit())
}

/// Runs the chosen subcommand; the failure is printed by `main`.
pub fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Bench(args) => bench::run(&args),
        Command::Grads(args) => grads::run(&args),
        Command::Train(args) => train::run(&args),
        Command::SweepTradeoff(args) => sweep::run(&args),
        Command::Dynamics(args) => dynamics::run(&args),
        Command::Sample(args) => sample::run(&args),
        Command::BeyondGaussian(args) => beyond::run(&args),
        Command::Vae(args) => vae::run(&args),
    }
}
