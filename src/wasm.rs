//! The wasm boundary: thin wrappers that turn engine results into JS values.
//! No science lives here.

use wasm_bindgen::prelude::*;

/// Installs the panic hook once, when the module is instantiated, so that a panic
/// (a bug) shows its message in the console rather than "unreachable executed".
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
}

/// The engine's version string.
#[wasm_bindgen]
pub fn version() -> String {
    crate::version().to_string()
}
