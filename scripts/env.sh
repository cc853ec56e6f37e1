# Sourced by the build scripts: where tools are, and which Rust toolchain builds wasm32.
# shellcheck shell=bash

export PATH="$HOME/.cargo/bin:$PATH"
# The rustup toolchain name under which Debian's Rust is linked when rustup cannot
# download the wasm32 target (see scripts/setup.sh, step 2b).
DEBIAN_TOOLCHAIN=pclab-wasm
WASM_PACK_VERSION=0.15.1
CHROMIUM=/usr/bin/chromium

# has_wasm_std TOOLCHAIN: does that toolchain's sysroot hold a wasm32 std (and test)?
has_wasm_std() {
  local sysroot
  sysroot=$(rustc +"$1" --print sysroot 2>/dev/null) || return 1
  ls "$sysroot"/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1 &&
    ls "$sysroot"/lib/rustlib/wasm32-unknown-unknown/lib/libtest-*.rlib >/dev/null 2>&1
}

# wasm_toolchain: prints the toolchain that builds wasm32 (stable first, else Debian's).
wasm_toolchain() {
  if [ -z "${PCLAB_FORCE_DEBIAN_RUST:-}" ] && has_wasm_std stable; then echo stable
  elif has_wasm_std "$DEBIAN_TOOLCHAIN"; then echo "$DEBIAN_TOOLCHAIN"
  else return 1
  fi
}
wasm_toolchain_ready() { wasm_toolchain >/dev/null; }
