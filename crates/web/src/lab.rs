//! The lab: which experiment the page runs, and the lesson that goes with
//! it.
//!
//! An experiment is a preset scenario file with its `[lesson]` table:
//! title, summary, prompts, the controls that matter, a question the run
//! answers, and a comparison variant run beside it. A preset without a
//! lesson still runs; it just has nothing to teach beyond its description.
//!
//! The bundle embeds the presets already read: `build.rs` reads each file
//! and its comparison on the build machine and packs the scenarios
//! (`brownout_sim::packed`), so that the page carries no TOML parser.

use brownout_sim::lesson::{Measure, Question};
use brownout_sim::{packed, Scenario, Sim};

use crate::events::EventLog;

/// The experiment the page opens on when the URL names none.
pub const DEFAULT_PRESET: &str = "retry-chain";

/// One experiment, ready to run.
#[derive(Clone, Debug)]
pub struct Experiment {
    /// The preset's id, as in `?preset=`.
    pub id: &'static str,
    pub scenario: Scenario,
    /// The comparison variant, if the lesson has one.
    pub variant: Option<Scenario>,
}

impl Experiment {
    /// Reads a preset by id. `Err` names the problem: an unknown id (with
    /// the known ones) or a preset whose file or comparison is broken.
    pub fn load(id: &str) -> Result<Experiment, String> {
        let Some(preset) = PACKED.iter().find(|p| p.id == id) else {
            let known: Vec<&str> = PACKED.iter().map(|p| p.id).collect();
            return Err(format!(
                "there is no experiment {id:?}; the experiments are {}",
                known.join(", ")
            ));
        };
        let scenario = packed::unpack(preset.scenario)
            .map_err(|e| format!("the experiment {id:?} does not read: {e}"))?;
        let variant = preset
            .variant
            .map(packed::unpack)
            .transpose()
            .map_err(|e| format!("the comparison of {id:?} does not read: {e}"))?;
        Ok(Experiment { id: preset.id, scenario, variant })
    }
}

/// A preset as the bundle embeds it: read and packed by `build.rs`.
struct Packed {
    /// The file's name without `.toml`.
    id: &'static str,
    /// The scenario, as `brownout_sim::packed::unpack` reads it.
    scenario: &'static [u8],
    /// The lesson's comparison variant, if it has one, packed likewise.
    variant: Option<&'static [u8]>,
}

// `PACKED`, the table of every preset.
include!(concat!(env!("OUT_DIR"), "/presets.rs"));

/// A scenario's title: its lesson's, or else its name.
pub fn title_of(scenario: &Scenario) -> String {
    scenario.lesson.as_ref().map_or_else(|| scenario.name.clone(), |l| l.title.clone())
}

/// The menu: every preset's id and title, experiments with a lesson first.
pub fn menu() -> Vec<(&'static str, String, bool)> {
    let mut items: Vec<(&'static str, String, bool)> = PACKED
        .iter()
        .filter_map(|preset| {
            let scenario = packed::unpack(preset.scenario).ok()?;
            Some((preset.id, title_of(&scenario), scenario.lesson.is_some()))
        })
        .collect();
    // Stable: the presets' own order within each group.
    items.sort_by_key(|item| !item.2);
    items
}

/// The run's answer to a lesson's question, once it has one.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The figure the run measured.
    pub measured: f64,
    /// The index of the choice nearest to it.
    pub nearest: usize,
}

/// The simulated time at which a question is answered.
pub fn answer_time(question: &Question) -> brownout_sim::time::Micros {
    brownout_sim::time::from_secs(question.after_s)
}

/// Reads the figure a question asks for off a running simulation; `None`
/// before the run has reached the question's time or has the figure.
pub fn answer(question: &Question, sim: &Sim, log: &EventLog) -> Option<Answer> {
    if sim.now() < answer_time(question) {
        return None;
    }
    let measured = measure(&question.measure, sim, log)?;
    let nearest = question
        .choices
        .iter()
        .enumerate()
        .min_by(|a, b| (a.1 - measured).abs().total_cmp(&(b.1 - measured).abs()))
        .map(|(i, _)| i)?;
    Some(Answer { measured, nearest })
}

