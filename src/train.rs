//! Training: epochs of minibatches on a data split, for the experiments a lecture shows.
//!
//! - **classify**: a discriminative network, image clamped at layer 0 and the one-hot label
//!   at layer L during learning; at test time the feedforward prediction `argmax v̂_L`.
//! - **compress**: a PC decoder `latent → … → image`; the latent layer 0 is free and
//!   inferred, the image at layer L is clamped. The BP baseline is an autoencoder
//!   `image → … → latent → … → image` trained on the reconstruction loss.
//! - **generate**: the class one-hot at layer 0 predicts the image at layer L. Generating
//!   is a feedforward pass from a class; classifying infers a free layer 0 from an image.
//! - **tradeoff**: the compress decoder plus a linear classifier read from the latent, trained
//!   on `(1−λ)·reconstruction + λ·cross-entropy`; at test time the latent is inferred from
//!   the image alone, then classified and decoded ([`sweep_tradeoff`] sweeps λ).
//!
//! The trainer works in f32 (speed); exactness is the engine's business, checked in f64.
//! It does no timing: the caller (CLI or page) measures wall time.

use crate::activation::Activation;
use crate::data::{permutation, shift_images, PixelScale, Split};
use crate::energy::{LayerEnergy, Reduction};
use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::inference::{infer, Clamp, EnergyRecord, Inference, Settled, Standard};
use crate::learning::{bp_gradients, pc_gradients, Gradients};
use crate::network::{Init, Network, PredictionForm};
use crate::optimizer::{Optimizer, OptimizerConfig};
use crate::unrolled::{settle_with_readout, unroll, Readout, ReadoutGradients, Unrolled};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// The scalar type of training.
pub type F = f32;

/// What the network learns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Experiment {
    /// Image → label.
    Classify,
    /// Inferred latent → image (PC decoder) or image → latent → image (BP autoencoder).
    Compress,
    /// Class → image; classify by inferring the class.
    Generate,
    /// Inferred latent → image, and latent → class: reconstruction against classification.
    Tradeoff,
}

/// How the weights learn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// Local PC updates from the prediction errors after inference.
    Pc,
    /// Backpropagation of the output energy through the feedforward pass.
    Bp,
    /// Backpropagation of an outer loss on the settled latent through every inference step
    /// (compress, tradeoff).
    BpThroughInference,
}

/// The inference variant used by the PC rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InferenceKind {
    /// Gradient descent on the total energy (the tutorial's PC).
    Standard,
    /// Torch2PC's Strict.
    Strict,
    /// Torch2PC's FixedPred.
    FixedPrediction,
    /// Torch2PC's Exact (errors are the BP gradients).
    Exact,
}

/// The optimiser of the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerKind {
    /// torch Adam.
    Adam,
    /// Plain SGD.
    Sgd,
    /// SGD with momentum 0.9.
    Momentum,
}

/// The output layer's energy (the task loss).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputEnergy {
    /// `½‖y − μ‖²`.
    Gaussian,
    /// Softmax cross-entropy.
    Categorical,
    /// Binary cross-entropy on logits.
    Bernoulli,
}

/// Every hyperparameter of a training run. Field names are the CLI flags and URL keys.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub experiment: Experiment,
    pub rule: Rule,
    pub inference: InferenceKind,
    pub form: PredictionForm,
    /// Hidden layer sizes between the two ends.
    pub hidden: Vec<usize>,
    pub activation: String,
    /// The output block's activation, or `auto`: the identity under categorical and
    /// Bernoulli energies (their mean squashes), the sigmoid for a predicted image, and
    /// `activation` for a Gaussian classifier.
    pub output_activation: String,
    pub output_energy: OutputEnergy,
    /// Inference steps T.
    pub steps: usize,
    pub inference_lr: f64,
    pub inference_momentum: f64,
    /// Sum the weight gradients over all inference states (the tutorial's code).
    pub accumulate: bool,
    pub optimizer: OptimizerKind,
    pub lr: f64,
    /// The learning rate is multiplied by this at the end of every epoch (1: constant).
    pub lr_decay: f64,
    pub weight_decay: f64,
    pub batch: usize,
    pub seed: u64,
    /// Data augmentation: training images shift by up to this many pixels (0: off).
    pub augment: usize,
    /// Size of the inferred latent (compress, tradeoff).
    pub latent: usize,
    /// λ, the weight of the cross-entropy against the reconstruction (tradeoff).
    pub lambda: f64,
}

impl Default for Config {
    /// The classification preset.
    fn default() -> Self {
        Config {
            experiment: Experiment::Classify,
            rule: Rule::Pc,
            inference: InferenceKind::Standard,
            form: PredictionForm::Post,
            hidden: vec![128, 128, 128],
            activation: "tanh".into(),
            output_activation: "auto".into(),
            output_energy: OutputEnergy::Categorical,
            steps: 8,
            inference_lr: 0.1,
            inference_momentum: 0.5,
            accumulate: false,
            optimizer: OptimizerKind::Adam,
            lr: 1e-3,
            lr_decay: 1.0,
            weight_decay: 0.0,
            batch: 128,
            seed: 1,
            augment: 0,
            latent: 64,
            lambda: 0.5,
        }
    }
}

