//! A variational autoencoder (VAE) on images, trained by backpropagation (BP) of the
//! negative ELBO or by predictive coding (PC) with a sampled latent (Pinchetti et al.
//! 2022, "Predictive coding beyond Gaussian distributions", VAE section).
//!
//! # The model
//! An encoder network `x → h_e → φ = (m, s)` (sizes `n → h → 2d`, tanh then identity)
//! gives the mean `m` and log-variance `s` of the approximate posterior
//! `q(z | x) = N(m, diag e^s)`; the latent is the reparameterised sample
//! `z = m + e^{s/2} ⊙ ε`, `ε ~ N(0, I)`; a decoder network `z → h_d → a` (sizes
//! `d → h → n`) predicts Bernoulli logits `a` of the pixels. Per sample,
//!
//! `−ELBO(x; ε) = BCE(a, x) + KL(N(m, e^s) ‖ N(0, I))`, with
//! `BCE(a, x) = Σ_j [softplus(a_j) − x_j a_j]` (the engine's Bernoulli energy) and
//! `KL = ½ Σ_k (m_k² + e^{s_k} − 1 − s_k)`.
//!
//! # BP
//! The gradient of `−ELBO` summed over the batch through the sample:
//! `∂/∂m = ∂ℓ/∂z + m`, `∂/∂s = ∂ℓ/∂z ⊙ ½ e^{s/2} ⊙ ε + ½ (e^s − 1)`, then the encoder's
//! chain rule ([`crate::network::backpropagate`]).
//!
//! # PC with a sampled latent
//! Free beliefs on the encoder's hidden layer `h_e`, on the latent parameters `φ` and on
//! the decoder's hidden layer `h_d`; `x` is clamped at both ends and `ε` is drawn once per
//! sample and step and held fixed while the beliefs settle. The energy is
//!
//! `F = ½‖h_e − μ_e1(x)‖² + ½‖φ − μ_φ(h_e)‖² + β·KL(φ) + ½‖h_d − μ_d1(z(φ))‖²
//!      + β·BCE(μ_d2(h_d), x)`, with `z(φ) = m + e^{s/2} ⊙ ε`.
//!
//! The latent parameters' energy is the Gaussian prediction error on `(m, s)` with unit
//! precision, the same energy as every hidden layer. It is chosen over the KL between the
//! Gaussian the belief parameterises and the one the encoder predicts because (i) both
//! vanish at the prediction, so `F = −ELBO` at the feedforward initialisation either way;
//! (ii) its curvature is 1 in every direction, so one inference rate is stable for the
//! whole training, whereas the KL's curvature in the mean is `e^{−s}`, which grows as the
//! posterior sharpens (tens to hundreds on MNIST) and would need a rate shrinking with it;
//! (iii) it is the engine's Gaussian energy, so the encoder is an ordinary PC network.
//! `β` (the weight of the ELBO's terms) is the "output precision": as `β → 0` with many
//! inference steps the settled errors approach `β` times BP's backpropagated gradients and
//! PC's weight update approaches BP's direction (Adam makes the scale β irrelevant). At
//! `β = 1` the per-sample gradients of the 784-pixel reconstruction are large against the
//! unit-precision errors, the settled latent moves far from the encoder's prediction
//! (through the nonlinear `e^{s/2}`, with ε fixed), and PC's update leaves that linear
//! regime: its test MSE still falls but its ELBO worsens over the epochs (at β = 0.1 too,
//! after about five epochs, more inference steps or not). The comparison therefore trains
//! PC at `β = VAE_LIMITS.beta` (0.01), where it tracks BP; `pclab vae --beta 1` shows the
//! other end.
//!
//! Inference descends `F`: `v ← v − γ ∂F/∂v` for `v ∈ {h_e, φ, h_d}`, T steps from the
//! feedforward values; the weight update is `∂F/∂θ` at the settled beliefs, which is local:
//! each block's weight gradient is its prediction error times its input.

pub mod compare;

