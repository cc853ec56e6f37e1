//! Sampling from a PC network read as a generative model: a prior on layer 0 (the cause:
//! a class or a latent code), and below it every layer drawn around its prediction.
//!
//! The model behind PC's energy is
//!
//! `p(v_0, …, v_L) = p(v_0) · Π_{l=1..L} p(v_l | μ_l(v_{l−1}))`,
//!
//! with each layer's distribution the one its [energy](crate::energy) is the negative
//! log-likelihood of: Gaussian `N(μ_l, σ_l² I)`, categorical `Cat(softmax μ_l)`, Bernoulli
//! `Bern(σ(μ_l))`. The energy fixes the Gaussian precision to 1 (½‖ε‖²) for inference; the
//! variance that makes the beliefs most likely is learned separately ([`NoiseModel`]).
//!
//! **Ancestral sampling** ([`sample`]), with a noise scale τ ≥ 0 and `ξ ~ N(0, I)`:
//!
//! - `v_0 ~ p(v_0)`, or the one-hot class for a class-conditional sample;
//! - `v_l = m(μ_l(v_{l−1})) + τ σ_l ξ` for a Gaussian layer (`m` is the energy's mean:
//!   `μ` itself for a Gaussian, so `v_l = f(W_l v_{l−1} + b_l) + τ σ_l ξ` in the post form);
//!   a categorical or Bernoulli layer is drawn from its distribution when τ > 0;
//! - the image (layer L) is the mean `m(μ_L(v_{L−1}))` given the sampled layer above, or
//!   drawn like the others when [`Pixels::Sample`] asks for it.
//!
//! At τ = 0 every layer is its mean, so the sample is the deterministic prediction from
//! the prior's mean (for a class: exactly the feedforward generation). The random numbers
//! come from ChaCha8 seeded by the request's seed, on a stream per class: the same request
//! gives the same samples on every platform, and the same seed draws the same ξ at every
//! τ, so changing τ scales one sample's deviations rather than drawing new ones.

use crate::energy::{Distribution, LayerEnergy};
use crate::error::{PcError, Result};
use crate::experiment::End;
use crate::linalg::{real, to_f64, Real};
use crate::network::Network;
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The largest noise scale τ a request may ask for.
pub const MAX_NOISE: f64 = 4.0;
/// The most samples one request may draw.
pub const MAX_SAMPLES: usize = 1024;
/// The running averages' smallest weight on a new batch: `α_k = max(1/k, RUNNING_RATE)`
/// (an exact mean over the first 50 batches, then an exponential average over about the
/// last 50, which follows the weights as they learn).
pub const RUNNING_RATE: f64 = 0.02;

/// The distribution of layer 0, the top of the generative hierarchy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Prior {
    /// A class: `P(k) = π_k`, the training set's class frequencies.
    Categorical { probabilities: Vec<f64> },
    /// A latent code: `N(m, diag s²)`, fitted to the latents inferred during training.
    Gaussian { mean: Vec<f64>, variance: Vec<f64> },
}

impl Prior {
    /// The prior of a class layer: the frequency of each class among `labels`
    /// (uniform when there are none).
    pub fn class_frequencies(labels: &[u8], classes: usize) -> Prior {
        let mut counts = vec![0.0; classes];
        for &c in labels {
            if let Some(n) = counts.get_mut(usize::from(c)) {
                *n += 1.0;
            }
        }
        let total: f64 = counts.iter().sum();
        let probabilities = if total > 0.0 {
            counts.iter().map(|n| n / total).collect()
        } else {
            vec![1.0 / classes as f64; classes]
        };
        Prior::Categorical { probabilities }
    }

    /// The standard normal `N(0, I)` over `units`: a latent's prior before any is inferred.
    pub fn standard_normal(units: usize) -> Prior {
        Prior::Gaussian {
            mean: vec![0.0; units],
            variance: vec![1.0; units],
        }
    }

    /// The number of units of layer 0.
    fn units(&self) -> usize {
        match self {
            Prior::Categorical { probabilities } => probabilities.len(),
            Prior::Gaussian { mean, .. } => mean.len(),
        }
    }