/// Upper bounds that keep a configuration from exhausting the page's memory or time.
const MAX_UNITS: usize = 4096;
const MAX_STEPS: usize = 1000;
const MAX_BATCH: usize = 8192;

impl Config {
    /// A named preset: `classification`, `tutorial`, `compression`, `generation`, `tradeoff`.
    pub fn preset(name: &str) -> Result<Self> {
        let base = Config::default();
        match name {
            // 784-128-128-128-10 as in the PC tutorial, with one-pixel shifts and a
            // decaying rate: ≥ 96% test accuracy in 25 epochs for PC and BP alike.
            "classification" => Ok(Config {
                augment: 1,
                lr_decay: 0.92,
                ..base
            }),
            // The PC tutorial's own classification settings: leaky ReLU on every block
            // (output too), squared-error output energy, T = 8 at rate 0.5 with momentum
            // 0.8 on Σ‖ε‖², weight gradients summed over the inference states as its code
            // does, Adam 2.715e-4 with L2 decay 0.02715, batch 128. Our energies are ½‖ε‖²,
            // half of theirs, so the rate doubles to 1.0 and the decay halves (Adam ignores
            // the gradient's scale but not the decay's share of it). It learns as slowly as
            // theirs: 35% and 49% after epochs 1 and 2 (theirs: 37% and 62%).
            "tutorial" => Ok(Config {
                accumulate: true,
                activation: "leaky-relu".into(),
                output_activation: "leaky-relu".into(),
                output_energy: OutputEnergy::Gaussian,
                inference_lr: 1.0,
                inference_momentum: 0.8,
                lr: 2.715e-4,
                weight_decay: 0.02715 / 2.0,
                ..base
            }),
            // The tutorial's decoder 64-384-784 and T = 35, with a faster latent
            // inference (rate 0.3, momentum 0.8) and weight rate: test MSE < 0.012 in 5 epochs.
            "compression" => Ok(Config {
                experiment: Experiment::Compress,
                hidden: vec![384],
                activation: "tanh".into(),
                output_energy: OutputEnergy::Gaussian,
                steps: 35,
                inference_lr: 0.3,
                inference_momentum: 0.8,
                lr: 2e-3,
                batch: 250,
                ..base
            }),
            "generation" => Ok(Config {
                experiment: Experiment::Generate,
                hidden: vec![64, 256],
                output_energy: OutputEnergy::Gaussian,
                steps: 20,
                batch: 64,
                ..base
            }),
            "tradeoff" => Ok(Config {
                experiment: Experiment::Tradeoff,
                hidden: vec![256],
                output_energy: OutputEnergy::Gaussian,
                steps: 20,
                batch: 128,
                ..base
            }),
            _ => Err(PcError::Config(format!(
                "unknown preset {name:?} (known: classification, tutorial, compression, generation, tradeoff)"
            ))),
        }
    }