use crate::activation::Activation;
use crate::energy::{LayerEnergy, Reduction};
use crate::error::{PcError, Result};
use crate::linalg::{axpy, real, Real};
use crate::network::{
    backpropagate, parameter_gradients, BlockPoint, Gradients, Init, Network, PredictionForm,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A VAE: the encoder `x → (m, s)` and the decoder `z → logits`.
#[derive(Clone, Debug, PartialEq)]
pub struct Vae<T: Real> {
    encoder: Network<T>,
    decoder: Network<T>,
}

/// How PC settles the beliefs before its weight update.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PcSettings {
    /// Inference steps T.
    pub steps: usize,
    /// The beliefs' learning rate γ.
    pub rate: f64,
    /// β, the weight of the ELBO's terms (reconstruction and KL) in F.
    pub beta: f64,
}

impl Default for PcSettings {
    /// The comparison's settings (`VAE_LIMITS`): T = 20, γ = 0.1, β = 0.01.
    fn default() -> Self {
        PcSettings {
            steps: crate::config::VAE_LIMITS.inference_steps,
            rate: crate::config::VAE_LIMITS.inference_rate,
            beta: crate::config::VAE_LIMITS.beta,
        }
    }
}

/// The free beliefs of PC: encoder hidden `h_e`, latent parameters `φ = (m, s)`, decoder
/// hidden `h_d` (one sample per row each).
#[derive(Clone, Debug, PartialEq)]
pub struct Beliefs<T: Real> {
    /// `h_e`, `B × h`.
    pub encoder_hidden: DMatrix<T>,
    /// `φ = [m, s]`, `B × 2d`.
    pub latent: DMatrix<T>,
    /// `h_d`, `B × h`.
    pub decoder_hidden: DMatrix<T>,
}

impl<T: Real> Beliefs<T> {
    fn parts_mut(&mut self) -> [&mut DMatrix<T>; 3] {
        [
            &mut self.encoder_hidden,
            &mut self.latent,
            &mut self.decoder_hidden,
        ]
    }

    fn parts(&self) -> [&DMatrix<T>; 3] {
        [&self.encoder_hidden, &self.latent, &self.decoder_hidden]
    }
}

/// `F` at a state with its gradients with respect to the beliefs and the weights.
#[derive(Clone, Debug)]
pub struct PcState<T: Real> {
    /// The energy F summed over the batch.
    pub energy: T,
    /// `∂F/∂h_e, ∂F/∂φ, ∂F/∂h_d`.
    pub belief_gradients: Beliefs<T>,
    /// `∂F/∂θ` of the encoder's blocks.
    pub encoder: Gradients<T>,
    /// `∂F/∂θ` of the decoder's blocks.
    pub decoder: Gradients<T>,
}

/// One evaluation of F: the blocks' points, error gradients, F and `∂F/∂v`.
struct Terms<T: Real> {
    enc: [BlockPoint<T>; 2],
    dec: [BlockPoint<T>; 2],
    g_enc: [DMatrix<T>; 2],
    g_dec: [DMatrix<T>; 2],
    energy: T,
    belief_gradients: Beliefs<T>,
}

/// The negative ELBO of a batch and its BP gradients.
#[derive(Clone, Debug)]
pub struct BpGradients<T: Real> {
    /// `−ELBO` summed over the batch.
    pub loss: T,
    /// `∂(−ELBO)/∂θ` of the encoder's blocks.
    pub encoder: Gradients<T>,
    /// `∂(−ELBO)/∂θ` of the decoder's blocks.
    pub decoder: Gradients<T>,
}

/// A PC update: the settled state's weight gradients and F at every inference state.
#[derive(Clone, Debug)]
pub struct PcUpdate<T: Real> {
    /// The settled state.
    pub state: PcState<T>,
    /// F at the feedforward values, then after each inference step (T + 1 values).
    pub energy_trace: Vec<T>,
}

