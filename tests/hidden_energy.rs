//! Hidden categorical and Bernoulli layers (Pinchetti et al. 2022): the belief is a
//! distribution `v = m(φ)`, scored by `p·KL(v ‖ m(μ))`. Finite-difference checks (f64) of
//! the network energy against the natural parameters φ that inference descends, of the PC
//! and BP weight gradients, and that a configuration with such layers trains, saves and
//! loads.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::DMatrix;
use pclab::activation::Activation;
use pclab::bench::synthetic_dataset;
use pclab::config::Config;
use pclab::data::Split;
use pclab::energy::{LayerEnergy, Reduction};
use pclab::flops::Flops;
use pclab::inference::{infer, Clamp, Inference, Standard};
use pclab::learning::{bp_gradients, pc_gradients};
use pclab::network::{Init, Network, PredictionForm};
use pclab::train::Trainer;

const H: f64 = 1e-6;

fn grid(rows: usize, cols: usize, seed: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        ((i * 7 + j * 3) as f64 * 0.37 + seed).sin()
    })
}

/// 3 → 5 (categorical) → 4 (Bernoulli) → 2 (Gaussian), in one prediction form.
fn network(form: PredictionForm) -> Network<f64> {
    let mut net = Network::new(
        &[3, 5, 4, 2],
        &[Activation::Identity, Activation::Tanh, Activation::Identity],
        form,
        Init::XavierUniform,
        7,
    )
    .unwrap();
    net.set_energy(1, LayerEnergy::categorical().scaled(0.8))
        .unwrap();
    net.set_energy(2, LayerEnergy::bernoulli().scaled(1.3))
        .unwrap();
    net.set_energy(3, LayerEnergy::gaussian(Reduction::HalfSse))
        .unwrap();
    net
}

fn standard(steps: usize, lr: f64) -> Inference {
    Inference::Standard(Standard {
        steps,
        lr,
        momentum: 0.0,
        accumulate_weight_grads: false,
    })
}

fn softmax_rows(m: &DMatrix<f64>) -> DMatrix<f64> {
    let mut out = m.map(f64::exp);
    for mut row in out.row_iter_mut() {
        let s = row.sum();
        row /= s;
    }
    out
}

fn sigmoid(m: &DMatrix<f64>) -> DMatrix<f64> {
    m.map(|x| 1.0 / (1.0 + (-x).exp()))
}

/// The total energy F with every belief given (no step taken).
fn energy_at(net: &Network<f64>, beliefs: &[DMatrix<f64>]) -> f64 {
    let (x, y) = (&beliefs[0], &beliefs[beliefs.len() - 1]);
    let settled = infer(
        net,
        Clamp::both(x, y),
        &standard(0, 0.1),
        Some(beliefs),
        &mut Flops::default(),
    )
    .unwrap();
    settled.energy_trace[0].total
}

#[test]
fn the_hidden_divergence_is_a_kl_that_vanishes_at_the_prediction() {
    let mu = grid(3, 4, 0.4);
    for (energy, mean) in [
        (LayerEnergy::categorical(), softmax_rows(&mu)),
        (LayerEnergy::bernoulli(), sigmoid(&mu)),
    ] {
        let mut eps = DMatrix::zeros(3, 4);
        let at_mean = energy.evaluate_hidden(&mu, &mean, &mut eps, &mut 0);
        assert!(at_mean.abs() < 1e-12, "{energy:?}: {at_mean}");
        let v = match energy.distribution {
            pclab::energy::Distribution::Categorical => softmax_rows(&grid(3, 4, 2.0)),
            _ => sigmoid(&grid(3, 4, 2.0)),
        };
        // KL(v ‖ m) written out by hand.
        let kl: f64 = v
            .iter()
            .zip(mean.iter())
            .map(|(&v, &m)| match energy.distribution {
                pclab::energy::Distribution::Categorical => v * (v / m).ln(),
                _ => v * (v / m).ln() + (1.0 - v) * ((1.0 - v) / (1.0 - m)).ln(),
            })
            .sum();
        let e = energy
            .scaled(2.5)
            .evaluate_hidden(&mu, &v, &mut eps, &mut 0);
        assert!((e - 2.5 * kl).abs() < 1e-12, "{energy:?}: {e} vs {kl}");
        assert!(kl > 0.0);
    }
}

