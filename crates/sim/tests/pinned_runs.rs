//! Every shipped preset, and the benchmark model, run for a while in uneven
//! steps, fingerprinted in everything a reader can see: the totals, every
//! per-second bucket (counts and latency percentiles), the policy log, the
//! messages in flight and the live figures after each step.
//!
//! Why: the engine's speed work (event queues, storage, how metrics are
//! kept) must not change a single run. Each fingerprint below was taken
//! from the engine before such a change; a change of behaviour that is
//! meant shows here, and its commit says why the pins moved.

use brownout_sim::presets::PRESETS;
use brownout_sim::time::{Micros, SECOND};
use brownout_sim::{parse_scenario, Progress, Sim};

/// FNV-1a over bytes, folded step by step.
struct Fingerprint(u64);

impl Fingerprint {
    fn new() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
    fn add(&mut self, text: &str) {
        for b in text.bytes().chain(std::iter::once(0xff)) {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Steps of uneven length (a third of them cut short by an event budget),
/// as a page's frames and a runner's seconds would take them.
fn fingerprint(text: &str, seconds: u64) -> u64 {
    let scenario = parse_scenario(text).expect("a valid scenario");
    let mut sim = Sim::new(scenario).expect("a valid scenario");
    let mut fp = Fingerprint::new();
    let end: Micros = seconds * SECOND;
    let mut step = 0u64;
    while sim.now() < end {
        step += 1;
        let target = (sim.now() + 137_000 + (step % 7) * 91_000).min(end);
        if step % 3 == 0 {
            if sim.advance_to_within(target, 40 + step % 50) == Progress::OutOfBudget {
                fp.add("budget");
            }
        } else {
            sim.advance_to(target);
        }
        fp.add(&format!(
            "{} {} {} {:?} {:.9}",
            sim.now(),
            sim.events_processed(),
            sim.requests_in_flight(),
            sim.live_entities(),
            sim.current_rate()
        ));
        for service in 0..sim.scenario().services.len() {
            fp.add(&format!("{:?} {}", sim.service_load(service), sim.depth(service)));
        }
        for edge in 0..sim.edges().len() {
            fp.add(&format!("{:?}", sim.edge_policies(edge)));
        }
        if step % 5 == 0 {
            for dot in sim.dots() {
                fp.add(&format!("{dot:?}"));
            }
        }
    }
    let m = sim.metrics();
    fp.add(&format!("{}", m.totals().digest()));
    fp.add(&serde_json::to_string(m.totals()).expect("serialisable"));
    let last = sim.now() / SECOND + 1;
    for (second, bucket) in m.series().range(0, last) {
        fp.add(&format!("{second} {}", serde_json::to_string(bucket).expect("serialisable")));
    }
    fp.add(&format!("{:?} {:?}", m.client_latency(), m.events_total()));
    for service in 0..sim.scenario().services.len() {
        fp.add(&format!("{:?}", m.service_latency(service)));
    }
    for event in m.events() {
        fp.add(&serde_json::to_string(event).expect("serialisable"));
    }
    fp.0
}

/// Fingerprints after 75 simulated seconds, taken from the engine as of
/// 2026-12-04 (before the metrics and queue changes that followed).
const PINNED: &[(&str, u64)] = &[
    ("retry-chain", 317818576050635834),
    ("product-page", 15596148479835567761),
    ("scripted-flaky", 17711672410593615412),
    ("load-spike", 16043754458551041939),
    ("mm1", 9252160104359971181),
    ("circuit-breaker", 11474549112097730608),
    ("breaker-noise", 15946084428062536122),
    ("bulkheads", 7079638963273865043),
    ("degradation", 15179334697861315479),
    ("backoff-jitter", 6921286447627174710),
    ("retry-budget", 12193442761941535166),
    ("chaos-game-day", 718478768591460142),
    ("outlier-ejection", 10988813490517260525),
    ("autoscaling", 4160062613254055239),
    ("metastable", 11051054698720216656),
    ("crowd", 8955703002387878005),
    ("bench/five-services", 3089120755482460317),
];

#[test]
fn every_preset_runs_as_pinned() {
    let mut got = Vec::new();
    for preset in PRESETS {
        got.push((preset.id, fingerprint(preset.toml, 75)));
    }
    got.push((
        "bench/five-services",
        fingerprint(include_str!("../../../bench/five-services.toml"), 75),
    ));
    for (id, fp) in &got {
        println!("    (\"{id}\", {fp}),");
    }
    assert_eq!(got.len(), PINNED.len(), "one pin per preset");
    for ((id, fp), (pid, pinned)) in got.iter().zip(PINNED) {
        assert_eq!((id, fp), (pid, pinned), "{id} ran differently from its pin");
    }
}
