//! Views into a training run for the page and the CLI: sample predictions, a drawn
//! digit's classification and the energy trace of its inference, receptive fields, and
//! saving and loading a trained model as JSON.

use crate::config::Config;
use crate::data::PixelScale;
use crate::energy::Distribution;
use crate::error::{PcError, Result};
use crate::experiment::{End, InferenceKind, View};
use crate::inference::Standard;
use crate::metrics::pc_bp_cosines;
use crate::network::Network;
use crate::train::{argmax, Trainer, F};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

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

/// Checks images given in [0, 1] pixels (`n × pixels`: the size, and every pixel in
/// [0, 1]) and converts them to the scale the network sees.
fn network_input(trainer: &Trainer, unit_pixels: &DMatrix<F>) -> Result<DMatrix<F>> {
    let pixels = trainer.data().test.pixels_per_image();
    if unit_pixels.ncols() != pixels {
        return Err(PcError::Shape(format!(
            "an image needs {pixels} pixels, got {}",
            unit_pixels.ncols()
        )));
    }
    if let Some(p) = unit_pixels.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(PcError::Config(format!(
            "a pixel must lie in [0, 1], got {p}"
        )));
    }
    Ok(to_network_scale(trainer, unit_pixels))
}

fn classify_scaled(trainer: &Trainer, x: &DMatrix<F>) -> Result<Vec<Classified>> {
    let p = trainer.class_probabilities(x)?;
    let spec = trainer.config().experiment.spec();
    let scores = spec.top == End::Label
        && trainer.network().output_energy().distribution != Distribution::Categorical;
    Ok(p.row_iter()
        .map(|row| {
            let label = argmax(row.iter().copied());
            let row: Vec<f64> = row.iter().map(|&v| f64::from(v)).collect();
            Classified {
                label,
                probabilities: if scores {
                    scores_as_probabilities(&row, label)
                } else {
                    row
                },
            }
        })
        .collect())
}

/// The outputs of a label layer that is not categorical (the tutorial's Gaussian one-hot
/// regression, or independent Bernoulli units) read as class probabilities:
/// `p_k = max(m_k, 0) / Σ_j max(m_j, 0)`; all on the largest score (`best`) where no
/// score is positive, so that the guess is still its argmax.
fn scores_as_probabilities(scores: &[f64], best: usize) -> Vec<f64> {
    let mass: f64 = scores.iter().map(|&m| m.max(0.0)).sum();
    if mass > 0.0 {
        scores.iter().map(|&m| m.max(0.0) / mass).collect()
    } else {
        (0..scores.len())
            .map(|k| f64::from(u8::from(k == best)))
            .collect()
    }
}

/// Classifies images given in [0, 1] pixels (`n × pixels`), all in one batch.
pub fn classify(trainer: &Trainer, unit_pixels: &DMatrix<F>) -> Result<Vec<Classified>> {
    classify_scaled(trainer, &network_input(trainer, unit_pixels)?)
}

/// Classifies one image of [0, 1] pixels and, where the experiment has a label layer,
/// traces the energy of explaining it as the predicted class: standard inference with the
/// image and that class clamped where learning clamps them (how much the network must
/// revise its beliefs to explain the image as that class).
pub fn classify_explained(trainer: &Trainer, unit_pixels: &[F]) -> Result<Explained> {
    let x = network_input(
        trainer,
        &DMatrix::from_row_slice(1, unit_pixels.len(), unit_pixels),
    )?;
    let classified = classify_scaled(trainer, &x)?.remove(0);
    let spec = trainer.config().experiment.spec();
    let energy_trace = if spec.top == End::Label || spec.bottom == End::Label {
        let run = trainer.belief_trajectory(&x, &one_hot(trainer, classified.label))?;
        run.energy_trace
            .iter()
            .map(|r| f64::from(r.total))
            .collect()
    } else {
        Vec::new()
    };
    Ok(Explained {
        classified,
        energy_trace,
    })
}

/// Class `label` as a one-hot row.
fn one_hot(trainer: &Trainer, label: usize) -> DMatrix<F> {
    let mut y = DMatrix::zeros(1, trainer.data().test.classes());
    y[(0, label)] = 1.0;
    y
}

