//! Layered generative networks: layer 0 is the data, block l predicts layer l from
//! layer l−1, and each layer's belief is scored by its [`LayerEnergy`].
//!
//! Two prediction forms, chosen per network:
//! - [`PredictionForm::Post`]: `μ_l = f(W_l v_{l−1} + b_l)` (Torch2PC, the tutorial's MNIST nets);
//! - [`PredictionForm::Pre`]: `μ_l = W_l f(v_{l−1}) + b_l` (the tutorial's gradient notebook).
//!
//! `W_l` has torch's shape `[n_l][n_{l−1}]`; batches are `B × n` matrices (rows = samples),
//! so a prediction is `μ_l = f(V_{l−1} W_lᵀ + 1 b_lᵀ)`, one product per block.

use crate::activation::Activation;
use crate::energy::{LayerEnergy, Reduction};
use crate::error::{PcError, Result};
use crate::linalg::{
    all_finite, column_sums, ensure_shape, hadamard, mul, mul_transposed, real, transposed_mul,
    Overwrite, Real,
};
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

pub mod gradients;

pub(crate) use gradients::{backpropagate, parameter_gradients};
pub use gradients::{BlockGradient, Gradients};

/// Where a block applies its nonlinearity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictionForm {
    /// `μ_l = f(W_l v_{l−1} + b_l)`.
    Post,
    /// `μ_l = W_l f(v_{l−1}) + b_l`.
    Pre,
}

impl crate::label::Labelled for PredictionForm {
    fn label(&self) -> &'static str {
        match self {
            PredictionForm::Post => "μ = f(W v + b)",
            PredictionForm::Pre => "μ = W f(v) + b",
        }
    }
}

/// How the weights are drawn (biases always follow torch's default `U(±1/√fan_in)`,
/// as the tutorial keeps torch's biases when it re-initialises weights).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// torch's `nn.Linear` default: `U(±1/√fan_in)`.
    TorchDefault,
    /// Glorot: `U(±√(6/(fan_in + fan_out)))`.
    XavierUniform,
    /// He, for ReLU: `U(±√(6/fan_in))`.
    KaimingUniform,
}

/// Block l: the prediction of layer l from layer l−1, and the energy of layer l.
#[derive(Clone, Debug, PartialEq)]
pub struct Block<T: Real> {
    /// `W_l`, `n_l × n_{l−1}`.
    pub weight: DMatrix<T>,
    /// `b_l`, length `n_l`.
    pub bias: DVector<T>,
    /// The nonlinearity f of this block.
    pub activation: Activation,
    /// The energy of layer l's belief under μ_l.
    pub energy: LayerEnergy,
}

/// A block linearised at an input point u: the prediction μ and what its derivatives need.
///
/// - post form: `arg = z = u Wᵀ + b`, `input = u`, `μ = f(z)`, `slope = f'(z)`;
/// - pre form: `arg = u`, `input = f(u)`, `μ = f(u) Wᵀ + b`, `slope = f'(u)`.
#[derive(Clone, Debug, Default)]
pub(crate) struct BlockPoint<T: Real> {
    pub(crate) arg: DMatrix<T>,
    pub(crate) input: DMatrix<T>,
    pub(crate) slope: DMatrix<T>,
    pub(crate) mu: DMatrix<T>,
}

impl<T: Real> BlockPoint<T> {
    pub(crate) fn empty() -> Self {
        let e = || DMatrix::zeros(0, 0);
        BlockPoint {
            arg: e(),
            input: e(),
            slope: e(),
            mu: e(),
        }
    }
}

