//! `brownout`: runs Brownout scenario files from the command line.
//!
//! Standard output carries only data (JSON or CSV), so that it can be piped
//! into other tools; messages, problems and the progress bar go to standard
//! error. Every failure ends the program with a message and a non-zero exit
//! code, never a panic. The layouts of the outputs are documented in
//! `docs/runner.md`.

mod duration;
mod phase;
mod progress;
mod run;
mod source;
mod sweep;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use brownout_sim::file::parse_scenario;
use clap::{Args, Parser, Subcommand};
use toml::Value;

use crate::run::Series;
use crate::source::{load, Invalid, Source};
use crate::sweep::Axis;
use brownout_sim::overrides::Override;

/// Runs scenarios of Brownout, the distributed-systems reliability simulator.
#[derive(Parser)]
#[command(name = "brownout", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs a scenario headless and prints its report and per-second series
    /// as JSON.
    Run(RunArgs),
    /// Runs a scenario once per point of a grid of values and prints one CSV
    /// row per point.
    Sweep(SweepArgs),
    /// Checks a scenario file and lists every problem in it.
    Check(CheckArgs),
    /// Draws the phase map of a scenario's lesson (`[lesson.phase_map]`):
    /// one CSV row per size and length of its fault.
    Phase(PhaseArgs),
}

/// Changes to the scenario before it runs, in the order: every --set, then
/// --seed, then --duration.
#[derive(Args)]
struct Changes {
    /// Overrides a field of the scenario, as in `load.rate_per_sec=50`,
    /// `services.payments.error_rate=1`, `calls.orders.payments.retries=3`,
    /// `services[2].workers=8` or `calls[*].retries=2` (every call). May be
    /// repeated; a later one wins.
    #[arg(long = "set", value_name = "PATH=VALUE", value_parser = Override::parse_set)]
    sets: Vec<Override>,
    /// The seed of every random stream (default: the scenario's `seed`).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// How long to simulate, as in 600s, 1500ms, 10m, 24h or plain seconds
    /// (default: the scenario's `duration_s`).
    #[arg(long, value_name = "DURATION", value_parser = duration::parse)]
    duration: Option<duration::Duration>,
}

impl Changes {
    fn overrides(&self) -> Result<Vec<Override>, String> {
        let mut all = self.sets.clone();
        if let Some(seed) = self.seed {
            // TOML integers are signed 64-bit; the file reader refuses
            // larger seeds the same way.
            let value = i64::try_from(seed)
                .map_err(|_| format!("--seed {seed} is too large: expected 0 to {}", i64::MAX))?;
            all.push(Override::new(format!("--seed {seed}"), "seed", Value::Integer(value))?);
        }
        if let Some(duration) = &self.duration {
            let label = format!("--duration {duration}");
            all.push(Override::new(label, "duration_s", Value::Float(duration.seconds))?);
        }
        Ok(all)
    }
}

#[derive(Args)]
struct RunArgs {
    /// The scenario file (TOML), or `-` for standard input.
    file: PathBuf,
    #[command(flatten)]
    changes: Changes,
    /// Writes the per-second series to this CSV file instead of into the
    /// JSON.
    #[arg(long, value_name = "FILE", conflicts_with = "no_series")]
    csv: Option<PathBuf>,
    /// Leaves the per-second series out: the JSON holds the report alone.
    #[arg(long)]
    no_series: bool,
}

#[derive(Args)]
struct SweepArgs {
    /// The scenario file (TOML), or `-` for standard input.
    file: PathBuf,
    /// A field and the values it takes, as in `calls.orders.payments.retries=0,1,2`.
    /// Repeat for a grid: the first --vary changes slowest.
    #[arg(long, value_name = "PATH=V1,V2,...", value_parser = Axis::parse, required = true)]
    vary: Vec<Axis>,
    #[command(flatten)]
    changes: Changes,
    /// Points run at once, each on its own thread.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: u16,
}

#[derive(Args)]
struct PhaseArgs {
    /// The scenario file (TOML), or `-` for standard input.
    file: PathBuf,
    #[command(flatten)]
    changes: Changes,
}

#[derive(Args)]
struct CheckArgs {
    /// The scenario file (TOML), or `-` for standard input.
    file: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = BufWriter::new(stdout.lock());
    let result = match cli.command {
        Command::Run(args) => run(args, &mut out),
        Command::Sweep(args) => sweep(args, &mut out),
        Command::Check(args) => check(args, &mut out),
        Command::Phase(args) => phase(args, &mut out),
    };
    let result = result.and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            report(&error);
            ExitCode::FAILURE
        }
    }
}

fn run(args: RunArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    let overrides = args.changes.overrides().map_err(anyhow::Error::msg)?;
    let scenario = load(&source, &overrides)?;
    let series = match (&args.csv, args.no_series) {
        (Some(path), _) => Series::Csv(path),
        (None, true) => Series::Omit,
        (None, false) => Series::Json,
    };
    run::run(scenario, series, out)?;
    Ok(ExitCode::SUCCESS)
}

fn sweep(args: SweepArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    let base = args.changes.overrides().map_err(anyhow::Error::msg)?;
    sweep::sweep(&source, &base, &args.vary, args.jobs.into(), out)?;
    Ok(ExitCode::SUCCESS)
}

fn phase(args: PhaseArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    let overrides = args.changes.overrides().map_err(anyhow::Error::msg)?;
    let scenario = load(&source, &overrides)?;
    phase::phase(&scenario, out)?;
    Ok(ExitCode::SUCCESS)
}

fn check(args: CheckArgs, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let source = Source::read(&args.file)?;
    match parse_scenario(&source.text) {
        Ok(scenario) => {
            let (services, calls) = (scenario.services.len(), scenario.calls.len());
            writeln!(
                out,
                "{}: valid: {:?}, {}, {}",
                source.name,
                scenario.name,
                plural(services, "service"),
                plural(calls, "call")
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            print_problems(&Invalid::located(&source, &error));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// Prints an error to standard error: the problems of an invalid scenario
/// one per line, anything else on one line after `error:`.
fn report(error: &anyhow::Error) {
    // A closed pipe (`brownout run ... | head`) is the reader's choice,
    // not a failure worth a message.
    let broken_pipe = error.chain().any(|cause| {
        let kind = if let Some(e) = cause.downcast_ref::<io::Error>() {
            Some(e.kind())
        } else if let Some(e) = cause.downcast_ref::<serde_json::Error>() {
            e.io_error_kind()
        } else if let Some(csv::ErrorKind::Io(e)) =
            cause.downcast_ref::<csv::Error>().map(|e| e.kind())
        {
            Some(e.kind())
        } else {
            None
        };
        kind == Some(io::ErrorKind::BrokenPipe)
    });
    if broken_pipe {
        return;
    }
    let mut context = Vec::new();
    for cause in error.chain() {
        if let Some(invalid) = cause.downcast_ref::<Invalid>() {
            if !context.is_empty() {
                eprintln!("error: {}:", context.join(": "));
            }
            print_problems(invalid);
            return;
        }
        context.push(cause.to_string());
    }
    eprintln!("error: {}", context.join(": "));
}

fn print_problems(invalid: &Invalid) {
    let mut stderr = io::stderr().lock();
    for line in &invalid.lines {
        let _ = writeln!(stderr, "{line}");
    }
    let problems = plural(invalid.lines.len(), "problem");
    let _ = writeln!(stderr, "error: the scenario is invalid ({problems})");
}

/// "1 call", "3 calls".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
