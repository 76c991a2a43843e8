//! The parts of the page around the diagram: the lesson, the legend, the
//! comparison table, the detail panel and the charts' scrubber.

use brownout_sim::metrics::{AMPLIFICATION_SECONDS, RATE_SECONDS};
use brownout_sim::policy::breaker::BreakerConfig;
use brownout_sim::{time, ServiceTime, Sim};
use yew::prelude::*;

use crate::address::Shown;
use crate::diagram::Hit;
use crate::events::{self, Mark};
use crate::figures::{times, KeyFigures};
use crate::{charts, lab, palette, policies, share, App, Msg};

impl App {
    /// The diagrams, one per pane; on the full page with a hint and the
    /// legend. An embedded page's diagrams fill its frame (the stylesheet
    /// sizes them); the full page's are as tall as their graph needs,
    /// which [`App::size_diagrams`] sets after each render.
    pub(crate) fn view_stage(&self, ctx: &Context<Self>, embed: bool) -> Html {
        let link = ctx.link();
        html! {
            <section class={classes!("stage", self.compare.then_some("comparing"))} aria-label="Service diagram">
                <div class="panes">
                    { for self.panes.iter().enumerate().map(|(i, pane)| {
                        let sim = pane.sim.borrow();
                        let policy_edge = policies::edge_name(&sim, policies::policy_edge(&sim));
                        let label = format!("Requests flowing from the client through {} services{}",
                            sim.scenario().services.len(),
                            pane.figures.policies.breaker.map(|s| format!(
                                "; the circuit breaker on {policy_edge} is {}", events::state_name(s))).unwrap_or_default());
                        let down = link.callback(move |e: MouseEvent| Msg::Down(i, e.offset_x() as f64, e.offset_y() as f64));
                        let moved = link.callback(|e: MouseEvent| Msg::Move(e.offset_x() as f64, e.offset_y() as f64));
                        let up = link.callback(|_: MouseEvent| Msg::Up);
                        html! {
                            <figure class="pane" data-pane={i.to_string()}>
                                if self.panes.len() > 1 {
                                    <figcaption class="pane-label">
                                        { &pane.label }
                                        // A pane's name says what it was set up to show;
                                        // then, what the controls have changed in it.
                                        if let Some(note) = pane.change_note(self.controls_moved.get()) {
                                            <span class="pane-changed">{ note }</span>
                                        }
                                    </figcaption>
                                }
                                <canvas id={if i == 0 { "diagram".to_string() } else { format!("diagram-{i}") }}
                                    ref={pane.canvas.clone()} role="img" aria-label={label}
                                    onmousedown={down} onmousemove={moved} onmouseup={up.clone()} onmouseleave={up} />
                                if let Some(crowd) = pane.figures.crowd {
                                    // Text, never markup; not a live region, as
                                    // its figures change four times a second.
                                    <p class="crowd-note"
                                        id={if i == 0 { "crowd-note".to_string() } else { format!("crowd-note-{i}") }}
                                        data-in-flight={crowd.in_flight.to_string()}
                                        data-drawn={crowd.drawn.to_string()}
                                        data-stride={crowd.stride.to_string()}>
                                        { if embed { crowd.short_note() } else { crowd.note() } }
                                    </p>
                                }
                            </figure>
                        }
                    }) }
                </div>
                if !embed {
                    <p class="hint">{ "Click a service or an edge for its details; drag a service to move it." }</p>
                    { self.view_legend() }
                }
            </section>
        }
    }

    /// The page as a frame for a slide: the diagram, the controls the link
    /// names, the clock; nothing else.
    pub(crate) fn view_embed(&self, ctx: &Context<Self>) -> Html {
        let lagging = self.panes[0].figures.lagging;
        html! {
            <main class="app embed" ref={self.root.clone()} data-theme={self.theme.get().name()}>
                { self.view_address_notice(ctx) }
                { self.view_stage(ctx, true) }
                <section class="controls embed-controls" aria-label="Controls">
                    { for self.shown.iter().map(|&shown| match shown {
                        Shown::Play => self.view_playback(ctx, true),
                        Shown::Control(c) => self.view_control(ctx, c, true),
                    }) }
                    <div class="embed-clock">{ self.view_clock() }</div>
                </section>
                { self.view_notices(lagging) }
            </main>
        }
    }

