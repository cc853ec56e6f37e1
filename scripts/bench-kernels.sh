#!/usr/bin/env bash
# Builds bench/kernels (candidate GEMM kernels on the engine's shapes) for wasm, simd128
# and relaxed-simd, then times them in headless Chromium (scripts/bench-kernels.mjs).
# Not part of `make test`: a benchmark that prints numbers. Run scripts/setup.sh first.
#   bash scripts/bench-kernels.sh [--rounds 3]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
toolchain=$(wasm_toolchain) || { echo "[kernels] no wasm32 toolchain: run scripts/setup.sh" >&2; exit 1; }
for build in simd128 relaxed; do
  features="+simd128"
  [ "$build" = relaxed ] && features="+simd128,+relaxed-simd"
  echo "[kernels] wasm-pack build bench/kernels ($features)"
  # Absolute: wasm-pack runs cargo inside bench/kernels.
  CARGO_TARGET_DIR="$ROOT/target/kernels-$build" RUSTFLAGS="-C target-feature=$features" \
    RUSTUP_TOOLCHAIN=$toolchain wasm-pack --log-level warn build --release --target web \
    --out-dir pkg-$build --no-typescript --no-pack bench/kernels
done
node scripts/bench-kernels.mjs "$@"
