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
//!
//! The painter draws on a [`Surface`]: the page's canvas, an offscreen
//! canvas for the PNG export, or an SVG document, all from the one layout.
//! The layout has a natural size; [`fit`] scales it to whatever frame the
//! diagram gets (an iframe on a slide, a phone), so that a small frame
//! shows the whole graph smaller rather than nodes on top of each other.
//!
//! With [`Motion::Reduced`] (the reader asked the system for less motion)
//! nothing travels: each lane shows a bar of the messages on it, stacked
//! by kind, and their count; refused calls are counted at their wall; the
//! breaker's flash fades in place instead of growing.

use brownout_sim::policy::breaker::{BreakerConfig, BreakerState};
use brownout_sim::{Node, Sim};

use crate::events::{self, EventLog};
use crate::palette::{self, Colours, Theme, DOT_KINDS};
use crate::surface::{Align, Baseline, Font, Point, Rect, Surface, TextStyle};

const NODE_W: f64 = 132.0;
const NODE_H: f64 = 86.0;
const LANE: f64 = 9.0;
const DOT_R: f64 = 4.5;

/// The breaker badge: its fonts (at least 12 px, to be read from the back
/// of a lecture room), padding, and the gap kept above the nodes.
const BADGE_TITLE_FONT: Font = Font::new(700, 15.0);
const BADGE_CAPTION_FONT: Font = Font::new(400, 13.0);
const NAME_FONT: Font = Font::new(600, 17.0);
/// 12 px: the smallest text the diagram draws, still legible on a projector.
const SMALL_FONT: Font = Font::new(400, 12.0);
const SMALL_BOLD_FONT: Font = Font::new(700, 12.0);
const CAPTION_FONT: Font = Font::new(400, 13.0);
const TAG_FONT: Font = Font::new(700, 13.0);
const BADGE_PAD: f64 = 7.0;
const BADGE_TITLE_H: f64 = 17.0;
const BADGE_CAPTION_H: f64 = 15.0;
const BADGE_GAP: f64 = 10.0;
/// How long a state change flashes, in real milliseconds.
const FLASH_MS: f64 = 900.0;

/// A lane from its start to its end.
type Segment = ((f64, f64), (f64, f64));

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

/// The narrowest the layout can be without its columns of nodes touching.
pub fn min_width_for(sim: &Sim) -> f64 {
    let n = sim.scenario().services.len();
    let columns = (0..n).map(|s| sim.depth(s)).max().unwrap_or(0) as f64 + 1.0;
    2.0 * (NODE_W / 2.0 + 16.0) + (columns - 1.0) * (NODE_W + 36.0)
}

/// How the layout sits in a frame: drawn at `scale` (CSS pixels of the
/// frame per unit of the layout), over a layout of `width`×`height` units
/// that fills the frame exactly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fit {
    pub scale: f64,
    pub width: f64,
    pub height: f64,
}

/// Fits a diagram into a frame of `width`×`height` CSS pixels: at `zoom`
/// when the frame has room for the layout's natural size at that zoom,
/// smaller when it has not, never cropped.
pub fn fit(sim: &Sim, width: f64, height: f64, zoom: f64) -> Fit {
    let (min_w, min_h) = (min_width_for(sim), height_for(sim));
    let scale = zoom.min(width / min_w).min(height / min_h).max(0.05);
    Fit { scale, width: width / scale, height: height / scale }
}

/// Whether the dots travel along their edges, or stand still as counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Motion {
    #[default]
    Full,
    /// `prefers-reduced-motion: reduce`.
    Reduced,
}

/// How a diagram is drawn: its theme's colours and its motion.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Look {
    pub theme: Theme,
    pub motion: Motion,
}

/// What a frame of the diagram shows.
pub struct Scene<'a> {
    pub sim: &'a Sim,
    pub log: &'a EventLog,
    pub placement: &'a Placement,
    /// What the detail panel shows, highlighted.
    pub selected: Option<Hit>,
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
    ///
    /// Each lane runs parallel to the line between the two centres, a lane's
    /// width to one side of it, and stops where it crosses either box's
    /// outline grown by a clearance: a steep lane in a fan-out meets its
    /// boxes as a level one does (a fixed trim left steep lanes stopping
    /// short of the box, or running into the instance pill on its corner).
    fn lanes(&self, from: Node, to: usize) -> [Segment; 2] {
        let (a, b) = (self.centre(from), self.centre(Node::Service(to)));
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        // Two boxes dragged onto the same spot: lanes run left to right.
        let (ux, uy) = if len > 1e-9 { (dx / len, dy / len) } else { (1.0, 0.0) };
        let lane = |side: f64| {
            let offset = (uy * LANE * side, -ux * LANE * side);
            let mut out = to_outline(offset, (ux, uy));
            let mut back = to_outline(offset, (-ux, -uy));
            // Boxes that nearly touch or overlap (dragged so): a short
            // lane, hidden under the boxes when they overlap, rather than
            // one turned back on itself.
            let room = (len - 4.0).max(0.0);
            if out + back > room {
                let scale = room / (out + back).max(1e-9);
                out *= scale;
                back *= scale;
            }
            let start = (a.0 + offset.0 + ux * out, a.1 + offset.1 + uy * out);
            let end = (b.0 + offset.0 - ux * back, b.1 + offset.1 - uy * back);
            (start, end)
        };
        let call = lane(1.0);
        let (start, end) = lane(-1.0);
        [call, (end, start)]
    }
}

