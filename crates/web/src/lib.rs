//! # brownout-web
//!
//! The Brownout page. It owns a [`Sim`] and animates it:
//!
//! ```text
//!  sliders, policy knobs ─► Msg ─► sim.set_*(..)     (live, no reload)
//!  requestAnimationFrame ─► advance by real elapsed time × speed
//!                        ─► read new policy events into the EventLog
//!                        ─► paint the canvas (nodes, edges, dots, badge)
//!                        ─► every 250 ms: Figures ─► Yew re-renders panels
//! ```
//!
//! The dots never go through Yew's virtual DOM: the canvas is painted
//! directly each frame, and Yew renders only the controls and the figures,
//! four times a second.

mod animation;
mod charts;
mod diagram;
mod events;
mod figures;
mod lab;
mod palette;
mod policies;
mod views;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use brownout_sim::lesson::Control;
use brownout_sim::time::MILLISECOND;
use brownout_sim::{ParamError, Scenario, Sim};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

pub use animation::running_loops;
use animation::AnimationLoop;
use brownout_sim::phase::PhaseMap;
use diagram::{Badge, Hit, Layout, Painter, Placement};
use events::EventLog;
use figures::{percent, times, Figures, Shares};
use lab::Experiment;

/// Longest stretch of real time one frame may simulate. After a hidden tab
/// or a stall the browser reports a long gap between frames; simulating all
/// of it at once would jump the picture and burst the load, so the gap is
/// cut to this.
const MAX_FRAME_GAP_MS: f64 = 100.0;

/// Most events one frame may process. A frame that would need more simply
/// simulates less time: the run slows down rather than the page freezing.
const EVENTS_PER_FRAME: u64 = 40_000;

/// How often the figures under the diagram are refreshed.
const FIGURES_EVERY_MS: f64 = 250.0;

/// Simulation speeds offered, as multiples of real time.
const SPEEDS: [f64; 8] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0];
const DEFAULT_SPEED: f64 = 0.25;

/// Bounds of the load slider, in requests per second.
const LOAD_MAX: f64 = 200.0;
/// Bounds of the retries slider.
const RETRIES_MAX: u32 = 5;

#[derive(Clone, Copy)]
struct Playback {
    playing: bool,
    speed: f64,
}

pub enum Msg {
    /// A different experiment from the menu, by preset id.
    Choose(String),
    /// Show the comparison variant beside the experiment, or not.
    Compare(bool),
    ErrorRate(String),
    /// Mean service time of the last service, in milliseconds.
    Latency(String),
    Retries(String),
    Load(String),
    Speed(String),
    /// The per-try timeout of the policy edge, in milliseconds.
    Timeout(String),
    Breaker(bool),
    BreakerThreshold(String),
    BreakerWindow(String),
    Budget(bool),
    Bulkhead(String),
    /// A value of the backoff select.
    Backoff(String),
    TogglePlay,
    /// Advance a paused run by one tenth of a simulated second.
    Step,
    Restart,
    Seed(String),
    /// A guess at the lesson's question, by choice index.
    Guess(usize),
    /// Scroll the charts back: the end of their window, in seconds.
    Scrub(String),
    /// Let the charts follow the run again.
    Live,
    /// Pointer pressed, moved and released on a pane's diagram, in CSS
    /// pixels of that canvas.
    Down(usize, f64, f64),
    Move(f64, f64),
    Up,
    CloseDetail,
    /// Start computing the experiment's phase map, or compute its next
    /// piece.
    PhaseStart,
    PhaseStep,
    Figures(Vec<Figures>),
}

/// One running simulation and its diagram. The page has one pane, or two
/// when a comparison is shown: the experiment and its variant, fed the
/// same load and seed, moved in lockstep.
struct Pane {
    label: String,
    sim: Rc<RefCell<Sim>>,
    /// Breaker transitions, budget refusals and chaos marks, read by the
    /// animation loop each frame.
    log: Rc<RefCell<EventLog>>,
    canvas: NodeRef,
    figures: Figures,
}

impl Pane {
    fn new(label: String, scenario: Scenario) -> Result<Pane, String> {
        let sim = Sim::new(scenario).map_err(|e| e.to_string())?;
        let log = EventLog::default();
        let figures = Figures::read(&sim, &log, false);
        Ok(Pane {
            label,
            sim: Rc::new(RefCell::new(sim)),
            log: Rc::new(RefCell::new(log)),
            canvas: NodeRef::default(),
            figures,
        })
    }
}

/// What the animation loop holds of a pane: its simulation, its log and
/// its canvas.
type PaneHandles = (Rc<RefCell<Sim>>, Rc<RefCell<EventLog>>, NodeRef);

/// A drag in progress: which node, and whether it has moved (a press
/// without a move is a click, which selects).
#[derive(Clone, Copy)]
struct Drag {
    pane: usize,
    node: Option<usize>,
    start: (f64, f64),
    moved: bool,
}

pub struct App {
    experiment: Experiment,
    panes: Vec<Pane>,
    compare: bool,
    playback: Rc<Cell<Playback>>,
    animation: Option<AnimationLoop>,
    charts: NodeRef,
    /// The end of the charts' window when scrolled back; `None` follows
    /// the run.
    chart_end: Rc<Cell<Option<u64>>>,
    /// Nodes the user has moved, shared by both panes.
    placement: Rc<RefCell<Placement>>,
    /// What the detail panel shows, highlighted on the diagrams.
    selected: Rc<Cell<Option<Hit>>>,
    drag: Option<Drag>,
    guess: Option<usize>,
    /// The slider bounds of the load, from the experiment's own rate.
    load_max: f64,
    /// The experiment's phase map, once asked for, filled a piece at a
    /// time between frames.
    phase: Option<PhaseMap>,
    /// The last refused input, shown until the next accepted one.
    notice: Option<String>,
}

/// Events one piece of the phase map may process: a few milliseconds of
/// work, so the animation keeps its frame rate while the map fills.
const PHASE_EVENTS_PER_PIECE: u64 = 60_000;

