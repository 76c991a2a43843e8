//! # brownout-web
//!
//! The Brownout page. It owns a [`Sim`] and animates it:
//!
//! ```text
//!  address (?preset=…&retries=3&t=30) ─► View ─► panes, settings, seed
//!  sliders, policy knobs ─► Msg ─► sim.set_*(..)     (live, no reload)
//!                               └─► the address, replaced (debounced)
//!  requestAnimationFrame ─► advance by real elapsed time × speed
//!                           (or fast-forward to the link's start, in
//!                           pieces; or start again at its loop time)
//!                        ─► read new policy events into the EventLog
//!                        ─► paint the canvas (nodes, edges, dots, badge)
//!                        ─► every 250 ms: Figures ─► Yew re-renders panels
//! ```
//!
//! The dots never go through Yew's virtual DOM: the canvas is painted
//! directly each frame, and Yew renders only the controls and the figures,
//! four times a second.
//!
//! With `embed=1` the page is a frame for a slide: the diagram fills it,
//! under it only the controls the link names, and it tells its host page
//! how tall it would like to be (`www/embed.js` listens). See
//! docs/embedding.md.

// The unit tests need a browser: the SVG export is checked with its XML
// parser, the theme with its stylesheet.
#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

mod address;
mod animation;
mod charts;
mod controls;
mod diagram;
mod events;
mod figures;
mod lab;
mod overflow;
mod palette;
mod policies;
mod settings;
mod share;
mod stats;
mod surface;
mod views;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use brownout_sim::lesson::Control;
use brownout_sim::time::{Micros, MILLISECOND, SECOND};
use brownout_sim::{ParamError, Scenario, Sim};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlElement, HtmlInputElement};
use yew::prelude::*;

use address::{Baseline, Ignored, Shown, View};
use animation::AnimationLoop;
pub use animation::{frames_run, running_loops};
use brownout_sim::phase::PhaseMap;
use controls::{on_select, on_switch};
use diagram::{Badge, Hit, Layout, Look, Motion, Painter, Placement, Scene};
use events::EventLog;
use figures::{percent, times, Figures, Shares};
use lab::Experiment;
use palette::Theme;
use settings::Settings;
use share::{Export, Recording};
use surface::CanvasSurface;

/// Where the page's view comes from and whether it goes back there.
#[derive(Clone, Debug, Default, PartialEq, Properties)]
pub struct Props {
    /// The query string to start from (`?preset=…`, as `location.search`
    /// gives it); none opens the default experiment as it ships.
    #[prop_or_default]
    pub query: Option<AttrValue>,
    /// Whether the app owns the page: it then writes its view back into
    /// the address as it changes, and its theme onto the whole document.
    /// Off for an app mounted beside others (the browser tests).
    #[prop_or_default]
    pub owns_page: bool,
}

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
pub(crate) const SPEEDS: [f64; 8] = [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0];
pub(crate) const DEFAULT_SPEED: f64 = 0.25;

/// Bounds of the load slider, in requests per second.
pub(crate) const LOAD_MAX: f64 = 200.0;
/// Bounds of the retries slider.
pub(crate) const RETRIES_MAX: u32 = 5;

/// How long the address waits after a change before it is rewritten, in
/// milliseconds: dragging a slider fires many changes, and browsers
/// throttle a page that replaces its address too often.
const ADDRESS_DELAY_MS: u32 = 200;

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
    /// The run reached the link's loop time and started again.
    Looped,
    /// The run reached the link's pause time and paused itself.
    Paused,
    /// A theme by name.
    Theme(String),
    /// Hide the notice of parameters the address had that were left out.
    DismissAddressNotice,
    /// Write the view into the address now.
    WriteAddress,
    /// Copy a link to this view, or the code that embeds it.
    CopyLink,
    CopyEmbed,
    /// Whether the clipboard took the text.
    Copied(bool),
    /// Whether shared links start at the current simulated time.
    ShareFromNow(bool),
    ExportSvg,
    ExportPng,
    RecordClip,
    Exported(Export),
    ExportFailed(String),
}

/// One running simulation and its diagram. The page has one pane, or two
/// when a comparison is shown: the experiment and its variant, fed the
/// same load and seed, moved in lockstep.
struct Pane {
    label: String,
    /// The controls' values when the pane was made: what its label and its
    /// lesson's question are about.
    set_up_settings: Settings,
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
            set_up_settings: Settings::read(&sim),
            sim: Rc::new(RefCell::new(sim)),
            log: Rc::new(RefCell::new(log)),
            canvas: NodeRef::default(),
            figures,
        })
    }

    /// What the controls changed in this pane's run from what it was set
    /// up to show, in words, one entry a control.
    fn changes(&self) -> Vec<String> {
        Settings::read(&self.sim.borrow()).differences(&self.set_up_settings)
    }

    /// The note after the pane's name that says how its run was changed
    /// (" · changed: breaker off"), on the page and in an export alike;
    /// `moved` when controls were moved since the experiment opened, which
    /// may have changed the run where the controls read as set.
    fn change_note(&self, moved: bool) -> Option<String> {
        let changes = self.changes();
        if !changes.is_empty() {
            Some(format!(" · changed: {}", changes.join("; ")))
        } else {
            moved.then(|| " · changed".into())
        }
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
    /// Whether a control has changed the runs since the experiment opened
    /// (a link's own settings aside: the panes' differences name those).
    /// Controls that read as set need not mean the run is as set: a run
    /// changed midway mixes two settings, and moving the load slider away
    /// and back drops a schedule of rates, the retries slider sets every
    /// hop. So a restart keeps it; opening the experiment again clears it.
    controls_moved: Cell<bool>,
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
    /// The experiment as it ships: what a link leaves out.
    baseline: Baseline,
    owns_page: bool,
    theme: Rc<Cell<Theme>>,
    /// Only the diagram and the controls in `shown`.
    embed: bool,
    shown: Vec<Shown>,
    /// Where the run starts (the link's `t`), where it starts again (its
    /// `loop`), and the time a fast-forward is heading for.
    start: Rc<Cell<Micros>>,
    loop_at: Rc<Cell<Option<Micros>>>,
    /// Simulated time at which the run pauses by itself (a link's `until`),
    /// landing on it exactly.
    pause_at: Rc<Cell<Option<Micros>>>,
    /// The run's answer to the lesson's question, taken at exactly the
    /// question's time and kept while the run goes on, so that "in the
    /// minute" stays the minute's figure; `None` before that time.
    answer: Rc<RefCell<Option<lab::Answer>>>,
    fast_forward: Rc<Cell<Option<Micros>>>,
    /// Set while a clip is recorded: the diagram then writes its note on
    /// sampled dots into the canvas (see [`Recording`]).
    captioned: Rc<Cell<bool>>,
    /// The fast-forward's target in seconds, as last shown.
    fast_forwarding: Option<f64>,
    /// Parameters of the address that were left out, and why.
    address_notice: Vec<Ignored>,
    /// The pending rewrite of the address.
    address_timer: Option<gloo_timers::callback::Timeout>,
    /// What was last copied, and whether the clipboard took it.
    shared: Option<Shared>,
    share_from_now: bool,
    /// Select the shared text once rendered (the clipboard refused it).
    select_shared: bool,
    shared_field: NodeRef,
    last_export: Option<Export>,
    recording: Option<Recording>,
    root: NodeRef,
    /// Keeps the tables' scroll marks true across window resizes.
    _table_marks: Option<overflow::MarkOnResize>,
}