    /// Checks every field; the message names the first problem.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(PcError::Config(m));
        if self.hidden.iter().any(|&n| n == 0 || n > MAX_UNITS) {
            return bad(format!(
                "hidden sizes must be 1..={MAX_UNITS}, got {:?}",
                self.hidden
            ));
        }
        if self.hidden.len() > 16 {
            return bad(format!(
                "at most 16 hidden layers, got {}",
                self.hidden.len()
            ));
        }
        Activation::from_name(&self.activation)?;
        if self.output_activation != "auto" {
            Activation::from_name(&self.output_activation)?;
        }
        if self.steps == 0 || self.steps > MAX_STEPS {
            return bad(format!(
                "inference steps T must be 1..={MAX_STEPS}, got {}",
                self.steps
            ));
        }
        if self.batch == 0 || self.batch > MAX_BATCH {
            return bad(format!("batch must be 1..={MAX_BATCH}, got {}", self.batch));
        }
        if self.augment > 4 {
            return bad(format!(
                "augment shifts at most 4 pixels, got {}",
                self.augment
            ));
        }
        if self.latent == 0 || self.latent > MAX_UNITS {
            return bad(format!(
                "latent size must be 1..={MAX_UNITS}, got {}",
                self.latent
            ));
        }
        for (name, x) in [
            ("inference_lr", self.inference_lr),
            ("inference_momentum", self.inference_momentum),
            ("lr", self.lr),
            ("weight_decay", self.weight_decay),
            ("lr_decay", self.lr_decay),
        ] {
            if !x.is_finite() || x < 0.0 {
                return bad(format!(
                    "{name} must be a finite non-negative number, got {x}"
                ));
            }
        }
        if self.lr_decay > 1.0 {
            return bad(format!("lr_decay must be at most 1, got {}", self.lr_decay));
        }
        if self.inference_momentum >= 1.0 {
            return bad(format!(
                "inference_momentum must be below 1, got {}",
                self.inference_momentum
            ));
        }
        if !(0.0..=1.0).contains(&self.lambda) {
            return bad(format!("lambda must be in [0, 1], got {}", self.lambda));
        }
        match (self.rule, self.experiment) {
            (Rule::Bp, Experiment::Tradeoff) => {
                return bad("the tradeoff experiment trains by pc or bp-through-inference".into())
            }
            (Rule::BpThroughInference, Experiment::Classify | Experiment::Generate) => {
                return bad(format!(
                    "bp-through-inference needs an inferred latent: the compress or tradeoff experiment, not {:?}",
                    self.experiment
                ))
            }
            _ => {}
        }
        if self.experiment != Experiment::Classify && self.inference != InferenceKind::Standard {
            return bad(format!(
                "{:?} inference needs both ends clamped; only standard inference fits the {:?} experiment",
                self.inference, self.experiment
            ));
        }
        Ok(())
    }

    fn activation(&self) -> Activation {
        Activation::from_name(&self.activation).unwrap_or(Activation::Tanh)
    }

    fn standard(&self) -> Standard {
        Standard {
            steps: self.steps,
            lr: self.inference_lr,
            momentum: self.inference_momentum,
            accumulate_weight_grads: self.accumulate,
        }
    }

    fn inference(&self) -> Inference {
        match self.inference {
            InferenceKind::Standard => Inference::Standard(self.standard()),
            InferenceKind::Strict => Inference::Strict {
                eta: self.inference_lr,
                steps: self.steps,
            },
            InferenceKind::FixedPrediction => Inference::FixedPrediction {
                eta: self.inference_lr,
                sweeps: self.steps,
            },
            InferenceKind::Exact => Inference::Exact,
        }
    }

    fn optimizer(&self) -> OptimizerConfig {
        match self.optimizer {
            OptimizerKind::Adam => OptimizerConfig::adam(self.lr, self.weight_decay),
            OptimizerKind::Sgd | OptimizerKind::Momentum => OptimizerConfig::Sgd {
                lr: self.lr,
                momentum: if self.optimizer == OptimizerKind::Momentum {
                    0.9
                } else {
                    0.0
                },
                weight_decay: self.weight_decay,
            },
        }
    }

    /// Input pixels: centred to [−1, 1] where the image is an input, in [0, 1] where the
    /// image is predicted (a decoder's output).
    pub fn pixel_scale(&self) -> PixelScale {
        match (self.experiment, self.rule) {
            (Experiment::Classify, _) => PixelScale::Centered,
            _ => PixelScale::Unit,
        }
    }

    /// Layer sizes `[n_0, .., n_L]` of the network this configuration trains.
    pub fn sizes(&self, pixels: usize, classes: usize) -> Vec<usize> {
        let (bottom, top) = match self.experiment {
            Experiment::Classify => (pixels, classes),
            Experiment::Compress | Experiment::Tradeoff => (self.latent, pixels),
            Experiment::Generate => (classes, pixels),
        };
        let mut sizes = vec![bottom];
        sizes.extend(&self.hidden);
        if self.experiment == Experiment::Compress && self.rule == Rule::Bp {
            // The autoencoder: an encoder mirroring the decoder in front of it.
            let mut encoder: Vec<usize> = self.hidden.iter().rev().copied().collect();
            encoder.insert(0, pixels);
            encoder.extend(&sizes);
            sizes = encoder;
        }
        sizes.push(top);
        sizes
    }

    fn output_energy(&self) -> LayerEnergy {
        match self.output_energy {
            OutputEnergy::Gaussian => LayerEnergy::gaussian(Reduction::HalfSse),
            OutputEnergy::Categorical => LayerEnergy::categorical(),
            OutputEnergy::Bernoulli => LayerEnergy::bernoulli(),
        }
    }

    /// One activation per block; the output block's is the identity for categorical and
    /// Bernoulli energies (their mean function applies the squashing).
    fn activations(&self, blocks: usize) -> Vec<Activation> {
        let mut acts = vec![self.activation(); blocks];
        if let Ok(explicit) = Activation::from_name(&self.output_activation) {
            acts[blocks - 1] = explicit;
            return acts;
        }
        acts[blocks - 1] = match (self.output_energy, self.experiment) {
            (
                OutputEnergy::Gaussian,
                Experiment::Compress | Experiment::Generate | Experiment::Tradeoff,
            ) => Activation::Sigmoid,
            (OutputEnergy::Gaussian, Experiment::Classify) => self.activation(),
            _ => Activation::Identity,
        };
        acts
    }
}

/// What one training step measured.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StepRecord {
    /// Training steps (minibatches) done.
    pub step: u64,
    /// Completed epochs (fractional).
    pub epoch: f64,
    /// The task loss on this batch: the output energy at the feedforward prediction (BP)
    /// or at the settled state (PC), per sample.
    pub loss: f64,
    /// The total energy after inference, per sample (PC; equals `loss` for BP).
    pub energy: f64,
    /// Each layer's energy after inference, per sample.
    pub energy_per_layer: Vec<f64>,
    /// The total energy at every inference state of this batch, per sample.
    pub energy_trace: Vec<f64>,
    /// Each layer's energy at every inference state, per sample: `[layer][state]`.
    pub energy_trace_per_layer: Vec<Vec<f64>>,
    /// FLOPs of this step.
    pub flops_step: u64,
    /// FLOPs since the start, by phase.
    pub flops: Flops,
}

/// Test-set measurements.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Fraction of test images classified correctly (classify, generate).
    pub accuracy: Option<f64>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Option<Vec<Vec<u32>>>,
    /// Mean squared reconstruction error per pixel, in [0, 1] pixel units (compress).
    pub mse: Option<f64>,
}