impl App {
    fn last_service(&self) -> usize {
        self.panes[0].sim.borrow().scenario().services.len().saturating_sub(1)
    }

    /// Builds the panes for an experiment, with the comparison if asked
    /// for and the experiment has one.
    fn open(&mut self, experiment: Experiment, compare: bool) {
        let main_label = experiment
            .scenario
            .lesson
            .as_ref()
            .and_then(|l| l.compare.as_ref())
            .map_or_else(|| "this run".to_string(), |c| c.label.clone());
        let mut panes = Vec::new();
        match Pane::new(main_label, experiment.scenario.clone()) {
            Ok(pane) => panes.push(pane),
            Err(e) => {
                self.notice = Some(format!("the experiment cannot run: {e}"));
                panes.push(fallback_pane());
            }
        }
        if let (true, Some(variant)) = (compare, experiment.variant.clone()) {
            let label = experiment
                .scenario
                .lesson
                .as_ref()
                .and_then(|l| l.compare.as_ref())
                .map_or_else(|| "variant".to_string(), |c| c.variant_label.clone());
            match Pane::new(label, variant) {
                Ok(pane) => panes.push(pane),
                Err(e) => self.notice = Some(format!("the comparison cannot run: {e}")),
            }
        }
        self.load_max = LOAD_MAX.max(experiment.scenario.load.rate_per_sec * 2.0).ceil();
        self.compare = panes.len() > 1;
        self.panes = panes;
        self.experiment = experiment;
        self.guess = None;
        self.selected.set(None);
        self.chart_end.set(None);
        self.phase = None;
        *self.placement.borrow_mut() = load_placement(self.experiment.id);
    }

