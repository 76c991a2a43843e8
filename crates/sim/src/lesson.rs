//! Lessons: what a scenario is meant to teach, for the page's lab.
//!
//! A scenario file may carry a `[lesson]` table. The engine ignores it; the
//! page uses it to turn the scenario into an experiment:
//!
//! - a **title** and a two-line **summary**;
//! - **notice** prompts, each tied to something on screen;
//! - the **controls** that matter for it, by name ([`Control`]);
//! - a **question** to answer before the run, with numeric choices, that a
//!   figure of the run answers ([`Measure`]);
//! - a **comparison**: the same file with a few fields changed or removed
//!   (`set` and `unset`, in the runner's `--set` path syntax), run beside
//!   it with the same load and seed, so that the one policy that differs is
//!   the only difference.

use serde::{Deserialize, Serialize};

/// The teaching side of a scenario. Every field but the title has a default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lesson {
    /// The experiment's name in the preset menu.
    pub title: String,
    /// Two lines on what the experiment shows. Default: empty.
    #[serde(default)]
    pub summary: String,
    /// "What to notice" prompts, each about something on screen.
    #[serde(default)]
    pub notice: Vec<String>,
    /// The controls shown first, in this order. Default: all.
    #[serde(default)]
    pub controls: Vec<Control>,
    /// A question to answer before the run. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question: Option<Question>,
    /// The variant run beside the scenario. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compare: Option<Compare>,
    /// A phase map of one chaos fault's size against its length. Default:
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase_map: Option<PhaseSpec>,
}

/// How to draw a phase map ([`crate::phase::PhaseMap`]): one chaos fault
/// of the scenario is run at every size and length of a grid, and each run
/// is judged recovered or stuck on the client's success share over its
/// last seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    /// The fault to vary, by its index in `chaos.faults`. Default: 0.
    #[serde(default)]
    pub fault: usize,
    /// The fault's sizes, in its own unit: the factor of `cpu_stress` and
    /// `brownout`, the count of `kill_instances`, the share of
    /// `network_loss`, the rate of `errors`, the added milliseconds of
    /// `latency`.
    pub sizes: Vec<f64>,
    /// How long the fault lasts from its `start_s`, in seconds.
    pub lengths_s: Vec<f64>,
    /// Simulated seconds each point runs. Default: the scenario's
    /// `duration_s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_s: Option<f64>,
    /// The last seconds of each run that are judged. Default: 10.
    #[serde(default = "default_settle_s")]
    pub settle_s: f64,
    /// The share of client requests answered in full, from 0 to 1, at or
    /// above which a point counts as recovered. Default: 0.9.
    #[serde(default = "default_threshold")]
    pub threshold: f64,
}

fn default_settle_s() -> f64 {
    10.0
}

fn default_threshold() -> f64 {
    0.9
}

/// A control of the page that a lesson can ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Control {
    /// The error rate of the last service.
    ErrorRate,
    /// The mean service time of the last service.
    Latency,
    /// Client load.
    Load,
    /// Retries on every hop.
    Retries,
    /// Backoff and jitter on every hop.
    Backoff,
    /// The per-try timeout of the last edge.
    Timeout,
    /// A circuit breaker on the last edge, its threshold and window.
    Breaker,
    /// A retry budget on every hop.
    Budget,
    /// The size of the bulkhead on the bulkheaded calls.
    Bulkhead,
}

impl Control {
    /// Every control, in the order the page groups them.
    pub const ALL: [Control; 9] = [
        Control::Load,
        Control::ErrorRate,
        Control::Latency,
        Control::Timeout,
        Control::Retries,
        Control::Backoff,
        Control::Budget,
        Control::Breaker,
        Control::Bulkhead,
    ];

    /// The name a scenario file uses.
    pub fn name(self) -> &'static str {
        match self {
            Control::ErrorRate => "error_rate",
            Control::Latency => "latency",
            Control::Load => "load",
            Control::Retries => "retries",
            Control::Backoff => "backoff",
            Control::Timeout => "timeout",
            Control::Breaker => "breaker",
            Control::Budget => "budget",
            Control::Bulkhead => "bulkhead",
        }
    }
}

/// A question the run answers: the user picks one of `choices` before
/// the run, and the run's `measure` tells which is nearest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// The question, e.g. "How many attempts reach payments per request?".
    pub ask: String,
    /// The figures to choose from, in the measure's unit.
    pub choices: Vec<f64>,
    /// The figure of the run that answers it.
    pub measure: Measure,
    /// Simulated seconds to run before the answer is read. Default: 30.
    #[serde(default = "default_answer_after_s")]
    pub after_s: f64,
}