/// A link or embed code put on the clipboard, or left for the reader to
/// copy.
struct Shared {
    what: &'static str,
    text: String,
    /// `None` while the clipboard answers.
    copied: Option<bool>,
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
        self.answer.borrow_mut().take();
        self.controls_moved.set(false);
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
        self.load_max = settings::load_max(&experiment.scenario);
        match Baseline::of(&experiment) {
            Ok(baseline) => self.baseline = baseline,
            Err(e) => self.notice = Some(format!("the experiment cannot run: {e}")),
        }
        self.compare = panes.len() > 1;
        self.panes = panes;
        self.experiment = experiment;
        self.guess = None;
        self.selected.set(None);
        self.chart_end.set(None);
        self.phase = None;
        *self.placement.borrow_mut() = load_placement(self.experiment.id);
    }

    /// Applies a control's change to every pane, so that the panes keep
    /// differing only where the comparison says, and notes that a control
    /// moved.
    fn each(&self, change: impl Fn(&mut Sim) -> Result<(), ParamError>) -> Result<(), String> {
        self.controls_moved.set(true);
        self.on_panes(change)
    }

    /// Applies a change to every pane that no control made: a link's
    /// settings, or the same settings carried over to new panes.
    fn on_panes(&self, change: impl Fn(&mut Sim) -> Result<(), ParamError>) -> Result<(), String> {
        for pane in &self.panes {
            change(&mut pane.sim.borrow_mut()).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Starts every pane's run again from its live scenario, with `seed`:
    /// the same seed and settings give the same run, whether the page was
    /// just opened, restarted, or looped.
    fn restart(&mut self, seed: u64) {
        for pane in &mut self.panes {
            let mut scenario = pane.sim.borrow().scenario().clone();
            scenario.seed = seed;
            if let Ok(sim) = Sim::new(scenario) {
                *pane.sim.borrow_mut() = sim;
            }
            pane.log.borrow_mut().clear();
            // The controls show some values from the figures (the error
            // rate): read them now, or the first render shows the
            // preset's values until the next refresh.
            pane.figures = Figures::read(&pane.sim.borrow(), &pane.log.borrow(), false);
        }
        self.guess = None;
        self.chart_end.set(None);
    }

    /// Puts the panes at a view's settings, from the start, and the page
    /// at its speed, theme, framing and times.
    fn apply_view(&mut self, view: &View) {
        let current = Settings::read(&self.panes[0].sim.borrow());
        if let Err(e) = self.on_panes(|sim| view.settings.apply(sim, &current)) {
            self.notice = Some(format!("the address's settings do not apply: {e}"));
        }
        self.restart(view.settings.seed);
        let p = self.playback.get();
        self.playback.set(Playback { speed: view.speed, ..p });
        self.theme.set(view.theme);
        self.embed = view.embed;
        self.shown = view.controls.clone();
        let micros = |s: f64| (s * SECOND as f64).round() as Micros;
        self.start.set(micros(view.start_s));
        self.loop_at.set(view.loop_s.map(micros));
        self.pause_at.set(view.until_s.map(micros));
        self.fast_forward.set((view.start_s > 0.0).then(|| micros(view.start_s)));
        self.fast_forwarding = (view.start_s > 0.0).then_some(view.start_s);
    }

    /// The view as it stands: what a link to this page says.
    fn current_view(&self) -> View {
        let seconds = |t: Micros| t as f64 / SECOND as f64;
        View {
            preset: self.experiment.id,
            settings: Settings::read(&self.panes[0].sim.borrow()),
            speed: self.playback.get().speed,
            compare: self.compare,
            start_s: seconds(self.start.get()),
            embed: self.embed,
            controls: self.shown.clone(),
            loop_s: self.loop_at.get().map(seconds),
            until_s: self.pause_at.get().map(seconds),
            theme: self.theme.get(),
        }
    }

    /// The view a shared link gives: this one, started at the current
    /// simulated time if asked.
    fn shared_view(&self) -> View {
        let mut view = self.current_view();
        if self.share_from_now {
            let now = self.panes[0].sim.borrow().now() / SECOND;
            view.start_s = (now as f64).min(address::TIME_MAX_S);
            if view.until_s.is_some_and(|u| u <= view.start_s) {
                view.until_s = None;
            }
            if view.loop_s.is_some_and(|l| l <= view.start_s) {
                view.loop_s = None;
            }
        }
        view
    }

    /// Rewrites the address a moment after the last change. An embedded
    /// page leaves its address as the host page wrote it: nobody sees it,
    /// and the host may be reading it.
    fn schedule_address(&mut self, ctx: &Context<Self>) {
        if !self.owns_page || self.embed {
            return;
        }
        let link = ctx.link().clone();
        self.address_timer =
            Some(gloo_timers::callback::Timeout::new(ADDRESS_DELAY_MS, move || {
                link.send_message(Msg::WriteAddress)
            }));
    }

    /// The experiment's title, for embed code and exports.
    fn title(&self) -> String {
        format!("Brownout: {}", lab::title_of(&self.experiment.scenario))
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
        let theme = self.theme.clone();
        let (start, loop_at, fast_forward) =
            (self.start.clone(), self.loop_at.clone(), self.fast_forward.clone());
        let pause_at = self.pause_at.clone();
        let captioned = self.captioned.clone();
        let answer = self.answer.clone();
        let question = self.experiment.scenario.lesson.as_ref().and_then(|l| l.question.clone());
        let answer_at = question.as_ref().map(lab::answer_time);
        let paused = ctx.link().callback(|_: ()| Msg::Paused);
        let figures = ctx.link().callback(Msg::Figures);
        let looped = ctx.link().callback(|_: ()| Msg::Looped);
        let embed = self.embed.then(|| self.root.clone());
        let reduced_motion = web_sys::window()
            .and_then(|w| w.match_media("(prefers-reduced-motion: reduce)").ok().flatten());
        let mut painters: Vec<Painter> = panes.iter().map(|_| Painter::default()).collect();
        let mut shown_badges: Vec<Option<Badge>> = vec![None; panes.len()];
        let mut shown_motion: Vec<Option<Motion>> = vec![None; panes.len()];
        let mut last_frame: Option<f64> = None;
        let mut last_figures = f64::NEG_INFINITY;
        let mut charts_due = false;
        let mut posted_height = 0.0;
        let mut lagging = false;
        // Real and simulated time over the recent frames, to tell whether
        // the run keeps up with the chosen speed: slow frames (clamped to
        // MAX_FRAME_GAP_MS) or an exhausted event budget both fall behind.
        let (mut wanted_ms, mut got_ms) = (0.0f64, 0.0f64);
        self.animation = Some(AnimationLoop::start(move |now_ms| {
            // The frame's own work, for the frame statistics (stats.rs).
            let work_start = stats::now_ms();
            let mut painted = false;
            if let Some(target) = stats::take_fast_forward() {
                fast_forward.set(Some(target));
            }
            let real = last_frame.map_or(0.0, |t| (now_ms - t).max(0.0));
            let gap = real.min(MAX_FRAME_GAP_MS);
            last_frame = Some(now_ms);
            let play = playback.get();
            let budget = EVENTS_PER_FRAME / panes.len() as u64;
            if let Some(target) = fast_forward.get() {
                // To the link's start, a frame's budget of events at a
                // time, whatever the real time: the picture catches up
                // without a frame that stalls.
                let reached = {
                    let mut lead = panes[0].0.borrow_mut();
                    lead.advance_to_within(target, budget);
                    lead.now()
                };
                for (sim, _, _) in &panes[1..] {
                    sim.borrow_mut().advance_to_within(reached, budget);
                }
                let all_there = panes.iter().all(|(sim, _, _)| sim.borrow().now() >= target);
                if all_there {
                    fast_forward.set(None);
                }
                (wanted_ms, got_ms, lagging) = (0.0, 0.0, false);
            } else if play.playing && gap > 0.0 {
                let mut lead = panes[0].0.borrow_mut();
                let step = (gap * play.speed * MILLISECOND as f64).round() as u64;
                let before = lead.now();
                let mut target = before.saturating_add(step);
                // A loop lands on its time exactly, the same every round.
                if let Some(at) = loop_at.get() {
                    target = target.min(at.max(before));
                }
                // So does a pause, once: past it, the run goes on when the
                // user plays it again.
                let pausing = pause_at.get().filter(|&at| before < at && target >= at);
                if let Some(at) = pausing {
                    target = at;
                }
                // And on the question's time, where the answer is taken.
                if let Some(at) = answer_at.filter(|&at| before < at && target >= at) {
                    target = target.min(at);
                }
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
                if pausing.is_some_and(|at| reached >= at) {
                    playback.set(Playback { playing: false, ..play });
                    paused.emit(());
                }
                if loop_at.get().is_some_and(|at| reached >= at) {
                    // Round again: the same scenario and seed from zero,
                    // then on to the start.
                    for (sim, log, _) in &panes {
                        let scenario = sim.borrow().scenario().clone();
                        if let Ok(fresh) = Sim::new(scenario) {
                            *sim.borrow_mut() = fresh;
                        }
                        log.borrow_mut().clear();
                    }
                    let t = start.get();
                    fast_forward.set((t > 0).then_some(t));
                    looped.emit(());
                }
            } else {
                (wanted_ms, got_ms, lagging) = (0.0, 0.0, false);
            }
            let motion = match &reduced_motion {
                Some(query) if query.matches() => Motion::Reduced,
                _ => Motion::Full,
            };
            let look = Look { theme: theme.get(), motion };
            {
                let placement = placement.borrow();
                for (i, (sim, log, canvas)) in panes.iter().enumerate() {
                    let sim = sim.borrow();
                    let mut log = log.borrow_mut();
                    log.update(&sim);
                    if let (0, Some(q), Some(at)) = (i, &question, answer_at) {
                        let mut kept = answer.borrow_mut();
                        if sim.now() < at {
                            // Not there yet, or a fresh run after a restart.
                            *kept = None;
                        } else if kept.is_none() && sim.now() == at {
                            *kept = lab::answer(q, &sim, &log);
                        }
                    }
                    let Some(canvas) = canvas.cast::<HtmlCanvasElement>() else { continue };
                    let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
                    let fit = diagram::fit(&sim, w, h, look.theme.zoom());
                    if let Some(ctx2d) = prepare(&canvas, fit.scale) {
                        let selection =
                            if i == 0 || panes.len() > 1 { selected.get() } else { None };
                        let scene = Scene {
                            sim: &sim,
                            log: &log,
                            placement: &placement,
                            selected: selection,
                        };
                        let size = (fit.width, fit.height);
                        painters[i].set_captioned(i == 0 && captioned.get());
                        painters[i].paint(
                            &mut CanvasSurface(&ctx2d),
                            &scene,
                            size,
                            now_ms,
                            look,
                            false,
                        );
                        painted |= i == 0;
                    }
                    let badge = painters[i].badge(policies::policy_edge(&sim));
                    if badge != shown_badges[i] {
                        shown_badges[i] = badge;
                        describe_badge(&canvas, badge, fit.scale);
                    }
                    if shown_motion[i] != Some(motion) {
                        shown_motion[i] = Some(motion);
                        let name = if motion == Motion::Reduced { "reduced" } else { "full" };
                        let _ = canvas.set_attribute("data-motion", name);
                    }
                }
            }
            // A refresh's work is split over two frames, so that neither
            // is long: the figures (and Yew's render) in one, the charts
            // (and an embedded page's height) in the next.
            if charts_due {
                charts_due = false;
                if let Some(canvas) = charts.cast::<HtmlCanvasElement>() {
                    let sim = panes[0].0.borrow();
                    let width = canvas.client_width() as f64;
                    let want = charts::height_for(width);
                    if (canvas.client_height() as f64 - want).abs() > 1.0 {
                        // Through the CSS object model: the page's
                        // Content-Security-Policy refuses style attributes.
                        let _ = canvas.style().set_property("height", &format!("{want}px"));
                    }
                    if let Some(ctx2d) = prepare(&canvas, 1.0) {
                        let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
                        let end = chart_end.get().unwrap_or_else(|| charts::live_end(&sim));
                        let variant = panes.get(1).map(|p| p.0.borrow());
                        let pools = charts::paint(
                            &ctx2d,
                            (w, h),
                            &sim,
                            &panes[0].1.borrow(),
                            variant.as_deref(),
                            end,
                            look.theme.colours(),
                        );
                        let _ = canvas.set_attribute("aria-label", &charts::summary(&sim, end));
                        let _ = canvas.set_attribute("data-end", &end.to_string());
                        let _ = canvas.set_attribute("data-pools", &pools);
                    }
                }
                if let Some(root) = &embed {
                    let wanted = embed_height(root, &panes, look.theme.zoom());
                    if let Some(height) = wanted.filter(|h| (h - posted_height).abs() >= 1.0) {
                        posted_height = height;
                        post_height(height);
                    }
                }
            }
            if now_ms - last_figures >= FIGURES_EVERY_MS {
                last_figures = now_ms;
                let all = panes
                    .iter()
                    .zip(&painters)
                    .map(|((sim, log, _), painter)| Figures {
                        crowd: painter.crowd(),
                        ..Figures::read(&sim.borrow(), &log.borrow(), lagging)
                    })
                    .collect();
                charts_due = true;
                figures.emit(all);
            }
            let work = stats::now_ms() - work_start;
            stats::record(now_ms, work, painted, painters[0].dots());
        }));
    }

    /// The layout of a pane's diagram as drawn now, and its scale (CSS
    /// pixels of the canvas per unit of the layout).
    fn layout(&self, pane: usize) -> Option<(Layout, f64, Rc<RefCell<Sim>>)> {
        let pane = self.panes.get(pane)?;
        let canvas = pane.canvas.cast::<HtmlCanvasElement>()?;
        let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
        let sim = pane.sim.borrow();
        let fit = diagram::fit(&sim, w, h, self.theme.get().zoom());
        let layout = Layout::placed(&sim, fit.width, fit.height, &self.placement.borrow());
        Some((layout, fit.scale, pane.sim.clone()))
    }

    /// The main pane's canvas, its CSS size, and the look it is drawn in.
    fn main_canvas(&self) -> Option<(HtmlCanvasElement, f64, f64, Look)> {
        let canvas = self.panes[0].canvas.cast::<HtmlCanvasElement>()?;
        let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
        let motion = match canvas.get_attribute("data-motion").as_deref() {
            Some("reduced") => Motion::Reduced,
            _ => Motion::Full,
        };
        (w > 0.0 && h > 0.0).then_some((canvas, w, h, Look { theme: self.theme.get(), motion }))
    }

    /// What an export shows: each pane on the page with its diagram's CSS
    /// size, in the page's order, and the look the main one is drawn in.
    /// With a comparison on there are two, stacked in the file under
    /// captions naming their runs ([`diagram::CAPTION_H`]), as the page
    /// stacks them; alone, the diagram fills the file.
    fn export_panes(&self) -> Result<(Vec<Exported<'_>>, Look), String> {
        let (_, _, _, look) = self.main_canvas().ok_or("the diagram is not on the page")?;
        let panes = self
            .panes
            .iter()
            .filter_map(|pane| {
                let canvas = pane.canvas.cast::<HtmlCanvasElement>()?;
                let (w, h) = (canvas.client_width() as f64, canvas.client_height() as f64);
                let note = pane.change_note(self.controls_moved.get()).unwrap_or_default();
                let caption = format!("{}{note}", pane.label);
                (w > 0.0 && h > 0.0).then_some(Exported { pane, caption, w, h })
            })
            .collect();
        Ok((panes, look))
    }

    /// The main diagram, with the comparison's under it when one is on, as
    /// an SVG file, downloaded.
    fn export_svg(&mut self) -> Result<(), String> {
        let (panes, look) = self.export_panes()?;
        let placement = self.placement.borrow();
        let seconds = self.panes[0].sim.borrow().now() as f64 / SECOND as f64;
        let title = format!("{} at t = {seconds:.1} s", self.title());
        let diagrams: Vec<(&str, String, f64)> = panes
            .iter()
            .map(|e| {
                let (sim, log) = (e.pane.sim.borrow(), e.pane.log.borrow());
                let scene = Scene { sim: &sim, log: &log, placement: &placement, selected: None };
                let fit = diagram::fit(&sim, e.w, e.h, look.theme.zoom());
                let title = format!("{title}: {}", e.caption);
                (e.caption.as_str(), diagram::svg(&scene, (e.w, e.h), fit, look, &title), e.h)
            })
            .collect();
        let width = panes.iter().map(|e| e.w).fold(0.0, f64::max);
        let (text, height) = match diagrams.as_slice() {
            [(_, one, h)] => (one.clone(), *h),
            _ => diagram::svg_stacked(&title, width, &diagrams, look.theme),
        };
        let blob = share::text_blob(&text, "image/svg+xml").ok_or("the SVG could not be made")?;
        let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(|_| "no object URL")?;
        share::download(&url, &share::file_name(self.experiment.id, seconds, "svg"));
        let export = Export {
            kind: "svg",
            url,
            bytes: blob.size(),
            width: width.round() as u32,
            height: height.round() as u32,
        };
        drop(placement);
        self.keep_export(export);
        Ok(())
    }

    /// The main diagram (and the comparison's, as in [`App::export_svg`])
    /// drawn at twice its CSS size on an offscreen canvas, encoded as PNG
    /// and downloaded (the page hears when it is done).
    fn export_png(&mut self, ctx: &Context<Self>) -> Result<(), String> {
        let (panes, look) = self.export_panes()?;
        let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
        let canvas: HtmlCanvasElement = document
            .create_element("canvas")
            .ok()
            .and_then(|c| c.dyn_into().ok())
            .ok_or("no canvas for the export")?;
        const RATIO: f64 = 2.0;
        let captioned = panes.len() > 1;
        let caption_h = if captioned { diagram::CAPTION_H } else { 0.0 };
        let width = panes.iter().map(|e| e.w).fold(0.0, f64::max);
        let height: f64 = panes.iter().map(|e| caption_h + e.h).sum();
        canvas.set_width((width * RATIO).round() as u32);
        canvas.set_height((height * RATIO).round() as u32);
        let ctx2d = canvas
            .get_context("2d")
            .ok()
            .flatten()
            .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
            .ok_or("no 2D context for the export")?;
        let placement = self.placement.borrow();
        let mut top = 0.0;
        for e in &panes {
            ctx2d.set_transform(RATIO, 0.0, 0.0, RATIO, 0.0, 0.0).map_err(|_| "no transform")?;
            if captioned {
                let mut surface = CanvasSurface(&ctx2d);
                diagram::paint_caption(&mut surface, &e.caption, width, top, look.theme);
                top += caption_h;
            }
            // Each diagram stays in its own box, as in the SVG's nested
            // documents: nothing of it paints over the caption below.
            ctx2d.save();
            ctx2d.begin_path();
            ctx2d.rect(0.0, top, e.w, e.h);
            ctx2d.clip();
            let (sim, log) = (e.pane.sim.borrow(), e.pane.log.borrow());
            let fit = diagram::fit(&sim, e.w, e.h, look.theme.zoom());
            let scale = RATIO * fit.scale;
            ctx2d
                .set_transform(scale, 0.0, 0.0, scale, 0.0, top * RATIO)
                .map_err(|_| "no transform")?;
            let scene = Scene { sim: &sim, log: &log, placement: &placement, selected: None };
            let size = (fit.width, fit.height);
            Painter::exporting().paint(&mut CanvasSurface(&ctx2d), &scene, size, 0.0, look, true);
            ctx2d.restore();
            top += e.h;
        }
        let seconds = self.panes[0].sim.borrow().now() as f64 / SECOND as f64;
        let name = share::file_name(self.experiment.id, seconds, "png");
        share::save_png(&canvas, name, ctx.link().clone());
        Ok(())
    }

    /// Keeps an export's object URL until the next one replaces it.
    fn keep_export(&mut self, export: Export) {
        if let Some(old) = self.last_export.replace(export) {
            let _ = web_sys::Url::revoke_object_url(&old.url);
        }
    }
}

/// A pane as an export shows it: under its caption (its name and what was
/// changed), at its diagram's CSS width and height.
struct Exported<'a> {
    pane: &'a Pane,
    caption: String,
    w: f64,
    h: f64,
}