    /// Applies a change to every pane, so that the panes keep differing
    /// only where the comparison says.
    fn each(&self, change: impl Fn(&mut Sim) -> Result<(), ParamError>) -> Result<(), String> {
        for pane in &self.panes {
            change(&mut pane.sim.borrow_mut()).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn start_animation(&mut self, ctx: &Context<Self>) {
        // One loop at a time: a new experiment replaces the old loop.
        self.animation = None;
        let panes: Vec<PaneHandles> =
            self.panes.iter().map(|p| (p.sim.clone(), p.log.clone(), p.canvas.clone())).collect();
        let playback = self.playback.clone();
        let charts = self.charts.clone();
        let chart_end = self.chart_end.clone();
        let placement = self.placement.clone();
        let selected = self.selected.clone();
        let figures = ctx.link().callback(Msg::Figures);
        let mut painters: Vec<Painter> = panes.iter().map(|_| Painter::default()).collect();
        let mut shown_badges: Vec<Option<Badge>> = vec![None; panes.len()];
        let mut last_frame: Option<f64> = None;
        let mut last_figures = f64::NEG_INFINITY;
        let mut lagging = false;
        // Real and simulated time over the recent frames, to tell whether
        // the run keeps up with the chosen speed: slow frames (clamped to
        // MAX_FRAME_GAP_MS) or an exhausted event budget both fall behind.
        let (mut wanted_ms, mut got_ms) = (0.0f64, 0.0f64);
        self.animation = Some(AnimationLoop::start(move |now_ms| {
            let real = last_frame.map_or(0.0, |t| (now_ms - t).max(0.0));
            let gap = real.min(MAX_FRAME_GAP_MS);
            last_frame = Some(now_ms);
            let play = playback.get();
            if play.playing && gap > 0.0 {
                let mut lead = panes[0].0.borrow_mut();
                let step = (gap * play.speed * MILLISECOND as f64).round() as u64;
                let before = lead.now();
                let target = before.saturating_add(step);
                let budget = EVENTS_PER_FRAME / panes.len() as u64;
                lead.advance_to_within(target, budget);
                let reached = lead.now();
                drop(lead);
                // The other panes follow the lead to the same instant.
                for (sim, _, _) in &panes[1..] {
                    sim.borrow_mut().advance_to_within(reached, budget);
                }
                // A long gap is a hidden tab or a stall, not slowness: it
                // does not count against keeping up.
                if real <= 1_000.0 {
                    wanted_ms += real * play.speed;
                    got_ms += (reached - before) as f64 / MILLISECOND as f64;
                }
                if wanted_ms >= 2_000.0 * play.speed {
                    lagging = got_ms < 0.8 * wanted_ms;
                    (wanted_ms, got_ms) = (0.0, 0.0);
                }
            } else {
                (wanted_ms, got_ms, lagging) = (0.0, 0.0, false);
            }
            let placement = placement.borrow();
            for (i, (sim, log, canvas)) in panes.iter().enumerate() {
                let sim = sim.borrow();
                let mut log = log.borrow_mut();
                log.update(&sim);
                if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                    if let Some((ctx2d, w, h)) = prepare(&canvas) {
                        let selection =
                            if i == 0 || panes.len() > 1 { selected.get() } else { None };
                        painters[i].paint(
                            &ctx2d,
                            &sim,
                            &log,
                            (w, h),
                            now_ms,
                            &placement,
                            selection,
                        );
                    }
                    let badge = painters[i].badge(policies::policy_edge(&sim));
                    if badge != shown_badges[i] {
                        shown_badges[i] = badge;
                        describe_badge(&canvas, badge);
                    }
                }
            }
            if now_ms - last_figures >= FIGURES_EVERY_MS {
                last_figures = now_ms;
                let all = panes
                    .iter()
                    .map(|(sim, log, _)| Figures::read(&sim.borrow(), &log.borrow(), lagging))
                    .collect();
                if let Some(canvas) = charts.cast::<HtmlCanvasElement>() {
                    let sim = panes[0].0.borrow();
                    let width = canvas.client_width() as f64;
                    let want = charts::height_for(width);
                    if (canvas.client_height() as f64 - want).abs() > 1.0 {
                        let _ = canvas.set_attribute("style", &format!("height:{want}px"));
                    }
                    if let Some((ctx2d, w, h)) = prepare(&canvas) {
                        let end = chart_end.get().unwrap_or_else(|| charts::live_end(&sim));
                        let variant = panes.get(1).map(|p| p.0.borrow());
                        charts::paint(
                            &ctx2d,
                            (w, h),
                            &sim,
                            &panes[0].1.borrow(),
                            variant.as_deref(),
                            end,
                        );
                        let _ = canvas.set_attribute("aria-label", &charts::summary(&sim, end));
                        let _ = canvas.set_attribute("data-end", &end.to_string());
                    }
                }
                figures.emit(all);
            }
        }));
    }

    /// The layout of a pane's diagram as drawn now.
    fn layout(&self, pane: usize) -> Option<(Layout, Rc<RefCell<Sim>>)> {
        let pane = self.panes.get(pane)?;
        let canvas = pane.canvas.cast::<HtmlCanvasElement>()?;
        let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
        let sim = pane.sim.borrow();
        let layout = Layout::placed(&sim, w, h, &self.placement.borrow());
        Some((layout, pane.sim.clone()))
    }
}

/// The built-in chain, for when a preset cannot run (which the tests rule
/// out for the presets that ship).
fn fallback_pane() -> Pane {
    Pane::new("this run".into(), Scenario::retry_chain()).expect("the built-in scenario is valid")
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        let wanted = lab::preset_in_url();
        let (experiment, notice) = match wanted.as_deref().map(Experiment::load) {
            None => (Experiment::load(lab::DEFAULT_PRESET), None),
            Some(Ok(e)) => (Ok(e), None),
            Some(Err(why)) => (
                Experiment::load(lab::DEFAULT_PRESET),
                Some(format!("preset: {why}; opened {} instead", lab::DEFAULT_PRESET)),
            ),
        };
        let experiment = experiment.unwrap_or_else(|_| Experiment {
            id: "retry-chain",
            scenario: Scenario::retry_chain(),
            variant: None,
        });
        let mut app = App {
            experiment: experiment.clone(),
            panes: Vec::new(),
            compare: false,
            playback: Rc::new(Cell::new(Playback { playing: true, speed: DEFAULT_SPEED })),
            animation: None,
            charts: NodeRef::default(),
            chart_end: Rc::new(Cell::new(None)),
            placement: Rc::new(RefCell::new(Placement::new())),
            selected: Rc::new(Cell::new(None)),
            drag: None,
            guess: None,
            load_max: LOAD_MAX,
            phase: None,
            notice: None,
        };
        // The comparison is on by default for an experiment that has one:
        // the lesson is the difference.
        app.open(experiment, true);
        if notice.is_some() {
            app.notice = notice;
        }
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let last = self.last_service();
        let applied: Result<(), String> = match msg {
            Msg::Figures(figures) => {
                let mut changed = false;
                for (pane, f) in self.panes.iter_mut().zip(figures) {
                    changed |= pane.figures != f;
                    pane.figures = f;
                }
                return changed;
            }
            Msg::Choose(id) => match Experiment::load(&id) {
                Ok(experiment) => {
                    self.open(experiment, true);
                    self.start_animation(ctx);
                    set_url_preset(&id);
                    Ok(())
                }
                Err(why) => Err(why),
            },
            Msg::Compare(on) => {
                let experiment = self.experiment.clone();
                self.open(experiment, on);
                self.start_animation(ctx);
                Ok(())
            }
            Msg::ErrorRate(v) => parse_in(&v, "error rate", 0.0, 100.0)
                .and_then(|pct| self.each(|sim| sim.set_error_rate(last, pct / 100.0))),
            Msg::Latency(v) => {
                parse_in(&v, "service time", policies::LATENCY_MIN_MS, policies::LATENCY_MAX_MS)
                    .and_then(|ms| self.each(|sim| sim.set_mean_service_time(last, ms)))
            }
            Msg::Retries(v) => parse_in(&v, "retries", 0.0, RETRIES_MAX as f64)
                .and_then(|r| self.each(|sim| sim.set_retries(r.round() as u32))),
            Msg::Load(v) => parse_in(&v, "load", 0.0, self.load_max)
                .and_then(|rate| self.each(|sim| sim.set_load(rate))),
            Msg::Speed(v) => {
                parse_in(&v, "speed", SPEEDS[0], SPEEDS[SPEEDS.len() - 1]).map(|speed| {
                    let p = self.playback.get();
                    self.playback.set(Playback { speed, ..p });
                })
            }
            Msg::Timeout(v) => {
                parse_in(&v, "timeout", policies::TIMEOUT_MIN_MS, policies::TIMEOUT_MAX_MS)
                    .and_then(|ms| self.each(|sim| policies::set_timeout(sim, ms)))
            }
            Msg::Breaker(on) => {
                for pane in &self.panes {
                    // A new breaker starts closed: the badge must not
                    // explain it with its predecessor's last transition.
                    let edge = policies::policy_edge(&pane.sim.borrow());
                    pane.log.borrow_mut().forget_breaker(edge);
                }
                self.each(|sim| policies::set_breaker(sim, on))
            }
            Msg::BreakerThreshold(v) => {
                parse_in(&v, "breaker threshold", policies::THRESHOLD_MIN, policies::THRESHOLD_MAX)
                    .and_then(|t| self.each(|sim| policies::set_breaker_threshold(sim, t)))
            }
            Msg::BreakerWindow(v) => parse_in(
                &v,
                "breaker window",
                policies::WINDOW_MIN as f64,
                policies::WINDOW_MAX as f64,
            )
            .and_then(|w| self.each(|sim| policies::set_breaker_window(sim, w.round() as u32))),
            Msg::Budget(on) => self.each(|sim| policies::set_budget(sim, on)),
            Msg::Bulkhead(v) => parse_in(
                &v,
                "bulkhead size",
                policies::BULKHEAD_MIN as f64,
                policies::BULKHEAD_MAX as f64,
            )
            .and_then(|n| self.each(|sim| policies::set_bulkhead_size(sim, n.round() as u32))),
            Msg::Backoff(choice) => self.each(|sim| policies::set_backoff(sim, &choice)),
            Msg::TogglePlay => {
                let p = self.playback.get();
                self.playback.set(Playback { playing: !p.playing, ..p });
                Ok(())
            }
            Msg::Step => {
                let p = self.playback.get();
                self.playback.set(Playback { playing: false, ..p });
                let target = self.panes[0].sim.borrow().now() + STEP;
                for pane in &self.panes {
                    pane.sim.borrow_mut().advance_to_within(target, EVENTS_PER_FRAME);
                }
                Ok(())
            }
            Msg::Restart => {
                // Keep the user's settings: rebuild from the live scenarios.
                for pane in &mut self.panes {
                    let scenario = pane.sim.borrow().scenario().clone();
                    if let Ok(sim) = Sim::new(scenario) {
                        *pane.sim.borrow_mut() = sim;
                    }
                    pane.log.borrow_mut().clear();
                }
                self.guess = None;
                self.chart_end.set(None);
                Ok(())
            }
            Msg::Seed(v) => match v.trim().parse::<u64>() {
                Ok(seed) if seed <= i64::MAX as u64 => {
                    for pane in &mut self.panes {
                        let mut scenario = pane.sim.borrow().scenario().clone();
                        scenario.seed = seed;
                        if let Ok(sim) = Sim::new(scenario) {
                            *pane.sim.borrow_mut() = sim;
                        }
                        pane.log.borrow_mut().clear();
                    }
                    self.guess = None;
                    self.chart_end.set(None);
                    Ok(())
                }
                _ => Err(format!(
                    "seed: {v:?} is not a whole number from 0 to {}; kept the previous seed",
                    i64::MAX
                )),
            },
            Msg::Guess(i) => {
                self.guess = Some(i);
                Ok(())
            }
            Msg::Scrub(v) => {
                let sim = self.panes[0].sim.borrow();
                let (earliest, live) = (charts::earliest_end(&sim), charts::live_end(&sim));
                parse_in(&v, "chart time", earliest as f64, live as f64).map(|end| {
                    let end = end.round() as u64;
                    self.chart_end.set((end < live).then_some(end));
                })
            }
            Msg::Live => {
                self.chart_end.set(None);
                Ok(())
            }
            Msg::Down(pane, x, y) => {
                let node = self.layout(pane).and_then(|(layout, sim)| {
                    match layout.hit(&sim.borrow(), (x, y)) {
                        Some(Hit::Node(n)) => Some(n),
                        _ => None,
                    }
                });
                self.drag = Some(Drag { pane, node, start: (x, y), moved: false });
                return false;
            }
            Msg::Move(x, y) => {
                let Some(mut drag) = self.drag else { return false };
                let far = (x - drag.start.0).abs() + (y - drag.start.1).abs() > 4.0;
                if let (Some(node), true) = (drag.node, far || drag.moved) {
                    drag.moved = true;
                    if let Some(canvas) = self.panes[drag.pane].canvas.cast::<HtmlCanvasElement>() {
                        let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
                        let mut placement = self.placement.borrow_mut();
                        if placement.len() <= node {
                            placement.resize(node + 1, None);
                        }
                        placement[node] = Some((x / w.max(1.0), y / h.max(1.0)));
                    }
                }
                self.drag = Some(drag);
                return false;
            }
            Msg::Up => {
                let Some(drag) = self.drag.take() else { return false };
                if drag.moved {
                    save_placement(self.experiment.id, &self.placement.borrow());
                } else {
                    let hit = self
                        .layout(drag.pane)
                        .and_then(|(layout, sim)| layout.hit(&sim.borrow(), drag.start));
                    self.selected.set(hit);
                }
                Ok(())
            }
            Msg::CloseDetail => {
                self.selected.set(None);
                Ok(())
            }
            Msg::PhaseStart => {
                let spec =
                    self.experiment.scenario.lesson.as_ref().and_then(|l| l.phase_map.clone());
                match spec.map(|spec| PhaseMap::new(&self.experiment.scenario, &spec)) {
                    Some(Ok(map)) => {
                        self.phase = Some(map);
                        ctx.link().send_message(Msg::PhaseStep);
                        Ok(())
                    }
                    Some(Err(why)) => Err(format!("the phase map cannot be computed: {why}")),
                    None => Err("this experiment has no phase map".into()),
                }
            }
            Msg::PhaseStep => {
                let Some(map) = self.phase.as_mut() else { return false };
                if !map.step(PHASE_EVENTS_PER_PIECE) {
                    // The next piece after the browser has drawn a frame.
                    let link = ctx.link().clone();
                    gloo_timers::callback::Timeout::new(16, move || {
                        link.send_message(Msg::PhaseStep)
                    })
                    .forget();
                }
                return true;
            }
        };
        self.notice = applied.err();
        for pane in &mut self.panes {
            pane.figures = Figures::read(&pane.sim.borrow(), &pane.log.borrow(), false);
        }
        true
    }