/// A training run: network, optimiser, data and counters.
pub struct Trainer {
    config: Config,
    net: Network<F>,
    optimizer: Optimizer<F>,
    data: Split,
    order: Vec<usize>,
    cursor: usize,
    epoch: u64,
    step: u64,
    flops: Flops,
    last: StepRecord,
    /// The classifier read from the latent (tradeoff).
    classifier: Option<Classifier>,
}

/// A test batch's reconstruction and class scores, where the experiment has them.
type TestOutputs = (Option<DMatrix<F>>, Option<DMatrix<F>>);

/// A linear classifier `latent → classes` with a categorical energy, and its optimiser.
#[derive(Clone)]
struct Classifier {
    net: Network<F>,
    optimizer: Optimizer<F>,
}

fn no_classifier() -> PcError {
    PcError::Config("only the tradeoff experiment has a classifier".into())
}

/// `net` with every layer's energy multiplied by `factor` (a term's weight in a sum).
fn weighted(net: &Network<F>, factor: f64) -> Result<Network<F>> {
    let mut net = net.clone();
    for l in 1..=net.depth() {
        let energy = net.blocks()[l - 1].energy;
        net.set_energy(l, energy.scaled(energy.scale * factor))?;
    }
    Ok(net)
}

fn per_sample(x: F, batch: usize) -> f64 {
    f64::from(x) / batch as f64
}

impl Trainer {
    /// A fresh run on `data`; the network is initialised from `config.seed`.
    pub fn new(config: Config, data: Split) -> Result<Self> {
        config.validate()?;
        if data.train.is_empty() || data.test.is_empty() {
            return Err(PcError::Config(
                "the training and test sets must not be empty".into(),
            ));
        }
        if data.train.pixels_per_image() != data.test.pixels_per_image() {
            return Err(PcError::Shape(
                "training and test images differ in size".into(),
            ));
        }
        let sizes = config.sizes(data.train.pixels_per_image(), data.train.classes());
        let init = match config.rule {
            Rule::Pc | Rule::BpThroughInference => Init::XavierUniform,
            Rule::Bp => Init::TorchDefault,
        };
        let mut net = Network::new(
            &sizes,
            &config.activations(sizes.len() - 1),
            config.form,
            init,
            config.seed,
        )?;
        net.set_energy(sizes.len() - 1, config.output_energy())?;
        let optimizer = Optimizer::new(config.optimizer())?;
        let classifier = match config.experiment {
            Experiment::Tradeoff => {
                let mut net = Network::new(
                    &[config.latent, data.train.classes()],
                    &[Activation::Identity],
                    PredictionForm::Post,
                    Init::XavierUniform,
                    config.seed.wrapping_add(1),
                )?;
                net.set_energy(1, LayerEnergy::categorical())?;
                let optimizer = Optimizer::new(config.optimizer())?;
                Some(Classifier { net, optimizer })
            }
            _ => None,
        };
        let order = permutation(data.train.len(), config.seed);
        Ok(Trainer {
            config,
            net,
            optimizer,
            data,
            order,
            cursor: 0,
            epoch: 0,
            step: 0,
            flops: Flops::default(),
            last: StepRecord::default(),
            classifier,
        })
    }

    /// The configuration of this run.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The network being trained.
    pub fn network(&self) -> &Network<F> {
        &self.net
    }

    /// The data this run trains and tests on.
    pub fn data(&self) -> &Split {
        &self.data
    }

    /// Replaces every block's `(W_l, b_l)`; shapes must match and values be finite, or
    /// nothing changes. The optimiser starts afresh.
    pub fn set_parameters(
        &mut self,
        params: Vec<(DMatrix<F>, nalgebra::DVector<F>)>,
    ) -> Result<()> {
        let mut net = self.net.clone();
        for (block, (w, b)) in net.blocks_mut().iter_mut().zip(params) {
            if w.shape() != block.weight.shape() || b.len() != block.bias.len() {
                return Err(PcError::Shape(
                    "a block's parameters do not fit the network".into(),
                ));
            }
            block.weight = w;
            block.bias = b;
        }
        net.validate()?;
        self.net = net;
        self.optimizer = Optimizer::new(self.config.optimizer())?;
        Ok(())
    }

    /// The record of the latest step.
    pub fn last_step(&self) -> &StepRecord {
        &self.last
    }

