//! Property tests on random small networks: exact inference equals BP, fixed-prediction
//! with η = 1 reaches BP after L sweeps, standard inference with a small step never raises
//! the energy, free ends, and f32/f64 agreement.
// Native only: wasm-pack builds every test target for wasm32; tests/web.rs runs there.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::DMatrix;
use pclab::activation::Activation;
use pclab::energy::{LayerEnergy, Reduction};
use pclab::flops::Flops;
use pclab::inference::{infer, Clamp, Inference, Standard};
use pclab::learning::{bp_gradients, pc_gradients};
use pclab::network::Gradients;
use pclab::network::{Init, Network, PredictionForm};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

/// A random small network, input batch and target.
#[derive(Clone, Debug)]
struct Problem {
    net: Network<f64>,
    x: DMatrix<f64>,
    y: DMatrix<f64>,
}

fn gaussian(rng: &mut rand_chacha::ChaCha8Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| rng.gen::<f64>() * 2.0 - 1.0)
}

prop_compose! {
    fn problem()(
        sizes in prop::collection::vec(1usize..6, 2..5),
        acts in prop::collection::vec(0usize..6, 4),
        pre in any::<bool>(),
        out_energy in 0usize..3,
        batch in 1usize..5,
        seed in any::<u64>(),
    ) -> Problem {
        let activations: Vec<Activation> =
            acts[..sizes.len() - 1].iter().map(|&i| Activation::ALL[i]).collect();
        let form = if pre { PredictionForm::Pre } else { PredictionForm::Post };
        let mut net = Network::new(&sizes, &activations, form, Init::TorchDefault, seed).unwrap();
        let reductions = [Reduction::HalfSse, Reduction::Sse, Reduction::MseMean];
        net.set_energy(net.depth(), LayerEnergy::gaussian(reductions[out_energy])).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x5eed);
        let x = gaussian(&mut rng, batch, sizes[0]);
        let y = gaussian(&mut rng, batch, sizes[sizes.len() - 1]);
        Problem { net, x, y }
    }
}

fn max_diff(a: &Gradients<f64>, b: &Gradients<f64>) -> f64 {
    a.blocks
        .iter()
        .zip(&b.blocks)
        .map(|(a, b)| {
            (&a.weight - &b.weight)
                .amax()
                .max((&a.bias - &b.bias).amax())
        })
        .fold(0.0, f64::max)
}

fn pc(p: &Problem, method: Inference) -> Gradients<f64> {
    let flops = &mut Flops::default();
    let settled = infer(&p.net, Clamp::both(&p.x, &p.y), &method, None, flops).unwrap();
    pc_gradients(&p.net, &settled, flops)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn exact_inference_equals_backprop(p in problem()) {
        let bp = bp_gradients(&p.net, &p.x, &p.y, &mut Flops::default()).unwrap();
        prop_assert!(max_diff(&pc(&p, Inference::Exact), &bp.grads) < 1e-13);
    }

    #[test]
    fn fixed_prediction_reaches_backprop_after_depth_sweeps(p in problem(), extra in 0usize..3) {
        let depth = p.net.depth();
        let bp = bp_gradients(&p.net, &p.x, &p.y, &mut Flops::default()).unwrap();
        let full = pc(&p, Inference::FixedPrediction { eta: 1.0, sweeps: depth + extra });
        prop_assert!(max_diff(&full, &bp.grads) < 1e-12);
        for sweeps in 1..depth {
            let partial = pc(&p, Inference::FixedPrediction { eta: 1.0, sweeps });
            // Blocks 1..=L−n get no error yet: exactly zero gradients.
            for block in &partial.blocks[..depth - sweeps] {
                prop_assert!(block.weight.iter().chain(block.bias.iter()).all(|&g| g == 0.0));
            }
        }
    }

    #[test]
    fn standard_inference_with_a_small_step_never_raises_the_energy(p in problem()) {
        // Descent is guaranteed for smooth energies; ReLU kinks can be stepped over.
        let kinked = |a: Activation| matches!(a, Activation::Relu | Activation::LeakyRelu { .. });
        prop_assume!(!p.net.blocks().iter().any(|b| kinked(b.activation)));
        let cfg = Standard { steps: 30, lr: 0.02, momentum: 0.0, accumulate_weight_grads: false };
        let settled = infer(&p.net, Clamp::both(&p.x, &p.y), &Inference::Standard(cfg), None, &mut Flops::default()).unwrap();
        let trace: Vec<f64> = settled.energy_trace.iter().map(|r| r.total).collect();
        prop_assert_eq!(trace.len(), 31);
        for w in trace.windows(2) {
            prop_assert!(w[1] <= w[0] + 1e-12, "energy rose: {:?}", w);
        }
        // Hidden errors start at zero from the feedforward initialisation.
        prop_assert!(settled.energy_trace[0].per_layer[1..p.net.depth()].iter().all(|&e| e == 0.0));
    }

    #[test]
    fn f32_and_f64_agree_to_f32_precision(p in problem()) {
        let net32 = Network::<f32>::from_blocks(
            p.net.blocks().iter().map(|b| pclab::network::Block {
                weight: b.weight.clone().cast(), bias: b.bias.clone().cast(), activation: b.activation, energy: b.energy,
            }).collect(),
            p.net.form(),
        ).unwrap();
        let cfg = Inference::Standard(Standard { steps: 5, lr: 0.05, momentum: 0.5, accumulate_weight_grads: false });
        let (x, y) = (p.x.clone().cast::<f32>(), p.y.clone().cast::<f32>());
        let flops = &mut Flops::default();
        let s32 = infer(&net32, Clamp::both(&x, &y), &cfg, None, flops).unwrap();
        let g32 = pc_gradients(&net32, &s32, flops);
        let g64 = pc(&p, cfg);
        for (a, b) in g32.blocks.iter().zip(&g64.blocks) {
            let scale = 1.0 + b.weight.amax();
            prop_assert!((a.weight.clone().cast::<f64>() - &b.weight).amax() < 1e-4 * scale);
        }
    }
}

