//! `pclab vae`: a VAE trained by BP and by PC with a sampled latent, side by side on
//! identical minibatches (src/vae), for `--epochs` epochs and every seed of `--seeds`:
//! one JSON object per seed, rule and epoch on stdout (test reconstruction MSE per pixel
//! and ELBO per sample on the whole test set), then one summary object per rule (mean ±
//! sd over the seeds of the last epoch, computed by the engine), and a table on stderr.

use super::seeds::{self, Seeds};
use super::train::MAX_EPOCHS;
use super::{runtime, usage, Failure};
use clap::builder::RangedI64ValueParser;
use pclab::config::VAE_LIMITS;
use pclab::data::load_shipped_file;
use pclab::stats::mean_sd;
use pclab::vae::compare::{Checkpoint, Comparison, VaeMeasure, VaePlan, VaeRule};
use pclab::vae::PcSettings;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;

/// Arguments of `pclab vae`.
#[derive(clap::Args, Debug)]
pub struct VaeArgs {
    /// Epochs to train (1 to 1000).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=MAX_EPOCHS))]
    epochs: usize,
    /// The seeds: `0..5` (0 to 4), `0..=4` or `0,1,2,3,4`; at most 100.
    #[arg(long, value_parser = seeds::parse, default_value = "0")]
    seeds: Seeds,
    /// PC's β, the weight of the ELBO's terms in its energy F (its output precision), in
    /// (0, 1]; 1 makes F the negative ELBO at the feedforward state.
    #[arg(long, default_value_t = VAE_LIMITS.beta)]
    beta: f64,
    /// PC's inference steps T per minibatch (1 to 1000).
    #[arg(long, default_value_t = VAE_LIMITS.inference_steps)]
    inference_steps: usize,
    /// PC's inference rate γ, in (0, 1].
    #[arg(long, default_value_t = VAE_LIMITS.inference_rate)]
    inference_rate: f64,
    /// The shipped data file.
    #[arg(long, default_value = "www/data/mnist-10k.bin.gz")]
    data: PathBuf,
}

const RULES: [VaeRule; 2] = [VaeRule::Bp, VaeRule::Pc];

fn of(point: &Checkpoint, rule: VaeRule) -> VaeMeasure {
    match rule {
        VaeRule::Bp => point.bp,
        VaeRule::Pc => point.pc,
    }
}

/// Trains both rules per seed, printing a line per seed, rule and epoch, then the summary.
pub fn run(args: &VaeArgs) -> Result<(), Failure> {
    let data = load_shipped_file(&args.data).map_err(runtime)?;
    let pc = PcSettings {
        steps: args.inference_steps,
        rate: args.inference_rate,
        beta: args.beta,
    };
    let per_epoch = Comparison::steps_per_epoch(&data);
    // The comparison's own limit is in steps; say it in the epochs the user gave.
    let most = VAE_LIMITS.max_steps / per_epoch.max(1);
    if args.epochs > most {
        return Err(usage(format!(
            "--epochs {}: at most {most} on this data ({per_epoch} steps an epoch, {} steps in all)",
            args.epochs, VAE_LIMITS.max_steps
        )));
    }
    let mut finals: Vec<Checkpoint> = Vec::new();
    for &seed in &args.seeds.0 {
        let plan = VaePlan {
            steps: args.epochs * per_epoch,
            measure_every: per_epoch.max(1),
            seed,
            test_samples: None,
            pc,
        };
        let mut comparison = Comparison::new(&data, &plan).map_err(usage)?;
        let mut printed = 1; // the checkpoint at step 0
        loop {
            let done = comparison.advance(per_epoch).map_err(runtime)?;
            for point in &comparison.history()[printed..] {
                for rule in RULES {
                    let m = of(point, rule);
                    println!(
                        "{}",
                        json!({ "seed": seed, "rule": rule, "pc": pc, "epoch": point.epoch,
                                "step": point.step, "mse": m.mse, "elbo": m.elbo, "kl": m.kl })
                    );
                }
                eprintln!(
                    "seed {seed:>3}  epoch {:>5.2}  BP mse {:.5} elbo {:>8.2}  PC mse {:.5} elbo {:>8.2}",
                    point.epoch, point.bp.mse, point.bp.elbo, point.pc.mse, point.pc.elbo
                );
            }
            std::io::stdout().flush().map_err(runtime)?;
            printed = comparison.history().len();
            if done {
                break;
            }
        }
        finals.extend(comparison.history().last().cloned());
    }
    eprintln!("{:<4}  {:>19}  {:>17}  {:>15}", "rule", "mse", "elbo", "kl");
    for rule in RULES {
        let mse = mean_sd(&finals.iter().map(|p| of(p, rule).mse).collect::<Vec<_>>());
        let elbo = mean_sd(&finals.iter().map(|p| of(p, rule).elbo).collect::<Vec<_>>());
        let kl = mean_sd(&finals.iter().map(|p| of(p, rule).kl).collect::<Vec<_>>());
        eprintln!(
            "{:<4}  {:.5} ± {:.5}  {:.2} ± {:.2}  {:.2} ± {:.2}",
            pclab::config::name(&rule),
            mse.mean,
            mse.sd,
            elbo.mean,
            elbo.sd,
            kl.mean,
            kl.sd
        );
        println!(
            "{}",
            json!({ "summary": { "rule": rule, "pc": pc, "epochs": args.epochs, "seeds": args.seeds.0,
                                 "mse": mse, "elbo": elbo, "kl": kl } })
        );
    }
    Ok(())
}
