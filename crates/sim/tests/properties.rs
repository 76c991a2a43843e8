//! Properties that hold for every valid scenario, checked on random ones:
//! no panic, every client request ends exactly once, the per-second series
//! add up to the totals, the same seed gives the same report, and so does
//! the same run advanced in any steps or with every timer in the heap.

use brownout_sim::bulkhead::BulkheadConfig;
use brownout_sim::capacity::{AutoscaleConfig, OutlierConfig};
use brownout_sim::chaos::{Chaos, Fault, FaultKind, Hypothesis};
use brownout_sim::policy::backoff::{BackoffConfig, BackoffKind, Jitter};
use brownout_sim::policy::breaker::{BreakerConfig, SlidingWindowType};
use brownout_sim::policy::budget::RetryBudgetConfig;
use brownout_sim::time::SECOND;
use brownout_sim::{
    Arrivals, CallSpec, Counters, FailureKind, FanOut, Layer, Load, RateChange, Scenario,
    ScriptOutcome, ScriptStep, ServiceSpec, ServiceTime, Sim, CLIENT,
};
use proptest::prelude::*;

fn service_time() -> impl Strategy<Value = ServiceTime> {
    prop_oneof![
        (0.0..50.0).prop_map(|ms| ServiceTime::Fixed { ms }),
        (0.1..50.0).prop_map(|mean_ms| ServiceTime::Exponential { mean_ms }),
        (0.1..30.0, 0.0..1.5)
            .prop_map(|(median_ms, sigma)| ServiceTime::LogNormal { median_ms, sigma }),
    ]
}

fn script() -> impl Strategy<Value = Vec<ScriptStep>> {
    let step = (any::<bool>(), proptest::option::of(0.0..300.0)).prop_map(|(ok, ms)| ScriptStep {
        outcome: if ok { ScriptOutcome::Ok } else { ScriptOutcome::Error },
        ms,
    });
    prop_oneof![3 => Just(Vec::new()), 1 => proptest::collection::vec(step, 1..5)]
}

fn service(index: usize) -> impl Strategy<Value = ServiceSpec> {
    let shed = proptest::option::of(0.0..300.0);
    let autoscale =
        proptest::option::of((0.1..1.0, 0.5..5.0, 0.0..3.0, 1u32..4, 0.0..20.0).prop_map(
            |(target, period, startup, max, window)| AutoscaleConfig {
                target_utilisation: target,
                sync_period_s: period,
                startup_s: startup,
                min_instances: 1,
                max_instances: max,
                scale_down_stabilisation_s: window,
                tolerance: 0.1,
            },
        ));
    let shape = (1u32..3, 1u32..8, 0u32..20, service_time(), 0.0..=1.0, any::<bool>());
    (shape, script(), shed, autoscale).prop_map(
        move |(
            (instances, workers, queue, service_time, error_rate, parallel),
            script,
            shed,
            autoscale,
        )| {
            ServiceSpec {
                autoscale,
                shed_after_queue_ms: shed,
                instances,
                workers,
                queue,
                service_time,
                error_rate,
                fan_out: if parallel { FanOut::Parallel } else { FanOut::Sequential },
                script,
                ..ServiceSpec::named(&format!("s{index}"))
            }
        },
    )
}

fn breaker() -> impl Strategy<Value = Option<BreakerConfig>> {
    let rate = (any::<bool>(), 1u32..30, 1u32..20, 1.0..100.0, 1.0..100.0, 1.0..500.0)
        .prop_flat_map(|(time, size, minimum, failure, slow, slow_ms)| {
            let half_open = prop_oneof![Just(0.0), 1.0..2_000.0];
            (1.0..3_000.0, 1u32..5, half_open, any::<bool>()).prop_map(
                move |(wait, permitted, max_half_open, automatic)| BreakerConfig::FailureRate {
                    sliding_window_type: if time {
                        SlidingWindowType::TimeBased
                    } else {
                        SlidingWindowType::CountBased
                    },
                    sliding_window_size: size,
                    minimum_calls: minimum,
                    failure_rate_threshold: failure,
                    slow_call_rate_threshold: slow,
                    slow_call_duration_ms: slow_ms,
                    wait_in_open_ms: wait,
                    permitted_calls_in_half_open: permitted,
                    max_wait_in_half_open_ms: max_half_open,
                    automatic_transition: automatic,
                },
            )
        });
    let consecutive = (1u32..10, 1.0..3_000.0).prop_map(|(failures, wait_in_open_ms)| {
        BreakerConfig::ConsecutiveFailures { failures, wait_in_open_ms }
    });
    prop_oneof![2 => Just(None), 1 => rate.prop_map(Some), 1 => consecutive.prop_map(Some)]
}

