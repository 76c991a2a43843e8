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

use brownout_sim::policy::breaker::{BreakerConfig, BreakerState};
use brownout_sim::{Node, Sim};
use web_sys::CanvasRenderingContext2d;

use crate::events::{self, EventLog};
use crate::palette::{self, DOT_KINDS};

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

/// How tall a diagram must be for its graph: room for the fullest column
/// of nodes, and above them for the breaker badges.
pub fn height_for(sim: &Sim) -> f64 {
    let n = sim.scenario().services.len();
    let mut per_depth = std::collections::HashMap::new();
    for s in 0..n {
        *per_depth.entry(sim.depth(s)).or_insert(0usize) += 1;
    }
    let fullest = per_depth.values().copied().max().unwrap_or(1) as f64;
    (fullest * (NODE_H + 22.0) + 40.0 + badge_room(sim)).max(230.0)
}

/// Height kept above the nodes for breaker badges (stacked when several
/// edges have one, up to three).
fn badge_room(sim: &Sim) -> f64 {
    let badges = sim.scenario().calls.iter().filter(|c| c.breaker.is_some()).count().min(3);
    badges as f64 * 56.0
}

/// What a point of the canvas falls on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// A node: 0 is the client, `s + 1` service `s`.
    Node(usize),
    /// A call edge, by index.
    Edge(usize),
}

/// Nodes the user has dragged: per node (client first), its centre as a
/// share of the canvas's width and height, so that a moved node keeps its
/// place when the canvas is resized.
pub type Placement = Vec<Option<(f64, f64)>>;

impl Layout {
    /// The automatic layout with the user's placement on top.
    pub fn placed(sim: &Sim, width: f64, height: f64, placement: &Placement) -> Layout {
        let mut layout = Layout::new(sim, width, height);
        for (centre, place) in layout.centres.iter_mut().zip(placement) {
            if let Some((fx, fy)) = place {
                // Keep the whole box on the canvas.
                let x = (fx * width).clamp(NODE_W / 2.0, (width - NODE_W / 2.0).max(NODE_W / 2.0));
                let y =
                    (fy * height).clamp(NODE_H / 2.0, (height - NODE_H / 2.0).max(NODE_H / 2.0));
                *centre = (x, y);
            }
        }
        layout
    }

    /// The node or edge under a point, nodes first.
    pub fn hit(&self, sim: &Sim, (x, y): (f64, f64)) -> Option<Hit> {
        let node = self
            .centres
            .iter()
            .position(|&(cx, cy)| (x - cx).abs() <= NODE_W / 2.0 && (y - cy).abs() <= NODE_H / 2.0);
        if let Some(node) = node {
            return Some(Hit::Node(node));
        }
        sim.edges().iter().enumerate().find_map(|(i, edge)| {
            let [call, response] = self.lanes(edge.from, edge.to);
            let near = |(p, q): ((f64, f64), (f64, f64))| distance_to_segment((x, y), p, q) <= 12.0;
            (near(call) || near(response)).then_some(Hit::Edge(i))
        })
    }

    /// The centre of a node by index (client first).
    pub fn node_centre(&self, node: usize) -> Option<(f64, f64)> {
        self.centres.get(node).copied()
    }

