//! Engine throughput on the benchmark model (`bench/five-services.toml`):
//! five services at 1,000 requests per second.
//!
//! Two figures come out of the same run:
//! - `five_services/events`: engine events per wall-clock second
//!   (criterion's `elem/s`), events being what [`Sim::events_processed`]
//!   counts: arrivals, message deliveries, work completions, try timers
//!   that are still live when due (a timer whose try was answered is
//!   dropped without being processed) and retry backoffs;
//! - `five_services/sim_seconds`: simulated seconds per wall-clock second
//!   (again `elem/s`), which does not depend on how events are counted.
//!
//! Run with `cargo bench -p brownout-sim --bench engine`. See
//! `bench/README.md` for the comparison with wasm and SimPy.

use std::hint::black_box;
use std::time::Duration;

use brownout_sim::time::SECOND;
use brownout_sim::{parse_scenario, Scenario, Sim};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};

/// Simulated seconds per measured iteration.
const SIMULATED_SECONDS: u64 = 10;

/// The benchmark model, read from the scenario file that the wasm runner
/// and the SimPy model read too, so the three measure one model.
pub fn five_services() -> Scenario {
    let text = include_str!("../../../bench/five-services.toml");
    parse_scenario(text).unwrap_or_else(|e| panic!("bench/five-services.toml:\n{e}"))
}

/// Runs the model for `seconds` simulated seconds and returns the finished
/// simulation.
fn run(scenario: &Scenario, seconds: u64) -> Sim {
    let mut sim = Sim::new(scenario.clone()).expect("the benchmark model is valid");
    sim.advance_to(seconds * SECOND);
    sim
}

fn engine(c: &mut Criterion) {
    let scenario = five_services();

    // One run outside the measurement: the event count is the throughput
    // unit (a deterministic run processes the same events every time), and
    // its totals show that the model runs stable, as intended.
    let sim = run(&scenario, SIMULATED_SECONDS);
    let events = sim.events_processed();
    let t = sim.metrics().totals();
    let client = &t.client;
    let retries: u64 = t.edges.iter().map(|e| e.retries).sum();
    println!(
        "five services, {SIMULATED_SECONDS} simulated s: {events} events \
         ({:.0} per simulated s), {} requests: {} ok, {} errors, {} timeouts, \
         {} rejected, {} in flight; {retries} retries",
        events as f64 / SIMULATED_SECONDS as f64,
        client.requests,
        client.successes,
        client.errors,
        client.timeouts,
        client.rejections,
        sim.requests_in_flight(),
    );

    let mut group = c.benchmark_group("five_services");
    // Each iteration takes tens of milliseconds: flat sampling, as criterion
    // advises for long iterations.
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .measurement_time(Duration::from_secs(10));
    let mut bench = |name: &str, throughput: Throughput| {
        group.throughput(throughput);
        group.bench_function(name, |b| {
            b.iter_batched(
                || Sim::new(scenario.clone()).expect("valid"),
                |mut sim| {
                    sim.advance_to(black_box(SIMULATED_SECONDS * SECOND));
                    // Returned, so that dropping it is not timed.
                    sim
                },
                BatchSize::PerIteration,
            )
        });
    };
    bench("events", Throughput::Elements(events));
    bench("sim_seconds", Throughput::Elements(SIMULATED_SECONDS));
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
