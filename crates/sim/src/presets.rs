//! The scenarios that ship with Brownout, as the TOML files in `scenarios/`
//! at the root of the repository.
//!
//! The files are compiled in, so that the page and the runner offer the same
//! presets without reading the disk, and so that the presets double as
//! examples a user can copy and edit. The tests check that each one parses,
//! validates and runs.

use crate::file::parse_scenario;
use crate::scenario::Scenario;

/// A scenario file that ships with Brownout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    /// The file's name without `.toml`, e.g. `retry-chain`.
    pub id: &'static str,
    /// The file's text, comments included.
    pub toml: &'static str,
}

/// Every preset, the default one (the retry chain) first.
pub const PRESETS: &[Preset] = &[
    Preset { id: "retry-chain", toml: include_str!("../../../scenarios/retry-chain.toml") },
    Preset { id: "product-page", toml: include_str!("../../../scenarios/product-page.toml") },
    Preset { id: "scripted-flaky", toml: include_str!("../../../scenarios/scripted-flaky.toml") },
    Preset { id: "load-spike", toml: include_str!("../../../scenarios/load-spike.toml") },
    Preset { id: "mm1", toml: include_str!("../../../scenarios/mm1.toml") },
    Preset { id: "circuit-breaker", toml: include_str!("../../../scenarios/circuit-breaker.toml") },
    Preset { id: "breaker-noise", toml: include_str!("../../../scenarios/breaker-noise.toml") },
    Preset { id: "bulkheads", toml: include_str!("../../../scenarios/bulkheads.toml") },
    Preset { id: "degradation", toml: include_str!("../../../scenarios/degradation.toml") },
    Preset { id: "backoff-jitter", toml: include_str!("../../../scenarios/backoff-jitter.toml") },
    Preset { id: "retry-budget", toml: include_str!("../../../scenarios/retry-budget.toml") },
    Preset { id: "chaos-game-day", toml: include_str!("../../../scenarios/chaos-game-day.toml") },
    Preset {
        id: "outlier-ejection",
        toml: include_str!("../../../scenarios/outlier-ejection.toml"),
    },
    Preset { id: "autoscaling", toml: include_str!("../../../scenarios/autoscaling.toml") },
    Preset { id: "metastable", toml: include_str!("../../../scenarios/metastable.toml") },
    Preset { id: "crowd", toml: include_str!("../../../scenarios/crowd.toml") },
];

/// The preset with this id, read into a scenario; `None` for an unknown id.
///
/// The files are checked by the tests, so a preset that ships always reads.
pub fn preset(id: &str) -> Option<Scenario> {
    PRESETS
        .iter()
        .find(|preset| preset.id == id)
        .and_then(|preset| parse_scenario(preset.toml).ok())
}
