//! Inference dynamics, PC-trained against BP-trained (src/dynamics.rs): the two runs of a
//! comparison learn from identical batches, and each replay's record is the engine's own
//! inference (latent distance 0 at T, the test's reconstruction and class read-out at T);
//! a drawn digit replays like a test digit, and the least-well-explained digit is the
//! one of highest settled energy.
#![cfg(not(target_arch = "wasm32"))]

mod shipped;

use pclab::config::{Compare, Config};
use pclab::data::PixelScale;
use pclab::dynamics::snapshot_steps;
use pclab::experiment::Rule;
use pclab::inspect::{self, Replay};
use pclab::train::{argmax, Trainer};
use shipped::{config, data};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-4 * (1.0 + a.abs().max(b.abs()))
}

/// The two runs of `compare=bp`, trained `steps` minibatches in lockstep; every step both
/// draw their batch from the same order of the training images.
fn trained_pair(config: &Config, steps: usize) -> Vec<Trainer> {
    let data = data();
    let mut runs: Vec<Trainer> = Compare::Bp
        .runs(config)
        .unwrap()
        .into_iter()
        .map(|c| Trainer::new(c, data.clone()).unwrap())
        .collect();
    let mut orders = Vec::new();
    for _ in 0..steps {
        for run in &mut runs {
            run.step().unwrap();
        }
        assert_eq!(
            runs[0].epoch_order(),
            runs[1].epoch_order(),
            "same data order"
        );
        orders.push(runs[0].epoch_order().to_vec());
    }
    assert_ne!(
        orders.first(),
        orders.last(),
        "the order is reshuffled every epoch"
    );
    runs
}

/// A decoder small enough for a test: 16-64-784, T = 12, 8 steps per epoch.
const SMALL: &[(&str, &str)] = &[
    ("hidden", "64"),
    ("latent", "16"),
    ("T", "12"),
    ("batch", "1000"),
];

/// Checks one replay's dynamics against the trainer's own inference of test image `i`.
fn check_dynamics(trainer: &Trainer, i: usize) -> Replay {
    let replay = inspect::replay(trainer, i).unwrap();
    let d = replay
        .dynamics
        .as_ref()
        .expect("a decoder's replay has dynamics");
    let free = &replay.free;
    let t_max = free.total.len() - 1;
    assert_eq!(d.latent_distance.len(), t_max + 1);
    assert_eq!(
        d.latent_distance[t_max], 0.0,
        "the latent is at its settled value at T"
    );
    // The latent starts at zero, so its first distance is the settled latent's norm.
    let settled: f64 = free.beliefs[t_max][0]
        .iter()
        .map(|&v| f64::from(v * v))
        .sum();
    assert!(close(d.latent_distance[0], settled.sqrt()));
    // The energy per layer is the engine's own test-time trace.
    let (x, _) = trainer
        .data()
        .test
        .batch::<f32>(&[i], trainer.config().pixel_scale());
    let engine = trainer.test_trajectory(&x).unwrap();
    for (t, record) in engine.energy_trace.iter().enumerate() {
        assert!(close(free.total[t], f64::from(record.total)));
        for (l, &e) in record.per_layer.iter().enumerate() {
            assert!(close(free.energy[t][l], f64::from(e)));
        }
    }
    // At T the reconstruction is the test's.
    let recon = trainer.reconstruct(&x).unwrap();
    let mse = (&recon - &x).iter().map(|&e| f64::from(e * e)).sum::<f64>() / x.len() as f64;
    assert!(close(d.mse[t_max], mse), "{} vs {mse}", d.mse[t_max]);
    let ts: Vec<usize> = d.snapshots.iter().map(|s| s.t).collect();
    assert_eq!(ts, snapshot_steps(t_max));
    assert_eq!(ts, [0, t_max / 4, t_max / 2, t_max]);
    let last = &d.snapshots.last().unwrap().reconstruction;
    assert!(last
        .iter()
        .zip(recon.iter())
        .all(|(a, b)| (a - b).abs() < 1e-5));
    replay
}

#[test]
fn compress_compares_pc_with_bp_through_inference_on_identical_batches() {
    let runs = trained_pair(&config("compression", SMALL), 10);
    let rules: Vec<Rule> = runs.iter().map(|r| r.config().rule).collect();
    assert_eq!(
        rules,
        [Rule::Pc, Rule::BpThroughInference],
        "the same decoder, both rules"
    );
    for run in &runs {
        for i in [0, 7] {
            let replay = check_dynamics(run, i);
            assert!(
                replay.dynamics.unwrap().readout.is_empty(),
                "compress has no classifier"
            );
        }
    }
    // The classify comparison stays PC against BP.
    let classify = Compare::Bp.runs(&Config::default()).unwrap();
    assert_eq!(classify[1].rule, Rule::Bp);
}

