#!/usr/bin/env bash
# Builds the wasm package into www/pkg and copies the npm front-end dependencies
# (uPlot) into www/vendor. Run scripts/setup.sh first (the Makefile does).
#
# Two builds of the engine share one JS glue (www/pkg/pclab.js):
#   www/pkg/pclab_bg.wasm          simd128: every current browser
#   www/pkg/pclab_relaxed_bg.wasm  simd128 + relaxed-simd: matrixmultiply's sgemm kernel
#                                  then uses f32x4.relaxed_madd (a fused multiply-add on
#                                  FMA hardware), about 8% faster products in Chromium
# www/engine-loader.js picks one by feature detection.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
toolchain=$(wasm_toolchain) || { echo "[build] no wasm32 toolchain: run scripts/setup.sh" >&2; exit 1; }
# wasm-opt from the npm package binaryen (pinned in package.json; scripts/setup.sh runs
# npm ci). Not Debian's binaryen 108, which breaks wasm-bindgen's reference-type tables,
# and not wasm-pack's own (off in Cargo.toml), which would download one.
WASM_OPT=node_modules/binaryen/bin/wasm-opt
[ -f "$WASM_OPT" ] || { echo "[build] $WASM_OPT is missing: run scripts/setup.sh (npm ci installs binaryen)" >&2; exit 1; }

echo "[build] wasm-pack build --release --target web (toolchain $toolchain, simd128)"
RUSTUP_TOOLCHAIN=$toolchain wasm-pack --log-level warn build --release --target web \
  --out-dir www/pkg --no-typescript --no-pack -- --no-default-features
# RUSTFLAGS replaces .cargo/config.toml's rustflags, so it repeats them (+simd128 and the
# inliner/unroller thresholds); a target directory of its own keeps the two builds from
# invalidating each other.
RELAXED_TARGET=target/wasm-relaxed
RELAXED_RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd -C llvm-args=-inline-threshold=60 -C llvm-args=-unroll-threshold=50"
echo "[build] wasm-pack build --release --target web (toolchain $toolchain, simd128 + relaxed-simd)"
CARGO_TARGET_DIR=$RELAXED_TARGET RUSTFLAGS="$RELAXED_RUSTFLAGS" \
  RUSTUP_TOOLCHAIN=$toolchain wasm-pack --log-level warn build --release --target web \
  --out-dir "$RELAXED_TARGET/pkg" --no-typescript --no-pack -- --no-default-features
cmp -s www/pkg/pclab.js "$RELAXED_TARGET/pkg/pclab.js" || {
  echo "[build] the relaxed-simd build's JS glue differs from www/pkg/pclab.js; the loader needs them equal" >&2
  exit 1
}
cp "$RELAXED_TARGET/pkg/pclab_bg.wasm" www/pkg/pclab_relaxed_bg.wasm

# wasm-opt takes a module's features from rustc's target_features section; the list names
# the ones rustc 1.95 emits with +simd128 (wasm-opt --print-features) so that they hold
# even if that section is ever stripped.
WASM_FEATURES=(--enable-simd --enable-bulk-memory --enable-bulk-memory-opt
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
  --enable-reference-types --enable-multivalue --enable-call-indirect-overlong)
wasm_opt() { # wasm_opt FILE [FEATURE...]: optimises FILE in place for speed, dropping debug info and names
  local file=$1
  shift
  echo "[build] wasm-opt -O3 $file ($(node "$WASM_OPT" --version))"
  node "$WASM_OPT" -O3 "${WASM_FEATURES[@]}" "$@" --strip-debug --strip-producers "$file" -o "$file.opt"
  mv "$file.opt" "$file"
}
wasm_opt www/pkg/pclab_bg.wasm
wasm_opt www/pkg/pclab_relaxed_bg.wasm --enable-relaxed-simd

echo "[build] copying uPlot into www/vendor"
mkdir -p www/vendor
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css www/vendor/
for f in www/pkg/*.wasm; do
  echo "[build] $f: $(($(stat -c%s "$f") / 1024)) KiB, $(($(gzip -9c "$f" | wc -c) / 1024)) KiB gzipped"
done