    /// The prior's mean `E[v_0]`: `π` (the expected one-hot) or `m`.
    fn mean(&self) -> &[f64] {
        match self {
            Prior::Categorical { probabilities } => probabilities,
            Prior::Gaussian { mean, .. } => mean,
        }
    }
}

/// What the generative model learns beyond the weights: the prior of layer 0 and the
/// variance `σ_l²` of every layer 1..=L.
///
/// The maximum-likelihood variance of a Gaussian layer with `n_l` units, given beliefs
/// `v` of `B` samples and their predictions, sets
/// `∂/∂σ² Σ_b [ (n_l/2) log σ² + ‖v_{b,l} − μ_{b,l}‖² / (2σ²) ] = 0`, so
///
impl crate::linalg::Overwrite for NoiseModel {
    /// A handful of numbers per layer: a plain copy.
    fn overwrite(&mut self, src: &Self) {
        self.clone_from(src);
    }
}

/// `σ_l² = (1 / (B n_l)) Σ_b ‖v_{b,l} − m(μ_l(v_{b,l−1}))‖²`,
///
/// the mean squared prediction error of the layer ([`layer_variances`]). The beliefs are
/// those each learning step settles on (the E-step of EM), so the trainer
/// [observes](NoiseModel::observe) every step's batch at no extra inference, and keeps a
/// running average. A latent prior is fitted the same way to the inferred latents:
/// `m = mean of v_0`, `s² = mean of v_0² − m²`, per unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseModel {
    /// The distribution of layer 0.
    pub prior: Prior,
    /// `σ_l²` for layers 1..=L (entry l−1); estimated for every layer, used for the
    /// Gaussian ones.
    pub variances: Vec<f64>,
    /// How many batches the running averages have seen (0: the starting values).
    pub batches: u64,
}

/// `σ_l² = (1 / (B n_l)) Σ_b ‖v_{b,l} − m(μ_l(v_{b,l−1}))‖²` for every layer 1..=L of the
/// beliefs `[v_0, …, v_L]` (see [`NoiseModel`]).
pub fn layer_variances<T: Real>(net: &Network<T>, beliefs: &[DMatrix<T>]) -> Result<Vec<f64>> {
    Ok(BatchMoments::of(net, beliefs)?.variances(net))
}

/// The sums over a batch's samples that the noise model averages: per layer 1..=L the
/// squared prediction errors `Σ_b ‖v_{b,l} − m(μ_l(v_{b,l−1}))‖²`, and per unit of layer 0
/// `Σ_b v_{b,0}` and `Σ_b v_{b,0}²`. Sums add up over the parts of a batch (data
/// parallelism), so replicas that observe the same total keep the same model.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchMoments {
    /// Samples summed over.
    pub samples: usize,
    /// `Σ_b ‖v_{b,l} − m(μ_l)‖²` for layers 1..=L (entry l−1).
    pub squared_errors: Vec<f64>,
    /// `Σ_b v_{b,0}` per unit.
    pub latent_sum: Vec<f64>,
    /// `Σ_b v_{b,0}²` per unit.
    pub latent_squares: Vec<f64>,
}

impl BatchMoments {
    /// The sums of one batch of beliefs `[v_0, …, v_L]` of `net`.
    pub fn of<T: Real>(net: &Network<T>, beliefs: &[DMatrix<T>]) -> Result<Self> {
        if beliefs.len() != net.depth() + 1 {
            return Err(PcError::Shape(format!(
                "{} layers of beliefs for a network of {} layers",
                beliefs.len(),
                net.depth() + 1
            )));
        }
        let squared_errors = (1..=net.depth())
            .map(|l| {
                let mean = layer_mean(net, l, &beliefs[l - 1])?;
                net.check_batch(&beliefs[l], l, "belief")?;
                Ok(beliefs[l]
                    .iter()
                    .zip(mean.iter())
                    .fold(0.0, |a, (&v, &m)| a + to_f64(v - m).powi(2)))
            })
            .collect::<Result<Vec<f64>>>()?;
        let v0 = &beliefs[0];
        let sum = |f: fn(f64) -> f64| -> Vec<f64> {
            v0.column_iter()
                .map(|c| c.iter().map(|&x| f(to_f64(x))).sum::<f64>())
                .collect()
        };
        Ok(BatchMoments {
            samples: v0.nrows(),
            squared_errors,
            latent_sum: sum(|x| x),
            latent_squares: sum(|x| x * x),
        })
    }

