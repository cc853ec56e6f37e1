//! Per-layer energies: the negative log-likelihood of a belief v_l under its
//! prediction μ_l, and the prediction errors they define.
//!
//! Every energy here is an exponential family in the natural parameter μ:
//!
//! `E(μ, v) = p·Σ [A(μ) − v·μ + h(v)]`, with mean `m(μ) = A'(μ)`,
//!
//! - Gaussian: `A = μ²/2`, `h = v²/2`, `m = μ`, so `E = (p/2)·‖v − μ‖²`;
//! - categorical: `A = logsumexp(μ)` per sample, `h = 0`, `m = softmax(μ)`, so `E` is the
//!   softmax cross-entropy whenever each row of v sums to one;
//! - Bernoulli: `A = softplus(μ)`, `h = 0`, `m = σ(μ)`, so `E` is BCE on logits.
//!
//! The prediction error is `ε = v − m(μ)`, and in all three cases
//! `∂E/∂μ = −p·ε` (the "error gradient" that drives learning). The precision `p` is the
//! layer's scale times the Gaussian reduction factor.
//!
//! A *hidden* categorical or Bernoulli layer (Pinchetti et al. 2022) holds a belief that is
//! itself a distribution over its units, `v = m(φ)` with free natural parameters φ, and its
//! energy is the divergence of that belief from the prediction,
//! `E = p·KL(v ‖ m(μ)) = p·Σ [A(μ) − v·μ + A*(v)]` with the negative entropy
//! `A*(v) = Σ v ln v` (categorical) or `Σ v ln v + (1 − v) ln(1 − v)` (Bernoulli)
//! ([`LayerEnergy::evaluate_hidden`]). It is ≥ 0 and 0 exactly at `v = m(μ)`, so descending φ
//! is bounded below (without `A*` the energy is linear in v and pushes v to a corner).
//! `∂E/∂μ = −p·ε` still; `∂E/∂v = p·(φ − μ)` up to a per-sample constant (categorical), and
//! `∂E/∂φ = J_m(φ)·∂E/∂v` with the symmetric Jacobian of [`LayerEnergy::mean_tangent`],
//! which annihilates that constant.

use crate::linalg::{dot, real, Real};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// How a Gaussian energy reduces the squared errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reduction {
    /// `½·Σ ε²` (precision 1).
    HalfSse,
    /// `Σ ε²` (precision 2; torch `MSELoss(reduction="sum")`).
    Sse,
    /// `Σ ε² / (B·n)` (precision 2/(B·n); torch `MSELoss()`).
    MseMean,
}

/// The distribution of a layer's belief given its prediction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Distribution {
    /// Gaussian with identity covariance (squared error).
    Gaussian(Reduction),
    /// Categorical over the units of a sample (softmax cross-entropy, error `softmax(μ) − y`).
    Categorical,
    /// Independent Bernoulli units (binary cross-entropy on logits).
    Bernoulli,
}

/// The energy of one layer: a distribution and a scale factor (the tutorial divides its
/// output term by k_r, i.e. scale 1/k_r).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerEnergy {
    /// The belief's distribution given the prediction.
    pub distribution: Distribution,
    /// Multiplies the whole term.
    pub scale: f64,
}

impl LayerEnergy {
    /// A Gaussian energy with scale 1.
    pub fn gaussian(reduction: Reduction) -> Self {
        LayerEnergy {
            distribution: Distribution::Gaussian(reduction),
            scale: 1.0,
        }
    }

    /// Softmax cross-entropy with scale 1.
    pub fn categorical() -> Self {
        LayerEnergy {
            distribution: Distribution::Categorical,
            scale: 1.0,
        }
    }

    /// Binary cross-entropy on logits with scale 1.
    pub fn bernoulli() -> Self {
        LayerEnergy {
            distribution: Distribution::Bernoulli,
            scale: 1.0,
        }
    }

    /// The same energy multiplied by `scale`.
    pub fn scaled(self, scale: f64) -> Self {
        LayerEnergy { scale, ..self }
    }

