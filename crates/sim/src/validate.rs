//! Checking a scenario before it runs.
//!
//! Every problem is collected, not only the first, and each names the field
//! it concerns, the value found and what would be accepted. A scenario that
//! passes can be run without any further check: the engine relies on it.

use std::collections::{HashMap, HashSet};
use std::fmt;

use crate::scenario::{Scenario, ServiceTime, CLIENT};

/// One thing wrong with a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// Where: a dotted path such as `services[2].workers`.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem found in a scenario.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("invalid scenario: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
pub struct ScenarioError {
    pub problems: Vec<Problem>,
}

#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { field: field.into(), message: message.into() });
    }

    /// A finite number within [min, max].
    fn range(&mut self, field: impl Into<String>, value: f64, min: f64, max: f64, unit: &str) {
        if !value.is_finite() || value < min || value > max {
            self.fail(field, format!("{value} is out of range: expected {min} to {max} {unit}"));
        }
    }

    /// A finite number above zero and at most max.
    fn positive(&mut self, field: impl Into<String>, value: f64, max: f64, unit: &str) {
        if !value.is_finite() || value <= 0.0 || value > max {
            self.fail(
                field,
                format!("{value} is out of range: expected more than 0, at most {max} {unit}"),
            );
        }
    }
}

/// Upper bounds that keep every duration and count far from overflow.
pub(crate) mod limits {
    /// Longest configurable duration: one day, in milliseconds.
    pub const MAX_MS: f64 = 86_400_000.0;
    pub const MAX_RATE: f64 = 1_000_000.0;
    pub const MAX_RETRIES: u32 = 10;
    pub const MAX_WORKERS: u32 = 100_000;
    pub const MAX_INSTANCES: u32 = 1_000;
    pub const MAX_QUEUE: u32 = 1_000_000;
    pub const MAX_SIGMA: f64 = 5.0;
    /// Longest run: a week of simulated time, in seconds.
    pub const MAX_DURATION_S: f64 = 604_800.0;
}

/// A lesson's question needs choices to pick from, a time to answer at,
/// and a measure that names what the scenario has.
fn check_question(c: &mut Checker, question: &crate::lesson::Question, scenario: &Scenario) {
    use crate::lesson::Measure;
    let at = |f: &str| format!("lesson.question.{f}");
    if question.choices.is_empty() {
        c.fail(at("choices"), "is empty: give at least two figures to choose from");
    }
    for (i, choice) in question.choices.iter().enumerate() {
        if !choice.is_finite() {
            c.fail(format!("lesson.question.choices[{i}]"), format!("{choice} is not a number"));
        }
    }
    c.positive(at("after_s"), question.after_s, limits::MAX_DURATION_S, "s");
    let service = |name: &str| scenario.services.iter().any(|s| s.name == name);
    match &question.measure {
        Measure::Amplification { service: name } if !service(name) => {
            c.fail(at("measure.service"), format!("{name:?} is not a service of this scenario"));
        }
        Measure::BreakerOpenings { from, to } => {
            let call = scenario.calls.iter().find(|call| &call.from == from && &call.to == to);
            match call {
                None => c.fail(at("measure"), format!("there is no call from {from:?} to {to:?}")),
                Some(call) if call.breaker.is_none() => c.fail(
                    at("measure"),
                    format!("the call from {from:?} to {to:?} has no breaker to count"),
                ),
                Some(_) => {}
            }
        }
        _ => {}
    }
}

/// Largest phase map: each point is a run of its own.
const MAX_PHASE_POINTS: usize = 400;

/// A lesson's phase map needs a fault to vary, sizes that fault accepts,
/// lengths, and a judged stretch inside each run.
fn check_phase_map(c: &mut Checker, spec: &crate::lesson::PhaseSpec, scenario: &Scenario) {
    let at = |f: &str| format!("lesson.phase_map.{f}");
    let faults = scenario.chaos.faults.len();
    if spec.fault >= faults {
        c.fail(
            at("fault"),
            format!("there is no fault {} to vary: chaos.faults has {faults}", spec.fault),
        );
    }
    if spec.sizes.is_empty() {
        c.fail(at("sizes"), "is empty: give at least one size");
    }
    if spec.lengths_s.is_empty() {
        c.fail(at("lengths_s"), "is empty: give at least one length");
    }
    if spec.sizes.len() * spec.lengths_s.len() > MAX_PHASE_POINTS {
        c.fail(
            at("sizes"),
            format!("the map has more than {MAX_PHASE_POINTS} points: give fewer sizes or lengths"),
        );
    }
    for (i, length) in spec.lengths_s.iter().enumerate() {
        c.positive(
            format!("lesson.phase_map.lengths_s[{i}]"),
            *length,
            limits::MAX_DURATION_S,
            "s",
        );
    }
    let run_s = spec.run_s.unwrap_or(scenario.duration_s);
    if let Some(run_s) = spec.run_s {
        c.positive(at("run_s"), run_s, limits::MAX_DURATION_S, "s");
    }
    c.positive(at("settle_s"), spec.settle_s, limits::MAX_DURATION_S, "s");
    if spec.settle_s.is_finite() && run_s.is_finite() && spec.settle_s > run_s {
        c.fail(
            at("settle_s"),
            format!("{} is longer than each run ({run_s} s): judge a part of it", spec.settle_s),
        );
    }
    c.range(at("threshold"), spec.threshold, 0.0, 1.0, "(a share)");
    if spec.fault >= faults {
        return;
    }
    // Each size must be one the fault accepts: the fault's own checks say.
    let Some(&length) = spec.lengths_s.iter().find(|l| l.is_finite() && **l > 0.0) else {
        return;
    };
    for (i, &size) in spec.sizes.iter().enumerate() {
        let Ok(point) = crate::phase::with_point(scenario, spec, size, length) else { continue };
        let mut problems = Vec::new();
        point.chaos.validate(&point.services, &point.calls, &mut problems);
        let prefix = format!("chaos.faults[{}].", spec.fault);
        for problem in problems.into_iter().filter(|p| p.field.starts_with(&prefix)) {
            let what = problem.field.trim_start_matches(&prefix);
            if what == "end_s" {
                continue;
            }
            c.fail(
                format!("lesson.phase_map.sizes[{i}]"),
                format!("as the fault's {what}: {}", problem.message),
            );
        }
    }
}