    /// Adds another part's sums (of the same network).
    pub fn add(&mut self, other: &BatchMoments) -> Result<()> {
        if self.squared_errors.len() != other.squared_errors.len()
            || self.latent_sum.len() != other.latent_sum.len()
        {
            return Err(PcError::Shape("moments of different networks".into()));
        }
        self.samples += other.samples;
        for (a, b) in [
            (&mut self.squared_errors, &other.squared_errors),
            (&mut self.latent_sum, &other.latent_sum),
            (&mut self.latent_squares, &other.latent_squares),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
        Ok(())
    }

    /// `σ_l²` of this batch: the squared errors over `B n_l`.
    fn variances<T: Real>(&self, net: &Network<T>) -> Vec<f64> {
        (self.squared_errors.iter())
            .zip(&net.sizes()[1..])
            .map(|(&sse, &n)| sse / (self.samples * n) as f64)
            .collect()
    }
}

/// `m(μ_l(v_{l−1}))`: the mean of layer l given the layer above (in the sampling order).
fn layer_mean<T: Real>(net: &Network<T>, l: usize, above: &DMatrix<T>) -> Result<DMatrix<T>> {
    let mu = net.predict(l, above)?;
    let mut mean = mu.clone();
    net.blocks()[l - 1].energy.mean(&mu, &mut mean, &mut 0);
    Ok(mean)
}

/// `a ← (1 − α) a + α b`.
fn blend(a: &mut [f64], b: &[f64], alpha: f64) {
    for (a, &b) in a.iter_mut().zip(b) {
        *a += alpha * (b - *a);
    }
}

impl NoiseModel {
    /// The starting model of `net` (before any batch): the given prior, and for every
    /// layer the variance its energy implies for one sample, `1/p` (σ² = 1 for ½‖ε‖²).
    pub fn new<T: Real>(net: &Network<T>, prior: Prior) -> NoiseModel {
        let sizes = net.sizes();
        let variances = net
            .blocks()
            .iter()
            .zip(&sizes[1..])
            .map(|(b, &n)| 1.0 / to_f64(b.energy.precision::<T>(1, n)))
            .collect();
        NoiseModel {
            prior,
            variances,
            batches: 0,
        }
    }

    /// Takes one batch of beliefs `[v_0, …, v_L]` into the running averages, with weight
    /// `α = max(1/k, RUNNING_RATE)` on the k-th batch: the variances (see [`NoiseModel`])
    /// and, for a Gaussian prior, the latent's mean and variance per unit.
    pub fn observe<T: Real>(&mut self, net: &Network<T>, beliefs: &[DMatrix<T>]) -> Result<()> {
        self.observe_moments(net, &BatchMoments::of(net, beliefs)?)
    }

    /// [`observe`](Self::observe) from a batch's [`BatchMoments`] (summed over the parts of
    /// a batch, when it was split).
    pub fn observe_moments<T: Real>(
        &mut self,
        net: &Network<T>,
        batch: &BatchMoments,
    ) -> Result<()> {
        if batch.samples == 0 || batch.squared_errors.len() != self.variances.len() {
            return Err(PcError::Shape(
                "moments that do not fit the noise model".into(),
            ));
        }
        self.batches += 1;
        let alpha = (1.0 / self.batches as f64).max(RUNNING_RATE);
        blend(&mut self.variances, &batch.variances(net), alpha);
        if let Prior::Gaussian { mean, variance } = &mut self.prior {
            if batch.latent_sum.len() != mean.len() {
                return Err(PcError::Shape(
                    "moments that do not fit the latent prior".into(),
                ));
            }
            let b = batch.samples as f64;
            let moment = |sums: &[f64]| -> Vec<f64> { sums.iter().map(|s| s / b).collect() };
            let (m1, m2) = (moment(&batch.latent_sum), moment(&batch.latent_squares));
            let mut second: Vec<f64> = mean
                .iter()
                .zip(&*variance)
                .map(|(m, s)| s + m * m)
                .collect();
            blend(mean, &m1, alpha);
            blend(&mut second, &m2, alpha);
            for ((s, &sq), &m) in variance.iter_mut().zip(&second).zip(&*mean) {
                *s = (sq - m * m).max(0.0);
            }
        }
        Ok(())
    }

