//! `pclab train`: an experiment on the shipped MNIST split (or IDX files), one JSON
//! object per epoch on stdout and a progress bar on stderr; with `--seeds`, once per seed
//! and then a summary (mean ± sd over the seeds) on stdout and as a table on stderr.

use super::seeds::{self, Seeds};
use super::settings::Settings;
use super::{runtime, usage, Failure};
use clap::builder::RangedI64ValueParser;
use pclab::config::Config;
use pclab::cost::Budget;
use pclab::data::{load_idx_files, load_shipped_file, Split};
use pclab::train::{Evaluation, Trainer};
use serde_json::json;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// The most epochs one run may train.
pub const MAX_EPOCHS: i64 = 1000;

/// Arguments of `pclab train`, shared by `pclab sweep-tradeoff`: the data, the preset,
/// the number of epochs, the seeds and the hyperparameters. Flags may come in any order,
/// as `--name value` or `--name=value`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Epochs to train (1 to 1000).
    #[arg(long, default_value_t = 1, allow_negative_numbers = true,
          value_parser = RangedI64ValueParser::<usize>::new().range(1..=MAX_EPOCHS))]
    pub epochs: usize,
    /// A preset to start from (the engine's presets); the hyperparameter flags then
    /// change it.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(pclab::config::PRESET_NAMES))]
    pub preset: Option<String>,
    /// The shipped data file.
    #[arg(long, default_value = "www/data/mnist-10k.bin.gz")]
    pub data: PathBuf,
    /// IDX files (plain or gzip) instead of the shipped data: train images, train labels,
    /// test images, test labels.
    #[arg(long, num_args = 4, conflicts_with = "data",
          value_names = ["TRAIN_IMAGES", "TRAIN_LABELS", "TEST_IMAGES", "TEST_LABELS"])]
    pub idx: Option<Vec<PathBuf>>,
    /// Train once per seed and summarise: `0..5` (0 to 4), `0..=4` or `0,1,2,3,4`; at
    /// most 100 seeds. Not with --seed.
    #[arg(long, value_parser = seeds::parse, conflicts_with = "seed")]
    pub seeds: Option<Seeds>,
    #[command(flatten)]
    pub settings: Settings,
}

impl Args {
    /// The preset (or `default_preset`) with the settings applied; a bad name or value is
    /// a usage error.
    pub fn config(&self, default_preset: Option<&str>) -> Result<Config, Failure> {
        let base = match self.preset.as_deref().or(default_preset) {
            Some(name) => Config::preset(name).map_err(usage)?,
            None => Config::default(),
        };
        base.with_settings(self.settings.pairs()).map_err(usage)
    }

    /// The shipped split, or the IDX files; errors name the file at fault.
    pub fn load_data(&self) -> Result<Split, Failure> {
        match self.idx.as_deref() {
            Some([train_x, train_y, test_x, test_y]) => Ok(Split {
                train: load_idx_files(train_x, train_y, 10).map_err(runtime)?,
                test: load_idx_files(test_x, test_y, 10).map_err(runtime)?,
            }),
            _ => load_shipped_file(&self.data).map_err(runtime),
        }
    }
}

/// Trains epoch by epoch (once per seed with `--seeds`), printing each epoch's metrics.
pub fn run(args: &Args) -> Result<(), Failure> {
    let config = args.config(None)?;
    let data = args.load_data()?;
    let epochs = args.epochs;
    let Some(Seeds(seeds)) = &args.seeds else {
        return train(config, data, epochs).map(drop);
    };
    let mut finals = Vec::new();
    for &seed in seeds {
        let config = Config {
            seed,
            ..config.clone()
        };
        finals.push(train(config, data.clone(), epochs)?.1);
    }
    let accuracy: Vec<Option<f64>> = finals.iter().map(|e| e.accuracy).collect();
    let mse: Vec<Option<f64>> = finals.iter().map(|e| e.mse).collect();
    let mut fields = serde_json::Map::new();
    fields.insert("epochs".into(), json!(epochs));
    println!("{}", seeds::summary(seeds, &accuracy, &mse, fields));
    Ok(())
}

/// One run of `epochs` epochs, printing a JSON line per epoch; returns the trained run and
/// its last evaluation.
pub fn train(config: Config, data: Split, epochs: usize) -> Result<(Trainer, Evaluation), Failure> {
    let seed = config.seed;
    let mut trainer = Trainer::with_budget(config, data, &Budget::NATIVE).map_err(runtime)?;
    let per_epoch = trainer.steps_per_epoch();
    let samples = trainer.data().train.len();
    let start = Instant::now();
    let mut train_time = 0.0;
    let mut eval = None;
    for epoch in 1..=epochs {
        let epoch_start = Instant::now();
        let (mut loss, mut energy) = (0.0, 0.0);
        for i in 0..per_epoch {
            let record = trainer.step().map_err(runtime)?;
            loss += record.loss / per_epoch as f64;
            energy += record.energy / per_epoch as f64;
            if i % 8 == 0 || i + 1 == per_epoch {
                eprint!(
                    "\rseed {seed} epoch {epoch}/{epochs} [{:<30}] loss {loss:.4}",
                    "#".repeat(30 * (i + 1) / per_epoch)
                );
            }
        }
        let seconds = epoch_start.elapsed().as_secs_f64();
        train_time += seconds;
        eprintln!();
        let evaluation = trainer.evaluate().map_err(runtime)?;
        let last = trainer.last_step();
        let line = json!({
            "seed": seed,
            "epoch": epoch,
            "step": last.step,
            "loss": loss,
            "energy": energy,
            "energy_per_layer": last.energy_per_layer,
            "energy_trace": last.energy_trace,
            "accuracy": evaluation.accuracy,
            "confusion": evaluation.confusion,
            "mse": evaluation.mse,
            "flops": last.flops,
            "flops_total": last.flops.total(),
            "train_seconds": seconds,
            "wall_seconds": start.elapsed().as_secs_f64(),
            "samples_per_s": samples as f64 / seconds,
            "gflops_per_s": (last.flops.total() as f64 / train_time) / 1e9,
        });
        println!("{line}");
        std::io::stdout().flush().map_err(runtime)?;
        eval = Some(evaluation);
    }
    let eval = eval.ok_or_else(|| usage("--epochs must be at least 1"))?;
    Ok((trainer, eval))
}