    pub fn new(sim: &Sim, width: f64, height: f64) -> Layout {
        let n = sim.scenario().services.len();
        let depths: Vec<u32> = (0..n).map(|s| sim.depth(s)).collect();
        let columns = depths.iter().copied().max().unwrap_or(0) as usize + 1;
        let margin = NODE_W / 2.0 + 16.0;
        let step = if columns > 1 { (width - 2.0 * margin) / (columns - 1) as f64 } else { 0.0 };
        let badge_room = if height > height_for(sim) - 1.0 { badge_room(sim) } else { 0.0 };
        let client_y = badge_room + (height - badge_room).max(NODE_H) / 2.0;
        let mut centres = vec![(margin, client_y)];
        for (s, &depth) in depths.iter().enumerate() {
            let same: Vec<usize> = (0..n).filter(|&o| depths[o] == depth).collect();
            let row = same.iter().position(|&o| o == s).unwrap_or(0);
            // Evenly spread below the room kept for breaker badges.
            let avail = (height - badge_room).max(NODE_H);
            let y = badge_room + avail * (row as f64 + 0.5) / same.len() as f64;
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

fn distance_to_segment(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = (dx * dx + dy * dy).max(1e-9);
    let t = (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0);
    let (qx, qy) = (a.0 + t * dx, a.1 + t * dy);
    ((p.0 - qx).powi(2) + (p.1 - qy).powi(2)).sqrt()
}

/// A breaker badge as last drawn: what it said and where, in CSS pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Badge {
    /// The edge whose breaker it shows.
    pub edge: usize,
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
    /// The badges drawn in the last frame, one per edge with a breaker.
    badges: Vec<Badge>,
    /// Per edge, the breaker state drawn in the previous frame, to notice
    /// a change, and when the last change was noticed (real ms).
    last_state: Vec<Option<BreakerState>>,
    flash_since: Vec<f64>,
}

impl Painter {
    /// The badge of the policy edge (the hop into the last service) drawn
    /// in the last frame, or else the first badge drawn.
    pub fn badge(&self, policy_edge: usize) -> Option<Badge> {
        self.badges.iter().find(|b| b.edge == policy_edge).or(self.badges.first()).copied()
    }

    /// Paints one frame; `now_ms` is the frame's real time, for the flash.
    #[allow(clippy::too_many_arguments)]
    pub fn paint(
        &mut self,
        ctx: &CanvasRenderingContext2d,
        sim: &Sim,
        log: &EventLog,
        (width, height): (f64, f64),
        now_ms: f64,
        placement: &Placement,
        selected: Option<Hit>,
    ) {
        let layout = Layout::placed(sim, width, height, placement);
        ctx.clear_rect(0.0, 0.0, width, height);
        if let Some(hit) = selected {
            highlight(ctx, &layout, sim, hit);
        }

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

        paint_bounces(ctx, sim, log, &layout);
        paint_faults(ctx, sim, log, &layout);

        let n = sim.edges().len();
        self.last_state.resize(n, None);
        self.flash_since.resize(n, f64::NEG_INFINITY);
        self.badges.clear();
        // Badges stack upwards when several edges share a column gap.
        let mut taken: Vec<(f64, f64, f64)> = Vec::new();
        for edge in 0..n {
            self.paint_badge(ctx, sim, log, &layout, now_ms, edge, &mut taken);
        }
    }

    /// Draws the breaker badge of an edge, if it has a breaker: a rounded
    /// box above the edge with a stem down to it, coloured by state.
    #[allow(clippy::too_many_arguments)]
    fn paint_badge(
        &mut self,
        ctx: &CanvasRenderingContext2d,
        sim: &Sim,
        log: &EventLog,
        layout: &Layout,
        now_ms: f64,
        edge: usize,
        taken: &mut Vec<(f64, f64, f64)>,
    ) {
        let policy = sim.edge_policies(edge);
        let (Some(state), Some(spec)) = (policy.and_then(|p| p.breaker), sim.edges().get(edge))
        else {
            self.last_state[edge] = None;
            return;
        };
        // A change of state starts a flash; a breaker just put on does not.
        if self.last_state[edge].is_some_and(|last| last != state) {
            self.flash_since[edge] = now_ms;
        } else if self.last_state[edge].is_none() {
            self.flash_since[edge] = f64::NEG_INFINITY;
        }
        self.last_state[edge] = Some(state);

        let title = format!("breaker {}", events::state_name(state));
        let config = sim.scenario().calls.get(edge).and_then(|c| c.breaker.as_ref());
        let caption =
            badge_caption(log.last_transition(edge), policy.and_then(|p| p.failure_rate), config);
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
        let mut bottom = (layout.nodes_top() - BADGE_GAP).max(h + 4.0);
        let x = (mid.0 - w / 2.0).max(4.0);
        // Above any badge already drawn across the same columns.
        for &(left, right, top) in taken.iter() {
            if x < right && x + w > left {
                bottom = bottom.min(top - 4.0);
            }
        }
        let y = bottom - h;
        taken.push((x, x + w, y));
        let (fill, text) = palette::breaker_colours(state);

        ctx.set_stroke_style_str(fill);
        ctx.set_line_width(2.0);
        ctx.begin_path();
        ctx.move_to(mid.0, bottom);
        ctx.line_to(mid.0, mid.1 - DOT_R);
        ctx.stroke();

        let since = now_ms - self.flash_since[edge];
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
        self.badges.push(Badge { edge, state, x, y, w, h });
    }
}

/// The badge's second line: the failure rate behind the last change of
/// state, or, before any change, the rate the breaker reads now; the
/// breaker's own settings fill in the rest.
fn badge_caption(
    last: Option<events::LastTransition>,
    rate_now: Option<f64>,
    config: Option<&BreakerConfig>,
) -> String {
    let (wait_s, trials, threshold, minimum) = match config {
        Some(BreakerConfig::FailureRate {
            wait_in_open_ms,
            permitted_calls_in_half_open,
            failure_rate_threshold,
            minimum_calls,
            ..
        }) => (
            wait_in_open_ms / 1000.0,
            *permitted_calls_in_half_open,
            Some(*failure_rate_threshold),
            *minimum_calls,
        ),
        Some(BreakerConfig::ConsecutiveFailures { wait_in_open_ms, failures }) => {
            (wait_in_open_ms / 1000.0, 1, None, *failures)
        }
        None => (0.0, 0, None, 0),
    };
    let trial_calls =
        if trials == 1 { "1 trial call".to_string() } else { format!("{trials} trial calls") };
    match last {
        Some(t) => match (t.to, t.failure_rate) {
            (BreakerState::Open, Some(r)) if t.from == BreakerState::HalfOpen => {
                format!("reopened at {r:.0} % failed")
            }
            (BreakerState::Open, Some(r)) => format!("opened at {r:.0} % failed"),
            (BreakerState::Closed, Some(r)) => format!("closed at {r:.0} % failed"),
            (BreakerState::HalfOpen, _) => format!("{wait_s:.0} s open: {trial_calls}"),
            (BreakerState::Open, None) => {
                format!("opened after {minimum} failures in a row")
            }
            (to, None) => format!("now {}", events::state_name(to)),
        },
        None => match (rate_now, threshold) {
            (Some(r), Some(t)) => format!("{r:.0} % failed; opens at {t:.0} %"),
            (_, Some(_)) => format!("waiting for {minimum} calls"),
            (_, None) => format!("opens after {minimum} failures in a row"),
        },
    }
}

/// A ring around the selected node, or a wide halo along the selected edge.
fn highlight(ctx: &CanvasRenderingContext2d, layout: &Layout, sim: &Sim, hit: Hit) {
    ctx.set_stroke_style_str(palette::SELECTED);
    ctx.set_line_width(6.0);
    ctx.set_global_alpha(0.45);
    match hit {
        Hit::Node(n) => {
            if let Some((cx, cy)) = layout.node_centre(n) {
                ctx.begin_path();
                let (w, h) = (NODE_W + 12.0, NODE_H + 12.0);
                let _ = ctx.round_rect_with_f64(cx - w / 2.0, cy - h / 2.0, w, h, 14.0);
                ctx.stroke();
            }
        }
        Hit::Edge(e) => {
            if let Some(edge) = sim.edges().get(e) {
                let [call, response] = layout.lanes(edge.from, edge.to);
                ctx.set_line_width(LANE * 2.0 + 10.0);
                ctx.begin_path();
                ctx.move_to((call.0 .0 + response.1 .0) / 2.0, (call.0 .1 + response.1 .1) / 2.0);
                ctx.line_to((call.1 .0 + response.0 .0) / 2.0, (call.1 .1 + response.0 .1) / 2.0);
                ctx.stroke();
            }
        }
    }
    ctx.set_global_alpha(1.0);
}

/// Calls the caller's own breaker or bulkhead refused: each leaves the
/// caller, hits a bar a short way along the edge and falls back, in the
/// colour of a rejection.
fn paint_bounces(ctx: &CanvasRenderingContext2d, sim: &Sim, log: &EventLog, layout: &Layout) {
    let now = sim.now();
    let mut drawn = 0;
    ctx.set_fill_style_str(palette::dot_colour(brownout_sim::DotKind::Rejected));
    ctx.set_stroke_style_str(palette::dot_colour(brownout_sim::DotKind::Rejected));
    ctx.set_line_width(3.0);
    let mut walls = Vec::new();
    ctx.begin_path();
    for &(at, edge) in log.recent_refusals(now) {
        let Some(e) = sim.edges().get(edge) else { continue };
        let [call, _] = layout.lanes(e.from, e.to);
        let (dx, dy) = (call.1 .0 - call.0 .0, call.1 .1 - call.0 .1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let reach = 34.0f64.min(len / 2.0);
        // Out to the wall and back: a triangle wave over the bounce's time.
        let t = (now - at) as f64 / events::BOUNCE as f64;
        let along = reach * (1.0 - (2.0 * t - 1.0).abs());
        let (x, y) = (call.0 .0 + dx / len * along, call.0 .1 + dy / len * along);
        ctx.move_to(x + DOT_R, y);
        let _ = ctx.arc(x, y, DOT_R, 0.0, std::f64::consts::TAU);
        if !walls.contains(&edge) {
            walls.push(edge);
        }
        drawn += 1;
        if drawn > 200 {
            break;
        }
    }
    ctx.fill();
    for edge in walls {
        let Some(e) = sim.edges().get(edge) else { continue };
        let [call, _] = layout.lanes(e.from, e.to);
        let (dx, dy) = (call.1 .0 - call.0 .0, call.1 .1 - call.0 .1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let reach = 34.0f64.min(len / 2.0) + DOT_R + 2.0;
        let (x, y) = (call.0 .0 + dx / len * reach, call.0 .1 + dy / len * reach);
        let (nx, ny) = (-dy / len * 9.0, dx / len * 9.0);
        ctx.begin_path();
        ctx.move_to(x + nx, y + ny);
        ctx.line_to(x - nx, y - ny);
        ctx.stroke();
    }
}

/// A red tag on each node or link a chaos fault is hitting now.
fn paint_faults(ctx: &CanvasRenderingContext2d, sim: &Sim, log: &EventLog, layout: &Layout) {
    let faults = &sim.scenario().chaos.faults;
    let services = &sim.scenario().services;
    let index = |name: &Option<String>| {
        name.as_ref().and_then(|n| services.iter().position(|s| &s.name == n))
    };
    // Several faults on one place stack downwards.
    let mut used: Vec<(f64, f64)> = Vec::new();
    for &f in log.active_faults() {
        let Some(fault) = faults.get(f) else { continue };
        let at = match (index(&fault.service), index(&fault.to)) {
            (Some(s), _) => {
                let c = layout.centre(Node::Service(s));
                Some((c.0, c.1 + NODE_H / 2.0 + 4.0))
            }
            (None, Some(to)) => {
                let from = match fault.from.as_deref() {
                    Some(brownout_sim::CLIENT) | None => Some(Node::Client),
                    Some(name) => services.iter().position(|s| s.name == name).map(Node::Service),
                };
                from.map(|from| {
                    let [call, _] = layout.lanes(from, to);
                    ((call.0 .0 + call.1 .0) / 2.0, (call.0 .1 + call.1 .1) / 2.0 + LANE + 6.0)
                })
            }
            _ => None,
        };
        let Some((x, mut y)) = at else { continue };
        while used.iter().any(|&(ux, uy)| (ux - x).abs() < 60.0 && (uy - y).abs() < 20.0) {
            y += 22.0;
        }
        used.push((x, y));
        let text = format!("⚡ {}", fault.kind.name().replace('_', " "));
        ctx.set_font("700 13px system-ui, sans-serif");
        let w = ctx.measure_text(&text).map(|m| m.width()).unwrap_or(80.0) + 12.0;
        ctx.set_fill_style_str(palette::FAULT);
        ctx.begin_path();
        let _ = ctx.round_rect_with_f64(x - w / 2.0, y, w, 20.0, 5.0);
        ctx.fill();
        ctx.set_fill_style_str("#ffffff");
        ctx.set_text_align("center");
        ctx.set_text_baseline("middle");
        let _ = ctx.fill_text(&text, x, y + 10.0);
        ctx.set_text_baseline("top");
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
        // A pill on the box's top-right corner, clear of the name.
        ctx.set_font("700 12px system-ui, sans-serif");
        let w = ctx.measure_text(&text).map(|m| m.width()).unwrap_or(20.0) + 10.0;
        let (px, py) = (x + NODE_W - w + 6.0, y - 9.0);
        ctx.set_fill_style_str(palette::INK);
        ctx.begin_path();
        let _ = ctx.round_rect_with_f64(px, py, w, 18.0, 9.0);
        ctx.fill();
        ctx.set_fill_style_str("#ffffff");
        ctx.set_text_align("center");
        ctx.set_text_baseline("middle");
        let _ = ctx.fill_text(&text, px + w / 2.0, py + 9.5);
        ctx.set_text_baseline("top");
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
