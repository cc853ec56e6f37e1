//! Candidate f32 GEMM kernels timed on pclab's own product shapes, in wasm (issue #11,
//! item 1): matrixmultiply (what nalgebra calls, the engine's kernel), the `gemm` crate
//! with its simd128 kernels, and rten-gemm, plain and with the weight operand packed once
//! (as it could be once per training step, reused over the T inference steps).
//!
//! Every matrix is column-major, as nalgebra's. A product `C = A·B` (m×k times k×n) may
//! read A or B transposed from storage, as the engine's three kinds of product do:
//! `U·Wᵀ` (predictions), `Δ·W` (input gradients) and `Δᵀ·U` (weight gradients).
//! `scripts/bench-kernels.sh` builds this crate and times it in headless Chromium.

use rten_gemm::{GemmExecutor, GemmInputA, GemmInputB, GemmOptions, PackedAMatrix};
use rten_tensor::NdTensorView;
use wasm_bindgen::prelude::*;

/// The kernels, in the order the report lists them.
#[wasm_bindgen]
pub fn kernels() -> Vec<String> {
    [
        "matrixmultiply",
        "gemm",
        "rten-gemm",
        "rten-gemm, weight packed",
    ]
    .map(String::from)
    .to_vec()
}

/// One product `C = A·B` ready to run repeatedly with one kernel.
#[wasm_bindgen]
pub struct Product {
    kernel: String,
    m: usize,
    k: usize,
    n: usize,
    a: Vec<f32>,
    b: Vec<f32>,
    c: Vec<f32>,
    /// Strides (row, column) of A and B as stored.
    a_strides: (usize, usize),
    b_strides: (usize, usize),
    rten: GemmExecutor,
    packed: Option<PackedAMatrix<f32>>,
}

/// (row stride, column stride) of an r×c operand stored column-major, or stored as the
/// column-major c×r matrix it is the transpose of.
fn strides(rows: usize, cols: usize, transposed: bool) -> (usize, usize) {
    if transposed {
        (cols, 1)
    } else {
        (1, rows)
    }
}

/// Deterministic values in [−1, 1).
fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut x = seed.wrapping_mul(2_654_435_761).max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x as f32 / u32::MAX as f32) * 2.0 - 1.0
        })
        .collect()
}

/// The transpose (rows×cols) of an operand with `strides`, as rten's row-major view:
/// rten writes a row-major C, so it computes `Cᵀ = Bᵀ·Aᵀ`, which is C column-major.
fn transposed_view(
    data: &[f32],
    rows: usize,
    cols: usize,
    (rs, cs): (usize, usize),
) -> Result<NdTensorView<'_, f32, 2>, String> {
    NdTensorView::from_data_with_strides([rows, cols], data, [cs, rs]).map_err(|e| e.to_string())
}

#[wasm_bindgen]
impl Product {
    /// `C = A·B` with A m×k and B k×n, each read transposed from storage if asked.
    #[wasm_bindgen(constructor)]
    pub fn new(
        kernel: &str,
        m: usize,
        k: usize,
        n: usize,
        a_transposed: bool,
        b_transposed: bool,
    ) -> Result<Product, String> {
        if !kernels().iter().any(|name| name == kernel) {
            return Err(format!("unknown kernel {kernel}"));
        }
        let mut product = Product {
            kernel: kernel.to_string(),
            m,
            k,
            n,
            a: values(m * k, 1),
            b: values(k * n, 2),
            c: vec![0.0; m * n],
            a_strides: strides(m, k, a_transposed),
            b_strides: strides(k, n, b_transposed),
            rten: GemmExecutor::default(),
            packed: None,
        };
        if kernel == "rten-gemm, weight packed" {
            let bt = transposed_view(&product.b, n, k, product.b_strides)?;
            product.packed = Some(product.rten.prepack_a(bt));
        }
        Ok(product)
    }

    /// Runs the product `reps` times.
    pub fn run(&mut self, reps: u32) -> Result<(), String> {
        let (m, k, n) = (self.m, self.k, self.n);
        let ((ars, acs), (brs, bcs)) = (self.a_strides, self.b_strides);
        for _ in 0..reps {
            match self.kernel.as_str() {
                // SAFETY: the strides describe m×k, k×n and m×n matrices inside the
                // vectors, which live for the call.
                "matrixmultiply" => unsafe {
                    matrixmultiply::sgemm(
                        m,
                        k,
                        n,
                        1.0,
                        self.a.as_ptr(),
                        ars as isize,
                        acs as isize,
                        self.b.as_ptr(),
                        brs as isize,
                        bcs as isize,
                        0.0,
                        self.c.as_mut_ptr(),
                        1,
                        m as isize,
                    )
                },
                // SAFETY: as above; `gemm` computes dst = alpha·dst + beta·lhs·rhs and does
                // not read dst when read_dst is false.
                "gemm" => unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        self.c.as_mut_ptr(),
                        m as isize,
                        1,
                        false,
                        self.a.as_ptr(),
                        acs as isize,
                        ars as isize,
                        self.b.as_ptr(),
                        bcs as isize,
                        brs as isize,
                        0.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    )
                },
                _ => {
                    let at = transposed_view(&self.a, k, m, self.a_strides)?;
                    let lhs = match &self.packed {
                        Some(packed) => GemmInputA::Packed(packed),
                        None => {
                            GemmInputA::Unpacked(transposed_view(&self.b, n, k, self.b_strides)?)
                        }
                    };
                    self.rten
                        .gemm(
                            &mut self.c,
                            lhs,
                            GemmInputB::Unpacked(at),
                            GemmOptions::default(),
                        )
                        .map_err(|e| e.to_string())?;
                }
            }
        }
        Ok(())
    }

    /// An entry of C (row i, column j), to check the kernels against each other.
    pub fn entry(&self, i: usize, j: usize) -> f32 {
        self.c[i + j * self.m]
    }
}
