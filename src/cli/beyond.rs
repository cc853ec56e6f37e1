//! `pclab beyond-gaussian`: the toy of [`pclab::beyond_gaussian`] (a truly Bernoulli hidden
//! layer learnt by Gaussian PC, distribution-matched PC and BP), once per seed: one JSON
//! object per seed on stdout (cosines per T and block, the test-loss curves), then one
//! summary object (mean ± sd over the seeds), and a table on stderr.

use super::seeds::Seeds;
use super::{runtime, usage, Failure};
use pclab::beyond_gaussian::{run as run_toy, summarise, ToySettings};
use serde_json::json;

/// Arguments of `pclab beyond-gaussian` (defaults: those of the page's toy).
#[derive(clap::Args, Debug)]
pub struct BeyondArgs {
    /// Seeds: a range `A..B`, `A..=B` or a list `0,1,2` (default 1).
    #[arg(long, value_parser = super::seeds::parse)]
    seeds: Option<Seeds>,
    /// The inference steps T of the cosines, comma-separated (1..=200, at most 50).
    #[arg(long, value_delimiter = ',')]
    ts: Option<Vec<usize>>,
    /// The belief rate α, in (0, 1].
    #[arg(long)]
    rate: Option<f64>,
    /// The output energy's scale s, in (0, 100].
    #[arg(long)]
    output_scale: Option<f64>,
    /// Inference steps of the PC rules while training (1..=200).
    #[arg(long)]
    train_t: Option<usize>,
    /// SGD steps of the training run (0..=500).
    #[arg(long)]
    train_steps: Option<usize>,
    /// The SGD learning rate, in (0, 10].
    #[arg(long)]
    lr: Option<f64>,
}

impl BeyondArgs {
    /// The settings for one seed; every value checked by the engine.
    fn settings(&self, seed: u64) -> Result<ToySettings, Failure> {
        let d = ToySettings::default();
        let s = ToySettings {
            seed,
            ts: self.ts.clone().unwrap_or(d.ts),
            rate: self.rate.unwrap_or(d.rate),
            output_scale: self.output_scale.unwrap_or(d.output_scale),
            train_t: self.train_t.unwrap_or(d.train_t),
            train_steps: self.train_steps.unwrap_or(d.train_steps),
            lr: self.lr.unwrap_or(d.lr),
        };
        s.validate().map_err(usage)?;
        Ok(s)
    }
}

/// Runs the toy for every seed, printing a line per seed, then the summary line.
pub fn run(args: &BeyondArgs) -> Result<(), Failure> {
    let seeds = args
        .seeds
        .clone()
        .map_or_else(|| vec![ToySettings::default().seed], |s| s.0);
    let settings = seeds
        .iter()
        .map(|&seed| args.settings(seed))
        .collect::<Result<Vec<_>, _>>()?;
    let mut toys = Vec::with_capacity(settings.len());
    for s in &settings {
        let toy = run_toy(s).map_err(runtime)?;
        println!("{}", serde_json::to_string(&toy).map_err(runtime)?);
        toys.push(toy);
    }
    let summary = summarise(&toys).map_err(runtime)?;
    let show = |m: &pclab::stats::MeanSd| format!("{:.4} ± {:.4}", m.mean, m.sd);
    eprintln!(
        "{:>12}  {:>17}  {:>17}  {:>17}",
        "rule", "cos block 1", "cos block 2", "final test loss"
    );
    for (name, cos, loss) in [
        (
            "gaussian PC",
            &summary.cosine.gaussian_pc,
            &summary.final_loss.gaussian_pc,
        ),
        (
            "matched PC",
            &summary.cosine.matched_pc,
            &summary.final_loss.matched_pc,
        ),
        ("BP", &summary.cosine.bp, &summary.final_loss.bp),
    ] {
        eprintln!(
            "{name:>12}  {:>17}  {:>17}  {:>17}",
            show(&cos[0]),
            show(&cos[1]),
            show(loss)
        );
    }
    println!("{}", json!({ "summary": summary }));
    Ok(())
}
