//! The values of the page's controls, as one record: read back from a
//! running simulation, compared with an experiment's own, and applied to a
//! fresh one. This is what a shared link carries (see `address.rs`).
//!
//! Values are in the units the controls show: per cent, milliseconds,
//! requests per second. Reading rounds them to hundredths, so that a value
//! set from a slider reads back as the slider's number and not as the
//! nearest binary fraction of it.

use brownout_sim::{ParamError, Scenario, Sim};

use crate::policies;

/// Every control value of the page for one run.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub seed: u64,
    /// Error rate of the last service, per cent.
    pub error_pct: f64,
    /// Mean service time of the last service, milliseconds.
    pub latency_ms: f64,
    /// Client load, requests per second.
    pub load: f64,
    /// Retries per hop: the most any hop makes (the slider sets them all).
    pub retries: u32,
    /// Per-try timeout of the policy edge, milliseconds.
    pub timeout_ms: f64,
    pub breaker: bool,
    /// The breaker's failure-rate threshold, per cent: only for a breaker
    /// that is on and judges a failure rate.
    pub threshold: Option<f64>,
    /// The breaker's window (calls, or failures in a row), when it is on.
    pub window: Option<u32>,
    pub budget: bool,
    /// The backoff select's value (`policies::BACKOFF_CHOICES`).
    pub jitter: &'static str,
    /// The bulkhead size, for an experiment that has bulkheads.
    pub bulkhead: Option<u32>,
}

/// The top of the load slider for an experiment, in requests per second:
/// the page's usual bound, or twice the experiment's own rate if that is
/// more.
pub fn load_max(scenario: &Scenario) -> f64 {
    crate::LOAD_MAX.max(scenario.load.rate_per_sec * 2.0).ceil()
}

