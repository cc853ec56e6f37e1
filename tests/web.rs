//! The wasm boundary, tested in real headless Chromium (`wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn version_crosses_the_boundary() {
    assert_eq!(pclab::wasm::version(), env!("CARGO_PKG_VERSION"));
}