    /// Training steps per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        self.data.train.len().div_ceil(self.config.batch)
    }

    /// The next minibatch's indices; reshuffles at the end of an epoch.
    fn next_batch(&mut self) -> Vec<usize> {
        if self.cursor >= self.order.len() {
            self.epoch += 1;
            self.cursor = 0;
            self.optimizer.scale_lr(self.config.lr_decay);
            self.order = permutation(
                self.data.train.len(),
                self.config.seed.wrapping_add(self.epoch),
            );
        }
        let end = (self.cursor + self.config.batch).min(self.order.len());
        let batch = self.order[self.cursor..end].to_vec();
        self.cursor = end;
        batch
    }

    /// The batch's images randomly shifted (seeded by the run's seed and step), if the
    /// configuration asks for augmentation; the background is the darkest pixel value.
    fn augment(&self, x: DMatrix<F>) -> DMatrix<F> {
        if self.config.augment == 0 {
            return x;
        }
        let train = &self.data.train;
        let background = x.min().min(0.0);
        let seed = self
            .config
            .seed
            .wrapping_mul(0x9e37_79b9)
            .wrapping_add(self.step);
        shift_images(
            &x,
            train.rows(),
            train.cols(),
            self.config.augment,
            seed,
            background,
        )
    }

    /// One minibatch of learning. A non-finite energy or weight stops with an error and
    /// leaves the last finite weights in place.
    pub fn step(&mut self) -> Result<&StepRecord> {
        let indices = self.next_batch();
        let (x, labels) = self
            .data
            .train
            .batch::<F>(&indices, self.config.pixel_scale());
        let x = self.augment(x);
        let before = (
            self.net.clone(),
            self.optimizer.clone(),
            self.classifier.clone(),
        );
        let flops_before = self.flops.total();
        let outcome = self.learn(&x, &labels);
        let finite = self.net.validate().is_ok()
            && (self.classifier.iter()).all(|c| c.net.validate().is_ok());
        match outcome {
            Ok(record) if finite && record.loss.is_finite() && record.energy.is_finite() => {
                self.step += 1;
                self.last = StepRecord {
                    step: self.step,
                    epoch: self.epoch as f64 + self.cursor as f64 / self.order.len() as f64,
                    flops_step: self.flops.total() - flops_before,
                    flops: self.flops,
                    ..record
                };
                Ok(&self.last)
            }
            Ok(_) | Err(PcError::NonFinite(_)) => {
                (self.net, self.optimizer, self.classifier) = before;
                Err(PcError::NonFinite(format!(
                    "training diverged at step {} (the energy or a weight became NaN or infinite); \
                     the last finite weights are kept — lower the learning rates",
                    self.step + 1
                )))
            }
            Err(e) => {
                (self.net, self.optimizer, self.classifier) = before;
                Err(e)
            }
        }
    }

    /// The ends clamped during learning, and the batch matrices they hold.
    fn learn(&mut self, images: &DMatrix<F>, labels: &DMatrix<F>) -> Result<StepRecord> {
        let b = images.nrows();
        let (bottom, top) = match self.config.experiment {
            Experiment::Classify => (images, labels),
            Experiment::Generate => (labels, images),
            Experiment::Compress | Experiment::Tradeoff => (images, images),
        };
        let (grads, record) = match (self.config.rule, self.config.experiment) {
            (Rule::BpThroughInference, _) => self.bp_through_inference(images, labels)?,
            (Rule::Pc, Experiment::Tradeoff) => self.pc_tradeoff(images, labels)?,
            (Rule::Bp, _) => {
                let bp = bp_gradients(&self.net, bottom, top, &mut self.flops)?;
                let loss = per_sample(bp.loss, b);
                let record = StepRecord {
                    loss,
                    energy: loss,
                    ..StepRecord::default()
                };
                (bp.grads, record)
            }
            (Rule::Pc, Experiment::Compress) => {
                let initial = self.latent_init(b);
                let settled = infer(
                    &self.net,
                    Clamp {
                        input: None,
                        output: Some(top),
                    },
                    &self.config.inference(),
                    Some(&initial),
                    &mut self.flops,
                )?;
                self.pc_step(&settled, b)
            }
            (Rule::Pc, _) => {
                let settled = infer(
                    &self.net,
                    Clamp::both(bottom, top),
                    &self.config.inference(),
                    None,
                    &mut self.flops,
                )?;
                self.pc_step(&settled, b)
            }
        };
        self.optimizer
            .step(&mut self.net, &grads, &mut self.flops)?;
        Ok(record)
    }

    /// PC weight gradients (clean rule, or the tutorial's accumulated sum) and the record
    /// of the inference that produced them.
    fn pc_step(&mut self, settled: &Settled<F>, b: usize) -> (Gradients<F>, StepRecord) {
        let grads = match &settled.accumulated_grads {
            Some(sum) if self.config.accumulate => sum.clone(),
            _ => pc_gradients(&self.net, settled, &mut self.flops),
        };
        (
            grads,
            trace_record(&settled.energy_trace, self.net.depth(), b),
        )
    }

    /// PC on `(1−λ)·F + λ·E_c`: with the image at layer L and the label at the classifier,
    /// the latent settles under the decoder's energy F and the classifier's cross-entropy
    /// `E_c = CE(classifier(v_0), label)`; then every decoder block and the classifier take
    /// their local gradients at the settled state.
    fn pc_tradeoff(
        &mut self,
        images: &DMatrix<F>,
        labels: &DMatrix<F>,
    ) -> Result<(Gradients<F>, StepRecord)> {
        let b = images.nrows();
        let lambda = self.config.lambda;
        let decoder = weighted(&self.net, 1.0 - lambda)?;
        let classifier = weighted(&self.classifier()?.net, lambda)?;
        let readout = Readout {
            net: &classifier,
            target: labels,
        };
        let settled = settle_with_readout(
            &decoder,
            Clamp {
                input: None,
                output: Some(images),
            },
            &self.config.standard(),
            Some(&self.latent_init(b)),
            readout,
            &mut self.flops,
        )?;
        self.learn_classifier(readout, &settled.beliefs[0])?;
        let (grads, mut record) = self.pc_step(&settled, b);
        record.loss = record.energy_per_layer[0] + record.energy_per_layer[self.net.depth()];
        Ok((grads, record))
    }

    /// BP through inference: the latent settles on the decoder's energy alone (image
    /// clamped), then the outer loss
    /// `(1−λ)·E_L(decoder(v_0(T)), image) + λ·CE(classifier(v_0(T)), label)` (compress: the
    /// reconstruction term alone) is differentiated through every inference step. The reconstruction is the decoder's
    /// feedforward prediction from the latent, as at test time; the starting state is held
    /// fixed.
    fn bp_through_inference(
        &mut self,
        images: &DMatrix<F>,
        labels: &DMatrix<F>,
    ) -> Result<(Gradients<F>, StepRecord)> {
        let b = images.nrows();
        let lambda = match self.config.experiment {
            Experiment::Tradeoff => self.config.lambda,
            _ => 0.0,
        };
        let clamp = Clamp {
            input: None,
            output: Some(images),
        };
        let settings = self.config.standard();
        let initial = self.latent_init(b);
        let run = unroll(&self.net, clamp, &settings, Some(&initial), &mut self.flops)?;
        let latent = &run.beliefs()[0];
        let decoder = weighted(&self.net, 1.0 - lambda)?;
        let reconstruction = Readout {
            net: &decoder,
            target: images,
        }
        .evaluate(latent, &mut self.flops)?;
        let mut outer: Vec<DMatrix<F>> = self
            .net
            .sizes()
            .iter()
            .map(|&n| DMatrix::zeros(b, n))
            .collect();
        outer[0] = reconstruction.input;
        let mut loss = reconstruction.energy;
        if self.classifier.is_some() {
            let classifier = weighted(&self.classifier()?.net, lambda)?;
            let readout = Readout {
                net: &classifier,
                target: labels,
            };
            let ce = self.learn_classifier(readout, latent)?;
            outer[0] += ce.input;
            loss += ce.energy;
        }
        let grads = run
            .backward(
                &self.net,
                &outer,
                Some(&reconstruction.parameters),
                &mut self.flops,
            )?
            .parameters;
        let record = StepRecord {
            loss: per_sample(loss, b),
            ..trace_record(&run.energy_trace, self.net.depth(), b)
        };
        Ok((grads, record))
    }

    /// The tradeoff's classifier.
    fn classifier(&self) -> Result<&Classifier> {
        self.classifier.as_ref().ok_or_else(no_classifier)
    }

    /// One optimiser step of the classifier on its energy's gradient at the latent `v_0`
    /// (its local PC gradient and its BP gradient alike); returns that evaluation.
    fn learn_classifier(
        &mut self,
        readout: Readout<'_, F>,
        latent: &DMatrix<F>,
    ) -> Result<ReadoutGradients<F>> {
        let mut scratch = Flops::default();
        let evaluated = readout.evaluate(latent, &mut scratch)?;
        self.flops.learning += scratch.total();
        let head = self.classifier.as_mut().ok_or_else(no_classifier)?;
        head.optimizer
            .step(&mut head.net, &evaluated.parameters, &mut self.flops)?;
        Ok(evaluated)
    }

    /// Standard inference on one batch with every state kept: image and label clamped
    /// where the experiment clamps them during learning (the latent free in compress and
    /// tradeoff), for replaying how the beliefs settle.
    pub fn belief_trajectory(
        &self,
        images: &DMatrix<F>,
        labels: &DMatrix<F>,
    ) -> Result<Unrolled<F>> {
        let (clamp, initial) = match self.config.experiment {
            Experiment::Classify => (Clamp::both(images, labels), None),
            Experiment::Generate => (Clamp::both(labels, images), None),
            Experiment::Compress | Experiment::Tradeoff => (
                Clamp {
                    input: None,
                    output: Some(images),
                },
                Some(self.latent_init(images.nrows())),
            ),
        };
        let settings = Standard {
            accumulate_weight_grads: false,
            ..self.config.standard()
        };
        unroll(
            &self.net,
            clamp,
            &settings,
            initial.as_deref(),
            &mut Flops::default(),
        )
    }

    /// The starting beliefs of a free latent: zero latent, and the feedforward
    /// predictions from it for the layers below.
    fn latent_init(&self, b: usize) -> Vec<DMatrix<F>> {
        let zero = DMatrix::zeros(b, self.net.sizes()[0]);
        self.net.feedforward(&zero).unwrap_or_default()
    }

    /// Infers the free latent of a PC decoder for `images` (clamped at layer L) and
    /// returns the settled beliefs.
    pub fn infer_latent(&self, images: &DMatrix<F>) -> Result<Settled<F>> {
        let mut flops = Flops::default();
        infer(
            &self.net,
            Clamp {
                input: None,
                output: Some(images),
            },
            &Inference::Standard(Standard {
                accumulate_weight_grads: false,
                ..self.config.standard()
            }),
            Some(&self.latent_init(images.nrows())),
            &mut flops,
        )
    }

    /// Reconstructions of `images` (pixels in [0, 1]): the decoder's prediction from the
    /// inferred latent, or the BP autoencoder's output.
    pub fn reconstruct(&self, images: &DMatrix<F>) -> Result<DMatrix<F>> {
        match (self.config.experiment, self.config.rule) {
            (Experiment::Compress, Rule::Bp) => self.decode(images),
            (Experiment::Compress | Experiment::Tradeoff, _) => {
                self.decode(&self.infer_latent(images)?.beliefs[0])
            }
            _ => Err(PcError::Config(
                "reconstruction needs the compress or tradeoff experiment".into(),
            )),
        }
    }

    /// The expected top layer given layer 0: `m(μ_L)` of the feedforward prediction (the
    /// output energy's mean: the prediction itself for a Gaussian, σ(μ) for Bernoulli).
    fn decode(&self, bottom: &DMatrix<F>) -> Result<DMatrix<F>> {
        let mu = self.net.feedforward(bottom)?.pop().unwrap_or_default();
        let mut mean = mu.clone();
        if let Some(top) = self.net.blocks().last() {
            top.energy.mean(&mu, &mut mean, &mut 0);
        }
        Ok(mean)
    }

    /// The classifier's scores from a latent (tradeoff).
    fn classify_latent(&self, latent: &DMatrix<F>) -> Result<DMatrix<F>> {
        let scores = self.classifier()?.net.feedforward(latent)?;
        Ok(scores.last().cloned().unwrap_or_default())
    }

    /// What the test measures for `images`: the reconstruction (compress, tradeoff) and the
    /// class scores (classify, generate, tradeoff), from one inference of the latent.
    fn outputs(&self, images: &DMatrix<F>) -> Result<TestOutputs> {
        match self.config.experiment {
            Experiment::Compress => Ok((Some(self.reconstruct(images)?), None)),
            Experiment::Tradeoff => {
                let latent = &self.infer_latent(images)?.beliefs[0];
                Ok((
                    Some(self.decode(latent)?),
                    Some(self.classify_latent(latent)?),
                ))
            }
            Experiment::Classify | Experiment::Generate => {
                Ok((None, Some(self.class_scores(images)?)))
            }
        }
    }

    /// Class scores for `images`: the feedforward output (classify), the inferred class
    /// layer (generate) or the classifier read from the inferred latent (tradeoff), one row
    /// per image.
    pub fn class_scores(&self, images: &DMatrix<F>) -> Result<DMatrix<F>> {
        match self.config.experiment {
            Experiment::Classify => self.decode(images),
            Experiment::Tradeoff => self.classify_latent(&self.infer_latent(images)?.beliefs[0]),
            Experiment::Generate => {
                let classes = self.net.sizes()[0];
                let uniform = DMatrix::from_element(images.nrows(), classes, 1.0 / classes as F);
                let mut initial = self.net.feedforward(&uniform)?;
                let depth = self.net.depth();
                initial[depth] = images.clone();
                let settled = infer(
                    &self.net,
                    Clamp {
                        input: None,
                        output: Some(images),
                    },
                    &Inference::Standard(self.config.standard()),
                    Some(&initial),
                    &mut Flops::default(),
                )?;
                Ok(settled.beliefs[0].clone())
            }
            Experiment::Compress => Err(PcError::Config(
                "the compress experiment does not classify".into(),
            )),
        }
    }

    /// Images generated from each class in `labels` (generate): the feedforward prediction
    /// from the one-hot class.
    pub fn generate(&self, labels: &[usize]) -> Result<DMatrix<F>> {
        let classes = self.net.sizes()[0];
        if self.config.experiment != Experiment::Generate {
            return Err(PcError::Config(
                "generation needs the generate experiment".into(),
            ));
        }
        if let Some(&bad) = labels.iter().find(|&&c| c >= classes) {
            return Err(PcError::Config(format!(
                "class {bad} is out of range 0..{classes}"
            )));
        }
        let mut onehot = DMatrix::zeros(labels.len(), classes);
        for (i, &c) in labels.iter().enumerate() {
            onehot[(i, c)] = 1.0;
        }
        self.decode(&onehot)
    }

    /// Accuracy and confusion matrix (classify, generate, tradeoff) and reconstruction MSE
    /// (compress, tradeoff) on the whole test set, in batches.
    pub fn evaluate(&self) -> Result<Evaluation> {
        self.evaluate_on(&(0..self.data.test.len()).collect::<Vec<_>>())
    }

    /// [`evaluate`](Self::evaluate) on `n` test images spread evenly over the test set
    /// (a quick estimate while training, e.g. on the page).
    pub fn evaluate_sample(&self, n: usize) -> Result<Evaluation> {
        self.evaluate_on(&self.test_sample(n))
    }

    /// `n` test indices spread evenly over the (class-ordered) test set.
    pub fn test_sample(&self, n: usize) -> Vec<usize> {
        let len = self.data.test.len();
        let n = n.clamp(1, len.max(1));
        (0..n).map(|i| i * len / n).collect()
    }

    fn evaluate_on(&self, indices: &[usize]) -> Result<Evaluation> {
        let test = &self.data.test;
        let scale = self.config.pixel_scale();
        let chunks: Vec<Vec<usize>> = indices
            .chunks(self.config.batch.max(250))
            .map(<[usize]>::to_vec)
            .collect();
        let classes = test.classes();
        let mut confusion = vec![vec![0u32; classes]; classes];
        let (mut sse, mut decoded, mut classified) = (0.0f64, false, false);
        for idx in &chunks {
            let x = test.images::<F>(idx, scale);
            let (recon, scores) = self.outputs(&x)?;
            if let Some(recon) = recon {
                decoded = true;
                sse += (recon - &x).iter().map(|&d| f64::from(d * d)).sum::<f64>();
            }
            if let Some(scores) = scores {
                classified = true;
                for (row, &i) in idx.iter().enumerate() {
                    let predicted = argmax(scores.row(row).iter().copied());
                    confusion[usize::from(test.labels()[i])][predicted] += 1;
                }
            }
        }
        let correct: u32 = (0..classes).map(|c| confusion[c][c]).sum();
        Ok(Evaluation {
            accuracy: classified.then(|| f64::from(correct) / indices.len() as f64),
            confusion: classified.then_some(confusion),
            mse: decoded.then(|| sse / (indices.len() * test.pixels_per_image()) as f64),
        })
    }
}

