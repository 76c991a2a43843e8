//! Drawing the service graph and its messages on a canvas.
//!
//! Nodes are placed in columns by their distance from the client. Each edge
//! has two lanes: calls travel along the upper one from caller to callee,
//! responses along the lower one back. Dots are drawn in one path per colour,
//! so a frame costs one fill per colour however many dots there are.

use brownout_sim::{Node, Sim};
use web_sys::CanvasRenderingContext2d;

use crate::palette::{self, DOT_KINDS};

const NODE_W: f64 = 132.0;
const NODE_H: f64 = 86.0;
const LANE: f64 = 9.0;
const DOT_R: f64 = 4.5;

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

/// Reusable buffers, so that drawing a frame allocates nothing.
#[derive(Default)]
pub struct Painter {
    by_kind: [Vec<(f64, f64)>; DOT_KINDS.len()],
}

impl Painter {
    pub fn paint(&mut self, ctx: &CanvasRenderingContext2d, sim: &Sim, width: f64, height: f64) {
        let layout = Layout::new(sim, width, height);
        ctx.clear_rect(0.0, 0.0, width, height);

        // Edges: both lanes, with an arrowhead on the call lane.
        ctx.set_line_width(2.0);
        ctx.set_stroke_style_str(palette::EDGE);
        ctx.set_fill_style_str(palette::EDGE);
        for edge in sim.edges() {
            let [call, response] = layout.lanes(edge.from, edge.to);
            for (p, q) in [call, response] {
                ctx.begin_path();
                ctx.move_to(p.0, p.1);
                ctx.line_to(q.0, q.1);
                ctx.stroke();
            }
            arrowhead(ctx, call.0, call.1);
            arrowhead(ctx, response.0, response.1);
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
}

/// A labelled bar: used of capacity, turning hot when nearly full.
fn gauge(ctx: &CanvasRenderingContext2d, x: f64, y: f64, label: &str, used: u32, capacity: u32) {
    let width = NODE_W - 20.0;
    let share = if capacity == 0 { 0.0 } else { (used as f64 / capacity as f64).min(1.0) };
    ctx.set_fill_style_str(palette::GAUGE_TRACK);
    ctx.fill_rect(x, y + 12.0, width, 7.0);
    ctx.set_fill_style_str(if share >= 0.9 { palette::GAUGE_HOT } else { palette::GAUGE_OK });
    ctx.fill_rect(x, y + 12.0, width * share, 7.0);
    ctx.set_fill_style_str(palette::MUTED);
    ctx.set_font("11px system-ui, sans-serif");
    ctx.set_text_align("left");
    let _ = ctx.fill_text(label, x, y);
    ctx.set_text_align("right");
    let _ = ctx.fill_text(&format!("{used}/{capacity}"), x + width, y);
    ctx.set_text_align("center");
}