fn bulkhead() -> impl Strategy<Value = Option<BulkheadConfig>> {
    let semaphore =
        (1u32..10, prop_oneof![Just(0.0), 1.0..200.0]).prop_map(|(max_concurrent, max_wait_ms)| {
            BulkheadConfig::Semaphore { max_concurrent, max_wait_ms }
        });
    let pool = (1u32..10, 0u32..10)
        .prop_map(|(threads, queue)| BulkheadConfig::ThreadPool { threads, queue });
    prop_oneof![2 => Just(None), 1 => semaphore.prop_map(Some), 1 => pool.prop_map(Some)]
}

fn budget() -> impl Strategy<Value = Option<RetryBudgetConfig>> {
    let bucket = (1.0..20.0, 0.01..1.0).prop_map(|(max_tokens, token_ratio)| {
        RetryBudgetConfig::TokenBucket { max_tokens, token_ratio }
    });
    let percent = (1.0..100.0, 0u32..5).prop_map(|(percent, min_concurrency)| {
        RetryBudgetConfig::Percent { percent, min_concurrency }
    });
    prop_oneof![2 => Just(None), 1 => bucket.prop_map(Some), 1 => percent.prop_map(Some)]
}

fn backoff() -> impl Strategy<Value = Option<BackoffConfig>> {
    let jitter = prop_oneof![
        Just(Jitter::None),
        Just(Jitter::Full),
        Just(Jitter::Equal),
        Just(Jitter::Decorrelated)
    ];
    let config = (any::<bool>(), 1.0..50.0, 1.0..4.0, 50.0..500.0, jitter).prop_map(
        |(exponential, base_ms, multiplier, cap_ms, jitter)| BackoffConfig {
            kind: if exponential { BackoffKind::Exponential } else { BackoffKind::Fixed },
            base_ms,
            multiplier,
            cap_ms,
            jitter,
        },
    );
    prop_oneof![Just(None), config.prop_map(Some)]
}

/// Every policy, in a random order of wrapping, at random settings.
fn call(from: String, to: String) -> impl Strategy<Value = CallSpec> {
    let basics = (0.0..40.0, 1.0..1_500.0, 0u32..4, 0.0..40.0);
    let order =
        Just(vec![Layer::Retry, Layer::Breaker, Layer::Bulkhead, Layer::Timeout]).prop_shuffle();
    let policies = (breaker(), bulkhead(), budget(), backoff(), order);
    let kinds = vec![
        FailureKind::Error,
        FailureKind::Timeout,
        FailureKind::Rejected,
        FailureKind::BulkheadFull,
        FailureKind::BreakerOpen,
    ];
    let outliers =
        proptest::option::of((1u32..6, 10.0..2_000.0, 10.0..3_000.0, 0.0..100.0).prop_map(
            |(consecutive_5xx, interval_ms, base_ejection_ms, max_ejection_percent)| {
                OutlierConfig {
                    consecutive_5xx,
                    interval_ms,
                    base_ejection_ms,
                    max_ejection_ms: base_ejection_ms * 4.0,
                    max_ejection_percent,
                }
            },
        ));
    let flags = (
        outliers,
        proptest::option::of(100.0..3_000.0),
        any::<[bool; 5]>(),
        proptest::option::of(any::<bool>()),
        proptest::sample::subsequence(kinds, 0..=5),
    );
    (basics, policies, flags).prop_map(move |(basics, policies, flags)| {
        let (latency_ms, timeout_ms, retries, backoff_ms) = basics;
        let (breaker, bulkhead, retry_budget, backoff, order) = policies;
        let (outlier_detection, deadline_ms, switches, fallback, retry_on) = flags;
        let [critical, idempotent, retry_non_idempotent, propagate, cancel] = switches;
        CallSpec {
            latency_ms,
            timeout_ms,
            retries,
            backoff_ms,
            backoff,
            retry_on,
            idempotent,
            retry_non_idempotent,
            retry_budget,
            breaker,
            bulkhead,
            deadline_ms,
            order,
            critical,
            fallback,
            propagate_deadline: propagate,
            cancel_on_give_up: cancel,
            outlier_detection,
            ..CallSpec::between(&from, &to)
        }
    })
}

