//! Weight optimisers with torch's semantics: SGD, momentum, Adam (L2 weight decay added
//! to the gradient, as torch `Adam(weight_decay=…)`), and AdamW-style decoupled decay.

use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::linalg::{real, Overwrite, Real};
use crate::network::Gradients;
use crate::network::Network;
use serde::{Deserialize, Serialize};

/// An optimiser's rule and hyperparameters.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OptimizerConfig {
    /// `g ← g + λθ`; `buf = m·buf + g` (first step `buf = g`); `θ ← θ − lr·buf`.
    /// `momentum = 0` is plain SGD.
    Sgd {
        /// Learning rate.
        lr: f64,
        /// Momentum m.
        momentum: f64,
        /// L2 weight decay λ.
        weight_decay: f64,
    },
    /// torch Adam: `g ← g + λθ` (or, decoupled, `θ ← θ(1 − lr·λ)`), `m = β1 m + (1−β1) g`,
    /// `v = β2 v + (1−β2) g²`, `θ ← θ − (lr/(1−β1ᵗ))·m/(√v/√(1−β2ᵗ) + eps)`.
    Adam {
        /// Learning rate.
        lr: f64,
        /// β1.
        beta1: f64,
        /// β2.
        beta2: f64,
        /// eps.
        eps: f64,
        /// Weight decay λ.
        weight_decay: f64,
        /// AdamW: decay the weights directly instead of adding λθ to the gradient.
        decoupled: bool,
    },
}

impl OptimizerConfig {
    /// torch's Adam defaults (β = (0.9, 0.999), eps = 1e-8) with the given lr and weight decay.
    pub fn adam(lr: f64, weight_decay: f64) -> Self {
        OptimizerConfig::Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            decoupled: false,
        }
    }
}

/// An optimiser with its per-parameter state.
#[derive(Clone, Debug)]
pub struct Optimizer<T: Real> {
    config: OptimizerConfig,
    step: i32,
    first: Option<Gradients<T>>,
    second: Option<Gradients<T>>,
}

impl<T: Real> Overwrite for Optimizer<T> {
    fn overwrite(&mut self, src: &Self) {
        (self.config, self.step) = (src.config, src.step);
        self.first.overwrite(&src.first);
        self.second.overwrite(&src.second);
    }
}

impl<T: Real> Optimizer<T> {
    /// Multiplies the learning rate by `factor` (a schedule's decay), keeping the state.
    pub fn scale_lr(&mut self, factor: f64) {
        match &mut self.config {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adam { lr, .. } => *lr *= factor,
        }
    }

