//! Drawing the service graph and its messages on a canvas.
//!
//! Nodes are placed in columns by their distance from the client. Each edge
//! has two lanes: calls travel along the upper one from caller to callee,
//! responses along the lower one back. Dots are drawn in one path per colour,
//! so a frame costs one fill per colour however many dots there are.
//!
//! An edge with a circuit breaker carries a badge above it: the breaker's
//! state in its colour and words, and why it last changed. When the state
//! changes, a ring flashes around the badge for a moment of real time (not
//! simulated time, so that the flash is seen at any speed).

use brownout_sim::policy::breaker::BreakerState;
use brownout_sim::{Node, Sim};
use web_sys::CanvasRenderingContext2d;

use crate::events::{self, EventLog};
use crate::palette::{self, DOT_KINDS};
use crate::policies;

const NODE_W: f64 = 132.0;
const NODE_H: f64 = 86.0;
const LANE: f64 = 9.0;
const DOT_R: f64 = 4.5;

/// The breaker badge: its fonts (at least 12 px, to be read from the back
/// of a lecture room), padding, and the gap kept above the nodes.
const BADGE_TITLE_FONT: &str = "700 15px system-ui, sans-serif";
const BADGE_CAPTION_FONT: &str = "13px system-ui, sans-serif";
const BADGE_PAD: f64 = 7.0;
const BADGE_TITLE_H: f64 = 17.0;
const BADGE_CAPTION_H: f64 = 15.0;
const BADGE_GAP: f64 = 10.0;
/// How long a state change flashes, in real milliseconds.
const FLASH_MS: f64 = 900.0;

/// Where each node sits, in CSS pixels.
pub struct Layout {
    /// Centre of the client, then of each service in scenario order.
    centres: Vec<(f64, f64)>,
}

impl Layout {
    pub fn new(sim: &Sim, width: f64, height: f64) -> Layout {
        let n = sim.scenario().services.len();
        let depths: Vec<u32> = (0..n).map(|s| sim.depth(s)).collect();
        let columns = depths.iter().copied().max().unwrap_or(0) as usize + 1;
        let margin = NODE_W / 2.0 + 16.0;
        let step = if columns > 1 { (width - 2.0 * margin) / (columns - 1) as f64 } else { 0.0 };
        let mut centres = vec![(margin, height / 2.0)];
        for (s, &depth) in depths.iter().enumerate() {
            let same: Vec<usize> = (0..n).filter(|&o| depths[o] == depth).collect();
            let row = same.iter().position(|&o| o == s).unwrap_or(0);
            let y = height * (row as f64 + 1.0) / (same.len() as f64 + 1.0);
            centres.push((margin + step * depth as f64, y));
        }
        Layout { centres }
    }

    /// The highest top edge of any node box.
    fn nodes_top(&self) -> f64 {
        self.centres.iter().map(|c| c.1).fold(f64::INFINITY, f64::min) - NODE_H / 2.0
    }

    fn centre(&self, node: Node) -> (f64, f64) {
        match node {
            Node::Client => self.centres[0],
            Node::Service(s) => self.centres[s + 1],
        }
    }

    /// End points of an edge's two lanes: (call start, call end) and the
    /// response lane, running from callee back to caller.
    fn lanes(&self, from: Node, to: usize) -> [((f64, f64), (f64, f64)); 2] {
        let (a, b) = (self.centre(from), self.centre(Node::Service(to)));
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        // Leave the boxes at their sides: trim by half a box width.
        let trim = NODE_W / 2.0 + 6.0;
        let start = (a.0 + ux * trim, a.1 + uy * trim);
        let end = (b.0 - ux * trim, b.1 - uy * trim);
        let (nx, ny) = (uy * LANE, -ux * LANE);
        let call = ((start.0 + nx, start.1 + ny), (end.0 + nx, end.1 + ny));
        let response = ((end.0 - nx, end.1 - ny), (start.0 - nx, start.1 - ny));
        [call, response]
    }
}

