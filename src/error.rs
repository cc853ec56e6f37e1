//! Errors the engine returns instead of panicking: it runs behind a wasm boundary,
//! so every invalid input (a shape, an empty network, a non-finite parameter, an
//! inconsistent configuration) becomes a value whose message names the problem.

use std::fmt;

/// Why an engine call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PcError {
    /// Matrix or layer sizes that do not fit together.
    Shape(String),
    /// A configuration that makes no sense (empty network, zero steps, unknown name).
    Config(String),
    /// A NaN or infinity where a finite number is required.
    NonFinite(String),
}

impl fmt::Display for PcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcError::Shape(m) => write!(f, "shape mismatch: {m}"),
            PcError::Config(m) => write!(f, "invalid configuration: {m}"),
            PcError::NonFinite(m) => write!(f, "non-finite value: {m}"),
        }
    }
}

impl std::error::Error for PcError {}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, PcError>;
