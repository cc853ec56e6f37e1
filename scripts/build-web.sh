#!/usr/bin/env bash
# Builds the wasm package into www/pkg and copies the npm front-end dependencies
# (uPlot) into www/vendor. Run scripts/setup.sh first (the Makefile does).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/env.sh
toolchain=$(wasm_toolchain) || { echo "[build] no wasm32 toolchain: run scripts/setup.sh" >&2; exit 1; }
echo "[build] wasm-pack build --release --target web (toolchain $toolchain)"
RUSTUP_TOOLCHAIN=$toolchain wasm-pack --log-level warn build --release --target web \
  --out-dir www/pkg --no-typescript --no-pack -- --no-default-features
# wasm-opt from the npm package binaryen (pinned in package.json; scripts/setup.sh runs
# npm ci). Not Debian's binaryen 108, which breaks wasm-bindgen's reference-type tables,
# and not wasm-pack's own (off in Cargo.toml), which would download one. wasm-opt takes
# the module's features from rustc's target_features section; the list below names the
# ones rustc 1.95 emits with +simd128 (wasm-opt --print-features), so they hold even if
# that section is ever stripped.
WASM_OPT=node_modules/binaryen/bin/wasm-opt
[ -f "$WASM_OPT" ] || { echo "[build] $WASM_OPT is missing: run scripts/setup.sh (npm ci installs binaryen)" >&2; exit 1; }
WASM_FEATURES=(--enable-simd --enable-bulk-memory --enable-bulk-memory-opt
  --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals
  --enable-reference-types --enable-multivalue --enable-call-indirect-overlong)
wasm_opt() { # wasm_opt FILE: optimises FILE in place for speed, dropping debug info and names
  echo "[build] wasm-opt -O3 $1 ($(node "$WASM_OPT" --version))"
  node "$WASM_OPT" -O3 "${WASM_FEATURES[@]}" --strip-debug --strip-producers "$1" -o "$1.opt"
  mv "$1.opt" "$1"
}
wasm_opt www/pkg/pclab_bg.wasm
echo "[build] copying uPlot into www/vendor"
mkdir -p www/vendor
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css www/vendor/
for f in www/pkg/*.wasm; do
  echo "[build] $f: $(($(stat -c%s "$f") / 1024)) KiB, $(($(gzip -9c "$f" | wc -c) / 1024)) KiB gzipped"
done
