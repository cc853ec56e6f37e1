//! The engine's modules form layers: no module reaches, directly or through others, back
//! into a module that uses it. Read from the source (`crate::module` paths), so a new
//! cycle fails here before it spreads.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level module a source file belongs to (`src/network/gradients.rs` → network).
fn module_of(path: &Path, src: &Path) -> Option<String> {
    let rel = path.strip_prefix(src).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.trim_end_matches(".rs").to_string();
    (!["lib", "cli", "bin"].contains(&name.as_str())).then_some(name)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `crate::name` a text refers to, including inside `use crate::{a, b}` groups.
fn references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let word = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                found.insert(word(item.trim()));
            }
        } else {
            found.insert(word(rest));
        }
    }
    found
}

/// The module graph: module → modules it uses.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<String> = files.iter().filter_map(|f| module_of(f, &src)).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let Some(module) = module_of(file, &src) else {
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        let uses: Vec<String> = references(&text)
            .into_iter()
            .filter(|m| modules.contains(m) && *m != module)
            .collect();
        graph.entry(module).or_default().extend(uses);
    }
    graph
}

/// A cycle through `start`, if there is one.
fn cycle_through(
    graph: &BTreeMap<String, BTreeSet<String>>,
    start: &str,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    let last = path.last().cloned().unwrap_or_else(|| start.to_string());
    for next in graph.get(&last).into_iter().flatten() {
        if next == start {
            let mut cycle = path.clone();
            cycle.push(next.clone());
            return Some(cycle);
        }
        if !path.contains(next) && next.as_str() > start {
            path.push(next.clone());
            if let Some(c) = cycle_through(graph, start, path) {
                return Some(c);
            }
            path.pop();
        }
    }
    None
}

#[test]
fn the_modules_have_no_import_cycle() {
    let graph = graph();
    assert!(graph.contains_key("network") && graph.contains_key("inference"));
    for start in graph.keys() {
        let mut path = vec![start.clone()];
        if let Some(cycle) = cycle_through(&graph, start, &mut path) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    graph.entry("c".into()).or_default().insert("a".into());
    let cycle = cycle_through(&graph, "a", &mut vec!["a".to_string()]);
    assert_eq!(cycle.unwrap().join(" → "), "a → b → c → a");
    assert_eq!(
        references("use crate::{error::Result, network::Network};\nx = crate::flops::Flops;"),
        ["error", "flops", "network"]
            .map(String::from)
            .into_iter()
            .collect()
    );
}