/// `z = m + e^{s/2} ⊙ ε` from `φ = [m, s]`.
pub fn sample_latent<T: Real>(phi: &DMatrix<T>, eps: &DMatrix<T>) -> DMatrix<T> {
    let d = eps.ncols();
    let half = real::<T>(0.5);
    DMatrix::from_fn(phi.nrows(), d, |i, k| {
        phi[(i, k)] + (half * phi[(i, d + k)]).exp() * eps[(i, k)]
    })
}

/// `KL(N(m, e^s) ‖ N(0, I)) = ½ Σ (m² + e^s − 1 − s)`, summed over the batch.
pub fn kl_to_prior<T: Real>(phi: &DMatrix<T>) -> T {
    let d = phi.ncols() / 2;
    let half = real::<T>(0.5);
    let mut sum = T::zero();
    for i in 0..phi.nrows() {
        for k in 0..d {
            let (m, s) = (phi[(i, k)], phi[(i, d + k)]);
            sum += half * (m * m + s.exp() - T::one() - s);
        }
    }
    sum
}

/// `∂/∂φ` of `β·KL + ℓ(z(φ))` given `g_z = ∂ℓ/∂z`:
/// `[β m + g_z, β ½(e^s − 1) + g_z ⊙ ½ e^{s/2} ⊙ ε]`.
pub fn latent_gradient<T: Real>(
    phi: &DMatrix<T>,
    eps: &DMatrix<T>,
    g_z: &DMatrix<T>,
    beta: T,
) -> DMatrix<T> {
    let d = eps.ncols();
    let half = real::<T>(0.5);
    DMatrix::from_fn(phi.nrows(), 2 * d, |i, c| {
        let k = c % d;
        let (m, s) = (phi[(i, k)], phi[(i, d + k)]);
        if c < d {
            beta * m + g_z[(i, k)]
        } else {
            beta * half * (s.exp() - T::one()) + g_z[(i, k)] * half * (half * s).exp() * eps[(i, k)]
        }
    })
}

/// `J(u)ᵀ g`: the error gradient `g = ∂E/∂μ` of a block carried to its input.
fn to_input<T: Real>(
    net: &Network<T>,
    block: usize,
    pt: &BlockPoint<T>,
    g: &DMatrix<T>,
    flops: &mut u64,
) -> DMatrix<T> {
    let b = &net.blocks()[block];
    let (mut delta, mut out) = (DMatrix::zeros(0, 0), DMatrix::zeros(0, 0));
    b.delta(net.form(), pt, g, &mut delta, flops);
    b.input_gradient(net.form(), pt, &delta, &mut out, flops);
    out
}

/// Block `block` of `net` linearised at input `u`.
fn point<T: Real>(
    net: &Network<T>,
    block: usize,
    u: &DMatrix<T>,
    flops: &mut u64,
) -> BlockPoint<T> {
    let mut pt = BlockPoint::empty();
    net.blocks()[block].linearise(net.form(), u, &mut pt, flops);
    pt
}

/// A layer's energy `E(μ, v)` and its error gradient `∂E/∂μ`.
fn energy_at<T: Real>(
    energy: LayerEnergy,
    mu: &DMatrix<T>,
    v: &DMatrix<T>,
    flops: &mut u64,
) -> (T, DMatrix<T>, DMatrix<T>) {
    let mut eps = DMatrix::zeros(mu.nrows(), mu.ncols());
    let e = energy.evaluate(mu, v, &mut eps, flops);
    let mut g = DMatrix::zeros(mu.nrows(), mu.ncols());
    energy.error_gradient(&eps, &mut g, flops);
    (e, g, eps)
}

