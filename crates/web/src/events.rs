//! The page's log of decisions worth a line: breaker transitions,
//! exhausted retry budgets, and the chaos experiment's faults starting,
//! ending or being aborted by its steady-state hypothesis.
//!
//! The core keeps its most recent policy events (thousands, most of them
//! timeouts and retries). The page reads only the events that arrived since
//! its last look, once per frame, so that a frame costs what is new and not
//! what is kept. Budget refusals come in floods, one per refused retry, and
//! would push every breaker transition off a list of eight lines: a run of
//! refusals on one edge is therefore folded into one line with a count. The
//! line stays where the run began, so that lines never change places while
//! a class reads them.

use std::collections::VecDeque;

use brownout_sim::policy::breaker::BreakerState;
use brownout_sim::time::{Micros, SECOND};
use brownout_sim::{PolicyEventKind, Sim};

/// Lines kept and shown.
pub const LINES: usize = 8;

/// Breaker transitions and chaos marks kept for the charts and the detail
/// panel: far more than a run of several minutes makes, and still bounded.
pub const TIMELINE: usize = 4_096;

/// A change of state worth a mark on the charts' time axis.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mark {
    /// An edge's breaker entered a state.
    Breaker { edge: usize, from: BreakerState, to: BreakerState, failure_rate: Option<f64> },
    /// A chaos fault (its index in the scenario) began or ended.
    Fault { fault: usize, started: bool },
    /// The steady-state hypothesis failed and every fault was ended.
    Aborted { success_rate: f64 },
}

/// A refusal more than this long after the previous one on the same edge
/// starts a new line: the budget had recovered in between.
const RUN_GAP: Micros = SECOND;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum What {
    Breaker {
        from: BreakerState,
        to: BreakerState,
        failure_rate: Option<f64>,
    },
    /// Retries refused by the retry budget: how many, and when the last was.
    BudgetExhausted {
        refused: u32,
        until: Micros,
    },
    /// A chaos fault (its index in the scenario) began or ended.
    Fault {
        fault: usize,
        started: bool,
    },
    /// The steady-state hypothesis failed at this success share (0 to 1)
    /// and the experiment ended every fault.
    Aborted {
        success_rate: f64,
    },
}

/// One line of the log.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Line {
    pub at: Micros,
    /// The edge it happened on; `None` for the chaos experiment's lines.
    pub edge: Option<usize>,
    pub what: What,
}

/// The most recent breaker transition of an edge, for its badge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LastTransition {
    pub at: Micros,
    pub from: BreakerState,
    pub to: BreakerState,
    pub failure_rate: Option<f64>,
}

#[derive(Default)]
pub struct EventLog {
    /// Events the core had recorded, in total, at the last look.
    seen: u64,
    lines: VecDeque<Line>,
    /// Per edge, the last transition of its breaker.
    last_transition: Vec<Option<LastTransition>>,
    /// Per edge, how many times its breaker opened (from any state).
    openings: Vec<u64>,
    /// Breaker transitions and chaos marks, oldest first, at most
    /// [`TIMELINE`].
    timeline: VecDeque<(Micros, Mark)>,
    /// Chaos faults in force now, by index.
    active_faults: Vec<usize>,
    /// Calls refused at the caller (breaker open, bulkhead full) in the
    /// last simulated moments: when and on which edge, newest last.
    refusals: VecDeque<(Micros, usize)>,
}

/// How long a refused call is drawn bouncing off its edge, in simulated
/// time, and how many are kept for drawing.
pub const BOUNCE: Micros = 400 * brownout_sim::time::MILLISECOND;
const REFUSALS_KEPT: usize = 256;

