//! The simulation against queueing theory: M/M/1 and M/M/3 queues must
//! reproduce the analytic mean wait in queue (Erlang C) and Little's law.
//!
//! One service with `c` workers and an effectively unbounded queue, Poisson
//! arrivals, exponential service times with a mean of 10 ms (μ = 100/s), no
//! network latency, timeouts or retries: exactly an M/M/c queue.

use brownout_sim::theory::mmc_mean_wait;
use brownout_sim::time::SECOND;
use brownout_sim::{CallSpec, Load, Scenario, ServiceSpec, ServiceTime, Sim, CLIENT};

const MU: f64 = 100.0;

fn mmc(workers: u32, utilisation: f64, seed: u64) -> Scenario {
    let lambda = utilisation * workers as f64 * MU;
    Scenario {
        name: format!("M/M/{workers} at ρ = {utilisation}"),
        description: String::new(),
        seed,
        duration_s: 1.0,
        load: Load { rate_per_sec: lambda, ..Load::default() },
        services: vec![ServiceSpec {
            workers,
            queue: 1_000_000,
            service_time: ServiceTime::Exponential { mean_ms: 1_000.0 / MU },
            ..ServiceSpec::named("server")
        }],
        calls: vec![CallSpec {
            latency_ms: 0.0,
            timeout_ms: 86_400_000.0,
            ..CallSpec::between(CLIENT, "server")
        }],
        chaos: Default::default(),
        lesson: None,
    }
}

struct Measured {
    /// Mean wait in queue, seconds.
    wq: f64,
    /// Time-average number waiting, and arrival rate times mean wait.
    lq: f64,
    lambda_wq: f64,
    /// Time-average number in the system, and arrival rate times mean time
    /// in the system.
    l: f64,
    lambda_w: f64,
}

fn measure(workers: u32, utilisation: f64, seconds: u64, seed: u64) -> Measured {
    let mut sim = Sim::new(mmc(workers, utilisation, seed)).unwrap();
    sim.advance_to(seconds * SECOND);
    let c = sim.metrics().totals().services[0];
    let span = seconds as f64;
    let lambda = c.attempts as f64 / span;
    let wq = c.queue_wait_us as f64 / c.started as f64 / 1e6;
    let w = sim.metrics().service_latency(0).unwrap().mean / 1e3;
    Measured {
        wq,
        lq: c.queued_us as f64 / 1e6 / span,
        lambda_wq: lambda * wq,
        l: (c.busy_us + c.queued_us) as f64 / 1e6 / span,
        lambda_w: lambda * w,
    }
}

fn within(measured: f64, expected: f64, tolerance: f64) -> bool {
    (measured / expected - 1.0).abs() <= tolerance
}

fn check(workers: u32, utilisation: f64, seconds: u64) {
    let lambda = utilisation * workers as f64 * MU;
    let expected = mmc_mean_wait(lambda, MU, workers).unwrap();
    let m = measure(workers, utilisation, seconds, 7);
    let label = format!("M/M/{workers} at ρ = {utilisation}");
    assert!(within(m.wq, expected, 0.03), "{label}: Wq {} s, Erlang C {} s", m.wq, expected);
    assert!(within(m.lq, m.lambda_wq, 0.03), "{label}: Lq {} vs λWq {}", m.lq, m.lambda_wq);
    // The histogram's mean carries its 1 % resolution; Little's law holds
    // within that.
    assert!(within(m.l, m.lambda_w, 0.03), "{label}: L {} vs λW {}", m.l, m.lambda_w);
    let expected_l = lambda * (expected + 1.0 / MU);
    assert!(within(m.l, expected_l, 0.03), "{label}: L {} vs theory {}", m.l, expected_l);
}

// Run lengths: the standard error of a mean wait grows steeply with
// utilisation (waits are long and strongly correlated near saturation), so
// the busiest cases run longest. At these lengths the error over several
// seeds stayed within 1.7 %.

#[test]
fn mm1_at_half_load() {
    check(1, 0.5, 20_000);
}

#[test]
fn mm1_at_80_percent() {
    check(1, 0.8, 30_000);
}

#[test]
fn mm1_at_90_percent() {
    check(1, 0.9, 60_000);
}

#[test]
fn mm3_at_half_load() {
    check(3, 0.5, 10_000);
}

#[test]
fn mm3_at_80_percent() {
    check(3, 0.8, 15_000);
}

#[test]
fn mm3_at_90_percent() {
    check(3, 0.9, 30_000);
}
