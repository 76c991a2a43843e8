//! The visual language: one colour per kind of message, shared by the
//! canvas, the SVG export, the charts and the stylesheet, so that they can
//! never disagree.
//!
//! Colours are from the Okabe–Ito palette, which stays distinguishable with
//! the common colour-vision deficiencies and on washed-out projectors.
//!
//! The page has three themes. The standard one is for a screen at arm's
//! length; the two projector themes are for the back of a lecture room:
//! the diagram drawn larger, text and lines darker (or lighter, on the
//! dark one), and no pale greys that a projector washes out. The message
//! colours stay the same in every theme, so that a legend learnt on one
//! reads on the others. The stylesheet holds no colour of its own: the
//! page writes a theme's [`Colours`] as CSS custom properties
//! ([`css_properties`]) and `www/style.css` only refers to them.

use brownout_sim::policy::breaker::BreakerState;
use brownout_sim::DotKind;

/// A look of the page, chosen with `?theme=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Dark text on white, for a screen.
    #[default]
    Standard,
    /// Large, high-contrast, light: for a projector in a lit room.
    Projector,
    /// Large, high-contrast, light text on black: for a dark room.
    ProjectorDark,
}

impl Theme {
    /// Every theme, in the order the menu lists them.
    pub const ALL: [Theme; 3] = [Theme::Standard, Theme::Projector, Theme::ProjectorDark];

    /// The name `?theme=` uses.
    pub fn name(self) -> &'static str {
        match self {
            Theme::Standard => "standard",
            Theme::Projector => "projector",
            Theme::ProjectorDark => "projector-dark",
        }
    }

    /// The theme of a `?theme=` name.
    pub fn from_name(name: &str) -> Option<Theme> {
        Theme::ALL.into_iter().find(|t| t.name() == name)
    }

    /// What the theme menu shows.
    pub fn label(self) -> &'static str {
        match self {
            Theme::Standard => "standard",
            Theme::Projector => "projector, light",
            Theme::ProjectorDark => "projector, dark",
        }
    }

    /// How much larger than its natural size the diagram is drawn when the
    /// frame has room: the projector themes enlarge text, lines and dots
    /// alike.
    pub fn zoom(self) -> f64 {
        match self {
            Theme::Standard => 1.0,
            Theme::Projector | Theme::ProjectorDark => 1.3,
        }
    }

    pub fn colours(self) -> &'static Colours {
        match self {
            Theme::Standard => &STANDARD,
            Theme::Projector => &PROJECTOR,
            Theme::ProjectorDark => &PROJECTOR_DARK,
        }
    }
}

/// The colours of a theme that are not colours of a message.
#[derive(Debug, PartialEq, Eq)]
pub struct Colours {
    /// The page behind everything.
    pub background: &'static str,
    /// The stage behind the diagram.
    pub stage: &'static str,
    /// Panels: the lesson card, the lesson figures.
    pub panel: &'static str,
    /// Text and node outlines.
    pub ink: &'static str,
    /// Secondary text.
    pub muted: &'static str,
    /// Rules and borders between parts of the page.
    pub line: &'static str,
    /// Borders of buttons and selects.
    pub control_border: &'static str,
    /// The edges of the diagram.
    pub edge: &'static str,
    pub node_fill: &'static str,
    pub gauge_track: &'static str,
    pub gauge_ok: &'static str,
    pub gauge_hot: &'static str,
    /// Text on a pill filled with `ink` (instance counts).
    pub on_ink: &'static str,
    /// Sliders, chosen answers, the measured figure.
    pub accent: &'static str,
    /// The halo around what the detail panel shows.
    pub selected: &'static str,
    /// Chaos faults: tags on the diagram and marks on the charts.
    pub fault: &'static str,
    /// The keyboard focus ring.
    pub focus: &'static str,
    /// The star on controls that matter.
    pub star: &'static str,
    /// Notices: refused input, ignored parameters.
    pub notice_fill: &'static str,
    pub notice_border: &'static str,
    pub notice_ink: &'static str,
    /// The banner of an internal error.
    pub fatal: &'static str,
    /// A backing behind text laid over a chart band.
    pub label_backing: &'static str,
    /// The comparison's lines on the charts.
    pub variant: &'static str,
}