/// A random directed acyclic graph: service i may call only services after
/// it, and the client calls the first.
fn scenario() -> impl Strategy<Value = Scenario> {
    (1usize..5)
        .prop_flat_map(|n| {
            let services: Vec<_> = (0..n).map(service).collect();
            let pairs: Vec<(usize, usize)> =
                (0..n).flat_map(|a| (a + 1..n).map(move |b| (a, b))).collect();
            let links = proptest::collection::vec(any::<bool>(), pairs.len());
            (services, Just(pairs), links)
        })
        .prop_flat_map(|(services, pairs, links)| {
            let mut calls = vec![call(CLIENT.into(), "s0".into()).boxed()];
            for (&(a, b), on) in pairs.iter().zip(links) {
                if on {
                    calls.push(call(format!("s{a}"), format!("s{b}")).boxed());
                }
            }
            let changes = proptest::collection::vec((0.0..15.0, 0.0..150.0, 0.0..5.0), 0..3);
            let rest = (0.0..150.0, any::<bool>(), changes, any::<u64>(), faults());
            (Just(services), calls, rest)
        })
        .prop_map(|(services, calls, (rate, constant, mut changes, seed, faults))| {
            changes.sort_by(|a: &(f64, f64, f64), b| a.0.total_cmp(&b.0));
            let chaos = chaos(faults, &services, &calls);
            Scenario {
                name: "random".into(),
                description: String::new(),
                seed,
                duration_s: 20.0,
                load: Load {
                    arrivals: if constant { Arrivals::Constant } else { Arrivals::Poisson },
                    rate_per_sec: rate,
                    schedule: changes
                        .into_iter()
                        .map(|(at_s, rate_per_sec, ramp_s)| RateChange {
                            at_s,
                            rate_per_sec,
                            ramp_s,
                        })
                        .collect(),
                },
                services,
                calls,
                chaos,
                lesson: None,
            }
        })
}

/// Raw draws for up to three faults: kind, target, start, length, and two
/// parameters in [0, 1) scaled to each kind's range.
type RawFault = (usize, usize, f64, f64, f64, f64);

fn faults() -> impl Strategy<Value = (Vec<RawFault>, Option<(f64, u32)>)> {
    let fault = (0usize..6, any::<usize>(), 0.0..15.0, 0.5..10.0, 0.0..1.0, 0.0..1.0);
    let hypothesis = proptest::option::of((0.0..1.0, 1u32..6));
    (proptest::collection::vec(fault, 0..3), hypothesis)
}

