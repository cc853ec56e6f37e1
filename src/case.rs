//! Reference cases in the golden JSON schema: a network, a batch and a method from
//! Torch2PC's `PCInfer` (methods `Exact`, `FixedPred`, `Strict`) or the PC tutorial's
//! `PCNET` (method `TutorialPC`), and what the engine computes for them, in f64, with
//! the same field names as the case's `expected`.
//!
//! Torch2PC cases: post form, hidden energies `½‖ε‖²`, output energy the case's `loss`.
//! Tutorial cases: pre form (activation on the block input), hidden energies `‖ε‖²`,
//! output energy `‖ε‖²/k_r`, T plain gradient steps with weight gradients accumulated over
//! the states 0..T−1, both ends clamped.

use crate::activation::Activation;
use crate::energy::{LayerEnergy, Reduction};
use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::inference::{infer, Clamp, Inference, Settled, Standard};
use crate::learning::{bp_gradients, pc_gradients};
use crate::network::{Block, Network, PredictionForm};
use crate::network::{BlockGradient, Gradients};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// A batch or weight matrix as JSON rows.
pub type Rows = Vec<Vec<f64>>;

/// One block's parameters in torch's layout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Params {
    /// `W_l`, `[n_l][n_{l−1}]`.
    #[serde(rename = "W")]
    pub weight: Rows,
    /// `b_l`.
    pub b: Vec<f64>,
}

/// A reference case (the fields the engine needs; descriptive strings are ignored).
#[derive(Clone, Debug, Deserialize)]
pub struct Case {
    /// The case's name.
    #[serde(default)]
    pub name: String,
    /// `Exact`, `FixedPred`, `Strict` or `TutorialPC`.
    pub method: String,
    /// Step size (η, or the tutorial's inference_lr).
    pub eta: f64,
    /// Number of sweeps/steps (the tutorial's T), at most [`MAX_STEPS`].
    pub n: usize,
    /// The output energy: `mse_mean`, `half_sse` or `sse`.
    pub loss: String,
    /// Layer sizes `[n_0..n_L]`.
    pub layers: Vec<usize>,
    /// One activation per block.
    pub activations: Vec<String>,
    /// Parameters before the call, block 1 first.
    pub params: Vec<Params>,
    /// The input batch.
    pub x: Rows,
    /// The target batch.
    pub y: Rows,
    /// Tutorial: the number of inference steps (must equal `n`).
    #[serde(rename = "T")]
    pub steps: Option<usize>,
    /// Tutorial: the inference learning rate (must equal `eta`).
    pub inference_lr: Option<f64>,
    /// Tutorial: k_r, the output term's divisor.
    pub rescaling_k: Option<f64>,
    /// `pre` (activation on the block input) or `post`.
    pub activation_position: Option<String>,
}

/// What the engine computes for a case.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// Torch2PC: the feedforward loss; tutorial: F at state T−1.
    pub loss: f64,
    /// The weight gradients PCInfer / PCNET leave in `.grad`.
    pub grads: Vec<Params>,
    /// Beliefs per layer (`null` where the source returns none).
    pub v: Vec<Option<Rows>>,
    /// Errors per layer (`null` where the source returns none).
    pub epsilon: Vec<Option<Rows>>,
    /// Feedforward values per layer.
    pub vhat: Vec<Rows>,
    /// Tutorial: F at states 0..T.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub energy_trace: Option<Vec<f64>>,
    /// Tutorial: the gradient at state T−1 alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grads_last_step: Option<Vec<Params>>,
    /// Tutorial: the gradient at state T.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grads_final_state: Option<Vec<Params>>,
    /// Tutorial: BP's `0.5·Σ(ŷ − y)²/B`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bp_loss: Option<f64>,
    /// Tutorial: BP's gradients of `bp_loss`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bp_grads: Option<Vec<Params>>,
}

/// The most inference steps (or sweeps) a case may ask for.
pub const MAX_STEPS: usize = 10_000;
/// The most units a layer of a case may have.
pub const MAX_UNITS: usize = 4096;
/// The most layers (`n_0..n_L`) a case may have.
pub const MAX_LAYERS: usize = 64;
/// The most samples a case's batch may have.
pub const MAX_BATCH: usize = 8192;

/// Which source's formulation a case follows.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Source {
    Torch2Pc(Inference),
    Tutorial { steps: usize, rescaling: f64 },
}

