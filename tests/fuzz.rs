//! Hostile input, mutated from valid input by proptest: IDX files (plain and gzip),
//! saved models, golden cases and URL/CLI settings. Every mutant must give an error or a
//! valid result: never a panic, never a hang (each input runs on its own thread with a
//! deadline), never an unbounded allocation (an abort would end the run).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::idx;
use flate2::write::GzEncoder;
use flate2::Compression;
use pclab::bench::synthetic_dataset;
use pclab::case::Case;
use pclab::config::Config;
use pclab::data::{load_idx, Split};
use pclab::train::Trainer;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::Value;
use std::io::Write;
use std::sync::mpsc::{channel, RecvTimeoutError};
use std::sync::OnceLock;
use std::time::Duration;

/// Runs `work` on a thread of its own; fails if it panics or takes over 10 s.
fn guarded<T: Send + 'static>(what: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = channel();
    std::thread::spawn(move || tx.send(work()));
    match rx.recv_timeout(Duration::from_secs(10)) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => panic!("{what}: no answer after 10 s"),
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: panicked"),
    }
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// One byte-level change.
#[derive(Clone, Debug)]
enum Edit {
    Flip(Index, u8),
    Truncate(Index),
    Insert(Index, u8),
    Remove(Index),
}

/// Bytes that matter in JSON and numbers, or any byte.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![any::<u8>(), select(b"0123456789-+.eE,:[]{}\"".to_vec())]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), 0u8..8).prop_map(|(at, bit)| Edit::Flip(at, bit)),
        any::<Index>().prop_map(Edit::Truncate),
        (any::<Index>(), interesting_byte()).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<Index>().prop_map(Edit::Remove),
    ]
}

fn apply(bytes: &mut Vec<u8>, edits: &[Edit]) {
    for edit in edits {
        let len = bytes.len();
        match *edit {
            Edit::Insert(at, byte) => bytes.insert(at.index(len + 1), byte),
            _ if len == 0 => {}
            Edit::Flip(at, bit) => bytes[at.index(len)] ^= 1 << bit,
            Edit::Truncate(at) => bytes.truncate(at.index(len)),
            Edit::Remove(at) => {
                bytes.remove(at.index(len));
            }
        }
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Header dimensions worth trying: empty, small, and absurd.
fn dimension() -> impl Strategy<Value = u32> {
    prop_oneof![
        select(vec![0, 1, 2, 5, 1 << 16, 1 << 28, 1 << 31, u32::MAX]),
        any::<u32>()
    ]
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn mutated_idx_files_give_an_error_or_a_consistent_data_set(
        edits in prop::collection::vec(edit(), 0..4),
        dims in prop::collection::vec((any::<Index>(), dimension()), 0..3),
        labels_file in any::<bool>(),
        compressed in any::<bool>(),
        edit_compressed in any::<bool>(),
    ) {
        let pixels: Vec<u8> = (0..5 * 9).map(|p| (p * 29 % 256) as u8).collect();
        let mut files = [idx(&[5, 3, 3], &pixels), idx(&[5], &[0, 1, 2, 3, 9])];
        let target = &mut files[usize::from(labels_file)];
        let ndim = usize::from(target[3]);
        for (d, value) in &dims {
            let at = 4 + 4 * d.index(ndim);
            target[at..at + 4].copy_from_slice(&value.to_be_bytes());
        }
        if compressed && !edit_compressed {
            apply(target, &edits);
        }
        if compressed {
            *target = gzip(target);
        }
        if !compressed || edit_compressed {
            apply(target, &edits);
        }
        let [images, labels] = files;
        let what = format!("{edits:?} {dims:?}");
        if let Ok(data) = guarded(&what, move || load_idx(&images, &labels, 10)) {
            prop_assert_eq!(data.labels().len(), data.len());
            prop_assert!(data.labels().iter().all(|&l| l < 10));
            if !data.is_empty() {
                prop_assert_eq!(data.image(data.len() - 1).len(), data.pixels_per_image());
            }
        }
    }
}

/// A tiny trained model (784-4-10) as `inspect::save` writes it, and its data.
fn model() -> &'static (String, Split) {
    static MODEL: OnceLock<(String, Split)> = OnceLock::new();
    MODEL.get_or_init(|| {
        let data = Split {
            train: synthetic_dataset(16, 1).unwrap(),
            test: synthetic_dataset(8, 2).unwrap(),
        };
        let config = Config::default()
            .with_settings([("hidden", "4"), ("batch", "8"), ("steps", "2")])
            .unwrap();
        let mut trainer = Trainer::new(config, data.clone()).unwrap();
        trainer.step().unwrap();
        (pclab::inspect::save(&trainer).unwrap(), data)
    })
}

/// JSON paths (object keys and array indices) of every number, string and boolean under
/// `value`, skipping the subtrees named in `skip`.
fn leaves(value: &Value, path: &mut Vec<Value>, skip: &[&str], out: &mut Vec<Vec<Value>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter().filter(|(k, _)| !skip.contains(&k.as_str())) {
                path.push(Value::from(key.as_str()));
                leaves(child, path, skip, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Value::from(i));
                leaves(child, path, skip, out);
                path.pop();
            }
        }
        _ => out.push(path.clone()),
    }
}

