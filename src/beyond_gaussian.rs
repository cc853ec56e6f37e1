//! PC beyond Gaussians, the toy that shows the gap (Pinchetti et al. 2022): a network whose
//! hidden layer is truly Bernoulli, its feedforward model `ŷ = W_2 σ(W_1 x + b_1) + b_2`,
//! trained on data from a teacher of the same form, and three learning rules on the same
//! parameters:
//!
//! - **Gaussian PC** treats the hidden layer as Gaussian around its squashed prediction:
//!   `μ_1 = σ(W_1 x + b_1)`, `E_1 = ½‖v_1 − μ_1‖²`, the belief v_1 unconstrained;
//! - **matched PC** gives it its Bernoulli energy: `μ_1 = W_1 x + b_1` (logits), the belief a
//!   distribution `v_1 = σ(φ_1)`, `E_1 = KL(v_1 ‖ σ(μ_1))` (see [`crate::energy`]);
//! - **BP** differentiates `ℓ = s·½‖y − ŷ‖²` through the feedforward pass (both PC networks
//!   compute the same ŷ, so they share it).
//!
//! The output energy is `E_2 = s·½‖y − μ_2‖²` in both PC networks; the output scale s sets
//! how hard the data nudge the beliefs (small s: the fixed-prediction limit, where PC's
//! settled errors approach BP's gradients). Reported: per block, `cos(ΔW_PC, ΔW_BP)` after T
//! steps of standard inference (rate α, no momentum), and the test loss
//! `½·mean_n ‖y_n − ŷ_n‖²` along a short full-batch SGD run of each rule from the same start.

use crate::activation::Activation;
use crate::energy::{LayerEnergy, Reduction};
use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::inference::{infer, Clamp, Inference, Standard};
use crate::learning::{bp_gradients, pc_gradients};
use crate::metrics::gradient_cosines;
use crate::network::{Gradients, Init, Network, PredictionForm};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// The toy's numbers: single precision, as the engine's training on the page (an f64
/// instantiation of the engine would double the wasm module's inference code).
type R = f32;

/// Layer sizes of the toy: input, Bernoulli hidden layer, Gaussian output.
pub const SIZES: [usize; 3] = [8, 16, 4];
/// Training and test samples.
pub const SAMPLES: (usize, usize) = (64, 256);
/// How much larger the teacher's first weights are than a fresh network's, so that its
/// hidden units are nearly binary (a truly Bernoulli layer).
const TEACHER_GAIN: f64 = 4.0;

/// The toy's settings, each bounded (see [`ToySettings::validate`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToySettings {
    /// Seeds the teacher, the data and the student.
    pub seed: u64,
    /// The inference steps T at which the cosines are taken (1..=200 each, at most 50).
    pub ts: Vec<usize>,
    /// The belief rate α of standard inference, in (0, 1].
    pub rate: f64,
    /// The output energy's scale s, in (0, 100].
    pub output_scale: f64,
    /// Inference steps of the PC rules while training (1..=200).
    pub train_t: usize,
    /// SGD steps of the training run (0..=500).
    pub train_steps: usize,
    /// The SGD learning rate, in (0, 10].
    pub lr: f64,
}

impl Default for ToySettings {
    fn default() -> Self {
        ToySettings {
            seed: 1,
            ts: vec![1, 2, 5, 10, 20, 50, 100],
            rate: 0.2,
            output_scale: 1.0,
            train_t: 50,
            train_steps: 100,
            lr: 0.05,
        }
    }
}

impl ToySettings {
    /// Checks every setting against its bounds; the message names the first problem.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str| Err(PcError::Config(format!("beyond-Gaussian toy: {what}")));
        let within = |x: f64, hi: f64| x.is_finite() && x > 0.0 && x <= hi;
        if self.ts.is_empty()
            || self.ts.len() > 50
            || self.ts.iter().any(|&t| !(1..=200).contains(&t))
        {
            return bad("ts must hold 1 to 50 step counts, each from 1 to 200");
        }
        if !within(self.rate, 1.0) {
            return bad("rate must be above 0 and at most 1");
        }
        if !within(self.output_scale, 100.0) {
            return bad("output_scale must be above 0 and at most 100");
        }
        if !(1..=200).contains(&self.train_t) {
            return bad("train_t must be from 1 to 200");
        }
        if self.train_steps > 500 {
            return bad("train_steps must be at most 500");
        }
        if !within(self.lr, 10.0) {
            return bad("lr must be above 0 and at most 10");
        }
        if self.seed > crate::config::MAX_SEED {
            return bad("seed is too large");
        }
        Ok(())
    }
}

