//! The classification–reconstruction trade-off swept over λ: a fresh tradeoff run per λ,
//! trained on the same batches, tested for accuracy, reconstruction error and the
//! inference dynamics of the trained network.

use crate::config::Config;
use crate::data::Split;
use crate::error::Result;
use crate::experiment::Experiment;
use crate::train::{Trainer, F};
use serde::{Deserialize, Serialize};

/// One point of the λ sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradeoffPoint {
    /// λ, the weight of the cross-entropy.
    pub lambda: f64,
    /// Test accuracy of the classifier read from the latent inferred from the image alone.
    pub accuracy: f64,
    /// Test reconstruction MSE per pixel.
    pub mse: f64,
    /// The total energy per sample at every state of the test-time inference (image alone)
    /// of the first test batch: the inference dynamics of the trained network.
    pub energy_trace: Vec<f64>,
}

/// Trains the tradeoff experiment of `config` (its rule, PC or BP through inference) for
/// `steps` minibatches at every λ in `lambdas`, each from the same initialisation, and
/// measures accuracy, reconstruction MSE (on `test_samples` test images spread over the
/// test set, or all of them) and the test-time energy trace.
pub fn sweep_tradeoff(
    config: &Config,
    data: &Split,
    lambdas: &[f64],
    steps: usize,
    test_samples: Option<usize>,
) -> Result<Vec<TradeoffPoint>> {
    lambdas
        .iter()
        .map(|&lambda| {
            let config = Config {
                experiment: Experiment::Tradeoff,
                lambda,
                ..config.clone()
            };
            let mut trainer = Trainer::new(config, data.clone())?;
            for _ in 0..steps {
                trainer.step()?;
            }
            let eval = match test_samples {
                Some(n) => trainer.evaluate_sample(n)?,
                None => trainer.evaluate()?,
            };
            let test = &trainer.data().test;
            let first: Vec<usize> = (0..test.len().min(trainer.config().batch)).collect();
            let images = test.images::<F>(&first, trainer.config().pixel_scale());
            let settled = trainer.infer_latent(&images)?;
            Ok(TradeoffPoint {
                lambda,
                accuracy: eval.accuracy.unwrap_or(f64::NAN),
                mse: eval.mse.unwrap_or(f64::NAN),
                energy_trace: (settled.energy_trace.iter())
                    .map(|r| f64::from(r.total) / first.len() as f64)
                    .collect(),
            })
        })
        .collect()
}
