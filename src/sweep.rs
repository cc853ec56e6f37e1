//! The classification–reconstruction trade-off swept over λ: for every λ, a fresh tradeoff
//! run per learning rule (PC and BP through inference) and per seed, trained on the same
//! batches as the other rule of its seed, tested for accuracy, reconstruction error and
//! the inference dynamics of the trained network; then the mean ± sd over the seeds of
//! each rule and λ (the page's error bars, the CLI's summary lines).

use crate::config::{Config, SWEEP_LIMITS};
use crate::cost::Budget;
use crate::data::Split;
use crate::error::{PcError, Result};
use crate::experiment::{Experiment, Rule};
use crate::stats::{mean_sd, MeanSd};
use crate::train::{Trainer, F};

/// The most λ values one sweep may train.
pub const MAX_LAMBDAS: usize = SWEEP_LIMITS.lambdas;
/// The most seeds per rule and λ.
pub const MAX_SEEDS: usize = SWEEP_LIMITS.seeds;
/// The most training steps of one run.
pub const MAX_STEPS: usize = SWEEP_LIMITS.steps;
use serde::{Deserialize, Serialize};

/// One trained and measured run of the λ sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradeoffPoint {
    /// The learning rule.
    pub rule: Rule,
    /// The seed of the initialisation and the batches.
    pub seed: u64,
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

/// One rule at one λ over the seeds: the mean ± sd of what its runs measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TradeoffSummary {
    /// The learning rule.
    pub rule: Rule,
    /// λ.
    pub lambda: f64,
    /// The seeds measured, in run order.
    pub seeds: Vec<u64>,
    /// Test accuracy over the seeds.
    pub accuracy: MeanSd,
    /// Test reconstruction MSE over the seeds.
    pub mse: MeanSd,
}

/// What a sweep trains: for every λ, every rule and every seed, a run of `steps`
/// minibatches.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The λ values, each in [0, 1].
    pub lambdas: Vec<f64>,
    /// The learning rules (of the tradeoff experiment).
    pub rules: Vec<Rule>,
    /// The seeds, no repeats.
    pub seeds: Vec<u64>,
    /// Training steps of each run.
    pub steps: usize,
}

impl Plan {
    /// Every rule of the tradeoff experiment, for `seeds` seeds from `first_seed` on.
    pub fn every_rule(lambdas: &[f64], first_seed: u64, seeds: usize, steps: usize) -> Plan {
        Plan {
            lambdas: lambdas.to_vec(),
            rules: Experiment::Tradeoff.spec().rules.to_vec(),
            seeds: (0..seeds as u64)
                .map(|i| first_seed.wrapping_add(i))
                .collect(),
            steps,
        }
    }

    /// Refuses an empty or oversized plan, a λ outside [0, 1], a repeated seed or rule.
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(PcError::Config(m));
        if self.lambdas.is_empty() || self.lambdas.len() > MAX_LAMBDAS {
            return bad(format!(
                "a sweep needs 1 to {MAX_LAMBDAS} λ values, got {}",
                self.lambdas.len()
            ));
        }
        if let Some(l) = self.lambdas.iter().find(|l| !(0.0..=1.0).contains(*l)) {
            return bad(format!("λ must be in [0, 1], got {l}"));
        }
        if self.seeds.is_empty() || self.seeds.len() > MAX_SEEDS {
            return bad(format!(
                "a sweep needs 1 to {MAX_SEEDS} seeds, got {}",
                self.seeds.len()
            ));
        }
        if let Some(s) =
            (self.seeds.iter()).find(|s| self.seeds.iter().filter(|t| t == s).count() > 1)
        {
            return bad(format!("seed {s} is listed twice"));
        }
        if self.rules.is_empty()
            || (self.rules.iter()).any(|r| self.rules.iter().filter(|q| q == &r).count() > 1)
        {
            return bad("a sweep needs at least one rule, each once".into());
        }
        if !(1..=MAX_STEPS).contains(&self.steps) {
            return bad(format!(
                "a sweep trains 1 to {MAX_STEPS} steps per run, got {}",
                self.steps
            ));
        }
        Ok(())
    }

    /// The number of runs: λ values × rules × seeds.
    fn runs(&self) -> usize {
        self.lambdas.len() * self.rules.len() * self.seeds.len()
    }

    /// Run `i`'s (λ, rule, seed): λ outermost, then the rule, then the seed.
    fn run(&self, i: usize) -> (f64, Rule, u64) {
        let seeds = self.seeds.len();
        let per_lambda = self.rules.len() * seeds;
        (
            self.lambdas[i / per_lambda],
            self.rules[(i % per_lambda) / seeds],
            self.seeds[i % seeds],
        )
    }
}