    /// The page's notices: the run cannot keep up, an input was refused.
    pub(crate) fn view_notices(&self, lagging: bool) -> Html {
        html! {
            <>
            if lagging {
                <p class="notice">{ "The simulation cannot keep up at this speed and load: it is running slower than chosen." }</p>
            }
            if let Some(notice) = &self.notice {
                <p class="notice" role="alert">{ notice }</p>
            }
            </>
        }
    }

    /// What the address asked for that the page left out, one line each.
    /// Only text: the address's values never become markup.
    pub(crate) fn view_address_notice(&self, ctx: &Context<Self>) -> Html {
        if self.address_notice.is_empty() {
            return html! {};
        }
        let close = ctx.link().callback(|_| Msg::DismissAddressNotice);
        html! {
            <div id="url-notice" class="notice url-notice" role="status">
                <p>{ "Some of the address was not used; the experiment's own values stand in:" }</p>
                <ul>
                    { for self.address_notice.iter().map(|i| html! {
                        <li data-parameter={i.name.clone()}>{ i.to_string() }</li>
                    }) }
                </ul>
                <button class="close" onclick={close} aria-label="Hide this notice">{ "×" }</button>
            </div>
        }
    }

    /// Links to this view, its embed code, and the diagram as files.
    pub(crate) fn view_share(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        let now = crate::controls::on_switch(link, Msg::ShareFromNow);
        let export = self.last_export.as_ref();
        let recording = self.recording.is_some();
        html! {
            <section class="share" aria-labelledby="share-title">
                <h2 id="share-title">{ "Share and export" }</h2>
                <div class="share-buttons">
                    <button id="copy-link" onclick={link.callback(|_| Msg::CopyLink)}
                        title="A link to this experiment with every control as it is now">{ "Copy link" }</button>
                    <button id="copy-embed" onclick={link.callback(|_| Msg::CopyEmbed)}
                        title="An iframe for a slide: the diagram and the lesson's controls only">{ "Copy embed code" }</button>
                    <label class="share-now">
                        <input type="checkbox" id="share-now" checked={self.share_from_now} onchange={now} />
                        { " start at the current time" }
                    </label>
                    <button id="export-svg" onclick={link.callback(|_| Msg::ExportSvg)}>{ "Download SVG" }</button>
                    <button id="export-png" onclick={link.callback(|_| Msg::ExportPng)}
                        title="The diagram at twice its size on the page">{ "Download PNG" }</button>
                    <button id="record-clip" onclick={link.callback(|_| Msg::RecordClip)} disabled={recording}
                        title={format!("A WebM video of the diagram, {} s", share::CLIP_MS / 1000)}>
                        { if recording { "Recording…".to_string() } else { format!("Record clip ({} s)", share::CLIP_MS / 1000) } }
                    </button>
                </div>
                if let Some(shared) = &self.shared {
                    <div class="share-field">
                        <label for="share-text">{ if shared.what == "link" { "Link" } else { "Embed code" } }</label>
                        <input type="text" id="share-text" readonly=true value={shared.text.clone()}
                            ref={self.shared_field.clone()} data-what={shared.what} />
                        <p id="share-status" role="status">{ match shared.copied {
                            None => format!("Copying the {}…", shared.what),
                            Some(true) => format!("The {} is on the clipboard.", shared.what),
                            Some(false) => format!("The browser did not let the page copy: the {} is selected above, copy it with Ctrl+C (⌘C on a Mac).", shared.what),
                        } }</p>
                    </div>
                }
                <span id="last-export" hidden=true
                    data-kind={export.map(|e| e.kind)}
                    data-url={export.map(|e| e.url.clone())}
                    data-bytes={export.map(|e| e.bytes.to_string())}
                    data-last-export-width={export.map(|e| e.width.to_string())}
                    data-last-export-height={export.map(|e| e.height.to_string())}></span>
            </section>
        }
    }