/// The record of an inference from its energy trace: the final energies (the task loss is
/// layer L's) and the trace, per sample.
fn trace_record(trace: &[EnergyRecord<F>], depth: usize, b: usize) -> StepRecord {
    let last = trace.last().cloned();
    let energy_per_layer: Vec<f64> = last
        .as_ref()
        .map(|r| r.per_layer.iter().map(|&e| per_sample(e, b)).collect())
        .unwrap_or_default();
    let layers = energy_per_layer.len();
    StepRecord {
        loss: energy_per_layer.get(depth).copied().unwrap_or(f64::NAN),
        energy: last.map_or(f64::NAN, |r| per_sample(r.total, b)),
        energy_per_layer,
        energy_trace: trace.iter().map(|r| per_sample(r.total, b)).collect(),
        energy_trace_per_layer: (0..layers)
            .map(|l| {
                trace
                    .iter()
                    .map(|r| per_sample(r.per_layer[l], b))
                    .collect()
            })
            .collect(),
        ..StepRecord::default()
    }
}

/// The index of the largest value (the first on ties; NaN never wins).
pub fn argmax(values: impl Iterator<Item = F>) -> usize {
    values
        .enumerate()
        .fold(
            (0, F::NEG_INFINITY),
            |(bi, bv), (i, v)| if v > bv { (i, v) } else { (bi, bv) },
        )
        .0
}

