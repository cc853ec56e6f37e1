//! BP through the unrolled standard inference against central finite differences in f64:
//! both prediction forms, tanh and sigmoid, Gaussian/categorical/Bernoulli output energies,
//! with and without momentum, clamped and free ends, T = 1..5.
// Native only: wasm-pack builds every test target for wasm32; tests/web.rs runs there.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::DMatrix;
use pclab::activation::Activation;
use pclab::energy::{LayerEnergy, Reduction};
use pclab::flops::Flops;
use pclab::inference::{infer, Clamp, Inference, Standard};
use pclab::network::Gradients;
use pclab::network::{Block, Init, Network, PredictionForm};
use pclab::unrolled::unroll;

const H: f64 = 1e-5;

fn grid(rows: usize, cols: usize, seed: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        ((i * 7 + j * 3) as f64 * 0.37 + seed).sin()
    })
}

/// Which ends are clamped and where inference starts.
#[derive(Clone, Copy, Debug)]
enum Ends {
    /// Both clamped, feedforward start.
    Clamped,
    /// Both clamped, from a given initial state.
    ClampedFromInitial,
    /// Layer 0 free (from a given initial state), output clamped.
    FreeInput,
    /// Input clamped, output free (feedforward start).
    FreeOutput,
}

struct Problem {
    x: DMatrix<f64>,
    y: DMatrix<f64>,
    initial: Vec<DMatrix<f64>>,
    ends: Ends,
    settings: Standard,
    /// The outer loss `L = Σ_l ⟨R_l, v_l⟩ + ½‖v_l‖²` over the layers in `weighted`,
    /// plus the direct term `⟨D, W_1⟩`.
    r: Vec<DMatrix<f64>>,
    d: DMatrix<f64>,
}

impl Problem {
    fn clamp(&self) -> Clamp<'_, f64> {
        Clamp {
            input: (!matches!(self.ends, Ends::FreeInput)).then_some(&self.x),
            output: (!matches!(self.ends, Ends::FreeOutput)).then_some(&self.y),
        }
    }

    fn initial(&self) -> Option<&[DMatrix<f64>]> {
        match self.ends {
            Ends::Clamped | Ends::FreeOutput => None,
            Ends::ClampedFromInitial | Ends::FreeInput => Some(&self.initial),
        }
    }

    fn weighted(&self, l: usize, depth: usize) -> bool {
        match self.ends {
            Ends::FreeInput => l < depth,
            Ends::FreeOutput => l > 0,
            _ => l > 0 && l < depth,
        }
    }

    /// The outer loss at the beliefs the engine's own inference reaches.
    fn loss(&self, net: &Network<f64>, initial: Option<&[DMatrix<f64>]>) -> f64 {
        let method = Inference::Standard(self.settings);
        let settled = infer(net, self.clamp(), &method, initial, &mut Flops::default()).unwrap();
        let depth = net.depth();
        let outer: f64 = settled
            .beliefs
            .iter()
            .enumerate()
            .filter(|&(l, _)| self.weighted(l, depth))
            .map(|(l, v)| self.r[l].dot(v) + 0.5 * v.norm_squared())
            .sum();
        outer + self.d.dot(&net.blocks()[0].weight)
    }
}

/// The largest deviation in a block relative to the block's largest gradient entry.
fn relative(fd: &[f64], analytic: &[f64]) -> f64 {
    let scale = analytic.iter().fold(1e-8, |m, &a| f64::max(m, a.abs()));
    fd.iter()
        .zip(analytic)
        .map(|(f, a)| (f - a).abs() / scale)
        .fold(0.0, f64::max)
}

