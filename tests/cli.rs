//! The `pclab` binary as people type it: flags in any order, `--name=value`, the page's
//! URL keys, every hyperparameter in `--help`, bounds with clear messages and exit status
//! 2 for usage errors (1 for runtime errors), errors naming the file at fault, and
//! `--seeds`. Runs train on tiny IDX files (8×8 images), well under a second each.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::idx;
use pclab::config::Config;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of the binary left behind.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// The JSON lines on stdout.
    fn lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).expect("a JSON line"))
            .collect()
    }
}

/// Runs `pclab args…` in the repository, killing it (and failing) after 30 s.
fn pclab<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pclab"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the pclab binary runs");
    let start = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().ok();
            panic!("pclab {:?} still runs after 30 s", args_text(args));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let out = child.wait_with_output().expect("output");
    Run {
        code: out.status.code().expect("an exit status, not a signal"),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn args_text<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> String {
    let words: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    words.join(" ")
}

/// `pclab args…` split on spaces.
fn pclab_str(args: &str) -> Run {
    pclab(&args.split_whitespace().collect::<Vec<_>>())
}

/// Asserts a usage error (status 2) whose message contains every one of `needles`.
fn assert_usage(run: &Run, needles: &[&str]) {
    assert_eq!(run.code, 2, "stderr: {}", run.stderr);
    for needle in needles {
        assert!(run.stderr.contains(needle), "{needle:?} in {}", run.stderr);
    }
}

/// A fresh directory under the system's temporary directory.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pclab-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Four tiny IDX files in `dir` (64 training and 32 test images of 8×8, labels 0..9):
/// train images, train labels, test images, test labels.
fn tiny_idx(dir: &Path) -> [PathBuf; 4] {
    let pixel = |i: usize| (i * 37 % 251) as u8;
    let files = [
        (
            "train-images",
            idx(&[64, 8, 8], &(0..64 * 64).map(pixel).collect::<Vec<_>>()),
        ),
        (
            "train-labels",
            idx(&[64], &(0..64).map(|i| (i % 10) as u8).collect::<Vec<_>>()),
        ),
        (
            "test-images",
            idx(&[32, 8, 8], &(0..32 * 64).map(pixel).collect::<Vec<_>>()),
        ),
        (
            "test-labels",
            idx(
                &[32],
                &(0..32).map(|i| (i * 3 % 10) as u8).collect::<Vec<_>>(),
            ),
        ),
    ];
    files.map(|(name, bytes)| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    })
}

/// `--idx` and the four paths, then `rest` split on spaces.
fn with_idx(files: &[PathBuf; 4], command: &str, rest: &str) -> Vec<String> {
    let mut args = vec![command.to_string(), "--idx".into()];
    args.extend(files.iter().map(|p| p.display().to_string()));
    args.extend(rest.split_whitespace().map(String::from));
    args
}

#[test]
fn settings_before_and_after_other_flags_and_presets_all_apply() {
    let files = tiny_idx(&temp_dir("order"));
    for rest in [
        "--experiment classify --rule pc --epochs 2 --hidden 16 --batch 64",
        "--hidden 16 --preset classification --batch 64 --epochs 2",
        "--epochs=2 --hidden=16 --batch=64 --rule=pc",
    ] {
        let run = pclab(&with_idx(&files, "train", rest));
        assert_eq!(run.code, 0, "{rest}: {}", run.stderr);
        let lines = run.lines();
        assert_eq!(lines.len(), 2, "{rest}: two epochs");
        assert_eq!(lines[1]["epoch"], 2);
        // 64 images in batches of 64: one step per epoch.
        assert_eq!(lines[1]["step"], 2, "{rest}: --batch applied");
    }
}

