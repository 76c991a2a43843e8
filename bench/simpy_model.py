#!/usr/bin/env python3
"""The benchmark model written in SimPy, to compare Brownout's engine with it.

Reads the same scenario file as the Rust benchmarks (bench/five-services.toml)
and runs it with the same semantics as far as SimPy allows:

- Poisson (or evenly spaced) client arrivals, open loop;
- per service instance a worker pool (``simpy.Resource``) with a bounded
  queue: a try that finds every worker busy and the queue full is rejected
  at once;
- service times drawn from the configured distribution; then the service's
  own work fails with its error rate, or it calls its dependencies one
  after the other, holding its worker all along, and fails at the first
  failed call;
- network latency as a timeout each way; the caller starts a timer per try,
  the first of answer and timer decides the try, a failed try (error,
  rejection, timeout) is retried after the backoff while retries remain; a
  late answer is dropped while the callee's work goes on.

Not modelled (the script refuses such scenarios): parallel fan-out,
scripted services, load schedules.

Counting events. Brownout counts every event its engine processes, and each
of them is one of: a client arrival, a message delivery (a request reaching
the callee, a response reaching the caller), the end of a job's work, a
try's timer (also when the answer came first: the timer still fires and is
found stale), and the end of a retry's backoff. Here each of those is one
``env.timeout`` created by this model, so the model counts the timeouts it
creates that fall due before the end of the run: SimPy cancels nothing, so
those are exactly the ones processed. These "logical" events are comparable
one for one with Brownout's. SimPy itself processes more events than that
(process starts and ends, resource requests and releases, the any-of
conditions that race an answer against its timer); their number is reported
as ``kernel_events``, for information.

Prints one line of JSON: the fastest of REPEATS runs of SECONDS simulated
seconds, by wall-clock time and by CPU time (on a busy machine other work
only ever slows a run down).
"""

import argparse
import json
import math
import random
import sys
import time
import tomllib

import simpy

CLIENT = "client"
SUCCESS, ERROR, REJECTED, TIMEOUT = "success", "error", "rejected", "timeout"

# Brownout's defaults (crates/sim/src/scenario.rs, `defaults`), for fields a
# scenario file leaves out. The benchmark model writes every field out.
SERVICE_DEFAULTS = {
    "instances": 1,
    "workers": 16,
    "queue": 64,
    "service_time": {"kind": "exponential", "mean_ms": 10.0},
    "error_rate": 0.0,
    "fan_out": "sequential",
}
CALL_DEFAULTS = {"latency_ms": 1.0, "timeout_ms": 1000.0, "retries": 0, "backoff_ms": 0.0}


class Service:
    def __init__(self, env, spec, rng):
        spec = {**SERVICE_DEFAULTS, **spec}
        if spec["fan_out"] != "sequential":
            raise SystemExit(f"service {spec['name']}: only sequential fan-out is modelled")
        if spec.get("script"):
            raise SystemExit(f"service {spec['name']}: scripted services are not modelled")
        self.name = spec["name"]
        self.workers = spec["workers"]
        self.queue_capacity = spec["queue"]
        self.error_rate = spec["error_rate"]
        self.instances = [simpy.Resource(env, capacity=self.workers) for _ in range(spec["instances"])]
        self.next_instance = 0
        self.calls = []  # outgoing edges, in order
        self.rng = rng
        st = spec["service_time"]
        kind = st["kind"]
        if kind == "fixed":
            seconds = st["ms"] / 1000.0
            self.draw = lambda: seconds
        elif kind == "exponential":
            rate = 1000.0 / st["mean_ms"]
            self.draw = lambda: rng.expovariate(rate)
        elif kind == "log_normal":
            mu, sigma = math.log(st["median_ms"] / 1000.0), st["sigma"]
            self.draw = lambda: rng.lognormvariate(mu, sigma)
        else:
            raise SystemExit(f"service {self.name}: unknown service time {kind!r}")

    def pick_instance(self):
        instance = self.instances[self.next_instance]
        self.next_instance = (self.next_instance + 1) % len(self.instances)
        return instance


class Edge:
    def __init__(self, spec, services):
        spec = {**CALL_DEFAULTS, **spec}
        self.to = services[spec["to"]]
        self.latency = spec["latency_ms"] / 1000.0
        self.timeout = spec["timeout_ms"] / 1000.0
        self.retries = spec["retries"]
        self.backoff = spec["backoff_ms"] / 1000.0


