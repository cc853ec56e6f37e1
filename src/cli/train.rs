//! `pclab train`: an experiment on the shipped MNIST split (or IDX files), one JSON
//! object per epoch on stdout and a progress bar on stderr.

use pclab::config::Config;
use pclab::data::{load_idx_files, load_shipped_file, Split};
use pclab::train::Trainer;
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Arguments of `pclab train`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Epochs to train.
    #[arg(long, default_value_t = 1)]
    pub(crate) epochs: usize,
    /// A preset to start from (classification, tutorial, compression, generation, tradeoff).
    #[arg(long)]
    pub(crate) preset: Option<String>,
    /// The shipped data file.
    #[arg(long, default_value = "www/data/mnist-10k.bin.gz")]
    pub(crate) data: PathBuf,
    /// IDX files instead of the shipped data: train images, train labels, test images,
    /// test labels.
    #[arg(long, num_args = 4, value_names = ["TRAIN_IMAGES", "TRAIN_LABELS", "TEST_IMAGES", "TEST_LABELS"])]
    pub(crate) idx: Option<Vec<PathBuf>>,
    /// Hyperparameters as `--name value` pairs: any field of the configuration
    /// (experiment, rule, inference, form, hidden, activation, output-activation,
    /// output-energy, steps, inference-lr, inference-momentum, accumulate, optimizer, lr,
    /// lr-decay, weight-decay, batch, seed, augment, latent, lambda).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "--NAME VALUE"
    )]
    pub(crate) settings: Vec<String>,
}

/// `--name value` pairs from the trailing arguments.
pub fn pairs(raw: &[String]) -> Result<Vec<(&str, &str)>, String> {
    raw.chunks(2)
        .map(|pair| match pair {
            [name, value] if name.starts_with("--") => Ok((&name[2..], value.as_str())),
            _ => Err(format!(
                "expected --name value pairs, got {:?}",
                pair.join(" ")
            )),
        })
        .collect()
}

/// The configuration named by a preset and the settings.
pub fn config(preset: Option<&str>, settings: &[String]) -> Result<Config, String> {
    let base = match preset {
        Some(name) => Config::preset(name).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    base.with_settings(pairs(settings)?)
        .map_err(|e| e.to_string())
}

/// The shipped split, or the user's IDX files.
pub fn load_data(data: &PathBuf, idx: Option<&[PathBuf]>) -> Result<Split, String> {
    match idx {
        Some([train_x, train_y, test_x, test_y]) => Ok(Split {
            train: load_idx_files(train_x, train_y, 10).map_err(|e| e.to_string())?,
            test: load_idx_files(test_x, test_y, 10).map_err(|e| e.to_string())?,
        }),
        _ => load_shipped_file(data).map_err(|e| format!("{}: {e}", data.display())),
    }
}

/// Trains epoch by epoch, printing each epoch's metrics.
pub fn run(args: &Args) -> Result<(), String> {
    let config = config(args.preset.as_deref(), &args.settings)?;
    let data = load_data(&args.data, args.idx.as_deref())?;
    let mut trainer = Trainer::new(config, data).map_err(|e| e.to_string())?;
    let per_epoch = trainer.steps_per_epoch();
    let samples = trainer.data().train.len();
    let start = Instant::now();
    let mut train_time = 0.0;
    for epoch in 1..=args.epochs {
        let epoch_start = Instant::now();
        let (mut loss, mut energy) = (0.0, 0.0);
        for i in 0..per_epoch {
            let record = trainer.step().map_err(|e| e.to_string())?;
            loss += record.loss / per_epoch as f64;
            energy += record.energy / per_epoch as f64;
            if i % 8 == 0 || i + 1 == per_epoch {
                eprint!(
                    "\repoch {epoch}/{} [{:<30}] loss {loss:.4}",
                    args.epochs,
                    "#".repeat(30 * (i + 1) / per_epoch)
                );
            }
        }
        let seconds = epoch_start.elapsed().as_secs_f64();
        train_time += seconds;
        eprintln!();
        let eval = trainer.evaluate().map_err(|e| e.to_string())?;
        let last = trainer.last_step();
        let line = json!({
            "epoch": epoch,
            "step": last.step,
            "loss": loss,
            "energy": energy,
            "energy_per_layer": last.energy_per_layer,
            "energy_trace": last.energy_trace,
            "accuracy": eval.accuracy,
            "confusion": eval.confusion,
            "mse": eval.mse,
            "flops": last.flops,
            "flops_total": last.flops.total(),
            "train_seconds": seconds,
            "wall_seconds": start.elapsed().as_secs_f64(),
            "samples_per_s": samples as f64 / seconds,
            "gflops_per_s": (last.flops.total() as f64 / train_time) / 1e9,
        });
        println!("{line}");
        std::io::stdout().flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}