/// A λ sweep run in pieces, so that its caller can do other work in between (the page
/// yields to pause and reset between pieces): every run of its [`Plan`], a fresh tradeoff
/// network of the same configuration trained for `steps` minibatches, then measured.
pub struct Sweep {
    config: Config,
    data: Split,
    plan: Plan,
    test_samples: Option<usize>,
    budget: Budget,
    /// The run being trained and the steps it has taken.
    current: Option<(Trainer, usize)>,
    points: Vec<TradeoffPoint>,
}

impl Sweep {
    /// A sweep of `config` (as a tradeoff experiment) over `plan`, tested on
    /// `test_samples` test images spread over the test set (or all of them). Refused if
    /// the plan is invalid, a rule does not apply, or the whole sweep is over `budget`.
    pub fn new(
        config: &Config,
        data: &Split,
        plan: &Plan,
        test_samples: Option<usize>,
        budget: Budget,
    ) -> Result<Self> {
        plan.validate()?;
        let config = Config {
            experiment: Experiment::Tradeoff,
            ..config.clone()
        };
        let per_rule: Vec<Config> = (plan.rules.iter())
            .map(|&rule| Config {
                rule,
                ..config.clone()
            })
            .collect();
        for c in &per_rule {
            c.validate()?;
        }
        let (pixels, classes) = (data.train.pixels_per_image(), data.train.classes());
        let steps_each_rule = (plan.steps * plan.lambdas.len() * plan.seeds.len()) as f64;
        crate::cost::check_total(&per_rule, pixels, classes, steps_each_rule, &budget)?;
        Ok(Sweep {
            config,
            data: data.clone(),
            plan: plan.clone(),
            test_samples,
            budget,
            current: None,
            points: Vec::new(),
        })
    }

    /// Trains at most `max_steps` more minibatches (measuring each run as its training
    /// ends); returns whether the sweep is complete.
    pub fn advance(&mut self, max_steps: usize) -> Result<bool> {
        let mut left = max_steps;
        while !self.done() && left > 0 {
            let (trainer, done) = match self.current.as_mut() {
                Some(run) => run,
                None => {
                    let (lambda, rule, seed) = self.plan.run(self.points.len());
                    let config = Config {
                        lambda,
                        rule,
                        seed,
                        ..self.config.clone()
                    };
                    let trainer = Trainer::with_budget(config, self.data.clone(), &self.budget)?;
                    self.current.insert((trainer, 0))
                }
            };
            while *done < self.plan.steps && left > 0 {
                trainer.step()?;
                *done += 1;
                left -= 1;
            }
            if *done == self.plan.steps {
                let point = measure(trainer, self.test_samples)?;
                self.points.push(point);
                self.current = None;
            }
        }
        Ok(self.done())
    }

    /// Whether every run has been trained and measured.
    pub fn done(&self) -> bool {
        self.points.len() == self.plan.runs()
    }

    /// The fraction of the sweep's training steps taken.
    pub fn progress(&self) -> f64 {
        let current = self.current.as_ref().map_or(0, |(_, done)| *done);
        (self.points.len() * self.plan.steps + current) as f64
            / (self.plan.runs() * self.plan.steps) as f64
    }

    /// The runs measured so far, in plan order (λ, then rule, then seed).
    pub fn points(&self) -> &[TradeoffPoint] {
        &self.points
    }

    /// The mean ± sd over the seeds of every rule and λ measured so far.
    pub fn summary(&self) -> Vec<TradeoffSummary> {
        summarise(&self.points)
    }
}

/// Groups `points` by (rule, λ), in the order each first appears, with the mean ± sample
/// sd of their accuracy and MSE over the seeds.
pub fn summarise(points: &[TradeoffPoint]) -> Vec<TradeoffSummary> {
    let mut keys: Vec<(Rule, f64)> = Vec::new();
    for p in points {
        if !keys.contains(&(p.rule, p.lambda)) {
            keys.push((p.rule, p.lambda));
        }
    }
    keys.into_iter()
        .map(|(rule, lambda)| {
            let runs: Vec<&TradeoffPoint> = (points.iter())
                .filter(|p| p.rule == rule && p.lambda == lambda)
                .collect();
            let over = |f: fn(&TradeoffPoint) -> f64| {
                mean_sd(&runs.iter().map(|p| f(p)).collect::<Vec<_>>())
            };
            TradeoffSummary {
                rule,
                lambda,
                seeds: runs.iter().map(|p| p.seed).collect(),
                accuracy: over(|p| p.accuracy),
                mse: over(|p| p.mse),
            }
        })
        .collect()
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
    let config = trainer.config();
    Ok(TradeoffPoint {
        rule: config.rule,
        seed: config.seed,
        lambda: config.lambda,
        accuracy: eval.accuracy.unwrap_or(f64::NAN),
        mse: eval.mse.unwrap_or(f64::NAN),
        energy_trace: (settled.energy_trace.iter())
            .map(|r| f64::from(r.total) / first.len() as f64)
            .collect(),
    })
}
