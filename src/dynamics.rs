//! Inference dynamics of a decoder with an inferred latent (compress, tradeoff), as the
//! PC-trained against BP-trained comparison shows them (Rathjens & Wiskott 2024: train
//! the same network by the PC rule and by BP through its unrolled inference, then look
//! at how inference behaves in each). For one image, along the test-time inference
//! `v(0), …, v(T)` (image clamped at layer L, latent `v_0` inferred from zero):
//!
//! - the latent's distance from where it settles, `‖v_0(t) − v_0(T)‖`;
//! - the reconstruction `x̂(t) = m(μ_L)` of the feedforward decoder from `v_0(t)` (what the
//!   test measures at `t = T`), its error per pixel, and the image at selected steps;
//! - with a classifier on the latent (tradeoff), the class read-out `softmax(W_c v_0(t) + b_c)`:
//!   the predicted class and its probability.
//!
//! The energy per layer over t is the replay's own (`inspect::Replay`), which
//! carries this record.

use crate::config::Config;
use crate::error::Result;
use crate::experiment::End;
use crate::train::{argmax, Trainer, F};
use nalgebra::DMatrix;
use serde::Serialize;

/// One image's test-time inference, summarised step by step (see the module docs).
#[derive(Clone, Debug, Serialize)]
pub struct Dynamics {
    /// `‖v_0(t) − v_0(T)‖` at every state t = 0..T (0 at t = T).
    pub latent_distance: Vec<f64>,
    /// `mean((x̂(t) − x)²)` per pixel at every state, pixels in the network's scale.
    pub mse: Vec<f64>,
    /// The reconstruction `x̂(t)` at the steps of [`snapshot_steps`].
    pub snapshots: Vec<Snapshot>,
    /// The class read-out at every state (tradeoff; empty without a classifier).
    pub readout: Vec<Readout>,
}

/// The reconstruction at one inference step.
#[derive(Clone, Debug, Serialize)]
pub struct Snapshot {
    pub t: usize,
    /// `x̂(t)`, one value per pixel, row-major.
    pub reconstruction: Vec<f32>,
}

/// The classifier's answer at one inference step.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Readout {
    /// `argmax_k p_k`.
    pub class: usize,
    /// `p_class`.
    pub probability: f64,
}

/// Whether a run of `config` infers a latent whose dynamics can be shown: a free latent
/// at the bottom, trained by PC or BP through inference (not the BP autoencoder).
pub fn applies(config: &Config) -> bool {
    config.experiment.spec().bottom == End::Latent && !config.autoencoder()
}

/// The steps whose reconstruction is kept: 0, T/4, T/2 and T (each once).
pub fn snapshot_steps(steps: usize) -> Vec<usize> {
    let mut ts = vec![0, steps / 4, steps / 2, steps];
    ts.dedup();
    ts
}

/// The dynamics of `image` (one row, the network's pixel scale) along `states`, the
/// test-time inference of it by `trainer` (`states[t][l]`: layer l at state t).
pub fn dynamics(
    trainer: &Trainer,
    image: &DMatrix<F>,
    states: &[Vec<DMatrix<F>>],
) -> Result<Dynamics> {
    let latents: Vec<&DMatrix<F>> = states.iter().map(|v| &v[0]).collect();
    let Some(settled) = latents.last() else {
        return Err(crate::PcError::Config(
            "an inference has at least one state".into(),
        ));
    };
    let latent_distance = latents
        .iter()
        .map(|v| f64::from((*v - *settled).norm()))
        .collect();
    let steps = latents.len() - 1;
    let keep = snapshot_steps(steps);
    let (mut mse, mut snapshots) = (Vec::new(), Vec::new());
    for (t, v) in latents.iter().enumerate() {
        let recon = trainer.decode(v)?;
        let sse: f64 = (&recon - image).iter().map(|&d| f64::from(d * d)).sum();
        mse.push(sse / image.len() as f64);
        if keep.contains(&t) {
            snapshots.push(Snapshot {
                t,
                reconstruction: recon.iter().copied().collect(),
            });
        }
    }
    let readout = if trainer.config().experiment.spec().classifier {
        latents
            .iter()
            .map(|v| {
                let p = trainer.classify_latent(v)?;
                let class = argmax(p.row(0).iter().copied());
                Ok(Readout {
                    class,
                    probability: f64::from(p[(0, class)]),
                })
            })
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    Ok(Dynamics {
        latent_distance,
        mse,
        snapshots,
        readout,
    })
}