#[test]
fn a_non_finite_prediction_shows_as_a_non_finite_divergence() {
    // The divergence is kept ≥ 0 against rounding; that must not turn a NaN or ∞ into 0,
    // or a diverging run would record a finite energy and train on.
    for energy in [LayerEnergy::categorical(), LayerEnergy::bernoulli()] {
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut mu = grid(3, 4, 0.4);
            mu[(1, 2)] = bad;
            let v = sigmoid(&grid(3, 4, 2.0));
            let e = energy.evaluate_hidden(&mu, &v, &mut DMatrix::zeros(3, 4), &mut 0);
            assert!(!e.is_finite(), "{energy:?} with μ = {bad}: {e}");
        }
    }
}

#[test]
fn descent_on_natural_parameters_follows_the_energy_gradient() {
    for form in [PredictionForm::Post, PredictionForm::Pre] {
        let net = network(form);
        let (x, y) = (grid(2, 3, 0.3), grid(2, 2, 1.1));
        let (phi1, phi2) = (grid(2, 5, 0.7), grid(2, 4, 2.9));
        let beliefs = |phi1: &DMatrix<f64>, phi2: &DMatrix<f64>| {
            vec![x.clone(), softmax_rows(phi1), sigmoid(phi2), y.clone()]
        };
        // One step at rate 1 moves φ by −∂F/∂φ; read the step back from the beliefs.
        let stepped = infer(
            &net,
            Clamp::both(&x, &y),
            &standard(1, 1.0),
            Some(&beliefs(&phi1, &phi2)),
            &mut Flops::default(),
        )
        .unwrap()
        .beliefs;
        let ln = |m: &DMatrix<f64>| m.map(f64::ln);
        let logit = |m: &DMatrix<f64>| m.map(|v| (v / (1.0 - v)).ln());
        let mut g1 = ln(&softmax_rows(&phi1)) - ln(&stepped[1]);
        for mut row in g1.row_iter_mut() {
            let mean = row.mean();
            row.add_scalar_mut(-mean);
        }
        let g2 = logit(&sigmoid(&phi2)) - logit(&stepped[2]);
        for (layer, analytic) in [(1, &g1), (2, &g2)] {
            for idx in 0..analytic.len() {
                let f = |h: f64| {
                    let (mut a, mut b) = (phi1.clone(), phi2.clone());
                    if layer == 1 {
                        a[idx] += h;
                    } else {
                        b[idx] += h;
                    }
                    energy_at(&net, &beliefs(&a, &b))
                };
                let numeric = (f(H) - f(-H)) / (2.0 * H);
                assert!(
                    (numeric - analytic[idx]).abs() < 1e-6,
                    "{form:?} layer {layer} entry {idx}: {numeric} vs {}",
                    analytic[idx]
                );
            }
        }
        // The energy is bounded below: many large steps settle, F stays ≥ 0 and falls.
        let settled = infer(
            &net,
            Clamp::both(&x, &y),
            &standard(200, 0.5),
            None,
            &mut Flops::default(),
        )
        .unwrap();
        let trace: Vec<f64> = settled.energy_trace.iter().map(|r| r.total).collect();
        assert!(trace.iter().all(|&e| e >= 0.0 && e.is_finite()));
        assert!(trace[200] < trace[0]);
    }
}

/// `net` with one weight or bias entry moved by h.
fn nudged(net: &Network<f64>, block: usize, entry: usize, bias: bool, h: f64) -> Network<f64> {
    let mut blocks = net.blocks().to_vec();
    if bias {
        blocks[block].bias[entry] += h;
    } else {
        blocks[block].weight[entry] += h;
    }
    Network::from_blocks(blocks, net.form()).unwrap()
}

