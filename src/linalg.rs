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