    fn rendered(&mut self, ctx: &Context<Self>, first_render: bool) {
        if first_render {
            self.start_animation(ctx);
        }
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        self.animation = None;
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let main = &self.panes[0];
        let f = &main.figures;
        let sim = main.sim.borrow();
        let scenario = sim.scenario();
        let lesson = self.experiment.scenario.lesson.as_ref();
        let wanted: Vec<Control> = lesson.map(|l| l.controls.clone()).unwrap_or_default();
        let matters = |c: Control| wanted.contains(&c);
        let control_class = |c: Control| {
            if matters(c) {
                classes!("control", "matters")
            } else {
                classes!("control")
            }
        };
        let last = scenario.services.len().saturating_sub(1);
        let last_name = scenario.services.get(last).map(|s| s.name.clone()).unwrap_or_default();
        let playback = self.playback.get();
        let retries = f.tries.saturating_sub(1);
        let error_pct = (f.error_rate * 100.0).round();
        let load = scenario.load.rate_per_sec;
        let latency_ms = policies::last_service_time_ms(&sim);

        let on_range = |make: fn(String) -> Msg| {
            link.callback(move |e: InputEvent| {
                make(e.target_unchecked_into::<HtmlInputElement>().value())
            })
        };
        let on_change_input = |make: fn(String) -> Msg| {
            link.callback(move |e: Event| {
                make(e.target_unchecked_into::<HtmlInputElement>().value())
            })
        };
        let on_select = |make: fn(String) -> Msg| {
            link.callback(move |e: Event| {
                make(e.target_unchecked_into::<HtmlSelectElement>().value())
            })
        };
        let on_switch = |make: fn(bool) -> Msg| {
            link.callback(move |e: Event| {
                make(e.target_unchecked_into::<HtmlInputElement>().checked())
            })
        };
        let choices = policies::Choices::read(&sim);
        let policy_edge = policies::edge_name(&sim, policies::policy_edge(&sim));
        let breaker_text = match f.policies.breaker {
            None => "off".to_string(),
            Some(state) => match f.policies.breaker_refused {
                0 => events::state_name(state).to_string(),
                n => format!("{}, {n} refused", events::state_name(state)),
            },
        };
        let budget_text = if f.policies.budget_tokens.is_empty() {
            "off".to_string()
        } else {
            let tokens = f.policies.budget_tokens.iter().map(|t| format!("{t:.1}"));
            let tokens = tokens.collect::<Vec<_>>().join(" · ");
            format!("{tokens} of {} tokens", policies::BUDGET_MAX_TOKENS)
        };
        let breaker_knobs = policies::breaker_knobs(&sim);
        let bulkhead = policies::bulkhead_size(&sim);

        let measured = f.services.get(last).and_then(|row| row.amplification);
        let tries_word = if f.tries == 1 { "try" } else { "tries" };
        let retries_word = if retries == 1 { "retry" } else { "retries" };
        let power = (0..f.hops).map(|_| f.tries.to_string()).collect::<Vec<_>>().join(" × ");
        let menu = lab::menu();
        let has_variant = self.experiment.variant.is_some();

        html! {
            <main class="app">
                <header class="masthead">
                    <h1>{ "Brownout" }</h1>
                    <label for="experiment" class="menu-label">{ "Experiment" }</label>
                    <select id="experiment" onchange={on_select(Msg::Choose)}>
                        { for menu.iter().map(|(id, title, lesson)| html! {
                            <option value={*id} selected={*id == self.experiment.id}>
                                { if *lesson { title.clone() } else { format!("{title} (scenario)") } }
                            </option>
                        }) }
                    </select>
                    <p class="subtitle">{ &scenario.name }</p>
                </header>

                { self.view_lesson(ctx) }

                <section class={classes!("stage", self.compare.then_some("comparing"))} aria-label="Service diagram">
                    <div class="panes">
                        { for self.panes.iter().enumerate().map(|(i, pane)| {
                            let label = format!("Requests flowing from the client through {} services{}",
                                pane.sim.borrow().scenario().services.len(),
                                pane.figures.policies.breaker.map(|s| format!(
                                    "; the circuit breaker on {policy_edge} is {}", events::state_name(s))).unwrap_or_default());
                            let down = link.callback(move |e: MouseEvent| Msg::Down(i, e.offset_x() as f64, e.offset_y() as f64));
                            let moved = link.callback(|e: MouseEvent| Msg::Move(e.offset_x() as f64, e.offset_y() as f64));
                            let up = link.callback(|_: MouseEvent| Msg::Up);
                            html! {
                                <figure class="pane" data-pane={i.to_string()}>
                                    if self.panes.len() > 1 {
                                        <figcaption class="pane-label">{ &pane.label }</figcaption>
                                    }
                                    <canvas id={if i == 0 { "diagram".to_string() } else { format!("diagram-{i}") }}
                                        style={format!("height:{:.0}px", diagram::height_for(&pane.sim.borrow()))}
                                        ref={pane.canvas.clone()} role="img" aria-label={label}
                                        onmousedown={down} onmousemove={moved} onmouseup={up.clone()} onmouseleave={up} />
                                </figure>
                            }
                        }) }
                    </div>
                    <p class="hint">{ "Click a service or an edge for its details; drag a service to move it." }</p>
                    { self.view_legend() }
                </section>

                if self.compare {
                    { self.view_comparison() }
                }

                { self.view_detail(ctx) }

                { self.view_phase_map(ctx) }

                <section class="charts" aria-labelledby="charts-title">
                    <h2 id="charts-title">{ "The last minute" }</h2>
                    <canvas id="charts" ref={self.charts.clone()} role="img" aria-label="Charts of the run" />
                    { self.view_scrubber(ctx) }
                </section>

                // The retry arithmetic, where retries are the lesson.
                if f.uniform_tries && lesson.map_or(f.tries > 1, |l| l.controls.contains(&Control::Retries)) {
                <section class="lesson">
                    <div class="lesson-figure">
                        <span class="lesson-label">{ format!("Predicted at {last_name}") }</span>
                        <span id="predicted" class="big" data-value={format!("{:.4}", f.predicted)}>{ times(f.predicted) }</span>
                    </div>
                    <div class="lesson-figure">
                        <span class="lesson-label">{ format!("Measured at {last_name}") }</span>
                        <span id="measured" class="big" data-value={measured.map(|m| format!("{m:.4}")).unwrap_or_default()}>
                            { measured.map(times).unwrap_or_else(|| "measuring…".into()) }
                        </span>
                    </div>
                    <p class="lesson-text">
                        { format!("{retries} {retries_word} = {} {tries_word} per hop. ", f.tries) }
                        { format!("At 100 % errors, {} hops give {power} = {} {} per request at {last_name}. ",
                            f.hops, f.tries.pow(f.hops), if f.tries.pow(f.hops) == 1 { "attempt" } else { "attempts" }) }
                        if error_pct < 100.0 {
                            { format!("At {error_pct:.0} % errors, the retry policy alone predicts {}.", times(f.predicted)) }
                        }
                        if choices.breaker || choices.budget {
                            { " The breaker and the retry budget refuse calls the retries would make: expect less." }
                        }
                        <br/>
                        <small>{ "Measured: attempts per client request, averaged over the requests that finished in the last 10 simulated seconds, counting only requests sent after the last change (shown once 10 s have passed since it). The prediction counts errors only: timeouts (retried too) and full queues move the measurement away from it." }</small>
                    </p>
                </section>
                }

                <section class="controls" aria-label="Controls">
                    if !wanted.is_empty() {
                        <p class="matters-note">{ "★ marks the controls that matter for this experiment." }</p>
                    }
                    if self.compare {
                        <p class="matters-note">{ "Every control changes both panes alike." }</p>
                    }
                    <fieldset class="workload">
                        <legend>{ "Load and services" }</legend>
                    <div class={control_class(Control::ErrorRate)}>
                        <label for="error-rate">{ format!("{last_name} error rate") }</label>
                        <input type="range" id="error-rate" min="0" max="100" step="1"
                            value={error_pct.to_string()} oninput={on_range(Msg::ErrorRate)}
                            title="The share of tries the last service answers with an error" />
                        <output for="error-rate">{ format!("{error_pct:.0} %") }</output>
                    </div>
                    <div class={control_class(Control::Latency)}>
                        <label for="latency">{ format!("{last_name} service time") }</label>
                        <input type="range" id="latency" min={policies::LATENCY_MIN_MS.to_string()}
                            max={policies::LATENCY_MAX_MS.to_string()} step="1"
                            value={format!("{:.0}", latency_ms.clamp(policies::LATENCY_MIN_MS, policies::LATENCY_MAX_MS))}
                            oninput={on_range(Msg::Latency)}
                            title="Mean time the last service works on one try, keeping its distribution's shape" />
                        <output for="latency">{ format!("{latency_ms:.0} ms") }</output>
                    </div>
                    <div class={control_class(Control::Load)}>
                        <label for="load">{ "Client load" }</label>
                        <input type="range" id="load" min="1" max={self.load_max.to_string()} step="1"
                            value={load.to_string()} oninput={on_range(Msg::Load)}
                            title="Requests the client sends per second; replaces the scenario's schedule" />
                        <output for="load">{ format!("{load:.0} req/s") }</output>
                    </div>
                    <div class={control_class(Control::Retries)}>
                        <label for="retries">{ "Retries per hop" }</label>
                        <input type="range" id="retries" min="0" max={RETRIES_MAX.to_string()} step="1"
                            value={retries.to_string()} oninput={on_range(Msg::Retries)}
                            title="Retries after the first try, on every hop" />
                        <output for="retries">{ format!("{retries} {retries_word} = {} {tries_word}", f.tries) }</output>
                    </div>
                    </fieldset>
                    <div class="control playback">
                        <button id="play" onclick={link.callback(|_| Msg::TogglePlay)}>
                            { if playback.playing { "Pause" } else { "Play" } }
                        </button>
                        <button id="step" onclick={link.callback(|_| Msg::Step)} title="Pause and advance 0.1 simulated seconds">{ "Step" }</button>
                        <button id="restart" onclick={link.callback(|_| Msg::Restart)}>{ "Restart" }</button>
                        <label for="speed">{ "Speed" }</label>
                        <select id="speed" onchange={on_select(Msg::Speed)}>
                            { for SPEEDS.iter().map(|&s| html! {
                                <option value={s.to_string()} selected={s == playback.speed}>{ format!("{s}×") }</option>
                            }) }
                        </select>
                        <label for="seed">{ "Seed" }</label>
                        <input type="number" id="seed" min="0" step="1" value={scenario.seed.to_string()}
                            onchange={on_change_input(Msg::Seed)} title="Restart with this seed: the same seed replays the same run" />
                        <span class="clock" id="clock">{ format!("t = {:.1} s", f.sim_seconds) }</span>
                    </div>
                    <fieldset class="policies">
                        <legend>{ "Policies" }</legend>
                        <div class={control_class(Control::Timeout)}>
                            <label for="timeout">{ "Timeout per try" }</label>
                            <input type="range" id="timeout"
                                min={policies::TIMEOUT_MIN_MS.to_string()} max={policies::TIMEOUT_MAX_MS.to_string()}
                                step={policies::TIMEOUT_STEP_MS.to_string()}
                                value={choices.timeout_ms.to_string()} aria-describedby="timeout-help"
                                oninput={on_range(Msg::Timeout)} />
                            <output for="timeout">{ format!("{:.0} ms", choices.timeout_ms) }</output>
                            <small id="timeout-help">{ format!(
                                "On {policy_edge}. A caller that gives up leaves the work running: orphaned below.") }</small>
                        </div>
                        <div class={classes!(control_class(Control::Breaker), "toggle")}>
                            <input type="checkbox" role="switch" id="breaker" checked={choices.breaker}
                                aria-describedby="breaker-help" onchange={on_switch(Msg::Breaker)} />
                            <label for="breaker">{ "Circuit breaker" }</label>
                            <output for="breaker" id="breaker-state"
                                class={f.policies.breaker.map(|s| events::state_name(s).to_lowercase())}>
                                { breaker_text }
                            </output>
                            <small id="breaker-help">{ format!(
                                "On {policy_edge}. Switched on, it opens when {:.0} % of the last {} calls failed ({} at least); open {:.0} s, then {} trial calls.",
                                policies::BREAKER_THRESHOLD, policies::BREAKER_WINDOW, policies::BREAKER_MINIMUM_CALLS,
                                policies::BREAKER_OPEN_MS / 1000.0, policies::BREAKER_TRIALS) }</small>
                        </div>
                        if let Some((threshold, window)) = breaker_knobs {
                            if let Some(threshold) = threshold {
                                <div class={control_class(Control::Breaker)}>
                                    <label for="breaker-threshold">{ "Breaker opens at" }</label>
                                    <input type="range" id="breaker-threshold" min={policies::THRESHOLD_MIN.to_string()}
                                        max={policies::THRESHOLD_MAX.to_string()} step="5" value={threshold.to_string()}
                                        oninput={on_range(Msg::BreakerThreshold)}
                                        title="Failure rate, in per cent of the window, at or above which the breaker opens" />
                                    <output for="breaker-threshold">{ format!("{threshold:.0} % failed") }</output>
                                </div>
                            }
                            <div class={control_class(Control::Breaker)}>
                                <label for="breaker-window">{ if threshold.is_some() { "Breaker window" } else { "Failures in a row" } }</label>
                                <input type="range" id="breaker-window" min={policies::WINDOW_MIN.to_string()}
                                    max={policies::WINDOW_MAX.to_string()} step="1" value={window.to_string()}
                                    oninput={on_range(Msg::BreakerWindow)}
                                    title="The calls the breaker judges by, or the failures in a row that trip it" />
                                <output for="breaker-window">{ if threshold.is_some() { format!("{window} calls") } else { format!("{window} failures") } }</output>
                            </div>
                        }
                        <div class={classes!(control_class(Control::Budget), "toggle")}>
                            <input type="checkbox" role="switch" id="retry-budget" checked={choices.budget}
                                aria-describedby="budget-help" onchange={on_switch(Msg::Budget)} />
                            <label for="retry-budget">{ "Retry budget" }</label>
                            <output for="retry-budget" id="budget-state">{ budget_text }</output>
                            <small id="budget-help">{ format!(
                                "On every hop, client first. gRPC token bucket of {}: a failed try takes 1, a success adds {}; no retries at {} or fewer.",
                                policies::BUDGET_MAX_TOKENS, policies::BUDGET_TOKEN_RATIO, policies::BUDGET_MAX_TOKENS / 2.0) }</small>
                        </div>
                        <div class={classes!(control_class(Control::Backoff), "select")}>
                            <label for="jitter">{ "Backoff between retries" }</label>
                            <select id="jitter" aria-describedby="jitter-help" onchange={on_select(Msg::Backoff)}>
                                { for policies::BACKOFF_CHOICES.iter().map(|&(value, text, _)| html! {
                                    <option value={value} selected={value == choices.backoff}>{ text }</option>
                                }) }
                            </select>
                            <small id="jitter-help">{ format!(
                                "On every hop. Exponential: {:.0} ms × 2ⁿ, capped at {:.0} s; jitter spreads retries apart.",
                                policies::BACKOFF_BASE_MS, policies::BACKOFF_CAP_MS / 1000.0) }</small>
                        </div>
                        if let Some(size) = bulkhead {
                            <div class={control_class(Control::Bulkhead)}>
                                <label for="bulkhead">{ "Bulkhead size" }</label>
                                <input type="range" id="bulkhead" min={policies::BULKHEAD_MIN.to_string()}
                                    max={policies::BULKHEAD_MAX.to_string()} step="1" value={size.to_string()}
                                    oninput={on_range(Msg::Bulkhead)}
                                    title="Concurrent calls (or threads) each bulkheaded dependency may hold" />
                                <output for="bulkhead">{ format!("{size} at once") }</output>
                            </div>
                        }
                    </fieldset>
                    if f.lagging {
                        <p class="notice">{ "The simulation cannot keep up at this speed and load: it is running slower than chosen." }</p>
                    }
                    if let Some(notice) = &self.notice {
                        <p class="notice" role="alert">{ notice }</p>
                    }
                </section>

                <section class="events" aria-labelledby="events-title">
                    <h2 id="events-title">{ "Breaker and retry-budget events" }</h2>
                    if f.events.is_empty() {
                        <p class="events-empty">{ "None yet. Turn on the breaker or the retry budget and raise the error rate." }</p>
                    } else {
                        <ol id="events">
                            { for f.events.iter().map(|line| html! {
                                <li class={line.class}>
                                    <span class="when">{ &line.when }</span>
                                    <span class="edge">{ &line.edge }</span>
                                    <span class="what">{ &line.what }</span>
                                    <span class="cause">{ &line.cause }</span>
                                </li>
                            }) }
                        </ol>
                    }
                </section>

                <div class="table-scroll">
                <table class="figures" aria-label="Live figures per service">
                    <thead><tr>
                        <th scope="col">{ "Service" }</th>
                        <th scope="col"><abbr title="Tries received per second (the client: requests sent)">{ "Attempts/s" }</abbr></th>
                        <th scope="col">{ "Amplification" }</th>
                        <th scope="col">{ "OK" }</th>
                        <th scope="col">{ "Degraded" }</th>
                        <th scope="col">{ "Failed" }</th>
                        <th scope="col"><abbr title="Tries served after the caller had given up, per second">{ "Orphaned/s" }</abbr></th>
                        <th scope="col">{ "Busy workers" }</th>
                        <th scope="col">{ "Queue" }</th>
                    </tr></thead>
                    <tbody>
                        <tr class="client-row">
                            <th scope="row">{ "client" }</th>
                            <td id="rate-client">{ format!("{:.1}", f.requests_per_sec) }</td>
                            <td>{ "1×" }</td>
                            { share_cells("client", f.client) }
                            <td>{ "–" }</td>
                            <td>{ "–" }</td>
                            <td>{ "–" }</td>
                        </tr>
                        { for f.services.iter().map(|row| html! {
                            <tr>
                                <th scope="row">{ &row.name }</th>
                                <td id={format!("rate-{}", row.name)}>{ format!("{:.1}", row.attempts_per_sec) }</td>
                                <td id={format!("amp-{}", row.name)}
                                    data-value={row.amplification.map(|a| format!("{a:.4}")).unwrap_or_default()}>
                                    { row.amplification.map(times).unwrap_or_else(|| "…".into()) }
                                </td>
                                { share_cells(&row.name, row.shares) }
                                <td id={format!("orphaned-{}", row.name)}>{ format!("{:.1}", row.orphaned_per_sec) }</td>
                                <td>{ format!("{} / {}", row.busy_workers, row.workers) }</td>
                                <td>{ format!("{} / {}", row.queued, row.queue_capacity) }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                </div>
                <p class="footnote">{ format!(
                    "Rates and shares cover the last 5 simulated seconds: the client's of its requests, a service's of the tries it answered. Network latency {} ms per hop; {} per try before a timeout.",
                    scenario.calls.first().map(|c| c.latency_ms).unwrap_or(0.0),
                    scenario.calls.iter().map(|c| format!("{} → {}: {} s", c.from, c.to, c.timeout_ms / 1000.0)).collect::<Vec<_>>().join(", ")
                ) }</p>
                if has_variant {
                    <p class="footnote">
                        <label>
                            <input type="checkbox" id="compare" checked={self.compare} onchange={on_switch(Msg::Compare)} />
                            { " Run the comparison beside the experiment" }
                        </label>
                    </p>
                }
            </main>
        }
    }
}

/// Where the browser keeps the nodes a user moved in an experiment's
/// diagram, so that the layout comes back with the experiment.
fn placement_key(preset: &str) -> String {
    format!("brownout.layout.{preset}")
}

/// The stored layout: one `x,y` pair per node (shares of the canvas), or
/// `-` for a node left where the automatic layout puts it. Anything that
/// does not read is ignored.
fn load_placement(preset: &str) -> Placement {
    let stored = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(&placement_key(preset)).ok().flatten())
        .unwrap_or_default();
    stored
        .split(';')
        .filter(|item| !item.is_empty())
        .map(|item| {
            let (x, y) = item.split_once(',')?;
            let (x, y) = (x.parse::<f64>().ok()?, y.parse::<f64>().ok()?);
            ((0.0..=1.0).contains(&x) && (0.0..=1.0).contains(&y)).then_some((x, y))
        })
        .collect()
}

fn save_placement(preset: &str, placement: &Placement) {
    let text: Vec<String> = placement
        .iter()
        .map(|p| {
            p.map_or("-".into(), |(x, y)| {
                format!("{:.4},{:.4}", x.clamp(0.0, 1.0), y.clamp(0.0, 1.0))
            })
        })
        .collect();
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        // Private windows may refuse storage: the layout then lasts the visit.
        let _ = storage.set_item(&placement_key(preset), &text.join(";"));
    }
}

/// One tenth of a simulated second: what the Step button advances.
const STEP: u64 = 100 * MILLISECOND;

/// Puts the chosen experiment into the address, so that a reload or a
/// shared link opens it again.
fn set_url_preset(id: &str) {
    let Some(window) = web_sys::window() else { return };
    let Ok(history) = window.history() else { return };
    let Ok(url) = web_sys::Url::new(&window.location().href().unwrap_or_default()) else {
        return;
    };
    url.search_params().set("preset", id);
    let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url.href()));
}
/// Sizes the canvas's backing store to its CSS size times the device pixel
/// ratio, so that it stays sharp on high-density screens and projectors,
/// and returns a context that draws in CSS pixels.
fn prepare(canvas: &HtmlCanvasElement) -> Option<(CanvasRenderingContext2d, f64, f64)> {
    let ratio = web_sys::window()?.device_pixel_ratio().max(1.0);
    let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
    if w <= 0.0 || h <= 0.0 {
        return None;
    }
    let (pw, ph) = ((w * ratio).round() as u32, (h * ratio).round() as u32);
    if canvas.width() != pw || canvas.height() != ph {
        canvas.set_width(pw);
        canvas.set_height(ph);
    }
    let ctx = canvas.get_context("2d").ok()??.dyn_into::<CanvasRenderingContext2d>().ok()?;
    ctx.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0).ok()?;
    Some((ctx, w, h))
}

