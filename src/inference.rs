//! Settling the beliefs v_l: the four inference methods.
//!
//! - [`Inference::Exact`]: errors are BP gradients (Torch2PC "Exact").
//! - [`Inference::FixedPrediction`]: Torch2PC "FixedPred": synchronous sweeps over layers
//!   0..L−1 with predictions and Jacobians frozen at the feedforward values.
//! - [`Inference::Strict`]: Torch2PC "Strict": gradient descent on F with both ends clamped,
//!   with Torch2PC's choice of state for the weight gradient.
//! - [`Inference::Standard`]: gradient descent (optionally with momentum) on the total
//!   energy `F = Σ_l E_l(μ_l(v_{l−1}), v_l)` over the free beliefs (the tutorial's PC).
//!
//! With `g_l = ∂E_l/∂μ_l` and `J_l` the Jacobian of `μ_l` w.r.t. `v_{l−1}`, the gradient on a
//! free belief is `∂F/∂v_l = ∂E_l/∂v_l + J_{l+1}ᵀ g_{l+1}`; for Gaussian energies
//! `∂E_l/∂v_l = p_l ε_l` with `ε_l = v_l − μ_l`.
//!
//! A hidden categorical or Bernoulli layer's belief is a distribution `v_l = m(φ_l)`
//! (softmax, sigmoid) with free natural parameters φ_l, scored by `E_l = p_l·KL(v_l ‖ m(μ_l))`
//! (see [`crate::energy`]); standard inference descends φ_l by
//! `∂F/∂φ_l = J_m(φ_l)·(p_l(φ_l − μ_l) + J_{l+1}ᵀ g_{l+1})` and predicts upward from `v_l`.
//! Exact and fixed-prediction inference are Gaussian-only (Torch2PC's methods).

use crate::energy::{LayerEnergy, Reduction};
use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::linalg::{axpy, real, Real};
use crate::network::{backpropagate, check_same_batch, BlockPoint, Gradients, Network};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// Which ends of the network are clamped to data. A `None` end is free: a free layer 0
/// (a latent at the top of a generative network) is inferred by the same gradient descent,
/// a free output layer settles to its prediction, `v_L = m(μ_L)`.
#[derive(Clone, Copy, Debug)]
pub struct Clamp<'a, T: Real> {
    /// Layer 0's data `x` (`B × n_0`), or `None` for a free layer 0.
    pub input: Option<&'a DMatrix<T>>,
    /// Layer L's data `y` (`B × n_L`), or `None` for a free output layer.
    pub output: Option<&'a DMatrix<T>>,
}

impl<'a, T: Real> Clamp<'a, T> {
    /// Only layer 0 clamped (the output settles to its prediction).
    pub fn input_only(x: &'a DMatrix<T>) -> Self {
        Clamp {
            input: Some(x),
            output: None,
        }
    }

    /// Only layer L clamped (layer 0 is inferred, e.g. a generative model's latent).
    pub fn output_only(y: &'a DMatrix<T>) -> Self {
        Clamp {
            input: None,
            output: Some(y),
        }
    }

    /// Both ends clamped: supervised learning.
    pub fn both(x: &'a DMatrix<T>, y: &'a DMatrix<T>) -> Self {
        Clamp {
            input: Some(x),
            output: Some(y),
        }
    }
}

/// Settings of standard PC inference.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standard {
    /// Number of gradient steps T.
    pub steps: usize,
    /// The belief learning rate α.
    pub lr: f64,
    /// torch SGD momentum m: `buf = m·buf + ∂F/∂v` (first step `buf = ∂F/∂v`), `v −= α·buf`.
    pub momentum: f64,
    /// Also sum the weight gradients over the states t = 0..T−1, as the tutorial's code does
    /// (its `.grad` is never zeroed during inference); see [`Settled::accumulated_grads`].
    pub accumulate_weight_grads: bool,
}

