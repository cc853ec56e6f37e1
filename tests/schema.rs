//! The schema's choices as the page shows them: every value of every choice (and of the
//! page's comparison) has a label a student can read beside its stable name, and the
//! learning rules' labels and legend names are the ones written here by hand.

use pclab::config::{schema, Choice, Kind};

/// Every choice field's values, and the comparisons', by setting name.
fn choice_fields() -> Vec<(String, Vec<Choice>)> {
    let s = schema();
    let mut all: Vec<(String, Vec<Choice>)> = s
        .fields
        .into_iter()
        .filter_map(|f| match f.kind {
            Kind::Choice { choices } => Some((f.name.to_string(), choices)),
            _ => None,
        })
        .collect();
    all.push(("compare".into(), s.compare));
    all
}

#[test]
fn every_choice_has_a_readable_label_and_legend_name() {
    let fields = choice_fields();
    let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "experiment",
            "rule",
            "inference",
            "form",
            "activation",
            "output_activation",
            "output_energy",
            "hidden_energy",
            "optimizer",
            "compare"
        ]
    );
    for (field, choices) in &fields {
        assert!(choices.len() >= 2, "{field}: {choices:?}");
        for c in choices {
            for (what, text) in [("label", c.label), ("short", c.short)] {
                assert!(
                    !text.trim().is_empty() && text.len() <= 40,
                    "{field}={}: {what} {text:?}",
                    c.name
                );
            }
            // A stable name is URL text: lower case, no spaces.
            assert!(
                !c.name.is_empty()
                    && c.name
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'-' || b == b'_'),
                "{field}: name {:?}",
                c.name
            );
        }
        // No two values of one setting read alike.
        for (i, a) in choices.iter().enumerate() {
            for b in &choices[i + 1..] {
                assert_ne!(a.label, b.label, "{field}: {} and {}", a.name, b.name);
                assert_ne!(a.short, b.short, "{field}: {} and {}", a.name, b.name);
            }
        }
    }
}

#[test]
fn the_rules_read_as_written_and_keep_their_stable_names() {
    let fields = choice_fields();
    let (_, rules) = fields.iter().find(|(n, _)| n == "rule").unwrap();
    let shown: Vec<(&str, &str, &str)> = rules
        .iter()
        .map(|c| (c.name.as_str(), c.label, c.short))
        .collect();
    assert_eq!(
        shown,
        [
            ("pc", "predictive coding (PC)", "PC"),
            ("bp", "backpropagation (BP)", "BP"),
            (
                "bp-through-inference",
                "BP through inference",
                "BP through inference"
            ),
        ]
    );
    let (_, inference) = fields.iter().find(|(n, _)| n == "inference").unwrap();
    let labels: Vec<&str> = inference.iter().map(|c| c.label).collect();
    assert_eq!(
        labels,
        [
            "standard",
            "strict (Torch2PC)",
            "fixed prediction (Torch2PC)",
            "exact (Torch2PC)"
        ]
    );
    // The schema's JSON (what `configSchema()` hands the page) carries them as written.
    let json = serde_json::to_value(pclab::config::schema()).unwrap();
    let rule = json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "rule")
        .unwrap();
    assert_eq!(rule["kind"], "choice");
    assert_eq!(
        rule["choices"][2],
        serde_json::json!({ "name": "bp-through-inference", "label": "BP through inference", "short": "BP through inference" })
    );
    assert_eq!(json["compare"][1]["name"], "bp");
}