fn default_answer_after_s() -> f64 {
    30.0
}

/// A figure of a run that answers a question.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Measure {
    /// Attempts received by a service per client request (×).
    Amplification { service: String },
    /// The share of client requests answered in full, in percent.
    SuccessPercent,
    /// The share of client requests answered degraded, in percent.
    DegradedPercent,
    /// How many times the breaker on a call opened.
    BreakerOpenings { from: String, to: String },
    /// The client's 99th-percentile latency, in milliseconds.
    P99Ms,
}

impl Measure {
    /// The unit the choices are written in, for display.
    pub fn unit(&self) -> &'static str {
        match self {
            Measure::Amplification { .. } => "×",
            Measure::SuccessPercent | Measure::DegradedPercent => "%",
            Measure::BreakerOpenings { .. } => "",
            Measure::P99Ms => "ms",
        }
    }
}

/// The variant of a scenario run beside it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// What the scenario is called beside its variant, e.g. "with the
    /// breaker".
    pub label: String,
    /// What the variant is called, e.g. "without the breaker".
    pub variant_label: String,
    /// Fields to change, as `path=value` (the runner's `--set` syntax).
    #[serde(default)]
    pub set: Vec<String>,
    /// Fields to remove, by path, so that their defaults apply.
    #[serde(default)]
    pub unset: Vec<String>,
}

/// Reads a scenario file with its lesson's comparison applied: the variant
/// that runs beside it. `Ok(None)` when the file has no comparison; `Err`
/// says what is wrong with the file or with the comparison's changes.
///
/// The variant keeps the file's seed and load unless the comparison
/// changes them, and loses its own `compare` and `question` tables: a
/// variant has no variant, and the question is asked of the scenario (it
/// may name the very policy the variant removes).
pub fn variant(text: &str) -> Result<Option<crate::Scenario>, String> {
    use crate::overrides::Override;
    let scenario = crate::parse_scenario(text).map_err(|e| e.to_string())?;
    let Some(compare) = scenario.lesson.and_then(|lesson| lesson.compare) else {
        return Ok(None);
    };
    let mut doc: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    for set in &compare.set {
        let change =
            Override::parse_set(set).map_err(|why| format!("compare.set {set:?}: {why}"))?;
        change.apply(&mut doc).map_err(|why| format!("compare.set {set:?}: {why}"))?;
    }
    for path in &compare.unset {
        let change = Override::unset(format!("unset {path}"), path)
            .map_err(|why| format!("compare.unset {path:?}: {why}"))?;
        change.apply(&mut doc).map_err(|why| format!("compare.unset {path:?}: {why}"))?;
    }
    if let Some(toml::Value::Table(lesson)) = doc.get_mut("lesson") {
        lesson.remove("compare");
        lesson.remove("question");
    }
    let text = toml::to_string(&doc).map_err(|e| e.to_string())?;
    crate::parse_scenario(&text)
        .map(Some)
        .map_err(|e| format!("the comparison gives an invalid scenario: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_names_are_the_ones_serde_reads() {
        for control in Control::ALL {
            let read: Control = toml::Value::String(control.name().into()).try_into().unwrap();
            assert_eq!(read, control);
        }
    }

    const FILE: &str = r#"
seed = 7
[[services]]
name = "api"
error_rate = 0.5
[[calls]]
from = "client"
to = "api"
retries = 2
breaker = { kind = "failure_rate", minimum_calls = 5 }
[lesson]
title = "T"
[lesson.compare]
label = "with"
variant_label = "without"
unset = ["calls.client.api.breaker"]
set = ["calls.client.api.retries=0"]
"#;

    #[test]
    fn a_variant_differs_only_where_the_comparison_says() {
        let base = crate::parse_scenario(FILE).unwrap();
        let variant = variant(FILE).unwrap().unwrap();
        assert!(base.calls[0].breaker.is_some());
        assert!(variant.calls[0].breaker.is_none());
        assert_eq!(variant.calls[0].retries, 0);
        assert_eq!(variant.seed, 7);
        assert_eq!(variant.services, base.services);
        assert!(variant.lesson.unwrap().compare.is_none());
    }

    #[test]
    fn a_bad_comparison_is_named() {
        let bad = FILE.replace("retries=0", "retries=-1");
        let err = variant(&bad).unwrap_err();
        assert!(err.contains("invalid scenario") && err.contains("retries"), "{err}");
        let bad = FILE.replace("calls.client.api.breaker", "calls.client.nope.breaker");
        assert!(variant(&bad).unwrap_err().contains("compare.unset"));
        let plain = FILE.split("[lesson]").next().unwrap();
        assert_eq!(variant(plain).unwrap(), None);
    }
}
