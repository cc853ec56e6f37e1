//! The wasm boundary: thin wrappers that turn engine results into JS values.
//! No science and no policy live here: what a configuration may be, which views an
//! experiment has and how data is split are the engine's (config, experiment, data).
//! Configs and metric records cross as plain objects (serde-wasm-bindgen); images cross
//! as `Float32Array` copies. Every engine error becomes a JS `Error` with the engine's
//! message; nothing panics across the boundary.

use crate::config::{Compare, Config};
use crate::cost::Budget;
use crate::data::{shipped_split, user_split, Split};
use crate::experiment::InferenceKind;
use crate::inspect;
use crate::sweep::{Plan, Sweep};
use crate::train::{Contribution, Flat, Shard, StepRecord, Trainer, F, MAX_SHARDS};
use nalgebra::DMatrix;
use serde::Serialize;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Installs the panic hook once, when the module is instantiated, so that a panic
/// (a bug) shows its message in the console rather than "unreachable executed".
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The engine's version string.
#[wasm_bindgen]
pub fn version() -> String {
    crate::version().to_string()
}

fn error(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

/// A value for JS: serialised to JSON by serde_json and parsed by the engine's host, so
/// that every type is serialised by one serde backend (the model files' own) and the
/// module carries one set of serde code, not two. A non-finite number becomes `null`.
fn to_js(value: &impl Serialize) -> Result<JsValue, JsError> {
    let json = serde_json::to_string(value).map_err(error)?;
    js_sys::JSON::parse(&json).map_err(|_| error("a value could not be passed to JS"))
}

/// A value from JS, read through its JSON text (`undefined` reads as `null`).
fn from_js<T: serde::de::DeserializeOwned>(value: JsValue, what: &str) -> Result<T, JsError> {
    let json = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_else(|| "null".into());
    serde_json::from_str(&json).map_err(|e| error(format!("invalid {what}: {e}")))
}

/// `flat` as a JS array: copied into `reuse` when it has `flat`'s length (an array of an
/// earlier step, handed back: the steps of a split run then allocate no new buffers, whose
/// fresh pages cost a browser more than the copy), else into a new one. A detached
/// (transferred) array has length 0 and is not reused.
fn reused(flat: &[Flat], reuse: Option<js_sys::Float32Array>) -> js_sys::Float32Array {
    match reuse {
        Some(array) if array.length() as usize == flat.len() => {
            array.copy_from(flat);
            array
        }
        _ => js_sys::Float32Array::from(flat),
    }
}

fn config_from(value: JsValue) -> Result<Config, JsError> {
    let config: Config = from_js(value, "settings")?;
    config.validate().map_err(error)?;
    Ok(config)
}

/// The default configuration (the classification experiment's base settings).
#[wasm_bindgen(js_name = defaultConfig)]
pub fn default_config() -> Result<JsValue, JsError> {
    to_js(&Config::default())
}

/// A named preset's configuration.
#[wasm_bindgen(js_name = presetConfig)]
pub fn preset_config(name: &str) -> Result<JsValue, JsError> {
    to_js(&Config::preset(name).map_err(error)?)
}

/// Every setting with its URL key, values and bounds, the defaults, the presets, the
/// comparisons and the experiment table: what the page builds its controls from.
#[wasm_bindgen(js_name = configSchema)]
pub fn config_schema() -> Result<JsValue, JsError> {
    to_js(&crate::config::schema())
}

/// The beyond-Gaussian toy ([`crate::beyond_gaussian`]) with `settings` (a partial
/// object; missing fields take their defaults, every value is checked).
#[wasm_bindgen(js_name = beyondGaussianToy)]
pub fn beyond_gaussian_toy(settings: JsValue) -> Result<JsValue, JsError> {
    let settings: crate::beyond_gaussian::ToySettings = from_js(settings, "toy settings")?;
    to_js(&crate::beyond_gaussian::run(&settings).map_err(error)?)
}

/// A configuration from URL-style `key → value` settings over `base`.
#[wasm_bindgen(js_name = configWithSettings)]
pub fn config_with_settings(
    base: JsValue,
    keys: Vec<String>,
    values: Vec<String>,
) -> Result<JsValue, JsError> {
    let base = config_from(base)?;
    let pairs = keys
        .iter()
        .map(String::as_str)
        .zip(values.iter().map(String::as_str));
    to_js(&base.with_settings(pairs).map_err(error)?)
}

/// The configurations of the runs the page trains side by side for a comparison
/// (`off`, `bp`, `accumulate`).
#[wasm_bindgen(js_name = runConfigs)]
pub fn run_configs(config: JsValue, compare: JsValue) -> Result<JsValue, JsError> {
    let compare: Compare = from_js(compare, "comparison")?;
    to_js(&compare.runs(&config_from(config)?).map_err(error)?)
}

/// The shipped data, or the user's IDX files when both are given.
fn data(
    shipped: &[u8],
    images: Option<Vec<u8>>,
    labels: Option<Vec<u8>>,
) -> Result<Split, JsError> {
    match (images, labels) {
        (Some(images), Some(labels)) => {
            user_split(&images, &labels).map_err(|e| error(format!("IDX files: {e}")))
        }
        _ => shipped_split(shipped).map_err(|e| error(format!("the data file: {e}"))),
    }
}

/// Milliseconds from `performance.now()` (a worker has it too), else `Date.now()`.
fn now_ms() -> f64 {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"performance".into())
        .ok()
        .and_then(|perf| {
            let now = js_sys::Reflect::get(&perf, &"now".into()).ok()?;
            now.dyn_into::<js_sys::Function>().ok()?.call0(&perf).ok()
        })
        .and_then(|t| t.as_f64())
        .unwrap_or_else(js_sys::Date::now)
}

