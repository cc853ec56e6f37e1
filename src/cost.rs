//! What a configuration costs before anything runs: the floating-point operations of one
//! training step and the bytes its network, optimiser and inference hold, checked against
//! a [`Budget`], so that no setting, saved model or sweep can lock the page for minutes or
//! exhaust a tab's memory. The estimate counts the products that dominate (2·m·n·k each):
//! with `S = Σ_l n_{l−1}·n_l` weights and a batch of B,
//!
//! - BP: a forward pass, the backward pass and the weight gradient: `≈ 6·B·S`;
//! - PC: every inference step predicts the layers above a free one and sends their errors
//!   back, `≈ 4·B·S'` with `S'` the weights of blocks whose input is free (block 1 is left
//!   out when layer 0 is clamped: its prediction is computed once), for T steps, then the
//!   weight gradient: `≈ B·(4·S'·T + 2·n_0·n_1 + 4·S)` (plus `2·B·S·T` when accumulating);
//! - BP through inference: the forward inference and its reverse, `≈ 12·B·S·T`.
//!
//! An evaluation on N test images ([`evaluation_flops`]) predicts the image's end from the
//! other: a feedforward pass, `2·N·S`, where the image is the bottom layer (the label read
//! on top) or the network is a BP autoencoder; else the bottom layer (latent or class) is
//! inferred with the image clamped on top, T steps in which every block settles, then
//! predicted from: `≈ N·(4·T + 2)·S`.
//!
//! `tests/cost.rs` pins the estimate against the engine's own FLOP counter.

use crate::config::Config;
use crate::error::{PcError, Result};
use crate::experiment::{End, Rule};

/// The cost of one training step of a configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cost {
    /// Floating-point operations of one step.
    pub step_flops: f64,
    /// The weights `S`: about the numbers a step split over workers exchanges (its
    /// gradient, summed and sent back).
    pub weights: f64,
    /// Bytes the run holds: parameters with their gradients and optimiser state, and the
    /// beliefs, errors and linearisations of one batch (every state, when BP runs through
    /// the inference).
    pub bytes: f64,
}

/// How much one run may cost.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Budget {
    /// The most FLOPs of one training step.
    pub step_flops: f64,
    /// The most bytes a run may hold.
    pub bytes: f64,
    /// The most FLOPs of one long operation (a λ sweep).
    pub total_flops: f64,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

impl Budget {
    /// The page's budget: the largest preset step (compression, ~12 GFLOP: about a second
    /// in a browser) with headroom, and a quarter of wasm32's 4 GiB for one run; a sweep of
    /// about ten minutes at 10 GFLOP/s.
    pub const PAGE: Budget = Budget {
        step_flops: 24e9,
        bytes: GIB,
        total_flops: 6e12,
    };
    /// The command line's: native code on a workstation.
    pub const NATIVE: Budget = Budget {
        step_flops: 1e12,
        bytes: 16.0 * GIB,
        total_flops: 1e16,
    };
}

/// The cost of one training step of `config` on images of `pixels` and `classes` classes.
pub fn estimate(config: &Config, pixels: usize, classes: usize) -> Cost {
    let sizes = config.sizes(pixels, classes);
    let weights: f64 = sizes.windows(2).map(|p| (p[0] * p[1]) as f64).sum();
    let units: f64 = sizes.iter().map(|&n| n as f64).sum();
    let (b, t) = (config.batch as f64, config.steps as f64);
    let step_flops = match config.rule {
        Rule::Bp => 6.0 * b * weights,
        Rule::Pc => {
            let first = (sizes[0] * sizes[1]) as f64;
            let clamped_input = config.experiment.spec().bottom != End::Latent;
            let settling = if clamped_input {
                weights - first
            } else {
                weights
            };
            let once = if clamped_input { 2.0 * first } else { 0.0 };
            let accumulate = if config.accumulate {
                2.0 * t * weights
            } else {
                0.0
            };
            b * (4.0 * settling * t + once + 4.0 * weights + accumulate)
        }
        Rule::BpThroughInference => 12.0 * b * weights * t,
    };
    // Parameters: weights, gradients, two Adam moments and the last finite copy; one batch
    // of every layer: beliefs, errors, error gradients, deltas, momenta, linearisations.
    let kept_states = match config.rule {
        Rule::BpThroughInference => t + 1.0,
        _ => 1.0,
    };
    let floats = 5.0 * weights + b * units * (12.0 + 4.0 * kept_states);
    Cost {
        step_flops,
        weights,
        bytes: 4.0 * floats,
    }
}