    /// Checks that the model's shapes fit `net`: one variance per layer, a prior over
    /// layer 0's units (a Gaussian one with a variance per unit).
    fn check_shapes<T: Real>(&self, net: &Network<T>) -> Result<()> {
        let bad = |why: String| Err(PcError::Shape(format!("the noise model: {why}")));
        let n0 = net.sizes()[0];
        if self.variances.len() != net.depth() {
            return bad(format!(
                "{} variances for {} layers",
                self.variances.len(),
                net.depth()
            ));
        }
        if self.prior.units() != n0 {
            return bad(format!(
                "the prior has {} units, layer 0 has {n0}",
                self.prior.units()
            ));
        }
        if let Prior::Gaussian { mean, variance } = &self.prior {
            if variance.len() != mean.len() {
                return bad("the latent prior needs a variance per unit".into());
            }
        }
        Ok(())
    }

    /// Checks the model against `net` and the kind of its layer 0: the shapes, a prior of
    /// the right kind, every number finite, variances ≥ 0, probabilities ≥ 0 summing to 1.
    pub fn validate<T: Real>(&self, net: &Network<T>, bottom: End) -> Result<()> {
        self.check_shapes(net)?;
        let bad = |why: &str| Err(PcError::Config(format!("the noise model: {why}")));
        let nonnegative = |xs: &[f64]| xs.iter().all(|x| x.is_finite() && *x >= 0.0);
        if !nonnegative(&self.variances) {
            return bad("a variance is negative or not finite");
        }
        match (&self.prior, bottom) {
            (Prior::Categorical { probabilities }, End::Label) => {
                let sum: f64 = probabilities.iter().sum();
                if !nonnegative(probabilities) || (sum - 1.0).abs() > 1e-6 {
                    return bad("the class probabilities must be ≥ 0 and sum to 1");
                }
            }
            (Prior::Gaussian { mean, variance }, End::Latent) => {
                if !nonnegative(variance) || !mean.iter().all(|m| m.is_finite()) {
                    return bad("the latent prior needs a finite mean and variance per unit");
                }
            }
            _ => return bad("its prior does not fit layer 0 of this experiment"),
        }
        Ok(())
    }
}

/// What the image (layer L) of a sample shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pixels {
    /// The mean `m(μ_L)` given the sampled layer above (a clean image).
    Mean,
    /// Drawn from the image's distribution too (Gaussian pixels: `m + τ σ_L ξ`).
    Sample,
}

/// One request for samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SampleRequest {
    /// The class clamped at layer 0 (a class-conditional sample), or `None` for `v_0` drawn
    /// from the prior.
    pub class: Option<usize>,
    /// How many samples, 1..=[`MAX_SAMPLES`].
    pub count: usize,
    /// The noise scale τ in `[0, MAX_NOISE]` (0: the deterministic mean prediction).
    pub noise: f64,
    /// What the image shows.
    pub pixels: Pixels,
    /// The random generator's seed.
    pub seed: u64,
}

impl SampleRequest {
    /// Checks the request against the model: the count and noise bounds, and a class only
    /// where layer 0 is a class, within range.
    pub fn validate(&self, model: &NoiseModel) -> Result<()> {
        if !(1..=MAX_SAMPLES).contains(&self.count) {
            return Err(PcError::Config(format!(
                "the number of samples must be from 1 to {MAX_SAMPLES}, got {}",
                self.count
            )));
        }
        if !(self.noise.is_finite() && (0.0..=MAX_NOISE).contains(&self.noise)) {
            return Err(PcError::Config(format!(
                "the noise scale must be from 0 to {MAX_NOISE}, got {}",
                self.noise
            )));
        }
        match (self.class, &model.prior) {
            (None, _) => Ok(()),
            (Some(k), Prior::Categorical { probabilities }) if k < probabilities.len() => Ok(()),
            (Some(k), Prior::Categorical { probabilities }) => Err(PcError::Config(format!(
                "class {k} is out of range 0..{}",
                probabilities.len()
            ))),
            (Some(_), Prior::Gaussian { .. }) => Err(PcError::Config(
                "this network's layer 0 is a latent code, not a class: sample from the prior"
                    .into(),
            )),
        }
    }
}