#[derive(Serialize)]
struct TrainRecord<'a> {
    #[serde(flatten)]
    step: &'a StepRecord,
    flops_total: u64,
    samples_per_s: f64,
}

#[derive(Serialize)]
struct EnergyTrace<'a> {
    total: &'a [f64],
    per_layer: &'a [Vec<f64>],
}

#[derive(Serialize)]
struct Predictions {
    labels: Vec<u8>,
    predicted: Vec<usize>,
    probabilities: Vec<Vec<f64>>,
}

/// One training run, its data and network held in wasm memory.
#[wasm_bindgen]
pub struct Lab {
    trainer: Trainer,
}

#[wasm_bindgen]
impl Lab {
    /// A fresh run of `config` on the shipped data file's bytes, or on the user's IDX
    /// image and label files when given.
    #[wasm_bindgen(constructor)]
    pub fn new(
        config: JsValue,
        shipped: &[u8],
        images: Option<Vec<u8>>,
        labels: Option<Vec<u8>>,
    ) -> Result<Lab, JsError> {
        let split = data(shipped, images, labels)?;
        let trainer = Trainer::new(config_from(config)?, split).map_err(error)?;
        Ok(Lab { trainer })
    }

    /// A run restored from a saved model, on the shipped data or the user's IDX files.
    pub fn load(
        json: &str,
        shipped: &[u8],
        images: Option<Vec<u8>>,
        labels: Option<Vec<u8>>,
    ) -> Result<Lab, JsError> {
        let split = data(shipped, images, labels)?;
        Ok(Lab {
            trainer: inspect::load(json, split).map_err(error)?,
        })
    }

    /// The configuration of this run.
    pub fn config(&self) -> Result<JsValue, JsError> {
        to_js(self.trainer.config())
    }

    /// Whether this run's steps gain from being split over workers (the engine's cost
    /// model: FLOPs per exchanged weight).
    #[wasm_bindgen(js_name = splitPays)]
    pub fn split_pays(&self) -> bool {
        self.trainer.split_pays()
    }

    /// What an evaluation while training costs in training steps (the engine's cost model).
    #[wasm_bindgen(js_name = evaluationShare)]
    pub fn evaluation_share(&self) -> f64 {
        self.trainer.evaluation_share()
    }

