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
mod learning_step;
mod record;

pub use evaluation::argmax;
pub use generative::FIT_IMAGES;
pub use learning_step::{Contribution, Flat, Shard, MAX_SHARDS};
pub use record::{Evaluation, StepRecord};

use crate::activation::Activation;
use crate::config::Config;
use crate::cost::Budget;
use crate::data::{permutation, shift_images, Split};
use crate::energy::LayerEnergy;
use crate::error::{PcError, Result};
use crate::experiment::Rule;
use crate::flops::Flops;
use crate::inference::Clamp;
use crate::linalg::Overwrite;
use crate::network::{Init, Network, PredictionForm};
use crate::optimizer::Optimizer;
use crate::sampling::NoiseModel;
use learning_step::{data_at, latent_init, LearningStep};
use nalgebra::DMatrix;

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
    /// The state before the last step, written over in place each step.
    rollback: Option<Box<Rollback>>,
}

/// What a step changes and a diverging step must undo: the parameters, the optimisers'
/// state (Adam's moments and step count), the noise model and the FLOP counter.
struct Rollback {
    net: Network<F>,
    optimizer: Optimizer<F>,
    classifier: Option<Classifier>,
    noise: Option<NoiseModel>,
    flops: Flops,
}

impl Overwrite for Classifier {
    fn overwrite(&mut self, src: &Self) {
        self.net.overwrite(&src.net);
        self.optimizer.overwrite(&src.optimizer);
    }
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
        for l in 1..sizes.len() - 1 {
            net.set_energy(l, config.hidden_energy())?;
        }
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
            rollback: None,
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

    /// The trade-off's classifier (read from the latent), if the experiment has one.
    pub fn classifier_network(&self) -> Option<&Network<F>> {
        self.classifier.as_ref().map(|c| &c.net)
    }

    /// Whether this run's steps gain from being split over workers
    /// ([`crate::cost::split_pays`]).
    pub fn split_pays(&self) -> bool {
        let train = &self.data.train;
        crate::cost::split_pays(&self.config, train.pixels_per_image(), train.classes())
    }

