//! The experiments learn on small budgets (bounded by steps, never by wall time), the
//! NaN guard keeps the last finite weights, and settings parse with clear errors.
#![cfg(not(target_arch = "wasm32"))]

mod shipped;

use pclab::config::Config;
use pclab::data::Split;
use pclab::train::Trainer;
use shipped::{config, data};

fn train(config: Config, steps: usize) -> Trainer {
    let mut trainer = Trainer::new(config, data()).unwrap();
    for _ in 0..steps {
        trainer.step().unwrap();
    }
    trainer
}

fn accuracy(trainer: &Trainer) -> f64 {
    trainer.evaluate().unwrap().accuracy.unwrap()
}

#[test]
fn pc_classification_passes_85_percent_after_one_epoch() {
    let trainer = Trainer::new(Config::preset("classification").unwrap(), data()).unwrap();
    let steps = trainer.steps_per_epoch();
    let trained = train(trainer.config().clone(), steps);
    let acc = accuracy(&trained);
    assert!(acc > 0.85, "PC test accuracy after one epoch: {acc}");
}

#[test]
fn bp_classification_passes_85_percent_after_one_epoch() {
    // Without the preset's shifts, which slow the first epoch of BP to ~84%.
    let c = config("classification", &[("rule", "bp"), ("augment", "0")]);
    let steps = Trainer::new(c.clone(), data()).unwrap().steps_per_epoch();
    let acc = accuracy(&train(c, steps));
    assert!(acc > 0.85, "BP test accuracy after one epoch: {acc}");
}

/// 40 steps of the compression preset (shrunk) cut the test MSE by 30%.
fn assert_learns_to_reconstruct(settings: &[(&str, &str)]) {
    let mut all = vec![("hidden", "64"), ("latent", "16")];
    all.extend_from_slice(settings);
    let c = config("compression", &all);
    let mse = |t: &Trainer| t.evaluate().unwrap().mse.unwrap();
    let untrained = mse(&Trainer::new(c.clone(), data()).unwrap());
    let trained = mse(&train(c, 40));
    assert!(
        trained < 0.7 * untrained,
        "test MSE {untrained} -> {trained}"
    );
}

#[test]
fn the_pc_decoder_learns_to_reconstruct() {
    assert_learns_to_reconstruct(&[("steps", "15")]);
}

#[test]
fn the_bp_autoencoder_learns_to_reconstruct() {
    assert_learns_to_reconstruct(&[("rule", "bp")]);
}

#[test]
fn the_generative_network_generates_and_classifies_by_inference() {
    let trainer = train(config("generation", &[]), 60);
    let acc = accuracy(&trainer);
    assert!(
        acc > 0.4,
        "classification by inferring the class: {acc} (chance is 0.1)"
    );
    let images = trainer.generate(&[0, 1]).unwrap();
    assert_eq!(images.shape(), (2, 784));
    let difference = (images.row(0) - images.row(1)).abs().sum();
    assert!(
        difference > 10.0,
        "a 0 and a 1 must look different: {difference}"
    );
    assert!(trainer.generate(&[10]).is_err());
}

#[test]
fn training_is_reproducible_from_the_seed() {
    let a = train(config("classification", &[("hidden", "32")]), 5);
    let b = train(config("classification", &[("hidden", "32")]), 5);
    assert_eq!(a.last_step(), b.last_step());
    let c = train(
        config("classification", &[("hidden", "32"), ("seed", "2")]),
        5,
    );
    assert_ne!(a.last_step().loss, c.last_step().loss);
}

#[test]
fn a_diverging_rate_stops_training_and_keeps_the_last_finite_weights() {
    let c = config(
        "classification",
        &[("hidden", "32"), ("optimizer", "sgd"), ("lr", "1e30")],
    );
    let mut trainer = Trainer::new(c, data()).unwrap();
    let mut before = trainer.network().clone();
    let err = (0..5)
        .find_map(|_| {
            before = trainer.network().clone();
            trainer.step().err()
        })
        .expect("lr 1e30 must diverge");
    assert!(err.to_string().contains("diverged"), "{err}");
    assert!(
        trainer.network().validate().is_ok(),
        "the kept weights are finite"
    );
    // Exactly the weights before the diverging step, however often it is retried (the
    // rollback state is reused from step to step, not re-allocated).
    assert_eq!(trainer.network(), &before);
    for _ in 0..3 {
        assert!(trainer.step().is_err());
        assert_eq!(trainer.network(), &before);
    }
    assert!(trainer.evaluate().is_ok());
}

#[test]
fn settings_parse_with_clear_errors() {
    let base = Config::default();
    let c = base
        .with_settings([("hidden", "64,32"), ("inference-lr", "0.2"), ("rule", "bp")])
        .unwrap();
    assert_eq!(c.hidden, vec![64, 32]);
    assert_eq!(c.inference_lr, 0.2);
    for (key, value, expected) in [
        ("hiden", "3", "unknown field"),
        ("steps", "-3", "steps"),
        ("steps", "0", "steps"),
        ("lr", "abc", "lr"),
        ("hidden", "12,x", "hidden"),
        ("batch", "1000000", "batch"),
        ("rule", "magic", "rule"),
    ] {
        let err = base.with_settings([(key, value)]).unwrap_err().to_string();
        assert!(err.contains(expected), "{key}={value}: {err}");
    }
    assert!(Config::preset("nonsense").is_err());
    // Every activation the page offers is known to the engine.
    for name in ["tanh", "relu", "leaky-relu", "sigmoid", "gelu", "identity"] {
        assert!(base.with_settings([("activation", name)]).is_ok(), "{name}");
    }
}