#[test]
fn pc_and_bp_weight_gradients_match_finite_differences() {
    for form in [PredictionForm::Post, PredictionForm::Pre] {
        let net = network(form);
        let (x, y) = (grid(2, 3, 0.3), grid(2, 2, 1.1));
        let mut flops = Flops::default();
        let settled = infer(
            &net,
            Clamp::both(&x, &y),
            &standard(6, 0.2),
            None,
            &mut flops,
        )
        .unwrap();
        let pc = pc_gradients(&net, &settled, &mut flops);
        let bp = bp_gradients(&net, &x, &y, &mut flops).unwrap();
        for (b, (pc, bp)) in pc.blocks.iter().zip(&bp.grads.blocks).enumerate() {
            for (bias, n) in [(false, pc.weight.len()), (true, pc.bias.len())] {
                for entry in 0..n {
                    let central = |f: &dyn Fn(&Network<f64>) -> f64| {
                        (f(&nudged(&net, b, entry, bias, H)) - f(&nudged(&net, b, entry, bias, -H)))
                            / (2.0 * H)
                    };
                    // PC: ∂F/∂θ with the settled beliefs held fixed.
                    let pc_numeric = central(&|n| energy_at(n, &settled.beliefs));
                    // BP: ∂ℓ/∂θ through the feedforward pass, softmax and sigmoid included.
                    let bp_numeric =
                        central(&|n| bp_gradients(n, &x, &y, &mut Flops::default()).unwrap().loss);
                    let (pc_a, bp_a) = if bias {
                        (pc.bias[entry], bp.bias[entry])
                    } else {
                        (pc.weight[entry], bp.weight[entry])
                    };
                    assert!(
                        (pc_numeric - pc_a).abs() < 1e-6,
                        "{form:?} PC block {b} {bias} {entry}: {pc_numeric} vs {pc_a}"
                    );
                    assert!(
                        (bp_numeric - bp_a).abs() < 1e-6,
                        "{form:?} BP block {b} {bias} {entry}: {bp_numeric} vs {bp_a}"
                    );
                }
            }
        }
    }
}

#[test]
fn bp_through_inference_refuses_distribution_hidden_layers() {
    let net = network(PredictionForm::Post);
    let (x, y) = (grid(4, 3, 0.3), grid(4, 2, 0.7));
    let settings = Standard {
        steps: 3,
        lr: 0.1,
        momentum: 0.0,
        accumulate_weight_grads: false,
    };
    let Err(err) = pclab::unrolled::unroll(
        &net,
        Clamp::both(&x, &y),
        &settings,
        None,
        &mut Flops::default(),
    ) else {
        panic!("BP through inference accepted a Bernoulli hidden layer");
    };
    assert!(err.to_string().contains("Gaussian hidden layers"), "{err}");
}

#[test]
fn torch2pc_methods_refuse_distribution_hidden_layers() {
    let net = network(PredictionForm::Post);
    let (x, y) = (grid(2, 3, 0.3), grid(2, 2, 1.1));
    for method in [
        Inference::Exact,
        Inference::FixedPrediction {
            eta: 1.0,
            sweeps: 2,
        },
    ] {
        let err = infer(
            &net,
            Clamp::both(&x, &y),
            &method,
            None,
            &mut Flops::default(),
        )
        .err()
        .unwrap()
        .to_string();
        assert!(err.contains("Gaussian hidden layers"), "{err}");
    }
}

fn data() -> Split {
    Split {
        train: synthetic_dataset(256, 1).unwrap(),
        test: synthetic_dataset(64, 2).unwrap(),
    }
}

