//! The page's controls, one view each, so that the full page and an
//! embedded one (which shows only the controls its link names) draw them
//! alike, with the same ids.
//!
//! Every slider has a `<label>`, an `<output>` with its value and unit,
//! and the same text as `aria-valuetext`, so that a screen reader says
//! "40 %" rather than "40". A compact control (in an embed) leaves out its
//! help text.

use brownout_sim::lesson::Control;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::html::Scope;
use yew::prelude::*;

use crate::{events, policies, App, Msg, RETRIES_MAX, SPEEDS};

pub(crate) fn on_range(link: &Scope<App>, make: fn(String) -> Msg) -> Callback<InputEvent> {
    link.callback(move |e: InputEvent| make(e.target_unchecked_into::<HtmlInputElement>().value()))
}

pub(crate) fn on_change_input(link: &Scope<App>, make: fn(String) -> Msg) -> Callback<Event> {
    link.callback(move |e: Event| make(e.target_unchecked_into::<HtmlInputElement>().value()))
}

pub(crate) fn on_select(link: &Scope<App>, make: fn(String) -> Msg) -> Callback<Event> {
    link.callback(move |e: Event| make(e.target_unchecked_into::<HtmlSelectElement>().value()))
}

pub(crate) fn on_switch(link: &Scope<App>, make: fn(bool) -> Msg) -> Callback<Event> {
    link.callback(move |e: Event| make(e.target_unchecked_into::<HtmlInputElement>().checked()))
}

impl App {
    /// The class of a control's box: marked when the lesson says it
    /// matters.
    fn control_class(&self, c: Control) -> Classes {
        let lesson = self.experiment.scenario.lesson.as_ref();
        if lesson.is_some_and(|l| l.controls.contains(&c)) {
            classes!("control", "matters")
        } else {
            classes!("control")
        }
    }