impl<T: Real> Vae<T> {
    /// A fresh VAE for `pixels`-pixel images with `hidden` units in each network's hidden
    /// layer and a `latent`-dimensional code; deterministic in `seed`.
    pub fn new(pixels: usize, hidden: usize, latent: usize, seed: u64) -> Result<Self> {
        if pixels == 0 || hidden == 0 || latent == 0 {
            return Err(PcError::Config(format!(
                "a VAE needs non-empty layers, got {pixels} pixels, {hidden} hidden, {latent} latent"
            )));
        }
        let acts = [Activation::Tanh, Activation::Identity];
        let (form, init) = (PredictionForm::Post, Init::XavierUniform);
        let encoder = Network::new(&[pixels, hidden, 2 * latent], &acts, form, init, seed)?;
        let mut decoder = Network::new(
            &[latent, hidden, pixels],
            &acts,
            form,
            init,
            seed.wrapping_add(1),
        )?;
        decoder.set_energy(2, LayerEnergy::bernoulli())?;
        Self::from_networks(encoder, decoder)
    }

    /// A VAE from its two networks: the encoder's output has `2d` units for the decoder's
    /// `d` inputs, the decoder predicts the encoder's input, with the Bernoulli energy.
    pub fn from_networks(encoder: Network<T>, decoder: Network<T>) -> Result<Self> {
        let (e, d) = (encoder.sizes(), decoder.sizes());
        if e[e.len() - 1] != 2 * d[0] || d[d.len() - 1] != e[0] {
            return Err(PcError::Shape(format!(
                "a VAE's encoder {e:?} must give 2 × the decoder's {} inputs and the decoder {d:?} \
                 its {} pixels",
                d[0], e[0]
            )));
        }
        if decoder.output_energy().distribution != crate::energy::Distribution::Bernoulli {
            return Err(PcError::Config(
                "a VAE's decoder predicts Bernoulli pixels".into(),
            ));
        }
        Ok(Vae { encoder, decoder })
    }

    /// The encoder `x → (m, s)`.
    pub fn encoder(&self) -> &Network<T> {
        &self.encoder
    }

    /// The decoder `z → logits`.
    pub fn decoder(&self) -> &Network<T> {
        &self.decoder
    }

    /// Both networks, mutably, for an optimiser.
    pub(crate) fn networks_mut(&mut self) -> (&mut Network<T>, &mut Network<T>) {
        (&mut self.encoder, &mut self.decoder)
    }

    /// The latent dimension d.
    pub fn latent(&self) -> usize {
        self.decoder.sizes()[0]
    }

