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