    /// This energy on `part` samples of a minibatch of `whole`, with the precision each
    /// sample has in the whole minibatch. Only the batch mean depends on the batch size:
    /// `p(part)·part/whole = 2/(whole·n) = p(whole)`; every other energy is a plain sum.
    pub fn on_part(self, part: usize, whole: usize) -> Self {
        match self.distribution {
            Distribution::Gaussian(Reduction::MseMean) if part != whole && part > 0 => {
                self.scaled(self.scale * part as f64 / whole as f64)
            }
            _ => self,
        }
    }

    /// Parses a reduction/loss name: half_sse, sse, mse_mean (or mse), cross_entropy, bce.
    pub fn from_name(name: &str) -> crate::Result<Self> {
        Ok(match name {
            "half_sse" => Self::gaussian(Reduction::HalfSse),
            "sse" => Self::gaussian(Reduction::Sse),
            "mse_mean" | "mse" => Self::gaussian(Reduction::MseMean),
            "cross_entropy" | "categorical" => Self::categorical(),
            "bce" | "bernoulli" => Self::bernoulli(),
            other => return Err(crate::PcError::Config(format!("unknown energy '{other}'"))),
        })
    }

    /// The precision p of a `batch × units` layer: `scale · {1, 2, 2/(B·n)}` for the
    /// Gaussian reductions, `scale` otherwise.
    pub fn precision<T: Real>(&self, batch: usize, units: usize) -> T {
        let factor = match self.distribution {
            Distribution::Gaussian(Reduction::HalfSse) => 1.0,
            Distribution::Gaussian(Reduction::Sse) => 2.0,
            Distribution::Gaussian(Reduction::MseMean) => 2.0 / (batch * units) as f64,
            Distribution::Categorical | Distribution::Bernoulli => 1.0,
        };
        real(self.scale * factor)
    }

    /// Writes `m(μ)`, the expected belief under the prediction, into `out`.
    pub fn mean<T: Real>(&self, mu: &DMatrix<T>, out: &mut DMatrix<T>, flops: &mut u64) {
        let lse = self.log_partition(mu);
        self.mean_given(mu, &lse, out, flops);
    }

    /// The categorical's log-partition `lse_i = log Σ_k e^{μ_ik}` of every sample (empty
    /// for the other distributions): the softmax and the energy both need it.
    fn log_partition<T: Real>(&self, mu: &DMatrix<T>) -> Vec<T> {
        match self.distribution {
            Distribution::Categorical => row_logsumexp(mu),
            _ => Vec::new(),
        }
    }

    /// [`LayerEnergy::mean`] given the log-partition ([`LayerEnergy::log_partition`]).
    fn mean_given<T: Real>(
        &self,
        mu: &DMatrix<T>,
        lse: &[T],
        out: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        *flops += 2 * mu.len() as u64;
        out.copy_from(mu);
        match self.distribution {
            Distribution::Gaussian(_) => {}
            Distribution::Bernoulli => out.apply(|x| *x = sigmoid(*x)),
            Distribution::Categorical => subtract_and_exp(out, lse),
        }
    }

    /// The prediction error `ε = v − m(μ)`, written into `eps` (given the log-partition).
    fn prediction_error<T: Real>(
        &self,
        mu: &DMatrix<T>,
        lse: &[T],
        v: &DMatrix<T>,
        eps: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        self.mean_given(mu, lse, eps, flops);
        *flops += mu.len() as u64;
        eps.zip_apply(v, |e, v| *e = v - *e);
    }

