//! Finite-difference checks: activation derivatives, every energy's gradients, and BP.
//! Also torch's Adam and SGD-momentum update rules on a hand-computed step.
// Native only: wasm-pack builds every test target for wasm32; tests/web.rs runs there.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::DMatrix;
use pclab::activation::Activation;
use pclab::energy::{LayerEnergy, Reduction};
use pclab::flops::Flops;
use pclab::learning::bp_gradients;
use pclab::network::Gradients;
use pclab::network::{Init, Network, PredictionForm};
use pclab::optimizer::{Optimizer, OptimizerConfig};

const H: f64 = 1e-6;

fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    (f(x + H) - f(x - H)) / (2.0 * H)
}

fn grid(rows: usize, cols: usize, seed: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        ((i * 7 + j * 3) as f64 * 0.37 + seed).sin()
    })
}

#[test]
fn activation_derivatives_match_finite_differences() {
    for a in Activation::ALL {
        for &x in &[-1.7, -0.3, 0.2, 0.9, 2.4] {
            let d = central(|x| a.value(x), x);
            let dd = central(|x| a.derivative(x), x);
            assert!((d - a.derivative(x)).abs() < 1e-8, "{a:?} f' at {x}");
            assert!(
                (dd - a.second_derivative(x)).abs() < 1e-7,
                "{a:?} f'' at {x}"
            );
        }
        assert_eq!(Activation::Relu.derivative(0.0), 0.0);
    }
}

#[test]
fn energy_gradients_match_finite_differences() {
    let energies = [
        LayerEnergy::gaussian(Reduction::HalfSse),
        LayerEnergy::gaussian(Reduction::Sse).scaled(0.2),
        LayerEnergy::gaussian(Reduction::MseMean),
        LayerEnergy::categorical(),
        LayerEnergy::bernoulli().scaled(3.0),
    ];
    let (mu, v) = (grid(3, 4, 0.1), grid(3, 4, 1.3).map(|x| x.abs()));
    for energy in energies {
        let e = |mu: &DMatrix<f64>, v: &DMatrix<f64>| {
            energy.evaluate(mu, v, &mut DMatrix::zeros(3, 4), &mut 0)
        };
        let mut eps = DMatrix::zeros(3, 4);
        energy.evaluate(&mu, &v, &mut eps, &mut 0);
        let mut g = DMatrix::zeros(3, 4);
        energy.error_gradient(&eps, &mut g, &mut 0);
        let mut dv = DMatrix::zeros(3, 4);
        energy.add_belief_gradient(&mu, &eps, &mut dv, &mut 0);
        for k in 0..12 {
            let with = |m: &DMatrix<f64>, t: f64| {
                let mut m = m.clone();
                m[k] += t;
                m
            };
            let fd_mu = central(|t| e(&with(&mu, t), &v), 0.0);
            let fd_v = central(|t| e(&mu, &with(&v, t)), 0.0);
            assert!((fd_mu - g[k]).abs() < 1e-7, "{energy:?} dE/dmu");
            assert!((fd_v - dv[k]).abs() < 1e-7, "{energy:?} dE/dv");
        }
    }
}

fn loss(net: &Network<f64>, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    bp_gradients(net, x, y, &mut Flops::default()).unwrap().loss
}

#[test]
fn backprop_matches_finite_differences() {
    let smooth = [
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Gelu,
        Activation::Identity,
    ];
    let outputs = [
        LayerEnergy::gaussian(Reduction::MseMean),
        LayerEnergy::categorical(),
        LayerEnergy::bernoulli(),
    ];
    for (i, form) in [PredictionForm::Post, PredictionForm::Pre]
        .into_iter()
        .enumerate()
    {
        for (j, out) in outputs.into_iter().enumerate() {
            let acts = [
                smooth[(i + j) % 4],
                smooth[(i + j + 1) % 4],
                smooth[(i + j + 2) % 4],
            ];
            let mut net =
                Network::new(&[3, 6, 7, 4], &acts, form, Init::XavierUniform, 11).unwrap();
            net.set_energy(3, out).unwrap();
            let x = grid(5, 3, 0.4);
            let y = grid(5, 4, 2.0).map(|v| v.abs() / 2.0);
            let mut flops = Flops::default();
            let bp = bp_gradients(&net, &x, &y, &mut flops).unwrap();
            assert!(flops.bp > 0 && flops.inference == 0);
            // ∂loss/∂θ by central differences, θ picked by `entry` in block l.
            let fd = |l: usize, entry: &dyn Fn(&mut pclab::network::Block<f64>) -> &mut f64| {
                central(
                    |t| {
                        let mut blocks = net.blocks().to_vec();
                        *entry(&mut blocks[l]) += t;
                        loss(&Network::from_blocks(blocks, form).unwrap(), &x, &y)
                    },
                    0.0,
                )
            };
            for (l, g) in bp.grads.blocks.iter().enumerate() {
                for k in [0, g.weight.len() - 1] {
                    let fd = fd(l, &|b| &mut b.weight[k]);
                    assert!(
                        (fd - g.weight[k]).abs() < 1e-7,
                        "{form:?} {out:?} W{l}[{k}]"
                    );
                }
                let fd = fd(l, &|b| &mut b.bias[0]);
                assert!((fd - g.bias[0]).abs() < 1e-7, "{form:?} {out:?} b{l}");
            }
        }
    }
}

