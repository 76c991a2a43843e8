//! The page's frame statistics, for the benchmarks in `bench/page.sh`.
//!
//! The animation loop records, for each frame: when it ran (the
//! `requestAnimationFrame` timestamp), how long its own work took (the
//! simulation step, the event log, the painting and, every 250 ms, the
//! charts and figures, measured with `performance.now()` inside the frame
//! callback), and how many dots were in flight and how many were drawn. It
//! also keeps the `performance.now()` at the end of the first frame that
//! painted the diagram: as `performance.now()` counts from the navigation's
//! start, that is the time to the first animated frame.
//!
//! The record is a fixed ring of the last [`RING`] frames, written in place:
//! two `performance.now()` calls and a few stores per frame, no allocation.
//! The benchmarks read it through the `#[wasm_bindgen]` functions below,
//! which Trunk's loader puts on `window.wasmBindings` (for example
//! `wasmBindings.frame_work_ms()`).

use std::cell::{Cell, RefCell};

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Frames kept: 20 s at 60 frames a second, 10 s at 120.
pub const RING: usize = 1200;

struct Record {
    /// Per frame: the rAF timestamp and the frame's work, in milliseconds.
    at: [f64; RING],
    work: [f32; RING],
    /// Frames recorded since the last reset (the ring holds the last
    /// `RING` of them).
    frames: usize,
    first_frame_ms: Option<f64>,
    dots_in_flight: usize,
    dots_drawn: usize,
}

thread_local! {
    /// A fast-forward a benchmark asked for, in simulated seconds, until
    /// the animation loop takes it.
    static FAST_FORWARD: Cell<Option<f64>> = const { Cell::new(None) };
    static RECORD: RefCell<Record> = const {
        RefCell::new(Record {
            at: [0.0; RING],
            work: [0.0; RING],
            frames: 0,
            first_frame_ms: None,
            dots_in_flight: 0,
            dots_drawn: 0,
        })
    };
}

/// `performance.now()`, in milliseconds since the navigation started.
pub fn now_ms() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Records a frame that ran at `at_ms` (its rAF timestamp) and worked for
/// `work_ms`; `painted` when it painted a diagram, `(in flight, drawn)` the
/// dots of the main pane.
pub fn record(at_ms: f64, work_ms: f64, painted: bool, dots: (usize, usize)) {
    RECORD.with(|r| {
        let mut r = r.borrow_mut();
        let slot = r.frames % RING;
        r.at[slot] = at_ms;
        r.work[slot] = work_ms as f32;
        r.frames += 1;
        if painted && r.first_frame_ms.is_none() {
            r.first_frame_ms = Some(now_ms());
        }
        (r.dots_in_flight, r.dots_drawn) = dots;
    });
}

/// The recorded frames, oldest first, as (timestamp, work).
fn recent() -> Vec<(f64, f32)> {
    RECORD.with(|r| {
        let r = r.borrow();
        let n = r.frames.min(RING);
        (r.frames - n..r.frames).map(|i| (r.at[i % RING], r.work[i % RING])).collect()
    })
}

/// Forgets the recorded frames (not the first frame's time), so that the
/// next reading covers only what follows.
#[wasm_bindgen]
pub fn frame_stats_reset() {
    RECORD.with(|r| r.borrow_mut().frames = 0);
}

/// The work of each frame recorded since the last reset (the last
/// [`RING`] at most), oldest first, in milliseconds.
#[wasm_bindgen]
pub fn frame_work_ms() -> Vec<f32> {
    recent().into_iter().map(|(_, work)| work).collect()
}

/// The rAF timestamps of the same frames, in milliseconds.
#[wasm_bindgen]
pub fn frame_times_ms() -> Vec<f64> {
    recent().into_iter().map(|(at, _)| at).collect()
}

/// Frames recorded since the last reset, including any the ring no longer
/// holds.
#[wasm_bindgen]
pub fn frame_count() -> u32 {
    RECORD.with(|r| r.borrow().frames as u32)
}

/// `performance.now()` at the end of the first frame that painted the
/// diagram (milliseconds from the navigation's start), or `NaN` before it.
#[wasm_bindgen]
pub fn first_frame_ms() -> f64 {
    RECORD.with(|r| r.borrow().first_frame_ms.unwrap_or(f64::NAN))
}

/// The main diagram's messages in flight and dots drawn in the last frame.
#[wasm_bindgen]
pub fn dots_in_flight() -> u32 {
    RECORD.with(|r| r.borrow().dots_in_flight as u32)
}

#[wasm_bindgen]
pub fn dots_drawn() -> u32 {
    RECORD.with(|r| r.borrow().dots_drawn as u32)
}

/// The size of the module's linear memory, in bytes: it only grows, so
/// it is the most the page's Rust side has needed at once.
#[wasm_bindgen]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory()
        .dyn_into::<js_sys::WebAssembly::Memory>()
        .map(|m| m.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64)
        .unwrap_or(f64::NAN)
}

/// Most dots the diagram draws in a frame before it draws a sample; 0
/// draws every dot (see `diagram::DOTS_CAP`).
#[wasm_bindgen]
pub fn set_dots_cap(cap: u32) {
    crate::diagram::set_dots_cap(cap as usize);
}

/// Asks the page to fast-forward its run to `seconds` of simulated time,
/// as a link's `t=` does on load but at any moment and past the ten
/// minutes a link may ask for: the soak benchmark runs hours this way. At
/// most a week: further would only be a fast-forward that never ends.
#[wasm_bindgen]
pub fn bench_fast_forward(seconds: f64) {
    const WEEK_S: f64 = 7.0 * 24.0 * 3600.0;
    if seconds.is_finite() && seconds > 0.0 {
        FAST_FORWARD.with(|f| f.set(Some(seconds.min(WEEK_S))));
    }
}

/// The fast-forward asked for since the last call, in microseconds.
pub fn take_fast_forward() -> Option<u64> {
    FAST_FORWARD.with(Cell::take).map(|s| (s * brownout_sim::time::SECOND as f64).round() as u64)
}
