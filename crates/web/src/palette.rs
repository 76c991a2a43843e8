//! The visual language: one colour per kind of message, shared by the
//! canvas and the legend so that they can never disagree.
//!
//! Colours are from the Okabe–Ito palette, which stays distinguishable with
//! the common colour-vision deficiencies and on washed-out projectors.

use brownout_sim::policy::breaker::BreakerState;
use brownout_sim::DotKind;

pub const INK: &str = "#1d2330";
pub const MUTED: &str = "#5b6475";
pub const EDGE: &str = "#b6bdca";
pub const NODE_FILL: &str = "#ffffff";
pub const GAUGE_TRACK: &str = "#e7eaf0";
pub const GAUGE_OK: &str = "#56b4e9";
pub const GAUGE_HOT: &str = "#d55e00";
/// The halo around what the detail panel shows.
pub const SELECTED: &str = "#f0b400";
/// Chaos faults: tags on the diagram and marks on the charts.
pub const FAULT: &str = "#b3001b";

/// Every kind of dot, in legend order.
pub const DOT_KINDS: [DotKind; 7] = [
    DotKind::FirstTry,
    DotKind::Retry,
    DotKind::Success,
    DotKind::Degraded,
    DotKind::Error,
    DotKind::Rejected,
    DotKind::Orphan,
];

pub fn dot_colour(kind: DotKind) -> &'static str {
    match kind {
        DotKind::FirstTry => "#0072b2",
        DotKind::Retry => "#e69f00",
        DotKind::Success => "#009e73",
        DotKind::Degraded => "#56b4e9",
        DotKind::Error => "#d55e00",
        DotKind::Rejected => "#cc79a7",
        DotKind::Orphan => "#9aa1ad",
    }
}

pub fn dot_label(kind: DotKind) -> &'static str {
    match kind {
        DotKind::FirstTry => "call, first try",
        DotKind::Retry => "call, retry",
        DotKind::Success => "success response",
        DotKind::Degraded => "degraded response (fallback)",
        DotKind::Error => "error response",
        DotKind::Rejected => "rejected: queue full or shed",
        DotKind::Orphan => "orphaned: caller gave up",
    }
}

/// Position of a kind in [`DOT_KINDS`].
pub fn dot_index(kind: DotKind) -> usize {
    DOT_KINDS.iter().position(|&k| k == kind).unwrap_or(0)
}

/// Every breaker state, in legend order.
pub const BREAKER_STATES: [BreakerState; 3] =
    [BreakerState::Closed, BreakerState::HalfOpen, BreakerState::Open];

/// The breaker badge's fill and text colours in each state: a traffic
/// light. CLOSED and OPEN are darker shades of the palette's bluish green
/// and vermillion, so that white text on them stays readable (contrast
/// above 5:1); HALF-OPEN is the palette's orange with dark text, a hue well
/// apart from OPEN's. The badge spells the state out as well, for readers
/// who cannot tell the colours apart.
pub fn breaker_colours(state: BreakerState) -> (&'static str, &'static str) {
    match state {
        BreakerState::Closed => ("#00755a", "#ffffff"),
        BreakerState::HalfOpen => ("#e69f00", INK),
        BreakerState::Open => ("#b23c00", "#ffffff"),
    }
}
