//! Measurements of a network that are not part of learning: how closely PC's weight
//! gradients follow backprop's.

use crate::error::Result;
use crate::flops::Flops;
use crate::inference::{infer, Clamp, Inference};
use crate::learning::{bp_gradients, pc_gradients};
use crate::linalg::{to_f64, Real};
use crate::network::Gradients;
use crate::network::Network;
use nalgebra::DMatrix;

/// `cos(a, b) = a·b / (‖a‖ ‖b‖)` over all entries; undefined (NaN, `null` in JSON) when
/// either is zero: a zero vector has no direction to compare.
pub fn cosine<T: Real>(a: impl Iterator<Item = T>, b: impl Iterator<Item = T>) -> f64 {
    let (mut dot, mut aa, mut bb) = (0.0, 0.0, 0.0);
    for (x, y) in a.zip(b) {
        let (x, y) = (to_f64(x), to_f64(y));
        dot += x * y;
        aa += x * x;
        bb += y * y;
    }
    if aa == 0.0 || bb == 0.0 {
        f64::NAN
    } else {
        dot / (aa.sqrt() * bb.sqrt())
    }
}

/// Per block l, the cosine between the PC and BP gradients of `(W_l, b_l)` taken together
/// (NaN where either is zero).
pub fn gradient_cosines<T: Real>(pc: &Gradients<T>, bp: &Gradients<T>) -> Vec<f64> {
    pc.blocks
        .iter()
        .zip(&bp.blocks)
        .map(|(p, b)| {
            cosine(
                p.weight.iter().chain(p.bias.iter()).copied(),
                b.weight.iter().chain(b.bias.iter()).copied(),
            )
        })
        .collect()
}

/// PC (after `method`) against BP on one batch with both ends clamped: the per-block
/// gradient cosines. 1 means PC's update points exactly where backprop's does.
pub fn pc_bp_cosines<T: Real>(
    net: &Network<T>,
    x: &DMatrix<T>,
    y: &DMatrix<T>,
    method: &Inference,
) -> Result<Vec<f64>> {
    let mut flops = Flops::default();
    let settled = infer(net, Clamp::both(x, y), method, None, &mut flops)?;
    let pc = match &settled.accumulated_grads {
        Some(sum) => sum.clone(),
        None => pc_gradients(net, &settled, &mut flops),
    };
    let bp = bp_gradients(net, x, y, &mut flops)?;
    Ok(gradient_cosines(&pc, &bp.grads))
}
