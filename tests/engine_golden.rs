//! Every golden case in tests/data/golden reproduced to 1e-9 (relative for large values)
//! in every field of `expected`.
// Native only: wasm-pack builds every test target for wasm32; tests/web.rs runs there.
#![cfg(not(target_arch = "wasm32"))]

use pclab::case::Case;
use serde_json::Value;
use std::path::Path;

/// The largest (relative for |expected| > 1) deviation over all numbers; structure must match.
fn deviation(got: &Value, want: &Value, path: &str) -> f64 {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            (g - w).abs() / w.abs().max(1.0)
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{path}: length");
            g.iter()
                .zip(w)
                .enumerate()
                .map(|(i, (g, w))| deviation(g, w, &format!("{path}[{i}]")))
                .fold(0.0, f64::max)
        }
        (Value::Object(g), Value::Object(w)) => w
            .iter()
            .map(|(k, w)| deviation(&g[k], w, &format!("{path}.{k}")))
            .fold(0.0, f64::max),
        (Value::Null, Value::Null) => 0.0,
        _ => panic!("{path}: got {got}, want {want}"),
    }
}

#[test]
fn golden_cases_are_reproduced_to_1e_9() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let expected = serde_json::from_str::<Value>(&text).unwrap()["expected"].clone();
        let outcome = Case::from_json(&text).unwrap().evaluate().unwrap();
        let got = serde_json::to_value(&outcome).unwrap();
        for (field, want) in expected.as_object().unwrap() {
            let got = got
                .get(field)
                .unwrap_or_else(|| panic!("{path:?}: missing {field}"));
            let dev = deviation(got, want, field);
            assert!(dev <= 1e-9, "{path:?}: {field} deviates by {dev:e}");
        }
        count += 1;
    }
    assert!(count >= 4, "expected the four golden cases, found {count}");
}

#[test]
fn inconsistent_cases_are_refused_with_a_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/golden");
    let text = std::fs::read_to_string(dir.join("tut_h2_w4_b4_T31_k50.json")).unwrap();
    let mut case: Value = serde_json::from_str(&text).unwrap();
    case["T"] = Value::from(7);
    let err = Case::from_json(&case.to_string())
        .unwrap()
        .evaluate()
        .unwrap_err();
    assert!(err.to_string().contains("T = 7"), "{err}");
    case["T"] = Value::from(31);
    case["layers"][1] = Value::from(5);
    let err = Case::from_json(&case.to_string())
        .unwrap()
        .evaluate()
        .unwrap_err();
    assert!(err.to_string().contains("W of block 1"), "{err}");
    assert!(Case::from_json("{\"method\": 3}").is_err());
}
