//! What a trained network does with test images, as the experiment table says: infer
//! the latent, reconstruct, read the class, generate from a class, and measure accuracy
//! and reconstruction error on the test set.

use super::{Beliefs, Trainer, F};
use crate::error::{PcError, Result};
use crate::experiment::End;
use crate::flops::Flops;
use crate::inference::{infer, Clamp, Inference, Settled, Standard};
use crate::unrolled::{unroll, Unrolled};
use nalgebra::DMatrix;

use super::record::Evaluation;

/// A test batch's reconstruction and class scores, where the experiment has them.
type TestOutputs = (Option<DMatrix<F>>, Option<DMatrix<F>>);

/// The index of the largest value (the first on ties; NaN never wins).
pub fn argmax(values: impl Iterator<Item = F>) -> usize {
    values
        .enumerate()
        .fold(
            (0, F::NEG_INFINITY),
            |(bi, bv), (i, v)| if v > bv { (i, v) } else { (bi, bv) },
        )
        .0
}

impl Trainer {
    /// Standard inference without the accumulated weight gradient (for looking, not
    /// learning).
    pub(super) fn looking(&self) -> Standard {
        Standard {
            accumulate_weight_grads: false,
            ..self.config.standard()
        }
    }

    /// Standard inference on one batch with every state kept: image and label clamped
    /// where the experiment clamps them during learning (a latent free), for replaying how
    /// the beliefs settle.
    pub fn belief_trajectory(
        &self,
        images: &DMatrix<F>,
        labels: &DMatrix<F>,
    ) -> Result<Unrolled<F>> {
        let (clamp, initial) = self.learning_clamp(images, labels)?;
        self.trajectory(clamp, initial)
    }

    /// Standard inference on one batch with every state kept, as at test time: the image
    /// clamped where it belongs, every other layer free (a label on top settles to its
    /// prediction; a latent or a class at the bottom is inferred from its test-time start).
    pub fn test_trajectory(&self, images: &DMatrix<F>) -> Result<Unrolled<F>> {
        let spec = self.config.experiment.spec();
        let b = images.nrows();
        let (clamp, initial) = match spec.bottom {
            End::Image => (Clamp::input_only(images), None),
            End::Label => (Clamp::output_only(images), Some(self.class_start(images)?)),
            End::Latent => (Clamp::output_only(images), Some(self.latent_init(b)?)),
        };
        self.trajectory(clamp, initial)
    }

    /// Standard inference (without accumulation) from `initial` with every state kept.
    fn trajectory(&self, clamp: Clamp<'_, F>, initial: Option<Beliefs>) -> Result<Unrolled<F>> {
        let flops = &mut Flops::default();
        unroll(&self.net, clamp, &self.looking(), initial.as_deref(), flops)
    }

    /// Where inferring the class of `images` starts: a uniform class belief and its
    /// feedforward predictions, with the images on top.
    fn class_start(&self, images: &DMatrix<F>) -> Result<Vec<DMatrix<F>>> {
        let classes = self.net.sizes()[0];
        let uniform = DMatrix::from_element(images.nrows(), classes, 1.0 / classes as F);
        let mut initial = self.net.feedforward(&uniform)?;
        initial[self.net.depth()] = images.clone();
        Ok(initial)
    }

    /// Infers the free latent of a PC decoder for `images` (clamped at layer L) and
    /// returns the settled beliefs.
    pub fn infer_latent(&self, images: &DMatrix<F>) -> Result<Settled<F>> {
        if self.config.experiment.spec().bottom != End::Latent {
            return Err(self.lacks("an inferred latent"));
        }
        infer(
            &self.net,
            Clamp::output_only(images),
            &Inference::Standard(self.looking()),
            Some(&self.latent_init(images.nrows())?),
            &mut Flops::default(),
        )
    }

    /// The error for a view this run's experiment does not have.
    fn lacks(&self, what: &str) -> PcError {
        PcError::Config(format!(
            "the {} experiment has no {what}",
            crate::config::name(&self.config.experiment)
        ))
    }

    /// Reconstructions of `images` (pixels in [0, 1]): the decoder's prediction from the
    /// inferred latent, or the BP autoencoder's output.
    pub fn reconstruct(&self, images: &DMatrix<F>) -> Result<DMatrix<F>> {
        if self.config.autoencoder() {
            return self.decode(images);
        }
        if !self.config.experiment.spec().reconstructs() {
            return Err(self.lacks("reconstructions"));
        }
        self.decode(&self.infer_latent(images)?.beliefs[0])
    }

    /// The expected top layer given layer 0: `m(μ_L)` of the feedforward prediction (the
    /// output energy's mean: the prediction itself for a Gaussian, softmax for a
    /// categorical, σ(μ) for a Bernoulli energy).
    pub fn decode(&self, bottom: &DMatrix<F>) -> Result<DMatrix<F>> {
        mean_output(&self.net, bottom)
    }

    /// The classifier's class probabilities from a latent (tradeoff): the categorical
    /// mean `softmax(W_c v_0 + b_c)`, one row per latent.
    pub fn classify_latent(&self, latent: &DMatrix<F>) -> Result<DMatrix<F>> {
        mean_output(&self.classifier()?.net, latent)
    }