impl Config {
    /// A configuration from `key = value` settings over `base` (CLI flags, URL
    /// parameters): keys are the field names (`-` may stand for `_`), values are numbers,
    /// `true`/`false`, comma-separated lists (`hidden=128,128`) or names.
    pub fn with_settings<'a>(
        &self,
        settings: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self> {
        let mut json = serde_json::to_value(self)
            .map_err(|e| PcError::Config(format!("cannot represent the configuration: {e}")))?;
        for (key, value) in settings {
            let key = key.replace('-', "_");
            let parsed = if key == "hidden" {
                let sizes: std::result::Result<Vec<usize>, _> = value
                    .split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| s.trim().parse::<usize>())
                    .collect();
                serde_json::to_value(sizes.map_err(|_| {
                    PcError::Config(format!(
                        "hidden must be comma-separated sizes like 128,128, got {value:?}"
                    ))
                })?)
                .unwrap_or_default()
            } else {
                serde_json::from_str(value)
                    .unwrap_or_else(|_| serde_json::Value::String(value.to_string()))
            };
            json[key.as_str()] = parsed;
            // Deserialise after every setting, so an error names the setting at fault.
            serde_json::from_value::<Config>(json.clone())
                .map_err(|e| PcError::Config(format!("setting {key}={value:?}: {e}")))?;
        }
        let config: Config =
            serde_json::from_value(json).map_err(|e| PcError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }
}

