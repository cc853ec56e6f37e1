//! Backpropagation through the unrolled standard inference: the gradient of an outer loss
//! `L(v(T))` with respect to the weights θ, differentiating through all T inference steps
//! (training a PC network by BP while keeping its inference).
//!
//! Standard inference moves the free beliefs by
//! `buf_t = m·buf_{t−1} + ∂F/∂v(v_t; θ)` (with `buf_{−1} = 0`) and `v_{t+1} = v_t − α·buf_t`,
//! so `v(T)` is a differentiable function of θ. Reverse mode with the adjoints
//! `a_t = dL/dv_t` and `c_t = dL/dbuf_t` runs, for t = T−1 down to 0,
//!
//! `c_t = m·c_{t+1} − α·a_{t+1}`, `a_t = a_{t+1} + (∂²F/∂v²)(v_t)·c_t`,
//! `dL/dθ += (∂²F/∂v∂θ)(v_t)ᵀ·c_t`,
//!
//! from `a_T = ∂L/∂v(T)` and `c_T = 0`. Each block l contributes `E_l(μ_l(v_{l−1}), v_l)`
//! to F; with `E = p·Σ[A(μ) − vμ + h(v)]` its second derivatives are `∂²E/∂μ² = p·m'(μ)`,
//! `∂²E/∂μ∂v = −p·I` and `∂²E/∂v² = p·h''(v)` (`p·I` Gaussian, 0 otherwise), chained through
//! the prediction's Jacobian and its curvature f''.
//!
//! Beliefs that are not descended on also depend on θ: the feedforward start
//! `v_l(0) = m(μ_l(v_{l−1}(0)))` (no `initial` state) and a free output `v_L = m(μ_L(v_{L−1}))`;
//! the adjoint is carried through both.

use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::inference::{standard, Clamp, EnergyRecord, Observer, Settled, Standard, State};
use crate::linalg::{axpy, hadamard, mul, mul_transposed, real, transposed_mul, Real};
use crate::network::{
    backpropagate, parameter_gradients, Block, BlockPoint, Gradients, Network, PredictionForm,
};
use nalgebra::DMatrix;

/// Standard inference run forward with its whole trajectory kept for the backward pass.
#[derive(Clone, Debug)]
pub struct Unrolled<T: Real> {
    /// The beliefs `v(0), …, v(T)`, each layer-indexed (clamped ends hold their data).
    pub trajectory: Vec<Vec<DMatrix<T>>>,
    /// The energy at every state, the initial one included.
    pub energy_trace: Vec<EnergyRecord<T>>,
    settings: Standard,
    input_free: bool,
    output_free: bool,
    feedforward_start: bool,
    sizes: Vec<usize>,
    form: PredictionForm,
}

/// `dL/dθ` through the unrolled inference.
#[derive(Clone, Debug)]
pub struct UnrolledGradients<T: Real> {
    /// `dL/dθ` for every block (the direct term `∂L/∂θ` included).
    pub parameters: Gradients<T>,
    /// `dL/dv(0)` for a caller-supplied initial state: non-zero on the descended layers only
    /// (layer 0 when it is free, the hidden layers). `None` for the feedforward start, whose
    /// dependence on θ is already in `parameters`.
    pub initial: Option<Vec<DMatrix<T>>>,
}

/// The adjoints during the backward pass: `a_l = dL/dv_l` of the current state and the
/// `dL/dθ` gathered so far.
struct Adjoints<T: Real> {
    beliefs: Vec<DMatrix<T>>,
    parameters: Gradients<T>,
}

/// One state linearised: every block's point, and each layer's prediction error `ε_l` and
/// error gradient `g_l = ∂E_l/∂μ_l` (layer-indexed; entry 0 is empty).
struct Linearised<T: Real> {
    points: Vec<BlockPoint<T>>,
    eps: Vec<DMatrix<T>>,
    g: Vec<DMatrix<T>>,
    energy: EnergyRecord<T>,
}