impl EventLog {
    /// Reads the events recorded since the last call.
    pub fn update(&mut self, sim: &Sim) {
        let metrics = sim.metrics();
        let total = metrics.events_total();
        if total < self.seen {
            // A fresh simulation: its count started again from zero.
            self.clear();
        }
        let new = total - self.seen;
        self.seen = total;
        if new == 0 {
            return;
        }
        let events = metrics.events();
        // The core's log is a ring: the new events are its last `new` ones
        // (all of it, if more arrived than it keeps). Its iterator knows its
        // length, and skipping through it does not visit each event.
        let kept = match events.size_hint() {
            (low, Some(high)) if low == high => low,
            _ => metrics.events().count(),
        };
        let skip = kept.saturating_sub(usize::try_from(new).unwrap_or(usize::MAX));
        for event in events.skip(skip) {
            match event.kind {
                PolicyEventKind::FaultStarted { fault } => {
                    self.active_faults.push(fault);
                    self.mark(event.at_us, Mark::Fault { fault, started: true });
                    self.push(Line {
                        at: event.at_us,
                        edge: None,
                        what: What::Fault { fault, started: true },
                    });
                }
                PolicyEventKind::FaultEnded { fault } => {
                    if let Some(i) = self.active_faults.iter().position(|&f| f == fault) {
                        self.active_faults.swap_remove(i);
                    }
                    self.mark(event.at_us, Mark::Fault { fault, started: false });
                    self.push(Line {
                        at: event.at_us,
                        edge: None,
                        what: What::Fault { fault, started: false },
                    });
                }
                PolicyEventKind::ExperimentAborted { success_rate } => {
                    self.mark(event.at_us, Mark::Aborted { success_rate });
                    self.push(Line {
                        at: event.at_us,
                        edge: None,
                        what: What::Aborted { success_rate },
                    });
                }
                _ => {}
            }
            let Some(edge) = event.edge else { continue };
            match event.kind {
                PolicyEventKind::Breaker { from, to, failure_rate, .. } => {
                    if self.last_transition.len() <= edge {
                        self.last_transition.resize(edge + 1, None);
                    }
                    self.last_transition[edge] =
                        Some(LastTransition { at: event.at_us, from, to, failure_rate });
                    if self.openings.len() <= edge {
                        self.openings.resize(edge + 1, 0);
                    }
                    if to == BreakerState::Open {
                        self.openings[edge] += 1;
                    }
                    self.mark(event.at_us, Mark::Breaker { edge, from, to, failure_rate });
                    self.push(Line {
                        at: event.at_us,
                        edge: Some(edge),
                        what: What::Breaker { from, to, failure_rate },
                    });
                }
                PolicyEventKind::BudgetExhausted => self.budget_refusal(edge, event.at_us),
                PolicyEventKind::BreakerRejected | PolicyEventKind::BulkheadFull => {
                    if self.refusals.len() == REFUSALS_KEPT {
                        self.refusals.pop_front();
                    }
                    self.refusals.push_back((event.at_us, edge));
                }
                _ => {}
            }
        }
    }

    /// Folds a refusal into the latest run of its edge if that run is still
    /// going (its last refusal less than [`RUN_GAP`] ago), or starts a new
    /// line.
    fn budget_refusal(&mut self, edge: usize, at: Micros) {
        let run = self.lines.iter_mut().rev().find_map(|line| match &mut line.what {
            What::BudgetExhausted { refused, until } if line.edge == Some(edge) => {
                Some((refused, until))
            }
            _ => None,
        });
        if let Some((refused, until)) = run {
            if at <= until.saturating_add(RUN_GAP) {
                *refused += 1;
                *until = (*until).max(at);
                return;
            }
        }
        self.push(Line {
            at,
            edge: Some(edge),
            what: What::BudgetExhausted { refused: 1, until: at },
        });
    }

    fn mark(&mut self, at: Micros, mark: Mark) {
        if self.timeline.len() == TIMELINE {
            self.timeline.pop_front();
        }
        self.timeline.push_back((at, mark));
    }

    /// Breaker transitions and chaos marks, oldest first.
    pub fn timeline(&self) -> impl DoubleEndedIterator<Item = &(Micros, Mark)> {
        self.timeline.iter()
    }

    /// Calls refused at the caller within [`BOUNCE`] before `now`.
    pub fn recent_refusals(&self, now: Micros) -> impl Iterator<Item = &(Micros, usize)> {
        self.refusals.iter().filter(move |(at, _)| now.saturating_sub(*at) < BOUNCE)
    }

    /// The chaos faults in force, by their index in the scenario.
    pub fn active_faults(&self) -> &[usize] {
        &self.active_faults
    }

    /// How many times an edge's breaker has opened.
    pub fn openings(&self, edge: usize) -> u64 {
        self.openings.get(edge).copied().unwrap_or(0)
    }