/// The figure a measure names, over the whole run so far.
pub fn measure(measure: &Measure, sim: &Sim, log: &EventLog) -> Option<f64> {
    let client = &sim.metrics().totals().client;
    let finished = client.finished();
    let share = |n: u64| (finished > 0).then(|| 100.0 * n as f64 / finished as f64);
    match measure {
        Measure::Amplification { service } => {
            let s = sim.scenario().services.iter().position(|spec| &spec.name == service)?;
            sim.measured_amplification(s)
        }
        Measure::SuccessPercent => share(client.successes),
        Measure::DegradedPercent => share(client.degraded),
        Measure::BreakerOpenings { from, to } => {
            let edge = sim
                .scenario()
                .calls
                .iter()
                .position(|call| &call.from == from && &call.to == to)?;
            Some(log.openings(edge) as f64)
        }
        Measure::P99Ms => sim.metrics().client_latency().map(|p| p.p99),
    }
}

/// A figure in a measure's unit, for display.
pub fn show(measure: &Measure, x: f64) -> String {
    match measure {
        Measure::Amplification { .. } => crate::figures::times(x),
        Measure::SuccessPercent | Measure::DegradedPercent => format!("{x:.0} %"),
        Measure::BreakerOpenings { .. } => format!("{x:.0}"),
        Measure::P99Ms => format!("{x:.0} ms"),
    }
}

#[cfg(test)]
mod tests {
    use brownout_sim::time::SECOND;
    use brownout_sim::PRESETS;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn every_preset_opens_and_lessons_come_first_in_the_menu() {
        let menu = menu();
        assert_eq!(menu.len(), PRESETS.len(), "every preset reads");
        let first_plain = menu.iter().position(|item| !item.2).unwrap_or(menu.len());
        assert!(menu[first_plain..].iter().all(|item| !item.2), "lessons first: {menu:?}");
        for preset in PRESETS {
            let experiment = Experiment::load(preset.id).unwrap();
            let has_compare = experiment.scenario.lesson.as_ref().and_then(|l| l.compare.as_ref());
            assert_eq!(experiment.variant.is_some(), has_compare.is_some(), "{}", preset.id);
        }
    }

    #[wasm_bindgen_test]
    fn the_packed_presets_are_the_files_as_read() {
        let ids: Vec<&str> = PACKED.iter().map(|p| p.id).collect();
        let files: Vec<&str> = PRESETS.iter().map(|p| p.id).collect();
        assert_eq!(ids, files, "one packed preset per file, in order");
        for preset in PRESETS {
            let experiment = Experiment::load(preset.id).unwrap();
            let file = brownout_sim::parse_scenario(preset.toml).unwrap();
            assert_eq!(experiment.scenario, file, "{}", preset.id);
            let variant = brownout_sim::lesson::variant(preset.toml).unwrap();
            assert_eq!(experiment.variant, variant, "{}", preset.id);
        }
    }

    #[wasm_bindgen_test]
    fn an_unknown_preset_is_named_with_the_known_ones() {
        let err = Experiment::load("nope").unwrap_err();
        assert!(err.contains("\"nope\"") && err.contains("retry-chain"), "{err}");
    }

    #[wasm_bindgen_test]
    fn the_run_answers_with_the_nearest_choice_once_its_time_has_come() {
        let mut scenario = Scenario::retry_chain();
        scenario.services[2].error_rate = 1.0;
        let question = Question {
            ask: "How many attempts reach payments?".into(),
            choices: vec![3.0, 9.0, 27.0],
            measure: Measure::Amplification { service: "payments".into() },
            after_s: 20.0,
        };
        let mut sim = Sim::new(scenario).unwrap();
        let log = EventLog::default();
        sim.advance_to(10 * SECOND);
        assert_eq!(answer(&question, &sim, &log), None, "too early to answer");
        sim.advance_to(30 * SECOND);
        let a = answer(&question, &sim, &log).expect("answered at 30 s");
        assert_eq!(a.nearest, 2);
        assert!((a.measured - 27.0).abs() < 0.5, "{}", a.measured);
        assert_eq!(show(&question.measure, 27.0), "27.0×");
    }
}
