//! Training: epochs of minibatches on a data split, for the experiments of the
//! [experiment table](crate::experiment). The trainer works in f32 (speed); exactness
//! is the engine's business, checked in f64. It does no timing: the caller (CLI or page)
//! measures wall time.
//!
//! - [`Trainer`] (here): the network, its optimiser and one learning step per rule;
//! - [`evaluation`]: what a trained network does with test images;
//! - [`record`]: what a step and an evaluation measure.

mod evaluation;
mod generative;
mod record;

pub use evaluation::argmax;
pub use generative::FIT_IMAGES;
pub use record::{Evaluation, StepRecord};

use crate::activation::Activation;
use crate::config::Config;
use crate::cost::Budget;
use crate::data::{permutation, shift_images, Split};
use crate::energy::LayerEnergy;
use crate::error::{PcError, Result};
use crate::experiment::{End, Rule};
use crate::flops::Flops;
use crate::inference::{infer, Clamp, Settled};
use crate::learning::{bp_gradients, pc_gradients};
use crate::network::{Gradients, Init, Network, PredictionForm};
use crate::optimizer::Optimizer;
use crate::sampling::NoiseModel;
use crate::unrolled::{settle_with_readout, unroll, Readout, ReadoutGradients};
use nalgebra::DMatrix;
use record::{per_sample, trace_record};

/// The scalar type of training.
pub type F = f32;

/// Beliefs of every layer, `[v_0, .., v_L]`.
type Beliefs = Vec<DMatrix<F>>;

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
    /// The prior and per-layer noise of a network that can be sampled.
    noise: Option<NoiseModel>,
}

/// A linear classifier `latent → classes` with a categorical energy, and its optimiser.
#[derive(Clone)]
struct Classifier {
    net: Network<F>,
    optimizer: Optimizer<F>,
}

impl Classifier {
    /// A fresh linear classifier `latent → classes` (seeded apart from the decoder).
    fn new(config: &Config, classes: usize) -> Result<Self> {
        let mut net = Network::new(
            &[config.latent, classes],
            &[Activation::Identity],
            PredictionForm::Post,
            Init::XavierUniform,
            config.seed.wrapping_add(1),
        )?;
        net.set_energy(1, LayerEnergy::categorical())?;
        let optimizer = Optimizer::new(config.optimizer())?;
        Ok(Classifier { net, optimizer })
    }
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

impl Trainer {
    /// A fresh run on `data` within the page's budget ([`Budget::PAGE`]); the network is
    /// initialised from `config.seed`.
    pub fn new(config: Config, data: Split) -> Result<Self> {
        Self::with_budget(config, data, &Budget::PAGE)
    }

    /// A fresh run on `data`, refused before anything is allocated if one step of it is
    /// over `budget`.
    pub fn with_budget(config: Config, data: Split, budget: &Budget) -> Result<Self> {
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
        let (pixels, classes) = (data.train.pixels_per_image(), data.train.classes());
        crate::cost::check(&config, pixels, classes, budget)?;
        let sizes = config.sizes(pixels, classes);
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
        let classifier = if config.experiment.spec().classifier {
            Some(Classifier::new(&config, data.train.classes())?)
        } else {
            None
        };
        let noise = generative::prior(&config, &data, &sizes).map(|p| NoiseModel::new(&net, p));
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
            noise,
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
            self.noise.clone(),
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
                (self.net, self.optimizer, self.classifier, self.noise) = before;
                Err(PcError::NonFinite(format!(
                    "training diverged at step {} (the energy or a weight became NaN or infinite); \
                     the last finite weights are kept — lower the learning rates",
                    self.step + 1
                )))
            }
            Err(e) => {
                (self.net, self.optimizer, self.classifier, self.noise) = before;
                Err(e)
            }
        }
    }

    /// The data at one end of the network during learning (`None`: a free latent).
    fn data_at<'a>(
        end: End,
        images: &'a DMatrix<F>,
        labels: &'a DMatrix<F>,
    ) -> Option<&'a DMatrix<F>> {
        match end {
            End::Image => Some(images),
            End::Label => Some(labels),
            End::Latent => None,
        }
    }

    /// The ends clamped during learning, as the experiment table says, and the starting
    /// beliefs when layer 0 is a free latent.
    fn learning_clamp<'a>(
        &self,
        images: &'a DMatrix<F>,
        labels: &'a DMatrix<F>,
    ) -> Result<(Clamp<'a, F>, Option<Beliefs>)> {
        let spec = self.config.experiment.spec();
        let clamp = Clamp {
            input: Self::data_at(spec.bottom, images, labels),
            output: Self::data_at(spec.top, images, labels),
        };
        let initial = match clamp.input {
            None => Some(self.latent_init(images.nrows())?),
            Some(_) => None,
        };
        Ok((clamp, initial))
    }

    /// One learning step on a batch by the configured rule.
    fn learn(&mut self, images: &DMatrix<F>, labels: &DMatrix<F>) -> Result<StepRecord> {
        let b = images.nrows();
        let spec = self.config.experiment.spec();
        let (grads, record) = match self.config.rule {
            Rule::BpThroughInference => self.bp_through_inference(images, labels)?,
            Rule::Pc if spec.classifier => self.pc_tradeoff(images, labels)?,
            Rule::Bp => {
                // BP trains the feedforward map from what is observed: an autoencoder
                // from the image where layer 0 is a latent.
                let (bottom, top) = if self.config.autoencoder() {
                    (Some(images), Some(images))
                } else {
                    (
                        Self::data_at(spec.bottom, images, labels),
                        Self::data_at(spec.top, images, labels),
                    )
                };
                let (Some(bottom), Some(top)) = (bottom, top) else {
                    return Err(PcError::Config(
                        "BP needs data at both ends of the network".into(),
                    ));
                };
                if self.noise.is_some() {
                    let beliefs = self.explained(images, labels)?;
                    self.observe(&beliefs)?;
                }
                let bp = bp_gradients(&self.net, bottom, top, &mut self.flops)?;
                let loss = per_sample(bp.loss, b);
                let record = StepRecord {
                    loss,
                    energy: loss,
                    ..StepRecord::default()
                };
                (bp.grads, record)
            }
            Rule::Pc => {
                let (clamp, initial) = self.learning_clamp(images, labels)?;
                let settled = infer(
                    &self.net,
                    clamp,
                    &self.config.inference(),
                    initial.as_deref(),
                    &mut self.flops,
                )?;
                self.observe(&settled.beliefs)?;
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
            Some(&self.latent_init(b)?),
            readout,
            &mut self.flops,
        )?;
        self.learn_classifier(readout, &settled.beliefs[0])?;
        self.observe(&settled.beliefs)?;
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
        let lambda = if self.classifier.is_some() {
            self.config.lambda
        } else {
            0.0
        };
        let clamp = Clamp {
            input: None,
            output: Some(images),
        };
        let settings = self.config.standard();
        let initial = self.latent_init(b)?;
        let run = unroll(&self.net, clamp, &settings, Some(&initial), &mut self.flops)?;
        self.observe(run.beliefs())?;
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

    /// The starting beliefs of a free latent: zero latent, and the feedforward
    /// predictions from it for the layers below.
    fn latent_init(&self, b: usize) -> Result<Vec<DMatrix<F>>> {
        let zero = DMatrix::zeros(b, self.net.sizes()[0]);
        self.net.feedforward(&zero)
    }
}