/// Linearises every block at the beliefs `v`; a free output is first set to its prediction's
/// mean `v_L = m(μ_L)`, as standard inference does.
fn linearise<T: Real>(
    net: &Network<T>,
    v: &mut [DMatrix<T>],
    output_free: bool,
    flops: &mut u64,
) -> Linearised<T> {
    let depth = net.depth();
    let empty = || DMatrix::zeros(0, 0);
    let mut lin = Linearised {
        points: Vec::with_capacity(depth),
        eps: vec![empty()],
        g: vec![empty()],
        energy: EnergyRecord {
            total: T::zero(),
            per_layer: vec![T::zero(); depth + 1],
        },
    };
    for (i, block) in net.blocks().iter().enumerate() {
        let l = i + 1;
        let mut pt = BlockPoint::empty();
        block.linearise(net.form(), &v[i], &mut pt, flops);
        if output_free && l == depth {
            block.energy.mean(&pt.mu, &mut v[l], flops);
        }
        let mut eps = DMatrix::zeros(pt.mu.nrows(), pt.mu.ncols());
        let e = block.energy.evaluate(&pt.mu, &v[l], &mut eps, flops);
        let mut g = eps.clone();
        block.energy.error_gradient(&eps, &mut g, flops);
        lin.energy.per_layer[l] = e;
        lin.energy.total += e;
        lin.points.push(pt);
        lin.eps.push(eps);
        lin.g.push(g);
    }
    lin
}

impl<T: Real> Unrolled<T> {
    /// Whether layer l is descended on: layer 0 when free, every hidden layer.
    fn descended(&self, l: usize) -> bool {
        (l > 0 || self.input_free) && l + 1 < self.sizes.len()
    }

    fn depth(&self) -> usize {
        self.sizes.len() - 1
    }

    /// The beliefs `v(T)` after inference.
    pub fn beliefs(&self) -> &[DMatrix<T>] {
        self.trajectory.last().map_or(&[], Vec::as_slice)
    }

    /// Carries the adjoint `ā_l` of a belief set to its prediction's mean,
    /// `v_l = m(μ_l(v_{l−1}))`, into block l's parameters and (when descended) `a_{l−1}`:
    /// `δ = (m'(μ_l) ā_l) ⊙ f'`, `dL/dW_l += δᵀ·input`, `a_{l−1} += J_lᵀ m'(μ_l) ā_l`.
    fn through_mean(
        &self,
        block: &Block<T>,
        pt: &BlockPoint<T>,
        l: usize,
        adjoint: &DMatrix<T>,
        adj: &mut Adjoints<T>,
        flops: &mut u64,
    ) {
        let mut dmu = DMatrix::zeros(adjoint.nrows(), adjoint.ncols());
        block.energy.mean_tangent(&pt.mu, adjoint, &mut dmu, flops);
        let mut delta = DMatrix::zeros(0, 0);
        block.delta(self.form, pt, &dmu, &mut delta, flops);
        let grad = &mut adj.parameters.blocks[l - 1];
        block.parameter_gradient(pt, &delta, grad, T::one(), flops);
        if self.descended(l - 1) {
            let mut back = DMatrix::zeros(0, 0);
            block.input_gradient(self.form, pt, &delta, &mut back, flops);
            axpy(&mut adj.beliefs[l - 1], T::one(), &back, flops);
        }
    }