fn chaos(
    (raw, hypothesis): (Vec<RawFault>, Option<(f64, u32)>),
    services: &[ServiceSpec],
    calls: &[CallSpec],
) -> Chaos {
    let faults = raw
        .into_iter()
        .map(|(kind, target, start_s, length, a, b)| {
            let service = &services[target % services.len()];
            let call = &calls[target % calls.len()];
            let mut f = Fault::new(FaultKind::Errors, start_s, Some(start_s + length));
            let on_service = |f: &mut Fault| f.service = Some(service.name.clone());
            let on_call = |f: &mut Fault| {
                f.from = Some(call.from.clone());
                f.to = Some(call.to.clone());
            };
            match kind {
                0 => {
                    f.kind = FaultKind::KillInstances;
                    on_service(&mut f);
                    f.count = Some((a * (service.instances + 1) as f64) as u32);
                }
                1 => {
                    f.kind = FaultKind::NetworkLoss;
                    on_call(&mut f);
                    f.share = Some(a);
                }
                2 => {
                    f.kind = FaultKind::Latency;
                    on_call(&mut f);
                    f.added_ms = Some(a * 500.0);
                }
                3 => {
                    f.kind = FaultKind::CpuStress;
                    on_service(&mut f);
                    f.factor = Some(1.0 + a * 9.0);
                }
                4 => {
                    on_service(&mut f);
                    f.rate = Some(a);
                }
                _ => {
                    f.kind = FaultKind::Brownout;
                    on_service(&mut f);
                    f.share = Some(a);
                    f.factor = Some(1.0 + b * 20.0);
                }
            }
            f
        })
        .collect();
    let hypothesis =
        hypothesis.map(|(min_success_rate, window_s)| Hypothesis { min_success_rate, window_s });
    Chaos { faults, hypothesis }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn every_request_ends_exactly_once(scenario in scenario()) {
        let mut sim = Sim::new(scenario).expect("generated scenarios are valid");
        for t in 1..=20 {
            sim.advance_to(t * SECOND);
            let c = sim.metrics().totals().client;
            prop_assert_eq!(c.requests, c.finished() + sim.requests_in_flight());
        }
        // Without new load, every request ends: timeouts bound each try.
        sim.set_load(0.0).unwrap();
        sim.advance_to(60 * SECOND);
        prop_assert_eq!(sim.requests_in_flight(), 0);
        let c = sim.metrics().totals().client;
        prop_assert_eq!(c.requests, c.finished());
    }

    #[test]
    fn series_add_up_to_totals(scenario in scenario()) {
        let mut sim = Sim::new(scenario).expect("valid");
        sim.advance_to(20 * SECOND);
        let totals = sim.metrics().totals().clone();
        let mut sum = Counters {
            client: Default::default(),
            services: vec![Default::default(); totals.services.len()],
            edges: vec![Default::default(); totals.edges.len()],
            chaos: Default::default(),
        };
        for t in 0..20 {
            let second = sim.second_report(t).expect("every second is kept");
            let counts = Counters {
                client: second.client,
                services: second.services.iter().map(|s| s.counts).collect(),
                edges: second.edges.clone(),
                chaos: second.chaos,
            };
            sum.add(&counts);
        }
        prop_assert_eq!(sum, totals);
    }

    #[test]
    fn same_seed_same_report(scenario in scenario()) {
        let run = |s: Scenario| {
            let mut sim = Sim::new(s).unwrap();
            sim.advance_to(15 * SECOND);
            serde_json::to_string(&sim.report()).unwrap()
        };
        prop_assert_eq!(run(scenario.clone()), run(scenario));
    }

    /// How a run is cut into steps changes nothing in it. The page
    /// advances by what each frame allows (real time since the last frame,
    /// cut short after a hidden tab or a stall; a budget of events per
    /// frame), so this is what keeps a resumed tab or a slow frame from
    /// tripping a breaker or bursting the load: the run is the one a single
    /// advance over the same time gives.
    #[test]
    fn how_a_run_is_cut_into_steps_changes_nothing(
        scenario in scenario(),
        steps in proptest::collection::vec((1..3 * SECOND, 1..5_000u64), 1..40),
    ) {
        let end = 15 * SECOND;
        let mut whole = Sim::new(scenario.clone()).unwrap();
        whole.advance_to(end);
        let mut stepped = Sim::new(scenario).unwrap();
        for &(length, budget) in steps.iter().cycle() {
            if stepped.now() >= end {
                break;
            }
            stepped.advance_to_within((stepped.now() + length).min(end), budget);
        }
        prop_assert_eq!(stepped.now(), end);
        prop_assert_eq!(
            serde_json::to_string(&stepped.report()).unwrap(),
            serde_json::to_string(&whole.report()).unwrap()
        );
    }
}