/// Checks a scenario; `Ok` means it can be run as it is.
pub fn validate(scenario: &Scenario) -> Result<(), ScenarioError> {
    let mut c = Checker::default();
    c.positive("duration_s", scenario.duration_s, limits::MAX_DURATION_S, "s");
    let rps = "requests per second";
    c.range("load.rate_per_sec", scenario.load.rate_per_sec, 0.0, limits::MAX_RATE, rps);
    let mut previous_at = 0.0;
    for (i, change) in scenario.load.schedule.iter().enumerate() {
        let at = |f: &str| format!("load.schedule[{i}].{f}");
        c.range(at("at_s"), change.at_s, 0.0, limits::MAX_DURATION_S, "s");
        if change.at_s < previous_at {
            let message = format!(
                "{} comes before the previous change at {previous_at}: list changes in time order",
                change.at_s
            );
            c.fail(at("at_s"), message);
        }
        previous_at = f64::max(previous_at, change.at_s);
        c.range(at("rate_per_sec"), change.rate_per_sec, 0.0, limits::MAX_RATE, rps);
        c.range(at("ramp_s"), change.ramp_s, 0.0, limits::MAX_DURATION_S, "s");
    }

    let mut names = HashMap::new();
    for (i, s) in scenario.services.iter().enumerate() {
        let at = |f: &str| format!("services[{i}].{f}");
        if s.name.is_empty() || s.name == CLIENT {
            c.fail(
                at("name"),
                format!(
                    "{:?} is not allowed: a service needs a name other than \"{CLIENT}\"",
                    s.name
                ),
            );
        } else if names.insert(s.name.as_str(), i).is_some() {
            c.fail(
                at("name"),
                format!("{:?} is used by an earlier service: names must be unique", s.name),
            );
        }
        if s.instances == 0 || s.instances > limits::MAX_INSTANCES {
            c.fail(
                at("instances"),
                format!("{} is out of range: expected 1 to {}", s.instances, limits::MAX_INSTANCES),
            );
        }
        if s.workers == 0 || s.workers > limits::MAX_WORKERS {
            c.fail(
                at("workers"),
                format!("{} is out of range: expected 1 to {}", s.workers, limits::MAX_WORKERS),
            );
        }
        if s.queue > limits::MAX_QUEUE {
            c.fail(
                at("queue"),
                format!("{} is out of range: expected 0 to {}", s.queue, limits::MAX_QUEUE),
            );
        }
        c.range(at("error_rate"), s.error_rate, 0.0, 1.0, "(a probability)");
        if let Some(autoscale) = &s.autoscale {
            autoscale.validate(&at("autoscale"), &mut c.problems);
        }
        if let Some(ms) = s.shed_after_queue_ms {
            c.range(at("shed_after_queue_ms"), ms, 0.0, limits::MAX_MS, "ms");
        }
        for (k, step) in s.script.iter().enumerate() {
            if let Some(ms) = step.ms {
                c.range(at(&format!("script[{k}].ms")), ms, 0.0, limits::MAX_MS, "ms");
            }
        }
        match s.service_time {
            ServiceTime::Fixed { ms } => {
                c.range(at("service_time.ms"), ms, 0.0, limits::MAX_MS, "ms")
            }
            ServiceTime::Exponential { mean_ms } => {
                c.positive(at("service_time.mean_ms"), mean_ms, limits::MAX_MS, "ms")
            }
            ServiceTime::LogNormal { median_ms, sigma } => {
                c.positive(at("service_time.median_ms"), median_ms, limits::MAX_MS, "ms");
                c.range(at("service_time.sigma"), sigma, 0.0, limits::MAX_SIGMA, "");
            }
        }
    }

    let mut client_calls = 0;
    let mut seen_edges = HashSet::new();
    for (i, call) in scenario.calls.iter().enumerate() {
        let at = |f: &str| format!("calls[{i}].{f}");
        if call.from == CLIENT {
            client_calls += 1;
        } else if !names.contains_key(call.from.as_str()) {
            c.fail(
                at("from"),
                format!("{:?} is not a service of this scenario (nor \"{CLIENT}\")", call.from),
            );
        }
        if !names.contains_key(call.to.as_str()) {
            c.fail(at("to"), format!("{:?} is not a service of this scenario", call.to));
        }
        if !seen_edges.insert((call.from.as_str(), call.to.as_str())) {
            c.fail(
                at("to"),
                format!("{} already calls {}: list each call once", call.from, call.to),
            );
        }
        c.range(at("latency_ms"), call.latency_ms, 0.0, limits::MAX_MS, "ms");
        c.positive(at("timeout_ms"), call.timeout_ms, limits::MAX_MS, "ms");
        c.range(at("backoff_ms"), call.backoff_ms, 0.0, limits::MAX_MS, "ms");
        if call.retries > limits::MAX_RETRIES {
            c.fail(
                at("retries"),
                format!("{} is out of range: expected 0 to {}", call.retries, limits::MAX_RETRIES),
            );
        }
        if let Some(deadline) = call.deadline_ms {
            c.positive(at("deadline_ms"), deadline, limits::MAX_MS, "ms");
        }
        let mut order = call.order.clone();
        order.sort_by_key(|layer| *layer as u8);
        order.dedup();
        if order.len() != 4 || call.order.len() != 4 {
            let names: Vec<String> =
                call.order.iter().map(|l| format!("{l:?}").to_lowercase()).collect();
            c.fail(
                at("order"),
                format!(
                    "[{}] is not an order of the four policies: list retry, breaker, bulkhead and timeout once each, outermost first",
                    names.join(", ")
                ),
            );
        }
        let field = format!("calls[{i}]");
        if let Some(backoff) = &call.backoff {
            backoff.validate(&format!("{field}.backoff"), &mut c.problems);
        }
        if let Some(breaker) = &call.breaker {
            breaker.validate(&format!("{field}.breaker"), &mut c.problems);
        }
        if let Some(bulkhead) = &call.bulkhead {
            bulkhead.validate(&format!("{field}.bulkhead"), &mut c.problems);
        }
        if let Some(budget) = &call.retry_budget {
            budget.validate(&format!("{field}.retry_budget"), &mut c.problems);
        }
        if let Some(outliers) = &call.outlier_detection {
            outliers.validate(&format!("{field}.outlier_detection"), &mut c.problems);
        }
    }
    if client_calls != 1 {
        c.fail("calls", format!("{client_calls} calls start at \"{CLIENT}\": exactly one must, to say where the load enters"));
    }
    scenario.chaos.validate(&scenario.services, &scenario.calls, &mut c.problems);
    if let Some(question) = scenario.lesson.as_ref().and_then(|l| l.question.as_ref()) {
        check_question(&mut c, question, scenario);
    }
    if let Some(spec) = scenario.lesson.as_ref().and_then(|l| l.phase_map.as_ref()) {
        check_phase_map(&mut c, spec, scenario);
    }
    if let Some(cycle) = find_cycle(scenario, &names) {
        c.fail(
            "calls",
            format!("the calls form a cycle ({}): a request would never finish", cycle.join(" → ")),
        );
    }

    if c.problems.is_empty() {
        Ok(())
    } else {
        Err(ScenarioError { problems: c.problems })
    }
}

