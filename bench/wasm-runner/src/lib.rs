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
