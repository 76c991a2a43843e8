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
mod diagram;
mod events;
mod figures;
mod palette;
mod policies;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use brownout_sim::time::MILLISECOND;
use brownout_sim::{Scenario, Sim};
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

pub use animation::running_loops;
use animation::AnimationLoop;
use diagram::{Badge, Painter};
use events::EventLog;
use figures::{percent, times, Figures, Shares};

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
    ErrorRate(String),
    Retries(String),
    Load(String),
    Speed(String),
    /// The per-try timeout of the policy edge, in milliseconds.
    Timeout(String),
    Breaker(bool),
    Budget(bool),
    /// A value of the backoff select.
    Backoff(String),
    TogglePlay,
    Restart,
    Figures(Figures),
}

pub struct App {
    sim: Rc<RefCell<Sim>>,
    playback: Rc<Cell<Playback>>,
    canvas: NodeRef,
    /// Breaker transitions and budget refusals, read by the animation loop
    /// each frame and shown by the badge and the event list.
    log: Rc<RefCell<EventLog>>,
    animation: Option<AnimationLoop>,
    figures: Figures,
    /// The last refused input, shown until the next accepted one.
    notice: Option<String>,
}

impl App {
    fn last_service(&self) -> usize {
        self.sim.borrow().scenario().services.len().saturating_sub(1)
    }

    fn start_animation(&mut self, ctx: &Context<Self>) {
        let sim = self.sim.clone();
        let playback = self.playback.clone();
        let canvas = self.canvas.clone();
        let log = self.log.clone();
        let figures = ctx.link().callback(Msg::Figures);
        let mut painter = Painter::default();
        let mut shown_badge: Option<Badge> = None;
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
            let mut sim = sim.borrow_mut();
            let play = playback.get();
            if play.playing && gap > 0.0 {
                let step = (gap * play.speed * MILLISECOND as f64).round() as u64;
                let before = sim.now();
                let target = before.saturating_add(step);
                sim.advance_to_within(target, EVENTS_PER_FRAME);
                // A long gap is a hidden tab or a stall, not slowness: it
                // does not count against keeping up.
                if real <= 1_000.0 {
                    wanted_ms += real * play.speed;
                    got_ms += (sim.now() - before) as f64 / MILLISECOND as f64;
                }
                if wanted_ms >= 2_000.0 * play.speed {
                    lagging = got_ms < 0.8 * wanted_ms;
                    (wanted_ms, got_ms) = (0.0, 0.0);
                }
            } else {
                (wanted_ms, got_ms, lagging) = (0.0, 0.0, false);
            }
            let mut log = log.borrow_mut();
            log.update(&sim);
            if let Some(canvas) = canvas.cast::<HtmlCanvasElement>() {
                if let Some((ctx2d, w, h)) = prepare(&canvas) {
                    painter.paint(&ctx2d, &sim, &log, (w, h), now_ms);
                }
                if painter.badge() != shown_badge {
                    shown_badge = painter.badge();
                    describe_badge(&canvas, shown_badge);
                }
            }
            if now_ms - last_figures >= FIGURES_EVERY_MS {
                last_figures = now_ms;
                figures.emit(Figures::read(&sim, &log, lagging));
            }
        }));
    }
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