/// An inference method.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Inference {
    /// `g_L = ∂ℓ/∂μ_L`, `g_l = J_{l+1}(v̂_l)ᵀ g_{l+1}`, `v_l = v̂_l − g_l`, `ε_l = −g_l`.
    Exact,
    /// `v_l ← v_l − η·(∂E_l/∂v_l + J_{l+1}(v̂_l)ᵀ g_{l+1})` for l = 0..L−1 with `μ_l = v̂_l`
    /// frozen (layer 0 with a unit Gaussian around x) and `g_L = ∂ℓ/∂v̂_L` fixed.
    FixedPrediction {
        /// Step size η.
        eta: f64,
        /// Number of synchronous sweeps n.
        sweeps: usize,
    },
    /// Gradient descent with step η on F over v_1..v_{L−1}; the weight gradient pairs the
    /// errors before the last step with the linearisation after it, as Torch2PC does.
    Strict {
        /// Step size η.
        eta: f64,
        /// Number of steps n (at least 1).
        steps: usize,
    },
    /// Gradient descent on F over the free beliefs.
    Standard(Standard),
}

/// The energy at one state: the total and each layer's term (index = layer).
#[derive(Clone, Debug, PartialEq)]
pub struct EnergyRecord<T: Real> {
    /// `F = Σ_l E_l`.
    pub total: T,
    /// `E_l` for l = 0..L (layer 0 is non-zero only in fixed-prediction inference).
    pub per_layer: Vec<T>,
}

impl<T: Real> EnergyRecord<T> {
    fn new(per_layer: Vec<T>) -> Self {
        let total = per_layer.iter().fold(T::zero(), |a, &e| a + e);
        EnergyRecord { total, per_layer }
    }
}

/// The outcome of inference.
#[derive(Clone, Debug)]
pub struct Settled<T: Real> {
    /// The beliefs `v_0..v_L` at the end (a clamped end holds its data).
    pub beliefs: Vec<DMatrix<T>>,
    /// The prediction errors `ε_l = v_l − m(μ_l)`, layer-indexed; entry 0 is zero except in
    /// fixed-prediction inference. Standard: at the final state; fixed-prediction and strict:
    /// before the last update (Torch2PC).
    pub errors: Vec<DMatrix<T>>,
    /// The error gradients `g_l = ∂E_l/∂μ_l` that go with `errors` and drive learning.
    pub error_gradients: Vec<DMatrix<T>>,
    /// The energy at every state visited, the initial one included.
    pub energy_trace: Vec<EnergyRecord<T>>,
    /// With [`Standard::accumulate_weight_grads`]: `Σ_{t=0}^{T−1} ∂F/∂θ(v(t))`.
    pub accumulated_grads: Option<Gradients<T>>,
    /// Where each block is linearised for the PC weight gradient.
    pub(crate) points: Vec<BlockPoint<T>>,
}

fn check_step(name: &str, x: f64) -> Result<()> {
    if !x.is_finite() || x < 0.0 {
        return Err(PcError::Config(format!(
            "{name} must be finite and non-negative, got {x}"
        )));
    }
    Ok(())
}

/// Settles the beliefs of `net` with the data in `clamp`.
///
/// `initial` (standard inference only) gives all L+1 starting beliefs instead of the
/// feedforward initialisation (clamped ends are overwritten by their data); it is required
/// when layer 0 is free; a distribution layer's initial belief v starts its natural
/// parameters at `ln v` (categorical) or `logit v` (Bernoulli), so it becomes `m(φ)`
/// (normalised, kept off the corners). Exact, fixed-prediction and strict inference need
/// both ends clamped.
pub fn infer<T: Real>(
    net: &Network<T>,
    clamp: Clamp<'_, T>,
    method: &Inference,
    initial: Option<&[DMatrix<T>]>,
    flops: &mut Flops,
) -> Result<Settled<T>> {
    let counter = &mut flops.inference;
    if matches!(method, Inference::Exact | Inference::FixedPrediction { .. })
        && net.has_distribution_hidden()
    {
        return Err(PcError::Config(
            "exact and fixed-prediction inference assume Gaussian hidden layers; a categorical or Bernoulli hidden layer needs standard or strict inference".into(),
        ));
    }
    // Torch2PC's methods start from the feedforward pass with both ends clamped.
    let supervised = || {
        check_clamp(net, clamp)?;
        match (clamp.input, clamp.output, initial) {
            (Some(x), Some(y), None) => Ok((x, y)),
            (_, _, Some(_)) => Err(PcError::Config(format!(
                "{method:?} inference starts from the feedforward pass; an initial state applies only to standard inference"
            ))),
            _ => Err(PcError::Config(format!(
                "{method:?} inference needs both the input and the output clamped"
            ))),
        }
    };
    match *method {
        Inference::Standard(cfg) => standard(net, clamp, &cfg, initial, &mut (), counter),
        Inference::Exact => {
            let (x, y) = supervised()?;
            Ok(exact(net, x, y, counter))
        }
        Inference::FixedPrediction { eta, sweeps } => {
            let (x, y) = supervised()?;
            check_step("eta", eta)?;
            Ok(fixed_prediction(net, x, y, real(eta), sweeps, counter))
        }
        Inference::Strict { eta, steps } => {
            supervised()?;
            check_step("eta", eta)?;
            if steps == 0 {
                return Err(PcError::Config(
                    "strict inference needs at least one step".into(),
                ));
            }
            strict(net, clamp, eta, steps, counter)
        }
    }
}