pub const STANDARD: Colours = Colours {
    background: "#ffffff",
    stage: "#fbfcfd",
    panel: "#f6f7f9",
    ink: "#1d2330",
    muted: "#5b6475",
    line: "#d9dde5",
    control_border: "#aab2c0",
    edge: "#b6bdca",
    node_fill: "#ffffff",
    gauge_track: "#e7eaf0",
    gauge_ok: "#56b4e9",
    gauge_hot: "#d55e00",
    on_ink: "#ffffff",
    accent: "#0072b2",
    selected: "#f0b400",
    fault: "#b3001b",
    focus: "#e69f00",
    star: "#b36b00",
    notice_fill: "#fff3e6",
    notice_border: "#f0b27a",
    notice_ink: "#7a3300",
    fatal: "#7a1500",
    label_backing: "rgba(255,255,255,0.85)",
    variant: "#5b6475",
};

/// Black on white, with edges and gauges dark enough to survive a
/// projector's washed-out greys.
pub const PROJECTOR: Colours = Colours {
    background: "#ffffff",
    stage: "#ffffff",
    panel: "#eef0f3",
    ink: "#000000",
    muted: "#262d3a",
    line: "#7d8595",
    control_border: "#4a5263",
    edge: "#59626f",
    node_fill: "#ffffff",
    gauge_track: "#c9ced7",
    gauge_ok: "#0072b2",
    gauge_hot: "#d55e00",
    on_ink: "#ffffff",
    accent: "#005b8f",
    selected: "#d99e00",
    fault: "#b3001b",
    focus: "#b35900",
    star: "#8a5200",
    notice_fill: "#fff0dc",
    notice_border: "#b35900",
    notice_ink: "#4d1f00",
    fatal: "#7a1500",
    label_backing: "rgba(255,255,255,0.9)",
    variant: "#262d3a",
};

/// Near-white on near-black, for a darkened room: the message colours of
/// the palette keep a contrast of at least 3:1 against this background.
pub const PROJECTOR_DARK: Colours = Colours {
    background: "#0b0e14",
    stage: "#0b0e14",
    panel: "#1a202b",
    ink: "#f4f6fa",
    muted: "#cdd3de",
    line: "#5a6373",
    control_border: "#8d96a7",
    edge: "#9aa3b3",
    node_fill: "#161b25",
    gauge_track: "#343c4b",
    gauge_ok: "#56b4e9",
    gauge_hot: "#ff7f2a",
    on_ink: "#0b0e14",
    accent: "#56b4e9",
    selected: "#f0c000",
    fault: "#e0304a",
    focus: "#f0c000",
    star: "#f0c000",
    notice_fill: "#3b2612",
    notice_border: "#e69f00",
    notice_ink: "#ffe2bf",
    fatal: "#a11d00",
    label_backing: "rgba(11,14,20,0.85)",
    variant: "#cdd3de",
};

/// The standard theme's text colour, for code that draws outside a theme.
pub const INK: &str = STANDARD.ink;
/// Text on a chaos fault's tag, in every theme.
pub const ON_FAULT: &str = "#ffffff";

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