/// The weight matrix that touches the image, with one image-sized tile per unit: the
/// first block's rows (image at the bottom, or a BP autoencoder's encoder) or the last
/// block's columns (image on top).
fn image_weights(net: &Network<F>, config: &Config) -> DMatrix<F> {
    let blocks = net.blocks();
    if config.experiment.spec().image_is_input() || config.autoencoder() {
        blocks[0].weight.clone()
    } else {
        blocks[blocks.len() - 1].weight.transpose()
    }
}

/// Up to `n` receptive fields, concatenated: each tile is one unit's weights divided by
/// that tile's largest |w|, so it lies in [−1, 1] with its sign kept (0 stays 0; an
/// all-zero tile stays zero). The page draws them with a diverging colour map, white = 0.
pub fn receptive_fields(trainer: &Trainer, n: usize) -> Vec<f32> {
    let w = image_weights(trainer.network(), trainer.config());
    let mut out = Vec::with_capacity(n.min(w.nrows()) * w.ncols());
    for row in w.row_iter().take(n) {
        let max = row.iter().fold(0.0, |m: F, &v| m.max(v.abs()));
        let scale = if max > 0.0 { 1.0 / max } else { 1.0 };
        out.extend(row.iter().map(|&v| v * scale));
    }
    out
}

/// One inference method the gradients view compares, and the rate it runs at.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct GradientVariant {
    pub inference: InferenceKind,
    pub rate: f64,
}

/// The inference methods whose PC updates the gradients view compares with BP on this
/// run, in the order shown: fixed-prediction at rate 1 (each sweep sets a layer to its
/// prediction, which gives BP's gradient once T ≥ depth), strict and standard at the
/// user's `rate`; those the run's hidden layers do not allow are left out.
pub fn gradient_variants(config: &Config, rate: f64) -> Vec<GradientVariant> {
    let hidden_distribution = config.hidden_energy().is_distribution();
    [
        (InferenceKind::FixedPrediction, 1.0),
        (InferenceKind::Strict, rate),
        (InferenceKind::Standard, rate),
    ]
    .into_iter()
    .filter(|(kind, _)| !hidden_distribution || kind.handles_distribution_layers())
    .map(|(inference, rate)| GradientVariant { inference, rate })
    .collect()
}

/// PC-vs-BP gradient cosines per block on the first `batch` training images of the run,
/// for an inference method with T steps (sweeps) at `rate` (standard inference without
/// momentum, so that T alone sets how far the beliefs move).
pub fn gradient_cosines(
    trainer: &Trainer,
    method: InferenceKind,
    steps: usize,
    rate: f64,
    batch: usize,
) -> Result<Vec<f64>> {
    if !trainer.config().experiment.spec().has(View::Gradients) {
        return Err(PcError::Config(
            "gradient cosines need both ends clamped to data: the classify experiment".into(),
        ));
    }
    let standard = Standard {
        steps,
        lr: rate,
        momentum: 0.0,
        accumulate_weight_grads: false,
    };
    let indices: Vec<usize> = (0..batch.min(trainer.data().train.len())).collect();
    let (x, y) = trainer
        .data()
        .train
        .batch::<F>(&indices, trainer.config().pixel_scale());
    pc_bp_cosines(
        trainer.network(),
        &x,
        &y,
        &method.method(steps, rate, standard),
    )
}

/// A trained model as saved to JSON: the configuration, every block's parameters
/// (weights row-major, `n_l × n_{l−1}`) and, where the network can be sampled, its noise
/// model (format 2; a format-1 file has none, and its noise model is fitted on load).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub format: String,
    pub config: Config,
    pub sizes: Vec<usize>,
    pub weights: Vec<Vec<f32>>,
    pub biases: Vec<Vec<f32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<crate::sampling::NoiseModel>,
}

const MODEL_FORMAT: &str = "pclab-model-2";
/// The formats [`load`] reads: 1 is 2 without the noise model.
const MODEL_FORMATS: [&str; 2] = ["pclab-model-1", MODEL_FORMAT];

