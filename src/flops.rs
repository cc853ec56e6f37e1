//! Floating-point operation accounting by phase, so PC and BP costs can be compared.
//!
//! A product of an `m×k` and a `k×n` matrix counts `2·m·n·k`; every elementwise pass
//! counts one FLOP per element per arithmetic operation (a transcendental counts as one).

use serde::{Deserialize, Serialize};

/// FLOPs spent so far, split by phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flops {
    /// Settling the beliefs (including the feedforward initialisation).
    pub inference: u64,
    /// Weight gradients from the settled state and optimiser steps.
    pub learning: u64,
    /// Backpropagation: forward pass, backward pass, and backprop through inference.
    pub bp: u64,
}

impl Flops {
    /// All phases together.
    pub fn total(&self) -> u64 {
        self.inference + self.learning + self.bp
    }
}
