//! Weight gradients of the network's blocks and the chain rule through them
//! (backpropagation of error gradients from layer L down).
//!
//! Both give `+∂/∂θ` (the sign of BP's `∂loss/∂θ`), so an optimiser step descends.
//! For block l at input point u with error gradient `g_l = ∂E_l/∂μ_l`:
//! `δ_l = g_l ⊙ f'(z_l)` (post) or `g_l` (pre), `∂W_l = δ_lᵀ·a_{l−1}`, `∂b_l = Σ_batch δ_l`,
//! where `a_{l−1} = u` (post) or `f(u)` (pre).

use super::{BlockPoint, Network};
use crate::linalg::{Overwrite, Real};
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

impl<T: Real> Overwrite for BlockGradient<T> {
    fn overwrite(&mut self, src: &Self) {
        self.weight.overwrite(&src.weight);
        self.bias.overwrite(&src.bias);
    }
}

impl<T: Real> Overwrite for Gradients<T> {
    fn overwrite(&mut self, src: &Self) {
        self.blocks.overwrite(&src.blocks);
    }
}

impl<T: Real> Gradients<T> {
    /// Whether every entry is finite.
    pub fn is_finite(&self) -> bool {
        (self.blocks.iter()).all(|g| {
            crate::linalg::all_finite(g.weight.as_slice())
                && crate::linalg::all_finite(g.bias.as_slice())
        })
    }

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

/// The error gradients of backpropagation, layer-indexed: `g_L = ∂ℓ/∂μ_L` given, then
/// `g_l = J_m(μ_l)·J_{l+1}(v̂_l)ᵀ g_{l+1} = ∂ℓ/∂μ_l` down to l = 1 (`g[0]` is left empty),
/// where `J_m` is the identity on a Gaussian layer (`v̂_l = μ_l`) and the mean's Jacobian on
/// a distribution layer (`v̂_l = m(μ_l)`).
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
        let energy = &net.blocks()[l - 1].energy;
        if energy.is_distribution() {
            let mut through_mean = below.clone();
            energy.mean_tangent(&points[l - 1].mu, &below, &mut through_mean, flops);
            below = through_mean;
        }
        g[l] = below;
    }
    g
}
