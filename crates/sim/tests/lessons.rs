//! The lessons of the presets teach what they say: each experiment and its
//! comparison variant are run for the question's time, as the page runs
//! them side by side, and the lesson's effect shows in the figures the page
//! puts in its comparison table. The run must also answer the question with
//! the choice the lesson intends.

use brownout_sim::lesson::{self, Measure, Question};
use brownout_sim::phase::PhaseMap;
use brownout_sim::policy::BreakerState;
use brownout_sim::time::{from_secs, SECOND};
use brownout_sim::{parse_scenario, PolicyEventKind, Sim, PRESETS};

/// The page runs one simulated minute: a lesson must have shown its effect
/// and answered its question by then.
const PAGE_RUN_S: f64 = 60.0;

/// An experiment and its comparison, run side by side.
struct Lab {
    main: Sim,
    variant: Sim,
    question: Question,
}

fn toml(id: &str) -> &'static str {
    PRESETS.iter().find(|p| p.id == id).unwrap_or_else(|| panic!("no preset {id}")).toml
}

/// Runs a preset and its comparison variant for the question's `after_s`.
fn lab(id: &str) -> Lab {
    let text = toml(id);
    let scenario = parse_scenario(text).unwrap_or_else(|e| panic!("{id}: {e}"));
    let lesson = scenario.lesson.clone().unwrap_or_else(|| panic!("{id} has a lesson"));
    assert!(!lesson.title.is_empty(), "{id}");
    assert_eq!(lesson.summary.trim().lines().count(), 2, "{id}: a two-line summary");
    assert!((3..=4).contains(&lesson.notice.len()), "{id}: 3 or 4 prompts");
    assert!(!lesson.controls.is_empty(), "{id} names its controls");
    let question = lesson.question.unwrap_or_else(|| panic!("{id} asks a question"));
    assert_eq!(question.choices.len(), 3, "{id}: three choices");
    assert!(question.after_s <= PAGE_RUN_S, "{id} answers within the page's minute");
    let compare = lesson.compare.unwrap_or_else(|| panic!("{id} has a comparison"));
    assert!(!compare.set.is_empty() || !compare.unset.is_empty(), "{id}");
    let variant = lesson::variant(text).unwrap().expect("a variant");
    assert_eq!(variant.seed, scenario.seed, "{id}: the same seed");
    assert_eq!(variant.load, scenario.load, "{id}: the same load");
    let end = from_secs(question.after_s);
    let run = |scenario| {
        let mut sim = Sim::new(scenario).unwrap();
        sim.advance_to(end);
        sim
    };
    Lab { main: run(scenario), variant: run(variant), question }
}

/// The figure a measure names, over the run so far, as the page reads it.
fn measure(measure: &Measure, sim: &Sim) -> f64 {
    let client = &sim.metrics().totals().client;
    let share = |n: u64| 100.0 * n as f64 / client.finished() as f64;
    match measure {
        Measure::Amplification { service } => {
            let s = sim.scenario().services.iter().position(|spec| &spec.name == service).unwrap();
            sim.measured_amplification(s).expect("requests have settled")
        }
        Measure::SuccessPercent => share(client.successes),
        Measure::DegradedPercent => share(client.degraded),
        Measure::BreakerOpenings { from, to } => openings(sim, from, to) as f64,
        Measure::P99Ms => sim.metrics().client_latency().expect("requests ended").p99,
    }
}

/// How many times the breaker on a call opened.
fn openings(sim: &Sim, from: &str, to: &str) -> usize {
    let edge = sim
        .scenario()
        .calls
        .iter()
        .position(|call| call.from == from && call.to == to)
        .unwrap_or_else(|| panic!("no call from {from} to {to}"));
    sim.metrics()
        .events()
        .filter(|e| e.edge == Some(edge))
        .filter(|e| matches!(e.kind, PolicyEventKind::Breaker { to: BreakerState::Open, .. }))
        .count()
}

impl Lab {
    /// The question's answer in the main pane, and the choice nearest to it.
    fn answer(&self) -> (f64, f64) {
        let measured = measure(&self.question.measure, &self.main);
        let nearest = self
            .question
            .choices
            .iter()
            .copied()
            .min_by(|a, b| (a - measured).abs().total_cmp(&(b - measured).abs()))
            .unwrap();
        (measured, nearest)
    }

    fn assert_answer(&self, intended: f64) {
        let (measured, nearest) = self.answer();
        assert_eq!(nearest, intended, "measured {measured}, choices {:?}", self.question.choices);
    }
}

/// The comparison table's figures for one pane.
#[derive(Debug)]
struct Key {
    /// Answered in full, in per cent of the requests that ended.
    success: f64,
    /// Answered with fallbacks, in per cent.
    degraded: f64,
    p99_ms: f64,
    /// Attempts per settled request at the last service.
    amplification: Option<f64>,
    /// The busiest service's share of busy workers over the last seconds,
    /// in per cent.
    busiest: f64,
}