/// A value per rule.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PerRule<V> {
    pub gaussian_pc: V,
    pub matched_pc: V,
    pub bp: V,
}

/// The toy's outcome.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Toy {
    /// The settings it ran with.
    pub settings: ToySettings,
    /// `cosines.{gaussian_pc, matched_pc}[k][l]`: block l+1's cosine with BP at T = ts[k]
    /// (BP's own is 1).
    pub cosines: PerRule<Vec<Vec<f64>>>,
    /// `loss.<rule>[k]`: the test loss after k SGD steps (k = 0..=train_steps).
    pub loss: PerRule<Vec<f64>>,
}

/// The two PC networks on one set of parameters: (Gaussian PC, matched PC).
fn networks(params: &Network<R>, scale: f64) -> Result<(Network<R>, Network<R>)> {
    let output = LayerEnergy::gaussian(Reduction::HalfSse).scaled(scale);
    let with = |activation, hidden| -> Result<Network<R>> {
        let mut blocks = params.blocks().to_vec();
        blocks[0].activation = activation;
        blocks[0].energy = hidden;
        blocks[1].energy = output;
        Network::from_blocks(blocks, PredictionForm::Post)
    };
    Ok((
        with(
            Activation::Sigmoid,
            LayerEnergy::gaussian(Reduction::HalfSse),
        )?,
        with(Activation::Identity, LayerEnergy::bernoulli())?,
    ))
}

/// A fresh `8 → 16 → 4` network (identity activations; the energies say the rest).
fn fresh(seed: u64) -> Result<Network<R>> {
    Network::new(
        &SIZES,
        &[Activation::Identity, Activation::Identity],
        PredictionForm::Post,
        Init::XavierUniform,
        seed,
    )
}

/// Standard normal inputs `n × 8` and the teacher's outputs for them.
fn dataset(
    teacher: &Network<R>,
    n: usize,
    rng: &mut ChaCha8Rng,
) -> Result<(DMatrix<R>, DMatrix<R>)> {
    // Box–Muller: √(−2 ln u₁)·cos(2π u₂) with u₁ in (0, 1].
    let x = DMatrix::from_fn(n, SIZES[0], |_, _| {
        let (u1, u2) = (1.0 - rng.gen::<f64>(), rng.gen::<f64>());
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as R
    });
    let y = teacher.predict_top(&x)?;
    Ok((x, y))
}

/// The PC weight gradient after T steps of standard inference at rate α.
fn pc(
    net: &Network<R>,
    x: &DMatrix<R>,
    y: &DMatrix<R>,
    steps: usize,
    rate: f64,
) -> Result<Gradients<R>> {
    let method = Inference::Standard(Standard {
        steps,
        lr: rate,
        momentum: 0.0,
        accumulate_weight_grads: false,
    });
    let mut flops = Flops::default();
    let settled = infer(net, Clamp::both(x, y), &method, None, &mut flops)?;
    Ok(pc_gradients(net, &settled, &mut flops))
}

/// `½·mean_n ‖y_n − ŷ_n‖²` of the feedforward prediction.
fn test_loss(net: &Network<R>, x: &DMatrix<R>, y: &DMatrix<R>) -> Result<f64> {
    let loss = (net.predict_top(x)? - y).norm_squared() / (2.0 * x.nrows() as R);
    Ok(f64::from(loss))
}

/// Which gradient a training run follows.
#[derive(Clone, Copy)]
enum Rule {
    GaussianPc,
    MatchedPc,
    Bp,
}

/// The test loss along `train_steps` full-batch SGD steps of `rule` from `start`.
fn training_curve(
    start: &Network<R>,
    rule: Rule,
    s: &ToySettings,
    train: &(DMatrix<R>, DMatrix<R>),
    test: &(DMatrix<R>, DMatrix<R>),
) -> Result<Vec<f64>> {
    let mut params = start.clone();
    let mut curve = vec![test_loss(&networks(&params, 1.0)?.1, &test.0, &test.1)?];
    for _ in 0..s.train_steps {
        let (gaussian, matched) = networks(&params, s.output_scale)?;
        let grads = match rule {
            Rule::GaussianPc => pc(&gaussian, &train.0, &train.1, s.train_t, s.rate)?,
            Rule::MatchedPc => pc(&matched, &train.0, &train.1, s.train_t, s.rate)?,
            Rule::Bp => bp_gradients(&matched, &train.0, &train.1, &mut Flops::default())?.grads,
        };
        // Plain SGD on the mean over the batch: θ ← θ − lr·∂/∂θ / B.
        let step = (s.lr / train.0.nrows() as f64) as R;
        for (block, g) in params.blocks_mut().iter_mut().zip(&grads.blocks) {
            block.weight -= &g.weight * step;
            block.bias -= &g.bias * step;
        }
        params.validate()?;
        curve.push(test_loss(&networks(&params, 1.0)?.1, &test.0, &test.1)?);
    }
    Ok(curve)
}

