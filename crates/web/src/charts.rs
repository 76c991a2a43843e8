//! Charts under the diagram: the recent past of a run, one simulated second
//! per step, over a rolling window.
//!
//! Everything is read from the core's one-second buckets (which keep the
//! last ten minutes) and from the page's event log (breaker transitions
//! and chaos marks), so the charts cost nothing while the run goes on and
//! can be scrolled back over what the core still keeps. They are drawn on
//! one canvas, a few times a second, as small multiples sharing one time
//! axis: a vertical line at a chaos fault crosses every panel.

use brownout_sim::metrics::Second;
use brownout_sim::policy::breaker::BreakerState;
use brownout_sim::time::{self, SECOND};
use brownout_sim::Sim;
use web_sys::CanvasRenderingContext2d;

use crate::events::{EventLog, Mark};
use crate::palette::{self, Colours};

/// Seconds shown at once.
pub const WINDOW_S: u64 = 60;

const PANEL_H: f64 = 92.0;
const TITLE_H: f64 = 20.0;
const PAD: f64 = 24.0;
const AXIS_W: f64 = 44.0;

const GOODPUT: &str = palette::CHART_ANSWERED;
const THROUGHPUT: &str = palette::CHART_SENT;
const FAILED: &str = palette::CHART_FAILED;
const DEGRADED: &str = palette::CHART_DEGRADED;
const P99: &str = palette::CHART_P99;
const SERVICE_LINES: [&str; 5] = palette::CHART_SERVICES;

/// The window the charts show: the `WINDOW_S` seconds ending at `end`
/// (exclusive), in whole simulated seconds.
pub fn window(end: u64) -> (u64, u64) {
    (end.saturating_sub(WINDOW_S), end)
}

/// The last whole second a run has finished.
pub fn live_end(sim: &Sim) -> u64 {
    sim.now() / SECOND
}

/// The oldest second the core still keeps, so the earliest window end that
/// can be scrolled to.
pub fn earliest_end(sim: &Sim) -> u64 {
    let now = live_end(sim);
    let kept = (0..=now).find(|&s| !sim.metrics().series().is_dropped(s)).unwrap_or(now);
    (kept + WINDOW_S).min(now)
}

/// How tall the chart canvas must be for its width.
pub fn height_for(width: f64) -> f64 {
    let rows = PANELS.div_ceil(columns(width));
    rows as f64 * (PANEL_H + TITLE_H + PAD) + PAD
}

const PANELS: usize = 6;

fn columns(width: f64) -> usize {
    if width >= 700.0 {
        2
    } else {
        1
    }
}

/// One panel's box on the canvas.
#[derive(Clone, Copy)]
struct Panel {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    from: u64,
    to: u64,
}

impl Panel {
    /// The x of the middle of second `s`.
    fn x_of(&self, s: f64) -> f64 {
        let span = (self.to - self.from).max(1) as f64;
        self.x + (s - self.from as f64) / span * self.w
    }

    fn y_of(&self, v: f64, max: f64) -> f64 {
        self.y + self.h - (v / max.max(1e-9)).clamp(0.0, 1.0) * self.h
    }
}