    /// Runs `n` minibatches; returns the last step's record with throughput.
    pub fn train(&mut self, n: usize) -> Result<JsValue, JsError> {
        let start = now_ms();
        for _ in 0..n.max(1) {
            self.trainer.step().map_err(error)?;
        }
        let seconds = ((now_ms() - start) / 1000.0).max(1e-3);
        let step = self.trainer.last_step();
        to_js(&TrainRecord {
            step,
            flops_total: step.flops.total(),
            samples_per_s: (n.max(1) * self.trainer.config().batch) as f64 / seconds,
        })
    }

    /// Replica `index` of `count`'s contribution to the next step (data parallelism: every
    /// replica of a run draws the same minibatch and learns from its shard of it), as one
    /// flat array to send to the lead replica; written into `reuse` where it fits
    /// ([`reused`]).
    pub fn contribute(
        &mut self,
        index: usize,
        count: usize,
        reuse: Option<js_sys::Float32Array>,
    ) -> Result<js_sys::Float32Array, JsError> {
        let shard = Shard::new(index, count).map_err(error)?;
        let flat = self.trainer.contribute(shard).map_err(error)?.to_flat();
        Ok(reused(&flat, reuse))
    }

    /// The sum of every replica's contribution to one step, in the order given (replica
    /// 0 first), as one flat array for [`Lab::apply`] in every replica; written into
    /// `reuse` where it fits ([`reused`]).
    pub fn combine(
        &self,
        parts: Vec<js_sys::Float32Array>,
        reuse: Option<js_sys::Float32Array>,
    ) -> Result<js_sys::Float32Array, JsError> {
        let parts: Vec<Vec<Flat>> = parts.iter().map(js_sys::Float32Array::to_vec).collect();
        let parts: Vec<&[Flat]> = parts.iter().map(Vec::as_slice).collect();
        let total = Contribution::sum_flat(
            &parts,
            self.trainer.network(),
            self.trainer.classifier_network(),
        )
        .map_err(error)?;
        Ok(reused(&total, reuse))
    }

    /// Applies the sum of the replicas' contributions ([`Lab::combine`]): one optimiser
    /// step; returns the step's record.
    pub fn apply(&mut self, total: &[Flat]) -> Result<JsValue, JsError> {
        let total = self.contribution(total)?;
        let step = self.trainer.apply(&total).map_err(error)?;
        to_js(&TrainRecord {
            step,
            flops_total: step.flops.total(),
            samples_per_s: 0.0,
        })
    }

    fn contribution(&self, flat: &[Flat]) -> Result<Contribution, JsError> {
        Contribution::from_flat(
            flat,
            self.trainer.network(),
            self.trainer.classifier_network(),
        )
        .map_err(error)
    }

    /// Test accuracy and confusion matrix, or reconstruction MSE: on the whole test set,
    /// or on `samples` test images spread over it (a quick estimate while training).
    pub fn evaluate(&self, samples: Option<usize>) -> Result<JsValue, JsError> {
        let eval = match samples {
            Some(n) => self.trainer.evaluate_sample(n),
            None => self.trainer.evaluate(),
        };
        to_js(&eval.map_err(error)?)
    }

    /// The energy at every inference step of the latest batch: total and per layer.
    #[wasm_bindgen(js_name = energyTrace)]
    pub fn energy_trace(&self) -> Result<JsValue, JsError> {
        let last = self.trainer.last_step();
        to_js(&EnergyTrace {
            total: &last.energy_trace,
            per_layer: &last.energy_trace_per_layer,
        })
    }

    /// Test image `index` settling, step by step (`inspect::Replay`: the clamped and the free
    /// run, and a decoder's `dynamics`).
    pub fn replay(&self, index: usize) -> Result<JsValue, JsError> {
        to_js(&inspect::replay(&self.trainer, index).map_err(error)?)
    }