impl Key {
    fn of(sim: &Sim) -> Key {
        let client = &sim.metrics().totals().client;
        let share = |n: u64| 100.0 * n as f64 / client.finished() as f64;
        let (rates, _) = sim.metrics().recent_rates(sim.now());
        let busiest = rates
            .services
            .iter()
            .filter(|c| c.capacity_us > 0)
            .map(|c| 100.0 * c.busy_us as f64 / c.capacity_us as f64)
            .fold(0.0, f64::max);
        Key {
            success: share(client.successes),
            degraded: share(client.degraded),
            p99_ms: sim.metrics().client_latency().expect("requests ended").p99,
            amplification: sim.measured_amplification(sim.scenario().services.len() - 1),
            busiest,
        }
    }
}

fn service(sim: &Sim, name: &str) -> usize {
    sim.scenario().services.iter().position(|s| s.name == name).unwrap()
}

#[test]
fn retry_amplification_is_27_at_payments_and_the_budget_bounds_it() {
    let lab = lab("retry-budget");
    let (storm, budget) = (&lab.main, &lab.variant);
    let payments = service(storm, "payments");
    let (k, v) = (Key::of(storm), Key::of(budget));
    // Three tries at each of three hops: 27 attempts at payments, the last
    // service, without the budget; a few with it.
    let (at_27, bounded) = (k.amplification.unwrap(), v.amplification.unwrap());
    assert!((at_27 / 27.0 - 1.0).abs() <= 0.05 && bounded < 5.0, "{at_27} {bounded}");
    let amp = |s: &str| storm.measured_amplification(service(storm, s)).unwrap();
    assert!((amp("orders") / 9.0 - 1.0).abs() <= 0.05, "{}", amp("orders"));
    assert!((amp("gateway") / 3.0 - 1.0).abs() <= 0.05, "{}", amp("gateway"));
    lab.assert_answer(27.0);
    // The failure climbs the chain: every request fails, late, and the
    // busiest pool is the gateway's, held by callers waiting on retries.
    assert_eq!(k.success, 0.0, "{k:?}");
    assert!(k.p99_ms > 4_000.0 && v.p99_ms < 1_000.0, "{k:?} {v:?}");
    assert!(k.busiest > 50.0 && v.busiest < 5.0, "{k:?} {v:?}");
    let gateway = storm.second_report(29).unwrap().services[service(storm, "gateway")].utilisation;
    let bottom = storm.second_report(29).unwrap().services[payments].utilisation;
    assert!(gateway > 3.0 * bottom, "gateway {gateway}, payments {bottom}");
}

#[test]
fn bulkheads_keep_the_healthy_path_answering() {
    let lab = lab("bulkheads");
    let (with, without) = (Key::of(&lab.main), Key::of(&lab.variant));
    assert!(lab.variant.scenario().calls.iter().all(|c| c.bulkhead.is_none()));
    // More full answers with the bulkheads than without them, and every
    // request answered, most of them degraded by search's fallback.
    assert!(with.success > 1.5 * without.success, "{with:?} {without:?}");
    assert!(with.success + with.degraded > 99.0, "{with:?}");
    assert!(with.degraded > 50.0 && without.degraded < 1.0, "{with:?} {without:?}");
    assert!(without.success + without.degraded < 20.0, "{without:?}");
    // Without bulkheads api's pool is full, and the healthy profile is
    // called for fewer than half the requests.
    assert!(with.busiest < 80.0 && without.busiest > 99.0, "{with:?} {without:?}");
    let calls = |sim: &Sim| sim.report().edges[2].calls;
    assert_eq!(lab.main.scenario().calls[2].to, "profile");
    assert!(calls(&lab.variant) * 2 < calls(&lab.main), "profile is starved too");
    lab.assert_answer(31.0);
}

#[test]
fn fallbacks_turn_failed_pages_into_degraded_ones() {
    let lab = lab("degradation");
    let (graceful, strict) = (Key::of(&lab.main), Key::of(&lab.variant));
    assert!(graceful.degraded > 30.0 && strict.degraded == 0.0, "{graceful:?} {strict:?}");
    // The same pages are complete either way: a fallback does not make a
    // page whole, it makes a failed page a valid one.
    let (a, b) = (lab.main.report().client, lab.variant.report().client);
    assert_eq!(a.successes, b.successes);
    assert!(a.answered_rate.unwrap() > 0.99, "{a:?}");
    assert!(b.answered_rate.unwrap() < 0.7, "{b:?}");
    assert!(b.errors > 100 * a.errors, "{a:?} {b:?}");
    lab.assert_answer(34.0);
}

