//! Views into a training run for the page and the CLI: sample predictions, a drawn
//! digit's classification and the energy trace of its inference, receptive fields, and
//! saving and loading a trained model as JSON.

use crate::data::PixelScale;
use crate::energy::LayerEnergy;
use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::inference::{infer, Clamp, Inference, Standard};
use crate::metrics::pc_bp_cosines;
use crate::network::Network;
use crate::train::{argmax, Config, Experiment, Trainer, F};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// Class probabilities `softmax(scores)`, one row per sample.
pub fn probabilities(scores: &DMatrix<F>) -> DMatrix<F> {
    let mut p = scores.clone();
    LayerEnergy::categorical().mean(scores, &mut p, &mut 0);
    p
}

/// Pixels in [0, 1] (`n × pixels`) converted to the scale the network sees.
fn to_network_scale(trainer: &Trainer, unit: &DMatrix<F>) -> DMatrix<F> {
    match trainer.config().pixel_scale() {
        PixelScale::Unit => unit.clone(),
        PixelScale::Centered => unit.map(|p| 2.0 * p - 1.0),
    }
}

/// A classified image: the class and its probabilities.
#[derive(Clone, Debug, Serialize)]
pub struct Classified {
    pub label: usize,
    pub probabilities: Vec<f64>,
}

/// A single (e.g. drawn) image classified, with the energy at every inference step when
/// the network explains it with that class clamped (classify experiment; empty otherwise).
#[derive(Clone, Debug, Serialize)]
pub struct Explained {
    #[serde(flatten)]
    pub classified: Classified,
    pub energy_trace: Vec<f64>,
}

/// Checks images given in [0, 1] pixels (`n × pixels`) and converts them to the scale the
/// network sees.
fn network_input(trainer: &Trainer, unit_pixels: &DMatrix<F>) -> Result<DMatrix<F>> {
    let pixels = trainer.data().test.pixels_per_image();
    if unit_pixels.ncols() != pixels {
        return Err(PcError::Shape(format!(
            "an image needs {pixels} pixels, got {}",
            unit_pixels.ncols()
        )));
    }
    if unit_pixels.iter().any(|p| !p.is_finite()) {
        return Err(PcError::NonFinite("a pixel of the image".into()));
    }
    Ok(to_network_scale(trainer, unit_pixels))
}

fn classify_scaled(trainer: &Trainer, x: &DMatrix<F>) -> Result<Vec<Classified>> {
    let p = probabilities(&trainer.class_scores(x)?);
    Ok(p.row_iter()
        .map(|row| Classified {
            label: argmax(row.iter().copied()),
            probabilities: row.iter().map(|&v| f64::from(v)).collect(),
        })
        .collect())
}

/// Classifies images given in [0, 1] pixels (`n × pixels`), all in one batch.
pub fn classify(trainer: &Trainer, unit_pixels: &DMatrix<F>) -> Result<Vec<Classified>> {
    classify_scaled(trainer, &network_input(trainer, unit_pixels)?)
}

/// Classifies one image of [0, 1] pixels and, in the classify experiment, traces the
/// energy of explaining it as the predicted class.
pub fn classify_explained(trainer: &Trainer, unit_pixels: &[F]) -> Result<Explained> {
    let x = network_input(
        trainer,
        &DMatrix::from_row_slice(1, unit_pixels.len(), unit_pixels),
    )?;
    let classified = classify_scaled(trainer, &x)?.remove(0);
    let energy_trace = match trainer.config().experiment {
        Experiment::Classify => explain(trainer, &x, classified.label)?,
        _ => Vec::new(),
    };
    Ok(Explained {
        classified,
        energy_trace,
    })
}

/// The energy trace of standard inference with image `x` at the bottom and class `label`
/// clamped at the top: how much the network must revise its beliefs to explain the image
/// as that class.
fn explain(trainer: &Trainer, x: &DMatrix<F>, label: usize) -> Result<Vec<f64>> {
    let net = trainer.network();
    let classes = net.sizes()[net.depth()];
    let mut y = DMatrix::zeros(1, classes);
    y[(0, label)] = 1.0;
    let settled = infer(
        net,
        Clamp::both(x, &y),
        &Inference::Standard(standard(trainer.config())),
        None,
        &mut Flops::default(),
    )?;
    Ok(settled
        .energy_trace
        .iter()
        .map(|r| f64::from(r.total))
        .collect())
}

fn standard(config: &Config) -> Standard {
    Standard {
        steps: config.steps,
        lr: config.inference_lr,
        momentum: config.inference_momentum,
        accumulate_weight_grads: false,
    }
}

/// The weight matrix that touches the image, with one image-sized tile per unit: the
/// first block's rows (image at the bottom) or the last block's columns (image on top).
fn image_weights(net: &Network<F>, experiment: Experiment) -> DMatrix<F> {
    let blocks = net.blocks();
    match experiment {
        Experiment::Classify => blocks[0].weight.clone(),
        _ => blocks[blocks.len() - 1].weight.transpose(),
    }
}

