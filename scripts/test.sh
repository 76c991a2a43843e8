#!/usr/bin/env bash
# Installs whatever is missing (toolchain, Chromium, chromedriver), then runs
# every test: formatting and lints, the simulation core's tests, the app's
# tests in headless Chromium, and the end-to-end tests of the release bundle.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --browser
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"

step() { printf '\n\033[1m== %s\033[0m\n' "$*" >&2; }

step "format and lints"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo clippy -p brownout-web --target wasm32-unknown-unknown --all-targets --quiet -- -D warnings

step "simulation core and runner (native)"
cargo test -p brownout-sim -p brownout-cli

step "app in headless Chromium (wasm-bindgen-test)"
cargo test -p brownout-web --target wasm32-unknown-unknown

step "end to end: release bundle over WebDriver"
# One release build for every test binary of the suite.
CARGO_TARGET_DIR="$PWD/target/e2e/cargo" trunk build --release --dist target/e2e/dist
BROWNOUT_E2E_DIST="$PWD/target/e2e/dist" cargo test -p brownout-e2e -- --test-threads=1