/// One point of the λ sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradeoffPoint {
    /// λ, the weight of the cross-entropy.
    pub lambda: f64,
    /// Test accuracy of the classifier read from the latent inferred from the image alone.
    pub accuracy: f64,
    /// Test reconstruction MSE per pixel.
    pub mse: f64,
    /// The total energy per sample at every state of the test-time inference (image alone)
    /// of the first test batch: the inference dynamics of the trained network.
    pub energy_trace: Vec<f64>,
}

/// Trains the tradeoff experiment of `config` (its rule, PC or BP through inference) for
/// `steps` minibatches at every λ in `lambdas`, each from the same initialisation, and
/// measures accuracy, reconstruction MSE (on `test_samples` test images spread over the
/// test set, or all of them) and the test-time energy trace.
pub fn sweep_tradeoff(
    config: &Config,
    data: &Split,
    lambdas: &[f64],
    steps: usize,
    test_samples: Option<usize>,
) -> Result<Vec<TradeoffPoint>> {
    lambdas
        .iter()
        .map(|&lambda| {
            let config = Config {
                experiment: Experiment::Tradeoff,
                lambda,
                ..config.clone()
            };
            let mut trainer = Trainer::new(config, data.clone())?;
            for _ in 0..steps {
                trainer.step()?;
            }
            let eval = match test_samples {
                Some(n) => trainer.evaluate_sample(n)?,
                None => trainer.evaluate()?,
            };
            let test = &trainer.data().test;
            let first: Vec<usize> = (0..test.len().min(trainer.config().batch)).collect();
            let images = test.images::<F>(&first, trainer.config().pixel_scale());
            let settled = trainer.infer_latent(&images)?;
            Ok(TradeoffPoint {
                lambda,
                accuracy: eval.accuracy.unwrap_or(f64::NAN),
                mse: eval.mse.unwrap_or(f64::NAN),
                energy_trace: (settled.energy_trace.iter())
                    .map(|r| per_sample(r.total, first.len()))
                    .collect(),
            })
        })
        .collect()
}