    /// A drawn image of 784 pixels in [0, 1] settling, as [`Lab::replay`]; its `label` is
    /// the class the network predicts for it.
    #[wasm_bindgen(js_name = replayPixels)]
    pub fn replay_pixels(&self, pixels: &[f32]) -> Result<JsValue, JsError> {
        to_js(&inspect::replay_pixels(&self.trainer, pixels).map_err(error)?)
    }

    /// The test digit the network explains worst: the highest settled energy among the
    /// first `inspect::LEAST_EXPLAINED_CANDIDATES`.
    #[wasm_bindgen(js_name = leastExplained)]
    pub fn least_explained(&self) -> Result<usize, JsError> {
        inspect::least_explained(&self.trainer).map_err(error)
    }

    /// `n` test images then their `n` reconstructions, 784 pixels each, in [0, 1].
    pub fn reconstructions(&self, n: usize) -> Result<Vec<f32>, JsError> {
        let (_, x) = self.test_images(n);
        let recon = self.trainer.reconstruct(&x).map_err(error)?;
        Ok(row_major(&x).into_iter().chain(row_major(&recon)).collect())
    }

    /// `n` test images (pixels in [0, 1]) with their labels and predicted probabilities.
    pub fn predictions(&self, n: usize) -> Result<JsValue, JsError> {
        let (idx, x) = self.test_images(n);
        let classified = inspect::classify(&self.trainer, &x).map_err(error)?;
        let preds = Predictions {
            labels: idx
                .iter()
                .map(|&i| self.trainer.data().test.labels()[i])
                .collect(),
            predicted: classified.iter().map(|c| c.label).collect(),
            probabilities: classified.into_iter().map(|c| c.probabilities).collect(),
        };
        let record = to_js(&preds)?;
        js_sys::Reflect::set(
            &record,
            &"images".into(),
            &js_sys::Float32Array::from(row_major(&x).as_slice()).into(),
        )
        .map_err(|_| error("predictions"))?;
        Ok(record)
    }

    /// `n` test images spread over the test set: their indices and pixels in [0, 1].
    fn test_images(&self, n: usize) -> (Vec<usize>, DMatrix<F>) {
        let idx = self.trainer.test_sample(n);
        let x = (self.trainer.data().test).images::<F>(&idx, crate::data::PixelScale::Unit);
        (idx, x)
    }

    /// Classifies one image of 784 pixels in [0, 1] (e.g. a drawn digit).
    pub fn classify(&self, pixels: &[f32]) -> Result<JsValue, JsError> {
        to_js(&inspect::classify_explained(&self.trainer, pixels).map_err(error)?)
    }

    /// `count` ancestral samples of the run as a generative model, 784 pixels each (see
    /// `crate::sampling`): class `class` clamped at layer 0 (`undefined`: layer 0 drawn from
    /// the prior), noise scale `noise` (0: the mean prediction), random seed `seed`, and
    /// the image's pixels drawn too when `pixels`. Every argument is checked by the engine.
    pub fn sample(
        &self,
        class: Option<usize>,
        count: usize,
        noise: f64,
        seed: u32,
        pixels: bool,
    ) -> Result<Vec<f32>, JsError> {
        let request = crate::sampling::SampleRequest {
            class,
            count,
            noise,
            pixels: if pixels {
                crate::sampling::Pixels::Sample
            } else {
                crate::sampling::Pixels::Mean
            },
            seed: u64::from(seed),
        };
        let layers = self.trainer.sample(&request).map_err(error)?;
        Ok(layers.last().map(row_major).unwrap_or_default())
    }

    /// The run's noise model (prior and per-layer variances), or `null` where the run is
    /// not a generative model of the image.
    #[wasm_bindgen(js_name = noiseModel)]
    pub fn noise_model(&self) -> Result<JsValue, JsError> {
        to_js(&self.trainer.noise_model())
    }

    /// Up to `n` receptive fields of the weights that touch the image, each in [0, 1].
    #[wasm_bindgen(js_name = receptiveFields)]
    pub fn receptive_fields(&self, n: usize) -> Vec<f32> {
        inspect::receptive_fields(&self.trainer, n)
    }