    /// `ε ~ N(0, I)`, one row per sample, from `seed`.
    pub fn noise(&self, batch: usize, seed: u64) -> DMatrix<T> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        DMatrix::from_fn(batch, self.latent(), |_, _| {
            real(crate::sampling::normal(&mut rng))
        })
    }

    fn check(&self, x: &DMatrix<T>, eps: &DMatrix<T>) -> Result<()> {
        self.encoder.check_batch(x, 0, "images")?;
        self.decoder.check_batch(eps, 0, "latent noise ε")?;
        crate::network::check_same_batch(x, eps)
    }

    /// The encoder's `φ = [m, s]` of images `x`.
    pub fn encode(&self, x: &DMatrix<T>) -> Result<DMatrix<T>> {
        self.encoder.predict_top(x)
    }

    /// The decoder's pixel means `σ(a(z))` of codes `z`.
    pub fn decode(&self, z: &DMatrix<T>) -> Result<DMatrix<T>> {
        let logits = self.decoder.predict_top(z)?;
        let mut out = DMatrix::zeros(logits.nrows(), logits.ncols());
        self.decoder.output_energy().mean(&logits, &mut out, &mut 0);
        Ok(out)
    }

    /// Reconstructions from the posterior mean: `σ(a(m(x)))`.
    pub fn reconstruct(&self, x: &DMatrix<T>) -> Result<DMatrix<T>> {
        let phi = self.encode(x)?;
        self.decode(&phi.columns(0, self.latent()).into_owned())
    }

    /// `−ELBO(x; ε)` summed over the batch.
    pub fn negative_elbo(&self, x: &DMatrix<T>, eps: &DMatrix<T>) -> Result<T> {
        self.check(x, eps)?;
        let phi = self.encode(x)?;
        let logits = self.decoder.predict_top(&sample_latent(&phi, eps))?;
        let (bce, _, _) = energy_at(self.decoder.output_energy(), &logits, x, &mut 0);
        Ok(bce + kl_to_prior(&phi))
    }

    /// `−ELBO(x; ε)` and its gradients by backpropagation through the sample.
    pub fn bp_gradients(
        &self,
        x: &DMatrix<T>,
        eps: &DMatrix<T>,
        flops: &mut u64,
    ) -> Result<BpGradients<T>> {
        self.check(x, eps)?;
        let enc_points = self.encoder.feedforward_points(x, flops);
        let phi = &enc_points[1].mu;
        let dec_points = self
            .decoder
            .feedforward_points(&sample_latent(phi, eps), flops);
        let (bce, g_out, _) = energy_at(self.decoder.output_energy(), &dec_points[1].mu, x, flops);
        let g_dec = backpropagate(&self.decoder, &dec_points, g_out, flops);
        let mut decoder = Gradients::zeros(&self.decoder);
        parameter_gradients(
            &self.decoder,
            &dec_points,
            &g_dec,
            &mut decoder,
            T::zero(),
            flops,
        );
        let g_z = to_input(&self.decoder, 0, &dec_points[0], &g_dec[1], flops);
        let g_phi = latent_gradient(phi, eps, &g_z, T::one());
        let g_enc = backpropagate(&self.encoder, &enc_points, g_phi, flops);
        let mut encoder = Gradients::zeros(&self.encoder);
        parameter_gradients(
            &self.encoder,
            &enc_points,
            &g_enc,
            &mut encoder,
            T::zero(),
            flops,
        );
        Ok(BpGradients {
            loss: bce + kl_to_prior(phi),
            encoder,
            decoder,
        })
    }

    /// The feedforward beliefs: `h_e = μ_e1(x)`, `φ = μ_φ(h_e)`, `h_d = μ_d1(z(φ))`.
    pub fn feedforward(&self, x: &DMatrix<T>, eps: &DMatrix<T>) -> Result<Beliefs<T>> {
        self.check(x, eps)?;
        let enc = self.encoder.feedforward_points(x, &mut 0);
        let h_d = point(&self.decoder, 0, &sample_latent(&enc[1].mu, eps), &mut 0).mu;
        let [h_e, phi] = [&enc[0].mu, &enc[1].mu].map(Clone::clone);
        Ok(Beliefs {
            encoder_hidden: h_e,
            latent: phi,
            decoder_hidden: h_d,
        })
    }

    /// `F` at `beliefs` (see the module documentation) with its gradients with respect to
    /// the beliefs and to every weight and bias.
    pub fn pc_state(
        &self,
        x: &DMatrix<T>,
        eps: &DMatrix<T>,
        beliefs: &Beliefs<T>,
        beta: f64,
        flops: &mut u64,
    ) -> Result<PcState<T>> {
        self.check(x, eps)?;
        let b = beliefs;
        for (m, layer, what) in [
            (&b.encoder_hidden, 1, "encoder hidden belief"),
            (&b.latent, 2, "latent belief"),
        ] {
            self.encoder.check_batch(m, layer, what)?;
        }
        (self.decoder).check_batch(&b.decoder_hidden, 1, "decoder hidden belief")?;
        let Terms {
            enc,
            dec,
            g_enc: [g1, g_phi],
            g_dec: [g_d1, g_out],
            energy,
            belief_gradients,
        } = self.terms(x, eps, b, beta, flops);
        // The local weight updates: each block's error gradient times its input.
        let empty = || DMatrix::zeros(0, 0);
        let mut encoder = Gradients::zeros(&self.encoder);
        let g_enc = [empty(), g1, g_phi];
        parameter_gradients(&self.encoder, &enc, &g_enc, &mut encoder, T::zero(), flops);
        let mut decoder = Gradients::zeros(&self.decoder);
        let g_dec = [empty(), g_d1, g_out];
        parameter_gradients(&self.decoder, &dec, &g_dec, &mut decoder, T::zero(), flops);
        Ok(PcState {
            energy,
            belief_gradients,
            encoder,
            decoder,
        })
    }

    /// The blocks linearised at the beliefs, their error gradients `∂E/∂μ`, F and `∂F/∂v`.
    fn terms(
        &self,
        x: &DMatrix<T>,
        eps: &DMatrix<T>,
        b: &Beliefs<T>,
        beta: f64,
        flops: &mut u64,
    ) -> Terms<T> {
        let beta_t = real::<T>(beta);
        let hidden = LayerEnergy::gaussian(Reduction::HalfSse);
        let output = self.decoder.output_energy().scaled(beta);
        let z = sample_latent(&b.latent, eps);
        let enc = [
            point(&self.encoder, 0, x, flops),
            point(&self.encoder, 1, &b.encoder_hidden, flops),
        ];
        let dec = [
            point(&self.decoder, 0, &z, flops),
            point(&self.decoder, 1, &b.decoder_hidden, flops),
        ];
        let (e1, g1, eps1) = energy_at(hidden, &enc[0].mu, &b.encoder_hidden, flops);
        let (e_phi, g_phi, eps_phi) = energy_at(hidden, &enc[1].mu, &b.latent, flops);
        let (e_d1, g_d1, eps_d1) = energy_at(hidden, &dec[0].mu, &b.decoder_hidden, flops);
        let (e_out, g_out, _) = energy_at(output, &dec[1].mu, x, flops);
        let energy = e1 + e_phi + beta_t * kl_to_prior(&b.latent) + e_d1 + e_out;

        // ∂F/∂v: the layer's own prediction error, plus its share of the errors above.
        let mut d_h_e = to_input(&self.encoder, 1, &enc[1], &g_phi, flops);
        axpy(&mut d_h_e, T::one(), &eps1, flops);
        let g_z = to_input(&self.decoder, 0, &dec[0], &g_d1, flops);
        let mut d_phi = latent_gradient(&b.latent, eps, &g_z, beta_t);
        axpy(&mut d_phi, T::one(), &eps_phi, flops);
        let mut d_h_d = to_input(&self.decoder, 1, &dec[1], &g_out, flops);
        axpy(&mut d_h_d, T::one(), &eps_d1, flops);
        Terms {
            enc,
            dec,
            g_enc: [g1, g_phi],
            g_dec: [g_d1, g_out],
            energy,
            belief_gradients: Beliefs {
                encoder_hidden: d_h_e,
                latent: d_phi,
                decoder_hidden: d_h_d,
            },
        }
    }

    /// PC's update: the beliefs start at the feedforward values and descend F for
    /// `settings.steps` steps of rate γ (`v ← v − γ ∂F/∂v`, ε fixed); the weight gradients
    /// `∂F/∂θ` at the settled beliefs.
    pub fn pc_update(
        &self,
        x: &DMatrix<T>,
        eps: &DMatrix<T>,
        settings: &PcSettings,
        flops: &mut u64,
    ) -> Result<PcUpdate<T>> {
        let mut beliefs = self.feedforward(x, eps)?;
        let mut trace = Vec::with_capacity(settings.steps + 1);
        let rate = real::<T>(-settings.rate);
        for _ in 0..settings.steps {
            let terms = self.terms(x, eps, &beliefs, settings.beta, flops);
            trace.push(terms.energy);
            for (v, g) in beliefs
                .parts_mut()
                .into_iter()
                .zip(terms.belief_gradients.parts())
            {
                axpy(v, rate, g, flops);
            }
        }
        let state = self.pc_state(x, eps, &beliefs, settings.beta, flops)?;
        trace.push(state.energy);
        if !state.energy.is_finite() {
            return Err(PcError::NonFinite(
                "the PC energy diverged during inference; lower the inference rate".into(),
            ));
        }
        Ok(PcUpdate {
            state,
            energy_trace: trace,
        })
    }
}
