//! `pclab sweep-tradeoff`: the reconstruction/classification trade-off, trained at every λ
//! for both rules (PC and BP through inference, or the one `--rule` names) and every seed
//! of `--seeds`, `--epochs` each: one JSON object per run on stdout as it ends, then one
//! summary object per rule and λ (mean ± sd over the seeds, computed by the engine), and
//! a table on stderr.

use super::seeds::Seeds;
use super::{runtime, usage, Failure};
use pclab::cost::Budget;
use pclab::experiment::Experiment;
use pclab::sweep::{Plan, Sweep, TradeoffSummary, MAX_LAMBDAS};
use serde_json::json;
use std::io::Write;

/// Arguments of `pclab sweep-tradeoff`: those of `pclab train` (the preset defaults to
/// `tradeoff`; both rules unless `--rule pc` or `--rule bp-through-inference`; with
/// `--seeds`, every seed) and the λs.
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

/// Sweeps λ × rule × seed, printing a line per run as it ends, then a summary line per
/// rule and λ.
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
    let rule_given = common.settings.pairs().any(|(name, _)| name == "rule");
    let plan = Plan {
        lambdas,
        rules: if rule_given {
            vec![config.rule]
        } else {
            Experiment::Tradeoff.spec().rules.to_vec()
        },
        seeds: match &common.seeds {
            Some(Seeds(list)) => list.clone(),
            None => vec![config.seed],
        },
        steps: common.epochs * data.train.len().div_ceil(config.batch),
    };
    let mut sweep = Sweep::new(&config, &data, &plan, None, Budget::NATIVE).map_err(usage)?;
    let epochs = common.epochs;
    let mut printed = 0;
    loop {
        let done = sweep.advance(plan.steps).map_err(runtime)?;
        for p in &sweep.points()[printed..] {
            println!("{}", json!({ "epochs": epochs, "point": p }));
            eprintln!(
                "rule {:<20} seed {:>4}  λ {:>5.2}  accuracy {:.4}  mse {:.5}",
                pclab::config::name(&p.rule),
                p.seed,
                p.lambda,
                p.accuracy,
                p.mse
            );
        }
        std::io::stdout().flush().map_err(runtime)?;
        printed = sweep.points().len();
        if done {
            break;
        }
    }
    print_summary(&sweep.summary(), epochs);
    Ok(())
}

/// One summary line per rule and λ on stdout (`{"summary": {rule, lambda, seeds, epochs,
/// accuracy: {mean, sd, values}, mse: {…}}}`) and a table on stderr.
fn print_summary(summary: &[TradeoffSummary], epochs: usize) {
    eprintln!(
        "{:<20}  {:>6}  {:>17}  {:>19}",
        "rule", "lambda", "accuracy", "mse"
    );
    for s in summary {
        let mut line = json!(s);
        line["epochs"] = json!(epochs);
        println!("{}", json!({ "summary": line }));
        eprintln!(
            "{:<20}  {:>6.2}  {:>8.4} ± {:.4}  {:>8.5} ± {:.5}",
            pclab::config::name(&s.rule),
            s.lambda,
            s.accuracy.mean,
            s.accuracy.sd,
            s.mse.mean,
            s.mse.sd
        );
    }
}