/// Checks `dL/dθ` (and `dL/dv_0(0)` for a free layer 0); returns the largest relative error.
fn check(net: &Network<f64>, p: &Problem) -> f64 {
    let mut flops = Flops::default();
    let run = unroll(net, p.clamp(), &p.settings, p.initial(), &mut flops).unwrap();
    // The unrolled forward pass reaches the engine's own v(T).
    let method = Inference::Standard(p.settings);
    let settled = infer(net, p.clamp(), &method, p.initial(), &mut Flops::default()).unwrap();
    for (a, b) in run.beliefs().iter().zip(&settled.beliefs) {
        assert!((a - b).amax() < 1e-12, "forward pass differs from infer");
    }
    let depth = net.depth();
    let outer: Vec<DMatrix<f64>> = run
        .beliefs()
        .iter()
        .enumerate()
        .map(|(l, v)| match p.weighted(l, depth) {
            true => &p.r[l] + v,
            false => DMatrix::zeros(v.nrows(), v.ncols()),
        })
        .collect();
    let mut direct = Gradients::zeros(net);
    direct.blocks[0].weight.copy_from(&p.d);
    let grads = run
        .backward(net, &outer, Some(&direct), &mut flops)
        .unwrap();
    assert!(flops.bp > 0 && flops.inference == 0);
    let form = net.form();
    let perturbed = |l: usize, entry: &dyn Fn(&mut Block<f64>) -> &mut f64, t: f64| {
        let mut blocks = net.blocks().to_vec();
        *entry(&mut blocks[l]) += t;
        p.loss(&Network::from_blocks(blocks, form).unwrap(), p.initial())
    };
    let central = |f: &dyn Fn(f64) -> f64| (f(H) - f(-H)) / (2.0 * H);
    let mut worst: f64 = 0.0;
    for (l, g) in grads.parameters.blocks.iter().enumerate() {
        let fd_w: Vec<f64> = (0..g.weight.len())
            .map(|k| central(&|t| perturbed(l, &|b| &mut b.weight[k], t)))
            .collect();
        let fd_b: Vec<f64> = (0..g.bias.len())
            .map(|k| central(&|t| perturbed(l, &|b| &mut b.bias[k], t)))
            .collect();
        worst = worst
            .max(relative(&fd_w, g.weight.as_slice()))
            .max(relative(&fd_b, g.bias.as_slice()));
    }
    if let Ends::FreeInput = p.ends {
        let initial = grads.initial.expect("a gradient for the initial state");
        let fd: Vec<f64> = (0..p.initial[0].len())
            .map(|k| {
                central(&|t| {
                    let mut init = p.initial.clone();
                    init[0][k] += t;
                    p.loss(net, Some(&init))
                })
            })
            .collect();
        worst = worst.max(relative(&fd, initial[0].as_slice()));
    } else if matches!(p.ends, Ends::Clamped | Ends::FreeOutput) {
        assert!(grads.initial.is_none());
    }
    worst
}

fn problem(net: &Network<f64>, ends: Ends, settings: Standard, seed: f64) -> Problem {
    let sizes = net.sizes();
    let batch = 3;
    let x = grid(batch, sizes[0], seed);
    let y = grid(batch, sizes[sizes.len() - 1], seed + 1.0).map(|v| 0.5 + 0.4 * v);
    let initial = sizes
        .iter()
        .enumerate()
        .map(|(l, &n)| grid(batch, n, seed + 2.0 + l as f64) * 0.5)
        .collect();
    let r = sizes
        .iter()
        .enumerate()
        .map(|(l, &n)| grid(batch, n, seed - 1.0 - l as f64))
        .collect();
    let d = grid(sizes[1], sizes[0], seed + 0.5);
    Problem {
        x,
        y,
        initial,
        ends,
        settings,
        r,
        d,
    }
}

fn standard(steps: usize, lr: f64, momentum: f64) -> Standard {
    Standard {
        steps,
        lr,
        momentum,
        accumulate_weight_grads: false,
    }
}

/// A network with tanh hidden blocks and the given output activation.
fn tanh_net(sizes: &[usize], output: Activation, form: PredictionForm) -> Network<f64> {
    let mut acts = vec![Activation::Tanh; sizes.len() - 1];
    acts[sizes.len() - 2] = output;
    Network::new(sizes, &acts, form, Init::XavierUniform, 2).unwrap()
}

