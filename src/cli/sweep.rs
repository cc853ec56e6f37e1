//! `pclab sweep-tradeoff`: the reconstruction/classification trade-off, trained at every λ
//! (one JSON object per λ on stdout, a table on stderr).

use super::seeds::{self, Seeds};
use super::{runtime, usage, Failure};
use pclab::config::Config;
use pclab::cost::Budget;
use pclab::experiment::Experiment;
use pclab::sweep::{sweep_tradeoff, TradeoffPoint, MAX_LAMBDAS};
use serde_json::json;

/// Arguments of `pclab sweep-tradeoff`: those of `pclab train` (the preset defaults to
/// `tradeoff`; `--rule pc` or `--rule bp-through-inference`; with `--seeds`, the sweep
/// once per seed and a summary per λ) and the λs.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The λ values in [0, 1], comma-separated, at most 101 (default 0, 0.1, …, 1).
    #[arg(long, value_delimiter = ',', value_parser = lambda)]
    lambdas: Option<Vec<f64>>,
    #[command(flatten)]
    common: super::train::Args,
}

/// Parses one λ: a number in [0, 1].
fn lambda(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|l| (0.0..=1.0).contains(l))
        .ok_or_else(|| format!("λ must be a number in [0, 1], got {text:?}"))
}

/// Sweeps λ (once per seed with `--seeds`) and prints one line per λ (and seed), then
/// with `--seeds` one summary line per λ.
pub fn run(args: &SweepArgs) -> Result<(), Failure> {
    let common = &args.common;
    let mut config = common.config(Some("tradeoff"))?;
    config.experiment = Experiment::Tradeoff;
    let data = common.load_data()?;
    let lambdas = args
        .lambdas
        .clone()
        .unwrap_or_else(|| (0..=10).map(|i| f64::from(i) / 10.0).collect());
    if lambdas.len() > MAX_LAMBDAS {
        return Err(usage(format!(
            "{} λ values: at most {MAX_LAMBDAS}",
            lambdas.len()
        )));
    }
    let steps = common.epochs * data.train.len().div_ceil(config.batch);
    let rule = serde_json::to_value(config.rule).map_err(runtime)?;
    let seed_list = match &common.seeds {
        Some(Seeds(list)) => list.clone(),
        None => vec![config.seed],
    };
    let mut sweeps = Vec::new();
    for &seed in &seed_list {
        let config = Config {
            seed,
            ..config.clone()
        };
        let points = sweep_tradeoff(&config, &data, &lambdas, steps, None, Budget::NATIVE)
            .map_err(runtime)?;
        eprintln!("rule {rule}, seed {seed}, {} epoch(s)", common.epochs);
        eprintln!(
            "{:>6}  {:>9}  {:>9}  {:>12}",
            "lambda", "accuracy", "mse", "final energy"
        );
        for p in &points {
            let line = json!({ "rule": rule, "seed": seed, "epochs": common.epochs, "point": p });
            println!("{line}");
            let last = p.energy_trace.last().copied().unwrap_or(f64::NAN);
            eprintln!(
                "{:>6.2}  {:>9.4}  {:>9.5}  {:>12.4}",
                p.lambda, p.accuracy, p.mse, last
            );
        }
        sweeps.push(points);
    }
    if common.seeds.is_some() {
        for (i, &lambda) in lambdas.iter().enumerate() {
            let metric = |f: fn(&TradeoffPoint) -> f64| -> Vec<Option<f64>> {
                sweeps.iter().map(|points| Some(f(&points[i]))).collect()
            };
            eprintln!("lambda {lambda}:");
            let mut fields = serde_json::Map::new();
            fields.insert("rule".into(), rule.clone());
            fields.insert("epochs".into(), json!(common.epochs));
            fields.insert("lambda".into(), json!(lambda));
            let summary = seeds::summary(
                &seed_list,
                &metric(|p| p.accuracy),
                &metric(|p| p.mse),
                fields,
            );
            println!("{summary}");
        }
    }
    Ok(())
}