impl<T: Real> Block<T> {
    /// Linearises the block at input `u`: computes μ(u) and the slopes, reusing `pt`'s buffers.
    pub(crate) fn linearise(
        &self,
        form: PredictionForm,
        u: &DMatrix<T>,
        pt: &mut BlockPoint<T>,
        flops: &mut u64,
    ) {
        let (batch, n_out) = (u.nrows(), self.weight.nrows());
        ensure_shape(&mut pt.mu, batch, n_out);
        match form {
            PredictionForm::Post => {
                ensure_shape(&mut pt.arg, batch, n_out);
                ensure_shape(&mut pt.slope, batch, n_out);
                pt.input.clone_from(u);
                mul_transposed(&mut pt.arg, u, &self.weight, T::zero(), flops);
                add_bias(&mut pt.arg, &self.bias, flops);
                self.activation
                    .evaluate(&pt.arg, &mut pt.mu, &mut pt.slope, flops);
            }
            PredictionForm::Pre => {
                ensure_shape(&mut pt.input, batch, u.ncols());
                ensure_shape(&mut pt.slope, batch, u.ncols());
                pt.arg.clone_from(u);
                self.activation
                    .evaluate(u, &mut pt.input, &mut pt.slope, flops);
                mul_transposed(&mut pt.mu, &pt.input, &self.weight, T::zero(), flops);
                add_bias(&mut pt.mu, &self.bias, flops);
            }
        }
    }

    /// `δ = ∂E/∂(W·input + b)` from the error gradient `g = ∂E/∂μ`:
    /// `δ = g ⊙ f'(z)` (post) or `δ = g` (pre).
    pub(crate) fn delta(
        &self,
        form: PredictionForm,
        pt: &BlockPoint<T>,
        g: &DMatrix<T>,
        out: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        ensure_shape(out, g.nrows(), g.ncols());
        match form {
            PredictionForm::Post => hadamard(out, g, &pt.slope, flops),
            PredictionForm::Pre => out.copy_from(g),
        }
    }

    /// The vector-Jacobian product `J(u)ᵀ g` from `δ`: `δ W` (post) or `(δ W) ⊙ f'(u)` (pre).
    pub(crate) fn input_gradient(
        &self,
        form: PredictionForm,
        pt: &BlockPoint<T>,
        delta: &DMatrix<T>,
        out: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        ensure_shape(out, delta.nrows(), self.weight.ncols());
        mul(out, delta, &self.weight, T::zero(), flops);
        if form == PredictionForm::Pre {
            *flops += out.len() as u64;
            out.component_mul_assign(&pt.slope);
        }
    }

    /// `∂W = δᵀ·input + β·∂W`, `∂b = Σ_batch δ + β·∂b`.
    pub(crate) fn parameter_gradient(
        &self,
        pt: &BlockPoint<T>,
        delta: &DMatrix<T>,
        grad: &mut BlockGradient<T>,
        beta: T,
        flops: &mut u64,
    ) {
        transposed_mul(&mut grad.weight, delta, &pt.input, beta, flops);
        column_sums(&mut grad.bias, delta, beta, flops);
    }
}

/// `z += 1 bᵀ` (the bias of every sample).
fn add_bias<T: Real>(z: &mut DMatrix<T>, b: &DVector<T>, flops: &mut u64) {
    *flops += z.len() as u64;
    let rows = z.nrows().max(1);
    // Column by column over the storage: a plain slice loop, which vectorises.
    for (col, &bj) in z.as_mut_slice().chunks_exact_mut(rows).zip(b.iter()) {
        col.iter_mut().for_each(|x| *x += bj);
    }
}

/// Checks that two batches have the same number of samples.
pub(crate) fn check_same_batch<T: Real>(a: &DMatrix<T>, b: &DMatrix<T>) -> Result<()> {
    if a.nrows() != b.nrows() {
        return Err(PcError::Shape(format!(
            "batch sizes differ: {} vs {} samples",
            a.nrows(),
            b.nrows()
        )));
    }
    Ok(())
}

/// A network of L blocks over layers 0..L.
#[derive(Clone, Debug, PartialEq)]
pub struct Network<T: Real> {
    blocks: Vec<Block<T>>,
    form: PredictionForm,
}

