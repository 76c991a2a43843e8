//! Phase maps: which triggers a system survives.
//!
//! A metastable failure is one that outlives its trigger: a short dip in
//! capacity starts a retry storm that keeps the system down after the dip
//! is over. Whether it does depends on how big the trigger is and how long
//! it lasts. A phase map runs one chaos fault of a scenario at every point
//! of a grid of sizes and lengths, each run for the same simulated time
//! with the same seed, and judges each run by the client's success share
//! over its last seconds: **recovered** at or above the threshold, **stuck**
//! below it.
//!
//! The map is computed a piece at a time ([`PhaseMap::step`]), so that the
//! page can fill it cell by cell between frames without freezing; the
//! runner's `brownout phase` runs it to the end. It is as deterministic as
//! any run: the same scenario gives the same map on every platform.

use crate::chaos::FaultKind;
use crate::lesson::PhaseSpec;
use crate::time::{from_secs, SECOND};
use crate::{Scenario, Sim};

/// How one point of the map ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CellOutcome {
    /// The share of client requests that ended in the judged seconds and
    /// were answered in full, from 0 to 1; 0 when none ended.
    pub success: f64,
    /// Whether `success` reached the threshold.
    pub recovered: bool,
}

/// One point of the map: a size, a length and, once run, its outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub size: f64,
    pub length_s: f64,
    pub outcome: Option<CellOutcome>,
}

/// A phase map being computed.
pub struct PhaseMap {
    base: Scenario,
    spec: PhaseSpec,
    /// Microseconds each point runs, and the second judging starts.
    run_us: u64,
    judge_from: u64,
    cells: Vec<Cell>,
    /// The cell under way and its simulation.
    next: usize,
    running: Option<Sim>,
}

/// The scenario with the spec's fault at this size, lasting `length_s`
/// from its start. `Err` when the spec names no fault of the scenario.
pub fn with_point(
    scenario: &Scenario,
    spec: &PhaseSpec,
    size: f64,
    length_s: f64,
) -> Result<Scenario, String> {
    let mut point = scenario.clone();
    let count = point.chaos.faults.len();
    let fault = point.chaos.faults.get_mut(spec.fault).ok_or_else(|| {
        format!("there is no fault {} to vary: chaos.faults has {count}", spec.fault)
    })?;
    match fault.kind {
        FaultKind::KillInstances => fault.count = Some(size.max(0.0).round() as u32),
        FaultKind::NetworkLoss => fault.share = Some(size),
        FaultKind::Latency => fault.added_ms = Some(size),
        FaultKind::CpuStress | FaultKind::Brownout => fault.factor = Some(size),
        FaultKind::Errors => fault.rate = Some(size),
    }
    fault.end_s = Some(fault.start_s + length_s);
    if let Some(run_s) = spec.run_s {
        point.duration_s = run_s;
    }
    // A map has no map.
    if let Some(lesson) = point.lesson.as_mut() {
        lesson.phase_map = None;
    }
    Ok(point)
}

impl PhaseMap {
    /// A map of `scenario` as `spec` describes it, with no cell run yet.
    /// `Err` when a point of the grid is not a valid scenario.
    pub fn new(scenario: &Scenario, spec: &PhaseSpec) -> Result<PhaseMap, String> {
        if spec.sizes.is_empty() || spec.lengths_s.is_empty() {
            return Err("the phase map needs at least one size and one length".into());
        }
        let mut cells = Vec::with_capacity(spec.sizes.len() * spec.lengths_s.len());
        for &size in &spec.sizes {
            for &length_s in &spec.lengths_s {
                let point = with_point(scenario, spec, size, length_s)?;
                crate::validate(&point).map_err(|e| {
                    format!("the point of size {size} and length {length_s} s: {e}")
                })?;
                cells.push(Cell { size, length_s, outcome: None });
            }
        }
        let run_s = spec.run_s.unwrap_or(scenario.duration_s);
        let run_us = from_secs(run_s);
        let judge_from = run_us.saturating_sub(from_secs(spec.settle_s)) / SECOND;
        Ok(PhaseMap {
            base: scenario.clone(),
            spec: spec.clone(),
            run_us,
            judge_from,
            cells,
            next: 0,
            running: None,
        })
    }