#[test]
fn url_keys_and_both_spellings_of_names_are_accepted() {
    let files = tiny_idx(&temp_dir("keys"));
    for rest in [
        "--T 4",
        "--T=4",
        "--steps 4 --inference_lr 0.2",
        "--inference-lr=0.2 --steps=4 --inference_momentum 0.1",
    ] {
        let run = pclab(&with_idx(&files, "train", &format!("{rest} --hidden 8")));
        assert_eq!(run.code, 0, "{rest}: {}", run.stderr);
        let trace = run.lines()[0]["energy_trace"].as_array().unwrap().len();
        assert_eq!(trace, 5, "{rest}: T = 4 gives 5 states");
    }
}

#[test]
fn help_lists_every_hyperparameter_with_its_default_and_the_exit_statuses() {
    let help = pclab_str("train --help");
    assert_eq!(help.code, 0);
    let Value::Object(fields) = serde_json::to_value(Config::default()).unwrap() else {
        panic!("Config serialises to an object")
    };
    for (name, value) in fields {
        let flag = format!("--{} <VALUE>", name.replace('_', "-"));
        let line = help
            .stdout
            .lines()
            .find(|l| l.contains(&flag))
            .unwrap_or_else(|| panic!("{flag} in train --help"));
        let default = match value {
            Value::String(s) => s,
            Value::Array(a) => a
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(","),
            other => other.to_string(),
        };
        assert!(line.contains(&format!("[default: {default}]")), "{line}");
    }
    assert!(help.stdout.contains("--T"), "the URL key of steps");
    for command in ["--help", "train --help", "bench --help", "grads --help"] {
        let out = pclab_str(command).stdout;
        assert!(
            out.contains("1 runtime error") && out.contains("2 usage error"),
            "exit statuses in {command}"
        );
    }
}

#[test]
fn bench_seconds_must_be_finite_positive_and_at_most_600() {
    for seconds in ["inf", "NaN", "-1", "0", "601", "two"] {
        let run = pclab(&["bench", "--seconds", seconds]);
        assert_usage(&run, &["--seconds", "above 0 and at most 600"]);
        assert!(
            !run.stderr.contains("unexpected argument"),
            "{}",
            run.stderr
        );
    }
    assert_usage(
        &pclab_str("bench --seconds 1 --only no-such-workload"),
        &["no workload"],
    );
}

#[test]
fn counts_out_of_bounds_are_usage_errors() {
    assert_usage(&pclab_str("train --epochs 0"), &["--epochs", "1..=1000"]);
    assert_usage(&pclab_str("train --epochs -3"), &["--epochs", "1..=1000"]);
    assert_usage(&pclab_str("train --epochs 1001"), &["--epochs"]);
    assert_usage(
        &pclab_str("train --T 0"),
        &["steps (T) must be a whole number from 1 to"],
    );
    assert_usage(
        &pclab_str("train --hidden 100000"),
        &["hidden must be layer sizes from 1 to"],
    );
    assert_usage(&pclab_str("train --batch 0"), &["batch must be"]);
    assert_usage(&pclab_str("train --lr -1"), &["lr must be"]);
    assert_usage(&pclab_str("train --no-such-flag 3"), &["--no-such-flag"]);
    assert_usage(
        &pclab_str("train --preset nope"),
        &["nope", "dynamics", "tutorial"],
    );
    assert_usage(&pclab_str("sweep-tradeoff --lambdas 0.5,1.5"), &["[0, 1]"]);
}

#[test]
fn each_bad_idx_file_is_named_in_the_error() {
    let dir = temp_dir("bad-idx");
    let files = tiny_idx(&dir);
    for (i, file) in files.iter().enumerate() {
        let mut broken = files.clone();
        broken[i] = dir.join(format!("truncated-{i}"));
        std::fs::write(&broken[i], &std::fs::read(file).unwrap()[..6]).unwrap();
        let run = pclab(&with_idx(&broken, "train", "--hidden 8"));
        assert_eq!(run.code, 1, "{}", run.stderr);
        let named: Vec<bool> = broken
            .iter()
            .map(|p| run.stderr.contains(&p.display().to_string()))
            .collect();
        let expected: Vec<bool> = (0..4).map(|j| j == i).collect();
        assert_eq!(named, expected, "only file {i} named in {}", run.stderr);
        assert!(run.stderr.contains("truncated header"), "{}", run.stderr);
    }
    // Images and labels that disagree: both files named.
    let mut swapped = files.clone();
    swapped[1] = files[3].clone();
    let run = pclab(&with_idx(&swapped, "train", ""));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "{} and {}: images and labels disagree",
            files[0].display(),
            files[3].display()
        )),
        "{}",
        run.stderr
    );
}

