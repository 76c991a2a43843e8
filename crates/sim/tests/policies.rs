//! The resilience policies at work in whole scenarios: what each one is for,
//! shown by running the same load with and without it.

use brownout_sim::bulkhead::BulkheadConfig;
use brownout_sim::policy::backoff::{BackoffConfig, BackoffKind, Jitter};
use brownout_sim::policy::breaker::BreakerConfig;
use brownout_sim::policy::budget::RetryBudgetConfig;
use brownout_sim::time::SECOND;
use brownout_sim::{
    CallSpec, Layer, Load, PolicyEventKind, RateChange, Scenario, ServiceSpec, ServiceTime, Sim,
    CLIENT,
};

/// client → api → db, with roomy pools unless a test says otherwise.
fn two_hops(db_error_rate: f64) -> Scenario {
    Scenario {
        name: "two hops".into(),
        description: String::new(),
        seed: 3,
        duration_s: 60.0,
        load: Load { rate_per_sec: 50.0, ..Load::default() },
        services: vec![
            ServiceSpec {
                workers: 200,
                queue: 200,
                service_time: ServiceTime::Fixed { ms: 2.0 },
                ..ServiceSpec::named("api")
            },
            ServiceSpec {
                workers: 200,
                queue: 200,
                service_time: ServiceTime::Fixed { ms: 5.0 },
                error_rate: db_error_rate,
                ..ServiceSpec::named("db")
            },
        ],
        calls: vec![
            CallSpec { latency_ms: 1.0, timeout_ms: 10_000.0, ..CallSpec::between(CLIENT, "api") },
            CallSpec { latency_ms: 1.0, timeout_ms: 1_000.0, ..CallSpec::between("api", "db") },
        ],
        chaos: Default::default(),
        lesson: None,
    }
}

fn run(scenario: Scenario, seconds: u64) -> Sim {
    let mut sim = Sim::new(scenario).expect("valid scenario");
    sim.advance_to(seconds * SECOND);
    sim
}

const API_DB: usize = 1;
const API: usize = 0;
const DB: usize = 1;

fn breaker() -> BreakerConfig {
    BreakerConfig::FailureRate {
        sliding_window_type: brownout_sim::policy::breaker::SlidingWindowType::CountBased,
        sliding_window_size: 20,
        minimum_calls: 10,
        failure_rate_threshold: 50.0,
        slow_call_rate_threshold: 100.0,
        slow_call_duration_ms: 60_000.0,
        wait_in_open_ms: 5_000.0,
        permitted_calls_in_half_open: 3,
        max_wait_in_half_open_ms: 0.0,
        automatic_transition: false,
    }
}

#[test]
fn retry_outside_the_breaker_records_every_attempt() {
    // Every db attempt fails; three tries per call. With retry outside the
    // breaker (the default order), the breaker records each try; with the
    // breaker outside, it records each whole operation once.
    let mut scenario = two_hops(1.0);
    scenario.load.rate_per_sec = 5.0;
    let mut breaker = breaker();
    if let BreakerConfig::FailureRate { minimum_calls, sliding_window_size, .. } = &mut breaker {
        // Never trips: the window needs more calls than the run makes.
        *minimum_calls = 100_000;
        *sliding_window_size = 100_000;
    }
    scenario.calls[API_DB].retries = 2;
    scenario.calls[API_DB].breaker = Some(breaker);
    let recorded = |order: Vec<Layer>| {
        let mut s = scenario.clone();
        s.calls[API_DB].order = order;
        let sim = run(s, 20);
        let counters = sim.edge_policies(API_DB).unwrap().breaker_counters.unwrap();
        let edge = sim.metrics().totals().edges[API_DB];
        (counters.failures + counters.successes, edge.calls, edge.tries)
    };
    let (records, calls, tries) =
        recorded(vec![Layer::Retry, Layer::Breaker, Layer::Bulkhead, Layer::Timeout]);
    assert_eq!(tries, 3 * calls);
    assert_eq!(records, tries, "retry outside: one record per try");
    let (records, calls, _) =
        recorded(vec![Layer::Breaker, Layer::Retry, Layer::Bulkhead, Layer::Timeout]);
    assert_eq!(records, calls, "breaker outside: one record per operation");
}