/// Paints every panel for the window ending at `end`; `variant` is the
/// comparison run, drawn dashed where it adds to a panel. Returns the key
/// of the workers panel as text ("gateway, search, +11 more"), which the
/// page puts on the canvas for tests and tools that cannot read pixels.
pub fn paint(
    ctx: &CanvasRenderingContext2d,
    (width, height): (f64, f64),
    sim: &Sim,
    log: &EventLog,
    variant: Option<&Sim>,
    end: u64,
    colours: &Colours,
) -> String {
    let c = colours;
    ctx.clear_rect(0.0, 0.0, width, height);
    let (from, to) = window(end);
    let cols = columns(width);
    let panel_w = (width - PAD) / cols as f64 - PAD;
    let panel = |i: usize| {
        let (col, row) = (i % cols, i / cols);
        let x = PAD + col as f64 * (panel_w + PAD) + AXIS_W;
        let y = PAD + row as f64 * (PANEL_H + TITLE_H + PAD) + TITLE_H;
        Panel { x, y, w: panel_w - AXIS_W - 4.0, h: PANEL_H, from, to }
    };
    let seconds: Vec<(u64, Option<&Second>)> =
        (from..to).map(|s| (s, sim.metrics().series().get(s))).collect();
    let variant_seconds: Vec<(u64, Option<&Second>)> = variant
        .map(|v| (from..to).map(|s| (s, v.metrics().series().get(s))).collect())
        .unwrap_or_default();

    // 1. Throughput and goodput.
    let p = panel(0);
    let offered: Vec<(u64, f64)> = values(&seconds, |c| Some(c.counts.client.requests as f64));
    let goodput: Vec<(u64, f64)> = values(&seconds, |c| Some(c.counts.client.answered() as f64));
    let v_goodput: Vec<(u64, f64)> =
        values(&variant_seconds, |c| Some(c.counts.client.answered() as f64));
    let max = nice_max(offered.iter().chain(&goodput).chain(&v_goodput).map(|v| v.1));
    let mut entries = vec![(THROUGHPUT, "sent"), (GOODPUT, "answered")];
    if variant.is_some() {
        entries.push((c.variant, "variant (dashed)"));
    }
    let mut k = Key::fitted(ctx, &p, &entries);
    if variant.is_some() && !k.whole {
        // A narrow panel: the dash of the line says the rest.
        entries[2].1 = "variant";
        k = Key::fitted(ctx, &p, &entries);
    }
    frame(ctx, c, &p, &["Requests/s: sent, answered", "Requests/s"], max, "", k.times);
    line(ctx, &p, &offered, max, THROUGHPUT, false);
    line(ctx, &p, &goodput, max, GOODPUT, false);
    if variant.is_some() {
        line(ctx, &p, &v_goodput, max, c.variant, true);
    }
    k.draw(ctx, c, &p);

    // 2. Outcome mix, stacked: full at the bottom, then degraded, failed.
    let p = panel(1);
    let k = Key::fitted(ctx, &p, &[(GOODPUT, "full"), (DEGRADED, "degraded"), (FAILED, "failed")]);
    let titles = ["Outcome mix of finished requests", "Outcome mix"];
    frame(ctx, c, &p, &titles, 100.0, "%", k.times);
    for &(s, second) in &seconds {
        let Some(c) = second.map(|c| &c.counts.client) else { continue };
        let all = c.finished();
        if all == 0 {
            continue;
        }
        let share = |n: u64| n as f64 / all as f64;
        let (x0, x1) = (p.x_of(s as f64), p.x_of(s as f64 + 1.0));
        let mut base = 0.0;
        for (n, colour) in [(c.successes, GOODPUT), (c.degraded, DEGRADED), (c.failed(), FAILED)] {
            let h = share(n) * p.h;
            ctx.set_fill_style_str(colour);
            ctx.fill_rect(x0, p.y + p.h - base - h, (x1 - x0).max(1.0), h);
            base += h;
        }
    }
    k.draw(ctx, c, &p);

    // 3. Client latency.
    let p = panel(2);
    let p50 = values(&seconds, |c| c.client_latency.map(|l| l.p50));
    let p99 = values(&seconds, |c| c.client_latency.map(|l| l.p99));
    let max = nice_max(p99.iter().chain(&p50).map(|v| v.1));
    let k = Key::fitted(ctx, &p, &[(THROUGHPUT, "p50"), (P99, "p99")]);
    frame(ctx, c, &p, &["Client latency, ms"], max, "", k.times);
    line(ctx, &p, &p50, max, THROUGHPUT, false);
    line(ctx, &p, &p99, max, P99, false);
    k.draw(ctx, c, &p);

    // 4. Amplification at the last service: the attempts each request
    // caused there, over the requests that finished (with all their work)
    // in each second. Dividing a second's attempts by the requests sent in
    // that same second would not do: a request's retries come seconds
    // after it was sent, so that ratio swings far above and below the
    // figure the lesson predicts, while this one reads it.
    let p = panel(3);
    let last = sim.scenario().services.len().saturating_sub(1);
    let last_name = sim.scenario().services.get(last).map_or("", |s| s.name.as_str());
    let amp = |run: &Sim| -> Vec<(u64, f64)> {
        let settled = run.metrics().settled_series();
        (from..to)
            .filter_map(|s| {
                let b = settled.get(s).filter(|b| b.requests > 0)?;
                Some((s, *b.attempts.get(last)? as f64 / b.requests as f64))
            })
            .collect()
    };
    let (a, va) = (amp(sim), variant.map(amp).unwrap_or_default());
    let max = nice_max(a.iter().chain(&va).map(|v| v.1).chain([1.0]));
    let titles = [
        format!("Attempts at {last_name} per finished request"),
        format!("Attempts at {last_name} per request"),
        format!("Attempts at {last_name}"),
    ];
    let titles: Vec<&str> = titles.iter().map(String::as_str).collect();
    frame(ctx, c, &p, &titles, max, "×", true);
    line(ctx, &p, &a, max, FAILED, false);
    if variant.is_some() {
        line(ctx, &p, &va, max, c.variant, true);
    }

    // 5. Worker pool occupancy per service: a colour of its own for each
    // service the key has room to name (five at most, the palette's
    // lines), in the scenario's order so that a service keeps its colour
    // as the run goes on; any others are drawn thin and grey under them
    // and counted in the key, so that a wide graph (the crowd has
    // thirteen services) has every pool on the chart and none left out in
    // silence.
    let p = panel(4);
    let services = &sim.scenario().services;
    let named = pools_named(ctx, &p, services.iter().map(|s| s.name.as_str()));
    let others = more_label(named, services.len());
    let mut keys: Vec<(&str, &str)> = services
        .iter()
        .take(named)
        .zip(SERVICE_LINES)
        .map(|(s, colour)| (colour, s.name.as_str()))
        .collect();
    if let Some(others) = &others {
        keys.push((c.muted, others));
    }
    let k = Key::fitted(ctx, &p, &keys);
    let titles = ["Workers busy, share of the pool", "Workers busy, % of pool"];
    frame(ctx, c, &p, &titles, 100.0, "%", k.times);
    let busy = |i: usize| {
        values(&seconds, |c| {
            let s = c.counts.services.get(i)?;
            (s.capacity_us > 0).then(|| 100.0 * s.busy_us as f64 / s.capacity_us as f64)
        })
    };
    for i in named..services.len() {
        stroke(ctx, &p, &busy(i), 100.0, c.muted, false, 1.0);
    }
    for (i, colour) in SERVICE_LINES.iter().enumerate().take(named) {
        line(ctx, &p, &busy(i), 100.0, colour, false);
    }
    k.draw(ctx, c, &p);
    let pools_key = keys.iter().map(|(_, label)| *label).collect::<Vec<_>>().join(", ");

    // 6. Breaker states, one band per edge with a breaker.
    let p = panel(5);
    frame(ctx, c, &p, &["Circuit breakers"], 0.0, "", true);
    let breakers: Vec<usize> = (0..sim.edges().len())
        .filter(|&e| sim.scenario().calls.get(e).is_some_and(|c| c.breaker.is_some()))
        .collect();
    if breakers.is_empty() {
        ctx.set_fill_style_str(c.muted);
        ctx.set_font("13px system-ui, sans-serif");
        ctx.set_text_align("left");
        let _ = ctx.fill_text("no breaker in this run", p.x + 6.0, p.y + p.h / 2.0 - 6.0);
    }
    let band_h = (p.h / breakers.len().max(1) as f64).min(28.0);
    for (row, &edge) in breakers.iter().enumerate() {
        let y = p.y + row as f64 * band_h;
        let start = from * SECOND;
        // The state when the window starts: the last transition before it.
        let mut state = log
            .timeline()
            .rev()
            .find_map(|&(at, mark)| match mark {
                Mark::Breaker { edge: e, to, .. } if e == edge && at < start => Some(to),
                _ => None,
            })
            .unwrap_or(BreakerState::Closed);
        let mut since = from as f64;
        let until = (to * SECOND).min(sim.now());
        let changes = log.timeline().filter_map(|&(at, mark)| match mark {
            Mark::Breaker { edge: e, to, .. } if e == edge && at >= start && at < until => {
                Some((time::to_secs(at), to))
            }
            _ => None,
        });
        for (at, next) in changes.chain([(time::to_secs(until), state)]) {
            let (x0, x1) = (p.x_of(since), p.x_of(at));
            ctx.set_fill_style_str(palette::breaker_colours(state).0);
            // Even an instant in a state gets a visible sliver.
            ctx.fill_rect(x0, y + 2.0, (x1 - x0).max(1.5), band_h - 4.0);
            (state, since) = (next, at);
        }
        // The edge's name inside its band, on a light backing.
        let name = crate::policies::edge_name(sim, edge);
        ctx.set_font("600 12px system-ui, sans-serif");
        let w = ctx.measure_text(&name).map(|m| m.width()).unwrap_or(60.0) + 8.0;
        ctx.set_fill_style_str(c.label_backing);
        ctx.fill_rect(p.x + 4.0, y + band_h / 2.0 - 8.0, w, 16.0);
        ctx.set_fill_style_str(c.ink);
        ctx.set_text_align("left");
        ctx.set_text_baseline("middle");
        let _ = ctx.fill_text(&name, p.x + 8.0, y + band_h / 2.0);
        ctx.set_text_baseline("top");
    }

    // Chaos marks across every panel.
    let marks: Vec<(f64, String)> = log
        .timeline()
        .filter_map(|&(at, mark)| {
            let s = time::to_secs(at);
            if s < from as f64 || s >= to as f64 {
                return None;
            }
            let faults = &sim.scenario().chaos.faults;
            match mark {
                Mark::Fault { fault, started } => Some((
                    s,
                    format!(
                        "{} {}",
                        faults.get(fault).map_or("fault", |f| f.kind.name()),
                        if started { "starts" } else { "ends" }
                    ),
                )),
                Mark::Aborted { .. } => Some((s, "experiment aborted".into())),
                Mark::Breaker { .. } => None,
            }
        })
        .collect();
    ctx.set_stroke_style_str(c.fault);
    ctx.set_line_width(1.5);
    for i in 0..PANELS {
        let p = panel(i);
        for (s, _) in &marks {
            let x = p.x_of(*s);
            ctx.begin_path();
            ctx.move_to(x, p.y);
            ctx.line_to(x, p.y + p.h);
            ctx.stroke();
        }
    }
    // Each mark named at the top of the first panel, beside its line, as
    // far as the names fit: the newest first, an older one where it does
    // not run into the one after it.
    let p = panel(0);
    ctx.set_fill_style_str(c.fault);
    ctx.set_font("600 12px system-ui, sans-serif");
    ctx.set_text_align("left");
    let labels: Vec<(f64, String)> =
        marks.iter().map(|(s, text)| (p.x_of(*s) + 3.0, format!("⚡ {text}"))).collect();
    let spans: Vec<(f64, f64)> =
        labels.iter().map(|(x, text)| (*x, text_width(ctx, text))).collect();
    for ((x, text), named) in labels.iter().zip(named_marks(&spans, p.x + p.w)) {
        if named {
            let _ = ctx.fill_text(text, *x, p.y + 2.0);
        }
    }

    // The time axis, under each panel of the last row.
    ctx.set_fill_style_str(c.muted);
    ctx.set_font("12px system-ui, sans-serif");
    ctx.set_text_align("center");
    let _ = height;
    pools_key
}