    /// Title, summary, prompts and the question of the experiment.
    pub(crate) fn view_lesson(&self, ctx: &Context<Self>) -> Html {
        let Some(lesson) = self.experiment.scenario.lesson.as_ref() else {
            let description = &self.experiment.scenario.description;
            return html! {
                <section class="lesson-card" id="lesson">
                    <h2 id="lesson-title">{ &self.experiment.scenario.name }</h2>
                    if !description.is_empty() { <p class="summary">{ description }</p> }
                </section>
            };
        };
        let question = lesson.question.as_ref().map(|q| {
            let main = &self.panes[0];
            // Taken at the question's time; a run that jumped past it
            // without landing there (a link's start) is read as it stands.
            let answer = self.answer.borrow().clone().or_else(|| {
                let sim = main.sim.borrow();
                let late = sim.now() > lab::answer_time(q);
                if late { lab::answer(q, &sim, &main.log.borrow()) } else { None }
            });
            let now = main.figures.sim_seconds;
            // Changed from the experiment as set (now, or earlier in the
            // run), the run answers another question: its figure is shown,
            // no choice marked right.
            let changed = main.changes();
            let graded = changed.is_empty() && !self.controls_moved.get();
            let how = if changed.is_empty() {
                "with controls moved since the experiment opened".to_string()
            } else {
                format!("with {}", changed.join("; "))
            };
            html! {
                <div class="question" id="question">
                    <p class="ask"><strong>{ "Predict, then run: " }</strong>{ &q.ask }</p>
                    <div class="choices" role="group" aria-label="Your prediction">
                        { for q.choices.iter().enumerate().map(|(i, &c)| {
                            let chosen = self.guess == Some(i);
                            let right = graded && answer.as_ref().is_some_and(|a| a.nearest == i);
                            html! {
                                <button class={classes!("choice", chosen.then_some("chosen"), right.then_some("right"))}
                                    aria-pressed={chosen.to_string()} data-value={c.to_string()}
                                    onclick={ctx.link().callback(move |_| Msg::Guess(i))}>
                                    { lab::show(&q.measure, c) }
                                </button>
                            }
                        }) }
                    </div>
                    <p class="answer" id="answer" data-measured={answer.as_ref().map(|a| format!("{:.4}", a.measured)).unwrap_or_default()}>
                        { match (&answer, self.guess) {
                            (None, _) => format!("The run answers at t = {:.0} s (now {:.0} s).", q.after_s, now),
                            (Some(a), _) if !graded => format!(
                                "The run measured {}, {how}: not the experiment as set, which the question is about. Open the experiment again for its answer.",
                                lab::show(&q.measure, a.measured)),
                            (Some(a), guess) => {
                                let verdict = match guess {
                                    Some(g) if g == a.nearest => "You were right.",
                                    Some(_) => "Not what you predicted.",
                                    None => "",
                                };
                                format!("The run measured {}: nearest choice {}. {verdict}",
                                    lab::show(&q.measure, a.measured),
                                    lab::show(&q.measure, q.choices[a.nearest]))
                            }
                        } }
                    </p>
                </div>
            }
        });
        html! {
            <section class="lesson-card" id="lesson">
                <h2 id="lesson-title">{ &lesson.title }</h2>
                <p class="summary">{ &lesson.summary }</p>
                if !lesson.notice.is_empty() {
                    <div class="notice-list">
                        <h3>{ "What to notice" }</h3>
                        <ul id="notice">
                            { for lesson.notice.iter().map(|n| html! { <li>{ n }</li> }) }
                        </ul>
                    </div>
                }
                { for question }
            </section>
        }
    }

    /// Every mark the diagram and the charts draw.
    pub(crate) fn view_legend(&self) -> Html {
        html! {
            <ul class="legend" aria-label="Legend">
                { for palette::DOT_KINDS.iter().map(|&k| html! {
                    <li><span class={classes!("swatch", format!("dot-{}", palette::dot_slug(k)))}></span>
                        { palette::dot_label(k) }</li>
                }) }
                <li><span class="gauge-swatch"></span>{ "workers busy / queue used (red when 90 % full)" }</li>
                <li class="legend-badges">{ "circuit breaker:" }
                    { for palette::BREAKER_STATES.iter().map(|&state| {
                        let state_class = format!("breaker-{}", events::state_name(state).to_lowercase());
                        html! {
                            <span class={classes!("badge-swatch", state_class)}>
                                { events::state_name(state) }
                            </span>
                        }
                    }) }
                </li>
                <li><span class="bounce-swatch"></span>{ "call refused by the caller's breaker or bulkhead (bounces off)" }</li>
                <li><span class="fault-swatch">{ "⚡" }</span>{ "chaos fault in force (node or link)" }</li>
                <li><span class="proxy-swatch">{ "×3 +1" }</span>{ "instances, and instances starting" }</li>
                <li><span class="selected-swatch"></span>{ "selected: details below" }</li>
                <li><span class="proxy-swatch">{ "proxy" }</span>{ "policies run in a sidecar" }</li>
            </ul>
        }
    }

