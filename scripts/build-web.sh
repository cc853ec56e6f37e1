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
echo "[build] copying uPlot into www/vendor"
mkdir -p www/vendor
cp node_modules/uplot/dist/uPlot.esm.js node_modules/uplot/dist/uPlot.min.css www/vendor/
ls -l www/pkg/*.wasm | awk '{printf "[build] %s: %d KiB\n", $NF, $5/1024}'