/// Room lanes leave around a box: clear of its outline, and clear of the
/// instance pill that sits across the top-right corner too (9 px above the
/// top edge, 6 px past the right side).
const CLEAR: f64 = 6.0;
const CLEAR_TOP: f64 = 13.0;
const CLEAR_SIDE: f64 = 10.0;

/// How far a lane that passes `offset` from a box's centre, heading `u` (a
/// unit vector; y grows downwards), runs before it crosses the box's
/// outline grown by the clearances.
fn to_outline(offset: (f64, f64), u: (f64, f64)) -> f64 {
    let half_w = NODE_W / 2.0 + CLEAR_SIDE;
    let (top, bottom) = (NODE_H / 2.0 + CLEAR_TOP, NODE_H / 2.0 + CLEAR);
    let along = |o: f64, u: f64, low: f64, high: f64| {
        if u > 1e-9 {
            (high - o) / u
        } else if u < -1e-9 {
            (-low - o) / u
        } else {
            f64::INFINITY
        }
    };
    along(offset.0, u.0, half_w, half_w).min(along(offset.1, u.1, top, bottom))
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

/// Most dots a frame draws. Past it the painter draws a sample: 1 in k of
/// the messages in flight, the same messages from frame to frame, and the
/// page says so (see [`Crowd`]). Measured in headless Chromium on a shared
/// 2-core machine (bench/README.md, "The page"): drawing costs about 1 µs a
/// dot, so 3,000 dots keep a frame's work to a few milliseconds, well
/// inside a 16.7 ms frame with the simulation's step.
pub const DOTS_CAP: usize = 3_000;

thread_local! {
    /// The cap in force: [`DOTS_CAP`] unless a benchmark changed it.
    static CAP: std::cell::Cell<usize> = const { std::cell::Cell::new(DOTS_CAP) };
}

/// Sets the most dots a frame draws (0 for no cap), for the benchmarks
/// that compare the cost of drawing every dot with the sample's.
pub fn set_dots_cap(cap: usize) {
    CAP.with(|c| c.set(if cap == 0 { usize::MAX } else { cap }));
}

/// A crowded frame: more messages in flight than [`DOTS_CAP`], of which
/// about one in `stride` was drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Crowd {
    pub in_flight: usize,
    pub drawn: usize,
    pub stride: usize,
}

impl Crowd {
    /// What an embedded page says over a crowded diagram: one short line,
    /// so that it hides little of a slide-sized frame.
    pub fn short_note(&self) -> String {
        format!(
            "1 in {} of {} messages drawn",
            self.stride,
            crate::figures::thousands(self.in_flight)
        )
    }

    /// What the page says under a crowded diagram.
    pub fn note(&self) -> String {
        format!(
            "Showing 1 in {} of the {} messages in flight ({} dots): drawing them all would \
             slow the page down. The figures count every message.",
            self.stride,
            crate::figures::thousands(self.in_flight),
            crate::figures::thousands(self.drawn)
        )
    }
}

/// Whether a message is in the sample drawn when only 1 in `stride` are.
///
/// A message is known by its edge, its lane and the instant it was sent,
/// recovered from its progress: every message on an edge takes the edge's
/// latency to cross it, so `sent = now - progress × latency`, exact to the
/// microsecond for latencies up to seconds (the progress is an `f32`). A
/// message keeps its place in the sample for its whole crossing, so the
/// dots do not flicker. (During a network fault that adds latency the
/// estimate drifts, and those dots may come and go.)
fn sampled(dot: &brownout_sim::Dot, latency: u64, now: u64, stride: usize) -> bool {
    if stride <= 1 {
        return true;
    }
    let travelled = (f64::from(dot.progress) * latency as f64).round() as u64;
    let sent = now.saturating_sub(travelled);
    // SplitMix64's finaliser: neighbouring instants land far apart, so the
    // sample is spread evenly along each lane whatever the arrival pattern.
    let mut x = sent ^ ((dot.edge as u64) << 48) ^ (u64::from(dot.response) << 63);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    x % stride as u64 == 0
}

/// The stride for `in_flight` messages, given the last one: a new stride
/// only when the crowd has grown past what the last allows, or shrunk well
/// below it, so that a count hovering at a boundary does not switch the
/// sample back and forth every frame.
fn stride_for(in_flight: usize, last: usize) -> usize {
    let cap = CAP.with(std::cell::Cell::get);
    let needed = in_flight.div_ceil(cap).max(1);
    let last = last.max(1);
    if needed > last
        || in_flight.saturating_mul(10) < (last - 1).saturating_mul(cap).saturating_mul(9)
    {
        needed
    } else {
        last
    }
}

/// Reusable buffers, so that drawing a frame allocates nothing, and what
/// the painter must remember between frames.
#[derive(Default)]
pub struct Painter {
    by_kind: [Vec<(f64, f64)>; DOT_KINDS.len()],
    /// Messages in flight and dots drawn in the last frame, and the
    /// sampling stride it used (1 draws them all).
    in_flight: usize,
    drawn: usize,
    stride: usize,
    /// Every dot, whatever the crowd: an exported picture is drawn once,
    /// and no note travels with it to say that it was sampled.
    every_dot: bool,
    /// Whether a crowded frame says so in the picture itself, for a clip
    /// recorded from the canvas (the page's own note sits outside it).
    captioned: bool,
    /// The badges drawn in the last frame, one per edge with a breaker.
    badges: Vec<Badge>,
    /// Per edge, the breaker state drawn in the previous frame, to notice
    /// a change, and when the last change was noticed (real ms).
    last_state: Vec<Option<BreakerState>>,
    flash_since: Vec<f64>,
}