#[test]
fn float_idx_data_is_refused_as_unsupported() {
    let dir = temp_dir("float-idx");
    let mut files = tiny_idx(&dir);
    let mut bytes = std::fs::read(&files[0]).unwrap();
    bytes[2] = 0x0d;
    files[0] = dir.join("float-images");
    std::fs::write(&files[0], bytes).unwrap();
    let run = pclab(&with_idx(&files, "train", ""));
    assert_eq!(run.code, 1);
    let expected = format!(
        "{}: IDX images: element type 0x0d (f32) is not supported, expected 0x08 (unsigned byte)",
        files[0].display()
    );
    assert!(run.stderr.contains(&expected), "{}", run.stderr);
}

#[test]
fn a_missing_data_file_is_named_once() {
    let run = pclab_str("train --data /nonexistent/mnist.bin.gz");
    assert_eq!(run.code, 1);
    assert_eq!(run.stderr.matches("/nonexistent/mnist.bin.gz").count(), 1);
    let run = pclab_str("train --data README.md");
    assert_eq!(run.code, 1);
    assert!(run
        .stderr
        .contains("README.md: shipped data set: wrong magic number"));
}

#[test]
fn cases_with_huge_steps_or_sizes_are_refused_before_allocating() {
    let dir = temp_dir("cases");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let strict: Value = serde_json::from_str(
        &std::fs::read_to_string(golden.join("t2p_strict_tanh_L3_b1_eta0p5_n20_mse_mean.json"))
            .unwrap(),
    )
    .unwrap();
    let tutorial: Value = serde_json::from_str(
        &std::fs::read_to_string(golden.join("tut_h2_w4_b4_T31_k50.json")).unwrap(),
    )
    .unwrap();
    let huge = 1_000_000_000_000_u64;
    let edits: [(&Value, &str, Value, &str); 4] = [
        (&strict, "n", huge.into(), "at most 10000"),
        (&tutorial, "T", huge.into(), "at most 10000"),
        (
            &strict,
            "layers",
            serde_json::json!([3, huge, 3]),
            "sizes must be 1 to 4096",
        ),
        (
            &strict,
            "layers",
            serde_json::json!(vec![3; 1000]),
            "2 to 64",
        ),
    ];
    for (i, (base, field, value, message)) in edits.into_iter().enumerate() {
        let mut case = base.clone();
        case[field] = value;
        if field == "T" {
            case["n"] = case["T"].clone();
        }
        let path = dir.join(format!("case-{i}.json"));
        std::fs::write(&path, case.to_string()).unwrap();
        let run = pclab(&[Path::new("grads"), &path]);
        assert_eq!(run.code, 1, "{field}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{field}: {}", run.stderr);
        assert!(!run.stderr.contains("backtrace"), "{}", run.stderr);
    }
    let ok = pclab(&[
        Path::new("grads"),
        &golden.join("tut_h2_w4_b4_T31_k50.json"),
    ]);
    assert_eq!(ok.code, 0, "{}", ok.stderr);
}