    /// The key figures of both panes side by side.
    pub(crate) fn view_comparison(&self) -> Html {
        let figures: Vec<(String, KeyFigures)> = self
            .panes
            .iter()
            .map(|p| (p.label.clone(), KeyFigures::read(&p.sim.borrow())))
            .collect();
        let pct = |x: Option<f64>| x.map_or("–".to_string(), |v| format!("{v:.1} %"));
        // Each row says the span it covers: the outcomes and the p99 are of
        // the whole run so far; amplification and the busiest pool are the
        // run's present state, which is what their panels and tables show.
        let last_name =
            self.panes[0].sim.borrow().scenario().services.last().map(|s| s.name.clone());
        let amplification = format!(
            "Attempts at {} per request, requests settled in the last {AMPLIFICATION_SECONDS} s (since the last change at most)",
            last_name.as_deref().unwrap_or("the last service")
        );
        let busiest = format!("Busiest worker pool, last {RATE_SECONDS} s");
        type Row = (&'static str, String, fn(&KeyFigures) -> Option<f64>);
        let rows: [Row; 6] = [
            ("success", "Answered in full, since the start".into(), |k| k.success),
            ("degraded", "Degraded (fallback), since the start".into(), |k| k.degraded),
            ("failed", "Failed (error, timeout or refused), since the start".into(), |k| k.failed),
            ("p99", "Client p99 latency, since the start".into(), |k| k.p99_ms),
            ("amplification", amplification, |k| k.amplification),
            ("saturation", busiest, |k| k.saturation.as_ref().map(|s| s.0)),
        ];
        html! {
            <section class="comparison" aria-labelledby="comparison-title">
                <h2 id="comparison-title">{ "Side by side, same load and seed" }</h2>
                { crate::overflow::scroller(html! {
                    <table id="comparison">
                        <thead><tr>
                            <th scope="col">{ "Figure" }</th>
                            { for figures.iter().map(|(label, _)| html! { <th scope="col">{ label }</th> }) }
                        </tr></thead>
                        <tbody>
                            { for rows.iter().map(|(id, name, read)| html! {
                                <tr>
                                    <th scope="row">{ name.as_str() }</th>
                                    { for figures.iter().enumerate().map(|(i, (_, k))| {
                                        let value = read(k);
                                        let text = match *id {
                                            "p99" => value.map_or("–".into(), |v| format!("{v:.0} ms")),
                                            "amplification" => value.map_or("…".into(), times),
                                            "saturation" => k.saturation.as_ref().map_or("–".into(), |(v, name)| format!("{v:.0} % ({name})")),
                                            _ => pct(value),
                                        };
                                        html! {
                                            <td id={format!("cmp-{id}-{i}")} data-value={value.map(|v| format!("{v:.4}")).unwrap_or_default()}>
                                                { text }
                                            </td>
                                        }
                                    }) }
                                </tr>
                            }) }
                        </tbody>
                    </table>
                }) }
            </section>
        }
    }

    /// The selected service or edge: its settings, counters, latency and
    /// events.
    pub(crate) fn view_detail(&self, ctx: &Context<Self>) -> Html {
        let Some(hit) = self.selected.get() else {
            return html! {};
        };
        let main = &self.panes[0];
        let sim = main.sim.borrow();
        let log = main.log.borrow();
        let close = ctx.link().callback(|_| Msg::CloseDetail);
        let body = match hit {
            Hit::Node(0) => client_detail(&sim),
            Hit::Node(n) => service_detail(&sim, n - 1),
            Hit::Edge(e) => edge_detail(&sim, &log, e),
        };
        html! {
            <section class="detail" id="detail" aria-live="polite">
                <button class="close" onclick={close} aria-label="Close the details">{ "×" }</button>
                { body }
            </section>
        }
    }

    /// The slider that scrolls the charts back over the kept past.
    pub(crate) fn view_scrubber(&self, ctx: &Context<Self>) -> Html {
        let sim = self.panes[0].sim.borrow();
        let (earliest, live) = (charts::earliest_end(&sim), charts::live_end(&sim));
        let end = self.chart_end.get().unwrap_or(live);
        let oninput = ctx.link().callback(|e: InputEvent| {
            Msg::Scrub(e.target_unchecked_into::<web_sys::HtmlInputElement>().value())
        });
        html! {
            <div class="control scrub">
                <label for="scrub">{ "Charts end at" }</label>
                <input type="range" id="scrub" min={earliest.to_string()} max={live.to_string()} step="1"
                    value={end.to_string()} disabled={live <= earliest} {oninput}
                    aria-valuetext={format!("charts end at {end} s")}
                    title="Scroll the charts back over the last ten simulated minutes" />
                <output for="scrub">{ if self.chart_end.get().is_some() { format!("{end} s") } else { format!("{end} s (live)") } }</output>
                if self.chart_end.get().is_some() {
                    <button id="live" onclick={ctx.link().callback(|_| Msg::Live)}>{ "Follow the run" }</button>
                }
            </div>
        }
    }
}

fn rows(items: Vec<(String, String)>) -> Html {
    html! {
        <dl class="detail-list">
            { for items.into_iter().map(|(k, v)| html! { <><dt>{ k }</dt><dd>{ v }</dd></> }) }
        </dl>
    }
}

fn latency_rows(p: Option<brownout_sim::Percentiles>) -> Vec<(String, String)> {
    match p {
        None => vec![("Latency".into(), "nothing answered yet".into())],
        Some(p) => vec![(
            "Latency p50 / p90 / p99 / max".into(),
            format!("{:.0} / {:.0} / {:.0} / {:.0} ms", p.p50, p.p90, p.p99, p.max),
        )],
    }
}

fn client_detail(sim: &Sim) -> Html {
    let c = &sim.metrics().totals().client;
    let mut items = vec![
        (
            "Load".to_string(),
            format!("{:.0} requests/s, {:?}", sim.current_rate(), sim.scenario().load.arrivals),
        ),
        ("Requests sent".into(), c.requests.to_string()),
        ("Answered in full".into(), c.successes.to_string()),
        ("Degraded".into(), c.degraded.to_string()),
        ("Errors".into(), c.errors.to_string()),
        ("Timeouts".into(), c.timeouts.to_string()),
        ("Rejected".into(), c.rejections.to_string()),
        ("Refused by a breaker".into(), c.short_circuited.to_string()),
        ("Refused by a bulkhead".into(), c.bulkhead_full.to_string()),
    ];
    items.extend(latency_rows(sim.metrics().client_latency()));
    html! { <><h2>{ "client" }</h2>{ rows(items) }</> }
}

fn service_detail(sim: &Sim, s: usize) -> Html {
    let Some(spec) = sim.scenario().services.get(s) else { return html! {} };
    let c = &sim.metrics().totals().services[s];
    let load = sim.service_load(s);
    let r = &c.rejections;
    let mut items = vec![
        (
            "Instances × workers, queue".to_string(),
            format!("{} × {}, queue {}", load.instances, spec.workers, spec.queue),
        ),
        (
            "Service time".into(),
            match spec.service_time {
                ServiceTime::Fixed { ms } => format!("fixed, {ms} ms"),
                ServiceTime::Exponential { mean_ms } => format!("exponential, mean {mean_ms} ms"),
                ServiceTime::LogNormal { median_ms, sigma } => format!(
                    "log-normal, median {median_ms} ms, σ {sigma} (mean {:.0} ms)",
                    spec.service_time.mean_ms()
                ),
            },
        ),
        ("Error rate".into(), format!("{:.0} %", spec.error_rate * 100.0)),
        ("Attempts received".into(), c.attempts.to_string()),
        ("Successes (degraded)".into(), format!("{} ({})", c.successes, c.degraded)),
        ("Errors".into(), c.errors.to_string()),
        ("Timed out at the caller".into(), c.timeouts.to_string()),
        (
            "Rejected: queue full / queue time / deadline / instance down".into(),
            format!("{} / {} / {} / {}", r.queue_full, r.queue_time, r.deadline, r.instance_down),
        ),
        ("Orphaned (served after the caller gave up)".into(), c.orphaned.to_string()),
        ("Cancelled".into(), c.cancelled.to_string()),
        ("Busy workers now".into(), format!("{} / {}", load.busy_workers, load.workers)),
        ("Queued now".into(), format!("{} / {}", load.queued, load.queue_capacity)),
    ];
    if let Some(shed) = spec.shed_after_queue_ms {
        items.push(("Sheds work queued longer than".into(), format!("{shed} ms")));
    }
    items.extend(latency_rows(sim.metrics().service_latency(s)));
    html! { <><h2>{ &spec.name }</h2>{ rows(items) }</> }
}

fn edge_detail(sim: &Sim, log: &events::EventLog, e: usize) -> Html {
    let Some(call) = sim.scenario().calls.get(e) else { return html! {} };
    let c = &sim.metrics().totals().edges[e];
    let order: Vec<String> = call.order.iter().map(|l| format!("{l:?}").to_lowercase()).collect();
    let mut items = vec![
        ("Network latency".to_string(), format!("{} ms each way", call.latency_ms)),
        ("Timeout per try".into(), format!("{} ms", call.timeout_ms)),
        ("Retries".into(), format!("{} (= {} tries)", call.retries, call.retries + 1)),
        (
            "Backoff".into(),
            match &call.backoff {
                Some(b) => format!(
                    "{:?}, base {} ms, cap {} ms, jitter {:?}",
                    b.kind, b.base_ms, b.cap_ms, b.jitter
                ),
                None => format!("fixed {} ms", call.backoff_ms),
            },
        ),
        ("Retry on".into(), format!("{:?}", call.retry_on).to_lowercase()),
        (
            "Critical".into(),
            if call.critical { "yes".into() } else { "no: enriching, falls back".into() },
        ),
        ("Policies, outermost first".into(), order.join(" → ")),
        ("Calls / tries / retries".into(), format!("{} / {} / {}", c.calls, c.tries, c.retries)),
        ("Timeouts".into(), c.timeouts.to_string()),
        ("Failed calls / fallbacks".into(), format!("{} / {}", c.failed_calls, c.fallbacks)),
        ("Messages lost".into(), c.lost_messages.to_string()),
    ];
    if let Some(d) = call.deadline_ms {
        items.push(("Overall deadline".into(), format!("{d} ms")));
    }
    match &call.breaker {
        Some(BreakerConfig::FailureRate {
            sliding_window_type,
            sliding_window_size,
            minimum_calls,
            failure_rate_threshold,
            slow_call_rate_threshold,
            slow_call_duration_ms,
            wait_in_open_ms,
            permitted_calls_in_half_open,
            ..
        }) => {
            items.push(("Breaker".into(), format!(
                "failure rate ≥ {failure_rate_threshold} % or slow calls (> {slow_call_duration_ms} ms) ≥ {slow_call_rate_threshold} % over {sliding_window_size} {}, at least {minimum_calls} calls; open {wait_in_open_ms} ms; {permitted_calls_in_half_open} trial calls",
                if format!("{sliding_window_type:?}").contains("Time") { "seconds" } else { "calls" })));
        }
        Some(BreakerConfig::ConsecutiveFailures { failures, wait_in_open_ms }) => {
            items.push((
                "Breaker".into(),
                format!("{failures} failures in a row; open {wait_in_open_ms} ms; one trial call"),
            ));
        }
        None => items.push(("Breaker".into(), "none".into())),
    }
    if let Some(p) = sim.edge_policies(e) {
        if let Some(b) = p.breaker_counters {
            items.push(("Breaker refused".into(), b.not_permitted.to_string()));
        }
        if let Some((used, limit, waiting)) = p.bulkhead {
            items.push((
                "Bulkhead now".into(),
                format!("{used} / {limit} in use, {waiting} waiting"),
            ));
        }
        if let Some(tokens) = p.budget_tokens {
            items.push(("Retry budget tokens".into(), format!("{tokens:.1}")));
        }
    }
    if let Some(b) = &call.bulkhead {
        items.push(("Bulkhead".into(), format!("{b:?}")));
    }
    if let Some(b) = &call.retry_budget {
        items.push(("Retry budget".into(), format!("{b:?}")));
    }
    let transitions: Vec<Html> = log
        .timeline()
        .rev()
        .filter_map(|&(at, mark)| match mark {
            Mark::Breaker { edge, from, to, failure_rate } if edge == e => Some(html! {
                <li>{ format!("{:.2} s: {} → {}{}", time::to_secs(at), events::state_name(from), events::state_name(to),
                    failure_rate.map(|r| format!(" ({r:.0} % failed)")).unwrap_or_default()) }</li>
            }),
            _ => None,
        })
        .collect();
    html! {
        <>
            <h2>{ format!("{} → {}", call.from, call.to) }</h2>
            { rows(items) }
            <h3>{ format!("Breaker transitions ({} opening{})", log.openings(e), if log.openings(e) == 1 { "" } else { "s" }) }</h3>
            if transitions.is_empty() {
                <p>{ "None yet." }</p>
            } else {
                <ol class="transitions" id="detail-transitions">{ for transitions }</ol>
            }
        </>
    }
}

impl App {
    /// The phase map of a metastable experiment: which triggers the system
    /// survives, computed on demand.
    pub(crate) fn view_phase_map(&self, ctx: &Context<Self>) -> Html {
        let Some(spec) =
            self.experiment.scenario.lesson.as_ref().and_then(|l| l.phase_map.as_ref())
        else {
            return html! {};
        };
        let fault = self.experiment.scenario.chaos.faults.get(spec.fault);
        let kind = fault.map_or("fault", |f| f.kind.name());
        let start = ctx.link().callback(|_| Msg::PhaseStart);
        html! {
            <section class="phase" aria-labelledby="phase-title">
                <h2 id="phase-title">{ "Phase map: which triggers does it survive?" }</h2>
                <p class="phase-text">{ format!(
                    "Each cell is a run of {:.0} s with the {kind} fault at one size (rows) for one length (columns), judged on the last {:.0} s: recovered when at least {:.0} % of requests are answered in full.",
                    spec.run_s.unwrap_or(self.experiment.scenario.duration_s), spec.settle_s, spec.threshold * 100.0) }</p>
                { match &self.phase {
                    None => html! { <button id="phase-start" onclick={start}>{ format!("Compute the map ({} runs)", spec.sizes.len() * spec.lengths_s.len()) }</button> },
                    Some(map) => html! {
                        <>
                        <table id="phase-map" class="phase-map" data-done={map.done().to_string()}>
                            <thead><tr>
                                <th scope="col">{ format!("{kind} size ↓ · length →") }</th>
                                { for map.lengths().iter().map(|l| html! { <th scope="col">{ format!("{l} s") }</th> }) }
                            </tr></thead>
                            <tbody>
                                { for map.sizes().iter().enumerate().map(|(i, size)| html! {
                                    <tr>
                                        <th scope="row">{ format!("{size}") }</th>
                                        { for (0..map.lengths().len()).map(|j| {
                                            let outcome = map.cell(i, j).and_then(|c| c.outcome);
                                            let (class, text) = match outcome {
                                                None => ("pending", "…".to_string()),
                                                Some(o) if o.recovered => ("recovered", format!("{:.0} %", o.success * 100.0)),
                                                Some(o) => ("stuck", format!("{:.0} %", o.success * 100.0)),
                                            };
                                            html! { <td class={class} title={class}>{ text }</td> }
                                        }) }
                                    </tr>
                                }) }
                            </tbody>
                        </table>
                        <p class="phase-key"><span class="recovered">{ "recovered" }</span>{ " " }<span class="stuck">{ "stuck" }</span>
                            { format!(" · {} of {} runs done", map.done(), map.cells().len()) }</p>
                        </>
                    },
                } }
            </section>
        }
    }
}
