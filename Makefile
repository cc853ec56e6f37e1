# pclab: two commands do everything on a fresh machine.
#   make demo   set up what is missing, build, serve the page on 127.0.0.1:$(PORT)
#   make test   set up what is missing, then every check and test
SHELL := /bin/bash
PORT ?= 8080
SOAK_MINUTES ?= 10
export PATH := $(HOME)/.cargo/bin:$(PATH)
# The toolchain that builds wasm32 (decided by scripts/setup.sh; read when used).
WASM_TOOLCHAIN = $(shell bash -c 'source scripts/env.sh && wasm_toolchain')

.PHONY: demo test setup build serve lint native-test wasm-test e2e bench soak

demo: build
	PORT=$(PORT) node scripts/serve.mjs

test: setup lint native-test wasm-test e2e
	@echo "make test: all checks passed"

setup:
	@bash scripts/setup.sh

build: setup
	@bash scripts/build-web.sh

serve:
	PORT=$(PORT) node scripts/serve.mjs

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

native-test:
	cargo test

# The wasm boundary, in real headless Chromium (tests/web.rs).
wasm-test:
	RUSTUP_TOOLCHAIN=$(WASM_TOOLCHAIN) wasm-pack test --headless --chrome -- --no-default-features --test web

# End-to-end: the built page in headless Chromium, driven by playwright-core.
e2e: build
	node --test --test-concurrency=1 e2e/

# A soak: the classification preset trains in headless Chromium for SOAK_MINUTES while
# the step counter and the page's, the worker's and the renderers' memory are sampled;
# fails when memory keeps growing, training stalls or the page shows an error.
soak: build
	node scripts/soak.mjs --minutes $(SOAK_MINUTES) --assert-plateau
