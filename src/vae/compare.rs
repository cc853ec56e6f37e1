//! The BP-VAE and the PC-VAE side by side: two VAEs from the same initial weights, one
//! trained by BP on the negative ELBO, one by PC with the sampled-latent energy, on
//! identical minibatches with identical noise ε, each step an Adam update of the mean over
//! the minibatch. Advanced in pieces (the page yields between them); measured on the test
//! set at every checkpoint: reconstruction MSE per pixel from the posterior mean and the
//! ELBO per sample (one ε per test image, the same for both).

use super::{PcSettings, Vae};
use crate::config::{MAX_STEPS, VAE_LIMITS};
use crate::data::{permutation, PixelScale, Split};
use crate::error::{PcError, Result};
use crate::flops::Flops;
use crate::linalg::{real, to_f64};
use crate::network::{Gradients, Network};
use crate::optimizer::{Optimizer, OptimizerConfig};
use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

/// The engine's training scalar.
type F = f32;

/// The learning rules of the comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VaeRule {
    /// Backpropagation of the negative ELBO through the reparameterised sample.
    Bp,
    /// Predictive coding with the sampled-latent energy.
    Pc,
}

/// What a comparison trains and how often it measures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaePlan {
    /// Training steps (minibatches), 1 to `VAE_LIMITS.max_steps`.
    pub steps: usize,
    /// A checkpoint every this many steps (and at step 0 and the last step).
    pub measure_every: usize,
    /// The seed of the initial weights, the batch order and the noise.
    pub seed: u64,
    /// Test images per checkpoint, spread over the test set (`None`: all of them).
    pub test_samples: Option<usize>,
    /// How PC settles: T in 1..=`MAX_STEPS`, γ in (0, 1], β in (0, 1].
    pub pc: PcSettings,
}

impl VaePlan {
    /// `steps` steps measured at step 0 and about every `steps / VAE_LIMITS.checkpoints`.
    pub fn checkpointed(steps: usize, seed: u64, test_samples: Option<usize>) -> Self {
        VaePlan {
            steps,
            measure_every: steps.div_ceil(VAE_LIMITS.checkpoints).max(1),
            seed,
            test_samples,
            pc: PcSettings::default(),
        }
    }
}

/// One rule's test measurement.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct VaeMeasure {
    /// Reconstruction MSE per pixel, `σ(a(m(x)))` against `x`.
    pub mse: f64,
    /// The ELBO per sample (one ε per image), in nats.
    pub elbo: f64,
    /// Its KL term per sample, `KL(N(m, e^s) ‖ N(0, I))` in nats (the rest is the
    /// reconstruction's log-likelihood).
    pub kl: f64,
}

/// Both rules measured after `step` training steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Training steps taken.
    pub step: usize,
    /// Epochs taken (steps over steps per epoch).
    pub epoch: f64,
    /// The BP-VAE.
    pub bp: VaeMeasure,
    /// The PC-VAE.
    pub pc: VaeMeasure,
}

/// One VAE with its optimisers.
struct Run {
    vae: Vae<F>,
    encoder: Optimizer<F>,
    decoder: Optimizer<F>,
}

impl Run {
    fn new(vae: Vae<F>) -> Result<Self> {
        let adam = OptimizerConfig::adam(VAE_LIMITS.learning_rate, 0.0);
        Ok(Run {
            vae,
            encoder: Optimizer::new(adam)?,
            decoder: Optimizer::new(adam)?,
        })
    }

    /// One Adam step on the batch mean `grads / batch`.
    fn learn(
        &mut self,
        mut grads: (Gradients<F>, Gradients<F>),
        batch: usize,
        flops: &mut Flops,
    ) -> Result<()> {
        let scale = real::<F>(1.0 / batch as f64);
        for g in [&mut grads.0, &mut grads.1] {
            for b in &mut g.blocks {
                b.weight *= scale;
                b.bias *= scale;
            }
        }
        let (encoder, decoder): (&mut Network<F>, &mut Network<F>) = self.vae.networks_mut();
        self.encoder.step(encoder, &grads.0, flops)?;
        self.decoder.step(decoder, &grads.1, flops)
    }
}