    /// Adds `(∂²F/∂v²)·c` to the belief adjoints and `(∂²F/∂v∂θ)ᵀ·c` to `dL/dθ` at a linearised state, block
    /// by block. For block l with `x = v_{l−1}`, `y = v_l`, tangents `c_x`, `c_y`:
    /// `dμ = J c_x`, `dg = p·m'(μ)·dμ − p·c_y`, `dδ = dg ⊙ f'(z) + g ⊙ f''(z) ⊙ (c_x Wᵀ)` (post)
    /// or `dg` (pre); then `(Hc)_x += dδ W` (post) or `(dδ W) ⊙ f'(x) + (g W) ⊙ f''(x) ⊙ c_x`
    /// (pre), `(Hc)_y += p·h''·c_y − p·dμ`, `dW += dδᵀ·input + δᵀ·d(input)`, `db += Σ dδ`.
    fn curvature(
        &self,
        net: &Network<T>,
        lin: &Linearised<T>,
        c: &[DMatrix<T>],
        adj: &mut Adjoints<T>,
        flops: &mut u64,
    ) {
        let a = &mut adj.beliefs;
        let depth = self.depth();
        for (i, (block, pt)) in net.blocks().iter().zip(&lin.points).enumerate() {
            let l = i + 1;
            let (x_free, y_free) = (self.descended(i), self.descended(l));
            // A free output is its prediction's mean: g_L ≡ 0, block L adds nothing to ∂F/∂v.
            if !(x_free || y_free) || (self.output_free && l == depth) {
                continue;
            }
            let (batch, n) = (pt.mu.nrows(), pt.mu.ncols());
            let p = block.energy.precision::<T>(batch, n);
            let g = &lin.g[l];
            *flops += pt.arg.len() as u64;
            let curv = pt.arg.map(|x| block.activation.second_derivative(x));
            let mut dg = DMatrix::zeros(batch, n);
            let mut dmu = DMatrix::zeros(batch, n);
            let mut d_input = DMatrix::zeros(0, 0);
            let mut dz = DMatrix::zeros(0, 0);
            if x_free {
                let cx = &c[i];
                match self.form {
                    PredictionForm::Post => {
                        dz = DMatrix::zeros(batch, n);
                        mul_transposed(&mut dz, cx, &block.weight, T::zero(), flops);
                        hadamard(&mut dmu, &dz, &pt.slope, flops);
                        d_input.clone_from(cx);
                    }
                    PredictionForm::Pre => {
                        d_input = DMatrix::zeros(batch, cx.ncols());
                        hadamard(&mut d_input, cx, &pt.slope, flops);
                        mul_transposed(&mut dmu, &d_input, &block.weight, T::zero(), flops);
                    }
                }
                block.energy.mean_tangent(&pt.mu, &dmu, &mut dg, flops);
                *flops += dg.len() as u64;
                dg *= p;
            }
            if y_free {
                axpy(&mut dg, -p, &c[l], flops);
                if matches!(
                    block.energy.distribution,
                    crate::energy::Distribution::Gaussian(_)
                ) {
                    axpy(&mut a[l], p, &c[l], flops);
                }
                if x_free {
                    axpy(&mut a[l], -p, &dmu, flops);
                }
            }
            let mut ddelta = DMatrix::zeros(0, 0);
            block.delta(self.form, pt, &dg, &mut ddelta, flops);
            if x_free && self.form == PredictionForm::Post {
                *flops += 3 * dz.len() as u64;
                ddelta.zip_zip_apply(g, &curv.component_mul(&dz), |d, g, k| *d += g * k);
            }
            let grad = &mut adj.parameters.blocks[i];
            block.parameter_gradient(pt, &ddelta, grad, T::one(), flops);
            if !x_free {
                continue;
            }
            let mut delta = DMatrix::zeros(0, 0);
            block.delta(self.form, pt, g, &mut delta, flops);
            transposed_mul(&mut grad.weight, &delta, &d_input, T::one(), flops);
            let mut back = DMatrix::zeros(0, 0);
            block.input_gradient(self.form, pt, &ddelta, &mut back, flops);
            if self.form == PredictionForm::Pre {
                let mut gw = DMatrix::zeros(batch, block.weight.ncols());
                mul(&mut gw, g, &block.weight, T::zero(), flops);
                *flops += 3 * gw.len() as u64;
                back.zip_zip_apply(&gw, &curv.component_mul(&c[i]), |b, gw, k| *b += gw * k);
            }
            axpy(&mut a[i], T::one(), &back, flops);
        }
    }

    /// `dL/dθ` through the whole inference, given `outer[l] = ∂L/∂v_l(T)` for every layer
    /// (entries of clamped ends are ignored) and optionally the direct term `∂L/∂θ`.
    pub fn backward(
        &self,
        net: &Network<T>,
        outer: &[DMatrix<T>],
        direct: Option<&Gradients<T>>,
        flops: &mut Flops,
    ) -> Result<UnrolledGradients<T>> {
        if net.sizes() != self.sizes || net.form() != self.form {
            return Err(PcError::Shape(format!(
                "the network ({:?}, {:?}) is not the one that was unrolled ({:?}, {:?})",
                net.sizes(),
                net.form(),
                self.sizes,
                self.form
            )));
        }
        if outer.len() != self.sizes.len() {
            return Err(PcError::Shape(format!(
                "the outer gradient needs {} layers, got {}",
                self.sizes.len(),
                outer.len()
            )));
        }
        let batch = self.beliefs()[0].nrows();
        for (l, o) in outer.iter().enumerate() {
            net.check_batch(o, l, &format!("outer gradient of layer {l}"))?;
            crate::network::check_same_batch(o, &self.beliefs()[0])?;
        }
        let parameters = match direct {
            Some(d) => {
                let fits = d.blocks.iter().zip(net.blocks()).all(|(g, b)| {
                    g.weight.shape() == b.weight.shape() && g.bias.len() == b.bias.len()
                });
                if d.blocks.len() != net.depth() || !fits {
                    return Err(PcError::Shape(
                        "the direct parameter gradient does not fit the network".into(),
                    ));
                }
                d.clone()
            }
            None => Gradients::zeros(net),
        };
        let counter = &mut flops.bp;
        let (depth, alpha, m) = (
            self.depth(),
            real::<T>(self.settings.lr),
            real::<T>(self.settings.momentum),
        );
        let beliefs = outer
            .iter()
            .enumerate()
            .map(|(l, o)| match self.descended(l) {
                true => o.clone(),
                false => DMatrix::zeros(batch, self.sizes[l]),
            })
            .collect();
        let mut adj = Adjoints {
            beliefs,
            parameters,
        };
        let state = |t: usize, flops: &mut u64| {
            let mut v = self.trajectory[t].clone();
            linearise(net, &mut v, self.output_free, flops)
        };
        if self.output_free {
            let lin = state(self.settings.steps, counter);
            let block = &net.blocks()[depth - 1];
            let pt = &lin.points[depth - 1];
            self.through_mean(block, pt, depth, &outer[depth], &mut adj, counter);
        }
        let mut c: Vec<DMatrix<T>> = self
            .sizes
            .iter()
            .map(|&n| DMatrix::zeros(batch, n))
            .collect();
        for t in (0..self.settings.steps).rev() {
            for l in (0..=depth).filter(|&l| self.descended(l)) {
                *counter += 3 * c[l].len() as u64;
                c[l].zip_apply(&adj.beliefs[l], |c, a| *c = m * *c - alpha * a);
            }
            let lin = state(t, counter);
            self.curvature(net, &lin, &c, &mut adj, counter);
        }
        if !self.feedforward_start {
            return Ok(UnrolledGradients {
                parameters: adj.parameters,
                initial: Some(adj.beliefs),
            });
        }
        // The feedforward start v_l(0) = m(μ_l(v_{l−1}(0))), l = 1..L−1, backwards.
        let lin = state(0, counter);
        for l in (1..depth).rev() {
            let adjoint = std::mem::replace(&mut adj.beliefs[l], DMatrix::zeros(0, 0));
            let block = &net.blocks()[l - 1];
            self.through_mean(block, &lin.points[l - 1], l, &adjoint, &mut adj, counter);
        }
        Ok(UnrolledGradients {
            parameters: adj.parameters,
            initial: None,
        })
    }
}