/// The values a panel plots, one per second that has one.
fn values(
    seconds: &[(u64, Option<&Second>)],
    read: impl Fn(&Second) -> Option<f64>,
) -> Vec<(u64, f64)> {
    seconds.iter().filter_map(|&(s, second)| second.and_then(&read).map(|v| (s, v))).collect()
}

/// A round upper bound for an axis.
fn nice_max(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0f64, f64::max);
    if max <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    for step in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if step * magnitude >= max {
            return step * magnitude;
        }
    }
    10.0 * magnitude
}

/// A panel's title, box, top value and, if `times`, its time labels.
/// `titles` says the same thing longest first: the first that fits the
/// panel's width is drawn (see [`fit_title`]).
fn frame(
    ctx: &CanvasRenderingContext2d,
    c: &Colours,
    p: &Panel,
    titles: &[&str],
    max: f64,
    unit: &str,
    times: bool,
) {
    let room = p.w + AXIS_W;
    let (font, title) = fit_title(
        |font, text| {
            ctx.set_font(font);
            text_width(ctx, text)
        },
        titles,
        room,
    );
    ctx.set_fill_style_str(c.ink);
    ctx.set_font(font);
    ctx.set_text_align("left");
    ctx.set_text_baseline("bottom");
    let _ = ctx.fill_text(&title, p.x - AXIS_W, p.y - 4.0);
    ctx.set_text_baseline("top");
    ctx.set_stroke_style_str(c.gauge_track);
    ctx.set_line_width(1.0);
    ctx.stroke_rect(p.x, p.y, p.w, p.h);
    ctx.set_fill_style_str(c.muted);
    ctx.set_font(KEY_FONT);
    if max > 0.0 {
        ctx.set_text_align("right");
        let top = if max >= 10.0 { format!("{max:.0}{unit}") } else { format!("{max}{unit}") };
        let _ = ctx.fill_text(&top, p.x - 4.0, p.y);
        ctx.set_text_baseline("bottom");
        let _ = ctx.fill_text(&format!("0{unit}"), p.x - 4.0, p.y + p.h);
        ctx.set_text_baseline("top");
    }
    if times {
        let (from, to) = time_labels(p);
        ctx.set_text_align("left");
        let _ = ctx.fill_text(&from, p.x + TIME_INSET, p.y + p.h + 2.0);
        ctx.set_text_align("right");
        let _ = ctx.fill_text(&to, p.x + p.w - TIME_INSET, p.y + p.h + 2.0);
    }
}