#[test]
fn the_setting_validates_trains_and_round_trips() {
    let base = Config::preset("classification").unwrap();
    for (settings, needs) in [
        (
            vec![("hidden_energy", "bernoulli"), ("experiment", "compress")],
            "classify experiment only",
        ),
        (
            vec![("hidden_energy", "categorical"), ("inference", "exact")],
            "standard or strict inference",
        ),
    ] {
        let err = base.with_settings(settings).err().unwrap().to_string();
        assert!(err.contains(needs), "{err}");
    }
    for (energy, inference) in [
        ("categorical", "standard"),
        ("bernoulli", "standard"),
        ("bernoulli", "strict"),
    ] {
        let config = base
            .with_settings([
                ("hidden_energy", energy),
                ("inference", inference),
                ("hidden", "16"),
                ("batch", "32"),
                ("activation", "identity"),
                ("lr", "0.03"),
            ])
            .unwrap();
        let mut trainer = Trainer::new(config, data()).unwrap();
        assert!(trainer.network().blocks()[0].energy.is_distribution());
        // The training loss (the label layer's energy) of the first and last 5 of 100 steps
        // falls (seen: by 7% for the categorical layer, 20% for the Bernoulli).
        let losses: Vec<f64> = (0..100).map(|_| trainer.step().unwrap().loss).collect();
        let (first, last) = (
            losses[..5].iter().sum::<f64>(),
            losses[95..].iter().sum::<f64>(),
        );
        assert!(
            last < 0.95 * first,
            "{energy}, {inference}: loss {first} -> {last} (sums of 5 steps)"
        );
        let saved = pclab::inspect::save(&trainer).unwrap();
        let loaded = pclab::inspect::load(&saved, data()).unwrap();
        assert_eq!(loaded.network(), trainer.network());
        assert_eq!(loaded.config(), trainer.config());
    }
    // A model saved before the setting existed loads with Gaussian hidden layers.
    let trainer = Trainer::new(base.clone(), data()).unwrap();
    let mut model: serde_json::Value =
        serde_json::from_str(&pclab::inspect::save(&trainer).unwrap()).unwrap();
    model["config"]
        .as_object_mut()
        .unwrap()
        .remove("hidden_energy");
    let loaded = pclab::inspect::load(&model.to_string(), data()).unwrap();
    assert_eq!(
        loaded.config().hidden_energy,
        pclab::config::OutputEnergy::Gaussian
    );
}

#[test]
fn the_gradients_view_compares_the_methods_the_hidden_layers_allow() {
    use pclab::experiment::InferenceKind;
    use pclab::inspect::{gradient_cosines, gradient_variants};
    let base = Config::preset("gradients").unwrap();
    let kinds = |c: &Config| -> Vec<(InferenceKind, f64)> {
        (gradient_variants(c, 0.2).iter())
            .map(|v| (v.inference, v.rate))
            .collect()
    };
    assert_eq!(
        kinds(&base),
        [
            (InferenceKind::FixedPrediction, 1.0),
            (InferenceKind::Strict, 0.2),
            (InferenceKind::Standard, 0.2)
        ]
    );
    let bernoulli = base
        .with_settings([("hidden_energy", "bernoulli"), ("activation", "identity")])
        .unwrap();
    assert_eq!(
        kinds(&bernoulli),
        [(InferenceKind::Strict, 0.2), (InferenceKind::Standard, 0.2)]
    );
    // Every method offered runs on such a network; the one left out is refused.
    let trainer = Trainer::new(bernoulli, data()).unwrap();
    for v in gradient_variants(trainer.config(), 0.2) {
        let cosines = gradient_cosines(&trainer, v.inference, 3, v.rate, 16).unwrap();
        // Strict inference moves the error one layer down per step: after 3 steps of this
        // 4-block network the first block's PC gradient is still zero, its cosine undefined.
        let undefined = usize::from(v.inference == InferenceKind::Strict);
        assert!(
            cosines[..undefined].iter().all(|c| c.is_nan()),
            "{cosines:?}"
        );
        assert!(
            (cosines[undefined..].iter()).all(|c| c.is_finite() && c.abs() <= 1.0 + 1e-9),
            "{:?}: {cosines:?}",
            v.inference
        );
    }
    let refused = gradient_cosines(&trainer, InferenceKind::FixedPrediction, 3, 1.0, 16);
    assert!(refused
        .unwrap_err()
        .to_string()
        .contains("Gaussian hidden layers"));
}
