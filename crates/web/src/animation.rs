//! A requestAnimationFrame loop that stops when it is dropped.
//!
//! The closure re-registers itself each frame. The loop owns the closure
//! through a shared slot; dropping [`AnimationLoop`] cancels the pending
//! frame and empties the slot, which frees the closure and everything it
//! captured. A component that holds the loop therefore cannot leak it or
//! leave a second loop running after it is unmounted.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type FrameSlot = Rc<RefCell<Option<Closure<dyn FnMut(f64)>>>>;

thread_local! {
    static RUNNING: Cell<usize> = const { Cell::new(0) };
    static HALTED: Cell<bool> = const { Cell::new(false) };
    static FRAMES: Cell<u64> = const { Cell::new(0) };
}

/// Frames run by all the loops of this page since it loaded. Beside the
/// browser's own count of frames it shows how many loops really run, which
/// [`running_loops`] can only count as created and not yet dropped.
pub fn frames_run() -> u64 {
    FRAMES.with(Cell::get)
}

/// Stops every loop of the page for good: after a panic the app's state
/// may be half-changed, and a frame drawn from it would only panic again
/// or show something untrue. The panic banner says what happened.
pub fn halt_all() {
    HALTED.with(|h| h.set(true));
}

/// Number of animation loops alive in this page.
pub fn running_loops() -> usize {
    RUNNING.with(Cell::get)
}

pub struct AnimationLoop {
    slot: FrameSlot,
    pending: Rc<Cell<Option<i32>>>,
}

fn request(slot: &FrameSlot) -> Option<i32> {
    let window = web_sys::window()?;
    let slot = slot.borrow();
    let closure = slot.as_ref()?;
    window.request_animation_frame(closure.as_ref().unchecked_ref()).ok()
}

impl AnimationLoop {
    /// Calls `frame` with the frame's timestamp (milliseconds) once per
    /// animation frame until the loop is dropped.
    pub fn start(mut frame: impl FnMut(f64) + 'static) -> AnimationLoop {
        let slot: FrameSlot = Rc::new(RefCell::new(None));
        let pending = Rc::new(Cell::new(None));
        let (inner_slot, inner_pending) = (slot.clone(), pending.clone());
        *slot.borrow_mut() = Some(Closure::new(move |timestamp: f64| {
            inner_pending.set(None);
            if HALTED.with(Cell::get) {
                return;
            }
            FRAMES.with(|n| n.set(n.get() + 1));
            frame(timestamp);
            inner_pending.set(request(&inner_slot));
        }));
        pending.set(request(&slot));
        RUNNING.with(|n| n.set(n.get() + 1));
        AnimationLoop { slot, pending }
    }
}

impl Drop for AnimationLoop {
    fn drop(&mut self) {
        if let (Some(id), Some(window)) = (self.pending.take(), web_sys::window()) {
            let _ = window.cancel_animation_frame(id);
        }
        // Breaks the cycle slot → closure → slot.
        self.slot.borrow_mut().take();
        RUNNING.with(|n| n.set(n.get() - 1));
    }
}