/// A short name of a kind of dot, for class names and custom properties.
pub fn dot_slug(kind: DotKind) -> &'static str {
    match kind {
        DotKind::FirstTry => "first-try",
        DotKind::Retry => "retry",
        DotKind::Success => "success",
        DotKind::Degraded => "degraded",
        DotKind::Error => "error",
        DotKind::Rejected => "rejected",
        DotKind::Orphan => "orphan",
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

/// The event list's marks for a chaos fault starting or ending, and for
/// an experiment its steady-state hypothesis aborted.
pub const EVENT_CHAOS: &str = "#7a5195";
pub const EVENT_ABORTED: &str = "#1a1a1a";

/// The lines of the charts: throughput and p50, goodput, failures,
/// degraded answers, p99.
pub const CHART_SENT: &str = "#0072b2";
pub const CHART_ANSWERED: &str = "#009e73";
pub const CHART_FAILED: &str = "#d55e00";
pub const CHART_DEGRADED: &str = "#56b4e9";
pub const CHART_P99: &str = "#cc79a7";
/// One line per service on the busy-workers chart.
pub const CHART_SERVICES: [&str; 5] = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00"];

/// The theme as CSS custom properties: `(name, value)` pairs that the page
/// sets on its root element, for `www/style.css` to use with `var()`.
pub fn css_properties(theme: Theme) -> Vec<(String, &'static str)> {
    let c = theme.colours();
    let mut all: Vec<(String, &'static str)> = [
        ("background", c.background),
        ("stage", c.stage),
        ("panel", c.panel),
        ("ink", c.ink),
        ("muted", c.muted),
        ("line", c.line),
        ("control-border", c.control_border),
        ("edge", c.edge),
        ("node-fill", c.node_fill),
        ("gauge-track", c.gauge_track),
        ("gauge-ok", c.gauge_ok),
        ("gauge-hot", c.gauge_hot),
        ("on-ink", c.on_ink),
        ("accent", c.accent),
        ("selected", c.selected),
        ("fault", c.fault),
        ("focus", c.focus),
        ("star", c.star),
        ("notice-fill", c.notice_fill),
        ("notice-border", c.notice_border),
        ("notice-ink", c.notice_ink),
        ("fatal", c.fatal),
        ("on-fault", ON_FAULT),
        ("event-chaos", EVENT_CHAOS),
        ("event-aborted", if theme == Theme::ProjectorDark { c.ink } else { EVENT_ABORTED }),
    ]
    .into_iter()
    .map(|(name, value)| (format!("--{name}"), value))
    .collect();
    for kind in DOT_KINDS {
        all.push((format!("--dot-{}", dot_slug(kind)), dot_colour(kind)));
    }
    for state in BREAKER_STATES {
        let (fill, text) = breaker_colours(state);
        let slug = crate::events::state_name(state).to_lowercase();
        all.push((format!("--breaker-{slug}"), fill));
        all.push((format!("--breaker-{slug}-text"), text));
    }
    all
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    /// The stylesheet names no colour itself: every colour it uses is a
    /// custom property the palette sets, so that a theme changes them all.
    #[wasm_bindgen_test]
    fn the_stylesheet_takes_every_colour_from_the_palette() {
        let css = include_str!("../../../www/style.css");
        // Comments out, then the declaration lists: what stands between a
        // `{` and the next `}` (a `{` opening a nested block has none).
        let mut code = String::new();
        let mut rest = css;
        while let Some(i) = rest.find("/*") {
            code.push_str(&rest[..i]);
            rest = rest[i..].find("*/").map_or("", |j| &rest[i + j + 2..]);
        }
        code.push_str(rest);
        let declarations: Vec<&str> = code
            .split('{')
            .skip(1)
            .filter_map(|piece| piece.split_once('}'))
            .map(|d| d.0)
            .collect();
        let mut names: Vec<String> =
            css_properties(Theme::Standard).into_iter().map(|(name, _)| name).collect();
        for d in &declarations {
            for part in d.split(';') {
                if let Some((name, _)) = part.trim().split_once(':') {
                    if name.starts_with("--") {
                        names.push(name.trim().to_string());
                    }
                }
            }
        }
        for d in &declarations {
            for (i, _) in d.match_indices('#') {
                let hex = d[i + 1..].chars().take_while(char::is_ascii_hexdigit).count();
                assert!(![3, 4, 6, 8].contains(&hex), "a colour literal in style.css: {d}");
            }
            for literal in ["rgb(", "rgba(", "hsl("] {
                assert!(!d.contains(literal), "a colour literal in style.css: {d}");
            }
            for (i, _) in d.match_indices("var(") {
                let name: String = d[i + 4..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect();
                assert!(names.contains(&name), "style.css uses {name}, which nothing sets: {d}");
            }
        }
    }

    #[wasm_bindgen_test]
    fn every_theme_sets_the_same_properties_and_reads_back_by_name() {
        let names = |t: Theme| -> Vec<String> {
            css_properties(t).into_iter().map(|(name, _)| name).collect()
        };
        for theme in Theme::ALL {
            assert_eq!(names(theme), names(Theme::Standard), "{theme:?}");
            assert_eq!(Theme::from_name(theme.name()), Some(theme));
        }
        assert_eq!(Theme::from_name("neon"), None);
        assert_ne!(PROJECTOR_DARK.background, STANDARD.background);
    }
}
