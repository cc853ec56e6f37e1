#!/usr/bin/env bash
# pclab setup: installs whatever is missing for building, serving and testing pclab.
#
# Idempotent: every step first checks whether its result is already there, so a second
# run changes nothing and takes a few seconds. Each step says what it does; a failure
# names the step and what to try.
#
# Steps:
#   1. Debian packages: Chromium + chromedriver, Fashion-MNIST (test data)
#   2. a Rust toolchain that can build wasm32-unknown-unknown:
#      a. rustup's ordinary route (`rustup target add`), with a short timeout;
#      b. otherwise Debian's Rust (rustc-web) with a wasm32 std built from its own source,
#         linked into rustup as the toolchain `pclab-wasm` (see "Setup details" in README.md)
#   3. wasm-bindgen-cli at exactly the version in Cargo.lock, and wasm-pack
#   4. npm packages (`npm ci` against package-lock.json)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"

step() { printf '\033[1m[setup] %s\033[0m\n' "$*"; }
ok() { printf '[setup]   ok: %s\n' "$*"; }
fail() {
  printf '[setup] FAILED at step "%s": %s\n' "$CURRENT_STEP" "$1" >&2
  [ $# -ge 2 ] && printf '[setup] try: %s\n' "$2" >&2
  exit 1
}
CURRENT_STEP=start
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# --- 1. Debian packages ---------------------------------------------------------------
CURRENT_STEP="debian packages"
APT_PACKAGES=(chromium chromium-driver dataset-fashion-mnist)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || fail "apt-get not found; install these by hand: $*" "a Debian/Ubuntu machine"
  if [ "$APT_UPDATED" -eq 0 ]; then
    step "apt-get update"
    $SUDO apt-get update -qq || fail "apt-get update failed" "check the network access to Debian's mirrors"
    APT_UPDATED=1
  fi
  step "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null ||
    fail "apt-get install $* failed" "run it by hand to see the error"
}
if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
ok "debian packages: ${APT_PACKAGES[*]}"

# --- 2. wasm32 toolchain ----------------------------------------------------------------
CURRENT_STEP="wasm32 toolchain"
command -v cargo >/dev/null || fail "cargo not found" "install Rust with rustup (https://rustup.rs)"
if wasm_toolchain_ready; then
  ok "wasm32 toolchain: $(wasm_toolchain)"