/// Records every state `v(0), …, v(T)` of standard inference.
struct Trajectory<T: Real>(Vec<Vec<DMatrix<T>>>);

impl<T: Real> Observer<T> for Trajectory<T> {
    fn visit(&mut self, _net: &Network<T>, _t: usize, state: &State<T>, _flops: &mut u64) {
        self.0.push(state.v.clone());
    }
}

/// A readout's energy joins the inference on a free layer 0.
impl<T: Real> Observer<T> for Readout<'_, T> {
    fn layer0_energy(&mut self, v0: &DMatrix<T>, flops: &mut u64) -> Option<(T, DMatrix<T>)> {
        Some(self.energy_gradient(v0, flops))
    }
}

/// Runs standard inference (`settings` as in [`Inference::Standard`], `clamp` and `initial` as
/// for [`infer`](crate::inference::infer)) and keeps every state for [`Unrolled::backward`].
/// FLOPs count into `flops.bp`. The backward pass is written for Gaussian hidden layers.
pub fn unroll<T: Real>(
    net: &Network<T>,
    clamp: Clamp<'_, T>,
    settings: &Standard,
    initial: Option<&[DMatrix<T>]>,
    flops: &mut Flops,
) -> Result<Unrolled<T>> {
    if net.has_distribution_hidden() {
        return Err(PcError::Config(
            "BP through inference assumes Gaussian hidden layers, not categorical or Bernoulli ones".into(),
        ));
    }
    let settings = Standard {
        accumulate_weight_grads: false,
        ..*settings
    };
    let mut trajectory = Trajectory(Vec::with_capacity(settings.steps + 1));
    let settled = standard(
        net,
        clamp,
        &settings,
        initial,
        &mut trajectory,
        &mut flops.bp,
    )?;
    Ok(Unrolled {
        trajectory: trajectory.0,
        energy_trace: settled.energy_trace,
        settings,
        input_free: clamp.input.is_none(),
        output_free: clamp.output.is_none(),
        feedforward_start: initial.is_none(),
        sizes: net.sizes(),
        form: net.form(),
    })
}

/// Standard inference on `F + E_r(v_0)`: the network's energy plus a readout's energy on a
/// free layer 0 (e.g. a classifier read from the latent, with its label as target), so the
/// readout's gradient `∂E_r/∂v_0` joins `∂F/∂v_0`. The readout's energy is reported as
/// layer 0's. FLOPs count into `flops.inference`.
pub fn settle_with_readout<T: Real>(
    net: &Network<T>,
    clamp: Clamp<'_, T>,
    settings: &Standard,
    initial: Option<&[DMatrix<T>]>,
    mut readout: Readout<'_, T>,
    flops: &mut Flops,
) -> Result<Settled<T>> {
    if clamp.input.is_some() {
        return Err(PcError::Config(
            "a readout's energy on layer 0 needs a free layer 0".into(),
        ));
    }
    readout.check(net.sizes()[0], clamp.output.map_or(0, |y| y.nrows()))?;
    let settings = Standard {
        accumulate_weight_grads: false,
        ..*settings
    };
    standard(
        net,
        clamp,
        &settings,
        initial,
        &mut readout,
        &mut flops.inference,
    )
}

