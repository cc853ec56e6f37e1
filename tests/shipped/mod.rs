//! What the test files that train share: the shipped MNIST split (read once per test
//! binary) and a preset with settings over it.

use pclab::config::Config;
use pclab::data::{load_shipped_file, Split};
use std::sync::OnceLock;

/// The shipped split (`www/data/mnist-10k.bin.gz`).
pub fn data() -> Split {
    static DATA: OnceLock<Split> = OnceLock::new();
    DATA.get_or_init(|| {
        load_shipped_file(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/www/data/mnist-10k.bin.gz"
        ))
        .unwrap()
    })
    .clone()
}

/// Preset `preset` with URL-style `settings` over it.
pub fn config(preset: &str, settings: &[(&str, &str)]) -> Config {
    Config::preset(preset)
        .unwrap()
        .with_settings(settings.iter().copied())
        .unwrap()
}