    /// The energy `E(μ, v)`; writes the prediction error `ε = v − m(μ)` into `eps`.
    pub fn evaluate<T: Real>(
        &self,
        mu: &DMatrix<T>,
        v: &DMatrix<T>,
        eps: &mut DMatrix<T>,
        flops: &mut u64,
    ) -> T {
        let p = self.precision::<T>(mu.nrows(), mu.ncols());
        let lse = self.log_partition(mu);
        self.prediction_error(mu, &lse, v, eps, flops);
        *flops += 2 * mu.len() as u64;
        let half = real::<T>(0.5);
        let sum = match self.distribution {
            Distribution::Gaussian(_) => dot(eps.as_slice(), eps.as_slice()) * half,
            Distribution::Bernoulli => mu
                .iter()
                .zip(v.iter())
                .fold(T::zero(), |a, (&m, &v)| a + softplus(m) - v * m),
            Distribution::Categorical => {
                lse.iter().fold(T::zero(), |a, &l| a + l) - dot(mu.as_slice(), v.as_slice())
            }
        };
        p * sum
    }

    /// `g = ∂E/∂μ = −p·ε`, written into `out`.
    pub fn error_gradient<T: Real>(&self, eps: &DMatrix<T>, out: &mut DMatrix<T>, flops: &mut u64) {
        let p = self.precision::<T>(eps.nrows(), eps.ncols());
        *flops += eps.len() as u64;
        out.zip_apply(eps, |o, e| *o = -(p * e));
    }

    /// Adds `∂E/∂v` to `out`: `p·ε` for the Gaussian, `−p·μ` for the others.
    pub fn add_belief_gradient<T: Real>(
        &self,
        mu: &DMatrix<T>,
        eps: &DMatrix<T>,
        out: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        let p = self.precision::<T>(mu.nrows(), mu.ncols());
        let (source, coefficient) = match self.distribution {
            Distribution::Gaussian(_) => (eps, p),
            Distribution::Categorical | Distribution::Bernoulli => (mu, -p),
        };
        crate::linalg::axpy(out, coefficient, source, flops);
    }

    /// Whether this is a distribution over units (categorical, Bernoulli): as a hidden layer
    /// its belief is held as natural parameters φ with `v = m(φ)`.
    pub fn is_distribution(&self) -> bool {
        !matches!(self.distribution, Distribution::Gaussian(_))
    }

    /// The energy of a hidden layer: [`LayerEnergy::evaluate`] plus `p·A*(v)`, so that a
    /// distribution belief scores `p·KL(v ‖ m(μ))` (the Gaussian's `h` is already in
    /// `evaluate`); writes `ε = v − m(μ)` into `eps`. Each unit's (Bernoulli) or sample's
    /// (categorical) divergence is summed as computed and kept ≥ 0, so that rounding near
    /// `v = m(μ)` cannot show a negative divergence; a NaN stays NaN (a diverging run must
    /// see it).
    pub fn evaluate_hidden<T: Real>(
        &self,
        mu: &DMatrix<T>,
        v: &DMatrix<T>,
        eps: &mut DMatrix<T>,
        flops: &mut u64,
    ) -> T {
        if !self.is_distribution() {
            return self.evaluate(mu, v, eps, flops);
        }
        let lse = self.log_partition(mu);
        self.prediction_error(mu, &lse, v, eps, flops);
        *flops += 7 * mu.len() as u64;
        let xlnx = |x: T| if x > T::zero() { x * x.ln() } else { T::zero() };
        // Not `max`, which is fmax and would turn a NaN into 0.
        let at_least_zero = |d: T| if d < T::zero() { T::zero() } else { d };
        let sum = if self.distribution == Distribution::Bernoulli {
            mu.iter().zip(v.iter()).fold(T::zero(), |a, (&m, &v)| {
                a + at_least_zero(softplus(m) - v * m + xlnx(v) + xlnx(T::one() - v))
            })
        } else {
            lse.into_iter().enumerate().fold(T::zero(), |a, (i, lse)| {
                let row = mu
                    .row(i)
                    .iter()
                    .zip(v.row(i).iter())
                    .fold(lse, |k, (&m, &v)| k + xlnx(v) - v * m);
                a + at_least_zero(row)
            })
        };
        self.precision::<T>(mu.nrows(), mu.ncols()) * sum
    }