/// The page's scenario: the retry-chain preset, read from its scenario file
/// (embedded in the bundle), so that the page, the runner and the docs run
/// the same thing.
fn new_sim() -> Sim {
    let scenario = brownout_sim::preset("retry-chain").unwrap_or_else(Scenario::retry_chain);
    Sim::new(scenario).unwrap_or_else(|_| {
        Sim::new(Scenario::retry_chain()).expect("the built-in scenario is valid")
    })
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(_ctx: &Context<Self>) -> Self {
        let sim = new_sim();
        let log = EventLog::default();
        let figures = Figures::read(&sim, &log, false);
        App {
            sim: Rc::new(RefCell::new(sim)),
            playback: Rc::new(Cell::new(Playback { playing: true, speed: DEFAULT_SPEED })),
            canvas: NodeRef::default(),
            log: Rc::new(RefCell::new(log)),
            animation: None,
            figures,
            notice: None,
        }
    }

    fn update(&mut self, _ctx: &Context<Self>, msg: Msg) -> bool {
        let last = self.last_service();
        let applied: Result<(), String> = match msg {
            Msg::Figures(figures) => {
                let changed = figures != self.figures;
                self.figures = figures;
                return changed;
            }
            Msg::ErrorRate(v) => parse_in(&v, "error rate", 0.0, 100.0).and_then(|pct| {
                self.sim.borrow_mut().set_error_rate(last, pct / 100.0).map_err(|e| e.to_string())
            }),
            Msg::Retries(v) => parse_in(&v, "retries", 0.0, RETRIES_MAX as f64).and_then(|r| {
                self.sim.borrow_mut().set_retries(r.round() as u32).map_err(|e| e.to_string())
            }),
            Msg::Load(v) => parse_in(&v, "load", 0.0, LOAD_MAX)
                .and_then(|rate| self.sim.borrow_mut().set_load(rate).map_err(|e| e.to_string())),
            Msg::Speed(v) => {
                parse_in(&v, "speed", SPEEDS[0], SPEEDS[SPEEDS.len() - 1]).map(|speed| {
                    let p = self.playback.get();
                    self.playback.set(Playback { speed, ..p });
                })
            }
            Msg::Timeout(v) => {
                parse_in(&v, "timeout", policies::TIMEOUT_MIN_MS, policies::TIMEOUT_MAX_MS)
                    .and_then(|ms| {
                        policies::set_timeout(&mut self.sim.borrow_mut(), ms)
                            .map_err(|e| e.to_string())
                    })
            }
            Msg::Breaker(on) => {
                let mut sim = self.sim.borrow_mut();
                // A new breaker starts closed: the badge must not explain it
                // with its predecessor's last transition.
                self.log.borrow_mut().forget_breaker(policies::policy_edge(&sim));
                policies::set_breaker(&mut sim, on).map_err(|e| e.to_string())
            }
            Msg::Budget(on) => {
                policies::set_budget(&mut self.sim.borrow_mut(), on).map_err(|e| e.to_string())
            }
            Msg::Backoff(choice) => policies::set_backoff(&mut self.sim.borrow_mut(), &choice)
                .map_err(|e| e.to_string()),
            Msg::TogglePlay => {
                let p = self.playback.get();
                self.playback.set(Playback { playing: !p.playing, ..p });
                Ok(())
            }
            Msg::Restart => {
                // Keep the user's settings: rebuild from the live scenario.
                let scenario = self.sim.borrow().scenario().clone();
                *self.sim.borrow_mut() = Sim::new(scenario).unwrap_or_else(|_| new_sim());
                self.log.borrow_mut().clear();
                Ok(())
            }
        };
        self.notice = applied.err();
        self.figures = Figures::read(&self.sim.borrow(), &self.log.borrow(), false);
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
        let f = &self.figures;
        let sim = self.sim.borrow();
        let scenario = sim.scenario();
        let last = scenario.services.len().saturating_sub(1);
        let last_name = scenario.services.get(last).map(|s| s.name.clone()).unwrap_or_default();
        let playback = self.playback.get();
        let retries = f.tries.saturating_sub(1);
        let error_pct = (f.error_rate * 100.0).round();
        let load = scenario.load.rate_per_sec;

        let on_range = |make: fn(String) -> Msg| {
            link.callback(move |e: InputEvent| {
                make(e.target_unchecked_into::<HtmlInputElement>().value())
            })
        };
        let on_speed = link.callback(|e: Event| {
            Msg::Speed(e.target_unchecked_into::<HtmlSelectElement>().value())
        });
        let on_switch = |make: fn(bool) -> Msg| {
            link.callback(move |e: Event| {
                make(e.target_unchecked_into::<HtmlInputElement>().checked())
            })
        };
        let on_backoff = link.callback(|e: Event| {
            Msg::Backoff(e.target_unchecked_into::<HtmlSelectElement>().value())
        });
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
        let canvas_label = format!(
            "Requests flowing from the client through {} services{}",
            scenario.services.len(),
            f.policies
                .breaker
                .map(|s| format!(
                    "; the circuit breaker on {policy_edge} is {}",
                    events::state_name(s)
                ))
                .unwrap_or_default()
        );

        let measured = f.services.get(last).and_then(|row| row.amplification);
        let tries_word = if f.tries == 1 { "try" } else { "tries" };
        let retries_word = if retries == 1 { "retry" } else { "retries" };
        let power = (0..f.hops).map(|_| f.tries.to_string()).collect::<Vec<_>>().join(" × ");

        html! {
            <main class="app">
                <header class="masthead">
                    <h1>{ "Brownout" }</h1>
                    <p class="subtitle">{ &scenario.name }</p>
                </header>

                <section class="stage" aria-label="Service diagram">
                    <canvas id="diagram" ref={self.canvas.clone()} role="img" aria-label={canvas_label} />
                    <ul class="legend" aria-label="Legend">
                        { for palette::DOT_KINDS.iter().map(|&k| html! {
                            <li><span class="swatch" style={format!("background:{}", palette::dot_colour(k))}></span>
                                { palette::dot_label(k) }</li>
                        }) }
                        <li><span class="gauge-swatch"></span>{ "workers busy / queue used" }</li>
                        <li class="legend-badges">{ "circuit breaker:" }
                            { for palette::BREAKER_STATES.iter().map(|&state| {
                                let (fill, text) = palette::breaker_colours(state);
                                html! {
                                    <span class="badge-swatch" style={format!("background:{fill};color:{text}")}>
                                        { events::state_name(state) }
                                    </span>
                                }
                            }) }
                        </li>
                    </ul>
                </section>

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

                <section class="controls" aria-label="Controls">
                    <div class="control">
                        <label for="error-rate">{ format!("{last_name} error rate") }</label>
                        <input type="range" id="error-rate" min="0" max="100" step="1"
                            value={error_pct.to_string()} oninput={on_range(Msg::ErrorRate)} />
                        <output for="error-rate">{ format!("{error_pct:.0} %") }</output>
                    </div>
                    <div class="control">
                        <label for="retries">{ "Retries per hop" }</label>
                        <input type="range" id="retries" min="0" max={RETRIES_MAX.to_string()} step="1"
                            value={retries.to_string()} oninput={on_range(Msg::Retries)} />
                        <output for="retries">{ format!("{retries} {retries_word} = {} {tries_word}", f.tries) }</output>
                    </div>
                    <div class="control">
                        <label for="load">{ "Client load" }</label>
                        <input type="range" id="load" min="1" max={LOAD_MAX.to_string()} step="1"
                            value={load.to_string()} oninput={on_range(Msg::Load)} />
                        <output for="load">{ format!("{load:.0} req/s") }</output>
                    </div>
                    <div class="control playback">
                        <button id="play" onclick={link.callback(|_| Msg::TogglePlay)}>
                            { if playback.playing { "Pause" } else { "Play" } }
                        </button>
                        <button id="restart" onclick={link.callback(|_| Msg::Restart)}>{ "Restart" }</button>
                        <label for="speed">{ "Speed" }</label>
                        <select id="speed" onchange={on_speed}>
                            { for SPEEDS.iter().map(|&s| html! {
                                <option value={s.to_string()} selected={s == playback.speed}>{ format!("{s}×") }</option>
                            }) }
                        </select>
                        <span class="clock" id="clock">{ format!("t = {:.1} s", f.sim_seconds) }</span>
                    </div>
                    <fieldset class="policies">
                        <legend>{ "Policies" }</legend>
                        <div class="control">
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
                        <div class="control toggle">
                            <input type="checkbox" role="switch" id="breaker" checked={choices.breaker}
                                aria-describedby="breaker-help" onchange={on_switch(Msg::Breaker)} />
                            <label for="breaker">{ "Circuit breaker" }</label>
                            <output for="breaker" id="breaker-state"
                                class={f.policies.breaker.map(|s| events::state_name(s).to_lowercase())}>
                                { breaker_text }
                            </output>
                            <small id="breaker-help">{ format!(
                                "On {policy_edge}. Opens when {:.0} % of the last {} calls failed ({} at least); open {:.0} s, then {} trial calls.",
                                policies::BREAKER_THRESHOLD, policies::BREAKER_WINDOW, policies::BREAKER_MINIMUM_CALLS,
                                policies::BREAKER_OPEN_MS / 1000.0, policies::BREAKER_TRIALS) }</small>
                        </div>
                        <div class="control toggle">
                            <input type="checkbox" role="switch" id="retry-budget" checked={choices.budget}
                                aria-describedby="budget-help" onchange={on_switch(Msg::Budget)} />
                            <label for="retry-budget">{ "Retry budget" }</label>
                            <output for="retry-budget" id="budget-state">{ budget_text }</output>
                            <small id="budget-help">{ format!(
                                "On every hop, client first. gRPC token bucket of {}: a failed try takes 1, a success adds {}; no retries at {} or fewer.",
                                policies::BUDGET_MAX_TOKENS, policies::BUDGET_TOKEN_RATIO, policies::BUDGET_MAX_TOKENS / 2.0) }</small>
                        </div>
                        <div class="control select">
                            <label for="jitter">{ "Backoff between retries" }</label>
                            <select id="jitter" aria-describedby="jitter-help" onchange={on_backoff}>
                                { for policies::BACKOFF_CHOICES.iter().map(|&(value, text, _)| html! {
                                    <option value={value} selected={value == choices.backoff}>{ text }</option>
                                }) }
                            </select>
                            <small id="jitter-help">{ format!(
                                "On every hop. Exponential: {:.0} ms × 2ⁿ, capped at {:.0} s; jitter spreads retries apart.",
                                policies::BACKOFF_BASE_MS, policies::BACKOFF_CAP_MS / 1000.0) }</small>
                        </div>
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
                        <th scope="col">{ "Attempts/s" }</th>
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
            </main>
        }
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
