//! The cost model against the engine's own FLOP counter, and the budget that keeps a
//! setting, a saved model or a sweep from locking the page.
#![cfg(not(target_arch = "wasm32"))]

use pclab::bench::synthetic_dataset;
use pclab::config::Config;
use pclab::cost::{check, estimate, evaluation_flops, Budget};
use pclab::data::Split;
use pclab::sweep::{Plan, Sweep};
use pclab::train::Trainer;

fn data() -> Split {
    Split {
        train: synthetic_dataset(512, 1).unwrap(),
        test: synthetic_dataset(64, 2).unwrap(),
    }
}

fn config(preset: &str, settings: &[(&str, &str)]) -> Config {
    Config::preset(preset)
        .unwrap()
        .with_settings(settings.iter().copied())
        .unwrap()
}

#[test]
fn the_estimate_is_within_a_third_of_the_counted_flops() {
    let cases = [
        ("classification", "pc", 8),
        ("classification", "bp", 8),
        ("compression", "pc", 35),
        ("compression", "bp", 35),
        ("compression", "bp-through-inference", 10),
        ("tradeoff", "pc", 20),
        ("generation", "pc", 20),
        ("tutorial", "pc", 8),
    ];
    for (preset, rule, steps) in cases {
        let c = config(preset, &[("rule", rule), ("steps", &steps.to_string())]);
        let estimated = estimate(&c, 784, 10).step_flops;
        let mut trainer = Trainer::new(c, data()).unwrap();
        trainer.step().unwrap();
        let counted = trainer.step().unwrap().flops_step as f64;
        let ratio = estimated / counted;
        println!("{preset} {rule}: estimated / counted = {ratio:.2}");
        assert!(
            (0.7..=1.5).contains(&ratio),
            "{preset} {rule}: estimated {estimated:.3e}, counted {counted:.3e}"
        );
    }
}

#[test]
fn an_evaluation_costs_its_share_of_a_step_by_hand() {
    // Compression (64-384-784, T = 35, batch 250): S = 64·384 + 384·784 = 325,632. A step
    // settles both blocks, 250·(4·35 + 4)·S; an evaluation of the 64 synthetic test images
    // (under the experiment's 500) infers the latent and decodes, 64·(4·35 + 2)·S.
    let compression = Trainer::new(config("compression", &[]), data()).unwrap();
    let expected = (64.0 * 142.0) / (250.0 * 144.0);
    assert!((compression.evaluation_share() - expected).abs() < 1e-12);
    assert_eq!(
        evaluation_flops(&config("compression", &[]), 784, 10, 64),
        64.0 * 142.0 * 325_632.0
    );
    // Classification (784-256-256-256-10, T = 8, batch 128): S = 334,336 of which the
    // clamped first block holds 200,704. A step: 128·(4·133,632·8 + 2·200,704 + 4·334,336)
    // = 128·6,014,976; an evaluation of the whole test split (64 images) is a feedforward
    // pass, 64·2·334,336.
    let classification = Trainer::new(config("classification", &[]), data()).unwrap();
    let expected = (64.0 * 668_672.0) / (128.0 * 6_014_976.0);
    assert!((classification.evaluation_share() - expected).abs() < 1e-12);
    // The BP autoencoder reads its reconstruction feedforward too.
    let autoencoder = config("compression", &[("rule", "bp")]);
    let weights = estimate(&autoencoder, 784, 10).weights;
    assert_eq!(
        evaluation_flops(&autoencoder, 784, 10, 10),
        10.0 * 2.0 * weights
    );
}

#[test]
fn every_preset_fits_the_page_budget_with_each_of_its_runs() {
    for p in pclab::config::presets() {
        for run in p.compare.runs(&p.config).unwrap() {
            assert!(
                check(&run, 784, 10, &Budget::PAGE).is_ok(),
                "{} ({:?})",
                p.name,
                run.rule
            );
        }
    }
}

#[test]
fn work_over_the_budget_is_refused_before_anything_is_allocated() {
    // Eight layers of 4096 at T = 500 and batch 2048: far over one step's budget.
    let huge = config(
        "classification",
        &[
            ("hidden", "4096,4096,4096,4096,4096,4096,4096,4096"),
            ("steps", "500"),
            ("batch", "2048"),
        ],
    );
    let err = Trainer::new(huge.clone(), data())
        .err()
        .unwrap()
        .to_string();
    for named in ["hidden", "T = 500", "batch 2048", "GFLOP"] {
        assert!(err.contains(named), "{named} in {err}");
    }
    // The command line's budget is larger, not unbounded.
    assert!(check(&huge, 784, 10, &Budget::NATIVE).is_err());
    // A saved model edited to ask for such work is refused before it is built.
    let small = Trainer::new(config("classification", &[]), data()).unwrap();
    let mut model: serde_json::Value =
        serde_json::from_str(&pclab::inspect::save(&small).unwrap()).unwrap();
    model["config"]["steps"] = 1000.into();
    model["config"]["batch"] = 8192.into();
    let err = pclab::inspect::load(&model.to_string(), data())
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("T = 1000") && err.contains("GFLOP"), "{err}");
}

