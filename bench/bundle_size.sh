#!/usr/bin/env bash
# Download size of the page: builds the release bundle exactly as the
# end-to-end tests do (scripts/test.sh), then prints, one line each, the raw
# and gzipped sizes (gzip -9) of the wasm module, the JS glue, the stylesheet
# and the single-file page brownout.html, and whether the wasm meets its
# target of 300 KB (300,000 bytes) gzipped. See bench/README.md.
#
# Cargo builds in target/e2e/cargo, the tests' own folder (the same command
# and settings, so each reuses the other's build); the bundle is written to
# target/bench/dist. Knob (environment):
# TARGET_GZIP, the target in bytes (default 300000).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# binaryen's wasm-opt from npm and the wasm-bindgen CLI, as scripts/test.sh.
export PATH="$root/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CARGO_TARGET_DIR="$root/target/e2e/cargo"
dist="target/bench/dist"
TARGET_GZIP="${TARGET_GZIP:-300000}"

trunk build --release --dist "$dist" >&2

# The one file matching a pattern in the bundle (Trunk hashes the names).
one() {
    local matches=("$dist"/$1)
    if [[ ${#matches[@]} -ne 1 || ! -f ${matches[0]} ]]; then
        echo "expected one file $1 in $dist, found: ${matches[*]}" >&2
        exit 1
    fi
    echo "${matches[0]}"
}

row() {
    local what=$1 file=$2
    printf '%-13s %9d bytes raw %9d bytes gzipped  %s\n' "$what" \
        "$(stat -c %s "$file")" "$(gzip -9c "$file" | wc -c)" "${file#"$dist"/}"
}

wasm="$(one '*_bg.wasm')"
row "wasm" "$wasm"
row "JS glue" "$(one 'brownout-web-*.js')"
row "stylesheet" "$(one 'style-*.css')"
row "single file" "$(one brownout.html)"

gz="$(gzip -9c "$wasm" | wc -c)"
if ((gz <= TARGET_GZIP)); then
    echo "target: wasm ≤ $TARGET_GZIP bytes gzipped: met ($gz)"
else
    echo "target: wasm ≤ $TARGET_GZIP bytes gzipped: NOT met ($gz, $((gz - TARGET_GZIP)) over)"
fi
