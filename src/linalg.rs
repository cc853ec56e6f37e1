//! The scalar type and the few batched products the engine needs, each counted in FLOPs.
//!
//! Batches are matrices with one sample per row. Every product goes through
//! [`nalgebra::Matrix::gemm`] (so large ones reach matrixmultiply's kernels); transposed
//! operands are strided views of the original storage, never materialised copies.

use nalgebra::{DMatrix, DVector, Dyn, MatrixView, RealField};

/// The engine's scalar: any real field that is `Copy` (f32 for speed, f64 for exact checks).
pub trait Real: RealField + Copy {}
impl<T: RealField + Copy> Real for T {}

/// The constant `x` in the scalar type `T`.
pub fn real<T: Real>(x: f64) -> T {
    nalgebra::convert(x)
}

/// `x` as an f64 (exact for f32 and f64).
pub fn to_f64<T: Real>(x: T) -> f64 {
    nalgebra::try_convert::<T, f64>(x).unwrap_or(f64::NAN)
}

type StridedView<'a, T> = MatrixView<'a, T, Dyn, Dyn, Dyn, Dyn>;

/// `Mᵀ` as a strided view of `M`'s column-major storage (no copy).
fn transposed<T: Real>(m: &DMatrix<T>) -> StridedView<'_, T> {
    let (r, c) = m.shape();
    MatrixView::from_slice_with_strides_generic(m.as_slice(), Dyn(c), Dyn(r), Dyn(r), Dyn(1))
}

/// Makes `m` an `rows × cols` matrix, reallocating only when its shape differs.
/// The contents are unspecified afterwards; callers overwrite them.
pub(crate) fn ensure_shape<T: Real>(m: &mut DMatrix<T>, rows: usize, cols: usize) {
    if m.shape() != (rows, cols) {
        *m = DMatrix::zeros(rows, cols);
    }
}

/// Whether nalgebra hands `out = a·b` to matrixmultiply (which honours any strides). Its
/// small-matrix fallback mis-handles strided column views, so the strided-transpose views
/// are used only on this path.
fn reaches_matrixmultiply<T: Real>(out: &DMatrix<T>, a_shape: (usize, usize)) -> bool {
    const SMALL_DIM: usize = 5; // nalgebra's threshold
    let id = std::any::TypeId::of::<T>();
    (id == std::any::TypeId::of::<f32>() || id == std::any::TypeId::of::<f64>())
        && out.nrows() > SMALL_DIM
        && out.ncols() > SMALL_DIM
        && a_shape.0 > SMALL_DIM
        && a_shape.1 > SMALL_DIM
}

/// `out = a·bᵀ + β·out`; `2·m·n·k` FLOPs.
pub(crate) fn mul_transposed<T: Real>(
    out: &mut DMatrix<T>,
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    beta: T,
    flops: &mut u64,
) {
    *flops += 2 * (a.nrows() * a.ncols() * b.nrows()) as u64;
    if reaches_matrixmultiply(out, a.shape()) {
        out.gemm(T::one(), a, &transposed(b), beta);
    } else {
        out.gemm(T::one(), a, &b.transpose(), beta);
    }
}

/// `out = a·b + β·out`; `2·m·n·k` FLOPs.
pub(crate) fn mul<T: Real>(
    out: &mut DMatrix<T>,
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    beta: T,
    flops: &mut u64,
) {
    *flops += 2 * (a.nrows() * a.ncols() * b.ncols()) as u64;
    out.gemm(T::one(), a, b, beta);
}

/// `out = aᵀ·b + β·out`; `2·m·n·k` FLOPs.
pub(crate) fn transposed_mul<T: Real>(
    out: &mut DMatrix<T>,
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    beta: T,
    flops: &mut u64,
) {
    *flops += 2 * (a.nrows() * a.ncols() * b.ncols()) as u64;
    if reaches_matrixmultiply(out, (a.ncols(), a.nrows())) {
        out.gemm(T::one(), &transposed(a), b, beta);
    } else {
        out.gemm_tr(T::one(), a, b, beta);
    }
}