impl Painter {
    /// A painter for an exported picture (SVG, PNG): it draws every
    /// message in flight, however many.
    pub fn exporting() -> Painter {
        Painter { every_dot: true, ..Painter::default() }
    }

    /// Whether the frames that follow write the note on a sampled crowd into
    /// the picture (see [`Crowd::short_note`]).
    pub fn set_captioned(&mut self, on: bool) {
        self.captioned = on;
    }

    /// The badge of the policy edge (the hop into the last service) drawn
    /// in the last frame, or else the first badge drawn.
    pub fn badge(&self, policy_edge: usize) -> Option<Badge> {
        self.badges.iter().find(|b| b.edge == policy_edge).or(self.badges.first()).copied()
    }

    /// The messages in flight and the dots drawn in the last frame.
    pub fn dots(&self) -> (usize, usize) {
        (self.in_flight, self.drawn)
    }

    /// How crowded the last frame was, if it drew only a sample.
    pub fn crowd(&self) -> Option<Crowd> {
        (self.stride > 1).then_some(Crowd {
            in_flight: self.in_flight,
            drawn: self.drawn,
            stride: self.stride,
        })
    }

    /// Paints one frame over a layout of `width`×`height` units (see
    /// [`fit`]); `now_ms` is the frame's real time, for the flash;
    /// `background` fills the picture first (exports have no page behind
    /// them).
    pub fn paint(
        &mut self,
        s: &mut dyn Surface,
        scene: &Scene,
        (width, height): (f64, f64),
        now_ms: f64,
        look: Look,
        background: bool,
    ) {
        let Scene { sim, log, placement, selected } = *scene;
        let c = look.theme.colours();
        let layout = Layout::placed(sim, width, height, placement);
        s.clear(width, height, background.then_some(c.stage));
        if let Some(hit) = selected {
            highlight(s, c, &layout, sim, hit);
        }

        // Edges: both lanes, with an arrowhead on the call lane.
        for (i, edge) in sim.edges().iter().enumerate() {
            let [call, response] = layout.lanes(edge.from, edge.to);
            for (p, q) in [call, response] {
                s.line(p, q, c.edge, 2.0);
            }
            arrowhead(s, c.edge, call.0, call.1);
            arrowhead(s, c.edge, response.0, response.1);
            let sidecar = sim.scenario().calls.get(i).map(|c| c.location)
                == Some(brownout_sim::PolicyLocation::Sidecar);
            if sidecar {
                proxy_mark(s, c, call.0, response.1);
            }
        }

        // Nodes, with their worker and queue gauges.
        draw_node(s, c, layout.centre(Node::Client), "client", None);
        for (i, spec) in sim.scenario().services.iter().enumerate() {
            draw_node(s, c, layout.centre(Node::Service(i)), &spec.name, Some(sim.service_load(i)));
        }

        match look.motion {
            Motion::Full => self.paint_dots(s, sim, &layout),
            Motion::Reduced => {
                // Counts, however many: nothing is left out.
                paint_counts(s, c, sim, &layout);
                self.in_flight = sim.live_entities().4;
                (self.drawn, self.stride) = (self.in_flight, 1);
            }
        }

        paint_bounces(s, c, sim, log, &layout, look.motion);
        paint_faults(s, c, sim, log, &layout);
        if let Some(crowd) = self.crowd().filter(|_| self.captioned) {
            caption(s, c, &crowd.short_note(), height);
        }

        let n = sim.edges().len();
        self.last_state.resize(n, None);
        self.flash_since.resize(n, f64::NEG_INFINITY);
        self.badges.clear();
        // Badges stack upwards when several edges share a column gap.
        let mut taken: Vec<(f64, f64, f64)> = Vec::new();
        for edge in 0..n {
            self.paint_badge(s, sim, log, &layout, (now_ms, look.motion), edge, &mut taken);
        }
    }

    /// The dots where they are on their lanes, one batch per colour.
    fn paint_dots(&mut self, s: &mut dyn Surface, sim: &Sim, layout: &Layout) {
        for bucket in &mut self.by_kind {
            bucket.clear();
        }
        let edges = sim.edges();
        // The lanes' end points, once per edge rather than once per dot.
        let lanes: Vec<[Segment; 2]> =
            edges.iter().map(|edge| layout.lanes(edge.from, edge.to)).collect();
        self.in_flight = sim.live_entities().4;
        self.stride = if self.every_dot { 1 } else { stride_for(self.in_flight, self.stride) };
        let (now, stride) = (sim.now(), self.stride);
        self.drawn = 0;
        for dot in sim.dots() {
            let (Some(edge), Some(lanes)) = (edges.get(dot.edge), lanes.get(dot.edge)) else {
                continue;
            };
            if !sampled(&dot, edge.latency, now, stride) {
                continue;
            }
            let (p, q) = lanes[dot.response as usize];
            let t = dot.progress as f64;
            self.by_kind[palette::dot_index(dot.kind)]
                .push((p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t));
            self.drawn += 1;
        }
        for (kind, points) in DOT_KINDS.iter().zip(&self.by_kind) {
            s.circles(points, DOT_R, palette::dot_colour(*kind));
        }
    }