#[test]
fn a_breaker_keeps_the_callers_workers_free_when_a_dependency_dies() {
    // db hangs: every call waits out the 1 s timeout. api has 20 workers and
    // gets 50 requests/s, so without a breaker 50 workers' worth of waiting
    // piles onto 20 and the pool exhausts.
    let mut scenario = two_hops(0.0);
    scenario.services[API].workers = 20;
    scenario.services[API].queue = 20;
    // db hangs: it takes every call and never answers in time.
    scenario.services[DB].workers = 100_000;
    scenario.services[DB].queue = 0;
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 30_000.0 };
    let without = run(scenario.clone(), 60);
    scenario.calls[API_DB].breaker = Some(breaker());
    let with = run(scenario, 60);

    let utilisation = |sim: &Sim| sim.report().services[API].utilisation;
    assert!(utilisation(&without) > 0.9, "no breaker: pool exhausted, {}", utilisation(&without));
    assert!(utilisation(&with) < 0.3, "breaker: workers free, {}", utilisation(&with));
    let totals = without.metrics().totals();
    assert!(totals.services[API].rejections.queue_full > 1_000, "no breaker: callers turned away");
    let refused = with
        .metrics()
        .events()
        .filter(|e| matches!(e.kind, PolicyEventKind::BreakerRejected))
        .count();
    assert!(refused > 1_000, "breaker: most calls fail fast ({refused})");
}

#[test]
fn a_token_bucket_budget_bounds_amplification_at_certain_failure() {
    // gRPC retry throttling: max 10 tokens, ratio 0.1. With every try
    // failing, each failure takes a token and retries stop once the bucket
    // is at half: amplification falls to about 1 instead of 4.
    let mut scenario = two_hops(1.0);
    scenario.calls[API_DB].retries = 3;
    let plain = run(scenario.clone(), 30).report();
    scenario.calls[API_DB].retry_budget =
        Some(RetryBudgetConfig::TokenBucket { max_tokens: 10.0, token_ratio: 0.1 });
    let budgeted = run(scenario, 30).report();
    let amp = |r: &brownout_sim::Report| r.services[DB].amplification.unwrap();
    assert!((amp(&plain) - 4.0).abs() < 0.05, "no budget: 4 tries per request, {}", amp(&plain));
    assert!(amp(&budgeted) < 1.01, "token bucket: retries stop, {}", amp(&budgeted));
}

#[test]
fn a_percentage_budget_caps_retries_to_a_share_of_active_requests() {
    // Envoy: concurrent retries at most 20 % of active requests (minimum
    // 3). db fails every try slowly, so hundreds of requests are active.
    let mut scenario = two_hops(1.0);
    scenario.load.rate_per_sec = 400.0;
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 200.0 };
    scenario.calls[API_DB].retries = 3;
    scenario.calls[API_DB].retry_budget =
        Some(RetryBudgetConfig::Percent { percent: 20.0, min_concurrency: 3 });
    let report = run(scenario, 30).report();
    let amp = report.services[DB].amplification.unwrap();
    assert!(amp > 1.05 && amp < 1.3, "about a fifth more tries than requests: {amp}");
}

fn retry_times(jitter: Jitter) -> Vec<f64> {
    // An outage: 200 requests arrive within 10 ms and every try fails at
    // once; each is retried three times with exponential backoff.
    let mut scenario = two_hops(1.0);
    scenario.load = Load {
        rate_per_sec: 20_000.0,
        schedule: vec![RateChange { at_s: 0.01, rate_per_sec: 0.0, ramp_s: 0.0 }],
        ..Load::default()
    };
    scenario.calls[API_DB].retries = 3;
    scenario.calls[API_DB].backoff = Some(BackoffConfig {
        kind: BackoffKind::Exponential,
        base_ms: 100.0,
        multiplier: 2.0,
        cap_ms: 2_000.0,
        jitter,
    });
    let sim = run(scenario, 10);
    sim.metrics()
        .events()
        .filter(|e| e.edge == Some(API_DB) && matches!(e.kind, PolicyEventKind::Retry { .. }))
        .map(|e| e.at_us as f64 / 1e6)
        .collect()
}