#[test]
fn tradeoff_dynamics_read_the_class_at_every_step() {
    let settings = [SMALL, &[("lambda", "0.5")]].concat();
    let runs = trained_pair(&config("tradeoff", &settings), 10);
    for run in &runs {
        let replay = check_dynamics(run, 3);
        let d = replay.dynamics.unwrap();
        let t_max = d.latent_distance.len() - 1;
        assert_eq!(d.readout.len(), t_max + 1);
        let (x, _) = run
            .data()
            .test
            .batch::<f32>(&[3], run.config().pixel_scale());
        let p = run.class_probabilities(&x).unwrap();
        let class = argmax(p.row(0).iter().copied());
        assert_eq!(d.readout[t_max].class, class);
        assert!(close(
            d.readout[t_max].probability,
            f64::from(p[(0, class)])
        ));
        assert!(d
            .readout
            .iter()
            .all(|r| (0.0..=1.0).contains(&r.probability)));
    }
}

#[test]
fn classify_replays_have_no_latent_dynamics() {
    let trainer = Trainer::new(config("classification", &[("hidden", "32")]), data()).unwrap();
    assert!(inspect::replay(&trainer, 0).unwrap().dynamics.is_none());
}

fn trained_classifier() -> Trainer {
    let mut trainer = Trainer::new(config("classification", &[("hidden", "32")]), data()).unwrap();
    for _ in 0..30 {
        trainer.step().unwrap();
    }
    trainer
}

#[test]
fn a_drawn_digit_replays_like_a_test_digit_and_bad_pixels_are_refused() {
    let trainer = trained_classifier();
    let pixels: Vec<f32> = trainer
        .data()
        .test
        .images::<f32>(&[5], PixelScale::Unit)
        .iter()
        .copied()
        .collect();
    let drawn = inspect::replay_pixels(&trainer, &pixels).unwrap();
    let test = inspect::replay(&trainer, 5).unwrap();
    let explained = inspect::classify_explained(&trainer, &pixels).unwrap();
    assert_eq!(
        usize::from(drawn.label),
        explained.classified.label,
        "labelled as predicted"
    );
    for (a, b) in drawn.free.total.iter().zip(&test.free.total) {
        assert!(close(*a, *b), "the free run does not depend on the label");
    }
    for (a, b) in drawn.clamped.total.iter().zip(&explained.energy_trace) {
        assert!(
            close(*a, *b),
            "clamped to the predicted class, as classify explains it"
        );
    }
    if drawn.label == test.label {
        for (a, b) in drawn.clamped.total.iter().zip(&test.clamped.total) {
            assert!(
                close(*a, *b),
                "the same class clamped: the test digit's run"
            );
        }
    }
    let message = |p: &[f32]| inspect::replay_pixels(&trainer, p).unwrap_err().to_string();
    assert!(message(&pixels[..100]).contains("784"));
    for bad in [1.5, -0.1, f32::NAN, f32::INFINITY] {
        let mut p = pixels.clone();
        p[400] = bad;
        assert!(message(&p).contains("[0, 1]"), "{bad}: {}", message(&p));
    }
}

#[test]
fn the_least_explained_digit_has_the_highest_settled_energy_of_the_candidates() {
    let trainer = trained_classifier();
    let worst = inspect::least_explained(&trainer).unwrap();
    assert!(worst < inspect::LEAST_EXPLAINED_CANDIDATES);
    let settled = |i: usize| {
        *inspect::replay(&trainer, i)
            .unwrap()
            .clamped
            .total
            .last()
            .unwrap()
    };
    let top = settled(worst);
    for i in 0..inspect::LEAST_EXPLAINED_CANDIDATES {
        assert!(
            settled(i) <= top + 1e-4 * (1.0 + top),
            "digit {i} is explained worse than {worst}"
        );
    }
}

#[test]
fn a_label_layer_that_is_not_categorical_shows_probabilities_with_the_same_guess() {
    // The tutorial's label layer is a Gaussian one-hot regression (leaky ReLU outputs):
    // its outputs are scores, shown as max(m_k, 0) / Σ max(m_j, 0).
    let mut trainer = Trainer::new(config("tutorial", &[]), data().clone()).unwrap();
    for _ in 0..20 {
        trainer.step().unwrap();
    }
    let n = 50;
    let indices: Vec<usize> = (0..n).collect();
    let (x, _) = data().test.batch::<f32>(&indices, PixelScale::Unit);
    let (seen, _) = (data().test).batch::<f32>(&indices, trainer.config().pixel_scale());
    let scores = trainer.decode(&seen).unwrap();
    let classified = inspect::classify(&trainer, &x).unwrap();
    for (i, c) in classified.iter().enumerate() {
        let row: Vec<f64> = scores.row(i).iter().map(|&v| f64::from(v)).collect();
        let sum: f64 = c.probabilities.iter().sum();
        assert!((sum - 1.0).abs() < 1e-9, "row {i} sums to {sum}");
        assert!(c.probabilities.iter().all(|&p| (0.0..=1.0).contains(&p)));
        let guess = argmax(scores.row(i).iter().copied());
        assert_eq!(c.label, guess, "the guess is the largest score");
        assert_eq!(c.label, argmax(c.probabilities.iter().map(|&p| p as f32)));
        let mass: f64 = row.iter().map(|m| m.max(0.0)).sum();
        if mass > 0.0 {
            // To f32 rounding: the page's pixels reach the network scale by another path.
            let want = row[c.label].max(0.0) / mass;
            assert!(
                (c.probabilities[c.label] - want).abs() < 1e-4,
                "row {i}: {} against {want}",
                c.probabilities[c.label]
            );
        }
    }
}