    /// What an evaluation while training ([`Spec::test_samples`] test images) costs in
    /// training steps: its FLOPs over a step's ([`crate::cost::evaluation_flops`]), so a
    /// caller can refresh the test metric as often as a share of training time allows.
    ///
    /// [`Spec::test_samples`]: crate::experiment::Spec::test_samples
    pub fn evaluation_share(&self) -> f64 {
        let (train, test) = (&self.data.train, &self.data.test);
        let (pixels, classes) = (train.pixels_per_image(), train.classes());
        let spec = self.config.experiment.spec();
        let samples = spec.test_samples.map_or(test.len(), |n| n.min(test.len()));
        let step = crate::cost::estimate(&self.config, pixels, classes).step_flops;
        crate::cost::evaluation_flops(&self.config, pixels, classes, samples) / step
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

    /// The order of the training images this epoch: minibatches are its consecutive
    /// slices. It depends on the seed and the epoch alone, so runs of one seed (the runs
    /// of a comparison) learn from identical batches.
    pub fn epoch_order(&self) -> &[usize] {
        &self.order
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
        let contribution = self.contribute(Shard::WHOLE)?;
        self.apply(&contribution)
    }

    /// This replica's contribution to the next step: the next minibatch (the same in every
    /// replica of a run: same seed, same order, same augmentation) is drawn, and `shard`'s
    /// rows of it learn. The network does not change until [`Trainer::apply`].
    pub fn contribute(&mut self, shard: Shard) -> Result<Contribution> {
        let indices = self.next_batch();
        let (x, labels) = self
            .data
            .train
            .batch::<F>(&indices, self.config.pixel_scale());
        let x = self.augment(x);
        let rows = shard.rows(x.nrows());
        let learning = LearningStep {
            config: &self.config,
            net: &self.net,
            classifier: self.classifier_network(),
            whole: indices.len(),
            noise: self.noise.is_some(),
        };
        let outcome = if rows.is_empty() {
            Ok(learning.nothing())
        } else if rows.len() == x.nrows() {
            learning.contribute(&x, &labels)
        } else {
            let part = |m: &DMatrix<F>| m.rows(rows.start, rows.len()).into_owned();
            learning.contribute(&part(&x), &part(&labels))
        };
        outcome.map_err(|e| match e {
            PcError::NonFinite(_) => self.diverged(),
            e => e,
        })
    }

    /// Applies the sum of every replica's contribution to this step (the whole minibatch's
    /// gradients): one optimiser step of the network (and the classifier). A non-finite
    /// energy or weight stops with an error and leaves the run as before this call (its
    /// parameters, optimiser state, noise model and FLOP count): a later good step gives
    /// what it gives a run that never saw this one.
    pub fn apply(&mut self, total: &Contribution) -> Result<&StepRecord> {
        self.save_rollback();
        let flops_before = self.flops.total();
        self.flops.inference += total.flops.inference;
        self.flops.learning += total.flops.learning;
        self.flops.bp += total.flops.bp;
        let outcome = self.update(total);
        let resolved = self.net.validate().is_ok()
            && within_resolution(&self.net)
            && (self.classifier.iter())
                .all(|c| c.net.validate().is_ok() && within_resolution(&c.net));
        let record = &total.record;
        match outcome {
            Ok(()) if resolved && record.loss.is_finite() && record.energy.is_finite() => {
                self.step += 1;
                self.last = StepRecord {
                    step: self.step,
                    epoch: self.epoch as f64 + self.cursor as f64 / self.order.len() as f64,
                    flops_step: self.flops.total() - flops_before,
                    flops: self.flops,
                    ..record.clone()
                };
                Ok(&self.last)
            }
            Ok(()) | Err(PcError::NonFinite(_)) => {
                self.roll_back();
                Err(self.diverged())
            }
            Err(e) => {
                self.roll_back();
                Err(e)
            }
        }
    }

    /// Copies what a step changes into the rollback state (in place after the first step).
    fn save_rollback(&mut self) {
        match self.rollback.as_deref_mut() {
            Some(r) => {
                r.net.overwrite(&self.net);
                r.optimizer.overwrite(&self.optimizer);
                r.classifier.overwrite(&self.classifier);
                r.noise.overwrite(&self.noise);
                r.flops = self.flops;
            }
            None => {
                self.rollback = Some(Box::new(Rollback {
                    net: self.net.clone(),
                    optimizer: self.optimizer.clone(),
                    classifier: self.classifier.clone(),
                    noise: self.noise.clone(),
                    flops: self.flops,
                }))
            }
        }
    }

    /// Restores the state saved before the step (swapped in: no copy).
    fn roll_back(&mut self) {
        if let Some(r) = self.rollback.as_deref_mut() {
            std::mem::swap(&mut self.net, &mut r.net);
            std::mem::swap(&mut self.optimizer, &mut r.optimizer);
            std::mem::swap(&mut self.classifier, &mut r.classifier);
            std::mem::swap(&mut self.noise, &mut r.noise);
            self.flops = r.flops;
        }
    }

    /// One optimiser step of the network and of the classifier by `total`'s gradients; the
    /// noise model takes in the batch's beliefs (before the weights move).
    fn update(&mut self, total: &Contribution) -> Result<()> {
        if let (Some(model), Some(moments)) = (self.noise.as_mut(), &total.moments) {
            model.observe_moments(&self.net, moments)?;
        }
        self.optimizer
            .step(&mut self.net, &total.grads, &mut self.flops)?;
        match (self.classifier.as_mut(), &total.classifier) {
            (Some(head), Some(grads)) => head.optimizer.step(&mut head.net, grads, &mut self.flops),
            (None, None) => Ok(()),
            _ => Err(PcError::Shape(
                "the contribution's classifier does not match the run".into(),
            )),
        }
    }

    /// The error of a step that diverged.
    fn diverged(&self) -> PcError {
        PcError::NonFinite(format!(
            "training diverged at step {} (the energy or a weight became NaN or infinite, or a \
             weight grew past {MAX_PARAMETER:.1e}, beyond what f32 resolves); the last good \
             weights are kept — lower the learning rates",
            self.step + 1
        ))
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
            input: data_at(spec.bottom, images, labels),
            output: data_at(spec.top, images, labels),
        };
        let initial = match clamp.input {
            None => Some(self.latent_init(images.nrows())?),
            Some(_) => None,
        };
        Ok((clamp, initial))
    }

    /// The tradeoff's classifier.
    fn classifier(&self) -> Result<&Classifier> {
        self.classifier.as_ref().ok_or_else(no_classifier)
    }

    /// The starting beliefs of a free latent: zero latent, and the feedforward
    /// predictions from it for the layers below.
    fn latent_init(&self, b: usize) -> Result<Vec<DMatrix<F>>> {
        latent_init(&self.net, b)
    }
}

/// The largest parameter magnitude a step may leave: `1/ε` of f32 (2^23 ≈ 8.4·10^6). A
/// weight past it changes a prediction it feeds in steps (its ulp) of 1 or more, coarser
/// than the data's whole range, so the prediction errors no longer carry the data: the
/// step diverged though every number is finite (Adam at a learning rate of 10^9 moves
/// every weight by about 10^9 in its first step).
pub const MAX_PARAMETER: F = 1.0 / F::EPSILON;

/// Whether every parameter of `net` is within [`MAX_PARAMETER`].
fn within_resolution(net: &Network<F>) -> bool {
    net.largest_parameter() <= MAX_PARAMETER
}
