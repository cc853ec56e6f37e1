//! Fixed workloads that measure the engine's speed, the same natively (`pclab bench`) and
//! in the browser. Nothing here reads a clock: a [`Workload`] does one unit of work per
//! [`Workload::run`] and returns its FLOPs; the caller times the calls (`Instant`,
//! `performance.now()`).
//!
//! The training workloads run on a synthetic MNIST-shaped data set (deterministic noise
//! images), so they need no download; their cost does not depend on the pixel values.

use crate::config::Config;
use crate::data::{Dataset, Split};
use crate::error::Result;
use crate::experiment::Rule;
use crate::linalg::mul;
use crate::train::{Trainer, F};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// One unit of work, repeated and timed by the caller.
pub struct Workload {
    /// A stable name, e.g. `pc_classification_step`.
    pub name: &'static str,
    /// What it does, for a reader, e.g. `PC classification step (784-128-128-128-10, T = 8,
    /// batch 128)`.
    pub label: String,
    /// Samples processed per run (the batch; the rows of a product's left operand).
    pub samples: usize,
    work: Box<dyn FnMut() -> Result<u64>>,
}

impl Workload {
    /// Does the work once and returns the FLOPs it counted.
    pub fn run(&mut self) -> Result<u64> {
        (self.work)()
    }
}

/// `n` random 28×28 images with labels below 10, deterministic in `seed`.
pub fn synthetic_dataset(n: usize, seed: u64) -> Result<Dataset> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixels = (0..n * 784).map(|_| rng.gen::<u8>()).collect();
    let labels = (0..n).map(|_| rng.gen_range(0..10u8)).collect();
    Dataset::new(28, 28, 10, pixels, labels)
}

/// `out = a·b` with `a` `m × k` and `b` `k × n` (the rows of `a` count as samples).
fn gemm(name: &'static str, m: usize, k: usize, n: usize) -> Workload {
    let a = DMatrix::<F>::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 11) as F - 5.0);
    let b = DMatrix::<F>::from_fn(k, n, |i, j| ((i * 5 + j) % 13) as F - 6.0);
    let mut out = DMatrix::<F>::zeros(m, n);
    Workload {
        name,
        label: format!("matrix product ({m}×{k})·({k}×{n})"),
        samples: m,
        work: Box::new(move || {
            let mut flops = 0;
            mul(&mut out, &a, &b, 0.0, &mut flops);
            Ok(flops)
        }),
    }
}

/// One training step (one minibatch) of `training`'s configuration.
fn training_step(training: TrainingConfig) -> Result<Workload> {
    let TrainingConfig {
        name,
        label,
        config,
    } = training;
    let batch = config.batch;
    let data = Split {
        train: synthetic_dataset(1024, 1)?,
        test: synthetic_dataset(256, 2)?,
    };
    let mut trainer = Trainer::new(config, data)?;
    Ok(Workload {
        name,
        label,
        samples: batch,
        work: Box::new(move || Ok(trainer.step()?.flops_step)),
    })
}

/// The classification workloads keep the PC tutorial's 784-128-128-128-10, whose speed
/// the README compares with the tutorial's own code.
const TUTORIAL_WIDTH: &[(&str, &str)] = &[("hidden", "128,128,128")];

/// The training workloads: a name, what one step is (the start of its label), a preset
/// and the settings over it.
type TrainingWorkload = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);
const TRAINING: [TrainingWorkload; 4] = [
    (
        "pc_classification_step",
        "PC classification step",
        "classification",
        TUTORIAL_WIDTH,
    ),
    (
        "bp_classification_step",
        "BP classification step",
        "classification",
        &[("hidden", "128,128,128"), ("rule", "bp")],
    ),
    ("pc_compression_step", "PC decoder step", "compression", &[]),
    (
        "bp_autoencoder_step",
        "BP autoencoder step",
        "compression",
        &[("rule", "bp")],
    ),
];

/// A training workload's configuration, with its stable name and its label.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TrainingConfig {
    pub name: &'static str,
    pub label: String,
    pub config: Config,
}

/// What a training step of `config` is, from `what`: its layer sizes on MNIST, its
/// inference steps T (for a rule that infers) and its batch, e.g. `PC classification step
/// (784-128-128-128-10, T = 8, batch 128)`.
fn training_label(what: &str, config: &Config) -> String {
    let sizes: Vec<_> = config.sizes(784, 10).iter().map(usize::to_string).collect();
    let sizes = sizes.join("-");
    let steps = match config.rule {
        Rule::Bp => String::new(),
        Rule::Pc | Rule::BpThroughInference => format!(", T = {}", config.steps),
    };
    format!("{what} ({sizes}{steps}, batch {})", config.batch)
}

