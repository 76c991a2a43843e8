//! `brownout sweep`: one run per point of a grid of parameter values, one
//! CSV row per run.
//!
//! Every point is read and checked before the first one runs, so a typo in
//! the last value of a long sweep is reported at once rather than after an
//! hour. Points run on `jobs` threads, but rows are written in grid order,
//! each as soon as it and every row before it are done: the output is the
//! same whatever the number of threads.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use anyhow::{anyhow, bail, Context};
use brownout_sim::time::{from_secs, SECOND};
use brownout_sim::Scenario;

use crate::progress::Progress;
use crate::run::{ms, simulate};
use crate::source::{load, Source};
use brownout_sim::overrides::{parse_value, Override};

/// Largest grid a sweep accepts: past this, a typo in a list of values is
/// more likely than a wish to wait for so many runs.
const MAX_POINTS: usize = 100_000;

/// One parameter of the grid and the values it takes.
#[derive(Clone, Debug)]
pub struct Axis {
    pub path: String,
    /// The values as written, for the CSV, and as overrides.
    pub values: Vec<(String, Override)>,
}

impl Axis {
    /// Reads the argument of `--vary`: `path=v1,v2,...`.
    pub fn parse(arg: &str) -> Result<Axis, String> {
        let (path, list) = arg
            .split_once('=')
            .ok_or_else(|| format!("{arg:?} has no \"=\": expected PATH=V1,V2,..."))?;
        let path = path.trim().to_string();
        let values = list
            .split(',')
            .map(|value| {
                let value = value.trim();
                let label = format!("--vary {path}={value}");
                Override::new(label, &path, parse_value(value)).map(|o| (value.to_string(), o))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Axis { path, values })
    }
}

/// The points of the grid, as an index into each axis's values: the first
/// axis changes slowest, as in nested loops written in the same order.
fn grid(axes: &[Axis]) -> Vec<Vec<usize>> {
    let mut points = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|point| {
                (0..axis.values.len()).map(move |i| {
                    let mut point = point.clone();
                    point.push(i);
                    point
                })
            })
            .collect();
    }
    points
}

/// Runs the grid and writes its CSV to `out`.
pub fn sweep(
    source: &Source,
    base: &[Override],
    axes: &[Axis],
    jobs: usize,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let size = axes.iter().try_fold(1usize, |n, axis| n.checked_mul(axis.values.len()));
    match size {
        Some(n) if n <= MAX_POINTS => {}
        _ => bail!("the grid has more than {MAX_POINTS} points: sweep fewer values at once"),
    }
    let points = grid(axes);
    let scenarios = points
        .iter()
        .map(|point| {
            let mut overrides = base.to_vec();
            overrides.extend(axes.iter().zip(point).map(|(axis, &i)| axis.values[i].1.clone()));
            let label: Vec<String> = axes
                .iter()
                .zip(point)
                .map(|(axis, &i)| format!("{}={}", axis.path, axis.values[i].0))
                .collect();
            load(source, &overrides).with_context(|| format!("at {}", label.join(", ")))
        })
        .collect::<anyhow::Result<Vec<Scenario>>>()?;
    let Some(first) = scenarios.first() else { return Ok(()) };

    // The services of the first point name the columns; a point that lacks
    // one (a sweep that renames services, say) leaves its cells empty.
    let services: Vec<String> = first.services.iter().map(|s| s.name.clone()).collect();
    let mut csv = csv::Writer::from_writer(out);
    let mut header: Vec<String> = axes.iter().map(|axis| axis.path.clone()).collect();
    header.extend(
        ["client.requests", "client.success_rate", "client.p50_ms", "client.p99_ms"]
            .map(String::from),
    );
    for name in &services {
        header.push(format!("{name}.amplification"));
        header.push(format!("{name}.utilisation"));
    }
    csv.write_record(&header)?;

    let seconds: u64 = scenarios.iter().map(|s| from_secs(s.duration_s) / SECOND).sum();
    let progress = Progress::new(seconds, &format!("sweep of {} points", scenarios.len()));
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let result = std::thread::scope(|scope| -> anyhow::Result<()> {
        let (send, receive) = mpsc::channel();
        for _ in 0..jobs.clamp(1, scenarios.len()) {
            let send = send.clone();
            let (scenarios, services, next, stop, progress) =
                (&scenarios, &services, &next, &stop, &progress);
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= scenarios.len() || stop.load(Ordering::Relaxed) {
                    break;
                }
                let row = figures(scenarios[i].clone(), services, progress, stop);
                if send.send((i, row)).is_err() {
                    break;
                }
            });
        }
        drop(send);
        // Rows arrive in any order; each is written once all before it are.
        let mut waiting = BTreeMap::new();
        let mut written = 0;
        for (i, row) in receive {
            waiting.insert(i, row);
            while let Some(row) = waiting.remove(&written) {
                let write = row.and_then(|figures| {
                    let point = &points[written];
                    let mut record: Vec<String> =
                        axes.iter().zip(point).map(|(axis, &i)| axis.values[i].0.clone()).collect();
                    record.extend(figures);
                    csv.write_record(&record)?;
                    // A point takes a while: show each row as it is ready,
                    // for a reader watching the output.
                    csv.flush()?;
                    Ok(())
                });
                if let Err(error) = write {
                    // The other threads finish the second they are in.
                    stop.store(true, Ordering::Relaxed);
                    return Err(error);
                }
                written += 1;
            }
        }
        Ok(())
    });
    result?;
    csv.flush()?;
    Ok(())
}

/// Runs one point and returns its figures, in the order of the header.
fn figures(
    scenario: Scenario,
    services: &[String],
    progress: &Progress,
    stop: &AtomicBool,
) -> anyhow::Result<Vec<String>> {
    let sim = simulate(scenario, progress, |_, _| {
        if stop.load(Ordering::Relaxed) {
            Err(anyhow!("the sweep was stopped"))
        } else {
            Ok(())
        }
    })?;
    let report = sim.report();
    let c = &report.client;
    let mut row = vec![
        c.requests.to_string(),
        c.success_rate.map(|r| r.to_string()).unwrap_or_default(),
        ms(c.latency_ms, |p| p.p50),
        ms(c.latency_ms, |p| p.p99),
    ];
    for name in services {
        match report.services.iter().position(|s| &s.name == name) {
            // Amplification over settled requests: it counts each
            // request's own attempts, so it is exact where the plain ratio
            // of totals is off by the requests still in flight at the end.
            Some(i) => {
                row.push(sim.measured_amplification(i).map(|a| a.to_string()).unwrap_or_default());
                row.push(report.services[i].utilisation.to_string());
            }
            None => row.extend([String::new(), String::new()]),
        }
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_read_their_values() {
        let axis = Axis::parse("calls.orders.payments.retries=0, 1,2").unwrap();
        assert_eq!(axis.path, "calls.orders.payments.retries");
        let values: Vec<&str> = axis.values.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(values, ["0", "1", "2"]);
        assert!(Axis::parse("retries").unwrap_err().contains("PATH=V1,V2"));
        assert!(Axis::parse("a..b=1").unwrap_err().contains("not a valid path"));
    }

    #[test]
    fn the_first_axis_changes_slowest() {
        let axes = [Axis::parse("a=1,2").unwrap(), Axis::parse("b=x,y,z").unwrap()];
        assert_eq!(
            grid(&axes),
            [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]].map(Vec::from).to_vec()
        );
        assert_eq!(grid(&[]), vec![Vec::<usize>::new()]);
    }
}
