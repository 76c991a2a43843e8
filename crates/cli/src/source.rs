//! Reading a scenario file, with overrides, into a valid scenario or a list
//! of everything wrong with it.

use std::fmt;
use std::io::Read;
use std::path::Path;

use anyhow::Context;
use brownout_sim::file::{parse_scenario, FileError, FileProblem};
use brownout_sim::Scenario;
use toml::Table;

use brownout_sim::overrides::Override;

/// The text of a scenario file and the name to give it in messages.
pub struct Source {
    pub name: String,
    pub text: String,
}

impl Source {
    /// Reads a file, or standard input when the path is `-`.
    pub fn read(path: &Path) -> anyhow::Result<Source> {
        if path == Path::new("-") {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text).context("cannot read standard input")?;
            return Ok(Source { name: "<stdin>".into(), text });
        }
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {name}"))?;
        Ok(Source { name, text })
    }
}

/// A scenario that cannot be run, one problem per line, each starting with
/// the file's name.
#[derive(Debug)]
pub struct Invalid {
    pub lines: Vec<String>,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lines.join("\n"))
    }
}

impl std::error::Error for Invalid {}

impl Invalid {
    /// Problems found in the file as written: each has its line and column.
    pub fn located(source: &Source, error: &FileError) -> Invalid {
        Invalid { lines: error.problems.iter().map(|p| format!("{}: {p}", source.name)).collect() }
    }
}

/// Reads the scenario with the overrides applied in order (a later one wins
/// over an earlier one on the same field).
///
/// Without overrides the file's text is read as it is. With them, the
/// document is edited and written out again, which moves lines about: a
/// problem is then shown at its place in the file when the file has it too,
/// and otherwise with the override that caused it.
pub fn load(source: &Source, overrides: &[Override]) -> anyhow::Result<Scenario> {
    if overrides.is_empty() {
        return parse_scenario(&source.text).map_err(|e| Invalid::located(source, &e).into());
    }
    let mut doc: Table = match source.text.parse() {
        Ok(doc) => doc,
        // A syntax error: the file reader places it.
        Err(toml_error) => {
            return Err(match parse_scenario(&source.text) {
                Err(e) => Invalid::located(source, &e).into(),
                Ok(_) => anyhow::anyhow!("{}: {}", source.name, toml_error.message()),
            });
        }
    };
    let mut targets = Vec::with_capacity(overrides.len());
    for o in overrides {
        let written = o.apply(&mut doc).map_err(|why| anyhow::anyhow!("{o}: {why}"))?;
        targets.extend(written.into_iter().map(|target| (o, target)));
    }
    let edited = toml::to_string(&doc).context("cannot write the edited scenario out")?;
    let error = match parse_scenario(&edited) {
        Ok(scenario) => return Ok(scenario),
        Err(error) => error,
    };
    let in_file = parse_scenario(&source.text).err().map(|e| e.problems).unwrap_or_default();
    let lines = error
        .problems
        .iter()
        .map(|problem| {
            let by_override =
                targets.iter().rev().find(|(_, target)| within(&problem.field, target));
            if let Some((o, _)) = by_override {
                return format!("{}: {o}: {}", source.name, unlocated(problem));
            }
            let same = |p: &&FileProblem| p.field == problem.field && p.message == problem.message;
            match in_file.iter().find(same) {
                Some(p) => format!("{}: {p}", source.name),
                None => format!("{}: with the overrides: {}", source.name, unlocated(problem)),
            }
        })
        .collect();
    Err(Invalid { lines }.into())
}

/// Whether `field` is `target` or lies inside it.
fn within(field: &str, target: &str) -> bool {
    field
        .strip_prefix(target)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// A problem without its line and column, which belong to the edited text
/// and would mislead.
fn unlocated(problem: &FileProblem) -> String {
    if problem.field.is_empty() {
        problem.message.clone()
    } else {
        format!("{}: {}", problem.field, problem.message)
    }
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn fields_within_a_target() {
        assert!(within("services[2].error_rate", "services[2].error_rate"));
        assert!(within("services[2].service_time.ms", "services[2].service_time"));
        assert!(within("services[2].script[0].ms", "services[2].script"));
        assert!(!within("services[2].error_rate_x", "services[2].error_rate"));
        assert!(!within("services[20].name", "services[2]"));
    }
}