const TITLE_FONT: &str = "600 14px system-ui, sans-serif";
/// The title's font when the panel is too narrow for [`TITLE_FONT`].
const TITLE_FONT_SMALL: &str = "600 12px system-ui, sans-serif";

/// The title to draw in `room` pixels, and its font: the first of `titles`
/// (the same words, longest first) that fits at the usual size, else the
/// first that fits a size smaller, else the shortest cut to fit with an
/// ellipsis. `width(font, text)` measures text.
fn fit_title(
    width: impl Fn(&'static str, &str) -> f64,
    titles: &[&str],
    room: f64,
) -> (&'static str, String) {
    for font in [TITLE_FONT, TITLE_FONT_SMALL] {
        if let Some(title) = titles.iter().find(|t| width(font, t) <= room) {
            return (font, (*title).to_string());
        }
    }
    let shortest = titles.last().copied().unwrap_or_default();
    let mut cut: String = shortest.to_string();
    while !cut.is_empty() && width(TITLE_FONT_SMALL, &format!("{cut}…")) > room {
        cut.pop();
    }
    (TITLE_FONT_SMALL, format!("{}…", cut.trim_end()))
}

/// Which chaos marks get their name drawn: `spans` are the names' left
/// edges and widths, oldest first. The newest is always named; going back
/// in time, a name is drawn where it ends clear of the next one drawn and
/// of the panel's right edge `right` (an older mark keeps its line).
fn named_marks(spans: &[(f64, f64)], right: f64) -> Vec<bool> {
    const GAP: f64 = 6.0;
    let mut named = vec![false; spans.len()];
    let mut limit = f64::INFINITY;
    for (i, &(x, w)) in spans.iter().enumerate().rev() {
        let newest = i + 1 == spans.len();
        if newest || (x + w + GAP <= limit && x + w <= right) {
            named[i] = true;
            limit = x;
        }
    }
    named
}

/// The time labels under a panel: the first second it shows and the end.
fn time_labels(p: &Panel) -> (String, String) {
    (format!("{} s", p.from), format!("{} s", p.to))
}

/// How far the time labels sit in from the panel's sides.
const TIME_INSET: f64 = 2.0;
/// The least space between a time label and the key.
const KEY_GAP: f64 = 8.0;

fn line(
    ctx: &CanvasRenderingContext2d,
    p: &Panel,
    points: &[(u64, f64)],
    max: f64,
    colour: &str,
    dashed: bool,
) {
    stroke(ctx, p, points, max, colour, dashed, 2.0);
}

/// [`line`] at a chosen width.
fn stroke(
    ctx: &CanvasRenderingContext2d,
    p: &Panel,
    points: &[(u64, f64)],
    max: f64,
    colour: &str,
    dashed: bool,
    width: f64,
) {
    if points.is_empty() {
        return;
    }
    ctx.set_stroke_style_str(colour);
    ctx.set_line_width(width);
    let dash = js_sys::Array::new();
    if dashed {
        dash.push(&6.0.into());
        dash.push(&4.0.into());
    }
    let _ = ctx.set_line_dash(&dash);
    ctx.begin_path();
    for (i, &(s, v)) in points.iter().enumerate() {
        let (x, y) = (p.x_of(s as f64 + 0.5), p.y_of(v, max));
        if i == 0 {
            ctx.move_to(x, y);
        } else {
            ctx.line_to(x, y);
        }
    }
    ctx.stroke();
    let _ = ctx.set_line_dash(&js_sys::Array::new());
}

/// The key's entry for the services drawn grey, if any: "+8 more" after
/// `named` of `all` named ones, or "13 services" when none could be named.
pub fn more_label(named: usize, all: usize) -> Option<String> {
    match all - named {
        0 => None,
        rest if named == 0 => Some(format!("{rest} service{}", if rest == 1 { "" } else { "s" })),
        rest => Some(format!("+{rest} more")),
    }
}

/// How many of the services, in order, the workers panel's key can name
/// in colour: no more than the palette has lines, and no more than fit in
/// one line under the panel together with the entry that counts the rest.
/// The key may take the time labels' place to name more (see
/// [`plan_key`]).
fn pools_named<'a>(
    ctx: &CanvasRenderingContext2d,
    p: &Panel,
    names: impl Iterator<Item = &'a str>,
) -> usize {
    let names: Vec<&str> = names.collect();
    ctx.set_font(KEY_FONT);
    let entry = |text: &str| key_entry_width(ctx, text);
    (0..=names.len().min(SERVICE_LINES.len()))
        .rev()
        .find(|&n| {
            let named: f64 = names[..n].iter().map(|name| entry(name)).sum();
            let rest = more_label(n, names.len()).map_or(0.0, |label| entry(&label));
            named + rest <= p.w
        })
        .unwrap_or(0)
}