/// The largest share of retries sent within any one 20 ms slot.
fn peak_share(times: &[f64]) -> f64 {
    let mut slots = std::collections::HashMap::new();
    for t in times {
        *slots.entry((t / 0.02) as u64).or_insert(0u32) += 1;
    }
    *slots.values().max().unwrap() as f64 / times.len() as f64
}

#[test]
fn full_jitter_spreads_the_retries_that_no_jitter_synchronises() {
    let synchronised = retry_times(Jitter::None);
    let spread = retry_times(Jitter::Full);
    assert!(synchronised.len() > 500 && spread.len() > 500);
    assert!(peak_share(&synchronised) > 0.25, "no jitter: herds, {}", peak_share(&synchronised));
    assert!(peak_share(&spread) < 0.05, "full jitter: spread, {}", peak_share(&spread));
}

#[test]
fn a_caller_that_gives_up_leaves_orphaned_work_unless_it_cancels() {
    // db takes 300 ms; api waits only 100 ms per try.
    let mut scenario = two_hops(0.0);
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 300.0 };
    scenario.calls[API_DB].timeout_ms = 100.0;
    let left = run(scenario.clone(), 20).report();
    scenario.calls[API_DB].cancel_on_give_up = true;
    let cancelled = run(scenario, 20).report();
    assert!(left.services[DB].orphaned > 500, "{:?}", left.services[DB]);
    assert_eq!(left.services[DB].cancelled, 0);
    assert_eq!(cancelled.services[DB].orphaned, 0);
    assert!(cancelled.services[DB].cancelled > 500);
    assert!(
        cancelled.services[DB].utilisation < left.services[DB].utilisation / 2.0,
        "cancelling frees the callee's workers"
    );
}

#[test]
fn a_propagated_deadline_stops_work_nobody_waits_for() {
    // db's queue is long (2 workers for 50 requests/s of 30 ms work): tries
    // wait far past api's 200 ms timeout. With the deadline propagated, db
    // drops them instead of serving them.
    let mut scenario = two_hops(0.0);
    scenario.services[DB].workers = 1;
    scenario.services[DB].queue = 1_000;
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 30.0 };
    scenario.calls[API_DB].timeout_ms = 200.0;
    let plain = run(scenario.clone(), 30).report();
    scenario.calls[API_DB].propagate_deadline = true;
    let propagated = run(scenario, 30).report();
    assert!(plain.services[DB].orphaned > 100, "{:?}", plain.services[DB]);
    assert!(propagated.services[DB].rejections.deadline > 100, "{:?}", propagated.services[DB]);
    // Without the deadline, db serves stale tries first and nearly every
    // answer comes too late; with it, db skips them and answers in time.
    let (before, after) = (plain.client.successes, propagated.client.successes);
    assert!(after > 10 * before.max(1), "answers in time: {before} before, {after} after");
}

#[test]
fn an_enriching_call_degrades_the_answer_and_a_critical_one_fails_it() {
    let mut scenario = two_hops(1.0);
    let critical = run(scenario.clone(), 20).report();
    assert_eq!(critical.client.successes + critical.client.degraded, 0);
    assert!(critical.client.errors > 500);
    scenario.calls[API_DB].critical = false;
    let enriching = run(scenario, 20).report();
    assert_eq!(enriching.client.errors, 0);
    assert_eq!(enriching.client.successes, 0);
    assert!(enriching.client.degraded > 500, "{:?}", enriching.client);
    assert_eq!(enriching.edges[API_DB].fallbacks, enriching.edges[API_DB].failed_calls);
}

#[test]
fn a_critical_call_with_a_fallback_degrades_too() {
    let mut scenario = two_hops(1.0);
    scenario.calls[API_DB].fallback = Some(true);
    let report = run(scenario, 20).report();
    assert_eq!(report.client.errors, 0);
    assert!(report.client.degraded > 500);
}

