//! The VAE (src/vae): finite-difference checks (f64) of the KL term, of the negative
//! ELBO's BP gradients, and of the PC energy's belief and weight gradients; F = −ELBO at
//! the feedforward initialisation; PC's update approaching BP's as the ELBO's weight β
//! shrinks; and the side-by-side comparison training on MNIST.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::DMatrix;
use pclab::data::load_shipped_file;
use pclab::network::{Block, Gradients, Network};
use pclab::vae::compare::{Comparison, VaePlan};
use pclab::vae::{kl_to_prior, latent_gradient, sample_latent, Beliefs, PcSettings, Vae};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const PIXELS: usize = 7;
const HIDDEN: usize = 6;
const LATENT: usize = 3;
const BATCH: usize = 4;
const H: f64 = 1e-6;

fn random(rows: usize, cols: usize, scale: f64, rng: &mut ChaCha8Rng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| scale * (2.0 * rng.gen::<f64>() - 1.0))
}

/// A small VAE, images in [0, 1] and noise ε.
fn setup(seed: u64) -> (Vae<f64>, DMatrix<f64>, DMatrix<f64>) {
    let vae = Vae::new(PIXELS, HIDDEN, LATENT, seed).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 100);
    let x = DMatrix::from_fn(BATCH, PIXELS, |_, _| rng.gen::<f64>());
    let eps = random(BATCH, LATENT, 1.5, &mut rng);
    (vae, x, eps)
}

fn close(a: f64, b: f64, what: &str) {
    let tol = 1e-6 * (1.0 + a.abs().max(b.abs()));
    assert!((a - b).abs() < tol, "{what}: analytic {a} vs numeric {b}");
}

/// The VAE with one parameter of one network moved by `delta`: network `net` (0 encoder,
/// 1 decoder), block `block`, parameter `index` (weights column-major, then biases).
fn nudged(vae: &Vae<f64>, net: usize, block: usize, index: usize, delta: f64) -> Vae<f64> {
    let nets = [vae.encoder(), vae.decoder()];
    let mut blocks: Vec<Block<f64>> = nets[net].blocks().to_vec();
    let b = &mut blocks[block];
    let n = b.weight.len();
    if index < n {
        b.weight.as_mut_slice()[index] += delta;
    } else {
        b.bias[index - n] += delta;
    }
    let moved = Network::from_blocks(blocks, nets[net].form()).unwrap();
    let [mut e, mut d] = nets.map(Clone::clone);
    if net == 0 {
        e = moved;
    } else {
        d = moved;
    }
    Vae::from_networks(e, d).unwrap()
}

/// Checks every parameter's gradient in `grads` (of network `net`) against the central
/// difference of `loss`.
fn check_parameters(
    vae: &Vae<f64>,
    net: usize,
    grads: &Gradients<f64>,
    loss: impl Fn(&Vae<f64>) -> f64,
    what: &str,
) {
    for (l, g) in grads.blocks.iter().enumerate() {
        let analytic: Vec<f64> = g.weight.iter().chain(g.bias.iter()).copied().collect();
        for (i, &a) in analytic.iter().enumerate() {
            let numeric =
                (loss(&nudged(vae, net, l, i, H)) - loss(&nudged(vae, net, l, i, -H))) / (2.0 * H);
            close(a, numeric, &format!("{what} block {} parameter {i}", l + 1));
        }
    }
}

