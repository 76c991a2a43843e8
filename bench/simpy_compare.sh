#!/usr/bin/env bash
# Runs the benchmark model (bench/five-services.toml) three ways and prints
# a table: Brownout native, Brownout compiled to wasm32 under Node, and the
# same model written in SimPy (bench/simpy_model.py). See bench/README.md.
#
# Idempotent. Needs the network only the first time, to pip-install SimPy
# into target/bench-venv; later runs are offline.
#
# Knobs (environment):
#   SIM_SECONDS    simulated seconds per run, for all three (default 30).
#                  The same for all: the count of events per request depends
#                  on the length of a run (a try's timer fires up to 2 s after
#                  the try), so runs of different lengths compare badly.
#   RUST_REPEATS   timed native and wasm runs per round     (default 10)
#   ROUNDS         rounds of native then wasm runs          (default 3)
#   SIMPY_REPEATS  timed SimPy runs, fastest kept           (default 3)
#   OPT_LEVEL      build the Rust runners at this opt-level instead of the
#                  release profile's "s" (what the page ships; the engine
#                  itself, brownout-sim, is at 3 either way), e.g. 3
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

SIM_SECONDS="${SIM_SECONDS:-30}"
RUST_REPEATS="${RUST_REPEATS:-10}"
ROUNDS="${ROUNDS:-3}"
SIMPY_REPEATS="${SIMPY_REPEATS:-3}"
SIMPY_VERSION="4.1.1"
WASM_BINDGEN_VERSION="0.2.130"

model="bench/five-services.toml"
runner="bench/wasm-runner"
out="target/wasm-runner"   # as in bench/wasm-runner/.cargo/config.toml
if [ -n "${OPT_LEVEL:-}" ]; then
    export CARGO_PROFILE_RELEASE_OPT_LEVEL="$OPT_LEVEL"
    out="target/wasm-runner-opt-$OPT_LEVEL"
fi
# Set here too, so that a CARGO_TARGET_DIR in the caller's environment
# cannot send the build elsewhere.
export CARGO_TARGET_DIR="$root/$out"
pkg="$out/pkg"
venv="target/bench-venv"
results="target/bench-results"
mkdir -p "$results"

say() { printf '==> %s\n' "$*" >&2; }

# --- SimPy in a venv ---------------------------------------------------------
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    python3 -m venv "$venv"
fi
if ! "$venv/bin/python" -c "import simpy, sys; sys.exit(simpy.__version__ != '$SIMPY_VERSION')" 2>/dev/null; then
    say "installing simpy==$SIMPY_VERSION from PyPI"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "simpy==$SIMPY_VERSION"
fi

# --- builds --------------------------------------------------------------------
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $WASM_BINDGEN_VERSION"; then
    echo "error: wasm-bindgen CLI $WASM_BINDGEN_VERSION is needed (found: $(wasm-bindgen --version 2>&1 || true))" >&2
    exit 1
fi
say "building the runners (native and wasm32), opt-level ${OPT_LEVEL:-s, the engine at 3 (the release profile, as the page)}"
# From inside the runner's directory: it is a workspace of its own.
(
    cd "$runner"
    cargo build --quiet --release --bin native-runner
    cargo build --quiet --release --lib --target wasm32-unknown-unknown
)
wasm-bindgen --target nodejs --out-dir "$pkg" \
    "$out/wasm32-unknown-unknown/release/brownout_wasm_runner.wasm"

# --- runs, one at a time (two cores: nothing else should run meanwhile) -------
# Native and wasm take turns, ROUNDS times, so that a burst of other work on
# the machine does not fall on one of them only; the fastest run counts.
rm -f "$results"/*.json
for round in $(seq 1 "$ROUNDS"); do
    say "round $round/$ROUNDS: native, then wasm under node $(node --version); $RUST_REPEATS × $SIM_SECONDS simulated s each"
    "$out/release/native-runner" "$SIM_SECONDS" "$RUST_REPEATS" | tee "$results/native-$round.json" >&2
    node "$runner/run.js" "$pkg" "$SIM_SECONDS" "$RUST_REPEATS" | tee "$results/wasm-$round.json" >&2
done
say "SimPy: $SIMPY_REPEATS × $SIM_SECONDS simulated s"
"$venv/bin/python" bench/simpy_model.py "$model" "$SIM_SECONDS" "$SIMPY_REPEATS" \
    | tee "$results/simpy-1.json" >&2

# --- the table ------------------------------------------------------------------
"$venv/bin/python" bench/compare_table.py "$results"