/// Checks the network and the data at its clamped ends.
fn check_clamp<T: Real>(net: &Network<T>, clamp: Clamp<'_, T>) -> Result<()> {
    net.validate()?;
    if let Some(x) = clamp.input {
        net.check_batch(x, 0, "input")?;
    }
    if let Some(y) = clamp.output {
        net.check_batch(y, net.depth(), "target")?;
    }
    if let (Some(x), Some(y)) = (clamp.input, clamp.output) {
        check_same_batch(x, y)?;
    }
    Ok(())
}

/// Zero matrices `B × n_l` for every layer.
fn layer_buffers<T: Real>(sizes: &[usize], batch: usize) -> Vec<DMatrix<T>> {
    sizes.iter().map(|&n| DMatrix::zeros(batch, n)).collect()
}

/// The output layer's loss `ℓ = E_L(μ_L, y)`, its error `ε_L` and `g_L = ∂ℓ/∂μ_L`.
fn output_error<T: Real>(
    net: &Network<T>,
    mu: &DMatrix<T>,
    y: &DMatrix<T>,
    flops: &mut u64,
) -> (T, DMatrix<T>, DMatrix<T>) {
    let energy = &net.blocks()[net.depth() - 1].energy;
    let mut eps = DMatrix::zeros(mu.nrows(), mu.ncols());
    let loss = energy.evaluate(mu, y, &mut eps, flops);
    let mut g = eps.clone();
    energy.error_gradient(&eps, &mut g, flops);
    (loss, eps, g)
}

/// Torch2PC Exact: the errors are the BP gradients `g_l = ∂ℓ/∂v̂_l`, `v_l = v̂_l − g_l`.
fn exact<T: Real>(net: &Network<T>, x: &DMatrix<T>, y: &DMatrix<T>, flops: &mut u64) -> Settled<T> {
    let depth = net.depth();
    let points = net.feedforward_points(x, flops);
    let (loss, _, g_out) = output_error(net, &points[depth - 1].mu, y, flops);
    let mut g = backpropagate(net, &points, g_out, flops);
    g[0] = DMatrix::zeros(x.nrows(), x.ncols());
    let errors: Vec<DMatrix<T>> = g.iter().map(|g| -g).collect();
    let beliefs = std::iter::once(x.clone())
        .chain(points.iter().zip(&errors[1..]).map(|(p, e)| &p.mu + e))
        .collect();
    let mut per_layer = vec![T::zero(); depth + 1];
    per_layer[depth] = loss;
    Settled {
        beliefs,
        errors,
        error_gradients: g,
        energy_trace: vec![EnergyRecord::new(per_layer)],
        accumulated_grads: None,
        points,
    }
}

