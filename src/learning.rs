//! The two learning rules on the same network: the local PC rule at a settled state, and
//! backpropagation of the output energy through the feedforward pass. Both give `+∂/∂θ`
//! from the chain rule of [`crate::network::gradients`].

use crate::error::Result;
use crate::flops::Flops;
use crate::inference::Settled;
use crate::linalg::Real;
use crate::network::{backpropagate, check_same_batch, parameter_gradients, Gradients, Network};
use nalgebra::DMatrix;

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
    check_same_batch(x, y)?;
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