    /// Adds `∂E/∂v = p·(φ − μ)` of a hidden distribution belief `v = m(φ)` to `out`
    /// (for the categorical, up to the per-sample constant `p·(1 − lse φ)` that
    /// `J_m(φ)` annihilates).
    pub(crate) fn add_divergence_gradient<T: Real>(
        &self,
        mu: &DMatrix<T>,
        phi: &DMatrix<T>,
        out: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        let p = self.precision::<T>(mu.nrows(), mu.ncols());
        *flops += 3 * mu.len() as u64;
        for ((o, &f), &m) in out.iter_mut().zip(phi.iter()).zip(mu.iter()) {
            *o += p * (f - m);
        }
    }

    /// Natural parameters φ with `m(φ) = v` for a distribution belief: `ln v`
    /// (categorical, rows summing to one) or `logit v` (Bernoulli), with v kept inside
    /// `[δ, 1 − δ]`, δ = 1e−12, so that a belief on a corner stays finite.
    pub(crate) fn natural_parameters<T: Real>(&self, v: &DMatrix<T>) -> DMatrix<T> {
        let (lo, hi) = (real::<T>(1e-12), real::<T>(1.0 - 1e-12));
        match self.distribution {
            Distribution::Gaussian(_) => v.clone(),
            Distribution::Categorical => v.map(|v| v.max(lo).ln()),
            Distribution::Bernoulli => v.map(|v| {
                let v = v.max(lo).min(hi);
                (v / (T::one() - v)).ln()
            }),
        }
    }

    /// `out = (∂m/∂μ)·u`, the derivative of the mean in direction `u` (the matrix is
    /// symmetric, so this is also the vector-Jacobian product; `p` times it is `∂²E/∂μ²·u`):
    /// `u` (Gaussian), `σ'(μ) ⊙ u` (Bernoulli), `s ⊙ (u − sᵀu)` per row with
    /// `s = softmax(μ)` (categorical).
    pub(crate) fn mean_tangent<T: Real>(
        &self,
        mu: &DMatrix<T>,
        u: &DMatrix<T>,
        out: &mut DMatrix<T>,
        flops: &mut u64,
    ) {
        self.mean(mu, out, flops);
        *flops += 3 * mu.len() as u64;
        match self.distribution {
            Distribution::Gaussian(_) => out.copy_from(u),
            Distribution::Bernoulli => out.zip_apply(u, |s, u| *s = *s * (T::one() - *s) * u),
            Distribution::Categorical => {
                let dots: Vec<T> = (0..mu.nrows()).map(|i| out.row(i).dot(&u.row(i))).collect();
                for (mut col, u) in out.column_iter_mut().zip(u.column_iter()) {
                    for ((s, &u), &dot) in col.iter_mut().zip(u.iter()).zip(&dots) {
                        *s *= u - dot;
                    }
                }
            }
        }
    }
}

fn sigmoid<T: Real>(x: T) -> T {
    T::one() / (T::one() + (-x).exp())
}

/// softplus(x) = log(1 + eˣ), computed without overflow.
fn softplus<T: Real>(x: T) -> T {
    x.max(T::zero()) + (T::one() + (-x.abs()).exp()).ln()
}

/// logsumexp of each row (sample), computed stably.
fn row_logsumexp<T: Real>(mu: &DMatrix<T>) -> Vec<T> {
    (0..mu.nrows())
        .map(|i| {
            let row = mu.row(i);
            let top = row.max();
            top + row.iter().fold(T::zero(), |a, &x| a + (x - top).exp()).ln()
        })
        .collect()
}

/// `m_ik ← e^{m_ik − lse_i}`: each row's softmax, given its log-sum-exp.
fn subtract_and_exp<T: Real>(m: &mut DMatrix<T>, lse: &[T]) {
    for mut col in m.column_iter_mut() {
        for (x, &l) in col.iter_mut().zip(lse) {
            *x = (*x - l).exp();
        }
    }
}
