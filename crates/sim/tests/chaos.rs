//! Chaos faults and the steady-state hypothesis, each shown on a small
//! graph: client → api → db.

use brownout_sim::chaos::{Chaos, Fault, FaultKind, Hypothesis};
use brownout_sim::time::SECOND;
use brownout_sim::{
    CallSpec, Load, PolicyEventKind, Scenario, ServiceSpec, ServiceTime, Sim, CLIENT,
};

const API: usize = 0;
const DB: usize = 1;
const API_DB: usize = 1;

fn graph(faults: Vec<Fault>, hypothesis: Option<Hypothesis>) -> Scenario {
    Scenario {
        name: "chaos".into(),
        description: String::new(),
        seed: 11,
        duration_s: 60.0,
        load: Load { rate_per_sec: 100.0, ..Load::default() },
        services: vec![
            ServiceSpec {
                workers: 200,
                queue: 200,
                service_time: ServiceTime::Fixed { ms: 1.0 },
                ..ServiceSpec::named("api")
            },
            ServiceSpec {
                instances: 2,
                workers: 100,
                queue: 100,
                service_time: ServiceTime::Fixed { ms: 10.0 },
                ..ServiceSpec::named("db")
            },
        ],
        calls: vec![
            CallSpec { latency_ms: 2.0, timeout_ms: 5_000.0, ..CallSpec::between(CLIENT, "api") },
            CallSpec { latency_ms: 2.0, timeout_ms: 500.0, ..CallSpec::between("api", "db") },
        ],
        chaos: Chaos { faults, hypothesis },
        lesson: None,
    }
}

fn fault(kind: FaultKind, start_s: f64, end_s: f64) -> Fault {
    Fault::new(kind, start_s, Some(end_s))
}

fn on_db(kind: FaultKind) -> Fault {
    Fault { service: Some("db".into()), ..fault(kind, 10.0, 20.0) }
}

fn on_api_db(kind: FaultKind) -> Fault {
    Fault { from: Some("api".into()), to: Some("db".into()), ..fault(kind, 10.0, 20.0) }
}

fn run(scenario: Scenario, seconds: u64) -> Sim {
    let mut sim = Sim::new(scenario).expect("valid");
    sim.advance_to(seconds * SECOND);
    sim
}

/// Client requests answered and sent in seconds [from, to).
fn answered_share(sim: &Sim, from: u64, to: u64) -> f64 {
    let (mut answered, mut finished) = (0, 0);
    for t in from..to {
        let s = sim.second_report(t).unwrap();
        answered += s.client.successes + s.client.degraded;
        finished += s.client.successes
            + s.client.degraded
            + s.client.errors
            + s.client.timeouts
            + s.client.rejections;
    }
    answered as f64 / finished as f64
}

#[test]
fn killing_one_of_two_instances_fails_half_the_tries_until_it_restarts() {
    let kill = Fault { count: Some(1), ..on_db(FaultKind::KillInstances) };
    let sim = run(graph(vec![kill], None), 30);
    let report = sim.report();
    let down = report.services[DB].rejections.instance_down;
    // Round-robin keeps sending half the tries to the dead instance.
    assert!(down > 400 && down < 600, "{down}");
    assert!((answered_share(&sim, 11, 20) - 0.5).abs() < 0.1);
    assert_eq!(answered_share(&sim, 21, 30), 1.0, "restarted");
    assert_eq!(sim.second_report(10).unwrap().chaos.faults_started, 1, "a marker in the series");
    assert_eq!(sim.second_report(20).unwrap().chaos.faults_ended, 1);
}

#[test]
fn killing_every_instance_loses_the_work_on_them() {
    let mut kill = Fault { count: Some(0), ..on_db(FaultKind::KillInstances) };
    kill.start_s = 10.005;
    let sim = run(graph(vec![kill], None), 30);
    let report = sim.report();
    assert!(report.services[DB].lost > 0, "work in progress was lost: {:?}", report.services[DB]);
    assert_eq!(answered_share(&sim, 11, 20), 0.0);
    assert_eq!(answered_share(&sim, 21, 30), 1.0);
}

#[test]
fn network_loss_drops_its_share_and_callers_time_out() {
    let loss = Fault { share: Some(0.3), ..on_api_db(FaultKind::NetworkLoss) };
    let sim = run(graph(vec![loss], None), 30);
    let edge = sim.report().edges[API_DB].clone();
    let tries: u64 = (10..20).map(|t| sim.second_report(t).unwrap().edges[API_DB].tries).sum();
    // A try is two messages, each dropped with probability 0.3: 0.3 of the
    // requests and 0.7 × 0.3 of the responses, 0.51 of the tries in all,
    // and every try that lost a message times out.
    let lost = edge.lost_messages as f64 / tries as f64;
    assert!((lost - 0.51).abs() < 0.06, "{lost}");
    assert_eq!(edge.timeouts, edge.lost_messages);
}