#[test]
fn the_kl_term_and_the_chain_through_the_sample_match_finite_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let phi = random(BATCH, 2 * LATENT, 1.2, &mut rng);
    let eps = random(BATCH, LATENT, 1.5, &mut rng);
    let g_z = random(BATCH, LATENT, 1.0, &mut rng);
    let beta = 0.7;
    // ℓ(φ) = β·KL(φ) + ⟨g_z, z(φ)⟩ has gradient latent_gradient(φ, ε, g_z, β).
    let loss = |phi: &DMatrix<f64>| {
        beta * kl_to_prior(phi) + sample_latent(phi, &eps).component_mul(&g_z).sum()
    };
    let analytic = latent_gradient(&phi, &eps, &g_z, beta);
    for i in 0..phi.len() {
        let mut up = phi.clone();
        up.as_mut_slice()[i] += H;
        let mut down = phi.clone();
        down.as_mut_slice()[i] -= H;
        close(
            analytic.as_slice()[i],
            (loss(&up) - loss(&down)) / (2.0 * H),
            "∂/∂φ",
        );
    }
    // KL(N(0, I) ‖ N(0, I)) = 0, and one hand-computed case: m = 1, s = 0 gives ½.
    let mut prior = DMatrix::<f64>::zeros(1, 2);
    assert_eq!(kl_to_prior(&prior), 0.0);
    prior[(0, 0)] = 1.0;
    assert!((kl_to_prior(&prior) - 0.5).abs() < 1e-15);
}

#[test]
fn bp_gradients_of_the_negative_elbo_match_finite_differences() {
    let (vae, x, eps) = setup(1);
    let bp = vae.bp_gradients(&x, &eps, &mut 0).unwrap();
    close(bp.loss, vae.negative_elbo(&x, &eps).unwrap(), "loss");
    let loss = |v: &Vae<f64>| v.negative_elbo(&x, &eps).unwrap();
    check_parameters(&vae, 0, &bp.encoder, loss, "encoder");
    check_parameters(&vae, 1, &bp.decoder, loss, "decoder");
}

fn random_beliefs(vae: &Vae<f64>, x: &DMatrix<f64>, eps: &DMatrix<f64>, seed: u64) -> Beliefs<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = vae.feedforward(x, eps).unwrap();
    for m in [&mut b.encoder_hidden, &mut b.latent, &mut b.decoder_hidden] {
        *m += random(m.nrows(), m.ncols(), 0.3, &mut rng);
    }
    b
}

/// One belief of [`Beliefs`], picked out mutably.
type Layer = fn(&mut Beliefs<f64>) -> &mut DMatrix<f64>;

#[test]
fn pc_energy_belief_gradients_match_finite_differences() {
    let (vae, x, eps) = setup(2);
    let beliefs = random_beliefs(&vae, &x, &eps, 9);
    let beta = 0.6;
    let state = vae.pc_state(&x, &eps, &beliefs, beta, &mut 0).unwrap();
    let energy = |b: &Beliefs<f64>| vae.pc_state(&x, &eps, b, beta, &mut 0).unwrap().energy;
    let g = &state.belief_gradients;
    let layers: [(Layer, &DMatrix<f64>, &str); 3] = [
        (|b| &mut b.encoder_hidden, &g.encoder_hidden, "h_e"),
        (|b| &mut b.latent, &g.latent, "φ"),
        (|b| &mut b.decoder_hidden, &g.decoder_hidden, "h_d"),
    ];
    for (layer, analytic, what) in layers {
        for i in 0..analytic.len() {
            let mut up = beliefs.clone();
            layer(&mut up).as_mut_slice()[i] += H;
            let mut down = beliefs.clone();
            layer(&mut down).as_mut_slice()[i] -= H;
            let numeric = (energy(&up) - energy(&down)) / (2.0 * H);
            close(analytic.as_slice()[i], numeric, &format!("∂F/∂{what}[{i}]"));
        }
    }
}

#[test]
fn pc_energy_weight_gradients_match_finite_differences() {
    let (vae, x, eps) = setup(4);
    let beliefs = random_beliefs(&vae, &x, &eps, 11);
    let beta = 1.3;
    let state = vae.pc_state(&x, &eps, &beliefs, beta, &mut 0).unwrap();
    let energy = |v: &Vae<f64>| v.pc_state(&x, &eps, &beliefs, beta, &mut 0).unwrap().energy;
    check_parameters(&vae, 0, &state.encoder, energy, "encoder");
    check_parameters(&vae, 1, &state.decoder, energy, "decoder");
}