/// `out_j = Σ_i a_ij + β·out_j` (sum over the batch); one FLOP per element.
pub(crate) fn column_sums<T: Real>(out: &mut DVector<T>, a: &DMatrix<T>, beta: T, flops: &mut u64) {
    *flops += a.len() as u64;
    for (o, col) in out.iter_mut().zip(a.column_iter()) {
        *o = col.sum() + beta * *o;
    }
}

/// `out = a ⊙ b` elementwise; one FLOP per element.
pub(crate) fn hadamard<T: Real>(
    out: &mut DMatrix<T>,
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    flops: &mut u64,
) {
    *flops += a.len() as u64;
    out.zip_zip_apply(a, b, |o, x, y| *o = x * y);
}

/// `out += α·a` elementwise; two FLOPs per element.
pub(crate) fn axpy<T: Real>(out: &mut DMatrix<T>, alpha: T, a: &DMatrix<T>, flops: &mut u64) {
    *flops += 2 * a.len() as u64;
    out.zip_apply(a, |o, x| *o += alpha * x);
}

/// `m`'s elements as f32, when `T` is f32: the hook for the f32-only fast paths
/// (the f64 golden path keeps the generic code).
pub(crate) fn as_f32<T: Real>(m: &DMatrix<T>) -> Option<&[f32]> {
    (m as &dyn std::any::Any)
        .downcast_ref::<DMatrix<f32>>()
        .map(DMatrix::as_slice)
}

/// [`as_f32`], mutably.
pub(crate) fn as_f32_mut<T: Real>(m: &mut DMatrix<T>) -> Option<&mut [f32]> {
    (m as &mut dyn std::any::Any)
        .downcast_mut::<DMatrix<f32>>()
        .map(DMatrix::as_mut_slice)
}

/// `Σ_i a_i·b_i`, summed in eight interleaved partial sums: a serial sum is a chain of
/// dependent additions that does not vectorise (the partial sums round differently from a
/// serial sum, within the last bits).
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    debug_assert_eq!(a.len(), b.len());
    let mut partial = [T::zero(); 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = a8.remainder().iter().zip(b8.remainder());
    for (x, y) in a8.zip(b8) {
        for k in 0..8 {
            partial[k] += x[k] * y[k];
        }
    }
    let tail = tail.fold(T::zero(), |s, (&x, &y)| s + x * y);
    partial.iter().fold(tail, |s, &p| s + p)
}

/// Whether every element is finite. Checks blocks of 64 without an early exit inside a
/// block, so the check vectorises (a plain `all` stops to branch on every element).
pub(crate) fn all_finite<T: Real>(values: &[T]) -> bool {
    values
        .chunks(64)
        .all(|c| c.iter().fold(true, |ok, x| ok & x.is_finite()))
}