    /// The inference methods the gradients view compares on this run, each with its rate
    /// given the user's `rate`: `[{inference, rate}]`.
    #[wasm_bindgen(js_name = gradientVariants)]
    pub fn gradient_variants(&self, rate: f64) -> Result<JsValue, JsError> {
        to_js(&inspect::gradient_variants(self.trainer.config(), rate))
    }

    /// PC-vs-BP gradient cosines per block for an inference method (`standard`, `strict`,
    /// `fixed-prediction`, `exact`) at T steps and rate: an array, `null` where a cosine is
    /// undefined (a zero gradient).
    #[wasm_bindgen(js_name = gradientCosines)]
    pub fn gradient_cosines(
        &self,
        method: JsValue,
        steps: usize,
        rate: f64,
    ) -> Result<JsValue, JsError> {
        let method: InferenceKind = from_js(method, "inference method")?;
        to_js(&inspect::gradient_cosines(&self.trainer, method, steps, rate, 64).map_err(error)?)
    }

    /// The trained model as JSON.
    pub fn save(&self) -> Result<String, JsError> {
        inspect::save(&self.trainer).map_err(error)
    }
}

/// A λ sweep of a run's configuration, every rule of the tradeoff experiment and `seeds`
/// seeds per λ, trained in pieces so the worker can yield between them (see
/// [`crate::sweep::Sweep`]).
#[wasm_bindgen]
pub struct TradeoffSweep {
    sweep: Sweep,
}

#[wasm_bindgen]
impl TradeoffSweep {
    /// A sweep of `lab`'s configuration over `lambdas`, for both rules and `seeds` seeds
    /// from the run's own, `steps` minibatches each, tested on `test_samples` images;
    /// refused over the page's budget.
    #[wasm_bindgen(constructor)]
    pub fn new(
        lab: &Lab,
        lambdas: Vec<f64>,
        seeds: usize,
        steps: usize,
        test_samples: usize,
    ) -> Result<TradeoffSweep, JsError> {
        let config = lab.trainer.config();
        let plan = Plan::every_rule(&lambdas, config.seed, seeds, steps);
        let sweep = Sweep::new(
            config,
            lab.trainer.data(),
            &plan,
            Some(test_samples),
            Budget::PAGE,
        )
        .map_err(error)?;
        Ok(TradeoffSweep { sweep })
    }

    /// Trains at most `max_steps` more minibatches; returns whether the sweep is complete.
    pub fn advance(&mut self, max_steps: usize) -> Result<bool, JsError> {
        self.sweep.advance(max_steps).map_err(error)
    }

    /// The fraction of the sweep done.
    pub fn progress(&self) -> f64 {
        self.sweep.progress()
    }

    /// The runs measured so far: `{ rule, seed, lambda, accuracy, mse, energy_trace }`.
    pub fn points(&self) -> Result<JsValue, JsError> {
        to_js(&self.sweep.points())
    }

    /// The mean ± sd over the seeds per rule and λ: `{ rule, lambda, seeds, accuracy:
    /// { mean, sd, values }, mse }`.
    pub fn summary(&self) -> Result<JsValue, JsError> {
        to_js(&self.sweep.summary())
    }
}

/// A VAE trained by BP and one by PC with a sampled latent, side by side on the run's
/// data (see [`crate::vae::compare`]), trained in pieces so the worker can yield.
#[wasm_bindgen]
pub struct VaeComparison {
    comparison: crate::vae::compare::Comparison,
}

#[wasm_bindgen]
impl VaeComparison {
    /// Both VAEs from seed `seed` on `lab`'s data, `steps` minibatches, measured at the
    /// engine's checkpoints on `test_samples` test images; refused outside the engine's
    /// bounds (`configSchema().vae`).
    #[wasm_bindgen(constructor)]
    pub fn new(
        lab: &Lab,
        steps: usize,
        seed: u32,
        test_samples: usize,
    ) -> Result<VaeComparison, JsError> {
        let plan =
            crate::vae::compare::VaePlan::checkpointed(steps, u64::from(seed), Some(test_samples));
        let comparison =
            crate::vae::compare::Comparison::new(lab.trainer.data(), &plan).map_err(error)?;
        Ok(VaeComparison { comparison })
    }

