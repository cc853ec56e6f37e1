//! The trainer's network as a generative model: its [noise model](NoiseModel), learned
//! alongside the weights from every step's beliefs, and the samples it draws.

use super::{Beliefs, Trainer, F};
use crate::config::Config;
use crate::data::Split;
use crate::error::{PcError, Result};
use crate::experiment::{End, Rule};
use crate::flops::Flops;
use crate::inference::{infer, Inference};
use crate::sampling::{sample, NoiseModel, Prior, SampleRequest};
use nalgebra::DMatrix;

/// How many training images a noise model is fitted on in one pass (a model file saved
/// without one).
pub const FIT_IMAGES: usize = 512;

/// The prior of layer 0 where the run can be sampled (a class or a latent code predicting
/// the image; not a BP autoencoder, whose layer 0 is the image): the training set's class
/// frequencies, or a standard normal latent until latents are inferred.
pub(super) fn prior(config: &Config, data: &Split, sizes: &[usize]) -> Option<Prior> {
    let spec = config.experiment.spec();
    if !spec.samples() || config.autoencoder() {
        return None;
    }
    Some(match spec.bottom {
        End::Label => Prior::class_frequencies(data.train.labels(), data.train.classes()),
        _ => Prior::standard_normal(sizes[0]),
    })
}

impl Trainer {
    /// The prior and per-layer noise learned so far (`None`: this run cannot be sampled).
    pub fn noise_model(&self) -> Option<&NoiseModel> {
        self.noise.as_ref()
    }

    fn no_sampling(&self) -> PcError {
        PcError::Config(format!(
            "the {} experiment trained by {} is not a generative model of the image: \
             sampling needs a class or a latent code predicting the image",
            crate::config::name(&self.config.experiment),
            crate::config::name(&self.config.rule)
        ))
    }

    /// Replaces the noise model (e.g. from a saved model), after checking that it fits.
    pub fn set_noise_model(&mut self, model: NoiseModel) -> Result<()> {
        if self.noise.is_none() {
            return Err(self.no_sampling());
        }
        model.validate(&self.net, self.config.experiment.spec().bottom)?;
        self.noise = Some(model);
        Ok(())
    }

    /// Fits the noise model afresh in one pass over `n` training images spread over the
    /// training set, in minibatches: each batch's beliefs as learning explains it (the
    /// settled standard inference with the data ends clamped; under BP the feedforward
    /// values with the image on top), averaged over the batches.
    pub fn fit_noise(&mut self, n: usize) -> Result<()> {
        let Some(model) = self.noise.as_ref() else {
            return Err(self.no_sampling());
        };
        let prior = match &model.prior {
            Prior::Categorical { .. } => model.prior.clone(),
            Prior::Gaussian { mean, .. } => Prior::standard_normal(mean.len()),
        };
        let mut fitted = NoiseModel::new(&self.net, prior);
        let len = self.data.train.len();
        let n = n.clamp(1, len);
        let indices: Vec<usize> = (0..n).map(|i| i * len / n).collect();
        for chunk in indices.chunks(self.config.batch) {
            let (x, y) = self.data.train.batch::<F>(chunk, self.config.pixel_scale());
            fitted.observe(&self.net, &self.explained(&x, &y)?)?;
        }
        self.noise = Some(fitted);
        Ok(())
    }

    /// The beliefs with which learning explains a batch (see [`fit_noise`](Self::fit_noise)).
    pub(super) fn explained(&self, images: &DMatrix<F>, labels: &DMatrix<F>) -> Result<Beliefs> {
        let (clamp, initial) = self.learning_clamp(images, labels)?;
        if self.config.rule == Rule::Bp {
            let (Some(bottom), Some(top)) = (clamp.input, clamp.output) else {
                return Err(self.no_sampling());
            };
            return feedforward_explained(&self.net, bottom, top);
        }
        let settled = infer(
            &self.net,
            clamp,
            &Inference::Standard(self.looking()),
            initial.as_deref(),
            &mut Flops::default(),
        )?;
        Ok(settled.beliefs)
    }

    /// Ancestral samples `[v_0, …, v_L]` of the network under its noise model (see
    /// [`crate::sampling`]).
    pub fn sample(&self, request: &SampleRequest) -> Result<Vec<DMatrix<F>>> {
        let model = self.noise.as_ref().ok_or_else(|| self.no_sampling())?;
        sample(&self.net, model, request)
    }
}

/// The beliefs with which BP explains a batch: the feedforward values from `bottom`, with
/// the observed `top` (the image) in place of the prediction on top.
pub(super) fn feedforward_explained(
    net: &crate::network::Network<F>,
    bottom: &DMatrix<F>,
    top: &DMatrix<F>,
) -> Result<Beliefs> {
    let mut beliefs = net.feedforward(bottom)?;
    if let Some(image) = beliefs.last_mut() {
        image.clone_from(top);
    }
    Ok(beliefs)
}