/// The floating-point operations of evaluating `config` on `samples` test images of
/// `pixels` and `classes` classes: `2·N·S` for a feedforward read-out, `N·(4·T + 2)·S`
/// where the bottom layer is inferred first (module docs).
pub fn evaluation_flops(config: &Config, pixels: usize, classes: usize, samples: usize) -> f64 {
    let weights = estimate(config, pixels, classes).weights;
    let feedforward = config.autoencoder() || config.experiment.spec().bottom == End::Image;
    let per_weight = if feedforward {
        2.0
    } else {
        4.0 * config.steps as f64 + 2.0
    };
    samples as f64 * per_weight * weights
}

/// The FLOPs per exchanged weight below which a step is not worth splitting over workers:
/// every split step sends its whole gradient between the workers and back, a cost that
/// grows with S while the compute it divides grows with FLOPs. Measured in Chromium on two
/// cores (README, Speed): BP classification, `6·B = 768` FLOPs per weight, runs at 0.7–1.4×
/// on two workers; PC classification (about 1,600) at 1.5–1.6×; PC compression (about
/// 36,000) at 1.9–2.1×.
pub const SPLIT_MIN_FLOPS_PER_WEIGHT: f64 = 1000.0;

/// Whether a step of `config` gains from being split over workers (see
/// [`SPLIT_MIN_FLOPS_PER_WEIGHT`]): `step FLOPs / S ≥ 1000`.
pub fn split_pays(config: &Config, pixels: usize, classes: usize) -> bool {
    let cost = estimate(config, pixels, classes);
    cost.step_flops >= SPLIT_MIN_FLOPS_PER_WEIGHT * cost.weights
}

/// Refuses `config` if one step of it is over `budget`; the message names the settings
/// that make it so.
pub fn check(config: &Config, pixels: usize, classes: usize, budget: &Budget) -> Result<()> {
    let cost = estimate(config, pixels, classes);
    let settings = format!(
        "hidden {:?}, T = {}, batch {}, rule {}",
        config.hidden,
        config.steps,
        config.batch,
        crate::config::name(&config.rule)
    );
    if cost.step_flops > budget.step_flops {
        return Err(PcError::Config(format!(
            "one training step of {settings} would take {:.0} GFLOP, over the budget of {:.0}: \
             use fewer or smaller layers, fewer inference steps T or a smaller batch",
            cost.step_flops / 1e9,
            budget.step_flops / 1e9
        )));
    }
    if cost.bytes > budget.bytes {
        return Err(PcError::Config(format!(
            "{settings} would hold {:.0} MiB, over the budget of {:.0} MiB: \
             use fewer or smaller layers or a smaller batch",
            cost.bytes / (1024.0 * 1024.0),
            budget.bytes / (1024.0 * 1024.0)
        )));
    }
    Ok(())
}

/// Refuses a long operation that trains each of `configs` (the sweep's rules) for
/// `steps` training steps, if one step of any is over `budget` or all of them together
/// are over the budget's total.
pub fn check_total(
    configs: &[Config],
    pixels: usize,
    classes: usize,
    steps: f64,
    budget: &Budget,
) -> Result<()> {
    for config in configs {
        check(config, pixels, classes, budget)?;
    }
    let total: f64 = (configs.iter())
        .map(|c| steps * estimate(c, pixels, classes).step_flops)
        .sum();
    if total > budget.total_flops {
        return Err(PcError::Config(format!(
            "{steps} training steps of each of {} rule(s) would take {:.0} GFLOP in all, over the budget \
             of {:.0}: sweep fewer λ values, fewer seeds or fewer steps",
            configs.len(),
            total / 1e9,
            budget.total_flops / 1e9
        )));
    }
    Ok(())
}