/// The run's configuration and parameters as JSON.
pub fn save(trainer: &Trainer) -> Result<String> {
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
        noise: trainer.noise_model().cloned(),
    };
    serde_json::to_string(&model)
        .map_err(|e| PcError::Config(format!("the model cannot be written as JSON: {e}")))
}

/// A run restored from [`save`]'s JSON on `data`; every shape and value is checked.
pub fn load(json: &str, data: crate::data::Split) -> Result<Trainer> {
    let model: Model = serde_json::from_str(json)
        .map_err(|e| PcError::Config(format!("not a pclab model file: {e}")))?;
    if !MODEL_FORMATS.contains(&model.format.as_str()) {
        return Err(PcError::Config(format!(
            "model format {:?} is not one of {MODEL_FORMATS:?}",
            model.format
        )));
    }
    model.config.validate()?;
    // Every shape is checked against the parameters the file holds before anything is
    // allocated, so a file cannot claim a network larger than itself.
    let sizes = model
        .config
        .sizes(data.train.pixels_per_image(), data.train.classes());
    if sizes != model.sizes {
        return Err(PcError::Shape(format!(
            "the model's layer sizes {:?} do not fit its configuration and the data ({sizes:?})",
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
    let mut trainer = Trainer::new(model.config, data)?;
    trainer.set_parameters(params)?;
    // A model that can be sampled carries its noise model; one saved before noise models
    // existed gets it fitted in one pass over the training data.
    match model.noise {
        Some(noise) => trainer.set_noise_model(noise)?,
        None if trainer.noise_model().is_some() => trainer.fit_noise(crate::train::FIT_IMAGES)?,
        None => {}
    }
    Ok(trainer)
}

/// One run of inference, state by state (t = 0..T), every layer as the page draws it.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Trajectory {
    /// `beliefs[t][l]`: layer l's belief `v_l` at state t.
    pub beliefs: Vec<Vec<Vec<f32>>>,
    /// `predictions[t][l]`: the expected belief `m(μ_l(v_{l−1}))` (empty for layer 0).
    pub predictions: Vec<Vec<Vec<f32>>>,
    /// `errors[t][l]`: the prediction error `ε_l = v_l − m(μ_l)` (empty for layer 0).
    pub errors: Vec<Vec<Vec<f32>>>,
    /// `energy[t][l]`: layer l's energy `E_l` (0 for layer 0).
    pub energy: Vec<Vec<f64>>,
    /// `F = Σ_l E_l` at every state.
    pub total: Vec<f64>,
}

/// One test image's inference, step by step, twice: as learning sees it (every data end
/// clamped: image and label) and as testing sees it (only the image clamped; the label or
/// latent inferred). Which layer is the image and which the label says how to draw them.
#[derive(Clone, Debug, Serialize)]
pub struct Replay {
    /// The image's class: the true one of a test digit, the predicted one of a drawn
    /// digit (the class its clamped run explains it as).
    pub label: u8,
    /// Layer sizes `n_0..n_L`.
    pub sizes: Vec<usize>,
    /// The layer that holds the image, and its rows × cols.
    pub image_layer: Option<usize>,
    pub image_shape: (usize, usize),
    /// The layer that holds the label (one unit per class).
    pub label_layer: Option<usize>,
    /// With the label clamped too, as during learning.
    pub clamped: Trajectory,
    /// With the image alone, as at test time.
    pub free: Trajectory,
    /// The test-time run summarised step by step, where the run infers a latent.
    pub dynamics: Option<crate::dynamics::Dynamics>,
}

/// Every state of `states` as the page draws it.
fn trajectory(net: &Network<F>, states: &[Vec<DMatrix<F>>]) -> Result<Trajectory> {
    let row = |m: &DMatrix<F>| m.iter().copied().collect::<Vec<f32>>();
    let mut out = Trajectory::default();
    for v in states {
        let (mut predictions, mut errors, mut energy) =
            (vec![Vec::new()], vec![Vec::new()], vec![0.0]);
        for (l, block) in net.blocks().iter().enumerate().map(|(i, b)| (i + 1, b)) {
            let mu = net.predict(l, &v[l - 1])?;
            let (mut mean, mut eps) = (mu.clone(), mu.clone());
            block.energy.mean(&mu, &mut mean, &mut 0);
            energy.push(f64::from(net.layer_energy(l, &mu, &v[l], &mut eps, &mut 0)));
            predictions.push(row(&mean));
            errors.push(row(&eps));
        }
        out.total.push(energy.iter().sum());
        out.beliefs.push(v.iter().map(row).collect());
        out.predictions.push(predictions);
        out.errors.push(errors);
        out.energy.push(energy);
    }
    Ok(out)
}

/// The replay of test image `index` settling (see [`Replay`]).
pub fn replay(trainer: &Trainer, index: usize) -> Result<Replay> {
    let test = &trainer.data().test;
    check_index(trainer, index)?;
    let (x, y) = test.batch::<F>(&[index], trainer.config().pixel_scale());
    replay_of(trainer, &x, &y, test.labels()[index])
}

/// The replay of one drawn image of [0, 1] pixels (the size and range checked) settling:
/// with the class the network predicts for it clamped (as [`classify_explained`]
/// explains it), and free. Its `label` is that predicted class.
pub fn replay_pixels(trainer: &Trainer, unit_pixels: &[F]) -> Result<Replay> {
    let x = network_input(
        trainer,
        &DMatrix::from_row_slice(1, unit_pixels.len(), unit_pixels),
    )?;
    let label = classify_scaled(trainer, &x)?.remove(0).label;
    let class = u8::try_from(label)
        .map_err(|_| PcError::Config(format!("class {label} does not fit a label")))?;
    replay_of(trainer, &x, &one_hot(trainer, label), class)
}

fn check_index(trainer: &Trainer, index: usize) -> Result<()> {
    let len = trainer.data().test.len();
    if index >= len {
        return Err(PcError::Config(format!(
            "test image {index} is out of range 0..{len}"
        )));
    }
    Ok(())
}

/// The replay of image `x` with labels `y` (one row each, the network's scale).
fn replay_of(trainer: &Trainer, x: &DMatrix<F>, y: &DMatrix<F>, label: u8) -> Result<Replay> {
    let test = &trainer.data().test;
    let net = trainer.network();
    let clamped = trainer.belief_trajectory(x, y)?;
    let free = trainer.test_trajectory(x)?;
    let spec = trainer.config().experiment.spec();
    let depth = net.depth();
    let at = |end| {
        if spec.bottom == end {
            Some(0)
        } else if spec.top == end {
            Some(depth)
        } else {
            None
        }
    };
    let dynamics = (crate::dynamics::applies(trainer.config()))
        .then(|| crate::dynamics::dynamics(trainer, x, &free.trajectory))
        .transpose()?;
    Ok(Replay {
        label,
        sizes: net.sizes(),
        image_layer: at(End::Image),
        image_shape: (test.rows(), test.cols()),
        label_layer: at(End::Label),
        clamped: trajectory(net, &clamped.trajectory)?,
        free: trajectory(net, &free.trajectory)?,
        dynamics,
    })
}

/// How many test digits, from the first, [`least_explained`] considers.
pub const LEAST_EXPLAINED_CANDIDATES: usize = 100;

/// Among the first [`LEAST_EXPLAINED_CANDIDATES`] test digits, the one the network
/// explains worst: the highest energy `F(v(T))` after inference as learning sees it
/// (image and label clamped where learning clamps them), in one batch; the first on ties.
pub fn least_explained(trainer: &Trainer) -> Result<usize> {
    let test = &trainer.data().test;
    let indices: Vec<usize> = (0..test.len().min(LEAST_EXPLAINED_CANDIDATES)).collect();
    let (x, y) = test.batch::<F>(&indices, trainer.config().pixel_scale());
    let run = trainer.belief_trajectory(&x, &y)?;
    let Some(settled) = run.trajectory.last() else {
        return Err(PcError::Config(
            "an inference has at least one state".into(),
        ));
    };
    let net = trainer.network();
    let mut energies = Vec::with_capacity(indices.len());
    for i in 0..indices.len() {
        let state: Vec<DMatrix<F>> = settled.iter().map(|v| v.rows(i, 1).into_owned()).collect();
        energies.push(trajectory(net, &[state])?.total[0] as F);
    }
    Ok(argmax(energies.into_iter()))
}