    /// One control of the lesson's vocabulary; the breaker brings its
    /// threshold and window along while it is on.
    pub(crate) fn view_control(&self, ctx: &Context<Self>, which: Control, compact: bool) -> Html {
        let link = ctx.link();
        let main = &self.panes[0];
        let f = &main.figures;
        let sim = main.sim.borrow();
        let scenario = sim.scenario();
        let last = scenario.services.len().saturating_sub(1);
        let last_name = scenario.services.get(last).map(|s| s.name.clone()).unwrap_or_default();
        let choices = policies::Choices::read(&sim);
        let policy_edge = policies::edge_name(&sim, policies::policy_edge(&sim));
        let help = |id: &'static str, text: String| {
            if compact {
                html! {}
            } else {
                html! { <small id={id}>{ text }</small> }
            }
        };
        let described = |id: &'static str| (!compact).then_some(id);
        match which {
            Control::ErrorRate => {
                let error_pct = (f.error_rate * 100.0).round();
                let text = format!("{error_pct:.0} %");
                html! {
                    <div class={self.control_class(Control::ErrorRate)}>
                        <label for="error-rate">{ format!("{last_name} error rate") }</label>
                        <input type="range" id="error-rate" min="0" max="100" step="1"
                            value={error_pct.to_string()} aria-valuetext={text.clone()}
                            oninput={on_range(link, Msg::ErrorRate)}
                            title="The share of tries the last service answers with an error" />
                        <output for="error-rate">{ text }</output>
                    </div>
                }
            }
            Control::Latency => {
                let latency_ms = policies::last_service_time_ms(&sim);
                let text = format!("{latency_ms:.0} ms");
                let shown = latency_ms.clamp(policies::LATENCY_MIN_MS, policies::LATENCY_MAX_MS);
                html! {
                    <div class={self.control_class(Control::Latency)}>
                        <label for="latency">{ format!("{last_name} service time") }</label>
                        <input type="range" id="latency" min={policies::LATENCY_MIN_MS.to_string()}
                            max={policies::LATENCY_MAX_MS.to_string()} step="1"
                            value={format!("{shown:.0}")} aria-valuetext={text.clone()}
                            oninput={on_range(link, Msg::Latency)}
                            title="Mean time the last service works on one try, keeping its distribution's shape" />
                        <output for="latency">{ text }</output>
                    </div>
                }
            }
            Control::Load => {
                let load = scenario.load.rate_per_sec;
                // Under a schedule of rates the slider holds the starting
                // rate; what the client sends now is said beside it.
                let text = if scenario.load.schedule.is_empty() {
                    format!("{load:.0} req/s")
                } else {
                    format!("{:.0} req/s now, on a schedule", sim.current_rate())
                };
                html! {
                    <div class={self.control_class(Control::Load)}>
                        <label for="load">{ "Client load" }</label>
                        <input type="range" id="load" min="1" max={self.load_max.to_string()} step="1"
                            value={load.to_string()} aria-valuetext={text.clone()}
                            oninput={on_range(link, Msg::Load)}
                            title="Requests the client sends per second; replaces the scenario's schedule" />
                        <output for="load">{ text }</output>
                    </div>
                }
            }
            Control::Retries => {
                let retries = f.tries.saturating_sub(1);
                let tries_word = if f.tries == 1 { "try" } else { "tries" };
                let retries_word = if retries == 1 { "retry" } else { "retries" };
                let text = format!("{retries} {retries_word} = {} {tries_word}", f.tries);
                html! {
                    <div class={self.control_class(Control::Retries)}>
                        <label for="retries">{ "Retries per hop" }</label>
                        <input type="range" id="retries" min="0" max={RETRIES_MAX.to_string()} step="1"
                            value={retries.to_string()} aria-valuetext={text.clone()}
                            oninput={on_range(link, Msg::Retries)}
                            title="Retries after the first try, on every hop" />
                        <output for="retries">{ text }</output>
                    </div>
                }
            }
            Control::Timeout => {
                let text = format!("{:.0} ms", choices.timeout_ms);
                html! {
                    <div class={self.control_class(Control::Timeout)}>
                        <label for="timeout">{ "Timeout per try" }</label>
                        <input type="range" id="timeout"
                            min={policies::TIMEOUT_MIN_MS.to_string()} max={policies::TIMEOUT_MAX_MS.to_string()}
                            step={policies::TIMEOUT_STEP_MS.to_string()}
                            value={choices.timeout_ms.to_string()} aria-valuetext={text.clone()}
                            aria-describedby={described("timeout-help")}
                            oninput={on_range(link, Msg::Timeout)} />
                        <output for="timeout">{ text }</output>
                        { help("timeout-help", format!(
                            "On {policy_edge}. A caller that gives up leaves the work running: orphaned below.")) }
                    </div>
                }
            }
            Control::Breaker => {
                let breaker_text = match f.policies.breaker {
                    None => "off".to_string(),
                    Some(state) => match f.policies.breaker_refused {
                        0 => events::state_name(state).to_string(),
                        n => format!("{}, {n} refused", events::state_name(state)),
                    },
                };
                let knobs = policies::breaker_knobs(&sim);
                html! {
                    <>
                    <div class={classes!(self.control_class(Control::Breaker), "toggle")}>
                        <input type="checkbox" role="switch" id="breaker" checked={choices.breaker}
                            aria-describedby={described("breaker-help")} onchange={on_switch(link, Msg::Breaker)} />
                        <label for="breaker">{ "Circuit breaker" }</label>
                        <output for="breaker" id="breaker-state"
                            class={f.policies.breaker.map(|s| events::state_name(s).to_lowercase())}>
                            { breaker_text }
                        </output>
                        { help("breaker-help", format!("On {policy_edge}. {}", policies::breaker_help(&sim))) }
                    </div>
                    if let Some((threshold, window)) = knobs {
                        if let Some(threshold) = threshold {
                            <div class={self.control_class(Control::Breaker)}>
                                <label for="breaker-threshold">{ "Breaker opens at" }</label>
                                <input type="range" id="breaker-threshold" min={policies::THRESHOLD_MIN.to_string()}
                                    max={policies::THRESHOLD_MAX.to_string()} step="5" value={threshold.to_string()}
                                    aria-valuetext={format!("{threshold:.0} % failed")}
                                    oninput={on_range(link, Msg::BreakerThreshold)}
                                    title="Failure rate, in per cent of the window, at or above which the breaker opens" />
                                <output for="breaker-threshold">{ format!("{threshold:.0} % failed") }</output>
                            </div>
                        }
                        <div class={self.control_class(Control::Breaker)}>
                            <label for="breaker-window">{ if threshold.is_some() { "Breaker window" } else { "Failures in a row" } }</label>
                            <input type="range" id="breaker-window" min={policies::WINDOW_MIN.to_string()}
                                max={policies::WINDOW_MAX.to_string()} step="1" value={window.to_string()}
                                aria-valuetext={window_text(threshold.is_some(), window)}
                                oninput={on_range(link, Msg::BreakerWindow)}
                                title="The calls the breaker judges by, or the failures in a row that trip it" />
                            <output for="breaker-window">{ window_text(threshold.is_some(), window) }</output>
                        </div>
                    }
                    </>
                }
            }
            Control::Budget => {
                let budget_text = if f.policies.budget_tokens.is_empty() {
                    "off".to_string()
                } else {
                    let tokens = f.policies.budget_tokens.iter().map(|t| format!("{t:.1}"));
                    let tokens = tokens.collect::<Vec<_>>().join(" · ");
                    format!("{tokens} of {} tokens", policies::BUDGET_MAX_TOKENS)
                };
                html! {
                    <div class={classes!(self.control_class(Control::Budget), "toggle")}>
                        <input type="checkbox" role="switch" id="retry-budget" checked={choices.budget}
                            aria-describedby={described("budget-help")} onchange={on_switch(link, Msg::Budget)} />
                        <label for="retry-budget">{ "Retry budget" }</label>
                        <output for="retry-budget" id="budget-state">{ budget_text }</output>
                        { help("budget-help", format!(
                            "On every hop, client first. gRPC token bucket of {}: a failed try takes 1, a success adds {}; no retries at {} or fewer.",
                            policies::BUDGET_MAX_TOKENS, policies::BUDGET_TOKEN_RATIO, policies::BUDGET_MAX_TOKENS / 2.0)) }
                    </div>
                }
            }
            Control::Backoff => html! {
                <div class={classes!(self.control_class(Control::Backoff), "select")}>
                    <label for="jitter">{ "Backoff between retries" }</label>
                    <select id="jitter" aria-describedby={described("jitter-help")} onchange={on_select(link, Msg::Backoff)}>
                        { for policies::BACKOFF_CHOICES.iter().map(|&(value, text, _)| html! {
                            <option value={value} selected={value == choices.backoff}>{ text }</option>
                        }) }
                    </select>
                    { help("jitter-help", format!("On every hop. {}", policies::backoff_help(&sim))) }
                </div>
            },
            Control::Bulkhead => match policies::bulkhead_size(&sim) {
                None => html! {},
                Some(size) => html! {
                    <div class={self.control_class(Control::Bulkhead)}>
                        <label for="bulkhead">{ "Bulkhead size" }</label>
                        <input type="range" id="bulkhead" min={policies::BULKHEAD_MIN.to_string()}
                            max={policies::BULKHEAD_MAX.to_string()} step="1" value={size.to_string()}
                            aria-valuetext={format!("{size} at once")}
                            oninput={on_range(link, Msg::Bulkhead)}
                            title="Concurrent calls (or threads) each bulkheaded dependency may hold" />
                        <output for="bulkhead">{ format!("{size} at once") }</output>
                    </div>
                },
            },
        }
    }

    /// Play and pause; on the full page also step, restart, speed, seed
    /// and the clock.
    pub(crate) fn view_playback(&self, ctx: &Context<Self>, compact: bool) -> Html {
        let link = ctx.link();
        let playback = self.playback.get();
        let play = html! {
            <button id="play" onclick={link.callback(|_| Msg::TogglePlay)}>
                { if playback.playing { "Pause" } else { "Play" } }
            </button>
        };
        if compact {
            return html! { <div class="control playback">{ play }</div> };
        }
        let main = &self.panes[0];
        let seed = main.sim.borrow().scenario().seed;
        html! {
            <div class="control playback">
                { play }
                <button id="step" onclick={link.callback(|_| Msg::Step)} title="Pause and advance 0.1 simulated seconds">{ "Step" }</button>
                <button id="restart" onclick={link.callback(|_| Msg::Restart)}>{ "Restart" }</button>
                <label for="speed">{ "Speed" }</label>
                <select id="speed" onchange={on_select(link, Msg::Speed)}>
                    { for SPEEDS.iter().map(|&s| html! {
                        <option value={s.to_string()} selected={s == playback.speed}>{ format!("{s}×") }</option>
                    }) }
                </select>
                <label for="seed">{ "Seed" }</label>
                <input type="number" id="seed" min="0" step="1" value={seed.to_string()}
                    onchange={on_change_input(link, Msg::Seed)} title="Restart with this seed: the same seed replays the same run" />
                { self.view_clock() }
            </div>
        }
    }

    /// The simulated time, and the fast-forward to a link's start.
    pub(crate) fn view_clock(&self) -> Html {
        let f = &self.panes[0].figures;
        html! {
            <>
            <span class="clock" id="clock">{ format!("t = {:.1} s", f.sim_seconds) }</span>
            if let Some(target) = self.fast_forwarding {
                <span class="clock" id="fast-forward" role="status">
                    { format!("fast-forwarding to {} s…", crate::address::show(target)) }
                </span>
            }
            </>
        }
    }
}

fn window_text(rate: bool, window: u32) -> String {
    if rate {
        format!("{window} calls")
    } else {
        format!("{window} failures")
    }
}