#[test]
fn unrolled_gradient_matches_finite_differences() {
    let outputs = [
        LayerEnergy::gaussian(Reduction::Sse),
        LayerEnergy::categorical(),
        LayerEnergy::bernoulli().scaled(0.7),
    ];
    let ends = [
        Ends::Clamped,
        Ends::ClampedFromInitial,
        Ends::FreeInput,
        Ends::FreeOutput,
    ];
    let mut worst: f64 = 0.0;
    let mut cases = 0;
    for form in [PredictionForm::Post, PredictionForm::Pre] {
        for act in [Activation::Tanh, Activation::Sigmoid] {
            for (e, out) in outputs.into_iter().enumerate() {
                let sizes: &[usize] = if e == 1 { &[3, 4, 5, 3] } else { &[2, 4, 3] };
                let acts = vec![act; sizes.len() - 1];
                let mut net = Network::new(sizes, &acts, form, Init::XavierUniform, 5).unwrap();
                net.set_energy(net.depth(), out).unwrap();
                // A scaled hidden energy exercises the precision in every curvature term.
                net.set_energy(1, LayerEnergy::gaussian(Reduction::HalfSse).scaled(1.3))
                    .unwrap();
                for momentum in [0.0, 0.6] {
                    for (i, &end) in ends.iter().enumerate() {
                        for steps in 1..=5 {
                            let settings = standard(steps, 0.15, momentum);
                            let p = problem(&net, end, settings, (i + steps) as f64 * 0.3);
                            let err = check(&net, &p);
                            assert!(
                                err < 1e-6,
                                "{form:?} {act:?} {out:?} m={momentum} {end:?} T={steps}: {err:e}"
                            );
                            worst = worst.max(err);
                            cases += 1;
                        }
                    }
                }
            }
        }
    }
    println!("{cases} cases, largest relative error {worst:e}");
}

#[test]
fn with_a_zero_step_the_gradient_is_the_direct_dependence() {
    let net = tanh_net(&[3, 4, 2], Activation::Sigmoid, PredictionForm::Post);
    let settings = standard(4, 0.0, 0.5);
    let p = problem(&net, Ends::ClampedFromInitial, settings, 0.4);
    let flops = &mut Flops::default();
    let run = unroll(&net, p.clamp(), &settings, p.initial(), flops).unwrap();
    let outer: Vec<DMatrix<f64>> = p.r.clone();
    let mut direct = Gradients::zeros(&net);
    direct.blocks[1].bias[0] = 0.25;
    let grads = run.backward(&net, &outer, Some(&direct), flops).unwrap();
    assert_eq!(grads.parameters, direct);
    // dL/dv(0) = ∂L/∂v(T) on the descended (hidden) layer only.
    let initial = grads.initial.unwrap();
    assert_eq!(initial[1], p.r[1]);
    assert!(initial[0].amax() == 0.0 && initial[2].amax() == 0.0);
}

#[test]
fn wrong_shapes_are_errors() {
    let net = tanh_net(&[3, 4, 2], Activation::Identity, PredictionForm::Pre);
    let settings = standard(2, 0.1, 0.0);
    let p = problem(&net, Ends::Clamped, settings, 0.1);
    let flops = &mut Flops::default();
    let bad_x = DMatrix::zeros(3, 5);
    assert!(unroll(&net, Clamp::both(&bad_x, &p.y), &settings, None, flops).is_err());
    let run = unroll(&net, p.clamp(), &settings, None, flops).unwrap();
    let mut outer = p.r.clone();
    outer[1] = DMatrix::zeros(3, 3);
    let err = run.backward(&net, &outer, None, flops).unwrap_err();
    assert!(err.to_string().contains("layer 1 has 4 units"), "{err}");
    assert!(run.backward(&net, &p.r[..2], None, flops).is_err());
    let other = tanh_net(&[3, 5, 2], Activation::Identity, PredictionForm::Pre);
    assert!(run.backward(&other, &p.r, None, flops).is_err());
    assert!(run
        .backward(&net, &p.r, Some(&Gradients::zeros(&other)), flops)
        .is_err());
}