    /// Draws the breaker badge of an edge, if it has a breaker: a rounded
    /// box above the edge with a stem down to it, coloured by state.
    #[allow(clippy::too_many_arguments)]
    fn paint_badge(
        &mut self,
        s: &mut dyn Surface,
        sim: &Sim,
        log: &EventLog,
        layout: &Layout,
        (now_ms, motion): (f64, Motion),
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
        let title_w = s.text_width(&title, BADGE_TITLE_FONT);
        let caption_w = s.text_width(&caption, BADGE_CAPTION_FONT);
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

        s.line((mid.0, bottom), (mid.0, mid.1 - DOT_R), fill, 2.0);

        let since = now_ms - self.flash_since[edge];
        if (0.0..FLASH_MS).contains(&since) {
            // A ring that grows and fades: movement draws the eye even at
            // the edge of the field of view. With less motion it only fades.
            let t = since / FLASH_MS;
            let grow = if motion == Motion::Full { 3.0 + 14.0 * t } else { 4.0 };
            s.set_alpha(1.0 - t);
            let ring = Rect { x: x - grow, y: y - grow, w: w + 2.0 * grow, h: h + 2.0 * grow };
            s.round_rect(ring, 12.0, None, Some((fill, 5.0)));
            s.set_alpha(1.0);
        }

        s.round_rect(Rect { x, y, w, h }, 8.0, Some(fill), None);
        let style =
            |font| TextStyle { font, fill: text, align: Align::Center, baseline: Baseline::Top };
        s.text(&title, (x + w / 2.0, y + BADGE_PAD), style(BADGE_TITLE_FONT));
        let caption_y = y + BADGE_PAD + BADGE_TITLE_H + 2.0;
        s.text(&caption, (x + w / 2.0, caption_y), style(BADGE_CAPTION_FONT));
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
fn highlight(s: &mut dyn Surface, c: &Colours, layout: &Layout, sim: &Sim, hit: Hit) {
    s.set_alpha(0.45);
    match hit {
        Hit::Node(n) => {
            if let Some((cx, cy)) = layout.node_centre(n) {
                let (w, h) = (NODE_W + 12.0, NODE_H + 12.0);
                let ring = Rect { x: cx - w / 2.0, y: cy - h / 2.0, w, h };
                s.round_rect(ring, 14.0, None, Some((c.selected, 6.0)));
            }
        }
        Hit::Edge(e) => {
            if let Some(edge) = sim.edges().get(e) {
                let [call, response] = layout.lanes(edge.from, edge.to);
                let from = ((call.0 .0 + response.1 .0) / 2.0, (call.0 .1 + response.1 .1) / 2.0);
                let to = ((call.1 .0 + response.0 .0) / 2.0, (call.1 .1 + response.0 .1) / 2.0);
                s.line(from, to, c.selected, LANE * 2.0 + 10.0);
            }
        }
    }
    s.set_alpha(1.0);
}

/// The calm rendering of the dots: per lane, a bar of the messages on it,
/// stacked by kind in legend order and centred on the lane, with their
/// count beside it. Bars grow and shrink with the traffic; nothing moves
/// along the edge.
fn paint_counts(s: &mut dyn Surface, c: &Colours, sim: &Sim, layout: &Layout) {
    let edges = sim.edges();
    // Per edge and lane, the messages of each kind.
    let mut counts = vec![[[0u32; DOT_KINDS.len()]; 2]; edges.len()];
    for dot in sim.dots() {
        if let Some(lanes) = counts.get_mut(dot.edge) {
            lanes[dot.response as usize][palette::dot_index(dot.kind)] += 1;
        }
    }
    for (edge, lanes) in edges.iter().zip(&counts) {
        let both = layout.lanes(edge.from, edge.to);
        for ((p, q), kinds) in both.iter().zip(lanes) {
            let total: u32 = kinds.iter().sum();
            if total == 0 {
                continue;
            }
            let (dx, dy) = (q.0 - p.0, q.1 - p.1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            // Three units a message, up to three fifths of the lane.
            let unit = (3.0f64).min(0.6 * len / total as f64);
            let bar = unit * total as f64;
            let mid = ((p.0 + q.0) / 2.0, (p.1 + q.1) / 2.0);
            let mut at = (mid.0 - ux * bar / 2.0, mid.1 - uy * bar / 2.0);
            for (kind, &n) in DOT_KINDS.iter().zip(kinds) {
                if n == 0 {
                    continue;
                }
                let to = (at.0 + ux * unit * n as f64, at.1 + uy * unit * n as f64);
                s.line(at, to, palette::dot_colour(*kind), DOT_R * 2.0);
                at = to;
            }
            // The count outside the pair of lanes: each lane's outer side
            // is to the left of its own direction (above the calls, below
            // the responses, on an edge drawn left to right).
            let label = (mid.0 + uy * 16.0, mid.1 - ux * 16.0);
            let style = TextStyle {
                font: SMALL_BOLD_FONT,
                fill: c.ink,
                align: Align::Center,
                baseline: Baseline::Middle,
            };
            s.text(&total.to_string(), label, style);
        }
    }
}

/// Calls the caller's own breaker or bulkhead refused: each leaves the
/// caller, hits a bar a short way along the edge and falls back, in the
/// colour of a rejection.
fn paint_bounces(
    s: &mut dyn Surface,
    c: &Colours,
    sim: &Sim,
    log: &EventLog,
    layout: &Layout,
    motion: Motion,
) {
    let now = sim.now();
    let colour = palette::dot_colour(brownout_sim::DotKind::Rejected);
    let mut drawn = 0;
    let mut walls: Vec<(usize, u32)> = Vec::new();
    let mut dots: Vec<Point> = Vec::new();
    for &(at, edge) in log.recent_refusals(now) {
        let Some(e) = sim.edges().get(edge) else { continue };
        let [call, _] = layout.lanes(e.from, e.to);
        let (dx, dy) = (call.1 .0 - call.0 .0, call.1 .1 - call.0 .1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let reach = 34.0f64.min(len / 2.0);
        if motion == Motion::Full {
            // Out to the wall and back: a triangle wave over the bounce's time.
            let t = (now - at) as f64 / events::BOUNCE as f64;
            let along = reach * (1.0 - (2.0 * t - 1.0).abs());
            dots.push((call.0 .0 + dx / len * along, call.0 .1 + dy / len * along));
        }
        match walls.iter_mut().find(|w| w.0 == edge) {
            Some(wall) => wall.1 += 1,
            None => walls.push((edge, 1)),
        }
        drawn += 1;
        if drawn > 200 {
            break;
        }
    }
    s.circles(&dots, DOT_R, colour);
    for (edge, refused) in walls {
        let Some(e) = sim.edges().get(edge) else { continue };
        let [call, _] = layout.lanes(e.from, e.to);
        let (dx, dy) = (call.1 .0 - call.0 .0, call.1 .1 - call.0 .1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let reach = 34.0f64.min(len / 2.0) + DOT_R + 2.0;
        let (x, y) = (call.0 .0 + dx / len * reach, call.0 .1 + dy / len * reach);
        let (nx, ny) = (-dy / len * 9.0, dx / len * 9.0);
        s.line((x + nx, y + ny), (x - nx, y - ny), colour, 3.0);
        if motion == Motion::Reduced {
            let style = TextStyle {
                font: SMALL_BOLD_FONT,
                fill: c.ink,
                align: Align::Left,
                baseline: Baseline::Middle,
            };
            s.text(&format!("{refused} refused"), (x + 6.0, y - 16.0), style);
        }
    }
}

/// A red tag on each node or link a chaos fault is hitting now.
fn paint_faults(s: &mut dyn Surface, c: &Colours, sim: &Sim, log: &EventLog, layout: &Layout) {
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
        let w = s.text_width(&text, TAG_FONT) + 12.0;
        s.round_rect(Rect { x: x - w / 2.0, y, w, h: 20.0 }, 5.0, Some(c.fault), None);
        let style = TextStyle {
            font: TAG_FONT,
            fill: palette::ON_FAULT,
            align: Align::Center,
            baseline: Baseline::Middle,
        };
        s.text(&text, (x, y + 10.0), style);
    }
}

fn arrowhead(s: &mut dyn Surface, colour: &str, from: Point, to: Point) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / len, dy / len);
    let size = 7.0;
    s.triangle(
        [
            to,
            (to.0 - ux * size - uy * size * 0.6, to.1 - uy * size + ux * size * 0.6),
            (to.0 - ux * size + uy * size * 0.6, to.1 - uy * size - ux * size * 0.6),
        ],
        colour,
    );
}

/// A line of text in a pill at the picture's bottom-left corner.
fn caption(s: &mut dyn Surface, c: &Colours, text: &str, height: f64) {
    let w = s.text_width(text, SMALL_BOLD_FONT) + 14.0;
    let rect = Rect { x: 8.0, y: height - 30.0, w, h: 22.0 };
    s.round_rect(rect, 11.0, Some(c.ink), None);
    let style = TextStyle {
        font: SMALL_BOLD_FONT,
        fill: c.on_ink,
        align: Align::Left,
        baseline: Baseline::Middle,
    };
    s.text(text, (rect.x + 7.0, rect.y + rect.h / 2.0), style);
}

/// A service's name as its box shows it: in the name font when it fits
/// the box, else in a smaller one (down to 12 px, still legible on a
/// projector), else cut short with an ellipsis at that size. The details
/// panel of the service gives its full name. A few measurements a frame,
/// however long the name: the cut is found by halving.
fn fit_name(s: &mut dyn Surface, name: &str) -> (String, Font) {
    fit_text(name, NODE_W - 16.0, |text, font| s.text_width(text, font))
}

/// [`fit_name`] over any measure of text. A measure that gives no finite
/// width (a canvas not ready, say) is taken as "does not fit": every loop
/// here is bounded, whatever it answers.
fn fit_text(name: &str, room: f64, mut measure: impl FnMut(&str, Font) -> f64) -> (String, Font) {
    let fits = |width: f64| width.is_finite() && width <= room;
    let width = measure(name, NAME_FONT);
    if fits(width) {
        return (name.to_string(), NAME_FONT);
    }
    // Scaled to fit, then down a pixel at a time should the measure not
    // scale quite linearly (hinting), to the smallest size.
    const SMALLEST: u32 = 12;
    let scaled = NAME_FONT.px * room / width;
    let largest = if scaled.is_finite() { scaled.floor().clamp(12.0, NAME_FONT.px) } else { 12.0 };
    for px in (SMALLEST..=largest as u32).rev() {
        let font = Font::new(NAME_FONT.weight, f64::from(px));
        if fits(measure(name, font)) {
            return (name.to_string(), font);
        }
    }
    let font = Font::new(NAME_FONT.weight, f64::from(SMALLEST));
    // The longest prefix, in characters, that fits with an ellipsis.
    let ends: Vec<usize> = name.char_indices().map(|(i, _)| i).skip(1).collect();
    let shown = |n: usize| format!("{}…", name[..ends[n - 1]].trim_end());
    let (mut longest, mut too_long) = (0, ends.len() + 1);
    while too_long - longest > 1 {
        let mid = (longest + too_long) / 2;
        if fits(measure(&shown(mid), font)) {
            longest = mid;
        } else {
            too_long = mid;
        }
    }
    if longest == 0 {
        return ("…".to_string(), font);
    }
    (shown(longest), font)
}

fn draw_node(
    s: &mut dyn Surface,
    c: &Colours,
    (cx, cy): Point,
    name: &str,
    load: Option<brownout_sim::ServiceLoad>,
) {
    let (x, y) = (cx - NODE_W / 2.0, cy - NODE_H / 2.0);
    let frame = Rect { x, y, w: NODE_W, h: NODE_H };
    s.round_rect(frame, 10.0, Some(c.node_fill), Some((c.ink, 2.0)));
    let style = |font, fill, align| TextStyle { font, fill, align, baseline: Baseline::Top };
    let (name, font) = fit_name(s, name);
    s.text(&name, (cx, y + 9.0), style(font, c.ink, Align::Center));

    let Some(load) = load else {
        s.text("sends requests", (cx, y + 36.0), style(CAPTION_FONT, c.muted, Align::Center));
        return;
    };
    gauge(s, c, (x + 10.0, y + 36.0), "workers", load.busy_workers, load.workers);
    gauge(s, c, (x + 10.0, y + 60.0), "queue", load.queued, load.queue_capacity);

    // Instances, when there is more than one or the autoscaler is starting
    // some: the pool the gauges sum over.
    if load.instances != 1 || load.starting > 0 {
        let text = if load.starting > 0 {
            format!("×{} +{}", load.instances, load.starting)
        } else {
            format!("×{}", load.instances)
        };
        // A pill on the box's top-right corner, clear of the name.
        let w = s.text_width(&text, SMALL_BOLD_FONT) + 10.0;
        let (px, py) = (x + NODE_W - w + 6.0, y - 9.0);
        s.round_rect(Rect { x: px, y: py, w, h: 18.0 }, 9.0, Some(c.ink), None);
        let pill = TextStyle {
            font: SMALL_BOLD_FONT,
            fill: c.on_ink,
            align: Align::Center,
            baseline: Baseline::Middle,
        };
        s.text(&text, (px + w / 2.0, py + 9.5), pill);
    }
}

/// A small box at the caller's end of a call whose policies run in a
/// sidecar proxy rather than in the application.
fn proxy_mark(s: &mut dyn Surface, c: &Colours, start: Point, end: Point) {
    let (cx, cy) = ((start.0 + end.0) / 2.0 + 14.0, (start.1 + end.1) / 2.0);
    let frame = Rect { x: cx - 20.0, y: cy - 10.0, w: 40.0, h: 20.0 };
    s.round_rect(frame, 4.0, Some(c.node_fill), Some((c.ink, 1.5)));
    let style = TextStyle {
        font: SMALL_FONT,
        fill: c.ink,
        align: Align::Center,
        baseline: Baseline::Middle,
    };
    s.text("proxy", (cx, cy), style);
}

/// A labelled bar: used of capacity, turning hot when nearly full.
fn gauge(s: &mut dyn Surface, c: &Colours, (x, y): Point, label: &str, used: u32, capacity: u32) {
    let width = NODE_W - 20.0;
    let share = if capacity == 0 { 0.0 } else { (used as f64 / capacity as f64).min(1.0) };
    s.rect(Rect { x, y: y + 13.0, w: width, h: 7.0 }, c.gauge_track);
    let fill = if share >= 0.9 { c.gauge_hot } else { c.gauge_ok };
    s.rect(Rect { x, y: y + 13.0, w: width * share, h: 7.0 }, fill);
    let style =
        |align| TextStyle { font: SMALL_FONT, fill: c.muted, align, baseline: Baseline::Top };
    s.text(label, (x, y), style(Align::Left));
    s.text(&format!("{used}/{capacity}"), (x + width, y), style(Align::Right));
}

/// The diagram as an SVG document of `width`×`height` CSS pixels: the
/// picture the canvas shows at this instant (nodes, edges, labels, badges
/// and the messages in flight), drawn by the same painter from the same
/// layout, without the flash of a change (a still has no moment before).
pub fn svg(
    scene: &Scene,
    (width, height): (f64, f64),
    fit: Fit,
    look: Look,
    title: &str,
) -> String {
    let mut svg = crate::surface::SvgSurface::new(width, height, (fit.width, fit.height), title);
    Painter::exporting().paint(&mut svg, scene, (fit.width, fit.height), 0.0, look, true);
    svg.finish()
}

/// The strip over each diagram of an exported comparison that names its
/// run, in CSS pixels.
pub const CAPTION_H: f64 = 30.0;
const PANE_CAPTION_FONT: Font = Font::new(600, 15.0);

/// The strip naming a run (`label`) across an exported comparison,
/// `width` wide, its top at `top`.
pub fn paint_caption(s: &mut impl Surface, label: &str, width: f64, top: f64, theme: Theme) {
    let c = theme.colours();
    s.rect(Rect { x: 0.0, y: top, w: width, h: CAPTION_H }, c.panel);
    let style = TextStyle {
        font: PANE_CAPTION_FONT,
        fill: c.ink,
        align: Align::Left,
        baseline: Baseline::Middle,
    };
    s.text(label, (12.0, top + CAPTION_H / 2.0), style);
}

/// Diagrams one under another in one SVG document `width` wide, as a
/// comparison shows them: each `(label, document, height)` is a document
/// from [`svg`] under a strip naming its run. Returns the document and its
/// height.
pub fn svg_stacked(
    title: &str,
    width: f64,
    diagrams: &[(&str, String, f64)],
    theme: Theme,
) -> (String, f64) {
    let height: f64 = diagrams.iter().map(|(_, _, h)| CAPTION_H + h).sum();
    let mut svg = crate::surface::SvgSurface::new(width, height, (width, height), title);
    let mut top = 0.0;
    for (label, document, h) in diagrams {
        paint_caption(&mut svg, label, width, top, theme);
        svg.place(document, top + CAPTION_H);
        top += CAPTION_H + h;
    }
    (svg.finish(), height)
}

#[cfg(test)]
mod tests {
    use brownout_sim::time::MILLISECOND;
    use brownout_sim::{Scenario, Sim};
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// The messages in the sample, known by their edge, lane and sending
    /// instant (as the painter recovers it).
    fn sample(sim: &Sim, stride: usize) -> Vec<(usize, bool, u64)> {
        let edges = sim.edges();
        sim.dots()
            .filter(|dot| sampled(dot, edges[dot.edge].latency, sim.now(), stride))
            .map(|dot| {
                let travelled = (f64::from(dot.progress) * edges[dot.edge].latency as f64).round();
                (dot.edge, dot.response, sim.now() - travelled as u64)
            })
            .collect()
    }

    #[wasm_bindgen_test]
    fn a_comparison_exports_its_diagrams_stacked_under_their_captions() {
        let doc = |w: u32, h: u32| {
            format!("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\"><circle/></svg>\n")
        };
        let diagrams =
            [("with the <breaker>", doc(300, 100), 100.0), ("without", doc(300, 80), 80.0)];
        let (svg, height) = svg_stacked("t", 300.0, &diagrams, Theme::Standard);
        assert_eq!(height, 2.0 * CAPTION_H + 180.0);
        assert!(svg.starts_with("<svg xmlns="), "{svg}");
        assert!(svg.contains(&format!("height=\"{height}\"")), "{svg}");
        // Each diagram nested whole under its caption, the second below the
        // first and its caption, never over them.
        let first = svg.find(&format!("<svg x=\"0\" y=\"{CAPTION_H}\" ")).expect(&svg);
        let second = svg.find(&format!("<svg x=\"0\" y=\"{}\" ", 2.0 * CAPTION_H + 100.0));
        assert!(second.expect(&svg) > first);
        assert!(svg.find("with the &lt;breaker&gt;").expect(&svg) < first, "{svg}");
        assert!(svg.find(">without<").expect(&svg) > first, "{svg}");
        assert_eq!(svg.matches("<circle/>").count(), 2);
        assert!(svg.trim_end().ends_with("</svg>\n</svg>"), "{svg}");
    }

    #[wasm_bindgen_test]
    fn the_sample_keeps_its_messages_from_frame_to_frame() {
        let scenario = crowd();
        let mut sim = Sim::new(scenario).unwrap();
        sim.advance_to(3 * brownout_sim::time::SECOND);
        let before = sample(&sim, 4);
        let all = sim.dots().count();
        assert!(all > 2_000, "a crowd: {all}");
        // About a quarter of them, spread over every edge.
        assert!(
            (before.len() as f64 / all as f64 - 0.25).abs() < 0.05,
            "{} of {all}",
            before.len()
        );
        // One frame later, every sampled message still in flight is still
        // in the sample, and no message that was left out has joined it.
        sim.advance_to(sim.now() + 16 * MILLISECOND);
        let after = sample(&sim, 4);
        let all_after: Vec<_> = sample(&sim, 1);
        let mut kept = 0;
        for message in &before {
            assert_eq!(all_after.contains(message), after.contains(message), "{message:?}");
            kept += usize::from(after.contains(message));
        }
        // Most are still on the wire 16 ms later (a hop takes 200 ms), so
        // the check above is about real messages, not a vacuous match.
        assert!(kept * 10 > before.len() * 8, "{kept} of {} still in the sample", before.len());
        // And no message left out a frame ago has joined the sample.
        let before_all: Vec<_> = {
            let mut earlier = Sim::new(crowd()).unwrap();
            earlier.advance_to(3 * brownout_sim::time::SECOND);
            sample(&earlier, 1)
        };
        for message in after.iter().filter(|m| before_all.contains(m)) {
            assert!(before.contains(message), "{message:?} joined the sample");
        }
    }

    /// Whether `p` lies on the outline, grown by the clearances, of the box
    /// centred at `c`.
    fn on_outline(p: (f64, f64), c: (f64, f64)) -> bool {
        let (dx, dy) = (p.0 - c.0, p.1 - c.1);
        let (half_w, top, bottom) =
            (NODE_W / 2.0 + CLEAR_SIDE, NODE_H / 2.0 + CLEAR_TOP, NODE_H / 2.0 + CLEAR);
        let near = |x: f64, y: f64| (x - y).abs() < 1e-6;
        let within_x = dx.abs() <= half_w + 1e-6;
        let within_y = dy >= -top - 1e-6 && dy <= bottom + 1e-6;
        (near(dx.abs(), half_w) && within_y) || ((near(dy, -top) || near(dy, bottom)) && within_x)
    }

    #[wasm_bindgen_test]
    fn lanes_meet_both_boxes_at_any_angle() {
        let a = (100.0, 400.0);
        // Level, steep up and down (a wide fan-out), nearly vertical.
        for b in [(500.0, 400.0), (420.0, 60.0), (420.0, 740.0), (300.0, 0.0), (130.0, 800.0)] {
            let layout = Layout { centres: vec![a, b] };
            let [call, response] = layout.lanes(Node::Client, 0);
            assert!(on_outline(call.0, a) && on_outline(call.1, b), "{b:?}: call {call:?}");
            assert!(on_outline(response.0, b) && on_outline(response.1, a), "{b:?}: {response:?}");
            // Both lanes run the same way as the edge, on either side of it.
            let (cx, cy) = (call.1 .0 - call.0 .0, call.1 .1 - call.0 .1);
            assert!(cx * (b.0 - a.0) + cy * (b.1 - a.1) > 0.0, "{b:?}: the call runs forward");
            let (rx, ry) = (response.1 .0 - response.0 .0, response.1 .1 - response.0 .1);
            assert!(rx * (b.0 - a.0) + ry * (b.1 - a.1) < 0.0, "{b:?}: the answer runs back");
        }
        // Boxes that nearly touch still get a short forward lane.
        let layout = Layout { centres: vec![a, (a.0 + 20.0, a.1)] };
        let [call, _] = layout.lanes(Node::Client, 0);
        assert!(call.1 .0 > call.0 .0, "{call:?}");
        // Boxes dragged onto one spot: lanes of finite length, not NaN.
        let layout = Layout { centres: vec![a, a] };
        for (p, q) in layout.lanes(Node::Client, 0) {
            assert!([p.0, p.1, q.0, q.1].iter().all(|v| v.is_finite()), "{p:?} {q:?}");
        }
    }

    #[wasm_bindgen_test]
    fn names_fit_their_boxes() {
        let mut svg = crate::surface::SvgSurface::new(400.0, 300.0, (400.0, 300.0), "names");
        let room = NODE_W - 16.0;
        // A short name is drawn as it is, in the name font.
        assert_eq!(fit_name(&mut svg, "auth"), ("auth".to_string(), NAME_FONT));
        // A long one in a smaller font, whole if it then fits.
        let (shown, font) = fit_name(&mut svg, "recommendations");
        assert!(font.px < NAME_FONT.px && font.px >= 12.0, "{font:?}");
        assert!(svg.text_width(&shown, font) <= room, "{shown} at {font:?}");
        // One too long for any legible size is cut short, and says so.
        let long = "a-service-with-a-name-far-longer-than-any-box";
        let (shown, font) = fit_name(&mut svg, long);
        assert_eq!(font.px, 12.0);
        assert!(shown.ends_with('…') && long.starts_with(shown.trim_end_matches('…')), "{shown}");
        assert!(svg.text_width(&shown, font) <= room, "{shown}");
        // A measure that answers nothing useful ends too, with an ellipsis.
        for width in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let (shown, font) = fit_text("recommendations", room, |_, _| width);
            assert_eq!((shown.as_str(), font.px), ("…", 12.0), "{width}");
        }
    }

    #[wasm_bindgen_test]
    fn the_stride_changes_only_past_a_margin() {
        assert_eq!(stride_for(100, 1), 1);
        assert_eq!(stride_for(DOTS_CAP + 1, 1), 2);
        // Hovering just under the boundary keeps the sample as it is.
        assert_eq!(stride_for(DOTS_CAP - 10, 2), 2);
        // Well under it, every dot again.
        assert_eq!(stride_for(DOTS_CAP / 2, 2), 1);
        assert_eq!(stride_for(4 * DOTS_CAP, 2), 4);
    }

    fn crowd() -> Scenario {
        brownout_sim::preset("crowd").expect("the crowd preset")
    }

    /// A frame of `sim` as SVG text, from `painter`.
    fn frame(painter: &mut Painter, sim: &Sim) -> String {
        let mut svg = crate::surface::SvgSurface::new(1200.0, 900.0, (1200.0, 900.0), "frame");
        let (log, placement) = (EventLog::default(), Placement::new());
        let scene = Scene { sim, log: &log, placement: &placement, selected: None };
        let look = Look { theme: Theme::Standard, motion: Motion::Full };
        painter.paint(&mut svg, &scene, (1200.0, 900.0), 0.0, look, true);
        svg.finish()
    }

    #[wasm_bindgen_test]
    fn a_recorded_crowd_says_in_the_picture_that_it_is_sampled() {
        let mut scenario = crowd();
        scenario.load.rate_per_sec = 1_000.0;
        let mut sim = Sim::new(scenario).unwrap();
        sim.advance_to(3 * brownout_sim::time::SECOND);
        let mut painter = Painter::default();
        // On the page the note sits under the canvas, not in it.
        let plain = frame(&mut painter, &sim);
        let sampled = painter.crowd().expect("a sampled frame");
        assert!(!plain.contains(&sampled.short_note()), "no caption unless recording");
        // While a clip is recorded it is painted into the picture.
        painter.set_captioned(true);
        let recorded = frame(&mut painter, &sim);
        let note = painter.crowd().expect("still sampled").short_note();
        assert!(note.starts_with("1 in "), "{note}");
        assert!(recorded.contains(&note), "the caption {note:?} is in the picture");
        // A frame that draws every dot has nothing to say.
        let mut quiet = Sim::new(crowd()).unwrap();
        quiet.advance_to(brownout_sim::time::SECOND);
        let calm = frame(&mut painter, &quiet);
        assert!(painter.crowd().is_none() && !calm.contains("messages drawn"));
    }
}