/// `eʸ` for f32: Cephes' `expf` (Cody–Waite reduction, degree-7 polynomial), within two
/// ulps. Branch-free, so loops over it vectorise (a libm call per element does not).
/// NaN propagates; below −87 it returns e⁻⁸⁷ (≈ 1.6e−38) and from 88.4 on ∞.
#[inline]
pub(crate) fn exp_f32(y: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5·2²³: adding it rounds to an integer
    let y = y.clamp(-87.0, 89.0);
    let shifted = y * std::f32::consts::LOG2_E + MAGIC;
    let k = shifted - MAGIC;
    let r = y - k * 0.693_359_4 - k * -2.121_944_4e-4;
    let p = ((((1.987_569_1e-4 * r + 1.398_2e-3) * r + 8.333_452e-3) * r + 4.166_579_6e-2) * r
        + 1.666_666_5e-1)
        * r
        + 0.5;
    let e = (p * r * r + r) + 1.0;
    let k = (shifted.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
    e * f32::from_bits(((k + 127) as u32) << 23)
}

/// tanh of an f32: Cephes' `tanhf` (an odd polynomial below 0.625, `1 − 2/(e^{2|x|} + 1)`
/// above), within one ulp of the exact value (glibc's `tanhf`: two). Both branches are
/// evaluated, so loops vectorise.
#[inline]
pub(crate) fn tanh_f32(x: f32) -> f32 {
    let a = x.abs();
    let z = x * x;
    let poly = (((-5.704_988_7e-3 * z + 2.063_909e-2) * z - 5.373_971_6e-2) * z + 1.333_144_2e-1)
        * z
        - 3.333_328e-1;
    let small = (poly * z * x + x).copysign(x);
    let large = (1.0 - 2.0 / (exp_f32(2.0 * a) + 1.0)).copysign(x);
    if a < 0.625 {
        small
    } else {
        large
    }
}

/// The logistic σ(x) = 1/(1 + e⁻ˣ) of an f32, with [`exp_f32`].
#[inline]
pub(crate) fn sigmoid_f32(x: f32) -> f32 {
    1.0 / (1.0 + exp_f32(-x))
}

/// `self ← src`, reusing `self`'s buffers where the shapes agree: copies that are taken
/// every training step (the rollback state) allocate only the first time.
pub trait Overwrite {
    /// Makes `self` equal to `src`.
    fn overwrite(&mut self, src: &Self);
}

impl<T: Real> Overwrite for DMatrix<T> {
    fn overwrite(&mut self, src: &Self) {
        if self.shape() == src.shape() {
            self.copy_from(src);
        } else {
            *self = src.clone();
        }
    }
}

impl<T: Real> Overwrite for DVector<T> {
    fn overwrite(&mut self, src: &Self) {
        if self.len() == src.len() {
            self.copy_from(src);
        } else {
            *self = src.clone();
        }
    }
}

impl<T: Overwrite + Clone> Overwrite for Option<T> {
    fn overwrite(&mut self, src: &Self) {
        match (self.as_mut(), src) {
            (Some(dst), Some(src)) => dst.overwrite(src),
            _ => self.clone_from(src),
        }
    }
}

impl<T: Overwrite + Clone> Overwrite for Vec<T> {
    fn overwrite(&mut self, src: &Self) {
        if self.len() == src.len() {
            self.iter_mut().zip(src).for_each(|(d, s)| d.overwrite(s));
        } else {
            self.clone_from(src);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{dot, sigmoid_f32, tanh_f32};

    #[test]
    fn dot_in_partial_sums_is_the_dot_product() {
        for n in [0, 1, 7, 8, 9, 16, 100, 1283] {
            let a: Vec<f64> = (0..n)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
                .collect();
            let b: Vec<f64> = (0..n)
                .map(|i| ((i * 11 % 53) as f64 - 26.0) / 3.0)
                .collect();
            let serial: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let scale: f64 = a.iter().zip(&b).map(|(x, y)| (x * y).abs()).sum();
            assert!(
                (dot(&a, &b) - serial).abs() <= 1e-14 * scale.max(1.0),
                "n = {n}"
            );
        }
        assert!(dot(&[f32::NAN, 1.0], &[1.0, 1.0]).is_nan());
    }

    /// The distance in units in the last place between two finite f32s of one sign.
    fn ulps(a: f32, b: f32) -> u32 {
        a.to_bits().abs_diff(b.to_bits())
    }

    #[test]
    fn fast_tanh_and_sigmoid_are_within_two_ulps() {
        let mut x = 1e-30f32;
        while x < 40.0 {
            for x in [x, -x] {
                let tanh = f64::from(x).tanh() as f32;
                let sigmoid = (1.0 / (1.0 + (-f64::from(x)).exp())) as f32;
                assert!(ulps(tanh_f32(x), tanh) <= 1, "tanh({x})");
                assert!(ulps(sigmoid_f32(x), sigmoid) <= 2, "σ({x})");
            }
            x = f32::from_bits(x.to_bits() + 101);
        }
        assert!(tanh_f32(f32::NAN).is_nan() && sigmoid_f32(f32::NAN).is_nan());
        assert_eq!(tanh_f32(f32::INFINITY), 1.0);
        assert_eq!(sigmoid_f32(f32::NEG_INFINITY), 0.0);
    }
}