const KEY_FONT: &str = "12px system-ui, sans-serif";
/// A key entry's width beyond its text: the swatch, its gap, and the space
/// before the next entry.
const KEY_SWATCH_W: f64 = 22.0;

/// The width of `text` in the context's current font.
fn text_width(ctx: &CanvasRenderingContext2d, text: &str) -> f64 {
    ctx.measure_text(text).map(|m| m.width()).unwrap_or(40.0)
}

/// The width one entry of a key takes: its label, its swatch and the space
/// before the next.
fn key_entry_width(ctx: &CanvasRenderingContext2d, label: &str) -> f64 {
    text_width(ctx, label) + KEY_SWATCH_W
}

/// Where a key goes under a panel `panel_w` wide whose time labels are at
/// most `label_w` wide: `(left, times)`, the key's left edge from the
/// panel's, and whether the time labels are drawn.
///
/// The key is centred. It sits between the time labels when it clears
/// both by [`KEY_GAP`]; otherwise it takes their place, since every panel
/// shows the same window and a panel without a key (or a wider one) still
/// says which. A key wider than the panel starts at its left edge.
fn plan_key(panel_w: f64, label_w: f64, key_w: f64) -> (f64, bool) {
    let left = (panel_w - key_w).max(0.0) / 2.0;
    (left, left >= TIME_INSET + label_w + KEY_GAP)
}