/// A run of 15 simulated seconds, with every timer in the heap or not, and
/// the given per-try timeouts set on the way (at seconds 1 to 14: the edge,
/// taken modulo the number of edges, and the timeout in milliseconds).
/// Returns the report as JSON without `events_processed`, and that count.
fn run_with_timers(
    scenario: Scenario,
    in_heap: bool,
    timeouts: &[(u64, usize, f64)],
) -> (serde_json::Value, u64) {
    let edges = scenario.calls.len();
    let mut sim = Sim::new(scenario).expect("generated scenarios are valid");
    sim.set_timers_in_heap(in_heap);
    let mut timeouts = timeouts.to_vec();
    timeouts.sort_by_key(|&(at_s, ..)| at_s);
    for (at_s, edge, timeout_ms) in timeouts {
        sim.advance_to(at_s * SECOND);
        sim.set_timeout(edge % edges, timeout_ms).unwrap();
    }
    sim.advance_to(15 * SECOND);
    let mut report = serde_json::to_value(sim.report()).unwrap();
    let events = report
        .as_object_mut()
        .and_then(|r| r.remove("events_processed"))
        .and_then(|e| e.as_u64())
        .expect("the report counts events");
    assert_eq!(events, sim.events_processed());
    (report, events)
}

/// The switch does send timers to the heap: in the retry chain, where
/// nearly every try is answered before its timer, the heap run processes
/// the stale timers' no-op firings on top of the same run. Without this,
/// the property below could pass with a switch that does nothing.
#[test]
fn timers_in_heap_fire_stale_timers_too() {
    let (queued, queued_events) = run_with_timers(Scenario::retry_chain(), false, &[]);
    let (heap, heap_events) = run_with_timers(Scenario::retry_chain(), true, &[]);
    assert_eq!(queued, heap);
    assert!(
        heap_events > queued_events,
        "{heap_events} events in the heap run, {queued_events} queued"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    /// The timer queues change nothing but the count of events: the run
    /// with try timers and deadlines in per-edge queues is the run with
    /// every timer in the heap (the engine before the queues), except that
    /// stale timers are dropped without a no-op firing, so the queued run
    /// processes no more events. Live timeout changes are thrown in, since
    /// a timer due before the last one queued on its edge takes the heap.
    #[test]
    fn timer_queues_fire_what_the_heap_would(
        scenario in scenario(),
        timeouts in proptest::collection::vec((1..15u64, any::<usize>(), 1.0..2_000.0), 0..4),
    ) {
        let (queued, queued_events) = run_with_timers(scenario.clone(), false, &timeouts);
        let (heap, heap_events) = run_with_timers(scenario, true, &timeouts);
        prop_assert_eq!(queued.to_string(), heap.to_string());
        prop_assert!(
            queued_events <= heap_events,
            "{} events queued, {} in the heap", queued_events, heap_events
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Policies switched on and off while calls are under way: every
    /// request still ends exactly once.
    #[test]
    fn live_policy_changes_keep_every_request(
        scenario in scenario(),
        changes in proptest::collection::vec((breaker(), bulkhead(), budget(), 1.0..2_000.0), 3),
    ) {
        let edges = scenario.calls.len();
        let mut sim = Sim::new(scenario).expect("valid");
        for (step, (breaker, bulkhead, budget, timeout)) in changes.into_iter().enumerate() {
            sim.advance_to((step as u64 + 1) * 4 * SECOND);
            let edge = step % edges;
            sim.set_breaker(edge, breaker).unwrap();
            sim.set_bulkhead(edge, bulkhead).unwrap();
            sim.set_retry_budget(edge, budget).unwrap();
            sim.set_timeout(edge, timeout).unwrap();
            let c = sim.metrics().totals().client;
            prop_assert_eq!(c.requests, c.finished() + sim.requests_in_flight());
        }
        sim.set_load(0.0).unwrap();
        sim.advance_to(80 * SECOND);
        prop_assert_eq!(sim.requests_in_flight(), 0);
    }
}