#[test]
fn free_ends_and_initial_states() {
    let net = Network::<f64>::new(
        &[3, 4, 2],
        &[Activation::Tanh, Activation::Identity],
        PredictionForm::Post,
        Init::XavierUniform,
        7,
    )
    .unwrap();
    let x = DMatrix::from_fn(2, 3, |i, j| (i + j) as f64 * 0.3 - 0.4);
    let cfg = Inference::Standard(Standard {
        steps: 10,
        lr: 0.1,
        momentum: 0.25,
        accumulate_weight_grads: false,
    });
    let flops = &mut Flops::default();
    // A free output settles to its prediction: ε_L = 0.
    let clamp = Clamp {
        input: Some(&x),
        output: None,
    };
    let settled = infer(&net, clamp, &cfg, None, flops).unwrap();
    assert!(settled.errors[2].amax() == 0.0);
    assert!(flops.inference > 0);
    // A free layer 0 needs an initial state, and then is inferred.
    let y = DMatrix::from_element(2, 2, 0.5);
    let free_input = Clamp {
        input: None,
        output: Some(&y),
    };
    assert!(infer(&net, free_input, &cfg, None, flops).is_err());
    let init: Vec<DMatrix<f64>> = net.feedforward(&x).unwrap();
    let settled = infer(&net, free_input, &cfg, Some(&init), flops).unwrap();
    assert!(settled.beliefs[0] != x, "layer 0 should move");
    let trace: Vec<f64> = settled.energy_trace.iter().map(|r| r.total).collect();
    assert!(trace.last() < trace.first());
}

#[test]
fn invalid_inputs_are_errors_not_panics() {
    let tanh = [Activation::Tanh];
    assert!(Network::<f64>::new(&[3], &[], PredictionForm::Post, Init::TorchDefault, 0).is_err());
    assert!(
        Network::<f64>::new(&[3, 2], &[], PredictionForm::Post, Init::TorchDefault, 0).is_err()
    );
    let mut net =
        Network::<f64>::new(&[3, 2], &tanh, PredictionForm::Post, Init::TorchDefault, 0).unwrap();
    let flops = &mut Flops::default();
    let x = DMatrix::zeros(2, 4);
    let y = DMatrix::zeros(2, 2);
    let err = bp_gradients(&net, &x, &y, flops).unwrap_err();
    assert!(err.to_string().contains("layer 0 has 3 units"), "{err}");
    let x = DMatrix::from_element(2, 3, f64::NAN);
    assert!(infer(&net, Clamp::both(&x, &y), &Inference::Exact, None, flops).is_err());
    let x = DMatrix::zeros(0, 3);
    assert!(net.feedforward(&x).is_err());
    assert!(net.set_energy(5, LayerEnergy::categorical()).is_err());
    let mut blocks = net.blocks().to_vec();
    blocks[0].weight[(0, 0)] = f64::INFINITY;
    let err = Network::from_blocks(blocks, PredictionForm::Post).unwrap_err();
    assert!(err.to_string().contains("non-finite"), "{err}");
    let x = DMatrix::zeros(2, 3);
    let strict = Inference::Strict { eta: 0.1, steps: 0 };
    assert!(infer(&net, Clamp::both(&x, &y), &strict, None, flops).is_err());
}

/// With the input clamped, block 1's prediction `μ_1 = f(W_1 x + b_1)` cannot change
/// during inference: one more step must cost less than recomputing that product.
#[test]
fn clamped_input_prediction_is_computed_once_per_batch() {
    let (batch, n0) = (16, 200);
    let net = Network::<f64>::new(
        &[n0, 8, 6],
        &[Activation::Tanh, Activation::Identity],
        PredictionForm::Post,
        Init::XavierUniform,
        3,
    )
    .unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let (x, y) = (gaussian(&mut rng, batch, n0), gaussian(&mut rng, batch, 6));
    let cost = |steps| {
        let mut flops = Flops::default();
        let method = Inference::Standard(Standard {
            steps,
            lr: 0.1,
            momentum: 0.0,
            accumulate_weight_grads: false,
        });
        infer(&net, Clamp::both(&x, &y), &method, None, &mut flops).unwrap();
        flops.inference
    };
    let per_step = cost(3) - cost(2);
    let block_1_product = 2 * batch as u64 * n0 as u64 * 8;
    assert!(per_step > 0);
    assert!(
        per_step < block_1_product,
        "a step costs {per_step} FLOPs, block 1's product alone {block_1_product}"
    );
}
