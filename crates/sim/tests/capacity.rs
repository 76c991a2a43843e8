//! Capacity that reacts: outlier detection routing around a dead instance,
//! and a horizontal autoscaler following the load.

use brownout_sim::capacity::{AutoscaleConfig, OutlierConfig};
use brownout_sim::chaos::{Chaos, Fault, FaultKind};
use brownout_sim::time::SECOND;
use brownout_sim::{
    CallSpec, Load, PolicyEventKind, RateChange, Scenario, ServiceSpec, ServiceTime, Sim, CLIENT,
};

const DB: usize = 1;
const API_DB: usize = 1;

fn graph() -> Scenario {
    Scenario {
        name: "capacity".into(),
        description: String::new(),
        seed: 5,
        duration_s: 60.0,
        load: Load { rate_per_sec: 100.0, ..Load::default() },
        services: vec![
            ServiceSpec {
                workers: 500,
                queue: 500,
                service_time: ServiceTime::Fixed { ms: 1.0 },
                ..ServiceSpec::named("api")
            },
            ServiceSpec {
                instances: 3,
                workers: 50,
                queue: 50,
                service_time: ServiceTime::Fixed { ms: 10.0 },
                ..ServiceSpec::named("db")
            },
        ],
        calls: vec![
            CallSpec { latency_ms: 2.0, timeout_ms: 5_000.0, ..CallSpec::between(CLIENT, "api") },
            CallSpec { latency_ms: 2.0, timeout_ms: 500.0, ..CallSpec::between("api", "db") },
        ],
        chaos: Chaos::default(),
        lesson: None,
    }
}

/// Share of client requests answered in seconds [from, to).
fn answered(sim: &Sim, from: u64, to: u64) -> f64 {
    let (mut ok, mut all) = (0, 0);
    for t in from..to {
        let c = sim.second_report(t).unwrap().client;
        ok += c.successes + c.degraded;
        all += c.successes + c.degraded + c.errors + c.timeouts + c.rejections;
    }
    ok as f64 / all as f64
}

#[test]
fn outlier_detection_routes_around_a_dead_instance() {
    let mut scenario = graph();
    scenario.chaos.faults.push(Fault {
        service: Some("db".into()),
        count: Some(1),
        ..Fault::new(FaultKind::KillInstances, 10.0, None)
    });
    let mut blind = Sim::new(scenario.clone()).unwrap();
    blind.advance_to(40 * SECOND);
    // Round-robin keeps sending a third of the tries to the dead instance.
    assert!((answered(&blind, 15, 40) - 2.0 / 3.0).abs() < 0.05);

    scenario.calls[API_DB].outlier_detection = Some(OutlierConfig {
        consecutive_5xx: 5,
        interval_ms: 10_000.0,
        base_ejection_ms: 30_000.0,
        max_ejection_ms: 300_000.0,
        // Envoy's default of 10 % would eject nothing among three hosts.
        max_ejection_percent: 50.0,
    });
    let mut watched = Sim::new(scenario).unwrap();
    watched.advance_to(40 * SECOND);
    let ejections: Vec<f64> = watched
        .metrics()
        .events()
        .filter_map(|e| match e.kind {
            PolicyEventKind::InstanceEjected { instance: 0, .. } => Some(e.at_us as f64 / 1e6),
            _ => None,
        })
        .collect();
    assert!(
        !ejections.is_empty() && ejections[0] < 10.5,
        "ejected soon after the kill: {ejections:?}"
    );
    // Five failures to eject; then the dead host is out for 30 s, returns
    // on a tick, fails five more and goes out for 60 s.
    assert!(answered(&watched, 11, 40) > 0.99, "{}", answered(&watched, 11, 40));
    let _ = DB;
}

#[test]
fn the_autoscaler_follows_the_load_up_and_back_down() {
    let mut scenario = graph();
    scenario.services[DB].instances = 1;
    scenario.services[DB].workers = 2;
    scenario.services[DB].queue = 200;
    scenario.services[DB].service_time = ServiceTime::Fixed { ms: 20.0 };
    scenario.services[DB].autoscale = Some(AutoscaleConfig {
        target_utilisation: 0.6,
        sync_period_s: 15.0,
        startup_s: 10.0,
        min_instances: 1,
        max_instances: 10,
        scale_down_stabilisation_s: 60.0,
        tolerance: 0.1,
    });
    // 40/s needs 0.8 of one instance (2 workers × 50/s); 240/s needs 4.8.
    scenario.load = Load {
        rate_per_sec: 40.0,
        schedule: vec![
            RateChange { at_s: 60.0, rate_per_sec: 240.0, ramp_s: 30.0 },
            RateChange { at_s: 240.0, rate_per_sec: 40.0, ramp_s: 0.0 },
        ],
        ..Load::default()
    };
    let mut sim = Sim::new(scenario).unwrap();
    sim.advance_to(220 * SECOND);
    let load = sim.service_load(DB);
    // 240/s × 20 ms = 4.8 busy workers, 2 per instance: at 60 % that is
    // 4 instances; the ramp overshoots to 5 and the stabilisation window
    // holds it there.
    assert!((4..=5).contains(&load.instances), "{load:?}");
    let report = sim.report();
    assert!(report.services[DB].utilisation < 0.9);
    sim.advance_to(400 * SECOND);
    let load = sim.service_load(DB);
    assert!(load.instances <= 3, "scaled back down: {load:?}");
    let scaled =
        sim.metrics().events().filter(|e| matches!(e.kind, PolicyEventKind::Scaled { .. })).count();
    assert!(scaled >= 2);
}