/// Up to `n` receptive fields, each tile min-max normalised to [0, 1], concatenated.
pub fn receptive_fields(trainer: &Trainer, n: usize) -> Vec<f32> {
    let w = image_weights(trainer.network(), trainer.config().experiment);
    let mut out = Vec::with_capacity(n.min(w.nrows()) * w.ncols());
    for row in w.row_iter().take(n) {
        let (lo, hi) = row
            .iter()
            .fold((F::INFINITY, F::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let span = if hi > lo { hi - lo } else { 1.0 };
        out.extend(row.iter().map(|&v| (v - lo) / span));
    }
    out
}

/// PC-vs-BP gradient cosines per block on the first `batch` training images of the run.
pub fn gradient_cosines(trainer: &Trainer, method: &Inference, batch: usize) -> Result<Vec<f64>> {
    if trainer.config().experiment != Experiment::Classify {
        return Err(PcError::Config(
            "gradient cosines need the classify experiment".into(),
        ));
    }
    let indices: Vec<usize> = (0..batch.min(trainer.data().train.len())).collect();
    let (x, y) = trainer
        .data()
        .train
        .batch::<F>(&indices, trainer.config().pixel_scale());
    pc_bp_cosines(trainer.network(), &x, &y, method)
}

/// A trained model as saved to JSON: the configuration and every block's parameters
/// (weights row-major, `n_l × n_{l−1}`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub format: String,
    pub config: Config,
    pub sizes: Vec<usize>,
    pub weights: Vec<Vec<f32>>,
    pub biases: Vec<Vec<f32>>,
}

const MODEL_FORMAT: &str = "pclab-model-1";

/// The run's configuration and parameters as JSON.
pub fn save(trainer: &Trainer) -> String {
    let net = trainer.network();
    let model = Model {
        format: MODEL_FORMAT.into(),
        config: trainer.config().clone(),
        sizes: net.sizes(),
        weights: net
            .blocks()
            .iter()
            .map(|b| b.weight.transpose().iter().copied().collect())
            .collect(),
        biases: net
            .blocks()
            .iter()
            .map(|b| b.bias.iter().copied().collect())
            .collect(),
    };
    serde_json::to_string(&model).unwrap_or_default()
}

/// A run restored from [`save`]'s JSON on `data`; every shape and value is checked.
pub fn load(json: &str, data: crate::data::Split) -> Result<Trainer> {
    let model: Model = serde_json::from_str(json)
        .map_err(|e| PcError::Config(format!("not a pclab model file: {e}")))?;
    if model.format != MODEL_FORMAT {
        return Err(PcError::Config(format!(
            "model format {:?} is not {MODEL_FORMAT:?}",
            model.format
        )));
    }
    let mut trainer = Trainer::new(model.config, data)?;
    let sizes = trainer.network().sizes();
    if sizes != model.sizes {
        return Err(PcError::Shape(format!(
            "the model's layer sizes {:?} do not fit this configuration and data ({sizes:?})",
            model.sizes
        )));
    }
    let params = sizes
        .windows(2)
        .zip(model.weights.iter().zip(&model.biases))
        .enumerate()
        .map(|(l, (pair, (w, b)))| {
            if w.len() != pair[0] * pair[1] || b.len() != pair[1] {
                return Err(PcError::Shape(format!(
                    "block {} has the wrong number of parameters",
                    l + 1
                )));
            }
            Ok((
                DMatrix::from_row_slice(pair[1], pair[0], w),
                DVector::from_column_slice(b),
            ))
        })
        .collect::<Result<Vec<_>>>()?;
    if params.len() != sizes.len() - 1 {
        return Err(PcError::Shape(format!(
            "the model has {} blocks, the configuration {}",
            params.len(),
            sizes.len() - 1
        )));
    }
    trainer.set_parameters(params)?;
    Ok(trainer)
}

/// One test image's inference, step by step: every layer's belief at every state, the
/// energy, and (where the image is predicted, at the top) the predicted image `m(μ_L)`.
#[derive(Clone, Debug, Serialize)]
pub struct Replay {
    pub label: u8,
    /// `beliefs[t][l]`: layer l's belief at state t.
    pub beliefs: Vec<Vec<Vec<f32>>>,
    /// The total energy at every state.
    pub energy: Vec<f64>,
    /// `predictions[t]`: the image predicted at state t (empty when the image is the input).
    pub predictions: Vec<Vec<f32>>,
}

/// The replay of test image `index` settling (see [`Replay`]).
pub fn replay(trainer: &Trainer, index: usize) -> Result<Replay> {
    let test = &trainer.data().test;
    if index >= test.len() {
        return Err(PcError::Config(format!(
            "test image {index} is out of range 0..{}",
            test.len()
        )));
    }
    let (x, y) = test.batch::<F>(&[index], trainer.config().pixel_scale());
    let run = trainer.belief_trajectory(&x, &y)?;
    let net = trainer.network();
    let image_on_top = trainer.config().experiment != Experiment::Classify;
    let mut predictions = Vec::new();
    if image_on_top {
        let top = &net.blocks()[net.depth() - 1];
        for state in &run.trajectory {
            let mu = net.predict(net.depth(), &state[net.depth() - 1])?;
            let mut mean = mu.clone();
            top.energy.mean(&mu, &mut mean, &mut 0);
            predictions.push(mean.iter().copied().collect());
        }
    }
    Ok(Replay {
        label: test.labels()[index],
        beliefs: (run.trajectory.iter())
            .map(|state| state.iter().map(|v| v.iter().copied().collect()).collect())
            .collect(),
        energy: run
            .energy_trace
            .iter()
            .map(|r| f64::from(r.total))
            .collect(),
        predictions,
    })
}