/// Torch2PC FixedPred: synchronous sweeps `v_l ← v_l − η·(∂E_l/∂v_l + J_{l+1}(v̂_l)ᵀ g_{l+1})`
/// over l = 0..L−1 with frozen predictions `μ_l = v̂_l` (layer 0: a unit Gaussian around x)
/// and the output's `g_L = ∂ℓ/∂v̂_L` fixed. Returns the errors of the last sweep's start.
fn fixed_prediction<T: Real>(
    net: &Network<T>,
    x: &DMatrix<T>,
    y: &DMatrix<T>,
    eta: T,
    sweeps: usize,
    flops: &mut u64,
) -> Settled<T> {
    let (depth, form, batch) = (net.depth(), net.form(), x.nrows());
    let points = net.feedforward_points(x, flops);
    let vhat = |l: usize| if l == 0 { x } else { &points[l - 1].mu };
    let input_energy = LayerEnergy::gaussian(Reduction::HalfSse);
    let energy = |l: usize| {
        if l == 0 {
            &input_energy
        } else {
            &net.blocks()[l - 1].energy
        }
    };
    let sizes = net.sizes();
    let mut v: Vec<DMatrix<T>> = (0..depth).map(|l| vhat(l).clone()).collect();
    v.push(y.clone());
    let mut eps = layer_buffers(&sizes, batch);
    let mut g = layer_buffers(&sizes, batch);
    let (loss, eps_out, g_out) = output_error(net, vhat(depth), y, flops);
    (eps[depth], g[depth]) = (eps_out, g_out);
    let mut delta = layer_buffers(&sizes, batch);
    let mut step = layer_buffers(&sizes, batch);
    let mut back = layer_buffers(&sizes, batch);
    let mut trace = Vec::with_capacity(sweeps + 1);
    let mut reported = None;
    for sweep in 0..=sweeps {
        let mut per_layer = vec![T::zero(); depth + 1];
        per_layer[depth] = loss;
        for l in 0..depth {
            per_layer[l] = energy(l).evaluate(vhat(l), &v[l], &mut eps[l], flops);
            energy(l).error_gradient(&eps[l], &mut g[l], flops);
        }
        trace.push(EnergyRecord::new(per_layer));
        if sweep + 1 == sweeps.max(1) {
            reported = Some((eps.clone(), g.clone()));
        }
        if sweep == sweeps {
            break;
        }
        for l in 0..depth {
            let (block, pt) = (&net.blocks()[l], &points[l]);
            block.delta(form, pt, &g[l + 1], &mut delta[l + 1], flops);
            block.input_gradient(form, pt, &delta[l + 1], &mut back[l], flops);
            step[l].copy_from(&back[l]);
            energy(l).add_belief_gradient(vhat(l), &eps[l], &mut step[l], flops);
            axpy(&mut v[l], -eta, &step[l], flops);
        }
    }
    let (errors, error_gradients) = reported.unwrap_or((eps, g));
    Settled {
        beliefs: v,
        errors,
        error_gradients,
        energy_trace: trace,
        accumulated_grads: None,
        points,
    }
}

/// The working state of gradient-descent inference at one state `v(t)`.
pub(crate) struct State<T: Real> {
    /// The beliefs `v_l`.
    pub(crate) v: Vec<DMatrix<T>>,
    /// Every block linearised at the beliefs below it.
    pub(crate) points: Vec<BlockPoint<T>>,
    /// The prediction errors `ε_l`.
    pub(crate) eps: Vec<DMatrix<T>>,
    /// The error gradients `g_l = ∂E_l/∂μ_l`.
    pub(crate) g: Vec<DMatrix<T>>,
    /// `δ_l` of the blocks above the free layers (while stepping, t < T).
    pub(crate) delta: Vec<DMatrix<T>>,
    /// `∂E_r/∂v_0` of an observer's energy on layer 0.
    layer0_gradient: Option<DMatrix<T>>,
    /// The natural parameters φ_l of a distribution layer's belief `v_l = m(φ_l)` (hidden
    /// categorical and Bernoulli layers; `None` elsewhere).
    phi: Vec<Option<DMatrix<T>>>,
}

