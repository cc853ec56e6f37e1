//! `pclab sample`: samples of a generative run (a class or a latent code predicting the
//! image), trained here like `pclab train` (its epoch lines first) or loaded from a model
//! the page saved; then one JSON line with the noise model and one per sample.

use super::{runtime, usage, Failure};
use pclab::sampling::{Pixels, Prior, SampleRequest, MAX_NOISE, MAX_SAMPLES};
use pclab::train::Trainer;
use serde_json::json;
use std::path::PathBuf;

/// Arguments of `pclab sample`: what to sample, and the run (the options of `pclab train`,
/// the preset defaulting to `generation`; or `--model`).
#[derive(clap::Args, Debug)]
pub struct SampleArgs {
    /// Which class to clamp at layer 0: a class number, `all` (each class in turn) or
    /// `prior` (drawn from the class frequencies). Default: `all` where layer 0 is a
    /// class, `prior` where it is a latent code.
    #[arg(long, value_parser = which)]
    class: Option<Which>,
    /// Samples per class (or from the prior), 1 to 1024.
    #[arg(long, default_value_t = 8, allow_negative_numbers = true,
          value_parser = clap::builder::RangedI64ValueParser::<usize>::new().range(1..=MAX_SAMPLES as i64))]
    count: usize,
    /// The noise scale τ, 0 to 4: 0 gives the deterministic mean prediction, 1 the
    /// learned noise.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true, value_parser = noise)]
    noise: f64,
    /// `mean`: each image is the mean given the sampled layer above; `sample`: its pixels
    /// are drawn too.
    #[arg(long, default_value = "mean", value_parser = pixels)]
    pixels: Pixels,
    /// The sampling seed (the training seed is --seed).
    #[arg(long, default_value_t = 0)]
    sample_seed: u64,
    /// A model saved by the page (JSON) to sample, instead of training one; the data
    /// flags say which data it belongs to.
    #[arg(long, conflicts_with_all = ["preset", "seeds", "epochs"])]
    model: Option<PathBuf>,
    #[command(flatten)]
    common: super::train::Args,
}

/// What `--class` asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Which {
    Class(usize),
    All,
    Prior,
}

fn which(text: &str) -> Result<Which, String> {
    match text.trim() {
        "all" => Ok(Which::All),
        "prior" => Ok(Which::Prior),
        t => t
            .parse()
            .map(Which::Class)
            .map_err(|_| format!("a class number, all or prior, got {text:?}")),
    }
}

fn noise(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| (0.0..=MAX_NOISE).contains(x))
        .ok_or_else(|| {
            format!("the noise scale must be a number from 0 to {MAX_NOISE}, got {text:?}")
        })
}

fn pixels(text: &str) -> Result<Pixels, String> {
    serde_json::from_value(json!(text.trim())).map_err(|_| format!("mean or sample, got {text:?}"))
}

/// The run to sample: loaded from `--model`, or trained as `pclab train` would.
fn run_of(args: &SampleArgs) -> Result<Trainer, Failure> {
    let common = &args.common;
    if common.seeds.is_some() {
        return Err(usage("sample draws from one run: --seeds does not apply"));
    }
    let data = common.load_data()?;
    match &args.model {
        Some(path) => {
            if common.settings.pairs().next().is_some() {
                return Err(usage(
                    "--model brings its own settings: hyperparameter flags do not apply",
                ));
            }
            let json = std::fs::read_to_string(path)
                .map_err(|e| runtime(format!("{}: {e}", path.display())))?;
            pclab::inspect::load(&json, data)
                .map_err(|e| runtime(format!("{}: {e}", path.display())))
        }
        None => {
            let config = common.config(Some("generation"))?;
            let spec = config.experiment.spec();
            if !spec.samples() || config.autoencoder() {
                return Err(usage(
                    "sample needs a generative run: the generate experiment, or compress or \
                     tradeoff trained by pc or bp-through-inference",
                ));
            }
            Ok(super::train::train(config, data, common.epochs)?.0)
        }
    }
}

/// Trains or loads the run, then prints its noise model and the samples, one per line.
pub fn run(args: &SampleArgs) -> Result<(), Failure> {
    let trainer = run_of(args)?;
    let model = trainer
        .noise_model()
        .ok_or_else(|| usage("this model is not a generative model of the image"))?;
    println!("{}", json!({ "noise_model": model }));
    let classes = match (&model.prior, args.class) {
        (_, Some(Which::Prior)) | (Prior::Gaussian { .. }, None) => vec![None],
        (_, Some(Which::Class(k))) => vec![Some(k)],
        (Prior::Categorical { probabilities }, _) => (0..probabilities.len()).map(Some).collect(),
        (Prior::Gaussian { .. }, Some(Which::All)) => {
            return Err(usage(
                "layer 0 is a latent code, not a class: use --class prior",
            ))
        }
    };
    let test = &trainer.data().test;
    for class in classes {
        let request = SampleRequest {
            class,
            count: args.count,
            noise: args.noise,
            pixels: args.pixels,
            seed: args.sample_seed,
        };
        let layers = trainer.sample(&request).map_err(usage)?;
        let images = layers.last().ok_or_else(|| runtime("no layers"))?;
        for (index, image) in images.row_iter().enumerate() {
            let line = json!({
                "class": class,
                "index": index,
                "noise": args.noise,
                "pixels": args.pixels,
                "sample_seed": args.sample_seed,
                "rows": test.rows(),
                "cols": test.cols(),
                "image": image.iter().collect::<Vec<_>>(),
            });
            println!("{line}");
        }
    }
    Ok(())
}