/// The BP-VAE and the PC-VAE trained side by side (see the module documentation).
pub struct Comparison {
    data: Split,
    plan: VaePlan,
    settings: PcSettings,
    bp: Run,
    pc: Run,
    order: Vec<usize>,
    done: usize,
    history: Vec<Checkpoint>,
}

impl Comparison {
    /// A comparison on `data` following `plan`; refused for an empty or oversized plan or
    /// data sets too small for a minibatch.
    pub fn new(data: &Split, plan: &VaePlan) -> Result<Self> {
        let bad = |m: String| Err(PcError::Config(m));
        let max = VAE_LIMITS.max_steps;
        if !(1..=max).contains(&plan.steps) {
            return bad(format!(
                "a VAE comparison trains 1 to {max} steps, got {}",
                plan.steps
            ));
        }
        if plan.measure_every == 0 {
            return bad("the VAE comparison measures every 1 or more steps, got 0".into());
        }
        if data.train.len() < VAE_LIMITS.batch || data.test.is_empty() {
            return bad(format!(
                "the VAE comparison needs at least {} training images and a test image",
                VAE_LIMITS.batch
            ));
        }
        let PcSettings { steps, rate, beta } = plan.pc;
        if !(1..=MAX_STEPS as usize).contains(&steps) {
            return bad(format!(
                "PC's inference steps T lie in 1..={MAX_STEPS}, got {steps}"
            ));
        }
        if !(rate > 0.0 && rate <= 1.0) {
            return bad(format!("PC's inference rate γ lies in (0, 1], got {rate}"));
        }
        if !(beta > 0.0 && beta <= 1.0) {
            return bad(format!("PC's β lies in (0, 1], got {beta}"));
        }
        if plan.test_samples == Some(0) {
            return bad("the VAE comparison tests on at least one image".into());
        }
        let vae = Vae::new(
            data.train.pixels_per_image(),
            VAE_LIMITS.hidden,
            VAE_LIMITS.latent,
            plan.seed,
        )?;
        let mut comparison = Comparison {
            data: data.clone(),
            plan: plan.clone(),
            settings: plan.pc,
            bp: Run::new(vae.clone())?,
            pc: Run::new(vae)?,
            order: Vec::new(),
            done: 0,
            history: Vec::new(),
        };
        comparison.measure()?;
        Ok(comparison)
    }

    /// Minibatches per epoch of `data` (a last partial batch is dropped).
    pub fn steps_per_epoch(data: &Split) -> usize {
        data.train.len() / VAE_LIMITS.batch
    }

    /// Trains both VAEs for at most `max_steps` more minibatches, measuring at every
    /// checkpoint; returns whether the plan is complete.
    pub fn advance(&mut self, max_steps: usize) -> Result<bool> {
        for _ in 0..max_steps {
            if self.done() {
                break;
            }
            self.step()?;
            if self.done.is_multiple_of(self.plan.measure_every) || self.done() {
                self.measure()?;
            }
        }
        Ok(self.done())
    }