#[test]
fn optimisers_follow_torch_update_rules() {
    let net0 = Network::<f64>::new(
        &[2, 1],
        &[Activation::Identity],
        PredictionForm::Post,
        Init::TorchDefault,
        3,
    )
    .unwrap();
    let mut grads = Gradients::zeros(&net0);
    grads.blocks[0].weight[(0, 0)] = 0.5;
    let w0 = net0.blocks()[0].weight[(0, 0)];
    let flops = &mut Flops::default();
    // Adam, L2 decay inside the gradient: after one step θ moves by lr·sign-ish ratio.
    let mut net = net0.clone();
    let mut adam = Optimizer::new(OptimizerConfig::adam(0.1, 0.01)).unwrap();
    adam.step(&mut net, &grads, flops).unwrap();
    adam.step(&mut net, &grads, flops).unwrap();
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let (mut w, mut m, mut v) = (w0, 0.0, 0.0);
    for t in 1..=2 {
        let g = 0.5 + 0.01 * w;
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        let denom = v.sqrt() / (1.0 - b2.powi(t)).sqrt() + eps;
        w -= 0.1 / (1.0 - b1.powi(t)) * m / denom;
    }
    assert!((net.blocks()[0].weight[(0, 0)] - w).abs() < 1e-14);
    assert!(flops.learning > 0);
    // SGD with momentum: buf = g, then m·buf + g.
    let mut net = net0.clone();
    let sgd = OptimizerConfig::Sgd {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 0.0,
    };
    let mut opt = Optimizer::new(sgd).unwrap();
    opt.step(&mut net, &grads, flops).unwrap();
    opt.step(&mut net, &grads, flops).unwrap();
    let expected = w0 - 0.1 * 0.5 - 0.1 * (0.9 * 0.5 + 0.5);
    assert!((net.blocks()[0].weight[(0, 0)] - expected).abs() < 1e-14);
    // Mismatched gradients and bad settings are errors.
    let other = Network::<f64>::new(
        &[3, 1],
        &[Activation::Identity],
        PredictionForm::Post,
        Init::TorchDefault,
        3,
    )
    .unwrap();
    assert!(opt
        .step(&mut net, &Gradients::zeros(&other), flops)
        .is_err());
    assert!(Optimizer::<f64>::new(OptimizerConfig::adam(f64::NAN, 0.0)).is_err());
}

#[test]
fn a_cosine_with_a_zero_vector_is_undefined_not_zero() {
    use pclab::metrics::{cosine, gradient_cosines};
    // By hand: cos((1, 0), (1, 1)) = 1/√2; opposite vectors −1.
    let c = cosine([1.0_f64, 0.0].into_iter(), [1.0, 1.0].into_iter());
    assert!((c - 0.5_f64.sqrt()).abs() < 1e-15, "{c}");
    let c = cosine([2.0_f64, -1.0].into_iter(), [-4.0, 2.0].into_iter());
    assert!((c + 1.0).abs() < 1e-15, "{c}");
    // A zero vector has no direction: NaN (null in JSON, '–' on the page), never 0.
    assert!(cosine([0.0_f64, 0.0].into_iter(), [1.0, 1.0].into_iter()).is_nan());
    assert!(cosine([1.0_f64, 1.0].into_iter(), [0.0, 0.0].into_iter()).is_nan());
    assert_eq!(
        serde_json::to_string(&[f64::NAN, 0.5]).unwrap(),
        "[null,0.5]"
    );
    // Per block: a block whose PC gradient is zero is undefined, the others measured.
    let net = Network::<f64>::new(
        &[3, 4, 2],
        &[Activation::Tanh, Activation::Identity],
        PredictionForm::Post,
        Init::XavierUniform,
        7,
    )
    .unwrap();
    let mut bp = Gradients::zeros(&net);
    for block in &mut bp.blocks {
        block.weight.fill(1.0);
        block.bias.fill(1.0);
    }
    let mut pc = bp.clone();
    pc.blocks[0].weight.fill(0.0);
    pc.blocks[0].bias.fill(0.0);
    let cosines = gradient_cosines(&pc, &bp);
    assert!(cosines[0].is_nan(), "{cosines:?}");
    assert!((cosines[1] - 1.0).abs() < 1e-12, "{cosines:?}");
}