/// The built-in chain, for when a preset cannot run (which the tests rule
/// out for the presets that ship).
fn fallback_pane() -> Pane {
    Pane::new("this run".into(), Scenario::retry_chain()).expect("the built-in scenario is valid")
}

impl Component for App {
    type Message = Msg;
    type Properties = Props;

    fn create(ctx: &Context<Self>) -> Self {
        let props = ctx.props();
        let query = props.query.as_deref().unwrap_or("");
        let fallback = || Experiment {
            id: lab::DEFAULT_PRESET,
            scenario: Scenario::retry_chain(),
            variant: None,
        };
        // The default preset always opens (the tests make sure); the
        // built-in chain stands in should it ever not.
        let (view, ignored, experiment) = match View::read(query, Baseline::of_preset) {
            Ok((view, ignored)) => {
                let experiment = Experiment::load(view.preset).unwrap_or_else(|_| fallback());
                (Some(view), ignored, experiment)
            }
            Err(_) => (None, Vec::new(), fallback()),
        };
        let baseline = Baseline::of(&experiment).unwrap_or_else(|e| panic!("{e}"));
        let view = view.unwrap_or_else(|| View::new(&baseline, false));
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
            baseline,
            owns_page: props.owns_page,
            theme: Rc::new(Cell::new(Theme::default())),
            embed: false,
            shown: Vec::new(),
            start: Rc::new(Cell::new(0)),
            loop_at: Rc::new(Cell::new(None)),
            pause_at: Rc::new(Cell::new(None)),
            answer: Rc::new(RefCell::new(None)),
            controls_moved: Cell::new(false),
            fast_forward: Rc::new(Cell::new(None)),
            captioned: Rc::new(Cell::new(false)),
            fast_forwarding: None,
            address_notice: ignored,
            address_timer: None,
            shared: None,
            share_from_now: false,
            select_shared: false,
            shared_field: NodeRef::default(),
            last_export: None,
            recording: None,
            root: NodeRef::default(),
            _table_marks: None,
        };
        app._table_marks = overflow::MarkOnResize::new(app.root.clone());
        app.open(experiment, view.compare);
        app.apply_view(&view);
        // A link that read cleanly is written back as the page would write
        // it; one that did not loses what was left out.
        app.schedule_address(ctx);
        app
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        let last = self.last_service();
        let applied: Result<(), String> = match msg {
            Msg::Figures(figures) => {
                let target = self.fast_forward.get().map(|t| t as f64 / SECOND as f64);
                let mut changed = target != self.fast_forwarding;
                self.fast_forwarding = target;
                for (pane, f) in self.panes.iter_mut().zip(figures) {
                    changed |= pane.figures != f;
                    pane.figures = f;
                }
                return changed;
            }
            Msg::Choose(id) => match Experiment::load(&id) {
                Ok(experiment) => {
                    let compare = experiment.variant.is_some() && !self.embed;
                    self.open(experiment, compare);
                    self.start.set(0);
                    self.fast_forward.set(None);
                    self.start_animation(ctx);
                    Ok(())
                }
                Err(why) => Err(why),
            },
            Msg::Compare(on) => {
                // The same settings, now with the comparison beside them (or
                // without it), from the start.
                let settings = Settings::read(&self.panes[0].sim.borrow());
                // What was moved before still is, carried over to the new
                // panes.
                let moved = self.controls_moved.get();
                let experiment = self.experiment.clone();
                self.open(experiment, on);
                self.controls_moved.set(moved);
                let current = Settings::read(&self.panes[0].sim.borrow());
                let applied = self.on_panes(|sim| settings.apply(sim, &current));
                self.restart(settings.seed);
                self.start.set(0);
                self.fast_forward.set(None);
                self.start_animation(ctx);
                applied
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
                // Keep the user's settings: rebuild from the live scenarios,
                // from zero (the address loses its start time).
                let seed = self.panes[0].sim.borrow().scenario().seed;
                self.restart(seed);
                self.start.set(0);
                self.fast_forward.set(None);
                Ok(())
            }
            Msg::Seed(v) => match address::whole_number(&v) {
                Some(seed) if seed <= i64::MAX as u64 => {
                    self.restart(seed);
                    self.start.set(0);
                    self.fast_forward.set(None);
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
                let node = self.layout(pane).and_then(|(layout, scale, sim)| {
                    match layout.hit(&sim.borrow(), (x / scale, y / scale)) {
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
                    let hit = self.layout(drag.pane).and_then(|(layout, scale, sim)| {
                        let (x, y) = drag.start;
                        layout.hit(&sim.borrow(), (x / scale, y / scale))
                    });
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
            // The Play button's label follows the pause.
            Msg::Paused => return true,
            Msg::Looped => {
                self.guess = None;
                self.chart_end.set(None);
                return true;
            }
            Msg::Theme(name) => match Theme::from_name(&name) {
                Some(theme) => {
                    self.theme.set(theme);
                    Ok(())
                }
                None => Err(format!("theme: {name:?} is not one of the themes")),
            },
            Msg::DismissAddressNotice => {
                self.address_notice.clear();
                // The frame's content is shorter now: the loop tells the host.
                Ok(())
            }
            Msg::WriteAddress => {
                self.address_timer = None;
                share::replace_address(&self.current_view().query(&self.baseline));
                return false;
            }
            Msg::CopyLink | Msg::CopyEmbed => {
                let embed = matches!(msg, Msg::CopyEmbed);
                let mut view = self.shared_view();
                if embed {
                    // An embed shows the lesson's controls and the play
                    // button, and the comparison only if it is on now.
                    view.embed = true;
                    if view.controls.is_empty() {
                        let lesson = self.experiment.scenario.lesson.as_ref();
                        view.controls = lesson
                            .map(|l| l.controls.iter().map(|&c| Shown::Control(c)).collect())
                            .unwrap_or_default();
                        view.controls.push(Shown::Play);
                    }
                }
                match share::page_url(&view.query(&self.baseline)) {
                    Some(url) => {
                        let (what, text) = if embed {
                            ("embed code", share::embed_code(&url, &self.title()))
                        } else {
                            ("link", url)
                        };
                        self.shared = Some(Shared { what, text: text.clone(), copied: None });
                        share::copy(text, ctx.link().clone());
                        Ok(())
                    }
                    None => Err("the page's address cannot be read".into()),
                }
            }
            Msg::Copied(done) => {
                if let Some(shared) = self.shared.as_mut() {
                    shared.copied = Some(done);
                    self.select_shared = !done;
                }
                return true;
            }
            Msg::ShareFromNow(on) => {
                self.share_from_now = on;
                return true;
            }
            Msg::ExportSvg => self.export_svg(),
            Msg::ExportPng => self.export_png(ctx),
            Msg::RecordClip => {
                if self.recording.is_some() {
                    return false;
                }
                match self.main_canvas() {
                    Some((canvas, ..)) => {
                        let seconds = self.panes[0].sim.borrow().now() as f64 / SECOND as f64;
                        let name = share::file_name(self.experiment.id, seconds, "webm");
                        Recording::start(&canvas, name, ctx.link().clone(), self.captioned.clone())
                            .map(|r| self.recording = Some(r))
                    }
                    None => Err("the diagram is not on the page".into()),
                }
            }
            Msg::Exported(export) => {
                if export.kind == "webm" {
                    self.recording = None;
                }
                self.keep_export(export);
                return true;
            }
            Msg::ExportFailed(why) => {
                self.recording = None;
                Err(why)
            }
        };
        self.notice = applied.err();
        self.schedule_address(ctx);
        for pane in &mut self.panes {
            pane.figures = Figures::read(&pane.sim.borrow(), &pane.log.borrow(), false);
        }
        true
    }

    fn rendered(&mut self, ctx: &Context<Self>, first_render: bool) {
        if first_render {
            self.start_animation(ctx);
        }
        self.paint_theme();
        self.size_diagrams();
        if let Some(root) = self.root.cast::<HtmlElement>() {
            overflow::mark_all(&root);
        }
        if std::mem::take(&mut self.select_shared) {
            if let Some(field) = self.shared_field.cast::<HtmlInputElement>() {
                let _ = field.focus();
                field.select();
            }
        }
    }

    fn destroy(&mut self, _ctx: &Context<Self>) {
        self.animation = None;
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        if self.embed {
            return self.view_embed(ctx);
        }
        let link = ctx.link();
        let main = &self.panes[0];
        let f = &main.figures;
        let sim = main.sim.borrow();
        let scenario = sim.scenario();
        let lesson = self.experiment.scenario.lesson.as_ref();
        let retrying_experiment = self.experiment.scenario.calls.iter().any(|c| c.retries > 0);
        let wanted: Vec<Control> = lesson.map(|l| l.controls.clone()).unwrap_or_default();
        let last = scenario.services.len().saturating_sub(1);
        let last_name = scenario.services.get(last).map(|s| s.name.clone()).unwrap_or_default();
        let retries = f.tries.saturating_sub(1);
        let error_pct = (f.error_rate * 100.0).round();
        let choices = policies::Choices::read(&sim);

        let measured = f.services.get(last).and_then(|row| row.amplification);
        let tries_word = if f.tries == 1 { "try" } else { "tries" };
        let retries_word = if retries == 1 { "retry" } else { "retries" };
        let power = (0..f.hops).map(|_| f.tries.to_string()).collect::<Vec<_>>().join(" × ");
        let menu = lab::menu();
        let has_variant = self.experiment.variant.is_some();
        let theme = self.theme.get();

        html! {
            <main class="app" ref={self.root.clone()} data-theme={theme.name()}>
                { self.view_address_notice(ctx) }
                <header class="masthead">
                    <h1>{ "Brownout" }</h1>
                    <label for="experiment" class="menu-label">{ "Experiment" }</label>
                    <select id="experiment" onchange={on_select(link, Msg::Choose)}>
                        { for menu.iter().map(|(id, title, lesson)| html! {
                            <option value={*id} selected={*id == self.experiment.id}>
                                { if *lesson { title.clone() } else { format!("{title} (scenario)") } }
                            </option>
                        }) }
                    </select>
                    <p class="subtitle">{ &scenario.name }</p>
                    <label for="theme" class="menu-label theme-label">{ "Theme" }</label>
                    <select id="theme" onchange={on_select(link, Msg::Theme)}>
                        { for Theme::ALL.iter().map(|t| html! {
                            <option value={t.name()} selected={*t == theme}>{ t.label() }</option>
                        }) }
                    </select>
                </header>

                { self.view_lesson(ctx) }

                { self.view_stage(ctx, false) }

                { self.view_share(ctx) }

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
                // Where the experiment itself retries, or its lesson is about retries: the
                // panel stays at 0 retries (the base case, 1×) instead of coming and going.
                if f.uniform_tries && lesson.map_or(retrying_experiment || f.tries > 1, |l| l.controls.contains(&Control::Retries)) {
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
                        if let Some(refusing) = refusing_policies(choices.breaker, choices.budget) {
                            { format!(" {refusing} calls the retries would make: expect less.") }
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
                        { for [Control::ErrorRate, Control::Latency, Control::Load, Control::Retries]
                            .into_iter().map(|c| self.view_control(ctx, c, false)) }
                    </fieldset>
                    { self.view_playback(ctx, false) }
                    <fieldset class="policies">
                        <legend>{ "Policies" }</legend>
                        { for [Control::Timeout, Control::Breaker, Control::Budget, Control::Backoff, Control::Bulkhead]
                            .into_iter().map(|c| self.view_control(ctx, c, false)) }
                    </fieldset>
                    { self.view_notices(f.lagging) }
                </section>

                <section class="events" aria-labelledby="events-title">
                    <h2 id="events-title">{ "Breaker, retry-budget and chaos events" }</h2>
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

                { overflow::scroller(html! {
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
                }) }
                <p class="footnote">{ format!(
                    "Rates and shares cover the last 5 simulated seconds: the client's of its requests, a service's of the tries it answered. Network latency {} ms per hop; {} per try before a timeout.",
                    scenario.calls.first().map(|c| c.latency_ms).unwrap_or(0.0),
                    scenario.calls.iter().map(|c| format!("{} → {}: {} s", c.from, c.to, c.timeout_ms / 1000.0)).collect::<Vec<_>>().join(", ")
                ) }</p>
                if has_variant {
                    <p class="footnote">
                        <label>
                            <input type="checkbox" id="compare" checked={self.compare} onchange={on_switch(link, Msg::Compare)} />
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

/// Sizes the canvas's backing store to its CSS size times the device pixel
/// ratio, so that it stays sharp on high-density screens and projectors,
/// and returns a context that draws in units of `scale` CSS pixels (see
/// [`diagram::fit`]).
fn prepare(canvas: &HtmlCanvasElement, scale: f64) -> Option<CanvasRenderingContext2d> {
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
    let s = ratio * scale;
    ctx.set_transform(s, 0.0, 0.0, s, 0.0, 0.0).ok()?;
    Some(ctx)
}

/// Writes what the badge shows onto the canvas element, as `data-badge`
/// (the state) and `data-badge-box` (x, y, width, height in CSS pixels of
/// the canvas): the canvas's pixels are opaque to tests and tools, its
/// attributes are not. Called only when the badge changes.
fn describe_badge(canvas: &HtmlCanvasElement, badge: Option<Badge>, scale: f64) {
    match badge {
        Some(b) => {
            let _ = canvas.set_attribute("data-badge", events::state_name(b.state));
            let (x, y, w, h) = (b.x * scale, b.y * scale, b.w * scale, b.h * scale);
            let rect = format!("{x:.0} {y:.0} {w:.0} {h:.0}");
            let _ = canvas.set_attribute("data-badge-box", &rect);
        }
        None => {
            let _ = canvas.remove_attribute("data-badge");
            let _ = canvas.remove_attribute("data-badge-box");
        }
    }
}

/// The height an embedded page would like, in CSS pixels: its notice and
/// controls as laid out at the frame's width, and each diagram at its
/// natural height for that width. It depends on the frame's width only,
/// so a host that follows it settles at once.
fn embed_height(root: &NodeRef, panes: &[PaneHandles], zoom: f64) -> Option<f64> {
    let root = root.cast::<HtmlElement>()?;
    let stage = root.query_selector(".stage").ok()??.dyn_into::<HtmlElement>().ok()?;
    let others = (root.scroll_height() - stage.offset_height()).max(0) as f64;
    let mut diagrams = 0.0;
    for (sim, _, canvas) in panes {
        let canvas = canvas.cast::<HtmlCanvasElement>()?;
        let sim = sim.borrow();
        let width = canvas.client_width() as f64;
        let scale = zoom.min(width / diagram::min_width_for(&sim));
        diagrams += (diagram::height_for(&sim) * scale).ceil();
    }
    Some(others + diagrams)
}

/// Tells the page that frames this one how tall it would like to be.
fn post_height(height: f64) {
    let Some(window) = web_sys::window() else { return };
    let Ok(Some(parent)) = window.parent() else { return };
    if wasm_bindgen::JsValue::from(parent.clone()) == wasm_bindgen::JsValue::from(window) {
        return;
    }
    let message = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&message, &"type".into(), &"brownout-height".into());
    let _ = js_sys::Reflect::set(&message, &"height".into(), &height.into());
    let _ = parent.post_message(&message, "*");
}

impl App {
    /// Gives each diagram of the full page the height its graph needs at
    /// the theme's zoom; an embedded page's diagrams fill its frame, as the
    /// stylesheet sizes them. Through the CSS object model, not a style
    /// attribute, which the page's Content-Security-Policy refuses.
    fn size_diagrams(&self) {
        let zoom = self.theme.get().zoom();
        for pane in &self.panes {
            let Some(canvas) = pane.canvas.cast::<HtmlElement>() else { continue };
            let style = canvas.style();
            if self.embed {
                let _ = style.remove_property("height");
            } else {
                let height = diagram::height_for(&pane.sim.borrow()) * zoom;
                let _ = style.set_property("height", &format!("{height:.0}px"));
            }
        }
    }

    /// Sets the theme's colours as custom properties on the app's root
    /// and, when the app owns the page, on the whole document, so that the
    /// page behind the app matches. Through the CSS object model, which a
    /// strict Content-Security-Policy allows.
    fn paint_theme(&self) {
        let theme = self.theme.get();
        let mut targets: Vec<HtmlElement> = self.root.cast::<HtmlElement>().into_iter().collect();
        let document = web_sys::window().and_then(|w| w.document());
        if self.owns_page {
            if let Some(html) = document.as_ref().and_then(|d| d.document_element()) {
                let _ = html.set_attribute("data-theme", theme.name());
                let _ = html.class_list().toggle_with_force("embedded", self.embed);
                targets.extend(html.dyn_into::<HtmlElement>().ok());
            }
        }
        for element in targets {
            if element.get_attribute("data-painted").as_deref() == Some(theme.name()) {
                continue;
            }
            let style = element.style();
            for (name, value) in palette::css_properties(theme) {
                let _ = style.set_property(&name, value);
            }
            let _ = element.set_attribute("data-painted", theme.name());
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

/// Which of the page's policies refuse calls the retries would make, as
/// the subject of the lesson's sentence: `None` with neither on.
fn refusing_policies(breaker: bool, budget: bool) -> Option<&'static str> {
    match (breaker, budget) {
        (true, true) => Some("The breaker and the retry budget refuse"),
        (true, false) => Some("The breaker refuses"),
        (false, true) => Some("The retry budget refuses"),
        (false, false) => None,
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

/// Writes any panic to the console and into a visible banner, and stops
/// the animation, so that a bug shows as a message instead of a frozen
/// canvas.
///
/// The first panic is the one worth reading: a panic leaves the app's
/// state half-changed, so later ones (a cell still borrowed, say) are
/// consequences. The banner keeps the first message; the console gets
/// every one.
///
/// Through Yew's own setter: Yew's renderer replaces a plain
/// `std::panic::set_hook` with its console-only hook unless told that the
/// page has one.
pub fn install_panic_banner() {
    yew::set_custom_panic_hook(Box::new(|info| {
        let message = info.to_string();
        web_sys::console::error_1(&format!("Brownout: {message}").into());
        animation::halt_all();
        show_fatal(&message);
    }));
}

/// Puts `message` in the page's error banner, as text, unless a banner is
/// already there, and makes the rest of the page inert: its controls would
/// only seem to work.
fn show_fatal(message: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    if doc.get_element_by_id("fatal").is_some() {
        return;
    }
    let Ok(banner) = doc.create_element("div") else { return };
    banner.set_id("fatal");
    let _ = banner.set_attribute("role", "alert");
    banner.set_text_content(Some(&format!(
        "Brownout stopped on an internal error, and its animation with it: {message}. \
         Reload the page to start again."
    )));
    if let Some(body) = doc.body() {
        let children = body.children();
        for i in 0..children.length() {
            if let Some(child) = children.item(i) {
                let _ = child.set_attribute("inert", "");
            }
        }
        let _ = body.prepend_with_node_1(&banner);
    }
}

/// Panics with `message`. Nothing in the page calls it: it lets the
/// end-to-end tests check, in the shipped bundle, that a panic stops the
/// animation and shows its message (`window.wasmBindings.panic_for_test`).
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn panic_for_test(message: &str) {
    panic!("{message}");
}
