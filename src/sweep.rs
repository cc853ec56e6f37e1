//! The classification–reconstruction trade-off swept over λ: a fresh tradeoff run per λ,
//! trained on the same batches, tested for accuracy, reconstruction error and the
//! inference dynamics of the trained network.

use crate::config::Config;
use crate::cost::Budget;
use crate::data::Split;
use crate::error::{PcError, Result};
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

/// The most λ values one sweep may train.
pub const MAX_LAMBDAS: usize = 101;

/// A λ sweep run in pieces, so that its caller can do other work in between (the page
/// yields to pause and reset between pieces): for every λ, a fresh tradeoff run of the
/// same configuration and initialisation trained for `steps` minibatches, then measured.
pub struct Sweep {
    config: Config,
    data: Split,
    lambdas: Vec<f64>,
    steps: usize,
    test_samples: Option<usize>,
    budget: Budget,
    /// The run of the λ being trained and the steps it has taken.
    current: Option<(Trainer, usize)>,
    points: Vec<TradeoffPoint>,
}

impl Sweep {
    /// A sweep of `config`'s rule over `lambdas`, `steps` minibatches each, tested on
    /// `test_samples` test images spread over the test set (or all of them). Refused if
    /// the λs are not in [0, 1] or the whole sweep is over `budget`.
    pub fn new(
        config: &Config,
        data: &Split,
        lambdas: &[f64],
        steps: usize,
        test_samples: Option<usize>,
        budget: Budget,
    ) -> Result<Self> {
        if lambdas.is_empty() || lambdas.len() > MAX_LAMBDAS {
            return Err(PcError::Config(format!(
                "a sweep needs 1 to {MAX_LAMBDAS} λ values, got {}",
                lambdas.len()
            )));
        }
        if let Some(bad) = lambdas.iter().find(|l| !(0.0..=1.0).contains(*l)) {
            return Err(PcError::Config(format!("λ must be in [0, 1], got {bad}")));
        }
        if steps == 0 {
            return Err(PcError::Config(
                "a sweep trains at least one step per λ".into(),
            ));
        }
        let config = Config {
            experiment: Experiment::Tradeoff,
            ..config.clone()
        };
        config.validate()?;
        let (pixels, classes) = (data.train.pixels_per_image(), data.train.classes());
        let total = (steps * lambdas.len()) as f64;
        crate::cost::check_total(&config, pixels, classes, total, &budget)?;
        Ok(Sweep {
            config,
            data: data.clone(),
            lambdas: lambdas.to_vec(),
            steps,
            test_samples,
            budget,
            current: None,
            points: Vec::new(),
        })
    }

    /// Trains at most `max_steps` more minibatches (measuring each λ as its training
    /// ends); returns whether the sweep is complete.
    pub fn advance(&mut self, max_steps: usize) -> Result<bool> {
        let mut left = max_steps;
        while self.points.len() < self.lambdas.len() && left > 0 {
            let (trainer, done) = match self.current.as_mut() {
                Some(run) => run,
                None => {
                    let config = Config {
                        lambda: self.lambdas[self.points.len()],
                        ..self.config.clone()
                    };
                    let trainer = Trainer::with_budget(config, self.data.clone(), &self.budget)?;
                    self.current.insert((trainer, 0))
                }
            };
            while *done < self.steps && left > 0 {
                trainer.step()?;
                *done += 1;
                left -= 1;
            }
            if *done == self.steps {
                let point = measure(trainer, self.test_samples)?;
                self.points.push(point);
                self.current = None;
            }
        }
        Ok(self.done())
    }

    /// Whether every λ has been trained and measured.
    pub fn done(&self) -> bool {
        self.points.len() == self.lambdas.len()
    }

    /// The fraction of the sweep's training steps taken.
    pub fn progress(&self) -> f64 {
        let current = self.current.as_ref().map_or(0, |(_, done)| *done);
        (self.points.len() * self.steps + current) as f64 / (self.lambdas.len() * self.steps) as f64
    }

    /// The points measured so far, in the order of the λs.
    pub fn points(&self) -> &[TradeoffPoint] {
        &self.points
    }
}

/// A trained tradeoff run measured: accuracy, reconstruction MSE (on `test_samples` test
/// images spread over the test set, or all of them) and the test-time energy trace of the
/// first test batch.
fn measure(trainer: &Trainer, test_samples: Option<usize>) -> Result<TradeoffPoint> {
    let eval = match test_samples {
        Some(n) => trainer.evaluate_sample(n)?,
        None => trainer.evaluate()?,
    };
    let test = &trainer.data().test;
    let first: Vec<usize> = (0..test.len().min(trainer.config().batch)).collect();
    let images = test.images::<F>(&first, trainer.config().pixel_scale());
    let settled = trainer.infer_latent(&images)?;
    Ok(TradeoffPoint {
        lambda: trainer.config().lambda,
        accuracy: eval.accuracy.unwrap_or(f64::NAN),
        mse: eval.mse.unwrap_or(f64::NAN),
        energy_trace: (settled.energy_trace.iter())
            .map(|r| f64::from(r.total) / first.len() as f64)
            .collect(),
    })
}

/// The whole sweep at once (see [`Sweep`]).
pub fn sweep_tradeoff(
    config: &Config,
    data: &Split,
    lambdas: &[f64],
    steps: usize,
    test_samples: Option<usize>,
    budget: Budget,
) -> Result<Vec<TradeoffPoint>> {
    let mut sweep = Sweep::new(config, data, lambdas, steps, test_samples, budget)?;
    while !sweep.advance(usize::MAX)? {}
    Ok(sweep.points)
}