/// The breaker badge as last drawn: what it said and where, in CSS pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Badge {
    pub state: BreakerState,
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// Reusable buffers, so that drawing a frame allocates nothing, and what
/// the painter must remember between frames.
#[derive(Default)]
pub struct Painter {
    by_kind: [Vec<(f64, f64)>; DOT_KINDS.len()],
    badge: Option<Badge>,
    /// The breaker state drawn in the previous frame, to notice a change.
    last_state: Option<BreakerState>,
    /// When the last change was noticed, in real milliseconds.
    flash_since: f64,
}

impl Painter {
    /// The breaker badge drawn in the last frame, if any.
    pub fn badge(&self) -> Option<Badge> {
        self.badge
    }

    /// Paints one frame; `now_ms` is the frame's real time, for the flash.
    pub fn paint(
        &mut self,
        ctx: &CanvasRenderingContext2d,
        sim: &Sim,
        log: &EventLog,
        (width, height): (f64, f64),
        now_ms: f64,
    ) {
        let layout = Layout::new(sim, width, height);
        ctx.clear_rect(0.0, 0.0, width, height);

        // Edges: both lanes, with an arrowhead on the call lane.
        ctx.set_line_width(2.0);
        ctx.set_stroke_style_str(palette::EDGE);
        ctx.set_fill_style_str(palette::EDGE);
        for (i, edge) in sim.edges().iter().enumerate() {
            let [call, response] = layout.lanes(edge.from, edge.to);
            for (p, q) in [call, response] {
                ctx.begin_path();
                ctx.move_to(p.0, p.1);
                ctx.line_to(q.0, q.1);
                ctx.stroke();
            }
            arrowhead(ctx, call.0, call.1);
            arrowhead(ctx, response.0, response.1);
            let sidecar = sim.scenario().calls.get(i).map(|c| c.location)
                == Some(brownout_sim::PolicyLocation::Sidecar);
            if sidecar {
                proxy_mark(ctx, call.0, response.1);
            }
            ctx.set_stroke_style_str(palette::EDGE);
            ctx.set_fill_style_str(palette::EDGE);
        }

        // Nodes, with their worker and queue gauges.
        draw_node(ctx, layout.centre(Node::Client), "client", None);
        for (s, spec) in sim.scenario().services.iter().enumerate() {
            draw_node(ctx, layout.centre(Node::Service(s)), &spec.name, Some(sim.service_load(s)));
        }

        // Dots, one path per colour.
        for bucket in &mut self.by_kind {
            bucket.clear();
        }
        let edges = sim.edges();
        for dot in sim.dots() {
            let Some(edge) = edges.get(dot.edge) else {
                continue;
            };
            let lanes = layout.lanes(edge.from, edge.to);
            let (p, q) = lanes[dot.response as usize];
            let t = dot.progress as f64;
            self.by_kind[palette::dot_index(dot.kind)]
                .push((p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t));
        }
        for (kind, points) in DOT_KINDS.iter().zip(&self.by_kind) {
            if points.is_empty() {
                continue;
            }
            ctx.set_fill_style_str(palette::dot_colour(*kind));
            ctx.begin_path();
            for &(x, y) in points {
                ctx.move_to(x + DOT_R, y);
                let _ = ctx.arc(x, y, DOT_R, 0.0, std::f64::consts::TAU);
            }
            ctx.fill();
        }

        self.paint_badge(ctx, sim, log, &layout, now_ms);
    }