/// Writes what the badge shows onto the canvas element, as `data-badge`
/// (the state) and `data-badge-box` (x, y, width, height in CSS pixels):
/// the canvas's pixels are opaque to tests and tools, its attributes are
/// not. Called only when the badge changes.
fn describe_badge(canvas: &HtmlCanvasElement, badge: Option<Badge>) {
    match badge {
        Some(b) => {
            let _ = canvas.set_attribute("data-badge", events::state_name(b.state));
            let rect = format!("{:.0} {:.0} {:.0} {:.0}", b.x, b.y, b.w, b.h);
            let _ = canvas.set_attribute("data-badge-box", &rect);
        }
        None => {
            let _ = canvas.remove_attribute("data-badge");
            let _ = canvas.remove_attribute("data-badge-box");
        }
    }
}

/// Parses a slider's value, refusing what is not a number within range.
fn parse_in(value: &str, what: &str, min: f64, max: f64) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x >= min && x <= max => Ok(x),
        _ => Err(format!(
            "{what}: {value:?} is not a number from {min} to {max}; kept the previous value"
        )),
    }
}

/// The OK, degraded and failed cells of a row of the figures table.
fn share_cells(name: &str, shares: Option<Shares>) -> Html {
    let cell = |what: &str, share: Option<f64>| {
        html! {
            <td id={format!("{what}-{name}")}>{ share.map(percent).unwrap_or_else(|| "–".into()) }</td>
        }
    };
    html! {
        <>
            { cell("ok", shares.map(|s| s.ok)) }
            { cell("degraded", shares.map(|s| s.degraded)) }
            { cell("failed", shares.map(|s| s.failed)) }
        </>
    }
}

/// Writes any panic to the console and into a visible banner, so that a
/// bug shows as a message instead of a frozen canvas.
pub fn install_panic_banner() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&message.clone().into());
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            if let Ok(banner) = doc.create_element("div") {
                banner.set_id("fatal");
                banner.set_attribute("role", "alert").ok();
                banner.set_text_content(Some(&format!(
                    "Brownout stopped on an internal error: {message}"
                )));
                if let Some(body) = doc.body() {
                    body.prepend_with_node_1(&banner).ok();
                }
            }
        }
    }));
}