    /// A fresh optimiser; checks that the hyperparameters are finite and sensible.
    pub fn new(config: OptimizerConfig) -> Result<Self> {
        let values: Vec<f64> = match config {
            OptimizerConfig::Sgd {
                lr,
                momentum,
                weight_decay,
            } => vec![lr, momentum, weight_decay],
            OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                ..
            } => {
                if !(0.0..1.0).contains(&beta1) || !(0.0..1.0).contains(&beta2) {
                    return Err(PcError::Config(format!(
                        "Adam betas must lie in [0, 1), got {beta1}, {beta2}"
                    )));
                }
                vec![lr, eps, weight_decay]
            }
        };
        if values.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(PcError::Config(format!(
                "optimiser settings must be finite and non-negative: {config:?}"
            )));
        }
        Ok(Optimizer {
            config,
            step: 0,
            first: None,
            second: None,
        })
    }

    /// The optimiser's configuration.
    pub fn config(&self) -> OptimizerConfig {
        self.config
    }

    /// One update of `net`'s parameters by `grads` (counted in the learning phase).
    pub fn step(
        &mut self,
        net: &mut Network<T>,
        grads: &Gradients<T>,
        flops: &mut Flops,
    ) -> Result<()> {
        if grads.blocks.len() != net.depth()
            || net
                .blocks()
                .iter()
                .zip(&grads.blocks)
                .any(|(b, g)| b.weight.shape() != g.weight.shape() || b.bias.len() != g.bias.len())
        {
            return Err(PcError::Shape(
                "gradients do not match the network's parameters".into(),
            ));
        }
        if !grads.is_finite() {
            return Err(PcError::NonFinite("a gradient is NaN or infinite".into()));
        }
        self.step += 1;
        let zeros = || Gradients::zeros(net);
        let first = self.first.get_or_insert_with(zeros);
        let config = self.config;
        let t = self.step;
        let mut second = match config {
            OptimizerConfig::Adam { .. } => Some(self.second.get_or_insert_with(zeros)),
            OptimizerConfig::Sgd { .. } => None,
        };
        let counter = &mut flops.learning;
        for (l, (block, g)) in net.blocks_mut().iter_mut().zip(&grads.blocks).enumerate() {
            let m = &mut first.blocks[l];
            let (v_weight, v_bias) = match second.as_mut() {
                Some(s) => {
                    let b = &mut s.blocks[l];
                    (Some(b.weight.as_mut_slice()), Some(b.bias.as_mut_slice()))
                }
                None => (None, None),
            };
            let tensors = [
                (
                    block.weight.as_mut_slice(),
                    g.weight.as_slice(),
                    m.weight.as_mut_slice(),
                    v_weight,
                ),
                (
                    block.bias.as_mut_slice(),
                    g.bias.as_slice(),
                    m.bias.as_mut_slice(),
                    v_bias,
                ),
            ];
            for (theta, grad, first, second) in tensors {
                *counter += 8 * theta.len() as u64;
                update(config, t, theta, grad, first, second);
            }
        }
        // Finite gradients can still overflow the moments (Adam's g² beyond f32's range),
        // which would freeze the weights they scale without an error.
        if !(self.first.iter().chain(&self.second)).all(Gradients::is_finite) {
            return Err(PcError::NonFinite(
                "the optimiser's moment estimates overflowed".into(),
            ));
        }
        Ok(())
    }
}

/// Updates one parameter tensor θ in place from its gradient and optimiser state.
fn update<T: Real>(
    config: OptimizerConfig,
    step: i32,
    theta: &mut [T],
    grad: &[T],
    first: &mut [T],
    second: Option<&mut [T]>,
) {
    match (config, second) {
        (
            OptimizerConfig::Sgd {
                lr,
                momentum,
                weight_decay,
            },
            _,
        ) => {
            let (lr, m, wd) = (real::<T>(lr), real::<T>(momentum), real::<T>(weight_decay));
            for ((p, &g), buf) in theta.iter_mut().zip(grad).zip(first.iter_mut()) {
                let d = g + wd * *p;
                *buf = if step == 1 { d } else { m * *buf + d };
                *p -= lr * *buf;
            }
        }
        (
            OptimizerConfig::Adam {
                lr,
                beta1,
                beta2,
                eps,
                weight_decay,
                decoupled,
            },
            Some(second),
        ) => {
            let step_size = real::<T>(lr / (1.0 - beta1.powi(step)));
            let correction2 = real::<T>((1.0 - beta2.powi(step)).sqrt());
            let (b1, b2, eps, one) = (real::<T>(beta1), real::<T>(beta2), real::<T>(eps), T::one());
            let (coupled, shrink) = if decoupled {
                (T::zero(), one - real::<T>(lr * weight_decay))
            } else {
                (real::<T>(weight_decay), one)
            };
            let moments = first.iter_mut().zip(second.iter_mut());
            for ((p, &g), (m, v)) in theta.iter_mut().zip(grad).zip(moments) {
                let g = g + coupled * *p;
                *m = b1 * *m + (one - b1) * g;
                *v = b2 * *v + (one - b2) * g * g;
                *p = *p * shrink - step_size * *m / (v.sqrt() / correction2 + eps);
            }
        }
        (OptimizerConfig::Adam { .. }, None) => {}
    }
}
