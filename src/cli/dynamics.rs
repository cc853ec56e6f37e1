//! `pclab dynamics`: the inference dynamics of one decoder (compress or tradeoff) trained
//! twice on identical batches, by the PC rule and by BP through inference, then replayed
//! on the same test digits; one JSON object per (seed, rule, digit, inference step t) on
//! stdout (see `pclab::dynamics`).

use super::seeds::Seeds;
use super::{runtime, usage, Failure};
use clap::builder::RangedI64ValueParser;
use pclab::config::{name, Compare, Config};
use pclab::cost::Budget;
use pclab::data::Split;
use pclab::dynamics::applies;
use pclab::experiment::Rule;
use pclab::inspect::replay;
use pclab::train::Trainer;
use serde_json::json;
use std::io::Write;

/// The most test digits one command replays.
const MAX_DIGITS: i64 = 100;
/// The most minibatches `--train-steps` may ask for.
const MAX_TRAIN_STEPS: i64 = 1_000_000;

/// Arguments of `pclab dynamics`: those of `pclab train` (the preset defaults to
/// `compression`; both rules are trained, so no `--rule`), the digits, and optionally a
/// number of minibatches instead of epochs.
#[derive(clap::Args, Debug)]
pub struct DynamicsArgs {
    /// How many test digits to replay, spread over the test set (1 to 100).
    #[arg(long, default_value_t = 3, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=MAX_DIGITS))]
    digits: usize,
    /// Train this many minibatches instead of --epochs (1 to 1000000).
    #[arg(long, allow_negative_numbers = true, conflicts_with = "epochs",
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=MAX_TRAIN_STEPS))]
    train_steps: Option<usize>,
    #[command(flatten)]
    common: super::train::Args,
}

/// Trains both copies (once per seed with `--seeds`) and prints their dynamics.
pub fn run(args: &DynamicsArgs) -> Result<(), Failure> {
    let common = &args.common;
    let config = common.config(Some("compression"))?;
    if config.rule != Rule::Pc {
        return Err(usage(
            "dynamics trains both rules (pc and bp-through-inference): leave out --rule",
        ));
    }
    if !applies(&config) {
        return Err(usage(format!(
            "the {} experiment has no inferred latent: dynamics need compress or tradeoff",
            name(&config.experiment)
        )));
    }
    let data = common.load_data()?;
    let seeds = match &common.seeds {
        Some(Seeds(list)) => list.clone(),
        None => vec![config.seed],
    };
    for seed in seeds {
        let config = Config {
            seed,
            ..config.clone()
        };
        let runs = trained(&config, &data, args)?;
        for trainer in &runs {
            print_run(trainer, seed, args.digits)?;
        }
    }
    Ok(())
}

/// Both runs of the comparison, trained in lockstep on the same minibatches.
fn trained(config: &Config, data: &Split, args: &DynamicsArgs) -> Result<Vec<Trainer>, Failure> {
    let mut runs = Compare::Bp
        .runs(config)
        .map_err(usage)?
        .into_iter()
        .map(|c| Trainer::with_budget(c, data.clone(), &Budget::NATIVE).map_err(runtime))
        .collect::<Result<Vec<_>, _>>()?;
    let steps = args
        .train_steps
        .unwrap_or_else(|| args.common.epochs * runs[0].steps_per_epoch());
    for step in 1..=steps {
        for trainer in &mut runs {
            trainer.step().map_err(runtime)?;
        }
        if step % 8 == 0 || step == steps {
            eprint!("\rseed {} step {step}/{steps}", config.seed);
        }
    }
    eprintln!();
    Ok(runs)
}

/// One JSON line per (digit, t) of one trained run.
fn print_run(trainer: &Trainer, seed: u64, digits: usize) -> Result<(), Failure> {
    let rule = serde_json::to_value(trainer.config().rule).map_err(runtime)?;
    let mut out = std::io::stdout().lock();
    for index in trainer.test_sample(digits) {
        let replay = replay(trainer, index).map_err(runtime)?;
        let Some(dynamics) = &replay.dynamics else {
            return Err(runtime("the run infers no latent"));
        };
        let free = &replay.free;
        for t in 0..free.total.len() {
            let readout = dynamics.readout.get(t);
            let snapshot = dynamics.snapshots.iter().find(|s| s.t == t);
            let line = json!({
                "seed": seed,
                "rule": rule,
                "digit": index,
                "label": replay.label,
                "t": t,
                "steps": free.total.len() - 1,
                "energy": free.total[t],
                "energy_per_layer": free.energy[t],
                "latent_distance": dynamics.latent_distance[t],
                "mse": dynamics.mse[t],
                "class": readout.map(|r| r.class),
                "probability": readout.map(|r| r.probability),
                "reconstruction": snapshot.map(|s| &s.reconstruction),
            });
            writeln!(out, "{line}").map_err(runtime)?;
        }
    }
    out.flush().map_err(runtime)
}