#[test]
fn a_semaphore_bulkhead_sheds_calls_beyond_its_limit() {
    let mut scenario = two_hops(0.0);
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 100.0 };
    scenario.calls[API_DB].bulkhead =
        Some(BulkheadConfig::Semaphore { max_concurrent: 2, max_wait_ms: 0.0 });
    let report = run(scenario, 20).report();
    // 50/s × (100 ms + 2 ms of network) ≈ 5 in flight wanted, 2 allowed.
    assert!(report.client.errors > 300, "{:?}", report.client);
    let full = report.edges[API_DB]
        .events
        .iter()
        .filter(|e| matches!(e.kind, PolicyEventKind::BulkheadFull))
        .count();
    assert!(full > 300, "{full}");
    // Shed load is counted on the edge, with its cause.
    assert_eq!(report.edges[API_DB].bulkhead_full, full as u64);
    assert_eq!(report.edges[API_DB].breaker_rejected, 0);
    assert!(report.services[DB].attempts < report.client.requests / 2);
}

/// A bulkhead resized while the run goes on (a slider dragged back and
/// forth) keeps counting the calls that hold its permits: the callee never
/// serves more at once than the largest limit set.
#[test]
fn resizing_a_bulkhead_keeps_counting_the_calls_inside_it() {
    let semaphore = |max_concurrent| BulkheadConfig::Semaphore { max_concurrent, max_wait_ms: 0.0 };
    let mut scenario = two_hops(0.0);
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 100.0 };
    scenario.calls[API_DB].bulkhead = Some(semaphore(2));
    let mut sim = run(scenario, 2);
    let mut most = 0;
    for step in 0..40u64 {
        sim.set_bulkhead(API_DB, Some(semaphore(2 + (step % 2) as u32))).unwrap();
        sim.advance_to(2 * SECOND + (step + 1) * SECOND / 200);
        let (in_use, limit, _) = sim.edge_policies(API_DB).unwrap().bulkhead.unwrap();
        assert!(in_use <= 3 && limit <= 3, "step {step}: {in_use} permits of {limit}");
        most = most.max(sim.service_load(DB).busy_workers);
    }
    // The bulkhead was full throughout: 50/s want about 5 in flight.
    assert!((2..=3).contains(&most), "db served {most} at once");
    sim.advance_to(4 * SECOND);
    let (in_use, limit, _) = sim.edge_policies(API_DB).unwrap().bulkhead.unwrap();
    assert!(in_use <= limit, "{in_use} permits of {limit} once the drag is over");
}

/// A semaphore bulkhead turned into a pool while calls wait: the waiters
/// queue under the pool's bound and no longer give up by the semaphore's
/// clock; the ones beyond the bound are refused, and every request is
/// still accounted for.
#[test]
fn a_bulkhead_of_a_new_kind_puts_its_rules_to_the_calls_waiting() {
    let mut scenario = two_hops(0.0);
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 100.0 };
    scenario.calls[API_DB].bulkhead =
        Some(BulkheadConfig::Semaphore { max_concurrent: 2, max_wait_ms: 400.0 });
    let mut sim = run(scenario, 2);
    let (_, _, waiting) = sim.edge_policies(API_DB).unwrap().bulkhead.unwrap();
    assert!(waiting > 3, "calls wait at the semaphore: {waiting}");
    let full_before = sim.metrics().totals().edges[API_DB].bulkhead_full;

    sim.set_bulkhead(API_DB, Some(BulkheadConfig::ThreadPool { threads: 2, queue: 3 })).unwrap();
    let (in_use, limit, waiting) = sim.edge_policies(API_DB).unwrap().bulkhead.unwrap();
    assert_eq!((in_use, limit, waiting), (2, 2, 3), "the pool keeps three of them queued");
    let refused = sim.metrics().totals().edges[API_DB].bulkhead_full - full_before;
    assert!(refused >= 1, "the waiters beyond the queue are refused");

    sim.advance_to(6 * SECOND);
    let c = sim.metrics().totals().client;
    assert_eq!(c.requests, c.finished() + sim.requests_in_flight());
    let (in_use, limit, waiting) = sim.edge_policies(API_DB).unwrap().bulkhead.unwrap();
    assert!(in_use <= limit && waiting <= 3, "{in_use} of {limit}, {waiting} waiting");
}