/// A small tradeoff run: a few dozen steps on a subset, for both rules.
fn tradeoff_learns(rule: &str) -> (f64, f64, f64) {
    let full = data();
    let subset = Split {
        train: full.train.select(&(0..2000).collect::<Vec<_>>()),
        test: full.test.select(&(0..500).collect::<Vec<_>>()),
    };
    let c = Config::preset("tradeoff")
        .unwrap()
        .with_settings([
            ("rule", rule),
            ("hidden", "64"),
            ("latent", "32"),
            ("steps", "10"),
            ("batch", "64"),
            ("lr", "0.003"),
            ("lambda", "0.5"),
        ])
        .unwrap();
    let mut trainer = Trainer::new(c, subset).unwrap();
    let untrained = trainer.evaluate().unwrap().mse.unwrap();
    for _ in 0..40 {
        trainer.step().unwrap();
    }
    let eval = trainer.evaluate().unwrap();
    (untrained, eval.mse.unwrap(), eval.accuracy.unwrap())
}

#[test]
fn the_tradeoff_learns_to_classify_and_reconstruct_by_both_rules() {
    for rule in ["pc", "bp-through-inference"] {
        let (untrained, mse, accuracy) = tradeoff_learns(rule);
        println!("{rule}: mse {untrained} -> {mse}, accuracy {accuracy}");
        assert!(accuracy > 0.3, "{rule}: test accuracy {accuracy}");
        assert!(
            mse < 0.8 * untrained,
            "{rule}: test MSE {untrained} -> {mse}"
        );
    }
}

#[test]
fn the_tutorial_preset_learns() {
    let c = config("tutorial", &[]);
    let steps = Trainer::new(c.clone(), data()).unwrap().steps_per_epoch();
    let acc = accuracy(&train(c, steps));
    assert!(
        acc > 0.2,
        "the tutorial's settings after one epoch: {acc} (its code: 0.37)"
    );
}

#[test]
fn a_replay_shows_every_state_of_one_digit_settling() {
    let c = config(
        "compression",
        &[("hidden", "64"), ("latent", "16"), ("steps", "10")],
    );
    let trainer = train(c, 20);
    let replay = pclab::inspect::replay(&trainer, 0).unwrap();
    let run = &replay.clamped;
    assert_eq!(run.beliefs.len(), 11, "T = 10 steps give 11 states");
    assert_eq!(run.beliefs[0].len(), 3, "latent, hidden, image");
    assert_eq!(replay.image_layer, Some(2));
    assert_eq!(replay.label_layer, None);
    assert!(run.predictions.iter().all(|p| p[2].len() == 784));
    assert!(run.total[10] < run.total[0], "{:?}", run.total);
    assert_eq!(
        replay.free.total, run.total,
        "compress infers the same latent at test time"
    );
    assert!(pclab::inspect::replay(&trainer, 1_000_000).is_err());
}

/// `Σ_units x²` of one layer.
fn norm2(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v * v)).sum()
}

#[test]
fn a_replay_of_a_clamped_digit_shows_the_errors_shrink_and_matches_the_engine() {
    let trainer = train(config("classification", &[("hidden", "32")]), 30);
    let replay = pclab::inspect::replay(&trainer, 3).unwrap();
    assert_eq!(replay.image_layer, Some(0));
    assert_eq!(replay.label_layer, Some(2));
    let run = &replay.clamped;
    let t_max = run.total.len() - 1;
    // Label clamped: the hidden beliefs move to explain the label, and the label's
    // prediction error shrinks (the hidden layer takes on some error of its own).
    let error_norm = |t: usize| norm2(&run.errors[t][2]);
    assert!(
        error_norm(t_max) < error_norm(0),
        "{} -> {}",
        error_norm(0),
        error_norm(t_max)
    );
    assert!(run.total[t_max] < run.total[0], "{:?}", run.total);
    // Each state's energy is the engine's own trace of the same inference.
    let test = &trainer.data().test;
    let (x, y) = test.batch::<f32>(&[3], trainer.config().pixel_scale());
    let engine = trainer.belief_trajectory(&x, &y).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-4 * (1.0 + a.abs());
    for (t, record) in engine.energy_trace.iter().enumerate() {
        assert!(close(run.total[t], f64::from(record.total)));
        for l in 0..=2 {
            assert!(close(run.energy[t][l], f64::from(record.per_layer[l])));
        }
        // ε = v − m(μ), element by element.
        let (v, p) = (&run.beliefs[t][1], &run.predictions[t][1]);
        for (e, (v, p)) in run.errors[t][1].iter().zip(v.iter().zip(p)) {
            assert!((e - (v - p)).abs() < 1e-5);
        }
    }
    // Label free, as at test time: the feedforward start is already settled (the
    // energy left is the free label's entropy under the categorical energy).
    let free = &replay.free;
    let flat = free.total.windows(2).all(|w| (w[0] - w[1]).abs() < 1e-6);
    assert!(flat, "{:?}", free.total);
    assert!(
        norm2(&free.errors[t_max][1]) < 1e-12,
        "no hidden error at test time"
    );
    let p: f32 = free.beliefs[0][2].iter().sum();
    assert!(
        (p - 1.0).abs() < 1e-4,
        "the free label layer holds class probabilities"
    );
}