/// A standard normal draw (Box–Muller).
pub(crate) fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.gen::<f64>(); // (0, 1]
    let u2: f64 = rng.gen();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The index drawn from `probabilities` (which sum to about 1) with one uniform draw.
fn categorical(rng: &mut ChaCha8Rng, probabilities: impl Iterator<Item = f64>) -> usize {
    let u: f64 = rng.gen();
    let mut last = 0;
    let mut cumulative = 0.0;
    for (k, p) in probabilities.enumerate() {
        cumulative += p;
        last = k;
        if u < cumulative {
            return k;
        }
    }
    last
}

/// Each row of `probabilities` replaced by a one-hot draw from it.
fn one_hot_draws<T: Real>(rng: &mut ChaCha8Rng, probabilities: &DMatrix<T>) -> DMatrix<T> {
    let mut out = DMatrix::zeros(probabilities.nrows(), probabilities.ncols());
    for (i, row) in probabilities.row_iter().enumerate() {
        out[(i, categorical(rng, row.iter().map(|&p| to_f64(p))))] = T::one();
    }
    out
}

/// A layer drawn around its mean: `m + τ σ ξ` (Gaussian), or, when `τ > 0`, a draw from
/// `Bern(m)` or `Cat(m)` per sample (the mean itself at τ = 0).
fn draw<T: Real>(
    rng: &mut ChaCha8Rng,
    energy: &LayerEnergy,
    mean: DMatrix<T>,
    sd: f64,
    noise: f64,
) -> DMatrix<T> {
    match energy.distribution {
        Distribution::Gaussian(_) => {
            let scale = noise * sd;
            mean.map(|m| {
                let xi = normal(rng);
                if scale > 0.0 {
                    m + real::<T>(scale * xi)
                } else {
                    m
                }
            })
        }
        _ if noise == 0.0 => mean,
        Distribution::Bernoulli => mean.map(|p| {
            if rng.gen::<f64>() < to_f64(p) {
                T::one()
            } else {
                T::zero()
            }
        }),
        Distribution::Categorical => one_hot_draws(rng, &mean),
    }
}

/// `count` ancestral samples `[v_0, …, v_L]` (each `count × n_l`) of `net` under `model`
/// (see the module's equations). The request is validated first.
pub fn sample<T: Real>(
    net: &Network<T>,
    model: &NoiseModel,
    request: &SampleRequest,
) -> Result<Vec<DMatrix<T>>> {
    request.validate(model)?;
    model.check_shapes(net)?;
    let n0 = net.sizes()[0];
    let count = request.count;
    let noise = request.noise;
    let mut rng = ChaCha8Rng::seed_from_u64(request.seed);
    rng.set_stream(request.class.map_or(0, |k| k as u64 + 1));
    let prior_mean = DMatrix::from_fn(count, n0, |_, j| real::<T>(model.prior.mean()[j]));
    let top = match (request.class, &model.prior) {
        (Some(k), _) => {
            DMatrix::from_fn(count, n0, |_, j| if j == k { T::one() } else { T::zero() })
        }
        (None, _) if noise == 0.0 => prior_mean,
        (None, Prior::Categorical { .. }) => one_hot_draws(&mut rng, &prior_mean),
        (None, Prior::Gaussian { mean, variance }) => DMatrix::from_fn(count, n0, |_, j| {
            real::<T>(mean[j] + noise * variance[j].sqrt() * normal(&mut rng))
        }),
    };
    let mut layers = vec![top];
    for l in 1..=net.depth() {
        let mean = layer_mean(net, l, &layers[l - 1])?;
        let v = if l == net.depth() && request.pixels == Pixels::Mean {
            mean
        } else {
            let energy = net.blocks()[l - 1].energy;
            draw(
                &mut rng,
                &energy,
                mean,
                model.variances[l - 1].sqrt(),
                noise,
            )
        };
        layers.push(v);
    }
    Ok(layers)
}
