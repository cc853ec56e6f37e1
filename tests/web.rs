//! The wasm boundary, tested in real headless Chromium (`wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

use pclab::wasm::{
    bench_measurement, config_schema, default_config, preset_config, run_configs, version,
    Benchmark, Lab, TradeoffSweep, VaeComparison,
};
use wasm_bindgen::{JsError, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const DATA: &[u8] = include_bytes!("../www/data/mnist-10k.bin.gz");

fn get(value: &JsValue, key: &str) -> JsValue {
    js_sys::Reflect::get(value, &key.into()).unwrap()
}

fn set(value: &JsValue, key: &str, to: impl Into<JsValue>) {
    js_sys::Reflect::set(value, &key.into(), &to.into()).unwrap();
}

fn message(e: JsError) -> String {
    get(&JsValue::from(e), "message").as_string().unwrap()
}

fn small_config() -> JsValue {
    let config = default_config().unwrap();
    set(&config, "hidden", js_sys::Array::of1(&32.into()));
    set(&config, "batch", 32);
    config
}

#[wasm_bindgen_test]
fn version_crosses_the_boundary() {
    assert_eq!(version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn a_lab_trains_evaluates_and_reports() {
    let mut lab = Lab::new(small_config(), DATA, None, None).unwrap();
    let record = lab.train(3).unwrap();
    assert_eq!(get(&record, "step").as_f64(), Some(3.0));
    assert!(get(&record, "energy").as_f64().unwrap().is_finite());
    assert!(get(&record, "flops_total").as_f64().unwrap() > 0.0);
    let trace = get(&lab.energy_trace().unwrap(), "total");
    assert_eq!(
        js_sys::Array::from(&trace).length(),
        9,
        "T = 8 steps give 9 states"
    );
    let accuracy = get(&lab.evaluate(None).unwrap(), "accuracy")
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&accuracy));
    let drawn = vec![0.0f32; 784];
    let classified = lab.classify(&drawn).unwrap();
    assert_eq!(
        js_sys::Array::from(&get(&classified, "probabilities")).length(),
        10
    );
}

#[wasm_bindgen_test]
fn bad_inputs_are_errors_not_panics() {
    let config = small_config();
    set(&config, "steps", 0);
    assert!(message(Lab::new(config, DATA, None, None).err().unwrap()).contains("steps"));
    assert!(message(preset_config("nonsense").err().unwrap()).contains("unknown preset"));
    assert!(message(
        Lab::new(small_config(), b"not data", None, None)
            .err()
            .unwrap()
    )
    .contains("data file"));
    let mut lab = Lab::new(small_config(), DATA, None, None).unwrap();
    assert!(message(lab.classify(&[0.5; 10]).err().unwrap()).contains("784"));
    let bad_idx = Lab::new(
        small_config(),
        DATA,
        Some(b"\x00\x00\x08\x03".to_vec()),
        Some(Vec::new()),
    );
    assert!(message(bad_idx.err().unwrap()).contains("IDX"));
    assert!(Lab::load("{\"format\": 1}", DATA, None, None).is_err());
    assert!(message(preset_config("constructor").err().unwrap()).contains("unknown preset"));
    // The lab still trains after every refusal.
    assert!(lab.train(1).is_ok());
}

#[wasm_bindgen_test]
fn a_diverging_learning_rate_stops_with_a_message_and_keeps_the_weights() {
    let config = small_config();
    set(&config, "optimizer", "sgd");
    set(&config, "lr", 1e30);
    let mut lab = Lab::new(config, DATA, None, None).unwrap();
    let before = lab.save().unwrap();
    let err = (0..5)
        .find_map(|_| lab.train(1).err())
        .expect("lr 1e30 must diverge");
    assert!(message(err).contains("diverged"));
    let restored = Lab::load(&lab.save().unwrap(), DATA, None, None).unwrap();
    assert!(
        restored.evaluate(None).is_ok(),
        "the kept weights are finite and load"
    );
    assert_ne!(before.len(), 0);
}

#[wasm_bindgen_test]
fn a_saved_model_loads_with_the_same_predictions() {
    let mut lab = Lab::new(small_config(), DATA, None, None).unwrap();
    lab.train(5).unwrap();
    let restored = Lab::load(&lab.save().unwrap(), DATA, None, None).unwrap();
    let a = get(&lab.evaluate(None).unwrap(), "accuracy").as_f64();
    let b = get(&restored.evaluate(None).unwrap(), "accuracy").as_f64();
    assert_eq!(a, b);
}

#[wasm_bindgen_test]
fn the_tradeoff_sweep_and_the_benchmark_run_in_the_browser() {
    let config = preset_config("tradeoff").unwrap();
    set(&config, "hidden", js_sys::Array::of1(&16.into()));
    set(&config, "latent", 8);
    set(&config, "steps", 3);
    let lab = Lab::new(config, DATA, None, None).unwrap();
    let lambdas = vec![0.0, 1.0];
    // 2 λ × 2 rules (PC, BP through inference) × 1 seed × 2 steps = 8 steps.
    let mut sweep = TradeoffSweep::new(&lab, lambdas, 1, 2, 50).unwrap();
    assert!(!sweep.advance(6).unwrap(), "6 of 8 steps");
    assert_eq!(sweep.progress(), 0.75);
    assert!(sweep.advance(3).unwrap());
    let points = js_sys::Array::from(&sweep.points().unwrap());
    assert!(
        TradeoffSweep::new(&lab, Vec::new(), 1, 2, 50).is_err(),
        "an empty λ list"
    );
    assert!(
        TradeoffSweep::new(&lab, vec![0.5], 0, 2, 50).is_err(),
        "no seed"
    );
    assert_eq!(points.length(), 4);
    for p in points.iter() {
        assert!(get(&p, "mse").as_f64().unwrap().is_finite());
    }
    let summary = js_sys::Array::from(&sweep.summary().unwrap());
    assert_eq!(summary.length(), 4, "a mean per rule and λ");
    let first = get(&get(&summary.get(0), "mse"), "mean").as_f64().unwrap();
    assert_eq!(first, get(&points.get(0), "mse").as_f64().unwrap());
    let mut bench = Benchmark::new(0.0).unwrap();
    let mut runs = 0;
    while !bench.advance().unwrap() {
        runs += 1;
    }
    assert!(
        runs >= 6 * 4 - 1,
        "a warm-up and 3 timed runs per workload, one per call"
    );
    assert_eq!(bench.progress(), 1.0);
    let rows = js_sys::Array::from(&bench.results().unwrap());
    assert!(rows.length() >= 6);
    for r in rows.iter() {
        assert!(get(&r, "gflops_per_s").as_f64().unwrap() > 0.0);
    }
}

fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
fn save_then_load_keeps_every_weight_bit_for_bit() {
    let mut lab = Lab::new(small_config(), DATA, None, None).unwrap();
    lab.train(7).unwrap();
    let saved = lab.save().unwrap();
    let restored = Lab::load(&saved, DATA, None, None).unwrap();
    assert_eq!(
        restored.save().unwrap(),
        saved,
        "the weights survive a round trip"
    );
    assert_eq!(
        json(&restored.predictions(12).unwrap()),
        json(&lab.predictions(12).unwrap()),
        "the same probabilities for the same digits"
    );
    assert_eq!(
        json(&restored.config().unwrap()),
        json(&lab.config().unwrap())
    );
}

#[wasm_bindgen_test]
fn a_trained_classifier_is_confident_on_clean_digits() {
    let mut lab = Lab::new(small_config(), DATA, None, None).unwrap();
    lab.train(120).unwrap();
    let preds = lab.predictions(20).unwrap();
    let rows = js_sys::Array::from(&get(&preds, "probabilities"));
    let predicted = js_sys::Array::from(&get(&preds, "predicted"));
    let mut best = 0.0f64;
    for (i, row) in rows.iter().enumerate() {
        let p: Vec<f64> = js_sys::Array::from(&row)
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let sum: f64 = p.iter().sum();
        assert!((sum - 1.0).abs() < 1e-4, "probabilities sum to {sum}");
        let (arg, max) = p.iter().enumerate().fold(
            (0, 0.0),
            |(a, m), (j, &v)| if v > m { (j, v) } else { (a, m) },
        );
        assert_eq!(predicted.get(i as u32).as_f64(), Some(arg as f64));
        best = best.max(max);
    }
    // One softmax, not two: two would cap every probability at e/(e+9) = 23.2%.
    assert!(best > 0.9, "the most confident of 20 test digits: {best}");
}

#[wasm_bindgen_test]
fn the_schema_lists_every_preset_and_experiment_the_engine_knows() {
    let schema = config_schema().unwrap();
    let presets = js_sys::Array::from(&get(&schema, "presets"));
    let names: Vec<String> = presets
        .iter()
        .map(|p| get(&p, "name").as_string().unwrap())
        .collect();
    for name in [
        "classification",
        "tutorial",
        "gradients",
        "tplus1",
        "compression",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    for p in presets.iter() {
        let name = get(&p, "name").as_string().unwrap();
        assert_eq!(
            json(&get(&p, "config")),
            json(&preset_config(&name).unwrap()),
            "{name}"
        );
        let compare = get(&p, "compare");
        assert!(run_configs(get(&p, "config"), compare).is_ok(), "{name}");
    }
    assert_eq!(
        js_sys::Array::from(&get(&schema, "experiments")).length(),
        4
    );
}

#[wasm_bindgen_test]
fn a_drawn_digit_replays_and_the_least_explained_digit_is_a_candidate() {
    let lab = Lab::new(small_config(), DATA, None, None).unwrap();
    let replay = lab.replay_pixels(&[0.0f32; 784]).unwrap();
    assert!(get(&replay, "label").as_f64().unwrap() < 10.0);
    assert!(
        get(&replay, "dynamics").is_null(),
        "classify infers no latent"
    );
    assert!(message(lab.replay_pixels(&[0.5; 10]).err().unwrap()).contains("784"));
    let mut bad = [0.0f32; 784];
    bad[3] = 2.0;
    assert!(message(lab.replay_pixels(&bad).err().unwrap()).contains("[0, 1]"));
    assert!(lab.least_explained().unwrap() < 100);
}

#[wasm_bindgen_test]
fn two_replicas_across_the_boundary_train_like_one_lab() {
    let mut one = Lab::new(small_config(), DATA, None, None).unwrap();
    let mut replicas = [
        Lab::new(small_config(), DATA, None, None).unwrap(),
        Lab::new(small_config(), DATA, None, None).unwrap(),
    ];
    // The arrays of a step are handed back to the next, as the page does: written in place.
    let mut kept: Vec<Option<js_sys::Float32Array>> = vec![None; 3];
    let reuse = |kept: &mut Option<js_sys::Float32Array>, fresh: js_sys::Float32Array| {
        if let Some(given) = kept.replace(fresh.clone()) {
            assert!(
                js_sys::Object::is(&given, &fresh),
                "an array was not reused"
            );
        }
        fresh
    };
    for step in 1..=5 {
        let expected = get(&one.train(1).unwrap(), "loss").as_f64().unwrap();
        let parts: Vec<js_sys::Float32Array> = (0..2)
            .map(|k| {
                let given = kept[k].clone();
                reuse(&mut kept[k], replicas[k].contribute(k, 2, given).unwrap())
            })
            .collect();
        let given = kept[2].clone();
        let total = reuse(&mut kept[2], replicas[0].combine(parts, given).unwrap()).to_vec();
        let losses: Vec<f64> = replicas
            .iter_mut()
            .map(|lab| get(&lab.apply(&total).unwrap(), "loss").as_f64().unwrap())
            .collect();
        assert_eq!(losses[0], losses[1]);
        assert!(
            (losses[0] - expected).abs() <= 1e-4 * expected.abs(),
            "step {step}: {} against {expected}",
            losses[0]
        );
    }
    assert_eq!(replicas[0].save().unwrap(), replicas[1].save().unwrap());
}

#[wasm_bindgen_test]
fn malformed_replica_messages_are_errors_not_panics() {
    let mut lab = Lab::new(small_config(), DATA, None, None).unwrap();
    assert!(message(lab.contribute(2, 2, None).unwrap_err()).contains("shard"));
    assert!(message(lab.contribute(0, 0, None).unwrap_err()).contains("shard"));
    assert!(lab.combine(vec![], None).is_err());
    assert!(message(lab.apply(&[1.0, 2.0, 3.0]).unwrap_err()).contains("malformed"));
    let short = js_sys::Float32Array::new_with_length(3);
    let fresh = lab.contribute(0, 1, Some(short.clone())).unwrap();
    assert!(
        !js_sys::Object::is(&short, &fresh) && fresh.length() > 3,
        "a short array is not written"
    );
    let mut flat = lab.contribute(0, 1, None).unwrap().to_vec();
    flat.pop();
    assert!(lab.apply(&flat).is_err());
    let record = lab.train(1).unwrap();
    assert_eq!(
        get(&record, "step").as_f64(),
        Some(1.0),
        "the lab still trains"
    );
}

#[wasm_bindgen_test]
fn the_generation_run_samples_across_the_boundary_and_refuses_bad_requests() {
    let config = preset_config("generation").unwrap();
    set(
        &config,
        "hidden",
        js_sys::Array::of2(&16.into(), &32.into()),
    );
    set(&config, "steps", 5);
    let mut lab = Lab::new(config, DATA, None, None).unwrap();
    lab.train(3).unwrap();
    let model = lab.noise_model().unwrap();
    assert_eq!(get(&model, "batches").as_f64(), Some(3.0));
    let variances = js_sys::Array::from(&get(&model, "variances"));
    assert_eq!(variances.length(), 3);

    let a = lab.sample(Some(3), 2, 1.0, 7, false).unwrap();
    assert_eq!(a.len(), 2 * 784);
    assert_eq!(
        lab.sample(Some(3), 2, 1.0, 7, false).unwrap(),
        a,
        "the seed reproduces"
    );
    assert_ne!(a[..784], a[784..], "two samples of a 3 differ");
    assert_ne!(lab.sample(Some(3), 2, 1.0, 8, false).unwrap(), a);
    let mean = lab.sample(Some(3), 2, 0.0, 7, false).unwrap();
    assert_eq!(
        mean[..784],
        mean[784..],
        "noise 0: the mean prediction, twice"
    );
    assert_eq!(lab.sample(None, 1, 1.0, 0, true).unwrap().len(), 784);

    for (class, count, noise, needle) in [
        (Some(10), 1, 1.0, "class 10"),
        (Some(usize::MAX), 1, 1.0, "out of range"),
        (Some(0), 0, 1.0, "number of samples"),
        (Some(0), 100_000, 1.0, "number of samples"),
        (Some(0), 1, f64::NAN, "noise scale"),
        (Some(0), 1, -1.0, "noise scale"),
        (Some(0), 1, f64::INFINITY, "noise scale"),
    ] {
        let e = lab.sample(class, count, noise, 0, false).err().unwrap();
        assert!(message(e).contains(needle), "{class:?} {count} {noise}");
    }
    let classify = Lab::new(small_config(), DATA, None, None).unwrap();
    assert!(
        message(classify.sample(Some(0), 1, 1.0, 0, false).err().unwrap())
            .contains("not a generative model")
    );
    assert!(classify.noise_model().unwrap().is_null());
}

#[wasm_bindgen_test]
fn the_vae_comparison_trains_in_pieces_within_the_schemas_bounds() {
    let lab = Lab::new(small_config(), DATA, None, None).unwrap();
    let limits = get(&config_schema().unwrap(), "vae");
    let max_steps = get(&limits, "max_steps").as_f64().unwrap() as usize;
    let max_images = get(&limits, "max_images").as_f64().unwrap() as usize;
    assert!(VaeComparison::new(&lab, 0, 0, 50).is_err(), "no step");
    let over = VaeComparison::new(&lab, max_steps + 1, 0, 50)
        .err()
        .unwrap();
    assert!(message(over).contains(&max_steps.to_string()));
    let mut vae = VaeComparison::new(&lab, 3, 5, 50).unwrap();
    assert!(!vae.advance(2).unwrap());
    assert!(vae.advance(5).unwrap());
    assert_eq!(vae.progress(), 1.0);
    let history = js_sys::Array::from(&vae.history().unwrap());
    let last = history.get(history.length() - 1);
    assert_eq!(get(&last, "step").as_f64(), Some(3.0));
    for rule in ["bp", "pc"] {
        let mse = get(&get(&last, rule), "mse").as_f64().unwrap();
        assert!(mse > 0.0 && mse < 1.0, "{rule}: {mse}");
    }
    assert_eq!(vae.reconstructions(2).unwrap().len(), 3 * 2 * 784);
    assert_eq!(vae.samples(2, 1).unwrap().len(), 2 * 2 * 784);
    assert!(vae.samples(max_images + 1, 1).is_err());
    assert!(vae.reconstructions(0).is_err());
}

#[wasm_bindgen_test]
fn a_split_benchmark_row_comes_from_its_median_step() {
    // Steps of 10, 30 and 20 ms: the median is 20 ms; 100 samples and 2 GFLOP a step.
    let row = bench_measurement(vec![10.0, 30.0, 20.0], 2e9, 100).unwrap();
    let number = |key| get(&row, key).as_f64().unwrap();
    assert_eq!(number("runs"), 3.0);
    assert!((number("samples_per_s") - 5000.0).abs() < 1e-9);
    assert!((number("gflops_per_s") - 100.0).abs() < 1e-9);
    assert!(bench_measurement(vec![], 1.0, 1).is_err());
    assert!(bench_measurement(vec![1.0], 1.0, 0).is_err());
}

/// An undefined cosine (a zero gradient) crosses the boundary as `null`, not a number:
/// strict inference moves the error one layer down per step, so after 3 steps of a
/// 4-block network the first block's PC gradient is still zero.
#[wasm_bindgen_test]
fn a_zero_gradients_undefined_cosine_crosses_as_null() {
    let config = preset_config("classification").unwrap();
    set(
        &config,
        "hidden",
        js_sys::Array::of3(&16.into(), &16.into(), &16.into()),
    );
    set(&config, "batch", 16);
    let lab = Lab::new(config, DATA, None, None).unwrap();
    let cosines = js_sys::Array::from(&lab.gradient_cosines("strict".into(), 3, 0.2).unwrap());
    assert_eq!(cosines.length(), 4);
    assert!(cosines.get(0).is_null(), "{}", json(&cosines.into()));
    for l in 1..4 {
        let c = cosines
            .get(l)
            .as_f64()
            .expect("a defined cosine is a number");
        assert!(c.abs() <= 1.0 + 1e-9, "block {}: {c}", l + 1);
    }
}