#[test]
fn added_latency_slows_every_call_on_the_link() {
    let slow = Fault { added_ms: Some(100.0), ..on_api_db(FaultKind::Latency) };
    let sim = run(graph(vec![slow], None), 30);
    let p50 = |t: u64| sim.second_report(t).unwrap().client_latency_ms.unwrap().p50;
    assert!(p50(5) < 25.0, "{}", p50(5));
    // Both directions: 200 ms more per request.
    assert!((p50(15) - p50(5) - 200.0).abs() < 5.0, "{} vs {}", p50(15), p50(5));
}

#[test]
fn cpu_stress_multiplies_the_work() {
    let stress = Fault { factor: Some(4.0), ..on_db(FaultKind::CpuStress) };
    let sim = run(graph(vec![stress], None), 30);
    let p50 = |t: u64| sim.second_report(t).unwrap().services[DB].latency_ms.unwrap().p50;
    assert!((p50(15) / p50(5) - 4.0).abs() < 0.2, "{} vs {}", p50(15), p50(5));
}

#[test]
fn injected_errors_fail_their_share() {
    let errors = Fault { rate: Some(0.4), ..on_db(FaultKind::Errors) };
    let sim = run(graph(vec![errors], None), 30);
    assert!((answered_share(&sim, 10, 20) - 0.6).abs() < 0.05);
    assert_eq!(answered_share(&sim, 0, 10), 1.0);
}

#[test]
fn a_brownout_slows_a_share_of_the_tries() {
    let brownout = Fault { share: Some(0.2), factor: Some(30.0), ..on_db(FaultKind::Brownout) };
    let sim = run(graph(vec![brownout], None), 30);
    let db = |t: u64| sim.second_report(t).unwrap().services[DB].latency_ms.unwrap();
    // 20 % take 300 ms: the median stays, the p90 jumps.
    assert!(db(15).p50 < 20.0 && db(15).p90 > 250.0, "{:?}", db(15));
}

#[test]
fn a_failed_hypothesis_aborts_the_experiment_and_ends_its_faults() {
    let errors = Fault { rate: Some(1.0), end_s: Some(50.0), ..on_db(FaultKind::Errors) };
    let hypothesis = Hypothesis { min_success_rate: 0.95, window_s: 5 };
    let sim = run(graph(vec![errors], Some(hypothesis)), 40);
    let report = sim.report();
    assert!(report.chaos.aborted);
    let aborted_at = report
        .chaos
        .events
        .iter()
        .find(|e| matches!(e.kind, PolicyEventKind::ExperimentAborted { .. }))
        .map(|e| e.t_s)
        .expect("an abort event");
    assert!((11.0..=12.0).contains(&aborted_at), "aborted at {aborted_at}");
    assert_eq!(answered_share(&sim, 13, 40), 1.0, "faults ended: the system recovers");
    let ended = report
        .chaos
        .events
        .iter()
        .filter(|e| matches!(e.kind, PolicyEventKind::FaultEnded { .. }))
        .count();
    assert_eq!(ended, 1);
    assert!(sim.report().client.errors > 0);
    let _ = API;
}

#[test]
fn a_held_hypothesis_lets_the_experiment_run_to_its_end() {
    let errors = Fault { rate: Some(0.01), ..on_db(FaultKind::Errors) };
    let hypothesis = Hypothesis { min_success_rate: 0.9, window_s: 5 };
    let report = run(graph(vec![errors], Some(hypothesis)), 30).report();
    assert!(!report.chaos.aborted);
    assert_eq!(report.chaos.events.len(), 2, "started and ended on schedule");
}

#[test]
fn faults_are_checked_against_the_graph() {
    let bad = vec![
        Fault { service: Some("cache".into()), ..fault(FaultKind::CpuStress, 1.0, 2.0) },
        Fault {
            from: Some("db".into()),
            to: Some("api".into()),
            share: Some(1.5),
            ..fault(FaultKind::NetworkLoss, 5.0, 4.0)
        },
    ];
    let err = Sim::new(graph(bad, None)).err().expect("refused");
    let fields: Vec<&str> = err.problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(
        fields,
        [
            "chaos.faults[0].factor",
            "chaos.faults[0].service",
            "chaos.faults[1].end_s",
            "chaos.faults[1].to",
            "chaos.faults[1].share",
        ]
    );
}
