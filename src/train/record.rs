//! What training measures: a step's record (loss, energies, the energy trace over the
//! inference steps, FLOPs) and a test evaluation.

use crate::flops::Flops;
use crate::inference::EnergyRecord;
use serde::{Deserialize, Serialize};

use super::F;

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

/// `x` per sample of a batch of `batch`.
pub(crate) fn per_sample(x: F, batch: usize) -> f64 {
    f64::from(x) / batch as f64
}

/// The record of an inference from its energy trace: the final energies (the task loss is
/// layer L's) and the trace, per sample.
pub(crate) fn trace_record(trace: &[EnergyRecord<F>], depth: usize, b: usize) -> StepRecord {
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
