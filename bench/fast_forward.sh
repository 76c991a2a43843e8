#!/usr/bin/env bash
# Fast-forward and scale figures for the engine in wasm32 under Node (built
# with the release profile, and with the page's own `web` profile), and
# natively for memory:
#
# 1. one simulated hour of bench/five-services.toml (1,000 requests/s
#    through 5 services) in wasm: the wall-clock time it takes, with the
#    engine built as the release profile builds it (opt-level 3) and as the
#    page ships it (the size-first `web` profile: the engine at "s"); and the
#    floor under it: as many events as that run handled, through a binary
#    heap and the random draws alone;
# 2. bench/fifty-services.toml (50 services at 10,000 requests/s) for
#    SHORT and LONG simulated seconds in wasm and natively: time and memory
#    (wasm linear memory; native peak resident set from /usr/bin/time), so
#    that flat memory shows as the same figure for both lengths.
#
# Knobs (environment): SHORT (default 10), LONG (default 60), HOUR (3600).
# See bench/README.md for the figures.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
export PATH="$root/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
SHORT="${SHORT:-10}"
LONG="${LONG:-60}"
HOUR="${HOUR:-3600}"
out="target/wasm-runner"
export CARGO_TARGET_DIR="$root/$out"
say() { printf '==> %s\n' "$*" >&2; }

say "building the wasm runner (release and web profiles) and the native runner"
(cd bench/wasm-runner && cargo build --quiet --release --lib --target wasm32-unknown-unknown)
wasm-bindgen --target nodejs --out-dir "$out/pkg" \
    "$out/wasm32-unknown-unknown/release/brownout_wasm_runner.wasm"
(cd bench/wasm-runner && cargo build --quiet --profile web --lib --target wasm32-unknown-unknown)
wasm-bindgen --target nodejs --out-dir "$out/pkg-web" \
    "$out/wasm32-unknown-unknown/web/brownout_wasm_runner.wasm"
(cd "$root" && CARGO_TARGET_DIR="$root/target" cargo build --quiet --release -p brownout-cli)
python3 bench/fifty_services.py "$out/fifty-services.toml"

say "1. one simulated hour of five services at 1,000 requests/s, wasm under node $(node --version)"
hour_json=$(node bench/wasm-runner/run_file.js "$out/pkg" bench/five-services.toml "$HOUR")
echo "$hour_json"
say "1a. the same hour with the engine as the page builds it (the web profile; before wasm-opt)"
node bench/wasm-runner/run_file.js "$out/pkg-web" bench/five-services.toml "$HOUR"

say "1b. the floor: as many events through a binary heap of 50 entries of the engine's size, a third with an exponential draw, nothing else"
events=$(python3 -c 'import json,sys; print(int(json.loads(sys.argv[1])["events"]))' "$hour_json")
node bench/wasm-runner/floor.js "$out/pkg" "$events" 50

say "2. fifty services at 10,000 requests/s: wasm"
for s in "$SHORT" "$LONG"; do
    node bench/wasm-runner/run_file.js "$out/pkg" "$out/fifty-services.toml" "$s"
done
say "2. fifty services at 10,000 requests/s: native (peak resident memory)"
for s in "$SHORT" "$LONG"; do
    /usr/bin/time -f "{\"runner\":\"native\",\"sim_seconds\":$s,\"wall_s\":%e,\"peak_rss_mb\":%M}" \
        target/release/brownout run "$out/fifty-services.toml" --duration "${s}s" --no-series \
        2>&1 >/dev/null | tail -1 | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["peak_rss_mb"]=round(d["peak_rss_mb"]/1024,1); print(json.dumps(d))'
done