    fn push(&mut self, line: Line) {
        if self.lines.len() == LINES {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// Forgets everything, for a restarted simulation.
    pub fn clear(&mut self) {
        *self = EventLog::default();
    }

    /// Forgets an edge's breaker history: its breaker was replaced, and a
    /// new breaker starts closed with nothing behind it.
    pub fn forget_breaker(&mut self, edge: usize) {
        if let Some(slot) = self.last_transition.get_mut(edge) {
            *slot = None;
        }
    }

    /// The lines, newest first.
    pub fn lines(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().rev()
    }

    pub fn last_transition(&self, edge: usize) -> Option<LastTransition> {
        self.last_transition.get(edge).copied().flatten()
    }
}

/// "OPEN", "HALF-OPEN": a state as the badge and the log write it.
pub fn state_name(state: BreakerState) -> &'static str {
    match state {
        BreakerState::Closed => "CLOSED",
        BreakerState::Open => "OPEN",
        BreakerState::HalfOpen => "HALF-OPEN",
    }
}

/// Why a breaker changed state, in a few words.
pub fn transition_cause(from: BreakerState, to: BreakerState, rate: Option<f64>) -> String {
    let rate = rate.map(|r| format!("{r:.0} %"));
    match (from, to, rate) {
        (BreakerState::Closed, BreakerState::Open, Some(r)) => {
            format!("{r} of recent calls failed")
        }
        (BreakerState::HalfOpen, BreakerState::Open, Some(r)) => {
            format!("{r} of trial calls failed")
        }
        (BreakerState::HalfOpen, BreakerState::Closed, Some(r)) => {
            format!("only {r} of trial calls failed")
        }
        (BreakerState::Open, BreakerState::HalfOpen, _) => "wait over: trial calls next".into(),
        (_, BreakerState::Open, None) => "failures".into(),
        (_, _, Some(r)) => format!("failure rate {r}"),
        (_, _, None) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use brownout_sim::time::MILLISECOND;
    use brownout_sim::{Scenario, Sim};
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;
    use crate::policies;

    /// The retry chain with payments always failing and the page's policies
    /// on, run for `seconds`, read by the log every `every` microseconds.
    fn run(seconds: u64, every: Micros, breaker: bool, budget: bool) -> (Sim, EventLog) {
        let mut sim = Sim::new(Scenario::retry_chain()).unwrap();
        sim.set_error_rate(2, 1.0).unwrap();
        policies::set_breaker(&mut sim, breaker).unwrap();
        policies::set_budget(&mut sim, budget).unwrap();
        let mut log = EventLog::default();
        let mut t = 0;
        while t < seconds * SECOND {
            t += every;
            sim.advance_to(t);
            log.update(&sim);
        }
        (sim, log)
    }

    #[wasm_bindgen_test]
    fn reading_each_frame_equals_reading_once() {
        let (_, every_frame) = run(6, 16 * MILLISECOND, true, true);
        let (sim, once) = run(6, 6 * SECOND, true, true);
        assert!(sim.metrics().events_total() < 10_000, "nothing was dropped by the core");
        assert_eq!(every_frame.lines().collect::<Vec<_>>(), once.lines().collect::<Vec<_>>());
        assert_eq!(every_frame.last_transition(2), once.last_transition(2));
    }

    #[wasm_bindgen_test]
    fn the_breaker_trips_on_failures_and_is_remembered() {
        let (_, log) = run(3, 50 * MILLISECOND, true, false);
        let last = log.last_transition(2).expect("the breaker changed state");
        assert_eq!((last.from, last.to), (BreakerState::Closed, BreakerState::Open));
        assert_eq!(last.failure_rate, Some(100.0));
        let first = log.lines().last().unwrap();
        assert!(matches!(first.what, What::Breaker { to: BreakerState::Open, .. }));
    }

    #[wasm_bindgen_test]
    fn budget_refusals_fold_into_one_line_per_run() {
        let (_, log) = run(5, 16 * MILLISECOND, false, true);
        let runs: Vec<(usize, u32)> = log
            .lines()
            .filter_map(|l| match l.what {
                What::BudgetExhausted { refused, .. } => Some((l.edge.unwrap(), refused)),
                _ => None,
            })
            .collect();
        // At 100 % errors the buckets never refill: one unbroken run per
        // edge, each of many refusals.
        assert!(!runs.is_empty() && runs.len() <= 3, "{runs:?}");
        assert!(runs.iter().all(|&(_, refused)| refused > 5), "{runs:?}");
        assert!(log.lines().count() <= LINES);
    }
}