impl Case {
    /// Parses a case from JSON text.
    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text).map_err(|e| PcError::Config(format!("malformed case: {e}")))
    }

    /// Checks the sizes, steps and batch against [`MAX_STEPS`], [`MAX_UNITS`],
    /// [`MAX_LAYERS`] and [`MAX_BATCH`] and that η is finite, before anything is built
    /// from them.
    fn check_bounds(&self) -> Result<()> {
        let steps = self.steps.unwrap_or(0).max(self.n);
        if steps > MAX_STEPS {
            return Err(PcError::Config(format!(
                "{steps} inference steps: a case may have at most {MAX_STEPS}"
            )));
        }
        if !(2..=MAX_LAYERS).contains(&self.layers.len()) {
            return Err(PcError::Shape(format!(
                "{} layer sizes: a case needs 2 to {MAX_LAYERS}",
                self.layers.len()
            )));
        }
        if let Some(n) = self.layers.iter().find(|&&n| !(1..=MAX_UNITS).contains(&n)) {
            return Err(PcError::Shape(format!(
                "a layer of {n} units: sizes must be 1 to {MAX_UNITS}"
            )));
        }
        if self.x.len() > MAX_BATCH {
            return Err(PcError::Shape(format!(
                "a batch of {} samples: a case may have at most {MAX_BATCH}",
                self.x.len()
            )));
        }
        if !self.eta.is_finite() {
            return Err(PcError::NonFinite(format!("eta is {}", self.eta)));
        }
        Ok(())
    }

    fn source(&self) -> Result<Source> {
        let (eta, n) = (self.eta, self.n);
        Ok(match self.method.as_str() {
            "Exact" => Source::Torch2Pc(Inference::Exact),
            "FixedPred" => Source::Torch2Pc(Inference::FixedPrediction { eta, sweeps: n }),
            "Strict" => Source::Torch2Pc(Inference::Strict { eta, steps: n }),
            "TutorialPC" => {
                let steps = self.steps.unwrap_or(n);
                if steps != n {
                    return Err(PcError::Config(format!("T = {steps} but n = {n}")));
                }
                if steps == 0 {
                    return Err(PcError::Config("a tutorial case needs T >= 1".into()));
                }
                if let Some(lr) = self.inference_lr.filter(|&lr| lr != eta) {
                    return Err(PcError::Config(format!(
                        "inference_lr = {lr} but eta = {eta}"
                    )));
                }
                let rescaling = self.rescaling_k.unwrap_or(1.0);
                if !(rescaling.is_finite() && rescaling > 0.0) {
                    return Err(PcError::Config(format!(
                        "rescaling_k must be positive, got {rescaling}"
                    )));
                }
                Source::Tutorial { steps, rescaling }
            }
            other => return Err(PcError::Config(format!("unknown method '{other}'"))),
        })
    }

    fn form(&self, source: Source) -> Result<PredictionForm> {
        match (self.activation_position.as_deref(), source) {
            (Some("pre"), _) | (None, Source::Tutorial { .. }) => Ok(PredictionForm::Pre),
            (Some("post"), _) | (None, Source::Torch2Pc(_)) => Ok(PredictionForm::Post),
            (Some(other), _) => Err(PcError::Config(format!(
                "unknown activation_position '{other}'"
            ))),
        }
    }

    /// The case's network with the source's energies.
    fn network(&self, source: Source) -> Result<Network<f64>> {
        let depth = self.params.len();
        if self.layers.len() != depth + 1 || self.activations.len() != depth {
            return Err(PcError::Shape(format!(
                "{} layers, {} activations and {} parameter blocks do not fit together",
                self.layers.len(),
                self.activations.len(),
                depth
            )));
        }
        let output = LayerEnergy::from_name(&self.loss)?;
        let (hidden, output) = match source {
            Source::Torch2Pc(_) => (LayerEnergy::gaussian(Reduction::HalfSse), output),
            Source::Tutorial { rescaling, .. } => (
                LayerEnergy::gaussian(Reduction::Sse),
                output.scaled(output.scale / rescaling),
            ),
        };
        let blocks = self
            .params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let (rows, cols) = (self.layers[i + 1], self.layers[i]);
                Ok(Block {
                    weight: to_matrix(&p.weight, rows, cols, &format!("W of block {}", i + 1))?,
                    bias: to_matrix(
                        std::slice::from_ref(&p.b),
                        1,
                        rows,
                        &format!("b of block {}", i + 1),
                    )?
                    .row(0)
                    .transpose(),
                    activation: Activation::from_name(&self.activations[i])?,
                    energy: if i + 1 == depth { output } else { hidden },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Network::from_blocks(blocks, self.form(source)?)
    }

    /// Computes every field of the case's `expected` from the case's inputs, in f64.
    pub fn evaluate(&self) -> Result<Outcome> {
        self.check_bounds()?;
        let source = self.source()?;
        let net = self.network(source)?;
        let depth = net.depth();
        let batch = self.x.len();
        let x = to_matrix(&self.x, batch, self.layers[0], "x")?;
        let y = to_matrix(&self.y, self.y.len(), self.layers[depth], "y")?;
        let vhat = net.feedforward(&x)?;
        let flops = &mut Flops::default();
        let clamp = Clamp::both(&x, &y);
        let rows = |m: &DMatrix<f64>| Some(to_rows(m));
        match source {
            Source::Torch2Pc(method) => {
                let settled = infer(&net, clamp, &method, None, flops)?;
                let grads = export(&pc_gradients(&net, &settled, flops));
                let first = usize::from(
                    method
                        != Inference::FixedPrediction {
                            eta: self.eta,
                            sweeps: self.n,
                        },
                );
                let nulls = |k: usize| std::iter::repeat_n(None, k);
                let v = match method {
                    Inference::Exact => nulls(1)
                        .chain(settled.beliefs[1..].iter().map(rows))
                        .collect(),
                    _ => settled.beliefs[..depth]
                        .iter()
                        .chain(std::iter::once(&vhat[depth]))
                        .map(rows)
                        .collect(),
                };
                let epsilon = nulls(first)
                    .chain(settled.error_gradients[first..].iter().map(rows))
                    .collect();
                Ok(Outcome {
                    loss: settled.energy_trace[0].per_layer[depth],
                    grads,
                    v,
                    epsilon,
                    vhat: vhat.iter().map(to_rows).collect(),
                    energy_trace: None,
                    grads_last_step: None,
                    grads_final_state: None,
                    bp_loss: None,
                    bp_grads: None,
                })
            }
            Source::Tutorial { steps, .. } => {
                let standard = |steps: usize, accumulate_weight_grads: bool| {
                    Inference::Standard(Standard {
                        steps,
                        lr: self.eta,
                        momentum: 0.0,
                        accumulate_weight_grads,
                    })
                };
                let settled = infer(&net, clamp, &standard(steps, true), None, flops)?;
                let before_last = infer(&net, clamp, &standard(steps - 1, false), None, flops)?;
                let accumulated = settled
                    .accumulated_grads
                    .as_ref()
                    .ok_or_else(|| PcError::Config("accumulated gradients missing".into()))?;
                let mut bp_net = net.clone();
                let half_sse_mean =
                    LayerEnergy::gaussian(Reduction::HalfSse).scaled(1.0 / batch as f64);
                bp_net.set_energy(depth, half_sse_mean)?;
                let bp = bp_gradients(&bp_net, &x, &y, flops)?;
                Ok(Outcome {
                    loss: settled.energy_trace[steps - 1].total,
                    grads: export(accumulated),
                    v: settled.beliefs.iter().map(rows).collect(),
                    epsilon: std::iter::once(None)
                        .chain(settled.errors[1..].iter().map(rows))
                        .collect(),
                    vhat: vhat.iter().map(to_rows).collect(),
                    energy_trace: Some(trace_totals(&settled)),
                    grads_last_step: Some(export(&pc_gradients(&net, &before_last, flops))),
                    grads_final_state: Some(export(&pc_gradients(&net, &settled, flops))),
                    bp_loss: Some(bp.loss),
                    bp_grads: Some(export(&bp.grads)),
                })
            }
        }
    }
}

fn trace_totals(settled: &Settled<f64>) -> Vec<f64> {
    settled.energy_trace.iter().map(|r| r.total).collect()
}

/// JSON rows as a `rows × cols` matrix, checking the shape and finiteness.
fn to_matrix(data: &[Vec<f64>], rows: usize, cols: usize, what: &str) -> Result<DMatrix<f64>> {
    if data.len() != rows || data.iter().any(|r| r.len() != cols) {
        return Err(PcError::Shape(format!("{what} must be {rows} x {cols}")));
    }
    if rows == 0 {
        return Err(PcError::Shape(format!("{what} is empty")));
    }
    if data.iter().flatten().any(|x| !x.is_finite()) {
        return Err(PcError::NonFinite(format!(
            "{what} contains NaN or infinity"
        )));
    }
    Ok(DMatrix::from_fn(rows, cols, |i, j| data[i][j]))
}

fn to_rows(m: &DMatrix<f64>) -> Rows {
    m.row_iter().map(|r| r.iter().copied().collect()).collect()
}

fn export(grads: &Gradients<f64>) -> Vec<Params> {
    grads
        .blocks
        .iter()
        .map(
            |BlockGradient { weight, bias }: &BlockGradient<f64>| Params {
                weight: to_rows(weight),
                b: bias.iter().copied().collect(),
            },
        )
        .collect()
}
