//! Weight gradients: the local PC rule at a settled state, and backpropagation.
//!
//! Both give `+∂/∂θ` (the sign of BP's `∂loss/∂θ`), so an optimiser step descends.
//! For block l at input point u with error gradient `g_l = ∂E_l/∂μ_l`:
//! `δ_l = g_l ⊙ f'(z_l)` (post) or `g_l` (pre), `∂W_l = δ_lᵀ·a_{l−1}`, `∂b_l = Σ_batch δ_l`,
//! where `a_{l−1} = u` (post) or `f(u)` (pre).

use crate::error::Result;
use crate::flops::Flops;
use crate::inference::Settled;
use crate::linalg::Real;
use crate::network::{BlockPoint, Network};
use nalgebra::{DMatrix, DVector};

/// The gradient of one block's parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockGradient<T: Real> {
    /// `∂/∂W_l`, `n_l × n_{l−1}`.
    pub weight: DMatrix<T>,
    /// `∂/∂b_l`, length `n_l`.
    pub bias: DVector<T>,
}

/// Gradients of all blocks (index l−1 is block l).
#[derive(Clone, Debug, PartialEq)]
pub struct Gradients<T: Real> {
    /// One entry per block.
    pub blocks: Vec<BlockGradient<T>>,
}

impl<T: Real> Gradients<T> {
    /// Zero gradients shaped like `net`'s parameters.
    pub fn zeros(net: &Network<T>) -> Self {
        Gradients {
            blocks: net
                .blocks()
                .iter()
                .map(|b| BlockGradient {
                    weight: DMatrix::zeros(b.weight.nrows(), b.weight.ncols()),
                    bias: DVector::zeros(b.bias.len()),
                })
                .collect(),
        }
    }
}

/// `∂W_l, ∂b_l` for every block from its linearisation point and error gradient `g_l`
/// (`g[l]`, layer-indexed; `g[0]` is unused). Adds into `grads` scaled by `beta` first.
pub(crate) fn parameter_gradients<T: Real>(
    net: &Network<T>,
    points: &[BlockPoint<T>],
    g: &[DMatrix<T>],
    grads: &mut Gradients<T>,
    beta: T,
    flops: &mut u64,
) {
    let mut delta = DMatrix::zeros(0, 0);
    for (l, (block, pt)) in net.blocks().iter().zip(points).enumerate() {
        block.delta(net.form(), pt, &g[l + 1], &mut delta, flops);
        block.parameter_gradient(pt, &delta, &mut grads.blocks[l], beta, flops);
    }
}

/// The local PC weight gradients at the settled state: for every block, `∂F/∂θ_l` from
/// the error gradient and linearisation point that the inference method prescribes
/// (Torch2PC's choices for exact, fixed-prediction and strict; the final state for standard).
pub fn pc_gradients<T: Real>(
    net: &Network<T>,
    settled: &Settled<T>,
    flops: &mut Flops,
) -> Gradients<T> {
    let mut grads = Gradients::zeros(net);
    parameter_gradients(
        net,
        &settled.points,
        &settled.error_gradients,
        &mut grads,
        T::zero(),
        &mut flops.learning,
    );
    grads
}

/// The error gradients of backpropagation, layer-indexed: `g_L = ∂ℓ/∂μ_L` given, then
/// `g_l = J_{l+1}(v̂_l)ᵀ g_{l+1} = ∂ℓ/∂v̂_l` down to l = 1 (`g[0]` is left empty).
pub(crate) fn backpropagate<T: Real>(
    net: &Network<T>,
    points: &[BlockPoint<T>],
    g_out: DMatrix<T>,
    flops: &mut u64,
) -> Vec<DMatrix<T>> {
    let depth = net.depth();
    let mut g = vec![DMatrix::zeros(0, 0); depth + 1];
    g[depth] = g_out;
    let mut delta = DMatrix::zeros(0, 0);
    for l in (1..depth).rev() {
        let block = &net.blocks()[l];
        block.delta(net.form(), &points[l], &g[l + 1], &mut delta, flops);
        let mut below = DMatrix::zeros(0, 0);
        block.input_gradient(net.form(), &points[l], &delta, &mut below, flops);
        g[l] = below;
    }
    g
}

/// The result of backpropagation on a batch.
#[derive(Clone, Debug)]
pub struct Backprop<T: Real> {
    /// The task loss `ℓ = E_L(v̂_L, y)` at the feedforward prediction.
    pub loss: T,
    /// The network's output `v̂_L`.
    pub output: DMatrix<T>,
    /// `∂ℓ/∂θ` for every block.
    pub grads: Gradients<T>,
}

/// Backpropagation on the same architecture and loss: the output layer's energy
/// `ℓ = E_L(v̂_L, y)` differentiated through the feedforward pass.
pub fn bp_gradients<T: Real>(
    net: &Network<T>,
    x: &DMatrix<T>,
    y: &DMatrix<T>,
    flops: &mut Flops,
) -> Result<Backprop<T>> {
    net.validate()?;
    net.check_batch(x, 0, "input")?;
    net.check_batch(y, net.depth(), "target")?;
    crate::inference::check_same_batch(x, y)?;
    let counter = &mut flops.bp;
    let points = net.feedforward_points(x, counter);
    let out = &net.blocks()[net.depth() - 1];
    let mu = &points[net.depth() - 1].mu;
    let mut eps = DMatrix::zeros(mu.nrows(), mu.ncols());
    let loss = out.energy.evaluate(mu, y, &mut eps, counter);
    let mut g_out = eps.clone();
    out.energy.error_gradient(&eps, &mut g_out, counter);
    let g = backpropagate(net, &points, g_out, counter);
    let mut grads = Gradients::zeros(net);
    parameter_gradients(net, &points, &g, &mut grads, T::zero(), counter);
    Ok(Backprop {
        loss,
        output: mu.clone(),
        grads,
    })
}
