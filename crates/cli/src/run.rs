//! `brownout run`: one headless run, its report and its per-second series.
//!
//! A long run must not grow in memory, so nothing here holds the series:
//! the run advances one simulated second at a time, and each second is
//! written out as soon as the run has passed its end (the core keeps only
//! the last few minutes of seconds). The JSON around the elements is
//! written by hand for the same reason: serialising one value holding the
//! whole series would need the whole series.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::{anyhow, Context};
use brownout_sim::metrics::Percentiles;
use brownout_sim::time::{from_secs, SECOND};
use brownout_sim::{Scenario, SecondReport, Sim};

use crate::progress::Progress;

/// Where the per-second series goes.
pub enum Series<'a> {
    /// Into the JSON on standard output, as `"series"`.
    Json,
    /// Into a CSV file, leaving the JSON with the report alone.
    Csv(&'a Path),
    /// Nowhere.
    Omit,
}

/// Runs a scenario for its `duration_s`, calling `after_second` each time
/// the run passes the end of a whole simulated second (with that second's
/// number), and returns the simulation at the end.
///
/// A duration that is not a whole number of seconds ends with a part of a
/// second that is in the report but in no series element.
pub fn simulate(
    scenario: Scenario,
    progress: &Progress,
    mut after_second: impl FnMut(&Sim, u64) -> anyhow::Result<()>,
) -> anyhow::Result<Sim> {
    let end = from_secs(scenario.duration_s);
    let mut sim = Sim::new(scenario)?;
    for t in 0..end / SECOND {
        sim.advance_to((t + 1) * SECOND);
        after_second(&sim, t)?;
        progress.advance(1);
    }
    sim.advance_to(end);
    Ok(sim)
}

/// Runs the scenario and writes `{"series": [...], "report": {...}}` to
/// `out` (without `"series"` unless it goes there).
pub fn run(scenario: Scenario, series: Series<'_>, out: &mut dyn Write) -> anyhow::Result<()> {
    let progress = Progress::new(from_secs(scenario.duration_s) / SECOND, "run");
    let mut csv = match series {
        Series::Csv(path) => Some(SeriesCsv::create(path, &scenario)?),
        Series::Json | Series::Omit => None,
    };
    let json_series = matches!(series, Series::Json);

    if json_series {
        out.write_all(b"{\"series\":[")?;
    } else {
        out.write_all(b"{")?;
    }
    let sim = simulate(scenario, &progress, |sim, t| {
        if !json_series && csv.is_none() {
            return Ok(());
        }
        let second = sim
            .second_report(t)
            .ok_or_else(|| anyhow!("the figures of second {t} were not available"))?;
        if json_series {
            // One element per line: the output can be read line by line
            // as well as parsed whole.
            out.write_all(if t == 0 { b"\n" } else { b",\n" })?;
            serde_json::to_writer(&mut *out, &second)?;
        }
        if let Some(csv) = &mut csv {
            csv.write(&second)?;
        }
        Ok(())
    })?;
    if json_series {
        out.write_all(b"\n],\n")?;
    }
    out.write_all(b"\"report\":")?;
    serde_json::to_writer(&mut *out, &sim.report())?;
    out.write_all(b"}\n")?;
    out.flush()?;
    if let Some(csv) = csv {
        csv.finish()?;
    }
    Ok(())
}

/// The series as CSV: one row per second, one column per figure.
struct SeriesCsv {
    writer: csv::Writer<BufWriter<File>>,
    name: String,
    row: Vec<String>,
}

impl SeriesCsv {
    fn create(path: &Path, scenario: &Scenario) -> anyhow::Result<SeriesCsv> {
        let name = path.display().to_string();
        let file = File::create(path).with_context(|| format!("cannot create {name}"))?;
        let mut writer = csv::Writer::from_writer(BufWriter::new(file));
        let mut header: Vec<String> = [
            "t_s",
            "client.requests",
            "client.successes",
            "client.degraded",
            "client.errors",
            "client.timeouts",
            "client.rejections",
            "client.short_circuited",
            "client.bulkhead_full",
            "client.p50_ms",
            "client.p99_ms",
        ]
        .map(String::from)
        .into();
        for service in &scenario.services {
            for figure in SERVICE_COLUMNS {
                header.push(format!("{}.{figure}", service.name));
            }
        }
        writer.write_record(&header).with_context(|| format!("cannot write {name}"))?;
        Ok(SeriesCsv { writer, name, row: Vec::with_capacity(header.len()) })
    }

    fn write(&mut self, second: &SecondReport) -> anyhow::Result<()> {
        let row = &mut self.row;
        row.clear();
        let c = &second.client;
        row.push(second.t_s.to_string());
        let counts = [
            c.requests,
            c.successes,
            c.degraded,
            c.errors,
            c.timeouts,
            c.rejections,
            c.short_circuited,
            c.bulkhead_full,
        ];
        row.extend(counts.map(|n| n.to_string()));
        row.push(ms(second.client_latency_ms, |p| p.p50));
        row.push(ms(second.client_latency_ms, |p| p.p99));
        for s in &second.services {
            let n = &s.counts;
            row.extend(
                [n.attempts, n.successes, n.errors, n.timeouts, n.rejections.total()]
                    .map(|n| n.to_string()),
            );
            row.push(s.utilisation.to_string());
            row.push(ms(s.latency_ms, |p| p.p99));
        }
        self.writer.write_record(&*row).with_context(|| format!("cannot write {}", self.name))
    }

    fn finish(mut self) -> anyhow::Result<()> {
        self.writer.flush().with_context(|| format!("cannot write {}", self.name))
    }
}

/// The figures of each service in the CSV series, after its name and a dot.
const SERVICE_COLUMNS: [&str; 7] =
    ["attempts", "successes", "errors", "timeouts", "rejections", "utilisation", "p99_ms"];

/// A latency in milliseconds, or an empty cell when nothing was measured.
pub fn ms(latency: Option<Percentiles>, pick: impl Fn(&Percentiles) -> f64) -> String {
    latency.map(|p| pick(&p).to_string()).unwrap_or_default()
}