/// A panel's key, laid out under it.
struct Key<'a> {
    entries: Vec<(&'a str, &'a str)>,
    widths: Vec<f64>,
    left: f64,
    /// Whether the time labels keep their place beside the key.
    times: bool,
    /// Whether the key fits in the panel's width.
    whole: bool,
}

impl<'a> Key<'a> {
    /// Lays out `entries` (colour, label) under panel `p`.
    fn fitted(ctx: &CanvasRenderingContext2d, p: &Panel, entries: &[(&'a str, &'a str)]) -> Self {
        ctx.set_font(KEY_FONT);
        let widths: Vec<f64> = entries.iter().map(|(_, l)| key_entry_width(ctx, l)).collect();
        let (from, to) = time_labels(p);
        let label_w = text_width(ctx, &from).max(text_width(ctx, &to));
        let total: f64 = widths.iter().sum();
        let (left, times) = plan_key(p.w, label_w, total);
        Key { entries: entries.to_vec(), widths, left, times, whole: total <= p.w }
    }

    fn draw(&self, ctx: &CanvasRenderingContext2d, c: &Colours, p: &Panel) {
        ctx.set_font(KEY_FONT);
        ctx.set_text_align("left");
        ctx.set_text_baseline("top");
        let mut x = p.x + self.left;
        let y = p.y + p.h + 2.0;
        for ((colour, label), w) in self.entries.iter().zip(&self.widths) {
            ctx.set_fill_style_str(colour);
            ctx.fill_rect(x, y + 2.0, 9.0, 9.0);
            ctx.set_fill_style_str(c.muted);
            let _ = ctx.fill_text(label, x + 13.0, y);
            x += w;
        }
    }
}

