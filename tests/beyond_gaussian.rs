//! The beyond-Gaussian toy against independent values: BP through the Bernoulli layer's
//! mean equals BP through a sigmoid activation; matched PC's cosines reach 1 in the
//! fixed-prediction limit; at the default output scale Gaussian PC's cosines are lower and
//! its training loss higher than matched PC's, which trails BP's, on every seed.
#![cfg(not(target_arch = "wasm32"))]

use nalgebra::DMatrix;
use pclab::activation::Activation;
use pclab::beyond_gaussian::{run, summarise, ToySettings, SIZES};
use pclab::energy::{LayerEnergy, Reduction};
use pclab::flops::Flops;
use pclab::learning::bp_gradients;
use pclab::network::{Init, Network, PredictionForm};

#[test]
fn bp_through_a_bernoulli_mean_is_bp_through_a_sigmoid() {
    let net = |activation, energy| {
        let mut n = Network::<f64>::new(
            &SIZES,
            &[activation, Activation::Identity],
            PredictionForm::Post,
            Init::XavierUniform,
            3,
        )
        .unwrap();
        n.set_energy(1, energy).unwrap();
        n
    };
    let matched = net(Activation::Identity, LayerEnergy::bernoulli());
    let gaussian = net(
        Activation::Sigmoid,
        LayerEnergy::gaussian(Reduction::HalfSse),
    );
    let x = DMatrix::from_fn(5, SIZES[0], |i, j| ((i * 3 + j) as f64).sin());
    let y = DMatrix::from_fn(5, SIZES[2], |i, j| ((i + 2 * j) as f64).cos());
    let a = bp_gradients(&matched, &x, &y, &mut Flops::default()).unwrap();
    let b = bp_gradients(&gaussian, &x, &y, &mut Flops::default()).unwrap();
    assert!((a.loss - b.loss).abs() < 1e-12);
    for (p, q) in a.grads.blocks.iter().zip(&b.grads.blocks) {
        assert!((&p.weight - &q.weight).amax() < 1e-12);
        assert!((&p.bias - &q.bias).amax() < 1e-12);
    }
}

#[test]
fn matched_pc_reaches_bp_in_the_fixed_prediction_limit() {
    for seed in 1..=3 {
        let toy = run(&ToySettings {
            seed,
            ts: vec![1, 200],
            output_scale: 0.01,
            train_steps: 0,
            ..ToySettings::default()
        })
        .unwrap();
        for (l, &c) in toy.cosines.matched_pc[1].iter().enumerate() {
            assert!(c > 0.9999, "seed {seed} block {} cosine {c}", l + 1);
        }
        // One step is preconditioned by σ'(φ): not yet BP's direction.
        assert!(toy.cosines.matched_pc[0][0] < toy.cosines.matched_pc[1][0]);
        // No training: the three curves are the same single loss.
        assert_eq!(toy.loss.bp.len(), 1);
        assert_eq!(toy.loss.bp, toy.loss.matched_pc);
    }
}

#[test]
fn gaussian_pc_trails_matched_pc_which_trails_bp() {
    let toys: Vec<_> = (1..=3)
        .map(|seed| {
            run(&ToySettings {
                seed,
                ..ToySettings::default()
            })
            .unwrap()
        })
        .collect();
    for toy in &toys {
        let last = toy.settings.ts.len() - 1;
        // The output block: Gaussian PC's unbounded hidden belief bends its update away.
        let (g, m) = (
            toy.cosines.gaussian_pc[last][1],
            toy.cosines.matched_pc[last][1],
        );
        assert!(
            g + 0.03 < m,
            "seed {}: gaussian {g} vs matched {m}",
            toy.settings.seed
        );
        let final_loss = |curve: &Vec<f64>| *curve.last().unwrap();
        let (g, m, b) = (
            final_loss(&toy.loss.gaussian_pc),
            final_loss(&toy.loss.matched_pc),
            final_loss(&toy.loss.bp),
        );
        assert!(
            b < m && m < g,
            "seed {}: bp {b}, matched {m}, gaussian {g}",
            toy.settings.seed
        );
        assert!(
            toy.loss.bp[0] > 2.0 * b,
            "every rule learns: {} → {b}",
            toy.loss.bp[0]
        );
        assert_eq!(toy.loss.gaussian_pc[0], toy.loss.bp[0]);
    }
    let summary = summarise(&toys).unwrap();
    assert_eq!(summary.seeds, vec![1, 2, 3]);
    assert_eq!(summary.t, 100);
    let values: Vec<f64> = toys.iter().map(|t| *t.loss.bp.last().unwrap()).collect();
    assert_eq!(summary.final_loss.bp.values, values);
}

#[test]
fn hostile_settings_are_refused() {
    for (settings, named) in [
        (
            ToySettings {
                ts: vec![],
                ..ToySettings::default()
            },
            "ts",
        ),
        (
            ToySettings {
                ts: vec![201],
                ..ToySettings::default()
            },
            "ts",
        ),
        (
            ToySettings {
                rate: f64::NAN,
                ..ToySettings::default()
            },
            "rate",
        ),
        (
            ToySettings {
                output_scale: 0.0,
                ..ToySettings::default()
            },
            "output_scale",
        ),
        (
            ToySettings {
                train_t: 0,
                ..ToySettings::default()
            },
            "train_t",
        ),
        (
            ToySettings {
                train_steps: 501,
                ..ToySettings::default()
            },
            "train_steps",
        ),
        (
            ToySettings {
                lr: 1e9,
                ..ToySettings::default()
            },
            "lr",
        ),
    ] {
        let err = run(&settings).err().unwrap().to_string();
        assert!(err.contains(named), "{err}");
    }
}
