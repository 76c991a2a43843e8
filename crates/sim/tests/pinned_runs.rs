//! Every shipped preset, and the benchmark model, run for a while in uneven
//! steps, fingerprinted in everything a reader can see: the totals, every
//! per-second bucket (counts and latency percentiles), the policy log, the
//! messages in flight and the live figures after each step.
//!
//! Why: the engine's speed work (event queues, storage, how metrics are
//! kept) must not change a single run. Each fingerprint below was taken
//! from the engine before such a change; a change of behaviour that is
//! meant shows here, and its commit says why the pins moved.

use brownout_sim::bulkhead::BulkheadConfig;
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
/// as a page's frames and a runner's seconds would take them, with live
/// changes on the way (load, errors, retries, a bulkhead swapped in and
/// out); then, for `long` runs, steps of 30 and 250 simulated seconds to
/// past the series' 600 seconds, as a fast-forward takes them.
fn fingerprint(text: &str, seconds: u64, long: bool) -> u64 {
    let scenario = parse_scenario(text).expect("a valid scenario");
    let rate = scenario.load.rate_per_sec;
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
        match step {
            60 => fp.add(&format!("{:?}", sim.set_load(rate * 1.5))),
            80 => fp.add(&format!("{:?}", sim.set_error_rate(0, 0.2))),
            100 => fp.add(&format!("{:?}", sim.set_retries(2))),
            120 => {
                let bulkhead = BulkheadConfig::Semaphore { max_concurrent: 3, max_wait_ms: 20.0 };
                fp.add(&format!("{:?}", sim.set_bulkhead(0, Some(bulkhead))));
            }
            140 => fp.add(&format!("{:?}", sim.set_bulkhead(0, None))),
            _ => {}
        }
        read(&sim, &mut fp, step % 5 == 0);
    }
    if long {
        while sim.now() < 700 * SECOND {
            step += 1;
            let span = if step % 2 == 0 { 250 } else { 30 };
            sim.advance_to((sim.now() + span * SECOND).min(700 * SECOND));
            read(&sim, &mut fp, false);
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

/// What a page reads between steps: the live figures, the open second's
/// bucket as it stands, the recent rates and the measured amplification,
/// and (`dots`) every message in flight.
fn read(sim: &Sim, fp: &mut Fingerprint, dots: bool) {
    fp.add(&format!(
        "{} {} {} {:?} {:.9}",
        sim.now(),
        sim.events_processed(),
        sim.requests_in_flight(),
        sim.live_entities(),
        sim.current_rate()
    ));
    for service in 0..sim.scenario().services.len() {
        fp.add(&format!(
            "{:?} {} {:?}",
            sim.service_load(service),
            sim.depth(service),
            sim.measured_amplification(service)
        ));
    }
    for edge in 0..sim.edges().len() {
        fp.add(&format!("{:?}", sim.edge_policies(edge)));
    }
    let m = sim.metrics();
    let open = m.series().get(sim.now() / SECOND);
    fp.add(&serde_json::to_string(&open).expect("serialisable"));
    fp.add(&format!("{:?}", m.recent_rates(sim.now())));
    if dots {
        for dot in sim.dots() {
            fp.add(&format!("{dot:?}"));
        }
    }
}

/// Fingerprints after 75 simulated seconds (the retry chain and the
/// benchmark model then on to 700), taken from the engine as it was before
/// the metrics were kept as differences of totals (commit b26bdf8): the
/// changes since have not moved a single one.
const PINNED: &[(&str, u64)] = &[
    ("retry-chain", 9214340930271164932),
    ("product-page", 4213130964041566864),
    ("scripted-flaky", 12849191568382709051),
    ("load-spike", 11818842559830443449),
    ("mm1", 1911467343997182729),
    ("circuit-breaker", 1075798614483223327),
    ("breaker-noise", 13792873146114530437),
    ("bulkheads", 1205607853060766686),
    ("degradation", 15511600387575056435),
    ("backoff-jitter", 3969986427272329727),
    ("retry-budget", 13090042789578999417),
    ("chaos-game-day", 17358630881492786935),
    ("outlier-ejection", 11876300947688833412),
    ("autoscaling", 16851374642765708136),
    ("metastable", 4477395367586047874),
    ("crowd", 10862322679272513873),
    ("bench/five-services", 5672473204794394074),
];

#[test]
fn every_preset_runs_as_pinned() {
    let mut got = Vec::new();
    for preset in PRESETS {
        got.push((preset.id, fingerprint(preset.toml, 75, preset.id == "retry-chain")));
    }
    got.push((
        "bench/five-services",
        fingerprint(include_str!("../../../bench/five-services.toml"), 75, true),
    ));
    for (id, fp) in &got {
        println!("    (\"{id}\", {fp}),");
    }
    assert_eq!(got.len(), PINNED.len(), "one pin per preset");
    for ((id, fp), (pid, pinned)) in got.iter().zip(PINNED) {
        assert_eq!((id, fp), (pid, pinned), "{id} ran differently from its pin");
    }
}