#[test]
fn a_sweep_runs_in_pieces_and_refuses_more_than_the_budget() {
    let c = config(
        "tradeoff",
        &[
            ("hidden", "16"),
            ("latent", "8"),
            ("steps", "3"),
            ("batch", "32"),
        ],
    );
    let plan = |lambdas: &[f64], steps| Plan::every_rule(lambdas, 0, 1, steps);
    let mut sweep = Sweep::new(
        &c,
        &data(),
        &plan(&[0.0, 0.5, 1.0], 4),
        Some(32),
        Budget::PAGE,
    )
    .unwrap();
    let mut pieces = 0;
    while !sweep.advance(5).unwrap() {
        pieces += 1;
        assert!(sweep.progress() < 1.0);
    }
    assert_eq!(pieces, 4, "3 λ × 2 rules × 4 steps in pieces of 5");
    assert_eq!(sweep.points().len(), 6);
    assert!(sweep.points().iter().all(|p| p.mse.is_finite()));
    let lambdas: Vec<f64> = sweep.points().iter().map(|p| p.lambda).collect();
    assert_eq!(lambdas, [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]);
    assert!(Sweep::new(&c, &data(), &plan(&[], 4), None, Budget::PAGE).is_err());
    assert!(Sweep::new(&c, &data(), &plan(&[1.5], 4), None, Budget::PAGE).is_err());
    let big = config("tradeoff", &[]);
    let lambdas: Vec<f64> = (0..=100).map(|i| f64::from(i) / 100.0).collect();
    let err = Sweep::new(&big, &data(), &plan(&lambdas, 5000), None, Budget::PAGE)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("sweep fewer"), "{err}");
    // Seeds multiply the cost: one seed fits where a hundred do not.
    let one = Plan::every_rule(&[0.5], 0, 1, 300);
    assert!(Sweep::new(&big, &data(), &one, None, Budget::PAGE).is_ok());
    let many = Plan::every_rule(&[0.5], 0, 100, 300);
    let err = Sweep::new(&big, &data(), &many, None, Budget::PAGE)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("fewer seeds"), "{err}");
}

#[test]
fn a_model_claiming_a_network_larger_than_its_parameters_is_refused_before_it_is_built() {
    let small = Trainer::new(config("classification", &[("hidden", "8")]), data()).unwrap();
    let mut model: serde_json::Value =
        serde_json::from_str(&pclab::inspect::save(&small).unwrap()).unwrap();
    // Sixteen layers of 4096 (the engine's largest network): ~1 GB if it were built.
    let mut sizes = vec![784];
    sizes.extend([4096; 16]);
    sizes.push(10);
    model["config"]["hidden"] = serde_json::json!(vec![4096; 16]);
    model["config"]["batch"] = 1.into();
    model["config"]["steps"] = 1.into();
    model["sizes"] = serde_json::json!(sizes);
    let err = pclab::inspect::load(&model.to_string(), data())
        .err()
        .unwrap()
        .to_string();
    // Refused from the file's own parameter count, checked before the network is built.
    assert!(err.contains("wrong number of parameters"), "{err}");
}

#[test]
fn splitting_over_workers_pays_where_it_was_measured_to() {
    // The benchmark's training workloads, whose two-worker speed-ups the README reports:
    // BP classification 0.5–0.65× (not split by default), PC classification 1.1–1.4× and
    // PC compression 1.6–1.7× (split).
    let expected = [
        ("pc_classification_step", true),
        ("bp_classification_step", false),
        ("pc_compression_step", true),
    ];
    let configs = pclab::bench::training_configs().unwrap();
    for (name, pays) in expected {
        let config = &configs.iter().find(|w| w.name == name).unwrap().config;
        let cost = estimate(config, 784, 10);
        let per_weight = cost.step_flops / cost.weights;
        assert_eq!(
            pclab::cost::split_pays(config, 784, 10),
            pays,
            "{name}: {per_weight:.0} FLOPs per weight"
        );
        // The trainer asks the same question of its own data.
        let trainer = Trainer::new(config.clone(), data()).unwrap();
        assert_eq!(trainer.split_pays(), pays, "{name}");
    }
    // BP's FLOPs per weight are 6·B: a large enough batch makes it worth splitting.
    assert!(pclab::cost::split_pays(
        &config("classification", &[("rule", "bp"), ("batch", "512")]),
        784,
        10
    ));
}

#[test]
fn each_benchmark_workload_is_labelled_with_what_it_runs() {
    // Written out by hand from the presets: the layer sizes on MNIST, T for a rule that
    // infers, the batch.
    let expected = [
        (
            "pc_classification_step",
            "PC classification step (784-128-128-128-10, T = 8, batch 128)",
        ),
        (
            "bp_classification_step",
            "BP classification step (784-128-128-128-10, batch 128)",
        ),
        (
            "pc_compression_step",
            "PC decoder step (64-384-784, T = 35, batch 250)",
        ),
        (
            "bp_autoencoder_step",
            "BP autoencoder step (784-384-64-384-784, batch 250)",
        ),
    ];
    let configs = pclab::bench::training_configs().unwrap();
    let labels: Vec<_> = configs.iter().map(|w| (w.name, w.label.as_str())).collect();
    assert_eq!(labels, expected);
    // The suite's workloads carry the same labels, and their measurements too.
    let workloads = pclab::bench::workloads().unwrap();
    let labels: Vec<_> = workloads
        .iter()
        .map(|w| (w.name, w.label.clone()))
        .collect();
    assert_eq!(
        labels[..2],
        [
            (
                "gemm_128x784x256",
                "matrix product (128×784)·(784×256)".to_string()
            ),
            (
                "gemm_256x256x256",
                "matrix product (256×256)·(256×256)".to_string()
            ),
        ]
    );
    assert!(labels[2..]
        .iter()
        .map(|(n, l)| (*n, l.as_str()))
        .eq(expected.iter().copied()));
    let mut tick = 0.0;
    let workload = workloads.into_iter().nth(1).unwrap();
    let m = pclab::bench::measure(workload, 0.5, || {
        tick += 0.25;
        tick
    })
    .unwrap();
    assert_eq!(
        (m.name, m.label.as_str()),
        ("gemm_256x256x256", "matrix product (256×256)·(256×256)")
    );
    assert_eq!(m.runs, 3);
}