fn at_path<'a>(value: &'a mut Value, path: &[Value]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Value::String(key) => &mut v[key.as_str()],
        _ => &mut v[step.as_u64().unwrap() as usize],
    })
}

/// Replacement values: sizes at and past the bounds, negatives, fractions, huge numbers,
/// wrong types.
fn replacement() -> impl Strategy<Value = Value> {
    select(vec![
        Value::from(0),
        Value::from(-1),
        Value::from(1),
        Value::from(3),
        Value::from(4096),
        Value::from(4097),
        Value::from(10_000),
        Value::from(1_000_000_000_000_u64),
        Value::from(u64::MAX),
        Value::from(0.5),
        Value::from(1e300),
        Value::from(-1e300),
        Value::from("x"),
        Value::Null,
        Value::from(vec![1, 2]),
    ])
}

/// `json` with up to three leaves replaced: half the time one of the leaves under
/// `focus` (the fields that size things), otherwise any leaf.
fn mutate_leaves(
    json: &str,
    skip: &[&str],
    focus: &[&str],
    picks: &[(bool, Index, Value)],
) -> String {
    let mut value: Value = serde_json::from_str(json).unwrap();
    let (mut all, mut focused) = (Vec::new(), Vec::new());
    leaves(&value, &mut Vec::new(), skip, &mut all);
    focused.extend(
        all.iter()
            .filter(|p| p.iter().any(|s| focus.contains(&s.as_str().unwrap_or(""))))
            .cloned(),
    );
    for (focus_only, index, replacement) in picks {
        let pool = if *focus_only && !focused.is_empty() {
            &focused
        } else {
            &all
        };
        let path = &pool[index.index(pool.len())];
        *at_path(&mut value, path) = replacement.clone();
    }
    value.to_string()
}

/// The model fields mutated more often. One field at a time: `inspect::load` builds the
/// whole configured network before it compares shapes, so a configuration of 16 × 4096
/// hidden units (valid) allocates about 1 GB before the model is refused; one mutated
/// field gives at most one layer of 4096.
const MODEL_FOCUS: [&str; 3] = ["sizes", "format", "config"];

proptest! {
    #![proptest_config(config(1000))]

    #[test]
    fn mutated_model_text_is_loaded_or_refused(edits in prop::collection::vec(edit(), 1..4)) {
        let (json, data) = model();
        let mut bytes = json.clone().into_bytes();
        apply(&mut bytes, &edits);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let data = data.clone();
        let what = format!("{edits:?}");
        guarded(&what, move || pclab::inspect::load(&text, data).map(drop)).ok();
    }

    #[test]
    fn models_with_mutated_fields_are_loaded_or_refused(
        picks in prop::collection::vec((any::<bool>(), any::<Index>(), replacement()), 1..2),
    ) {
        let (json, data) = model();
        let text = mutate_leaves(json, &[], &MODEL_FOCUS, &picks);
        let data = data.clone();
        let what = format!("{picks:?}");
        guarded(&what, move || pclab::inspect::load(&text, data).map(drop)).ok();
    }
}