    /// What the test measures for `images`: the reconstruction and the class
    /// probabilities, where the experiment has them (one inference of the latent for both).
    fn outputs(&self, images: &DMatrix<F>) -> Result<TestOutputs> {
        let spec = self.config.experiment.spec();
        if spec.classifier {
            let latent = &self.infer_latent(images)?.beliefs[0];
            return Ok((
                Some(self.decode(latent)?),
                Some(self.classify_latent(latent)?),
            ));
        }
        let reconstruction = (spec.reconstructs())
            .then(|| self.reconstruct(images))
            .transpose()?;
        let classes = (spec.classifies())
            .then(|| self.class_probabilities(images))
            .transpose()?;
        Ok((reconstruction, classes))
    }

    /// Class probabilities for `images` (rows sum to 1): the feedforward output's mean
    /// (label on top), the inferred class layer (label at the bottom, normalised) or the
    /// classifier read from the inferred latent.
    pub fn class_probabilities(&self, images: &DMatrix<F>) -> Result<DMatrix<F>> {
        let spec = self.config.experiment.spec();
        if spec.top == End::Label {
            return self.decode(images);
        }
        if spec.classifier {
            return self.classify_latent(&self.infer_latent(images)?.beliefs[0]);
        }
        if spec.bottom != End::Label {
            return Err(self.lacks("classes"));
        }
        let initial = self.class_start(images)?;
        let settled = infer(
            &self.net,
            Clamp::output_only(images),
            &Inference::Standard(self.looking()),
            Some(&initial),
            &mut Flops::default(),
        )?;
        Ok(normalised(&settled.beliefs[0]))
    }

    /// Images generated from each class in `labels`: the feedforward prediction from the
    /// one-hot class.
    pub fn generate(&self, labels: &[usize]) -> Result<DMatrix<F>> {
        if !self.config.experiment.spec().generates() {
            return Err(self.lacks("generation"));
        }
        let classes = self.net.sizes()[0];
        if let Some(&bad) = labels.iter().find(|&&c| c >= classes) {
            return Err(PcError::Config(format!(
                "class {bad} is out of range 0..{classes}"
            )));
        }
        let mut onehot = DMatrix::zeros(labels.len(), classes);
        for (i, &c) in labels.iter().enumerate() {
            onehot[(i, c)] = 1.0;
        }
        self.decode(&onehot)
    }

    /// Accuracy and confusion matrix, and reconstruction MSE, where the experiment has
    /// them, on the whole test set, in batches.
    pub fn evaluate(&self) -> Result<Evaluation> {
        self.evaluate_on(&(0..self.data.test.len()).collect::<Vec<_>>())
    }

    /// [`evaluate`](Self::evaluate) on `n` test images spread evenly over the test set
    /// (a quick estimate while training, e.g. on the page).
    pub fn evaluate_sample(&self, n: usize) -> Result<Evaluation> {
        self.evaluate_on(&self.test_sample(n))
    }

    /// `n` test indices spread evenly over the (class-ordered) test set.
    pub fn test_sample(&self, n: usize) -> Vec<usize> {
        let len = self.data.test.len();
        let n = n.clamp(1, len.max(1));
        (0..n).map(|i| i * len / n).collect()
    }

    fn evaluate_on(&self, indices: &[usize]) -> Result<Evaluation> {
        let test = &self.data.test;
        let scale = self.config.pixel_scale();
        let classes = test.classes();
        let mut confusion = vec![vec![0u32; classes]; classes];
        let (mut sse, mut decoded, mut classified) = (0.0f64, false, false);
        for idx in indices.chunks(self.config.batch.max(250)) {
            let x = test.images::<F>(idx, scale);
            let (recon, scores) = self.outputs(&x)?;
            if let Some(recon) = recon {
                decoded = true;
                sse += (recon - &x).iter().map(|&d| f64::from(d * d)).sum::<f64>();
            }
            if let Some(scores) = scores {
                classified = true;
                for (row, &i) in idx.iter().enumerate() {
                    let predicted = argmax(scores.row(row).iter().copied());
                    confusion[usize::from(test.labels()[i])][predicted] += 1;
                }
            }
        }
        let correct: u32 = (0..classes).map(|c| confusion[c][c]).sum();
        Ok(Evaluation {
            accuracy: classified.then(|| f64::from(correct) / indices.len() as f64),
            confusion: classified.then_some(confusion),
            mse: decoded.then(|| sse / (indices.len() * test.pixels_per_image()) as f64),
        })
    }
}

/// `m(μ_L)`: the mean of the output energy at the feedforward prediction from `bottom`.
fn mean_output(net: &crate::network::Network<F>, bottom: &DMatrix<F>) -> Result<DMatrix<F>> {
    let mu = net.predict_top(bottom)?;
    let mut mean = mu.clone();
    net.output_energy().mean(&mu, &mut mean, &mut 0);
    Ok(mean)
}

/// Rows clipped at 0 and scaled to sum to 1 (uniform where a row has no mass): an
/// inferred one-hot layer read as class probabilities.
fn normalised(beliefs: &DMatrix<F>) -> DMatrix<F> {
    let mut p = beliefs.map(|v| v.max(0.0));
    for mut row in p.row_iter_mut() {
        let sum: F = row.sum();
        if sum > 0.0 {
            row /= sum;
        } else {
            row.fill(1.0 / row.len() as F);
        }
    }
    p
}