/// What a caller of standard inference sees besides the energy trace, and what it adds:
/// recording the trajectory, accumulating weight gradients, a readout's energy on a free
/// layer 0.
pub(crate) trait Observer<T: Real> {
    /// An extra energy on layer 0 and its gradient, `(E_r, ∂E_r/∂v_0)` at `v_0` (e.g. a
    /// classifier read from a free latent); it joins F and `∂F/∂v_0`.
    fn layer0_energy(&mut self, _v0: &DMatrix<T>, _flops: &mut u64) -> Option<(T, DMatrix<T>)> {
        None
    }

    /// Called at every state t = 0..=T once it is evaluated; for t < T the state's `δ_l`
    /// (those the belief update needs) are set.
    fn visit(&mut self, _net: &Network<T>, _t: usize, _state: &State<T>, _flops: &mut u64) {}
}

/// Standard inference observed by nobody.
impl<T: Real> Observer<T> for () {}

/// Sums `∂F/∂θ(v(t))` over the states t = 0..T−1, as the tutorial's code does (its
/// `.grad` is never zeroed during inference).
struct Accumulate<T: Real> {
    steps: usize,
    input_clamped: bool,
    sum: Gradients<T>,
    delta1: DMatrix<T>,
}

impl<T: Real> Observer<T> for Accumulate<T> {
    fn visit(&mut self, net: &Network<T>, t: usize, s: &State<T>, flops: &mut u64) {
        if t == self.steps {
            return;
        }
        for (l, (block, pt)) in net.blocks().iter().zip(&s.points).enumerate() {
            // δ_1 is not needed for the beliefs when layer 0 is clamped; compute it here.
            let delta = if l == 0 && self.input_clamped {
                block.delta(net.form(), pt, &s.g[1], &mut self.delta1, flops);
                &self.delta1
            } else {
                &s.delta[l + 1]
            };
            block.parameter_gradient(pt, delta, &mut self.sum.blocks[l], T::one(), flops);
        }
    }
}

/// The prediction errors `ε_l` and error gradients `g_l` of one state.
type Errors<T> = (Vec<DMatrix<T>>, Vec<DMatrix<T>>);

/// Keeps the errors of state `at` (Torch2PC Strict reports those before the last step).
struct ErrorsAt<T: Real> {
    at: usize,
    errors: Option<Errors<T>>,
}

impl<T: Real> Observer<T> for ErrorsAt<T> {
    fn visit(&mut self, _net: &Network<T>, t: usize, s: &State<T>, _flops: &mut u64) {
        if t == self.at {
            self.errors = Some((s.eps.clone(), s.g.clone()));
        }
    }
}

impl<T: Real> State<T> {
    /// Evaluates the state: relinearises blocks `from..=L` at their current inputs (the
    /// others cannot have changed), sets a free output to its prediction, and computes every
    /// `ε_l`, `g_l` and `E_l` (and the observer's layer-0 energy).
    fn evaluate(
        &mut self,
        net: &Network<T>,
        from: usize,
        output_free: bool,
        observer: &mut impl Observer<T>,
        flops: &mut u64,
    ) -> EnergyRecord<T> {
        let depth = net.depth();
        let mut per_layer = vec![T::zero(); depth + 1];
        for (l, energy) in per_layer.iter_mut().enumerate().skip(1) {
            let block = &net.blocks()[l - 1];
            if l >= from {
                block.linearise(net.form(), &self.v[l - 1], &mut self.points[l - 1], flops);
            }
            let mu = &self.points[l - 1].mu;
            if output_free && l == depth {
                block.energy.mean(mu, &mut self.v[l], flops);
            }
            *energy = net.layer_energy(l, mu, &self.v[l], &mut self.eps[l], flops);
            block
                .energy
                .error_gradient(&self.eps[l], &mut self.g[l], flops);
        }
        self.layer0_gradient = observer.layer0_energy(&self.v[0], flops).map(|(e, grad)| {
            per_layer[0] = e;
            grad
        });
        EnergyRecord::new(per_layer)
    }
}