/// Runs the toy (see the module documentation).
pub fn run(settings: &ToySettings) -> Result<Toy> {
    settings.validate()?;
    let mut teacher = fresh(settings.seed.wrapping_mul(2).wrapping_add(1))?;
    teacher.blocks_mut()[0].weight *= TEACHER_GAIN as R;
    teacher.set_energy(1, LayerEnergy::bernoulli())?;
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let train = dataset(&teacher, SAMPLES.0, &mut rng)?;
    let test = dataset(&teacher, SAMPLES.1, &mut rng)?;
    let student = fresh(settings.seed.wrapping_mul(2).wrapping_add(2))?;
    let (gaussian, matched) = networks(&student, settings.output_scale)?;
    let bp = bp_gradients(&matched, &train.0, &train.1, &mut Flops::default())?.grads;
    let cosines_of = |net: &Network<R>| -> Result<Vec<Vec<f64>>> {
        settings
            .ts
            .iter()
            .map(|&t| {
                Ok(gradient_cosines(
                    &pc(net, &train.0, &train.1, t, settings.rate)?,
                    &bp,
                ))
            })
            .collect()
    };
    let curve = |rule| training_curve(&student, rule, settings, &train, &test);
    Ok(Toy {
        settings: settings.clone(),
        cosines: PerRule {
            gaussian_pc: cosines_of(&gaussian)?,
            matched_pc: cosines_of(&matched)?,
            bp: vec![vec![1.0; SIZES.len() - 1]; settings.ts.len()],
        },
        loss: PerRule {
            gaussian_pc: curve(Rule::GaussianPc)?,
            matched_pc: curve(Rule::MatchedPc)?,
            bp: curve(Rule::Bp)?,
        },
    })
}

/// The toy over several seeds: per rule, the cosine of each block at the largest T and
/// the final test loss, as mean ± sample sd over the runs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ToySummary {
    /// The seeds of the runs.
    pub seeds: Vec<u64>,
    /// The T of the cosines: the largest of `ts`.
    pub t: usize,
    /// `cosine.<rule>[l]`: block l+1's cosine with BP at T = t.
    pub cosine: PerRule<Vec<crate::stats::MeanSd>>,
    /// The test loss after the training run.
    pub final_loss: PerRule<crate::stats::MeanSd>,
}

/// Summarises runs of the toy with one set of settings (and their own seeds).
pub fn summarise(toys: &[Toy]) -> Result<ToySummary> {
    let first = toys
        .first()
        .ok_or_else(|| PcError::Config("a summary needs at least one run".into()))?;
    let at = first
        .settings
        .ts
        .iter()
        .enumerate()
        .max_by_key(|&(_, t)| *t)
        .map_or(0, |(k, _)| k);
    let blocks = SIZES.len() - 1;
    let cosine = |pick: fn(&Toy) -> &Vec<Vec<f64>>| {
        (0..blocks)
            .map(|l| {
                crate::stats::mean_sd(&toys.iter().map(|t| pick(t)[at][l]).collect::<Vec<_>>())
            })
            .collect()
    };
    let last = |pick: fn(&Toy) -> &Vec<f64>| {
        crate::stats::mean_sd(
            &toys
                .iter()
                .filter_map(|t| pick(t).last().copied())
                .collect::<Vec<_>>(),
        )
    };
    Ok(ToySummary {
        seeds: toys.iter().map(|t| t.settings.seed).collect(),
        t: first.settings.ts[at],
        cosine: PerRule {
            gaussian_pc: cosine(|t| &t.cosines.gaussian_pc),
            matched_pc: cosine(|t| &t.cosines.matched_pc),
            bp: cosine(|t| &t.cosines.bp),
        },
        final_loss: PerRule {
            gaussian_pc: last(|t| &t.loss.gaussian_pc),
            matched_pc: last(|t| &t.loss.matched_pc),
            bp: last(|t| &t.loss.bp),
        },
    })
}
