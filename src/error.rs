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
    /// A data file that cannot be read (IDX, the shipped set).
    Data(DataError),
}

impl fmt::Display for PcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PcError::Shape(m) => write!(f, "shape mismatch: {m}"),
            PcError::Config(m) => write!(f, "invalid configuration: {m}"),
            PcError::NonFinite(m) => write!(f, "non-finite value: {m}"),
            PcError::Data(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for PcError {}

impl From<DataError> for PcError {
    fn from(e: DataError) -> Self {
        PcError::Data(e)
    }
}

/// Why a data file could not be read. Its `Display` names the file part and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataError {
    /// The bytes start like gzip but do not decompress.
    Gzip { detail: String },
    /// Decompressing would exceed `cap` bytes.
    TooLarge { cap: usize },
    /// Fewer bytes than the header needs.
    TruncatedHeader {
        what: &'static str,
        needed: usize,
        actual: usize,
    },
    /// The magic number is not the format's.
    BadMagic {
        what: &'static str,
        found: String,
        expected: &'static str,
    },
    /// An IDX element type other than unsigned byte.
    BadDtype { what: &'static str, code: u8 },
    /// An IDX file with the wrong number of dimensions.
    BadDims {
        what: &'static str,
        found: u8,
        expected: u8,
    },
    /// The header declares a different number of data bytes than the file holds.
    SizeMismatch {
        what: &'static str,
        shape: String,
        declared: u128,
        actual: usize,
    },
    /// Image and label files disagree on the number of items.
    CountMismatch { images: usize, labels: usize },
    /// Images with no pixels, or absurdly many.
    BadImageSize {
        rows: usize,
        cols: usize,
        max: usize,
    },
    /// A number of classes outside 1..=256.
    BadClasses { classes: usize, max: usize },
    /// A label not below the number of classes.
    LabelOutOfRange {
        index: usize,
        label: u8,
        classes: usize,
    },
    /// A file could not be read (native only).
    Io { path: String, detail: String },
    /// A problem in the named file (or pair of files), added by the native `*_file`
    /// helpers.
    InFile { path: String, error: Box<DataError> },
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Gzip { detail } => write!(f, "gzip: corrupt or truncated stream ({detail})"),
            Self::TooLarge { cap } => write!(
                f,
                "gzip: decompresses to more than {cap} bytes, the limit that guards against gzip bombs"
            ),
            Self::TruncatedHeader {
                what,
                needed,
                actual,
            } => write!(
                f,
                "{what}: truncated header: needs {needed} bytes, the file has {actual}"
            ),
            Self::BadMagic {
                what,
                found,
                expected,
            } => write!(f, "{what}: wrong magic number {found}, expected {expected}"),
            Self::BadDtype { what, code } => write!(
                f,
                "{what}: element type 0x{code:02x} ({}) is not supported, expected 0x08 (unsigned byte)",
                idx_type_name(*code)
            ),
            Self::BadDims {
                what,
                found,
                expected,
            } => write!(f, "{what}: {found} dimensions, expected {expected}"),
            Self::SizeMismatch {
                what,
                shape,
                declared,
                actual,
            } => {
                let problem = if (*actual as u128) < *declared {
                    "truncated or absurd size"
                } else {
                    "trailing bytes"
                };
                write!(
                    f,
                    "{what}: header declares {shape} = {declared} bytes of data, but {actual} bytes follow ({problem})"
                )
            }
            Self::CountMismatch { images, labels } => write!(
                f,
                "images and labels disagree: {images} images but {labels} labels"
            ),
            Self::BadImageSize { rows, cols, max } => write!(
                f,
                "image size {rows}×{cols} is unusable (must be 1 to {max} pixels)"
            ),
            Self::BadClasses { classes, max } => {
                write!(f, "{classes} classes: must be 1 to {max}")
            }
            Self::LabelOutOfRange {
                index,
                label,
                classes,
            } => write!(
                f,
                "label {label} of item {index} is out of range for {classes} classes"
            ),
            Self::Io { path, detail } => write!(f, "{path}: {detail}"),
            Self::InFile { path, error } => write!(f, "{path}: {error}"),
        }
    }
}

fn idx_type_name(code: u8) -> &'static str {
    match code {
        0x08 => "unsigned byte",
        0x09 => "signed byte",
        0x0b => "i16",
        0x0c => "i32",
        0x0d => "f32",
        0x0e => "f64",
        _ => "unknown",
    }
}

/// The engine's result type.
pub type Result<T> = std::result::Result<T, PcError>;