/// Standard inference: validates, then descends (see [`descend`]).
pub(crate) fn standard<T: Real>(
    net: &Network<T>,
    clamp: Clamp<'_, T>,
    cfg: &Standard,
    initial: Option<&[DMatrix<T>]>,
    observer: &mut impl Observer<T>,
    flops: &mut u64,
) -> Result<Settled<T>> {
    check_clamp(net, clamp)?;
    check_step("the belief learning rate", cfg.lr)?;
    check_step("the momentum", cfg.momentum)?;
    if cfg.accumulate_weight_grads {
        let mut accumulate = Accumulate {
            steps: cfg.steps,
            input_clamped: clamp.input.is_some(),
            sum: Gradients::zeros(net),
            delta1: DMatrix::zeros(0, 0),
        };
        let mut settled = descend(net, clamp, cfg, initial, &mut accumulate, flops)?;
        settled.accumulated_grads = Some(accumulate.sum);
        return Ok(settled);
    }
    descend(net, clamp, cfg, initial, observer, flops)
}

/// Torch2PC Strict: T steps of gradient descent on F (rate η, no momentum) with both ends
/// clamped from the feedforward start; the weight gradient pairs the errors of state
/// T−1 (before the last step) with the linearisation at state T.
fn strict<T: Real>(
    net: &Network<T>,
    clamp: Clamp<'_, T>,
    eta: f64,
    steps: usize,
    flops: &mut u64,
) -> Result<Settled<T>> {
    let cfg = Standard {
        steps,
        lr: eta,
        momentum: 0.0,
        accumulate_weight_grads: false,
    };
    let mut previous = ErrorsAt {
        at: steps - 1,
        errors: None,
    };
    let mut settled = descend(net, clamp, &cfg, None, &mut previous, flops)?;
    if let Some((errors, error_gradients)) = previous.errors {
        (settled.errors, settled.error_gradients) = (errors, error_gradients);
    }
    Ok(settled)
}