    /// One minibatch for both rules: the same images, the same ε.
    fn step(&mut self) -> Result<()> {
        let per_epoch = Self::steps_per_epoch(&self.data);
        let (epoch, within) = (self.done / per_epoch, self.done % per_epoch);
        if within == 0 {
            let seed = self.plan.seed.wrapping_add(epoch as u64);
            self.order = permutation(self.data.train.len(), seed);
        }
        let batch = VAE_LIMITS.batch;
        let idx = &self.order[within * batch..(within + 1) * batch];
        let x = self.data.train.images::<F>(idx, PixelScale::Unit);
        let noise_seed =
            self.plan.seed ^ (self.done as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let eps = self.bp.vae.noise(batch, noise_seed);
        let mut flops = Flops::default(); // the optimiser counts them; nothing reads them here
                                          // Both rules' gradients first: if either fails (a diverging inference), neither
                                          // rule has learnt from this minibatch.
        let bp = self.bp.vae.bp_gradients(&x, &eps, &mut flops.bp)?;
        let pc = (self.pc.vae).pc_update(&x, &eps, &self.settings, &mut flops.inference)?;
        self.bp.learn((bp.encoder, bp.decoder), batch, &mut flops)?;
        (self.pc).learn((pc.state.encoder, pc.state.decoder), batch, &mut flops)?;
        self.done += 1;
        Ok(())
    }

    /// The test images a checkpoint measures: `test_samples` spread over the test set.
    fn test_indices(&self, n: Option<usize>) -> Vec<usize> {
        let len = self.data.test.len();
        let n = n.unwrap_or(len).min(len);
        (0..n).map(|i| i * len / n).collect()
    }

    fn measure(&mut self) -> Result<()> {
        let idx = self.test_indices(self.plan.test_samples);
        let x = self.data.test.images::<F>(&idx, PixelScale::Unit);
        let eps = self
            .bp
            .vae
            .noise(idx.len(), self.plan.seed.wrapping_add(0x7E57));
        let of = |run: &Run| -> Result<VaeMeasure> { measure(&run.vae, &x, &eps) };
        let checkpoint = Checkpoint {
            step: self.done,
            epoch: self.done as f64 / Self::steps_per_epoch(&self.data) as f64,
            bp: of(&self.bp)?,
            pc: of(&self.pc)?,
        };
        self.history.push(checkpoint);
        Ok(())
    }

    /// Whether every step of the plan is taken.
    pub fn done(&self) -> bool {
        self.done == self.plan.steps
    }

    /// The fraction of the plan's steps taken.
    pub fn progress(&self) -> f64 {
        self.done as f64 / self.plan.steps as f64
    }

    /// The checkpoints so far, the first at step 0.
    pub fn history(&self) -> &[Checkpoint] {
        &self.history
    }

    fn check_count(n: usize) -> Result<()> {
        let max = VAE_LIMITS.max_images;
        if !(1..=max).contains(&n) {
            return Err(PcError::Config(format!(
                "the VAE comparison shows 1 to {max} images, got {n}"
            )));
        }
        Ok(())
    }

    /// `n` test images spread over the test set, then the BP-VAE's `n` reconstructions,
    /// then the PC-VAE's, each image row-major.
    pub fn reconstructions(&self, n: usize) -> Result<[DMatrix<F>; 3]> {
        Self::check_count(n)?;
        let idx = self.test_indices(Some(n));
        let x = self.data.test.images::<F>(&idx, PixelScale::Unit);
        let bp = self.bp.vae.reconstruct(&x)?;
        let pc = self.pc.vae.reconstruct(&x)?;
        Ok([x, bp, pc])
    }

    /// `n` codes `z ~ N(0, I)` drawn from `seed`, decoded by the BP-VAE and the PC-VAE
    /// (the same codes for both).
    pub fn samples(&self, n: usize, seed: u64) -> Result<[DMatrix<F>; 2]> {
        Self::check_count(n)?;
        let z = self.bp.vae.noise(n, seed);
        Ok([self.bp.vae.decode(&z)?, self.pc.vae.decode(&z)?])
    }
}

/// The test measurement of `vae` on images `x` with noise `eps`.
pub fn measure(vae: &Vae<F>, x: &DMatrix<F>, eps: &DMatrix<F>) -> Result<VaeMeasure> {
    let recon = vae.reconstruct(x)?;
    let sse: f64 = (recon.iter().zip(x.iter()))
        .map(|(&r, &p)| f64::from(r - p).powi(2))
        .sum();
    let n = x.nrows() as f64;
    Ok(VaeMeasure {
        mse: sse / x.len() as f64,
        elbo: -to_f64(vae.negative_elbo(x, eps)?) / n,
        kl: to_f64(super::kl_to_prior(&vae.encode(x)?)) / n,
    })
}