/// A one-line text summary of the newest second shown, for assistive
/// technology and for tests, which cannot read the canvas.
pub fn summary(sim: &Sim, end: u64) -> String {
    let Some(c) = end.checked_sub(1).and_then(|s| sim.metrics().series().get(s)) else {
        return "No finished second yet.".into();
    };
    let client = &c.counts.client;
    let mut text = format!(
        "Second {}: {} requests sent, {} answered in full, {} degraded, {} failed",
        end - 1,
        client.requests,
        client.successes,
        client.degraded,
        client.failed()
    );
    if let Some(l) = c.client_latency {
        text.push_str(&format!("; latency p50 {:.0} ms, p99 {:.0} ms", l.p50, l.p99));
    }
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// Text as wide as its characters at a fixed width per font, a stand-in
    /// for the canvas's measure.
    fn measure(font: &str, text: &str) -> f64 {
        let per_char = if font == TITLE_FONT { 8.0 } else { 7.0 };
        text.chars().count() as f64 * per_char
    }

    /// Every panel painted at widths from far too narrow to a projector's,
    /// with and without a comparison: nothing panics, and the workers key
    /// accounts for every service.
    #[wasm_bindgen_test]
    fn the_charts_paint_at_any_width_with_or_without_a_comparison() {
        use brownout_sim::Scenario;
        use wasm_bindgen::JsCast;
        let document = web_sys::window().unwrap().document().unwrap();
        let canvas: web_sys::HtmlCanvasElement =
            document.create_element("canvas").unwrap().dyn_into().unwrap();
        let ctx: CanvasRenderingContext2d =
            canvas.get_context("2d").unwrap().unwrap().dyn_into().unwrap();
        let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
        sim.advance_to(3 * SECOND);
        let log = EventLog::default();
        let colours = palette::Theme::Standard.colours();
        for width in [40.0, 150.0, 214.0, 272.0, 700.0, 1280.0] {
            for variant in [None, Some(&sim)] {
                let height = height_for(width);
                canvas.set_width(width as u32);
                canvas.set_height(height as u32);
                let pools = paint(&ctx, (width, height), &sim, &log, variant, 3, colours);
                let services: usize = pools
                    .split(", ")
                    .map(|e| match e.split_once(' ') {
                        Some((n, "services")) => n.parse().unwrap(),
                        Some((n, "more")) => n.trim_start_matches('+').parse().unwrap(),
                        _ => 1,
                    })
                    .sum();
                assert_eq!(services, 3, "at {width} px: {pools}");
            }
        }
    }

    #[wasm_bindgen_test]
    fn chaos_marks_are_named_where_their_names_fit() {
        // A brownout from 10 s to 35 s on a 500-pixel panel: both named.
        assert_eq!(named_marks(&[(100.0, 120.0), (350.0, 120.0)], 500.0), [true, true]);
        // Two marks a second apart: the newer is named, the older would
        // run into it and is not.
        assert_eq!(named_marks(&[(100.0, 120.0), (110.0, 120.0)], 500.0), [false, true]);
        // Three, the middle one crowded out, the first clear of the last.
        let spans = [(0.0, 50.0), (60.0, 120.0), (100.0, 80.0)];
        assert_eq!(named_marks(&spans, 500.0), [true, false, true]);
        assert!(named_marks(&[], 500.0).is_empty());
    }

    #[wasm_bindgen_test]
    fn a_key_beside_the_time_labels_never_covers_them() {
        for panel_w in (100..=900).step_by(7).map(f64::from) {
            for label_w in [18.0, 25.0, 32.0] {
                for key_w in (20..=700).step_by(11).map(f64::from) {
                    let (left, times) = plan_key(panel_w, label_w, key_w);
                    assert!(left >= 0.0);
                    if key_w <= panel_w {
                        assert!(left + key_w <= panel_w + 1e-9, "{panel_w} {key_w}");
                    }
                    if times {
                        let clear_of_first = left >= TIME_INSET + label_w + KEY_GAP;
                        let clear_of_last =
                            left + key_w <= panel_w - TIME_INSET - label_w - KEY_GAP + 1e-9;
                        assert!(clear_of_first && clear_of_last, "{panel_w} {label_w} {key_w}");
                    }
                }
            }
        }
        // The outcome panel on a 320-pixel phone: 228 pixels wide, its key
        // about 170: the labels give way. On a laptop they stay.
        assert!(!plan_key(228.0, 25.0, 170.0).1);
        assert!(plan_key(520.0, 25.0, 170.0).1);
    }

    #[wasm_bindgen_test]
    fn a_title_is_shortened_or_made_smaller_to_fit_its_panel() {
        let titles = ["Outcome mix of finished requests", "Outcome mix"];
        // 32 characters: 256 pixels at the usual size, 224 smaller.
        assert_eq!(fit_title(measure, &titles, 300.0), (TITLE_FONT, titles[0].to_string()));
        assert_eq!(fit_title(measure, &titles, 230.0), (TITLE_FONT, titles[1].to_string()));
        assert_eq!(fit_title(measure, &titles[..1], 230.0), (TITLE_FONT_SMALL, titles[0].into()));
        // Nothing fits: the shortest, cut, with an ellipsis, within the room.
        let (font, cut) = fit_title(measure, &["Attempts at accounts-database"], 120.0);
        assert_eq!(font, TITLE_FONT_SMALL);
        assert!(cut.ends_with('…') && cut.starts_with("Attempts"), "{cut}");
        assert!(measure(font, &cut) <= 120.0, "{cut}");
        assert_eq!(cut, "Attempts at acco…");
    }
}