#[test]
fn at_the_feedforward_initialisation_f_is_the_negative_elbo() {
    for seed in 0..3 {
        let (vae, x, eps) = setup(seed);
        let ff = vae.feedforward(&x, &eps).unwrap();
        let f = vae.pc_state(&x, &eps, &ff, 1.0, &mut 0).unwrap().energy;
        let loss = vae.negative_elbo(&x, &eps).unwrap();
        assert!(
            (f - loss).abs() < 1e-12 * loss.abs(),
            "F {f} vs −ELBO {loss}"
        );
        // And inference only lowers it.
        let settings = PcSettings {
            steps: 20,
            rate: 0.1,
            beta: 1.0,
        };
        let update = vae.pc_update(&x, &eps, &settings, &mut 0).unwrap();
        assert!((update.energy_trace[0] - loss).abs() < 1e-12 * loss.abs());
        assert!(update.energy_trace.windows(2).all(|w| w[1] <= w[0] + 1e-12));
    }
}

fn flat(g: &Gradients<f64>) -> Vec<f64> {
    (g.blocks.iter())
        .flat_map(|b| b.weight.iter().chain(b.bias.iter()).copied())
        .collect()
}

fn cosine(a: &[f64], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    dot / (norm(a) * norm(b))
}

#[test]
fn pc_weight_updates_approach_bp_gradients_as_beta_shrinks() {
    let (vae, x, eps) = setup(5);
    let bp = vae.bp_gradients(&x, &eps, &mut 0).unwrap();
    let bp_all = [flat(&bp.encoder), flat(&bp.decoder)].concat();
    let mut last = 0.0;
    for beta in [1e-1, 1e-3] {
        let settings = PcSettings {
            steps: 2000,
            rate: 0.1,
            beta,
        };
        let pc = vae.pc_update(&x, &eps, &settings, &mut 0).unwrap();
        let pc_all = [flat(&pc.state.encoder), flat(&pc.state.decoder)].concat();
        let c = cosine(&pc_all, &bp_all);
        // Each network's update separately too.
        let enc = cosine(&flat(&pc.state.encoder), &flat(&bp.encoder));
        let dec = cosine(&flat(&pc.state.decoder), &flat(&bp.decoder));
        eprintln!("β {beta}: cosine {c} (encoder {enc}, decoder {dec})");
        assert!(c > last, "the cosine grows as β shrinks");
        last = c;
    }
    assert!(last > 0.999, "cosine at β = 1e-3: {last}");
}

#[test]
fn the_comparison_trains_both_rules_on_mnist() {
    let data = load_shipped_file(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("www/data/mnist-10k.bin.gz"),
    )
    .unwrap();
    // The page's plan (its T, γ and β), measured every 15 steps.
    let plan = VaePlan {
        measure_every: 15,
        ..VaePlan::checkpointed(30, 7, Some(200))
    };
    let mut c = Comparison::new(&data, &plan).unwrap();
    // Both start from the same weights.
    assert_eq!(c.history()[0].bp, c.history()[0].pc);
    assert!(!c.advance(10).unwrap());
    assert!(c.advance(100).unwrap());
    let steps: Vec<usize> = c.history().iter().map(|p| p.step).collect();
    assert_eq!(steps, vec![0, 15, 30]);
    let (first, last) = (&c.history()[0], &c.history()[2]);
    for (rule, a, b) in [("bp", first.bp, last.bp), ("pc", first.pc, last.pc)] {
        assert!(b.mse < a.mse, "{rule}: MSE {} → {}", a.mse, b.mse);
        assert!(b.elbo > a.elbo, "{rule}: ELBO {} → {}", a.elbo, b.elbo);
    }
    let [x, bp, pc] = c.reconstructions(3).unwrap();
    assert_eq!(
        (x.shape(), bp.shape(), pc.shape()),
        ((3, 784), (3, 784), (3, 784))
    );
    let [a, b] = c.samples(2, 1).unwrap();
    assert!(a.iter().chain(b.iter()).all(|p| (0.0..=1.0).contains(p)));
    assert_ne!(a.row(0), a.row(1), "two prior samples differ");
    assert!(c.reconstructions(0).is_err() && c.samples(17, 1).is_err());
    let bad = VaePlan { steps: 0, ..plan };
    assert!(Comparison::new(&data, &bad).is_err());
}