    /// Runs at most about `max_events` more events (at least one cell's
    /// setup, so that every call makes progress), and says whether every
    /// cell is done.
    pub fn step(&mut self, max_events: u64) -> bool {
        let mut left = max_events.max(1);
        while self.next < self.cells.len() {
            let sim = match self.running.as_mut() {
                Some(sim) => sim,
                None => {
                    let cell = self.cells[self.next];
                    let point = with_point(&self.base, &self.spec, cell.size, cell.length_s)
                        .expect("checked by new");
                    self.running = Some(Sim::new(point).expect("checked by new"));
                    self.running.as_mut().expect("just set")
                }
            };
            let before = sim.events_processed();
            let progress = sim.advance_to_within(self.run_us, left);
            left = left.saturating_sub(sim.events_processed() - before);
            if progress == crate::Progress::OutOfBudget {
                return false;
            }
            let outcome = judge(sim, self.run_us, self.judge_from, self.spec.threshold);
            self.cells[self.next].outcome = Some(outcome);
            self.running = None;
            self.next += 1;
            if left == 0 {
                break;
            }
        }
        self.is_done()
    }

    /// Runs every cell that is left.
    pub fn run(&mut self) {
        while !self.step(u64::MAX) {}
    }

    /// Whether every cell has its outcome.
    pub fn is_done(&self) -> bool {
        self.next == self.cells.len()
    }

    /// The cells, size by size (the sizes in the spec's order), each size's
    /// cells in the order of the lengths.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// The cell of the i-th size and j-th length.
    pub fn cell(&self, size: usize, length: usize) -> Option<&Cell> {
        if length >= self.spec.lengths_s.len() {
            return None;
        }
        self.cells.get(size * self.spec.lengths_s.len() + length)
    }

    pub fn sizes(&self) -> &[f64] {
        &self.spec.sizes
    }

    pub fn lengths(&self) -> &[f64] {
        &self.spec.lengths_s
    }

    /// Cells done so far.
    pub fn done(&self) -> usize {
        self.next
    }
}

/// The client's success share over the seconds from `from` to the end of a
/// run of `run_us`.
fn judge(sim: &Sim, run_us: u64, from: u64, threshold: f64) -> CellOutcome {
    let to = run_us.div_ceil(SECOND);
    let (mut ok, mut ended) = (0u64, 0u64);
    for (_, second) in sim.metrics().series().range(from, to) {
        let client = &second.counts.client;
        ok += client.successes;
        ended += client.finished();
    }
    let success = if ended == 0 { 0.0 } else { ok as f64 / ended as f64 };
    CellOutcome { success, recovered: ended > 0 && success >= threshold }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PhaseSpec {
        PhaseSpec {
            fault: 0,
            sizes: vec![1.0, 2.0],
            lengths_s: vec![1.0, 3.0, 5.0],
            run_s: Some(5.0),
            settle_s: 2.0,
            threshold: 0.9,
        }
    }

    fn scenario() -> Scenario {
        let mut scenario = Scenario::retry_chain();
        scenario.chaos.faults.push(crate::chaos::Fault {
            factor: Some(1.0),
            service: Some("payments".into()),
            ..crate::chaos::Fault::new(FaultKind::CpuStress, 1.0, Some(2.0))
        });
        scenario
    }

    #[test]
    fn a_point_sets_the_fault_size_and_length() {
        let point = with_point(&scenario(), &spec(), 2.0, 3.0).unwrap();
        let fault = &point.chaos.faults[0];
        assert_eq!((fault.factor, fault.end_s, point.duration_s), (Some(2.0), Some(4.0), 5.0));
        let mut bad = spec();
        bad.fault = 3;
        assert!(with_point(&scenario(), &bad, 2.0, 3.0).unwrap_err().contains("no fault 3"));
    }

    #[test]
    fn stepping_in_small_pieces_gives_the_same_map_as_one_go() {
        let mut whole = PhaseMap::new(&scenario(), &spec()).unwrap();
        whole.run();
        let mut pieces = PhaseMap::new(&scenario(), &spec()).unwrap();
        let mut steps = 0;
        while !pieces.step(100) {
            steps += 1;
            assert!(pieces.done() < pieces.cells().len());
        }
        assert!(steps > 6, "{steps}");
        assert_eq!(whole.cells(), pieces.cells());
        assert!(whole.cells().iter().all(|c| c.outcome.is_some()));
        assert_eq!(whole.cell(1, 2).unwrap().length_s, 5.0);
        assert_eq!(whole.cell(1, 2).unwrap().size, 2.0);
        assert!(whole.cell(0, 3).is_none());
    }

    #[test]
    fn an_invalid_point_is_refused() {
        let mut bad = spec();
        bad.sizes = vec![0.5];
        let err = PhaseMap::new(&scenario(), &bad).err().unwrap();
        assert!(err.contains("factor"), "{err}");
    }
}