    /// Draws the breaker badge of the policy edge, if it has a breaker: a
    /// rounded box above the edge with a stem down to it, coloured by state.
    fn paint_badge(
        &mut self,
        ctx: &CanvasRenderingContext2d,
        sim: &Sim,
        log: &EventLog,
        layout: &Layout,
        now_ms: f64,
    ) {
        let edge = policies::policy_edge(sim);
        let policy = sim.edge_policies(edge);
        let (Some(state), Some(spec)) = (policy.and_then(|p| p.breaker), sim.edges().get(edge))
        else {
            self.badge = None;
            self.last_state = None;
            return;
        };
        // A change of state starts a flash; a breaker just put on does not.
        if self.last_state.is_some_and(|last| last != state) {
            self.flash_since = now_ms;
        } else if self.last_state.is_none() {
            self.flash_since = f64::NEG_INFINITY;
        }
        self.last_state = Some(state);

        let title = format!("breaker {}", events::state_name(state));
        let caption = badge_caption(log.last_transition(edge), policy.and_then(|p| p.failure_rate));
        ctx.set_font(BADGE_TITLE_FONT);
        let title_w = ctx.measure_text(&title).map(|m| m.width()).unwrap_or(100.0);
        ctx.set_font(BADGE_CAPTION_FONT);
        let caption_w = ctx.measure_text(&caption).map(|m| m.width()).unwrap_or(150.0);
        let w = title_w.max(caption_w) + 2.0 * BADGE_PAD;
        let h = BADGE_TITLE_H + BADGE_CAPTION_H + 2.0 * BADGE_PAD + 2.0;

        // Centred over the middle of the call lane, and above every node,
        // so that however narrow the canvas it never hides a node.
        let [call, _] = layout.lanes(spec.from, spec.to);
        let mid = ((call.0 .0 + call.1 .0) / 2.0, (call.0 .1 + call.1 .1) / 2.0);
        let bottom = (layout.nodes_top() - BADGE_GAP).max(h + 4.0);
        let (x, y) = ((mid.0 - w / 2.0).max(4.0), bottom - h);
        let (fill, text) = palette::breaker_colours(state);

        ctx.set_stroke_style_str(fill);
        ctx.set_line_width(2.0);
        ctx.begin_path();
        ctx.move_to(mid.0, bottom);
        ctx.line_to(mid.0, mid.1 - DOT_R);
        ctx.stroke();

        let since = now_ms - self.flash_since;
        if (0.0..FLASH_MS).contains(&since) {
            // A ring that grows and fades: movement draws the eye even at
            // the edge of the field of view.
            let t = since / FLASH_MS;
            let grow = 3.0 + 14.0 * t;
            ctx.set_global_alpha(1.0 - t);
            ctx.set_line_width(5.0);
            ctx.begin_path();
            let _ =
                ctx.round_rect_with_f64(x - grow, y - grow, w + 2.0 * grow, h + 2.0 * grow, 12.0);
            ctx.stroke();
            ctx.set_global_alpha(1.0);
        }

        ctx.set_fill_style_str(fill);
        ctx.begin_path();
        let _ = ctx.round_rect_with_f64(x, y, w, h, 8.0);
        ctx.fill();
        ctx.set_fill_style_str(text);
        ctx.set_text_align("center");
        ctx.set_text_baseline("top");
        ctx.set_font(BADGE_TITLE_FONT);
        let _ = ctx.fill_text(&title, x + w / 2.0, y + BADGE_PAD);
        ctx.set_font(BADGE_CAPTION_FONT);
        let _ = ctx.fill_text(&caption, x + w / 2.0, y + BADGE_PAD + BADGE_TITLE_H + 2.0);
        self.badge = Some(Badge { state, x, y, w, h });
    }
}

/// The badge's second line: the failure rate behind the last change of
/// state, or, before any change, the rate the breaker reads now.
fn badge_caption(last: Option<events::LastTransition>, rate_now: Option<f64>) -> String {
    match last {
        Some(t) => match (t.to, t.failure_rate) {
            (BreakerState::Open, Some(r)) if t.from == BreakerState::HalfOpen => {
                format!("reopened at {r:.0} % failed")
            }
            (BreakerState::Open, Some(r)) => format!("opened at {r:.0} % failed"),
            (BreakerState::Closed, Some(r)) => format!("closed at {r:.0} % failed"),
            (BreakerState::HalfOpen, _) => format!(
                "{:.0} s open: {} trial calls",
                policies::BREAKER_OPEN_MS / 1000.0,
                policies::BREAKER_TRIALS
            ),
            (to, None) => format!("now {}", events::state_name(to)),
        },
        None => match rate_now {
            Some(r) => {
                format!("{r:.0} % failed; opens at {:.0} %", policies::BREAKER_THRESHOLD)
            }
            None => format!("waiting for {} calls", policies::BREAKER_MINIMUM_CALLS),
        },
    }
}

fn arrowhead(ctx: &CanvasRenderingContext2d, from: (f64, f64), to: (f64, f64)) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let size = 7.0;
    ctx.begin_path();
    ctx.move_to(to.0, to.1);
    ctx.line_to(to.0 - ux * size - uy * size * 0.6, to.1 - uy * size + ux * size * 0.6);
    ctx.line_to(to.0 - ux * size + uy * size * 0.6, to.1 - uy * size - ux * size * 0.6);
    ctx.close_path();
    ctx.fill();
}

