#!/usr/bin/env bash
# Installs whatever this project needs that the machine does not have yet.
# Idempotent: each tool is skipped when it is already there at the right
# version.  Usage: scripts/setup.sh [--browser]
#   --browser  also installs Chromium and chromedriver (for the tests).
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
BINARYEN_VERSION=123.0.0
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# The wasm-bindgen CLI must match the library version that Cargo.lock pins
# exactly, or the generated glue does not fit the wasm module.
WASM_BINDGEN_VERSION=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "adding the wasm32-unknown-unknown target"
    rustup target add wasm32-unknown-unknown
fi

if [ "$(trunk --version 2>/dev/null)" != "trunk $TRUNK_VERSION" ]; then
    say "installing trunk $TRUNK_VERSION (about 10 minutes on 2 cores)"
    cargo install trunk --locked --version "$TRUNK_VERSION"
fi

# Without --locked: the crate's own lock file pins a webpki-roots release
# that the registry does not serve; cargo resolves compatible ones instead.
if [ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ] \
    || ! command -v wasm-bindgen-test-runner >/dev/null; then
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

# binaryen from npm: Debian's wasm-opt is too old for wasm-bindgen's output.
if [ ! -x tools/node_modules/.bin/wasm-opt ] \
    || [ "$(tools/node_modules/.bin/wasm-opt --version 2>/dev/null | awk '{print $3}')" != "${BINARYEN_VERSION%%.*}" ]; then
    say "installing binaryen $BINARYEN_VERSION (wasm-opt) into tools/"
    mkdir -p tools
    npm install --silent --no-audit --no-fund --prefix tools "binaryen@$BINARYEN_VERSION"
fi

# python3 runs the build hook that writes dist/brownout.html (Trunk.toml).
if ! command -v python3 >/dev/null; then
    say "installing python3"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3
fi

if [ "${1:-}" = "--browser" ]; then
    if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
        say "installing chromium and chromium-driver"
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
    fi
fi
say "toolchain ready"