/// The configuration of each training workload (the page times them split over its
/// workers too).
pub fn training_configs() -> Result<Vec<TrainingConfig>> {
    TRAINING
        .iter()
        .map(|&(name, what, preset, settings)| {
            let config = Config::preset(preset)?.with_settings(settings.iter().copied())?;
            Ok(TrainingConfig {
                name,
                label: training_label(what, &config),
                config,
            })
        })
        .collect()
}

/// The benchmark suite: two products, then PC and BP training steps for classification
/// (the tutorial preset, 784-128-128-128-10, T = 8, batch 128) and compression (PC decoder
/// 64-384-784, T = 35, batch 250; BP autoencoder 784-384-64-384-784).
pub fn workloads() -> Result<Vec<Workload>> {
    let mut all = vec![
        gemm("gemm_128x784x256", 128, 784, 256),
        gemm("gemm_256x256x256", 256, 256, 256),
    ];
    for training in training_configs()? {
        all.push(training_step(training)?);
    }
    Ok(all)
}

/// What a workload measured: throughput from the median run time, which a busy machine
/// disturbs less than the mean.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Measurement {
    pub name: &'static str,
    pub label: String,
    pub runs: usize,
    pub samples_per_s: f64,
    pub gflops_per_s: f64,
    pub flops_per_sample: f64,
}

impl Measurement {
    /// The measurement of a workload (`name`, `label`) of `samples` samples and `flops`
    /// FLOPs per run from the seconds its timed runs took (at least one).
    pub fn from_runs(
        name: &'static str,
        label: String,
        mut times: Vec<f64>,
        flops: f64,
        samples: usize,
    ) -> Self {
        times.sort_by(f64::total_cmp);
        let median = times.get(times.len() / 2).copied().unwrap_or(f64::NAN);
        Measurement {
            name,
            label,
            runs: times.len(),
            samples_per_s: samples as f64 / median,
            gflops_per_s: flops / median / 1e9,
            flops_per_sample: flops / samples as f64,
        }
    }
}

/// The suite measured one run at a time, so a caller can do other work between runs
/// (the page yields to pause and reset): each workload runs once to warm up, then
/// repeatedly (at least 3 times) for about `seconds` by the caller's clock.
pub struct Bench {
    workloads: Vec<Workload>,
    seconds: f64,
    /// The FLOPs of the current workload's warm-up run, once it ran.
    flops: Option<u64>,
    /// When the current workload's timed runs started, and how long each took.
    start: f64,
    times: Vec<f64>,
    results: Vec<Measurement>,
}

impl Bench {
    /// `workloads`, each timed for about `seconds`.
    pub fn new(workloads: Vec<Workload>, seconds: f64) -> Self {
        Bench {
            workloads,
            seconds,
            flops: None,
            start: 0.0,
            times: Vec::new(),
            results: Vec::new(),
        }
    }

    /// Runs the current workload once (seconds by `clock`, any origin); returns whether
    /// every workload is measured.
    pub fn advance(&mut self, mut clock: impl FnMut() -> f64) -> Result<bool> {
        let Some(workload) = self.workloads.get_mut(self.results.len()) else {
            return Ok(true);
        };
        let Some(flops) = self.flops else {
            self.flops = Some(workload.run()?);
            self.start = clock();
            return Ok(false);
        };
        let t = clock();
        workload.run()?;
        let now = clock();
        self.times.push((now - t).max(1e-9));
        if self.times.len() >= 3 && now - self.start >= self.seconds {
            let times = std::mem::take(&mut self.times);
            self.results.push(Measurement::from_runs(
                workload.name,
                workload.label.clone(),
                times,
                flops as f64,
                workload.samples,
            ));
            self.flops = None;
        }
        Ok(self.results.len() == self.workloads.len())
    }

    /// The workloads measured so far, and how many there are in all.
    pub fn progress(&self) -> (usize, usize) {
        (self.results.len(), self.workloads.len())
    }

    /// What the measured workloads measured.
    pub fn results(&self) -> &[Measurement] {
        &self.results
    }
}

/// Runs `workload` once to warm up, then repeatedly (at least 3 times) for about
/// `seconds` by `clock` (seconds, any origin).
pub fn measure(
    workload: Workload,
    seconds: f64,
    mut clock: impl FnMut() -> f64,
) -> Result<Measurement> {
    let mut bench = Bench::new(vec![workload], seconds);
    while !bench.advance(&mut clock)? {}
    bench
        .results
        .pop()
        .ok_or_else(|| crate::PcError::Config("no workload was measured".into()))
}