fn hundredths(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Settings {
    /// The values the controls show for a simulation.
    pub fn read(sim: &Sim) -> Settings {
        let scenario = sim.scenario();
        let last = scenario.services.len().saturating_sub(1);
        let choices = policies::Choices::read(sim);
        let knobs = policies::breaker_knobs(sim);
        Settings {
            seed: scenario.seed,
            error_pct: hundredths(
                scenario.services.get(last).map_or(0.0, |s| s.error_rate) * 100.0,
            ),
            latency_ms: hundredths(policies::last_service_time_ms(sim)),
            load: hundredths(scenario.load.rate_per_sec),
            retries: sim.edges().iter().map(|e| e.retries).max().unwrap_or(0),
            timeout_ms: hundredths(choices.timeout_ms),
            breaker: choices.breaker,
            threshold: knobs.and_then(|k| k.0).map(hundredths),
            window: knobs.map(|k| k.1),
            budget: choices.budget,
            jitter: choices.backoff,
            bulkhead: policies::bulkhead_size(sim),
        }
    }

    /// What differs from `from` (the experiment's own settings), in words
    /// ("breaker off", "load 30 req/s"; an entry may hold a comma, so a
    /// list of them is joined with semicolons), in the order the controls come;
    /// empty when nothing but the seed does. A lesson's question and its
    /// panes' names are about the experiment as set: the page says when the
    /// run in front of the reader is not that.
    pub fn differences(&self, from: &Settings) -> Vec<String> {
        let on = |b: bool| if b { "on" } else { "off" };
        let mut out = Vec::new();
        if self.error_pct != from.error_pct {
            out.push(format!("error rate {} %", self.error_pct));
        }
        if self.latency_ms != from.latency_ms {
            out.push(format!("service time {} ms", self.latency_ms));
        }
        if self.load != from.load {
            out.push(format!("load {} req/s", self.load));
        }
        if self.retries != from.retries {
            let word = if self.retries == 1 { "retry" } else { "retries" };
            out.push(format!("{} {word} per hop", self.retries));
        }
        if self.timeout_ms != from.timeout_ms {
            out.push(format!("timeout {} ms", self.timeout_ms));
        }
        if self.breaker != from.breaker {
            out.push(format!("breaker {}", on(self.breaker)));
        } else if self.breaker {
            if let (Some(t), true) = (self.threshold, self.threshold != from.threshold) {
                out.push(format!("breaker opens at {t} %"));
            }
            if let (Some(w), true) = (self.window, self.window != from.window) {
                out.push(format!("breaker window {w}"));
            }
        }
        if self.budget != from.budget {
            out.push(format!("retry budget {}", on(self.budget)));
        }
        if self.jitter != from.jitter {
            let label = policies::BACKOFF_CHOICES
                .iter()
                .find(|(value, _, _)| *value == self.jitter)
                .map_or(self.jitter, |(_, label, _)| label);
            out.push(format!("backoff {label}"));
        }
        if let (Some(b), true) = (self.bulkhead, self.bulkhead != from.bulkhead) {
            out.push(format!("bulkhead size {b}"));
        }
        out
    }

    /// Changes a simulation whose controls read `from` so that they read
    /// `self`, one control at a time as a user would, touching only those
    /// that differ (setting the load, say, replaces the scenario's schedule
    /// of rates, which must stay when the load is left alone). The seed is
    /// not applied here: a new seed is a new run (see `App::restart`).
    pub fn apply(&self, sim: &mut Sim, from: &Settings) -> Result<(), ParamError> {
        let last = sim.scenario().services.len().saturating_sub(1);
        if self.error_pct != from.error_pct {
            sim.set_error_rate(last, self.error_pct / 100.0)?;
        }
        if self.latency_ms != from.latency_ms {
            sim.set_mean_service_time(last, self.latency_ms)?;
        }
        if self.load != from.load {
            sim.set_load(self.load)?;
        }
        if self.retries != from.retries {
            sim.set_retries(self.retries)?;
        }
        if self.timeout_ms != from.timeout_ms {
            policies::set_timeout(sim, self.timeout_ms)?;
        }
        // TODO: a link records the breaker's switch, threshold and window,
        // not which breaker it was: after switching an experiment's own
        // breaker off and on (which puts the page's teaching breaker in its
        // place), the link reopens with the experiment's breaker and the
        // linked threshold and window, its other settings the experiment's.
        if self.breaker != from.breaker {
            policies::set_breaker(sim, self.breaker)?;
        }
        // The knobs as the breaker now on has them: its own, or the page's.
        // Only a knob that changed is set: a comparison pane whose breaker
        // differs from the experiment's (another kind, another window)
        // keeps its own unless the user moved that knob.
        let knobs = policies::breaker_knobs(sim);
        if self.threshold != from.threshold || self.breaker != from.breaker {
            if let (Some(t), Some((Some(now), _))) = (self.threshold, knobs) {
                if t != hundredths(now) {
                    policies::set_breaker_threshold(sim, t)?;
                }
            }
        }
        if self.window != from.window || self.breaker != from.breaker {
            if let (Some(w), Some((_, now))) = (self.window, knobs) {
                if w != now {
                    policies::set_breaker_window(sim, w)?;
                }
            }
        }
        if self.budget != from.budget {
            policies::set_budget(sim, self.budget)?;
        }
        if self.jitter != from.jitter {
            policies::set_backoff(sim, self.jitter)?;
        }
        if let (Some(size), true) = (self.bulkhead, self.bulkhead != from.bulkhead) {
            policies::set_bulkhead_size(sim, size)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use brownout_sim::Scenario;
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn applied_settings_read_back_as_set() {
        let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
        let before = Settings::read(&sim);
        assert_eq!((before.retries, before.breaker, before.jitter), (2, false, "off"));
        let wanted = Settings {
            error_pct: 29.0,
            latency_ms: 37.0,
            load: 55.0,
            retries: 3,
            timeout_ms: 450.0,
            breaker: true,
            threshold: Some(35.0),
            window: Some(12),
            budget: true,
            jitter: "full",
            ..before.clone()
        };
        wanted.apply(&mut sim, &before).unwrap();
        assert_eq!(Settings::read(&sim), wanted);
    }

    #[wasm_bindgen_test]
    fn the_differences_from_the_experiment_are_named() {
        let sim = Sim::new(Scenario::retry_chain()).unwrap();
        let set = Settings::read(&sim);
        let reseeded = Settings { seed: set.seed + 1, ..set.clone() };
        assert!(reseeded.differences(&set).is_empty(), "a seed is the same experiment");
        let changed = Settings {
            load: 30.0,
            retries: 1,
            breaker: true,
            threshold: Some(35.0),
            budget: true,
            jitter: "none",
            ..set.clone()
        };
        assert_eq!(
            changed.differences(&set),
            [
                "load 30 req/s",
                "1 retry per hop",
                "breaker on",
                "retry budget on",
                "backoff exponential, no jitter"
            ]
        );
        // A breaker on in both: its knobs are what differs.
        let knobs = Settings { threshold: Some(20.0), ..changed.clone() };
        assert_eq!(knobs.differences(&changed), ["breaker opens at 20 %"]);
    }

    /// A link's settings, read off the experiment's pane, are applied to
    /// both panes: the comparison pane, whose breaker is another kind with
    /// another window, keeps its own breaker when the link leaves the knobs
    /// alone, and takes a knob the user moved.
    #[wasm_bindgen_test]
    fn the_comparison_pane_keeps_its_own_breaker_unless_a_knob_moved() {
        let experiment = crate::lab::Experiment::load("breaker-noise").unwrap();
        let main = Sim::new(experiment.scenario.clone()).unwrap();
        let mut variant = Sim::new(experiment.variant.clone().unwrap()).unwrap();
        let own = policies::breaker_knobs(&variant);
        let linked = Settings::read(&main);
        assert_ne!(policies::breaker_knobs(&main), own, "the panes differ in their breaker");
        linked.apply(&mut variant, &linked).unwrap();
        assert_eq!(policies::breaker_knobs(&variant), own);

        let moved = Settings { window: linked.window.map(|w| w + 7), ..linked.clone() };
        moved.apply(&mut variant, &linked).unwrap();
        let (_, window) = policies::breaker_knobs(&variant).unwrap();
        assert_eq!(Some(window), moved.window);
    }

    /// What the page does with a link, twice, and what its loop does: the
    /// settings applied to a fresh run, then a new run from the live
    /// scenario with the link's seed. All three runs are the same run.
    #[wasm_bindgen_test]
    fn a_links_run_is_the_same_every_time_and_after_a_loop() {
        use brownout_sim::time::SECOND;

        let open = || {
            let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
            let from = Settings::read(&sim);
            let wanted =
                Settings { error_pct: 60.0, retries: 3, budget: true, seed: 9, ..from.clone() };
            wanted.apply(&mut sim, &from).unwrap();
            let mut scenario = sim.scenario().clone();
            scenario.seed = wanted.seed;
            Sim::new(scenario).unwrap()
        };
        let digest_at_20s = |mut sim: Sim| {
            sim.advance_to(20 * SECOND);
            sim.metrics().totals().digest()
        };
        let first = open();
        let looped = Sim::new(first.scenario().clone()).unwrap();
        let digest = digest_at_20s(first);
        assert_eq!(digest_at_20s(open()), digest, "the same link, opened again");
        assert_eq!(digest_at_20s(looped), digest, "the run after a loop");
        let plain = Sim::new(Scenario::retry_chain()).unwrap();
        assert_ne!(digest_at_20s(plain), digest, "the settings do change the run");
    }
}