#[test]
fn receptive_fields_keep_the_sign_scaled_by_each_tiles_largest_weight() {
    use nalgebra::{DMatrix, DVector};
    let mut trainer = Trainer::new(config("classification", &[("hidden", "4")]), data()).unwrap();
    let sizes = trainer.network().sizes();
    assert_eq!(sizes, vec![784, 4, 10]);
    // Unit 0: a ramp through 0; unit 1: all zero; unit 2: all positive; unit 3: one
    // negative pixel, the largest in size, among small positive ones.
    let w0 = DMatrix::from_fn(4, 784, |u, i| match u {
        0 => (i as f32 - 392.0) / 100.0,
        1 => 0.0,
        2 => 2.0,
        _ if i == 5 => -0.5,
        _ => 0.25,
    });
    let params = vec![
        (w0.clone(), DVector::zeros(4)),
        (DMatrix::zeros(10, 4), DVector::zeros(10)),
    ];
    trainer.set_parameters(params).unwrap();
    let fields = pclab::inspect::receptive_fields(&trainer, 3);
    assert_eq!(fields.len(), 3 * 784, "only the first n tiles");
    let all = pclab::inspect::receptive_fields(&trainer, 10);
    assert_eq!(all.len(), 4 * 784, "at most one tile per unit");
    let tile = |u: usize| &all[u * 784..(u + 1) * 784];
    let close = |a: f32, b: f32| (a - b).abs() < 1e-6;
    for (i, &v) in tile(0).iter().enumerate() {
        assert!(close(v, w0[(0, i)] / 3.92), "unit 0 pixel {i}: {v}");
    }
    assert!(
        close(tile(0)[0], -1.0),
        "the largest |w| maps to ±1 with its sign"
    );
    assert!(close(tile(0)[392], 0.0), "zero stays zero");
    assert!(
        tile(1).iter().all(|&v| v == 0.0),
        "an all-zero tile stays zero"
    );
    assert!(tile(2).iter().all(|&v| close(v, 1.0)));
    assert!(close(tile(3)[5], -1.0));
    assert!(tile(3)
        .iter()
        .enumerate()
        .all(|(i, &v)| i == 5 || close(v, 0.5)));
    assert!(all.iter().all(|v| (-1.0..=1.0).contains(v)));
}

#[test]
fn every_experiment_starts_from_a_preset_of_its_own_under_which_it_learns() {
    for experiment in pclab::experiment::Experiment::ALL {
        let c = Config::for_experiment(experiment).unwrap();
        assert_eq!(c.experiment, experiment);
        c.validate().unwrap();
        // Chosen from another experiment's settings, it starts from its own.
        let other = if experiment == pclab::experiment::Experiment::Tradeoff {
            Config::default()
        } else {
            Config::preset("tradeoff").unwrap()
        };
        let chosen = other
            .with_settings([("experiment", pclab::config::name(&experiment).as_str())])
            .unwrap();
        assert_eq!(chosen, c, "{experiment:?}");
    }
    // Choosing compress in the menu: a Gaussian output energy that learns, not the
    // classifier's categorical one (whose energy went negative with a flat MSE).
    let compress = Config::default()
        .with_settings([
            ("experiment", "compress"),
            ("hidden", "64"),
            ("steps", "10"),
            ("batch", "64"),
        ])
        .unwrap();
    assert_eq!(
        compress.output_energy,
        pclab::config::OutputEnergy::Gaussian
    );
    let untrained = Trainer::new(compress.clone(), data())
        .unwrap()
        .evaluate_sample(200)
        .unwrap()
        .mse
        .unwrap();
    let trainer = train(compress, 40);
    let mse = trainer.evaluate_sample(200).unwrap().mse.unwrap();
    assert!(
        mse < 0.8 * untrained,
        "compress learns: MSE {untrained} -> {mse}"
    );
    assert!(trainer.last_step().loss > 0.0);
}

#[test]
fn the_schema_says_how_many_test_images_each_experiment_is_evaluated_on_while_training() {
    // What the page's worker used to decide itself: classification counts the whole test
    // split, the experiments that infer a latent to test a sample of 500 images.
    let schema = serde_json::to_value(pclab::config::schema()).unwrap();
    let samples: Vec<_> = schema["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["test_samples"].clone()))
        .collect();
    let expected = [
        ("classify", serde_json::Value::Null),
        ("compress", 500.into()),
        ("generate", 500.into()),
        ("tradeoff", 500.into()),
    ];
    assert_eq!(samples, expected);
}