else
  step "rustup target add wasm32-unknown-unknown (timeout 40 s)"
  # PCLAB_FORCE_DEBIAN_RUST=1 skips the ordinary route (to test the fallback on any machine).
  if [ -z "${PCLAB_FORCE_DEBIAN_RUST:-}" ] && command -v rustup >/dev/null &&
    timeout 40 rustup target add wasm32-unknown-unknown --toolchain stable; then
    ok "wasm32 target from rustup"
  else
    step "rustup cannot download the target: building wasm32 std from Debian's Rust instead"
    apt_install rustc-web cargo-web rust-web-src
    DEB_SYSROOT=/usr
    [ -d "$DEB_SYSROOT/lib/rustlib/src/rust/library" ] || fail "std source missing under $DEB_SYSROOT/lib/rustlib/src" "apt-get install rust-web-src"
    # the linker: Debian's rustc looks for rust-lld in its own sysroot
    host=$(/usr/bin/rustc -vV | sed -n 's/^host: //p')
    lld_dir="$DEB_SYSROOT/lib/rustlib/$host/bin"
    if [ ! -x "$lld_dir/rust-lld" ]; then
      step "linking rustup's rust-lld into Debian's sysroot"
      stable_sysroot=$(rustc +stable --print sysroot 2>/dev/null) || fail "no rustup stable toolchain to take rust-lld from" "rustup toolchain install stable"
      [ -x "$stable_sysroot/lib/rustlib/$host/bin/rust-lld" ] || fail "rust-lld not found in $stable_sysroot"
      $SUDO mkdir -p "$lld_dir"
      $SUDO ln -sfn "$stable_sysroot/lib/rustlib/$host/bin/rust-lld" "$lld_dir/rust-lld"
    fi
    target_lib="$DEB_SYSROOT/lib/rustlib/wasm32-unknown-unknown/lib"
    if ! ls "$target_lib"/libstd-*.rlib >/dev/null 2>&1 || ! ls "$target_lib"/libtest-*.rlib >/dev/null 2>&1; then
      step "building the wasm32 standard library from source (about a minute)"
      tmp=$(mktemp -d)
      mkdir -p "$tmp/src"
      printf '[package]\nname = "pclab_std_builder"\nversion = "0.0.0"\nedition = "2021"\n[workspace]\n' >"$tmp/Cargo.toml"
      : >"$tmp/src/lib.rs"
      (cd "$tmp" && RUSTC=/usr/bin/rustc RUSTFLAGS=-Cembed-bitcode=yes RUSTC_BOOTSTRAP=1 \
        /usr/bin/cargo build --release --target wasm32-unknown-unknown \
        -Zbuild-std=std,panic_abort,panic_unwind,proc_macro,test) ||
        fail "building wasm32 std failed" "see the cargo output above; the std source must match /usr/bin/rustc's version"
      $SUDO mkdir -p "$target_lib"
      find "$tmp/target/wasm32-unknown-unknown/release/deps" -name '*.rlib' ! -name 'libpclab_std_builder*' \
        -exec $SUDO cp {} "$target_lib/" \;
      rm -rf "$tmp"
    fi
    if ! rustup toolchain list | grep -q "^$DEBIAN_TOOLCHAIN"; then
      step "rustup toolchain link $DEBIAN_TOOLCHAIN $DEB_SYSROOT"
      rustup toolchain link "$DEBIAN_TOOLCHAIN" "$DEB_SYSROOT"
    fi
  fi
  wasm_toolchain_ready || fail "still no toolchain that builds wasm32" "see "Setup details" in README.md"
  ok "wasm32 toolchain: $(wasm_toolchain)"
fi

# --- 3. wasm-bindgen-cli and wasm-pack ------------------------------------------------
CURRENT_STEP="wasm-bindgen-cli"
WB_VERSION=$(awk '/^name = "wasm-bindgen"$/{getline; sub(/version = /,""); gsub(/"/,""); print}' Cargo.lock)
[ -n "$WB_VERSION" ] || fail "no wasm-bindgen version in Cargo.lock" "run cargo generate-lockfile"
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" = "$WB_VERSION" ]; then
  ok "wasm-bindgen-cli $WB_VERSION"
else
  step "cargo install wasm-bindgen-cli --version $WB_VERSION (about 4 minutes)"
  cargo +stable install wasm-bindgen-cli --version "$WB_VERSION" --force ||
    fail "cargo install wasm-bindgen-cli failed" "check access to crates.io"
fi
CURRENT_STEP="wasm-pack"
if [ "$(wasm-pack --version 2>/dev/null | awk '{print $2}')" = "$WASM_PACK_VERSION" ]; then
  ok "wasm-pack $WASM_PACK_VERSION"
else
  step "cargo install wasm-pack --version $WASM_PACK_VERSION (about 4 minutes)"
  cargo +stable install wasm-pack --version "$WASM_PACK_VERSION" --force ||
    fail "cargo install wasm-pack failed" "check access to crates.io"
fi

# --- 4. npm packages --------------------------------------------------------------------
CURRENT_STEP="npm packages"
command -v npm >/dev/null || fail "npm not found" "apt-get install nodejs npm"
stamp=node_modules/.pclab-lock-sha
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  ok "npm packages"
else
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error || fail "npm ci failed" "check access to the npm registry"
  echo "$want" >"$stamp"
fi

CURRENT_STEP="done"
ok "setup complete"