class Model:
    def __init__(self, scenario, horizon):
        load = scenario.get("load", {})
        if load.get("schedule"):
            raise SystemExit("load schedules are not modelled")
        self.env = simpy.Environment()
        self.horizon = horizon
        seed = scenario.get("seed", 1)
        self.arrival_rng = random.Random(seed)
        self.arrivals = load.get("arrivals", "poisson")
        self.rate = load.get("rate_per_sec", 10.0)
        self.services = {
            spec["name"]: Service(self.env, spec, random.Random(seed * 1_000 + i))
            for i, spec in enumerate(scenario["services"])
        }
        self.entry = None
        for spec in scenario["calls"]:
            edge = Edge(spec, self.services)
            if spec["from"] == CLIENT:
                self.entry = edge
            else:
                self.services[spec["from"]].calls.append(edge)
        self.events = 0
        self.requests = 0
        self.outcomes = {SUCCESS: 0, ERROR: 0, REJECTED: 0, TIMEOUT: 0}
        self.tries = 0
        self.retries = 0

    def timeout(self, delay):
        """A logical event: counted if it falls due within the run."""
        if self.env.now + delay < self.horizon:
            self.events += 1
        return self.env.timeout(delay)

    def client(self):
        env, rng, rate = self.env, self.arrival_rng, self.rate
        gap = 1.0 / rate
        poisson = self.arrivals == "poisson"
        while True:
            yield self.timeout(rng.expovariate(rate) if poisson else gap)
            self.requests += 1
            env.process(self.client_request())

    def client_request(self):
        result = yield from self.call(self.entry)
        self.outcomes[result] += 1

    def call(self, edge):
        """The caller's side of a call: tries, timers, retries. Returns the
        result of the last try."""
        env = self.env
        tries = 0
        while True:
            tries += 1
            self.tries += 1
            answer = env.event()
            env.process(self.attempt(edge, answer))
            timer = self.timeout(edge.timeout)
            fired = yield answer | timer
            result = fired[answer] if answer in fired else TIMEOUT
            if result == SUCCESS or tries > edge.retries:
                return result
            self.retries += 1
            yield self.timeout(edge.backoff)

    def attempt(self, edge, answer):
        """One try: the request travels, the callee serves or rejects it,
        the response travels back. Runs to its end even if the caller has
        given up on it (orphaned work)."""
        yield self.timeout(edge.latency)
        service = edge.to
        pool = service.pick_instance()
        if pool.count >= service.workers and len(pool.queue) >= service.queue_capacity:
            result = REJECTED
        else:
            with pool.request() as worker:
                yield worker
                yield self.timeout(service.draw())
                if service.rng.random() < service.error_rate:
                    result = ERROR
                else:
                    result = SUCCESS
                    for dependency in service.calls:
                        if (yield from self.call(dependency)) != SUCCESS:
                            result = ERROR
                            break
        yield self.timeout(edge.latency)
        answer.succeed(result)

    def run(self):
        """Runs to the horizon; returns the wall-clock and CPU time taken."""
        env = self.env
        env.process(self.client())
        start, start_cpu = time.perf_counter(), time.process_time()
        env.run(until=self.horizon)
        return time.perf_counter() - start, time.process_time() - start_cpu

    def kernel_events(self):
        """Events SimPy processed: every event it scheduled (it numbers them)
        less those still queued. Relies on SimPy internals; None if absent."""
        eid, queue = getattr(self.env, "_eid", None), getattr(self.env, "_queue", None)
        if eid is None or queue is None:
            return None
        return next(eid) - len(queue)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="a Brownout scenario file (TOML)")
    parser.add_argument("seconds", nargs="?", type=float, default=10.0, help="simulated seconds per run")
    parser.add_argument("repeats", nargs="?", type=int, default=3, help="runs; the fastest is reported")
    args = parser.parse_args()
    with open(args.scenario, "rb") as f:
        scenario = tomllib.load(f)

    wall = cpu = math.inf
    for _ in range(max(1, args.repeats)):
        # Every run is the same run (same seed), so any one gives the counts.
        model = Model(scenario, args.seconds)
        run_wall, run_cpu = model.run()
        wall, cpu = min(wall, run_wall), min(cpu, run_cpu)
    print(json.dumps({
        "runner": "simpy",
        "simpy": simpy.__version__,
        "python": sys.version.split()[0],
        "sim_seconds": args.seconds,
        "events": model.events,
        "kernel_events": model.kernel_events(),
        "wall_s": round(wall, 6),
        "cpu_s": round(cpu, 6),
        "requests": model.requests,
        "successes": model.outcomes[SUCCESS],
        "errors": model.outcomes[ERROR],
        "timeouts": model.outcomes[TIMEOUT],
        "rejections": model.outcomes[REJECTED],
        "tries": model.tries,
        "retries": model.retries,
    }))


if __name__ == "__main__":
    main()
