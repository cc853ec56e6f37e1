//! pclab: predictive coding networks, exact and fast, native and in the browser.
//!
//! One module per concept of predictive coding (PC):
//! - [`experiment`]: the experiment table: what each experiment clamps, infers and shows.
//! - [`config`]: every hyperparameter with its bounds, the presets, the page's schema.
//! - [`label`]: the words a person reads for each setting's value.
//! - [`cost`]: the FLOPs and bytes of a step, checked against a budget before it runs.
//! - [`activation`]: the nonlinearities f and their derivatives f'.
//! - [`energy`]: per-layer energies (negative log-likelihoods) and their prediction errors.
//! - [`network`]: layered networks, predictions μ_l, feedforward pass, initialisation,
//!   and the chain rule through the blocks (weight gradients, backpropagated errors).
//! - [`inference`]: settling the beliefs v_l (exact, fixed-prediction, strict, standard).
//! - [`learning`]: the two weight rules: local PC at the settled state, and BP.
//! - [`unrolled`]: BP through the unrolled standard inference (`dL/dθ` over all T steps).
//! - [`optimizer`]: SGD, momentum, Adam, weight decay.
//! - [`flops`]: floating-point operation accounting by phase.
//! - [`linalg`]: the scalar type and the batched, FLOP-counted products.
//! - [`error`]: the engine's error type (no panics behind the wasm boundary).
//! - [`case`]: reference cases (Torch2PC, PC tutorial) in the golden JSON schema.
//! - [`data`]: the shipped MNIST split and the IDX loader.
//! - [`metrics`]: PC-vs-BP gradient cosines.
//! - [`inspect`]: views for the page: predictions, replays, receptive fields, save and load.
//! - [`dynamics`]: a decoder's inference step by step (latent distance, reconstruction,
//!   class read-out), PC-trained against BP-trained.
//! - [`bench`]: fixed workloads that measure the engine's speed (timed by the caller).
//! - [`sampling`]: the network as a generative model: prior, per-layer noise, ancestral
//!   samples.
//! - [`train`]: epochs of minibatches: the trainer, its evaluation and its records.
//! - [`sweep`]: the classification–reconstruction trade-off over λ, rules and seeds.
//! - [`stats`]: mean ± sample standard deviation over seeds.
//! - [`vae`]: a variational autoencoder trained by BP and by PC with a sampled latent.
//!
//! The modules form layers without import cycles (checked by `tests/layering.rs`): the
//! network knows nothing of inference, inference nothing of learning rules, the trainer
//! sits on top, the wasm boundary above it.

#![forbid(unsafe_code)]

pub mod activation;
pub mod bench;
pub mod beyond_gaussian;
pub mod case;
pub mod config;
pub mod cost;
pub mod data;
pub mod dynamics;
pub mod energy;
pub mod error;
pub mod experiment;
pub mod flops;
pub mod inference;
pub mod inspect;
pub mod label;
pub mod learning;
pub mod linalg;
pub mod metrics;
pub mod network;
pub mod optimizer;
pub mod sampling;
pub mod stats;
pub mod sweep;
pub mod train;
pub mod unrolled;
pub mod vae;

pub use error::{PcError, Result};

/// The engine's version, as shown on the page and printed by the CLI.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

#[cfg(target_arch = "wasm32")]
pub mod wasm;
