//! `pclab sweep-tradeoff`: the reconstruction/classification trade-off, trained at every λ
//! (one JSON object per λ on stdout, a table on stderr).

use super::train::{config, load_data};
use pclab::experiment::Experiment;
use pclab::sweep::sweep_tradeoff;
use serde_json::json;

/// Arguments of `pclab sweep-tradeoff`: those of `pclab train` (the preset defaults to
/// `tradeoff`; `--rule pc` or `--rule bp-through-inference` among the settings) and the λs.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The λ values, comma-separated (default 0, 0.1, …, 1); before the settings.
    #[arg(long, value_delimiter = ',')]
    lambdas: Option<Vec<f64>>,
    #[command(flatten)]
    common: super::train::Args,
}

/// Sweeps λ and prints one line per λ.
pub fn run(args: &SweepArgs) -> Result<(), String> {
    let common = &args.common;
    let preset = common.preset.as_deref().unwrap_or("tradeoff");
    let mut config = config(Some(preset), &common.settings)?;
    config.experiment = Experiment::Tradeoff;
    let data = load_data(&common.data, common.idx.as_deref())?;
    let lambdas = args
        .lambdas
        .clone()
        .unwrap_or_else(|| (0..=10).map(|i| f64::from(i) / 10.0).collect());
    let steps = common.epochs * data.train.len().div_ceil(config.batch);
    let points =
        sweep_tradeoff(&config, &data, &lambdas, steps, None).map_err(|e| e.to_string())?;
    let rule = serde_json::to_value(config.rule).map_err(|e| e.to_string())?;
    eprintln!("rule {rule}, {} epoch(s)", common.epochs);
    eprintln!(
        "{:>6}  {:>9}  {:>9}  {:>12}",
        "lambda", "accuracy", "mse", "final energy"
    );
    for p in &points {
        let line = json!({ "rule": rule, "epochs": common.epochs, "point": p });
        println!("{line}");
        let last = p.energy_trace.last().copied().unwrap_or(f64::NAN);
        eprintln!(
            "{:>6.2}  {:>9.4}  {:>9.5}  {:>12.4}",
            p.lambda, p.accuracy, p.mse, last
        );
    }
    Ok(())
}
