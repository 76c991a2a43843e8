//! `brownout phase`: the phase map of a scenario's lesson, one CSV row per
//! point of the grid.

use std::io::Write;

use anyhow::{anyhow, Context};
use brownout_sim::phase::PhaseMap;
use brownout_sim::Scenario;

/// Computes the map of `[lesson.phase_map]` and writes one row per point,
/// size by size, each size's lengths in order.
pub fn phase(scenario: &Scenario, out: &mut dyn Write) -> anyhow::Result<()> {
    let spec = scenario
        .lesson
        .as_ref()
        .and_then(|lesson| lesson.phase_map.as_ref())
        .ok_or_else(|| anyhow!("the scenario has no [lesson.phase_map] table to draw"))?;
    let mut map = PhaseMap::new(scenario, spec).map_err(anyhow::Error::msg)?;
    map.run();
    let mut csv = csv::Writer::from_writer(out);
    csv.write_record(["size", "length_s", "success", "recovered"])?;
    for cell in map.cells() {
        let outcome = cell.outcome.context("every cell has run")?;
        csv.write_record([
            cell.size.to_string(),
            cell.length_s.to_string(),
            format!("{:.4}", outcome.success),
            outcome.recovered.to_string(),
        ])?;
    }
    csv.flush()?;
    Ok(())
}