fn draw_node(
    ctx: &CanvasRenderingContext2d,
    (cx, cy): (f64, f64),
    name: &str,
    load: Option<brownout_sim::ServiceLoad>,
) {
    let (x, y) = (cx - NODE_W / 2.0, cy - NODE_H / 2.0);
    ctx.set_fill_style_str(palette::NODE_FILL);
    ctx.set_stroke_style_str(palette::INK);
    ctx.set_line_width(2.0);
    ctx.begin_path();
    let _ = ctx.round_rect_with_f64(x, y, NODE_W, NODE_H, 10.0);
    ctx.fill();
    ctx.stroke();

    ctx.set_fill_style_str(palette::INK);
    ctx.set_font("600 17px system-ui, sans-serif");
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    let _ = ctx.fill_text(name, cx, y + 9.0);

    let Some(load) = load else {
        ctx.set_fill_style_str(palette::MUTED);
        ctx.set_font("13px system-ui, sans-serif");
        let _ = ctx.fill_text("sends requests", cx, y + 36.0);
        return;
    };
    gauge(ctx, x + 10.0, y + 36.0, "workers", load.busy_workers, load.workers);
    gauge(ctx, x + 10.0, y + 60.0, "queue", load.queued, load.queue_capacity);

    // Instances, when there is more than one or the autoscaler is starting
    // some: the pool the gauges sum over.
    if load.instances != 1 || load.starting > 0 {
        let text = if load.starting > 0 {
            format!("×{} +{}", load.instances, load.starting)
        } else {
            format!("×{}", load.instances)
        };
        ctx.set_font("600 12px system-ui, sans-serif");
        ctx.set_text_align("right");
        ctx.set_fill_style_str(palette::MUTED);
        let _ = ctx.fill_text(&text, x + NODE_W - 8.0, y + 10.0);
        ctx.set_text_align("center");
    }
}

/// A small box at the caller's end of a call whose policies run in a
/// sidecar proxy rather than in the application.
fn proxy_mark(ctx: &CanvasRenderingContext2d, start: (f64, f64), end: (f64, f64)) {
    let (cx, cy) = ((start.0 + end.0) / 2.0 + 14.0, (start.1 + end.1) / 2.0);
    ctx.set_fill_style_str(palette::NODE_FILL);
    ctx.set_stroke_style_str(palette::INK);
    ctx.set_line_width(1.5);
    ctx.begin_path();
    let _ = ctx.round_rect_with_f64(cx - 20.0, cy - 10.0, 40.0, 20.0, 4.0);
    ctx.fill();
    ctx.stroke();
    ctx.set_fill_style_str(palette::INK);
    ctx.set_font("12px system-ui, sans-serif");
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    let _ = ctx.fill_text("proxy", cx, cy);
    ctx.set_text_baseline("top");
    ctx.set_line_width(2.0);
}

/// A labelled bar: used of capacity, turning hot when nearly full.
fn gauge(ctx: &CanvasRenderingContext2d, x: f64, y: f64, label: &str, used: u32, capacity: u32) {
    let width = NODE_W - 20.0;
    let share = if capacity == 0 { 0.0 } else { (used as f64 / capacity as f64).min(1.0) };
    ctx.set_fill_style_str(palette::GAUGE_TRACK);
    ctx.fill_rect(x, y + 13.0, width, 7.0);
    ctx.set_fill_style_str(if share >= 0.9 { palette::GAUGE_HOT } else { palette::GAUGE_OK });
    ctx.fill_rect(x, y + 13.0, width * share, 7.0);
    ctx.set_fill_style_str(palette::MUTED);
    // 12 px: the smallest text the page draws, still legible on a projector.
    ctx.set_font("12px system-ui, sans-serif");
    ctx.set_text_align("left");
    let _ = ctx.fill_text(label, x, y);
    ctx.set_text_align("right");
    let _ = ctx.fill_text(&format!("{used}/{capacity}"), x + width, y);
    ctx.set_text_align("center");
}
