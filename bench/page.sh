#!/usr/bin/env bash
# Benchmarks of the page in headless Chromium: time to the first frame,
# frame work and frame rate with ~5,000 dots in flight, and a soak of
# simulated hours at 500 requests/s. See bench/README.md ("The page").
#
#   bench/page.sh                  all three (about 5 minutes plus the soak)
#   bench/page.sh first-frame [N]  N cold loads of the default page (7)
#   bench/page.sh frames [S]       S seconds per measurement (10)
#   bench/page.sh soak [HOURS]     simulated hours at 500 requests/s (6)
#   bench/page.sh shots            screenshots of the crowded page
#
# Needs what scripts/setup.sh --browser installs (Trunk, wasm-bindgen,
# Chromium, chromedriver). The bundle is built as the end-to-end tests
# build it, and served the same way, on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export CHROMEDRIVER="${CHROMEDRIVER:-/usr/bin/chromedriver}"
CARGO_TARGET_DIR="$PWD/target/e2e/cargo" trunk build --release --dist target/e2e/dist
BROWNOUT_E2E_DIST="$PWD/target/e2e/dist" \
    cargo run --quiet -p brownout-e2e --bin page_bench -- "$@"