#[test]
fn a_service_sheds_work_that_waited_too_long() {
    let mut scenario = two_hops(0.0);
    scenario.services[DB].workers = 1;
    scenario.services[DB].queue = 1_000;
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 30.0 };
    scenario.services[DB].shed_after_queue_ms = Some(100.0);
    let report = run(scenario, 20).report();
    assert!(report.services[DB].rejections.queue_time > 200, "{:?}", report.services[DB]);
    let served_wait = report.services[DB].mean_queue_wait_ms.unwrap();
    assert!(served_wait <= 100.0 + 30.0, "served tries waited at most the limit: {served_wait}");
}

#[test]
fn retried_non_idempotent_calls_count_duplicate_side_effects() {
    // db always succeeds but answers after the caller's timeout: a retry
    // repeats work that was already done.
    let mut scenario = two_hops(0.0);
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 150.0 };
    scenario.calls[API_DB].timeout_ms = 100.0;
    scenario.calls[API_DB].retries = 2;
    scenario.calls[API_DB].idempotent = false;
    let refused = run(scenario.clone(), 10).report();
    assert_eq!(refused.edges[API_DB].retries, 0, "non-idempotent calls are not retried by default");
    scenario.calls[API_DB].retry_non_idempotent = true;
    let retried = run(scenario, 10).report();
    assert!(retried.edges[API_DB].retries > 500);
    assert!(retried.services[DB].duplicate_side_effects > 500, "{:?}", retried.services[DB]);
}

#[test]
fn a_call_refused_by_its_breaker_is_not_retried_unless_configured() {
    let mut scenario = two_hops(1.0);
    scenario.calls[API_DB].retries = 2;
    // Breaker outside the retry sees operations; once open it refuses, and
    // the retry layer inside never runs, so only the default order matters
    // here: retry outside, breaker inside.
    scenario.calls[API_DB].breaker = Some(breaker());
    let report = run(scenario.clone(), 20).report();
    let refusals = report.edges[API_DB]
        .events
        .iter()
        .filter(|e| matches!(e.kind, PolicyEventKind::BreakerRejected))
        .count() as u64;
    assert!(refusals > 100);
    // Refusals are counted on the edge as well as logged.
    assert_eq!(report.edges[API_DB].breaker_rejected, refusals);
    assert_eq!(report.edges[API_DB].bulkhead_full + report.edges[API_DB].budget_exhausted, 0);
    // Each refused operation is one try-less attempt: no retries after it.
    let retries_after_refusal = report.edges[API_DB].retries;
    scenario.calls[API_DB].retry_on.push(brownout_sim::FailureKind::BreakerOpen);
    let retried = run(scenario, 20).report();
    let refusals_retried = retried.edges[API_DB]
        .events
        .iter()
        .filter(|e| matches!(e.kind, PolicyEventKind::BreakerRejected))
        .count() as u64;
    assert!(refusals_retried > refusals, "retrying refusals asks the breaker again");
    // By default every retry follows a try that reached db and failed
    // there; a refusal ends its operation.
    let failed_at_db = report.services[DB].errors + report.services[DB].timeouts;
    assert!(retries_after_refusal <= failed_at_db, "{retries_after_refusal} > {failed_at_db}");
    // An operation refused outright asks the breaker once by default, and
    // once per try (3) when refusals are retried.
    let asks_per_refused_operation = |report: &brownout_sim::Report| {
        let events = &report.edges[API_DB].events;
        let asked =
            events.iter().filter(|e| matches!(e.kind, PolicyEventKind::BreakerRejected)).count();
        let refused_outright = events
            .iter()
            .filter(|e| matches!(e.kind, PolicyEventKind::GaveUp { tries: 0 }))
            .count();
        asked as f64 / refused_outright as f64
    };
    let (once, thrice) =
        (asks_per_refused_operation(&report), asks_per_refused_operation(&retried));
    assert!((0.9..=1.1).contains(&once), "{once}");
    assert!((2.8..=3.2).contains(&thrice), "{thrice}");
}