/// A network that reads layer 0 and scores its prediction against a target:
/// `E_r(v_0) = E_out(μ_r(v_0), y)`, e.g. a classifier read from the latent (target: the
/// label) or a decoder's feedforward reconstruction (target: the image).
#[derive(Clone, Copy, Debug)]
pub struct Readout<'a, T: Real> {
    /// The readout network; its layer 0 is the belief it reads.
    pub net: &'a Network<T>,
    /// `y`, one row per sample.
    pub target: &'a DMatrix<T>,
}

/// A readout at a belief v_0: its energy and gradients.
#[derive(Clone, Debug)]
pub struct ReadoutGradients<T: Real> {
    /// `E_r(v_0)`.
    pub energy: T,
    /// `∂E_r/∂v_0`.
    pub input: DMatrix<T>,
    /// `∂E_r/∂θ_r`.
    pub parameters: Gradients<T>,
}

impl<T: Real> Readout<'_, T> {
    /// Checks the readout against a layer 0 of `n0` units and `batch` samples (0: any).
    fn check(&self, n0: usize, batch: usize) -> Result<()> {
        self.net.validate()?;
        let sizes = self.net.sizes();
        if sizes[0] != n0 {
            return Err(PcError::Shape(format!(
                "the readout reads {} units, layer 0 has {n0}",
                sizes[0]
            )));
        }
        self.net
            .check_batch(self.target, self.net.depth(), "readout target")?;
        if batch != 0 && self.target.nrows() != batch {
            return Err(PcError::Shape(format!(
                "the readout target has {} samples, the batch {batch}",
                self.target.nrows()
            )));
        }
        Ok(())
    }

    /// The readout's points along `v_0`, its energy, and its error gradients
    /// `g_l = ∂E_r/∂v̂_l` (backpropagated from `g_out = ∂E_out/∂μ_r`).
    fn linearise(
        &self,
        v0: &DMatrix<T>,
        flops: &mut u64,
    ) -> (T, Vec<BlockPoint<T>>, Vec<DMatrix<T>>) {
        let points = self.net.feedforward_points(v0, flops);
        let depth = self.net.depth();
        let out = &self.net.blocks()[depth - 1].energy;
        let mu = &points[depth - 1].mu;
        let mut eps = DMatrix::zeros(mu.nrows(), mu.ncols());
        let energy = out.evaluate(mu, self.target, &mut eps, flops);
        let mut g_out = eps.clone();
        out.error_gradient(&eps, &mut g_out, flops);
        let g = backpropagate(self.net, &points, g_out, flops);
        (energy, points, g)
    }

    /// `(E_r, ∂E_r/∂v_0 = J_1ᵀ g_1)`.
    fn energy_gradient(&self, v0: &DMatrix<T>, flops: &mut u64) -> (T, DMatrix<T>) {
        let (energy, points, g) = self.linearise(v0, flops);
        (energy, self.input_gradient(&points, &g, flops))
    }

    fn input_gradient(
        &self,
        points: &[BlockPoint<T>],
        g: &[DMatrix<T>],
        flops: &mut u64,
    ) -> DMatrix<T> {
        let (first, form) = (&self.net.blocks()[0], self.net.form());
        let mut delta = DMatrix::zeros(0, 0);
        first.delta(form, &points[0], &g[1], &mut delta, flops);
        let mut grad = DMatrix::zeros(0, 0);
        first.input_gradient(form, &points[0], &delta, &mut grad, flops);
        grad
    }

    /// The readout's energy and its gradients with respect to `v_0` and to its parameters
    /// (backpropagation through the readout); FLOPs count into `flops.bp`.
    pub fn evaluate(&self, v0: &DMatrix<T>, flops: &mut Flops) -> Result<ReadoutGradients<T>> {
        self.check(v0.ncols(), v0.nrows())?;
        self.net.check_batch(v0, 0, "readout input")?;
        let counter = &mut flops.bp;
        let (energy, points, g) = self.linearise(v0, counter);
        let input = self.input_gradient(&points, &g, counter);
        let mut parameters = Gradients::zeros(self.net);
        parameter_gradients(self.net, &points, &g, &mut parameters, T::zero(), counter);
        Ok(ReadoutGradients {
            energy,
            input,
            parameters,
        })
    }
}