/// A cycle among the calls, as the names along it, if there is one.
fn find_cycle(scenario: &Scenario, names: &HashMap<&str, usize>) -> Option<Vec<String>> {
    let n = scenario.services.len();
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for call in &scenario.calls {
        if let (Some(&a), Some(&b)) = (names.get(call.from.as_str()), names.get(call.to.as_str())) {
            out[a].push(b);
        }
    }
    // Depth-first search with colours: 0 unseen, 1 on the stack, 2 done.
    let mut colour = vec![0u8; n];
    let mut path = Vec::new();
    fn visit(
        v: usize,
        out: &[Vec<usize>],
        colour: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<usize> {
        colour[v] = 1;
        path.push(v);
        for &w in &out[v] {
            if colour[w] == 1 {
                return Some(w);
            }
            if colour[w] == 0 {
                if let Some(start) = visit(w, out, colour, path) {
                    return Some(start);
                }
            }
        }
        path.pop();
        colour[v] = 2;
        None
    }
    for v in 0..n {
        if colour[v] == 0 {
            if let Some(start) = visit(v, &out, &mut colour, &mut path) {
                let from = path.iter().position(|&x| x == start).unwrap_or(0);
                let mut names: Vec<String> =
                    path[from..].iter().map(|&i| scenario.services[i].name.clone()).collect();
                names.push(scenario.services[start].name.clone());
                return Some(names);
            }
        }
    }
    None
}