#[test]
fn seeds_train_once_per_seed_and_summarise_mean_and_sample_sd() {
    let files = tiny_idx(&temp_dir("seeds"));
    let run = pclab(&with_idx(
        &files,
        "train",
        "--seeds 0..3 --hidden 8 --batch 64",
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    assert_eq!(lines.len(), 4, "three seeds of one epoch and a summary");
    let seeds: Vec<&Value> = lines[..3].iter().map(|l| &l["seed"]).collect();
    assert_eq!(seeds, [0, 1, 2]);
    let summary = &lines[3]["summary"];
    assert_eq!(summary["seeds"], serde_json::json!([0, 1, 2]));
    let accuracies: Vec<f64> = lines[..3]
        .iter()
        .map(|l| l["accuracy"].as_f64().unwrap())
        .collect();
    let mean = accuracies.iter().sum::<f64>() / 3.0;
    let sd = (accuracies.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / 2.0).sqrt();
    let accuracy = &summary["accuracy"];
    assert!((accuracy["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
    assert!((accuracy["sd"].as_f64().unwrap() - sd).abs() < 1e-12);
    assert_eq!(
        summary["mse"],
        Value::Null,
        "classification measures no MSE"
    );
    assert!(
        run.stderr.contains("mean ± sd"),
        "the table: {}",
        run.stderr
    );

    let list = pclab(&with_idx(
        &files,
        "train",
        "--hidden 8 --seeds 5,7 --epochs 2",
    ));
    assert_eq!(list.code, 0, "{}", list.stderr);
    let lines = list.lines();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[4]["summary"]["seeds"], serde_json::json!([5, 7]));
    assert_eq!(lines[4]["summary"]["epochs"], 2);

    assert_usage(&pclab_str("train --seeds 3..3"), &["names no seed"]);
    assert_usage(&pclab_str("train --seeds 0..1000"), &["more than 100"]);
    assert_usage(&pclab_str("train --seeds 1,x"), &["not a seed"]);
    assert_usage(&pclab_str("train --seeds 0..2 --seed 4"), &["--seed"]);
}

#[test]
fn sweep_takes_lambdas_after_the_settings() {
    let files = tiny_idx(&temp_dir("sweep"));
    let run = pclab(&with_idx(
        &files,
        "sweep-tradeoff",
        "--rule pc --hidden 8 --latent 4 --T 3 --lambdas 0.25,0.75",
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    let points: Vec<&serde_json::Value> = lines.iter().filter_map(|l| l.get("point")).collect();
    let lambdas: Vec<f64> = points
        .iter()
        .map(|p| p["lambda"].as_f64().unwrap())
        .collect();
    assert_eq!(lambdas, [0.25, 0.75]);
    assert!(
        points.iter().all(|p| p["rule"] == "pc"),
        "--rule pc: PC only"
    );
    assert_eq!(lines.len(), 4, "then a summary per λ");
}

#[test]
fn sweep_runs_both_rules_and_every_seed_and_summarises_each() {
    let files = tiny_idx(&temp_dir("sweep-seeds"));
    let run = pclab(&with_idx(
        &files,
        "sweep-tradeoff",
        "--hidden 8 --latent 4 --T 3 --lambdas 0.25,0.75 --seeds 3,4 --epochs 2",
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    assert_eq!(
        lines.len(),
        12,
        "two λ × two rules × two seeds, then a summary per rule and λ"
    );
    let (points, summaries) = lines.split_at(8);
    for line in points {
        assert_eq!(line["epochs"], 2);
    }
    let rules: Vec<&str> = summaries
        .iter()
        .map(|l| l["summary"]["rule"].as_str().unwrap())
        .collect();
    assert_eq!(
        rules,
        ["pc", "bp-through-inference", "pc", "bp-through-inference"]
    );
    for line in summaries {
        let summary = &line["summary"];
        assert_eq!(summary["seeds"], serde_json::json!([3, 4]));
        assert_eq!(summary["epochs"], 2);
        let runs: Vec<&serde_json::Value> = points
            .iter()
            .map(|l| &l["point"])
            .filter(|p| p["lambda"] == summary["lambda"] && p["rule"] == summary["rule"])
            .collect();
        let seeds: Vec<u64> = runs.iter().map(|p| p["seed"].as_u64().unwrap()).collect();
        assert_eq!(seeds, [3, 4]);
        for metric in ["mse", "accuracy"] {
            let values: Vec<f64> = runs.iter().map(|p| p[metric].as_f64().unwrap()).collect();
            assert_eq!(summary[metric]["values"], serde_json::json!(values));
            // By hand: two values a, b have mean (a + b) / 2 and sample sd |a − b| / √2.
            let mean = (values[0] + values[1]) / 2.0;
            let sd = (values[0] - values[1]).abs() / 2f64.sqrt();
            assert!((summary[metric]["mean"].as_f64().unwrap() - mean).abs() < 1e-12);
            assert!((summary[metric]["sd"].as_f64().unwrap() - sd).abs() < 1e-12);
        }
    }
    assert!(
        run.stderr.contains("bp-through-inference    0.75"),
        "{}",
        run.stderr
    );
}

#[test]
fn dynamics_prints_a_line_per_rule_digit_and_step() {
    let files = tiny_idx(&temp_dir("dynamics"));
    for (experiment, classifies) in [("compress", false), ("tradeoff", true)] {
        let rest = format!(
            "--experiment {experiment} --hidden 8 --latent 4 --T 6 --batch 32 --train-steps 3 --digits 2"
        );
        let run = pclab(&with_idx(&files, "dynamics", &rest));
        assert_eq!(run.code, 0, "{experiment}: {}", run.stderr);
        let lines = run.lines();
        assert_eq!(
            lines.len(),
            2 * 2 * 7,
            "{experiment}: 2 rules × 2 digits × 7 states"
        );
        let rules: std::collections::BTreeSet<&str> =
            lines.iter().map(|l| l["rule"].as_str().unwrap()).collect();
        assert_eq!(rules, ["bp-through-inference", "pc"].into());
        for line in &lines {
            let t = line["t"].as_u64().unwrap();
            assert_eq!(line["steps"], 6);
            assert!(line["energy"].as_f64().unwrap() >= 0.0);
            let layers = line["energy_per_layer"].as_array().unwrap();
            assert_eq!(layers.len(), 3, "latent, hidden, image");
            let sum: f64 = layers.iter().map(|e| e.as_f64().unwrap()).sum();
            assert!((sum - line["energy"].as_f64().unwrap()).abs() < 1e-6 * (1.0 + sum));
            let distance = line["latent_distance"].as_f64().unwrap();
            assert!(distance >= 0.0);
            if t == 6 {
                assert_eq!(distance, 0.0, "settled at T");
            }
            assert!(line["mse"].as_f64().unwrap() >= 0.0);
            let shown = [0, 1, 3, 6].contains(&t);
            assert_eq!(line["reconstruction"].is_array(), shown, "t = {t}");
            if shown {
                assert_eq!(line["reconstruction"].as_array().unwrap().len(), 64);
            }
            assert_eq!(line["class"].is_u64(), classifies, "{experiment}: {line}");
            if classifies {
                assert!(line["class"].as_u64().unwrap() < 10);
                assert!((0.0..=1.0).contains(&line["probability"].as_f64().unwrap()));
            }
        }
        let digits: std::collections::BTreeSet<u64> =
            lines.iter().map(|l| l["digit"].as_u64().unwrap()).collect();
        assert_eq!(digits.len(), 2, "two test digits");
    }
}

#[test]
fn dynamics_refuses_what_it_cannot_do() {
    let files = tiny_idx(&temp_dir("dynamics-bad"));
    let bad = |rest: &str| pclab(&with_idx(&files, "dynamics", rest));
    for digits in ["0", "101", "-1", "two"] {
        assert_usage(&bad(&format!("--digits {digits}")), &["--digits"]);
    }
    for steps in ["0", "-3", "1e3"] {
        assert_usage(&bad(&format!("--train-steps {steps}")), &["--train-steps"]);
    }
    assert_usage(&bad("--epochs 2 --train-steps 3"), &["--epochs"]);
    assert_usage(&bad("--rule bp"), &["both rules", "--rule"]);
    assert_usage(&bad("--experiment classify"), &["no inferred latent"]);
    assert_usage(&bad("--preset generation"), &["no inferred latent"]);
}

/// The image lines of a `pclab sample` run.
fn samples(run: &Run) -> Vec<Value> {
    run.lines()
        .into_iter()
        .filter(|l| l.get("image").is_some())
        .collect()
}

#[test]
fn sample_prints_the_noise_model_then_each_sample_reproducibly() {
    let files = tiny_idx(&temp_dir("sample"));
    let args = "--hidden 8 --T 3 --count 3 --class 2 --sample-seed 5";
    let run = pclab(&with_idx(&files, "sample", args));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    assert_eq!(lines[0]["epoch"], 1, "the training epoch first");
    let variances = lines[1]["noise_model"]["variances"].as_array().unwrap();
    assert_eq!(variances.len(), 2, "one per layer below the class");
    let images = samples(&run);
    assert_eq!(images.len(), 3);
    for (i, line) in images.iter().enumerate() {
        assert_eq!(line["class"], 2);
        assert_eq!(line["index"], i);
        assert_eq!(line["image"].as_array().unwrap().len(), 64);
        assert_eq!(
            (line["rows"].clone(), line["cols"].clone()),
            (8.into(), 8.into())
        );
    }
    assert_ne!(images[0]["image"], images[1]["image"], "two samples differ");
    assert_eq!(samples(&pclab(&with_idx(&files, "sample", args))), images);
    let other = pclab(&with_idx(
        &files,
        "sample",
        &format!("{args} --sample-seed=6"),
    ));
    assert_ne!(samples(&other), images, "another seed, other samples");

    // τ = 0: every sample is the mean prediction; every class by default.
    let mean = pclab(&with_idx(
        &files,
        "sample",
        "--hidden 8 --T 3 --count 2 --noise 0",
    ));
    let images = samples(&mean);
    assert_eq!(images.len(), 20, "two of each class");
    assert_eq!(images[0]["image"], images[1]["image"]);
    assert_ne!(
        images[0]["image"], images[2]["image"],
        "class 0 and class 1"
    );
}

#[test]
fn sample_loads_a_saved_model() {
    let dir = temp_dir("sample-model");
    let files = tiny_idx(&dir);
    let split = pclab::data::Split {
        train: pclab::data::load_idx_files(&files[0], &files[1], 10).unwrap(),
        test: pclab::data::load_idx_files(&files[2], &files[3], 10).unwrap(),
    };
    let config = Config::preset("generation")
        .unwrap()
        .with_settings([("hidden", "8"), ("steps", "3")])
        .unwrap();
    let mut trainer = pclab::train::Trainer::new(config, split).unwrap();
    trainer.step().unwrap();
    let path = dir.join("model.json");
    std::fs::write(&path, pclab::inspect::save(&trainer).unwrap()).unwrap();
    let model = path.display().to_string();
    let run = pclab(&with_idx(
        &files,
        "sample",
        &format!("--model {model} --class prior --count 2"),
    ));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    assert_eq!(
        lines[0]["noise_model"],
        serde_json::to_value(trainer.noise_model().unwrap()).unwrap(),
        "no training: the model's own noise"
    );
    assert!(samples(&run).iter().all(|l| l["class"].is_null()));
    assert_usage(
        &pclab(&with_idx(
            &files,
            "sample",
            &format!("--model {model} --hidden 8"),
        )),
        &["--model brings its own settings"],
    );
    let missing = pclab_str("sample --model /nonexistent/model.json");
    assert_eq!(missing.code, 1, "{}", missing.stderr);
    assert!(
        missing.stderr.contains("/nonexistent/model.json"),
        "{}",
        missing.stderr
    );
}

#[test]
fn sample_arguments_out_of_bounds_are_usage_errors() {
    for (args, needle) in [
        ("sample --count 0", "--count"),
        ("sample --count 1025", "--count"),
        ("sample --noise -1", "noise scale"),
        ("sample --noise 4.5", "noise scale"),
        ("sample --noise nan", "noise scale"),
        ("sample --pixels blurry", "mean or sample"),
        ("sample --class three", "a class number, all or prior"),
        ("sample --seeds 0..2", "--seeds does not apply"),
        (
            "sample --experiment classify",
            "sample needs a generative run",
        ),
        (
            "sample --preset compression --rule bp",
            "sample needs a generative run",
        ),
        ("sample --model m.json --epochs 2", "--epochs"),
    ] {
        assert_usage(&pclab_str(args), &[needle]);
    }
    let files = tiny_idx(&temp_dir("sample-bad-class"));
    assert_usage(
        &pclab(&with_idx(&files, "sample", "--hidden 8 --T 3 --class 10")),
        &["class 10 is out of range"],
    );
    assert_usage(
        &pclab(&with_idx(
            &files,
            "sample",
            "--preset compression --hidden 8 --latent 4 --T 3 --class all",
        )),
        &["use --class prior"],
    );
}

#[test]
fn beyond_gaussian_prints_a_line_per_seed_and_a_summary() {
    let run = pclab(&[
        "beyond-gaussian",
        "--seeds",
        "1,2",
        "--ts",
        "1,5",
        "--train-steps",
        "3",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["settings"]["seed"], 2);
    assert_eq!(lines[0]["loss"]["bp"].as_array().unwrap().len(), 4);
    let summary = &lines[2]["summary"];
    assert_eq!(summary["t"], 5);
    // The summary's values are the per-seed lines' final losses.
    for (k, line) in lines[..2].iter().enumerate() {
        let curve = line["loss"]["matched_pc"].as_array().unwrap();
        assert_eq!(summary["final_loss"]["matched_pc"]["values"][k], curve[3]);
    }
    assert!(run.stderr.contains("matched PC"), "{}", run.stderr);
    let bad = pclab(&["beyond-gaussian", "--rate", "0"]);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("rate"), "{}", bad.stderr);
}

#[test]
fn vae_prints_a_line_per_seed_rule_and_epoch_then_the_engines_mean_over_seeds() {
    let run = pclab_str("vae --epochs 1 --inference-steps 2 --seeds 0,1");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = run.lines();
    assert_eq!(
        lines.len(),
        2 * 2 + 2,
        "seeds × rules epoch lines, then a summary per rule"
    );
    for rule in ["bp", "pc"] {
        let finals: Vec<f64> = (lines.iter())
            .filter(|l| l["rule"] == rule && l["epoch"] == 1.0)
            .map(|l| l["mse"].as_f64().unwrap())
            .collect();
        assert_eq!(finals.len(), 2);
        let summary = (lines.iter())
            .find(|l| l["summary"]["rule"] == rule)
            .expect("a summary line");
        let mse = &summary["summary"]["mse"];
        assert_eq!(mse["values"], serde_json::json!(finals));
        assert!((mse["mean"].as_f64().unwrap() - (finals[0] + finals[1]) / 2.0).abs() < 1e-12);
        assert!(
            finals.iter().all(|m| *m > 0.0 && *m < 0.1),
            "{rule}: {finals:?}"
        );
        assert_eq!(summary["summary"]["pc"]["steps"], 2);
    }
    for (args, needle) in [
        ("vae --beta 0", "β lies in (0, 1]"),
        ("vae --inference-rate nan", "inference rate γ"),
        ("vae --inference-steps 0", "inference steps T"),
        ("vae --epochs 0", "--epochs"),
        ("vae --epochs 900", "at most 800 on this data"),
        ("vae --seeds 3,3", "listed twice"),
    ] {
        assert_usage(&pclab_str(args), &[needle]);
    }
}