impl<T: Real> Overwrite for Block<T> {
    fn overwrite(&mut self, src: &Self) {
        self.weight.overwrite(&src.weight);
        self.bias.overwrite(&src.bias);
        (self.activation, self.energy) = (src.activation, src.energy);
    }
}

impl<T: Real> Overwrite for Network<T> {
    fn overwrite(&mut self, src: &Self) {
        self.blocks.overwrite(&src.blocks);
        self.form = src.form;
    }
}

impl<T: Real> Network<T> {
    /// A freshly initialised network with layer sizes `sizes = [n_0, .., n_L]` and one
    /// activation per block. Hidden energies are `½‖ε‖²`, the output energy too (change
    /// them with [`Network::set_energy`]). Deterministic in `seed`.
    pub fn new(
        sizes: &[usize],
        activations: &[Activation],
        form: PredictionForm,
        init: Init,
        seed: u64,
    ) -> Result<Self> {
        if sizes.len() < 2 {
            return Err(PcError::Config(format!(
                "a network needs at least an input and an output layer, got {} layer(s)",
                sizes.len()
            )));
        }
        if activations.len() != sizes.len() - 1 {
            return Err(PcError::Shape(format!(
                "{} layers need {} activations, got {}",
                sizes.len(),
                sizes.len() - 1,
                activations.len()
            )));
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut uniform = |bound: f64| -> T { real(bound * (2.0 * rng.gen::<f64>() - 1.0)) };
        let blocks = sizes
            .windows(2)
            .zip(activations)
            .map(|(pair, &activation)| {
                let (fan_in, fan_out) = (pair[0], pair[1]);
                let bound = match init {
                    Init::TorchDefault => 1.0 / (fan_in as f64).sqrt(),
                    Init::XavierUniform => (6.0 / (fan_in + fan_out) as f64).sqrt(),
                    Init::KaimingUniform => (6.0 / fan_in as f64).sqrt(),
                };
                // Row-major draw order, as torch fills a [n_out][n_in] tensor.
                let weight = DMatrix::from_row_iterator(
                    fan_out,
                    fan_in,
                    (0..fan_in * fan_out)
                        .map(|_| uniform(bound))
                        .collect::<Vec<_>>(),
                );
                let bias_bound = 1.0 / (fan_in as f64).sqrt();
                let bias =
                    DVector::from_iterator(fan_out, (0..fan_out).map(|_| uniform(bias_bound)));
                Block {
                    weight,
                    bias,
                    activation,
                    energy: LayerEnergy::gaussian(Reduction::HalfSse),
                }
            })
            .collect();
        Self::from_blocks(blocks, form)
    }

    /// A network from given blocks; checks that they chain and are finite.
    pub fn from_blocks(blocks: Vec<Block<T>>, form: PredictionForm) -> Result<Self> {
        let net = Network { blocks, form };
        net.validate()?;
        Ok(net)
    }

    /// Checks that the network is non-empty, its blocks chain, and its parameters are finite.
    pub fn validate(&self) -> Result<()> {
        if self.blocks.is_empty() {
            return Err(PcError::Config("a network needs at least one block".into()));
        }
        for (i, b) in self.blocks.iter().enumerate() {
            let l = i + 1;
            if b.weight.nrows() == 0 || b.weight.ncols() == 0 {
                return Err(PcError::Shape(format!(
                    "block {l} has an empty weight matrix"
                )));
            }
            if b.bias.len() != b.weight.nrows() {
                return Err(PcError::Shape(format!(
                    "block {l}: bias has {} entries, W has {} rows",
                    b.bias.len(),
                    b.weight.nrows()
                )));
            }
            if i > 0 && b.weight.ncols() != self.blocks[i - 1].weight.nrows() {
                return Err(PcError::Shape(format!(
                    "block {l}: W has {} columns but layer {} has {} units",
                    b.weight.ncols(),
                    i,
                    self.blocks[i - 1].weight.nrows()
                )));
            }
            if !(all_finite(b.weight.as_slice()) && all_finite(b.bias.as_slice())) {
                return Err(PcError::NonFinite(format!(
                    "block {l} has a non-finite parameter"
                )));
            }
            if !b.energy.scale.is_finite() {
                return Err(PcError::NonFinite(format!(
                    "layer {l} has a non-finite energy scale"
                )));
            }
            if let crate::activation::Activation::LeakyRelu { slope } = b.activation {
                if !slope.is_finite() {
                    return Err(PcError::NonFinite(format!(
                        "block {l} has a non-finite leaky slope"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The largest parameter magnitude, `max |W_l|, |b_l|` over every block (0 for none).
    pub fn largest_parameter(&self) -> T {
        (self.blocks.iter())
            .flat_map(|b| b.weight.iter().chain(b.bias.iter()))
            .fold(T::zero(), |largest, &p| largest.max(p.abs()))
    }

    /// The number of blocks L.
    pub fn depth(&self) -> usize {
        self.blocks.len()
    }

    /// The layer sizes `[n_0, .., n_L]`.
    pub fn sizes(&self) -> Vec<usize> {
        std::iter::once(self.blocks[0].weight.ncols())
            .chain(self.blocks.iter().map(|b| b.weight.nrows()))
            .collect()
    }

    /// The prediction form.
    pub fn form(&self) -> PredictionForm {
        self.form
    }

    /// The blocks 1..L (index l−1 is block l).
    pub fn blocks(&self) -> &[Block<T>] {
        &self.blocks
    }

    /// The blocks, mutably, for optimisers (which keep every shape).
    pub(crate) fn blocks_mut(&mut self) -> &mut [Block<T>] {
        &mut self.blocks
    }

    /// Sets the energy of layer `l` (1..=L).
    pub fn set_energy(&mut self, layer: usize, energy: LayerEnergy) -> Result<()> {
        let depth = self.depth();
        if !energy.scale.is_finite() {
            return Err(PcError::NonFinite(format!("energy scale of layer {layer}")));
        }
        match self.blocks.get_mut(layer.wrapping_sub(1)) {
            Some(b) => {
                b.energy = energy;
                Ok(())
            }
            None => Err(PcError::Config(format!(
                "layer {layer} has no energy; energies belong to layers 1..={depth}"
            ))),
        }
    }

    /// Checks that `m` is a finite, non-empty batch for layer `layer`.
    pub fn check_batch(&self, m: &DMatrix<T>, layer: usize, what: &str) -> Result<()> {
        let sizes = self.sizes();
        let Some(&n) = sizes.get(layer) else {
            return Err(PcError::Shape(format!("{what}: there is no layer {layer}")));
        };
        if m.nrows() == 0 {
            return Err(PcError::Shape(format!("{what}: the batch is empty")));
        }
        if m.ncols() != n {
            return Err(PcError::Shape(format!(
                "{what}: layer {layer} has {n} units, got {} columns",
                m.ncols()
            )));
        }
        if !all_finite(m.as_slice()) {
            return Err(PcError::NonFinite(format!(
                "{what} contains NaN or infinity"
            )));
        }
        Ok(())
    }

    /// The blocks linearised along the feedforward pass `v̂_0 = x`, `v̂_l = μ_l(v̂_{l−1})`.
    /// A hidden layer's feedforward value is the mean of its prediction, `v̂_l = m(μ_l)`
    /// (a softmax or sigmoid for a distribution layer, `μ_l` itself for a Gaussian one).
    pub(crate) fn feedforward_points(&self, x: &DMatrix<T>, flops: &mut u64) -> Vec<BlockPoint<T>> {
        let mut points: Vec<BlockPoint<T>> = Vec::with_capacity(self.depth());
        for (l, block) in self.blocks.iter().enumerate() {
            let mut pt = BlockPoint::empty();
            let below = match points.last() {
                None => Cow::Borrowed(x),
                Some(p) => self.hidden_mean(l, &p.mu, flops),
            };
            block.linearise(self.form, &below, &mut pt, flops);
            points.push(pt);
        }
        points
    }

    /// `m(μ_l)` of hidden layer `l` (1..L): borrowed unchanged for a Gaussian layer.
    pub(crate) fn hidden_mean<'a>(
        &self,
        l: usize,
        mu: &'a DMatrix<T>,
        flops: &mut u64,
    ) -> Cow<'a, DMatrix<T>> {
        let energy = &self.blocks[l - 1].energy;
        if !energy.is_distribution() {
            return Cow::Borrowed(mu);
        }
        let mut mean = mu.clone();
        energy.mean(mu, &mut mean, flops);
        Cow::Owned(mean)
    }

    /// `E_l(μ_l, v_l)` of layer `l` (1..=L): [`LayerEnergy::evaluate_hidden`] on a hidden
    /// layer (a distribution belief's divergence), [`LayerEnergy::evaluate`] on the output
    /// (whose data need no entropy term); writes `ε_l` into `eps`.
    pub fn layer_energy(
        &self,
        l: usize,
        mu: &DMatrix<T>,
        v: &DMatrix<T>,
        eps: &mut DMatrix<T>,
        flops: &mut u64,
    ) -> T {
        let energy = &self.blocks[l - 1].energy;
        if l < self.depth() {
            energy.evaluate_hidden(mu, v, eps, flops)
        } else {
            energy.evaluate(mu, v, eps, flops)
        }
    }

    /// Whether some hidden layer (1..L−1) is a distribution layer (categorical, Bernoulli).
    pub fn has_distribution_hidden(&self) -> bool {
        let depth = self.depth();
        self.blocks[..depth - 1]
            .iter()
            .any(|b| b.energy.is_distribution())
    }

    /// The prediction of layer `l` (1..=L) from the belief below it, `μ_l(v_{l−1})`.
    pub fn predict(&self, l: usize, below: &DMatrix<T>) -> Result<DMatrix<T>> {
        if l == 0 || l > self.depth() {
            return Err(PcError::Config(format!(
                "layer {l} is not predicted (1..={})",
                self.depth()
            )));
        }
        self.check_batch(below, l - 1, "belief")?;
        let mut point = BlockPoint::empty();
        self.blocks[l - 1].linearise(self.form, below, &mut point, &mut 0);
        Ok(point.mu)
    }

    /// The energy of the output layer L.
    pub fn output_energy(&self) -> LayerEnergy {
        self.blocks[self.blocks.len() - 1].energy
    }

    /// The feedforward prediction of the output layer, `μ_L(v̂_{L−1})` from `v̂_0 = x`.
    pub fn predict_top(&self, x: &DMatrix<T>) -> Result<DMatrix<T>> {
        self.check_batch(x, 0, "input")?;
        let mut points = self.feedforward_points(x, &mut 0);
        Ok(points.pop().map_or_else(|| x.clone(), |p| p.mu))
    }

    /// The feedforward values `[v̂_0 = x, v̂_1, .., v̂_L]` with `v̂_l = m(μ_l(v̂_{l−1}))` for
    /// hidden layers and the output's prediction `v̂_L = μ_L(v̂_{L−1})`.
    pub fn feedforward(&self, x: &DMatrix<T>) -> Result<Vec<DMatrix<T>>> {
        self.check_batch(x, 0, "input")?;
        let points = self.feedforward_points(x, &mut 0);
        let depth = self.depth();
        Ok(std::iter::once(x.clone())
            .chain(points.iter().enumerate().map(|(i, p)| match i + 1 {
                l if l < depth => self.hidden_mean(l, &p.mu, &mut 0).into_owned(),
                _ => p.mu.clone(),
            }))
            .collect())
    }
}
