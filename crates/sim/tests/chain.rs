//! The first-light chain: determinism, conservation and the amplification
//! lesson, checked on the running simulation.

use brownout_sim::time::SECOND;
use brownout_sim::{CallSpec, Scenario, Sim};

const PAYMENTS: usize = 2;

/// The retry chain with pools large enough that no try ever queues past its
/// timeout or is rejected, whatever the retries: amplification is then the
/// retry policy's alone.
fn roomy_chain(error_rate: f64, retries: u32) -> Scenario {
    let mut s = Scenario::retry_chain();
    for service in &mut s.services {
        service.workers = 2_000;
        service.queue = 2_000;
    }
    for call in &mut s.calls {
        call.retries = retries;
        call.timeout_ms = 600_000.0;
    }
    s.services[PAYMENTS].error_rate = error_rate;
    s
}

/// Runs for `secs` seconds, then stops the load and lets every request end.
fn run_and_drain(scenario: Scenario, secs: u64) -> Sim {
    let mut sim = Sim::new(scenario).expect("valid scenario");
    sim.advance_to(secs * SECOND);
    sim.set_load(0.0).unwrap();
    sim.advance_to((secs + 120) * SECOND);
    assert_eq!(sim.requests_in_flight(), 0, "drained");
    sim
}

/// The digest of the default chain's counters after 30 simulated seconds.
/// The app's browser tests assert the same value, so the run is proven the
/// same on native and on wasm. A change to the model changes it: update both.
const RETRY_CHAIN_DIGEST_30S: u64 = 2_497_340_286_623_273_329;

