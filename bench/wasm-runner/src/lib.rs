//! The benchmark model (`bench/five-services.toml`), runnable from
//! JavaScript: `run(seconds)` simulates that many seconds and returns the
//! number of engine events processed. The caller times it.

use brownout_sim::time::SECOND;
use brownout_sim::{parse_scenario, Scenario, Sim};
use wasm_bindgen::prelude::wasm_bindgen;

/// The benchmark model, from the same file as the criterion bench and the
/// SimPy model.
pub fn model() -> Scenario {
    let text = include_str!("../../five-services.toml");
    parse_scenario(text).unwrap_or_else(|e| panic!("bench/five-services.toml:\n{e}"))
}

/// Runs the model from time zero for `seconds` simulated seconds.
pub fn simulate(seconds: u32) -> Sim {
    let mut sim = Sim::new(model()).expect("the benchmark model is valid");
    sim.advance_to(u64::from(seconds) * SECOND);
    sim
}

/// Runs the model for `seconds` simulated seconds; returns the engine
/// events processed (an `f64`, which JavaScript reads as a plain number).
#[wasm_bindgen]
pub fn run(seconds: u32) -> f64 {
    simulate(seconds).events_processed() as f64
}

/// Runs any scenario file's text for `seconds` simulated seconds, in
/// one-second steps, and returns the engine events processed; NaN (with
/// the reason on the console) when the text is not a valid scenario. For
/// the fast-forward and scale benchmarks (`bench/fast_forward.sh`).
#[wasm_bindgen]
pub fn run_toml(text: &str, seconds: u32) -> f64 {
    let scenario = match parse_scenario(text) {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln_js(&e.to_string());
            return f64::NAN;
        }
    };
    let Ok(mut sim) = Sim::new(scenario) else { return f64::NAN };
    for t in 1..=u64::from(seconds) {
        sim.advance_to(t * SECOND);
    }
    sim.events_processed() as f64
}

/// The size of the module's linear memory in bytes: what the engine's
/// allocations have grown it to (wasm memory never shrinks, so this is the
/// peak).
#[wasm_bindgen]
pub fn memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        (core::arch::wasm32::memory_size(0) * 65_536) as f64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn eprintln_js(message: &str);
}

/// The floor under any engine built like this one: `events` events through
/// a binary heap of `pending` entries of the engine's size in wasm32 (time,
/// sequence and a 16-byte event: 32 bytes), each event scheduling the next
/// one, a third of them after an exponential draw (the engine draws a
/// service time for about a third of its events) and the rest after a fixed
/// 2 ms. As in the engine, the next event takes the handled one's place at
/// the top of the heap and sinks from there: one sift an event. No state,
/// no policies, no metrics: what the event queue and the random draws alone
/// cost. Returns a checksum so that nothing is optimised away.
#[wasm_bindgen]
pub fn floor(events: u32, pending: u32) -> f64 {
    use brownout_sim::rng::Stream;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    let mut draws = Stream::new(7, 1_000);
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    for i in 0..u64::from(pending.max(1)) {
        seq += 1;
        heap.push(Reverse((i * 40, seq, [i; 2])));
    }
    let mut sum = 0u64;
    for i in 0..events {
        let mut top = heap.peek_mut().expect("never empty");
        let Reverse((at, _, payload)) = *top;
        sum = sum.wrapping_add(payload[i as usize % 2]);
        let delay = if i % 3 == 0 { draws.exponential(2_000.0).round() as u64 } else { 2_000 };
        seq += 1;
        *top = Reverse((at + delay.max(1), seq, [seq, sum]));
    }
    sum as f64
}