/// The golden cases' text.
fn golden() -> &'static Vec<String> {
    static CASES: OnceLock<Vec<String>> = OnceLock::new();
    CASES.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
        let mut paths: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    })
}

fn evaluate(text: String) -> bool {
    Case::from_json(&text).and_then(|c| c.evaluate()).is_ok()
}

proptest! {
    #![proptest_config(config(1500))]

    #[test]
    fn mutated_case_text_is_evaluated_or_refused(
        which in any::<Index>(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        let cases = golden();
        let mut bytes = cases[which.index(cases.len())].clone().into_bytes();
        apply(&mut bytes, &edits);
        let text = String::from_utf8_lossy(&bytes).into_owned();
        guarded(&format!("{edits:?}"), move || evaluate(text));
    }

    #[test]
    fn cases_with_mutated_fields_are_evaluated_or_refused(
        which in any::<Index>(),
        picks in prop::collection::vec((any::<bool>(), any::<Index>(), replacement()), 1..4),
    ) {
        let cases = golden();
        let text = mutate_leaves(
            &cases[which.index(cases.len())],
            &["expected"],
            &["n", "T", "eta", "layers", "rescaling_k", "inference_lr"],
            &picks,
        );
        guarded(&format!("{picks:?}"), move || evaluate(text));
    }
}

/// Setting names: every field, both spellings, the page's `T`, and junk.
fn key() -> impl Strategy<Value = String> {
    let fields: Vec<String> = match serde_json::to_value(Config::default()).unwrap() {
        Value::Object(map) => map.keys().cloned().collect(),
        _ => Vec::new(),
    };
    let dashed: Vec<String> = fields.iter().map(|f| f.replace('_', "-")).collect();
    let junk = ["T", "", "-", "_", "__proto__", "preset", "hidden-", "seeds"].map(String::from);
    prop_oneof![
        select(fields),
        select(dashed),
        select(junk.to_vec()),
        "[a-zA-Z_-]{0,10}",
    ]
}

/// Setting values: numbers at and past the bounds, lists, JSON of every kind, junk.
fn value() -> impl Strategy<Value = String> {
    let special = [
        "",
        "0",
        "-1",
        "1",
        "0.5",
        "1e309",
        "-0",
        "NaN",
        "inf",
        "true",
        "null",
        "[]",
        "{}",
        "[1,2]",
        "\"pc\"",
        "4096",
        "4097",
        "1000",
        "1001",
        "8192",
        "8193",
        "1,2,3",
        "1,,2",
        ",",
        "4096,4096,4096,4096,4096,4096,4096,4096,4096,4096,4096,4096,4096,4096,4096,4096",
        "18446744073709551616",
        "bp",
        "bp-through-inference",
        "tradeoff",
        "exact",
    ];
    prop_oneof![
        select(special.map(String::from).to_vec()),
        any::<f64>().prop_map(|x| x.to_string()),
        any::<i64>().prop_map(|x| x.to_string()),
        "\\PC{0,12}",
    ]
}

proptest! {
    #![proptest_config(config(4000))]

    #[test]
    fn random_settings_give_an_error_or_a_valid_configuration(
        settings in prop::collection::vec((key(), value()), 1..5),
    ) {
        let what = format!("{settings:?}");
        let result = guarded(&what, move || {
            let pairs = settings.iter().map(|(k, v)| (k.as_str(), v.as_str()));
            Config::default().with_settings(pairs)
        });
        if let Ok(config) = result {
            prop_assert!(config.validate().is_ok(), "{}", what);
        }
    }
}
