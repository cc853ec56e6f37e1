//! The trade-off sweep over λ, rules and seeds: its runs in plan order, seeds that give
//! different runs, and the mean ± sd over the seeds checked against a hand-computed case.
#![cfg(not(target_arch = "wasm32"))]

use pclab::bench::synthetic_dataset;
use pclab::config::Config;
use pclab::cost::Budget;
use pclab::data::Split;
use pclab::experiment::Rule;
use pclab::stats::mean_sd;
use pclab::sweep::{summarise, Plan, Sweep, TradeoffPoint};

fn data() -> Split {
    Split {
        train: synthetic_dataset(256, 1).unwrap(),
        test: synthetic_dataset(64, 2).unwrap(),
    }
}

fn small() -> Config {
    Config::preset("tradeoff")
        .unwrap()
        .with_settings([
            ("hidden", "16"),
            ("latent", "8"),
            ("steps", "3"),
            ("batch", "32"),
        ])
        .unwrap()
}

fn point(rule: Rule, seed: u64, lambda: f64, accuracy: f64, mse: f64) -> TradeoffPoint {
    TradeoffPoint {
        rule,
        seed,
        lambda,
        accuracy,
        mse,
        energy_trace: Vec::new(),
    }
}

#[test]
fn mean_and_sample_sd_by_hand() {
    // 2, 4, 9: mean 5, squared deviations 9 + 1 + 16 = 26, sd = √(26 / 2) = √13.
    let m = mean_sd(&[2.0, 4.0, 9.0]);
    assert_eq!(m.mean, 5.0);
    assert!((m.sd - 13f64.sqrt()).abs() < 1e-12);
    assert_eq!(m.values, [2.0, 4.0, 9.0]);
    let one = mean_sd(&[0.25]);
    assert_eq!(one.mean, 0.25);
    assert!(one.sd.is_nan(), "one value has no sample sd");
}

#[test]
fn the_summary_groups_by_rule_and_lambda_in_order() {
    let bpi = Rule::BpThroughInference;
    let points = [
        point(Rule::Pc, 0, 0.5, 0.6, 0.05),
        point(Rule::Pc, 1, 0.5, 0.8, 0.07),
        point(bpi, 0, 0.5, 0.7, 0.04),
        point(bpi, 1, 0.5, 0.9, 0.04),
        point(Rule::Pc, 0, 1.0, 0.1, 0.2),
        point(Rule::Pc, 1, 1.0, 0.1, 0.2),
    ];
    let s = summarise(&points);
    let keys: Vec<(Rule, f64)> = s.iter().map(|s| (s.rule, s.lambda)).collect();
    assert_eq!(keys, [(Rule::Pc, 0.5), (bpi, 0.5), (Rule::Pc, 1.0)]);
    // PC at λ = 0.5: accuracy 0.6, 0.8 → mean 0.7, sd √((0.01 + 0.01) / 1) = √0.02.
    assert!((s[0].accuracy.mean - 0.7).abs() < 1e-12);
    assert!((s[0].accuracy.sd - 0.02f64.sqrt()).abs() < 1e-12);
    assert!((s[0].mse.mean - 0.06).abs() < 1e-12);
    assert!((s[0].mse.sd - 0.0002f64.sqrt()).abs() < 1e-12);
    assert_eq!(s[0].seeds, [0, 1]);
    assert_eq!(s[1].mse.sd, 0.0, "equal values: no spread");
    assert!((s[1].accuracy.mean - 0.8).abs() < 1e-12);
    assert_eq!(s[2].accuracy.values, [0.1, 0.1]);
}

#[test]
fn every_rule_and_seed_is_a_run_of_its_own_and_seeds_differ() {
    let plan = Plan::every_rule(&[0.5], 7, 2, 6);
    assert_eq!(plan.seeds, [7, 8]);
    assert_eq!(plan.rules, [Rule::Pc, Rule::BpThroughInference]);
    let mut sweep = Sweep::new(&small(), &data(), &plan, Some(64), Budget::PAGE).unwrap();
    while !sweep.advance(4).unwrap() {}
    assert_eq!(sweep.progress(), 1.0);
    let runs: Vec<(Rule, u64)> = sweep.points().iter().map(|p| (p.rule, p.seed)).collect();
    assert_eq!(
        runs,
        [
            (Rule::Pc, 7),
            (Rule::Pc, 8),
            (Rule::BpThroughInference, 7),
            (Rule::BpThroughInference, 8)
        ]
    );
    let p = sweep.points();
    assert_ne!(
        p[0].mse, p[1].mse,
        "two seeds, two initialisations: different networks"
    );
    assert_ne!(p[2].mse, p[3].mse);
    // The summary is the engine's aggregation of exactly these runs.
    let s = sweep.summary();
    assert_eq!(s.len(), 2);
    assert_eq!(s[0].mse, mean_sd(&[p[0].mse, p[1].mse]));
    assert_eq!(s[1].accuracy, mean_sd(&[p[2].accuracy, p[3].accuracy]));
    // The same seed and rule again: the same run.
    let mut again = Sweep::new(
        &small(),
        &data(),
        &Plan {
            seeds: vec![8],
            ..plan.clone()
        },
        Some(64),
        Budget::PAGE,
    )
    .unwrap();
    while !again.advance(100).unwrap() {}
    assert_eq!(again.points()[0], p[1]);
}

#[test]
fn a_bad_plan_is_refused_with_a_reason() {
    let refuse = |plan: Plan, words: &str| {
        let err = Sweep::new(&small(), &data(), &plan, None, Budget::PAGE)
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(words), "{err}");
    };
    let ok = Plan::every_rule(&[0.5], 0, 2, 3);
    refuse(Plan::every_rule(&[0.5], 0, 0, 3), "1 to 100 seeds");
    refuse(Plan::every_rule(&[0.5], 0, 101, 3), "1 to 100 seeds");
    refuse(
        Plan {
            seeds: vec![3, 3],
            ..ok.clone()
        },
        "seed 3 is listed twice",
    );
    refuse(
        Plan {
            steps: 0,
            ..ok.clone()
        },
        "steps per run",
    );
    refuse(
        Plan {
            rules: vec![],
            ..ok.clone()
        },
        "at least one rule",
    );
    refuse(
        Plan {
            rules: vec![Rule::Pc, Rule::Pc],
            ..ok.clone()
        },
        "each once",
    );
    refuse(
        Plan {
            lambdas: vec![f64::NAN],
            ..ok.clone()
        },
        "λ must be in [0, 1]",
    );
    refuse(
        Plan {
            rules: vec![Rule::Bp],
            ..ok
        },
        "bp",
    );
}