#[test]
fn same_seed_same_run() {
    let run = || {
        let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
        sim.advance_to(30 * SECOND);
        sim.set_error_rate(PAYMENTS, 0.7).unwrap();
        sim.advance_to(40 * SECOND);
        (sim.metrics().totals().clone(), sim.events_processed(), sim.dots().count())
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(a.0.client.requests > 300, "the run did something: {:?}", a.0.client);
}

#[test]
fn another_seed_another_run() {
    let mut other = Scenario::retry_chain();
    other.seed += 1;
    let digest = |s: Scenario| {
        let mut sim = Sim::new(s).unwrap();
        sim.advance_to(30 * SECOND);
        sim.metrics().totals().digest()
    };
    assert_ne!(digest(Scenario::retry_chain()), digest(other));
}

#[test]
fn default_chain_digest_is_pinned() {
    let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
    sim.advance_to(30 * SECOND);
    assert_eq!(sim.metrics().totals().digest(), RETRY_CHAIN_DIGEST_30S);
}

#[test]
fn every_request_is_counted_once() {
    let mut scenario = Scenario::retry_chain();
    // Tight enough to produce every outcome: errors, timeouts, rejections.
    scenario.services[PAYMENTS].error_rate = 0.9;
    scenario.calls[0].retries = 0;
    scenario.services[0].workers = 10;
    scenario.services[0].queue = 4;
    scenario.calls[0].timeout_ms = 1_400.0;
    scenario.load.rate_per_sec = 12.0;
    let mut sim = Sim::new(scenario).unwrap();
    for step in 1..=60 {
        sim.advance_to(step * SECOND);
        let client = sim.metrics().totals().client;
        assert_eq!(client.requests, client.finished() + sim.requests_in_flight(), "at {step} s");
    }
    let client = sim.metrics().totals().client;
    assert!(client.successes > 0 && client.errors > 0, "{client:?}");
    assert!(client.timeouts > 0 && client.rejections > 0, "{client:?}");
}

#[test]
fn amplification_at_certain_failure_is_tries_to_the_hops() {
    for retries in 0..=3u32 {
        let sim = run_and_drain(roomy_chain(1.0, retries), 20);
        let totals = sim.metrics().totals();
        let requests = totals.client.requests;
        assert!(requests > 100);
        assert_eq!(totals.client.errors, requests, "every request fails");
        let tries = (retries + 1) as u64;
        for (service, hops) in [(0, 1), (1, 2), (2, 3)] {
            assert_eq!(
                totals.services[service].attempts,
                requests * tries.pow(hops),
                "service {service} with {retries} retries"
            );
        }
    }
}

#[test]
fn live_amplification_reads_tries_to_the_hops() {
    let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
    sim.advance_to(10 * SECOND);
    assert_eq!(sim.measured_amplification(PAYMENTS).map(|a| a < 2.0), Some(true));
    sim.set_error_rate(PAYMENTS, 1.0).unwrap();
    assert_eq!(sim.measured_amplification(PAYMENTS), None, "measurement restarts on a change");
    sim.advance_to(40 * SECOND);
    assert_eq!(sim.measured_amplification(PAYMENTS), Some(27.0));
    assert_eq!(sim.measured_amplification(1), Some(9.0));
}

/// The per-second record of settled requests, which the page charts: each
/// second's requests with the attempts they caused, so that at certain
/// failure every second reads (r + 1)^d exactly; unlike the measured
/// amplification, a change does not wipe the seconds before it.
#[test]
fn each_second_of_settled_requests_reads_tries_to_the_hops() {
    let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
    sim.advance_to(10 * SECOND);
    sim.set_error_rate(PAYMENTS, 1.0).unwrap();
    sim.advance_to(40 * SECOND);
    let series = sim.metrics().settled_series();
    let per_request = |s: u64| {
        let b = series.get(s).filter(|b| b.requests > 0)?;
        Some(b.attempts[PAYMENTS] as f64 / b.requests as f64)
    };
    // Before the change: about one attempt a request (10 % errors, retried).
    let early: Vec<f64> = (2..10).filter_map(per_request).collect();
    assert!(early.len() >= 6 && early.iter().all(|&a| (1.0..2.0).contains(&a)), "{early:?}");
    // Well after it: 27 in every second, no more, no less.
    for s in 20..40 {
        assert_eq!(per_request(s), Some(27.0), "second {s}");
    }
    let settled: u64 = (0..40).filter_map(|s| series.get(s)).map(|b| b.requests).sum();
    let totals = sim.metrics().totals();
    assert!(settled <= totals.client.requests && settled + 100 > totals.client.requests);
}

#[test]
fn no_retries_without_errors() {
    let sim = run_and_drain(roomy_chain(0.0, 3), 20);
    let totals = sim.metrics().totals();
    let requests = totals.client.requests;
    assert_eq!(totals.client.successes, requests);
    for service in &totals.services {
        assert_eq!(service.attempts, requests);
        assert_eq!(service.errors + service.timeouts + service.rejections.total(), 0);
    }
}

#[test]
fn measured_attempts_match_expectation_below_certain_failure() {
    // Tries per hop n = 3 over d = 3 hops, payments failing with p. A try
    // at depth j fails only if everything below it fails: with probability
    // f_j = p^(n^(d − j)). Hop j then makes (1 − f_j^n) / (1 − f_j) tries
    // on average per call, and the attempts at depth k are the product of
    // those means over hops 1..k.
    let (n, d) = (3i32, 3i32);
    for p in [0.3, 0.5, 0.8] {
        let sim = run_and_drain(roomy_chain(p, 2), 2_000);
        let totals = sim.metrics().totals();
        let requests = totals.client.requests as f64;
        let mut expected = 1.0;
        for k in 1..=d {
            let f = p.powi(n.pow((d - k) as u32));
            expected *= (1.0 - f.powi(n)) / (1.0 - f);
            let measured = totals.services[(k - 1) as usize].attempts as f64 / requests;
            assert!(
                (measured / expected - 1.0).abs() < 0.02,
                "p = {p}, depth {k}: {measured} vs {expected}"
            );
        }
        // The bottom agrees with the closed form too.
        let closed = brownout_sim::theory::expected_attempts(p, 3, 3);
        assert!((expected / closed - 1.0).abs() < 1e-9);
    }
}

#[test]
fn refuses_bad_live_changes() {
    let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
    assert!(sim.set_error_rate(PAYMENTS, 1.5).is_err());
    assert!(sim.set_error_rate(PAYMENTS, f64::NAN).is_err());
    assert!(sim.set_error_rate(9, 0.5).is_err());
    assert!(sim.set_load(-1.0).is_err());
    assert!(sim.set_retries(11).is_err());
    assert_eq!(sim.scenario().services[PAYMENTS].error_rate, 0.1, "unchanged");
}

#[test]
fn invalid_scenarios_list_every_problem() {
    let mut s = Scenario::retry_chain();
    s.services[0].workers = 0;
    s.services[1].error_rate = f64::NAN;
    s.calls.push(CallSpec { from: "gateway".into(), to: "ledger".into(), ..s.calls[1].clone() });
    s.calls.push(CallSpec { from: "payments".into(), to: "gateway".into(), ..s.calls[1].clone() });
    let err = Sim::new(s).err().expect("refused");
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["services[0].workers", "services[1].error_rate", "calls[3].to", "calls"]);
    assert!(err.problems[3].message.contains("cycle"), "{}", err.problems[3].message);
}