    /// Trains at most `max_steps` more minibatches; returns whether the plan is complete.
    pub fn advance(&mut self, max_steps: usize) -> Result<bool, JsError> {
        self.comparison.advance(max_steps).map_err(error)
    }

    /// The fraction of the plan done.
    pub fn progress(&self) -> f64 {
        self.comparison.progress()
    }

    /// The checkpoints: `{ step, epoch, bp: { mse, elbo }, pc: { mse, elbo } }`.
    pub fn history(&self) -> Result<JsValue, JsError> {
        to_js(&self.comparison.history())
    }

    /// `n` test images, then the BP-VAE's and the PC-VAE's reconstructions, 784 pixels each.
    pub fn reconstructions(&self, n: usize) -> Result<Vec<f32>, JsError> {
        let images = self.comparison.reconstructions(n).map_err(error)?;
        Ok(images.iter().flat_map(row_major).collect())
    }

    /// `n` codes from N(0, I) (seed `seed`) decoded by the BP-VAE, then by the PC-VAE.
    pub fn samples(&self, n: usize, seed: u32) -> Result<Vec<f32>, JsError> {
        let images = (self.comparison)
            .samples(n, u64::from(seed))
            .map_err(error)?;
        Ok(images.iter().flat_map(row_major).collect())
    }
}

/// The configurations of the benchmark's training workloads, with their names and labels
/// (the page also times them split over its workers).
#[wasm_bindgen(js_name = benchConfigs)]
pub fn bench_configs() -> Result<JsValue, JsError> {
    to_js(&crate::bench::training_configs().map_err(error)?)
}

/// A benchmark row (without its name and label) for a workload timed elsewhere, as the engine's
/// benchmark measures its own: `times_ms` of the timed runs, `flops` and `samples` per run
/// (the page times the training steps split over its workers).
#[wasm_bindgen(js_name = benchMeasurement)]
pub fn bench_measurement(
    times_ms: Vec<f64>,
    flops: f64,
    samples: usize,
) -> Result<JsValue, JsError> {
    if times_ms.is_empty() || samples == 0 {
        return Err(error(
            "a measurement needs at least one timed run of a workload with samples",
        ));
    }
    let seconds = times_ms.iter().map(|t| (t / 1000.0).max(1e-9)).collect();
    to_js(&crate::bench::Measurement::from_runs(
        "",
        String::new(),
        seconds,
        flops,
        samples,
    ))
}

/// The most replicas (workers) a run's minibatch is split over.
#[wasm_bindgen(js_name = maxReplicas)]
pub fn max_replicas() -> usize {
    MAX_SHARDS
}

/// The fixed benchmark workloads, measured one run per [`Benchmark::advance`] so the
/// worker can yield between runs.
#[wasm_bindgen]
pub struct Benchmark {
    bench: crate::bench::Bench,
}

#[wasm_bindgen]
impl Benchmark {
    /// Every workload, each timed for about `seconds`.
    #[wasm_bindgen(constructor)]
    pub fn new(seconds: f64) -> Result<Benchmark, JsError> {
        let workloads = crate::bench::workloads().map_err(error)?;
        Ok(Benchmark {
            bench: crate::bench::Bench::new(workloads, seconds),
        })
    }

    /// One run of the current workload; returns whether every workload is measured.
    pub fn advance(&mut self) -> Result<bool, JsError> {
        self.bench.advance(|| now_ms() / 1000.0).map_err(error)
    }

    /// The fraction of the workloads measured.
    pub fn progress(&self) -> f64 {
        let (done, all) = self.bench.progress();
        done as f64 / all.max(1) as f64
    }

    /// What the measured workloads measured.
    pub fn results(&self) -> Result<JsValue, JsError> {
        to_js(&self.bench.results())
    }
}

fn row_major(m: &DMatrix<F>) -> Vec<f32> {
    m.transpose().as_slice().to_vec()
}