/// Gradient descent on F over the free beliefs, the one loop of standard (and strict)
/// inference: `buf_t = m·buf_{t−1} + ∂F/∂v(v_t)` (`buf_0 = ∂F/∂v(v_0)`), `v_{t+1} = v_t − α·buf_t`,
/// with `∂F/∂v_l = ∂E_l/∂v_l + J_{l+1}ᵀ g_{l+1}` (plus the observer's `∂E_r/∂v_0` on layer 0).
fn descend<T: Real>(
    net: &Network<T>,
    clamp: Clamp<'_, T>,
    cfg: &Standard,
    initial: Option<&[DMatrix<T>]>,
    observer: &mut impl Observer<T>,
    flops: &mut u64,
) -> Result<Settled<T>> {
    let (depth, form, sizes) = (net.depth(), net.form(), net.sizes());
    let input_free = clamp.input.is_none();
    let output_free = clamp.output.is_none();
    let mut v = match initial {
        Some(init) => initial_beliefs(net, init)?,
        None if input_free => {
            return Err(PcError::Config(
                "a free layer 0 needs an initial state for the beliefs".into(),
            ))
        }
        None => {
            let batch = clamp.input.map_or(0, |x| x.nrows());
            layer_buffers(&sizes, batch)
        }
    };
    let batch = v[0].nrows();
    for (layer, data) in [(0, clamp.input), (depth, clamp.output)] {
        if let Some(d) = data {
            check_same_batch(&v[layer], d)?;
            v[layer].copy_from(d);
        }
    }
    let mut s = State {
        v,
        points: vec![BlockPoint::empty(); depth],
        eps: layer_buffers(&sizes, batch),
        g: layer_buffers(&sizes, batch),
        delta: layer_buffers(&sizes, batch),
        layer0_gradient: None,
        phi: vec![None; depth + 1],
    };
    let mut from = 1;
    if initial.is_none() {
        // Feedforward initialisation: v_l = m(μ_l(v_{l−1})), so every hidden ε_l = 0.
        for l in 1..=depth {
            let block = &net.blocks()[l - 1];
            block.linearise(form, &s.v[l - 1], &mut s.points[l - 1], flops);
            if l < depth {
                block.energy.mean(&s.points[l - 1].mu, &mut s.v[l], flops);
            }
        }
        from = depth + 1;
    }
    for l in 1..depth {
        let energy = &net.blocks()[l - 1].energy;
        if energy.is_distribution() {
            // The feedforward start has φ_l = μ_l; a given belief its natural parameters.
            let phi = match initial {
                None => s.points[l - 1].mu.clone(),
                Some(_) => energy.natural_parameters(&s.v[l]),
            };
            energy.mean(&phi, &mut s.v[l], flops);
            s.phi[l] = Some(phi);
        }
    }
    // With layer 0 clamped, block 1's prediction never changes after the first evaluation.
    let relinearise_from = if input_free { 1 } else { 2 };
    let lowest_free = usize::from(!input_free);
    let momentum = real::<T>(cfg.momentum);
    let lr = real::<T>(cfg.lr);
    let mut back = layer_buffers(&sizes, batch);
    let mut velocity = layer_buffers(&sizes, batch);
    // `J_m(φ_l)·u` of the distribution layers only (no buffer for a Gaussian network).
    let mut tangent: Vec<DMatrix<T>> = (s.phi.iter())
        .map(|phi| {
            phi.as_ref()
                .map_or_else(|| DMatrix::zeros(0, 0), Clone::clone)
        })
        .collect();
    let mut trace = Vec::with_capacity(cfg.steps + 1);
    for t in 0..cfg.steps {
        trace.push(s.evaluate(net, from, output_free, observer, flops));
        from = relinearise_from;
        for (l, d) in s.delta.iter_mut().enumerate().skip(lowest_free + 1) {
            let (block, pt) = (&net.blocks()[l - 1], &s.points[l - 1]);
            block.delta(form, pt, &s.g[l], d, flops);
        }
        observer.visit(net, t, &s, flops);
        for l in lowest_free..depth {
            let buf = &mut velocity[l];
            if t == 0 || cfg.momentum == 0.0 {
                buf.fill(T::zero());
            } else {
                *flops += buf.len() as u64;
                *buf *= momentum;
            }
            let above = &net.blocks()[l];
            if let Some(phi) = s.phi[l].as_mut() {
                // ∂F/∂φ_l = J_m(φ_l)·(∂E_l/∂v_l + J_{l+1}ᵀ g_{l+1}); then v_l = m(φ_l).
                let energy = &net.blocks()[l - 1].energy;
                above.input_gradient(form, &s.points[l], &s.delta[l + 1], &mut back[l], flops);
                energy.add_divergence_gradient(&s.points[l - 1].mu, phi, &mut back[l], flops);
                energy.mean_tangent(phi, &back[l], &mut tangent[l], flops);
                axpy(buf, T::one(), &tangent[l], flops);
                axpy(phi, -lr, buf, flops);
                energy.mean(phi, &mut s.v[l], flops);
                continue;
            }
            if l >= 1 {
                let block = &net.blocks()[l - 1];
                block
                    .energy
                    .add_belief_gradient(&s.points[l - 1].mu, &s.eps[l], buf, flops);
            } else if let Some(grad) = &s.layer0_gradient {
                axpy(buf, T::one(), grad, flops);
            }
            above.input_gradient(form, &s.points[l], &s.delta[l + 1], &mut back[l], flops);
            axpy(buf, T::one(), &back[l], flops);
            axpy(&mut s.v[l], -lr, buf, flops);
        }
    }
    trace.push(s.evaluate(net, from, output_free, observer, flops));
    observer.visit(net, cfg.steps, &s, flops);
    Ok(Settled {
        beliefs: s.v,
        errors: s.eps,
        error_gradients: s.g,
        energy_trace: trace,
        accumulated_grads: None,
        points: s.points,
    })
}

/// Validates a caller-supplied initial state: L+1 finite batches of one size.
fn initial_beliefs<T: Real>(net: &Network<T>, init: &[DMatrix<T>]) -> Result<Vec<DMatrix<T>>> {
    if init.len() != net.depth() + 1 {
        return Err(PcError::Shape(format!(
            "an initial state needs {} layers, got {}",
            net.depth() + 1,
            init.len()
        )));
    }
    for (l, m) in init.iter().enumerate() {
        net.check_batch(m, l, &format!("initial belief of layer {l}"))?;
        check_same_batch(&init[0], m)?;
    }
    Ok(init.to_vec())
}
