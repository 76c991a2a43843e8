#!/usr/bin/env python3
"""Prints the comparison table of bench/simpy_compare.sh from the runners'
JSON results in the given directory: native-N.json, wasm-N.json and
simpy-N.json, one per round. Of each runner's rounds the fastest counts."""

import glob
import json
import sys

TARGET_NATIVE_OVER_SIMPY = 50.0
TARGET_WASM_OVER_NATIVE = 0.5  # "within 2x of native"


def rate(run, what, clock):
    """Events or simulated seconds per second of wall-clock or CPU time."""
    return (run["events"] if what == "events" else run["sim_seconds"]) / run[clock]


MEASURES = [("events", "wall_s"), ("events", "cpu_s"), ("sim", "wall_s"), ("sim", "cpu_s")]
HEADINGS = ["events/s wall", "events/s CPU", "sim s/s wall", "sim s/s CPU"]


def fastest(directory, runner):
    """The runner's rounds as one: its counts (every round runs the same
    simulation) and its fastest wall-clock and CPU times."""
    rounds = [json.load(open(p)) for p in sorted(glob.glob(f"{directory}/{runner}-*.json"))]
    if not rounds:
        sys.exit(f"no results for {runner} in {directory}")
    if len({r["events"] for r in rounds}) != 1:
        sys.exit(f"{runner}: the rounds differ in their event counts")
    merged = dict(rounds[0])
    merged["wall_s"] = min(r["wall_s"] for r in rounds)
    merged["cpu_s"] = min(r["cpu_s"] for r in rounds)
    return merged


def verdict(values, target):
    if min(values) >= target:
        return "met"
    if max(values) >= target:
        return "met on some measures only"
    return "NOT met"


def main():
    d = sys.argv[1]
    native, wasm, simpy = (fastest(d, n) for n in ("native", "wasm", "simpy"))
    if native["events"] != wasm["events"]:
        sys.exit(f"native and wasm runs differ: {native['events']} vs {wasm['events']} events")

    print()
    print("Fastest of the repeated runs; rates per second of wall-clock time and of CPU time.")
    print(f"{'runner':<7} {'sim s':>6} {'events':>9} {'events/sim s':>12} "
          + " ".join(f"{h:>14}" for h in HEADINGS))
    for name, run in (("native", native), ("wasm", wasm), ("SimPy", simpy)):
        cells = []
        for what, clock in MEASURES:
            r = rate(run, what, clock)
            cells.append(f"{r:>14,.0f}" if what == "events" else f"{r:>14.2f}")
        print(f"{name:<7} {run['sim_seconds']:>6g} {run['events']:>9} "
              f"{run['events'] / run['sim_seconds']:>12,.0f} " + " ".join(cells))
    kernel = simpy.get("kernel_events")
    if kernel:
        print(f"SimPy's own kernel events (also process starts and ends, resource requests, "
              f"any-of conditions): {kernel:,}, {kernel / simpy['wall_s']:,.0f}/s wall")

    print()
    print("Same model? Client totals per request (the native and wasm runs are identical):")
    for name, run in (("native", native), ("SimPy", simpy)):
        n = run["requests"]
        print(f"  {name:<6} {n:>6} requests: {run['events'] / n:5.2f} events, "
              f"{run['tries'] / n:.3f} tries, {run['retries'] / n:.4f} retries per request; "
              f"ok {run['successes'] / n:.2%}, errors {run['errors']}, "
              f"timeouts {run['timeouts']}, rejected {run['rejections']}")

    def ratios(a, b):
        return [rate(a, what, clock) / rate(b, what, clock) for what, clock in MEASURES]

    print()
    print(f"{'ratio':<15} " + " ".join(f"{h:>14}" for h in HEADINGS) + "  target")
    ns = ratios(native, simpy)
    print(f"{'native / SimPy':<15} " + " ".join(f"{x:>13.1f}x" for x in ns)
          + f"  >= {TARGET_NATIVE_OVER_SIMPY:g}x: {verdict(ns, TARGET_NATIVE_OVER_SIMPY)}")
    wn = ratios(wasm, native)
    print(f"{'wasm / native':<15} " + " ".join(f"{x:>14.2f}" for x in wn)
          + f"  >= {TARGET_WASM_OVER_NATIVE:g} (within 2x): {verdict(wn, TARGET_WASM_OVER_NATIVE)}")


if __name__ == "__main__":
    main()