#[test]
fn the_game_day_runs_in_a_minute_and_the_breaker_outlasts_the_abort() {
    let lab = lab("chaos-game-day");
    let faults = &lab.main.scenario().chaos.faults;
    assert_eq!(faults.len(), 3);
    assert!(faults.iter().all(|f| f.end_s.is_some_and(|end| end <= PAGE_RUN_S)), "{faults:?}");
    for sim in [&lab.main, &lab.variant] {
        let chaos = sim.report().chaos;
        assert!(chaos.aborted, "the stress is aborted in both panes");
        let aborted = chaos
            .events
            .iter()
            .find(|e| matches!(e.kind, PolicyEventKind::ExperimentAborted { .. }))
            .unwrap()
            .t_s;
        let last = faults.last().unwrap();
        assert!(aborted > last.start_s && aborted < last.end_s.unwrap(), "{aborted}");
    }
    // The breaker opens in the stress and stays open past the abort, where
    // the pane without it recovers at once.
    assert!(openings(&lab.main, "orders", "payments") >= 1);
    let (with, without) = (Key::of(&lab.main), Key::of(&lab.variant));
    assert!(without.success > with.success + 5.0, "{with:?} {without:?}");
    let failed_after =
        |sim: &Sim| (41..46).map(|t| sim.second_report(t).unwrap().client.errors).sum::<u64>();
    assert!(failed_after(&lab.main) > 100, "{}", failed_after(&lab.main));
    assert_eq!(failed_after(&lab.variant), 0);
    lab.assert_answer(90.0);
}

#[test]
fn jitter_spreads_the_retries_that_come_back_as_a_herd() {
    let lab = lab("backoff-jitter");
    let (full, none) = (Key::of(&lab.main), Key::of(&lab.variant));
    assert!(full.success > none.success + 8.0, "{full:?} {none:?}");
    assert!(full.p99_ms < none.p99_ms, "{full:?} {none:?}");
    // The retries come back in waves without jitter: the busiest tenth of
    // a second holds far more of them.
    let peak = |sim: &Sim| {
        let mut slots = std::collections::HashMap::new();
        for event in sim.metrics().events() {
            if event.edge == Some(1) && matches!(event.kind, PolicyEventKind::Retry { .. }) {
                *slots.entry(event.at_us / (SECOND / 10)).or_insert(0u32) += 1;
            }
        }
        slots.values().copied().max().unwrap_or(0)
    };
    assert!(
        peak(&lab.main) * 5 < peak(&lab.variant) * 4,
        "{} {}",
        peak(&lab.main),
        peak(&lab.variant)
    );
    lab.assert_answer(96.0);
}

#[test]
fn a_consecutive_failures_breaker_trips_on_noise_and_a_failure_rate_one_does_not() {
    let lab = lab("breaker-noise");
    let consecutive = openings(&lab.main, "api", "ledger");
    let rate = openings(&lab.variant, "api", "ledger");
    assert!(consecutive >= 3 && rate == 0, "{consecutive} against {rate}");
    let (k, v) = (Key::of(&lab.main), Key::of(&lab.variant));
    assert!(k.success < 70.0 && v.success > 95.0, "{k:?} {v:?}");
    lab.assert_answer(6.0);
}

#[test]
fn the_breaker_opens_four_times_and_keeps_requests_answered() {
    let lab = lab("circuit-breaker");
    assert_eq!(openings(&lab.main, "shop", "pricing"), 4);
    assert_eq!(openings(&lab.variant, "shop", "pricing"), 0);
    let (with, without) = (Key::of(&lab.main), Key::of(&lab.variant));
    assert!(with.success + with.degraded > without.success + without.degraded + 20.0);
    assert!(with.p99_ms < without.p99_ms, "{with:?} {without:?}");
    lab.assert_answer(4.0);
}

#[test]
fn the_retry_storm_outlives_its_trigger_and_the_map_has_a_sharp_boundary() {
    let lab = lab("metastable");
    let (storm, budget) = (Key::of(&lab.main), Key::of(&lab.variant));
    assert!(storm.success < 20.0 && budget.success > 85.0, "{storm:?} {budget:?}");
    lab.assert_answer(17.0);

    let scenario = parse_scenario(toml("metastable")).unwrap();
    let spec = scenario.lesson.as_ref().and_then(|l| l.phase_map.clone()).expect("a phase map");
    let mut map = PhaseMap::new(&scenario, &spec).unwrap();
    map.run();
    let recovered: Vec<bool> =
        map.cells().iter().map(|c| c.outcome.expect("run").recovered).collect();
    assert!(recovered.contains(&true) && recovered.contains(&false), "{recovered:?}");
    // Within each size, the longer the stress, the more surely it sticks:
    // recovered, then stuck, and never back.
    for (i, size) in map.sizes().iter().enumerate() {
        let row: Vec<bool> = (0..map.lengths().len())
            .map(|j| map.cell(i, j).unwrap().outcome.unwrap().recovered)
            .collect();
        let flips = row.windows(2).filter(|w| w[0] != w[1]).count();
        assert!(flips == 0 || (flips == 1 && row[0]), "size {size}: {row:?}");
    }
}
