//! `--set path=value` and `unset path`: changes to a scenario made on its
//! TOML document before it is read. The runner's `--set` and a lesson's
//! comparison variant ([`crate::lesson::Compare`]) both use them.
//!
//! Editing the document rather than the [`brownout_sim::Scenario`] means a
//! value given on the command line goes through exactly the checks a value
//! in the file does: its type, its range and the cross-field rules, with the
//! same messages. The runner only has to find the place to write it.
//!
//! A path is a series of keys separated by dots, each optionally followed by
//! array indices: `load.rate_per_sec`, `services[2].error_rate`,
//! `load.schedule[0].at_s`. Arrays of services can also be entered by name
//! (`services.payments.error_rate`) and arrays of calls by the caller's and
//! the callee's names (`calls.orders.payments.retries`), which keeps a
//! command line readable and stable when the file's order changes; `[*]`
//! stands for every item of an array (`calls[*].retries`). A key that is not
//! a bare word can be written in double quotes.

use std::fmt;

use toml::{Table, Value};

/// One step along a path.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    /// `[*]`: every item of an array.
    All,
}

/// A change to make to a scenario document.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// How the user wrote it, to name it in messages.
    pub label: String,
    steps: Vec<Step>,
    /// The value to write; `None` removes the field, so that its default
    /// applies.
    value: Option<Value>,
}

impl fmt::Display for Override {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label)
    }
}

impl Override {
    /// Reads the argument of `--set`: `path=value`.
    pub fn parse_set(arg: &str) -> Result<Override, String> {
        let (path, value) = arg
            .split_once('=')
            .ok_or_else(|| format!("{arg:?} has no \"=\": expected PATH=VALUE"))?;
        Override::new(format!("--set {arg}"), path, parse_value(value))
    }

    /// An override of the field at `path`, named `label` in messages.
    pub fn new(label: String, path: &str, value: Value) -> Result<Override, String> {
        let steps = parse_path(path.trim())?;
        Ok(Override { label, steps, value: Some(value) })
    }

    /// A removal of the field at `path`: the file then reads as if the
    /// field had never been written. Removing a field that is not there
    /// changes nothing.
    pub fn unset(label: String, path: &str) -> Result<Override, String> {
        let steps = parse_path(path.trim())?;
        Ok(Override { label, steps, value: None })
    }

    /// Writes the value into the document, creating the tables on the way
    /// that are missing (a `[load]` table left to its defaults, say).
    ///
    /// Returns the paths of the fields written, in the form the file reader
    /// uses in its messages (`services[2].error_rate`), so that a problem it
    /// finds can be traced back to this override; `[*]` makes more than
    /// one. A path that leads nowhere is an error naming what exists at the
    /// point where it went wrong.
    pub fn apply(&self, doc: &mut Table) -> Result<Vec<String>, String> {
        let mut targets = Vec::new();
        // Paths start with a key, so the top stays a table whatever happens.
        let mut top = Value::Table(std::mem::take(doc));
        let result = set_in(&mut top, &self.steps, String::new(), &self.value, &mut targets);
        if let Value::Table(table) = top {
            *doc = table;
        }
        result.map(|()| targets)
    }
}

/// Follows `steps` from `here`, which is at path `at`, writes `value` at the
/// end and records where it wrote in `targets`.
fn set_in(
    here: &mut Value,
    steps: &[Step],
    at: String,
    value: &Option<Value>,
    targets: &mut Vec<String>,
) -> Result<(), String> {
    let Some((step, rest)) = steps.split_first() else {
        let Some(value) = value else {
            return Err(format!("{} is an item of an array: it cannot be removed", shown(&at)));
        };
        *here = value.clone();
        targets.push(at);
        return Ok(());
    };
    match here {
        Value::Table(table) => {
            let Step::Key(key) = step else {
                return Err(format!(
                    "{} is a table, not an array: it has no item {}",
                    shown(&at),
                    show_step(step)
                ));
            };
            let at = join(&at, key);
            // A missing table can be made: the fields of every table in a
            // scenario have defaults. A missing array cannot be indexed.
            if !table.contains_key(key) && matches!(rest.first(), Some(Step::Index(_) | Step::All))
            {
                return Err(format!("{at} is not in the file, so it has no items"));
            }
            if rest.is_empty() {
                match value {
                    Some(value) => table.insert(key.clone(), value.clone()),
                    None => table.remove(key),
                };
                targets.push(at);
                return Ok(());
            }
            // Nothing to remove below a table that is not there; making it
            // would add what the removal meant to take away.
            if value.is_none() && !table.contains_key(key) {
                return Ok(());
            }
            let next = table.entry(key.clone()).or_insert_with(|| Value::Table(Table::new()));
            set_in(next, rest, at, value, targets)
        }
        Value::Array(items) if *step == Step::All => {
            if items.is_empty() {
                return Err(format!("{at} is empty: [*] matches no item"));
            }
            for (i, item) in items.iter_mut().enumerate() {
                set_in(item, rest, format!("{at}[{i}]"), value, targets)?;
            }
            Ok(())
        }
        Value::Array(items) => {
            let (index, used) = select(items, steps, &at)?;
            set_in(&mut items[index], &steps[used..], format!("{at}[{index}]"), value, targets)
        }
        other => {
            Err(format!("{at} is {}, so it has no field {}", describe(other), show_step(step)))
        }
    }
}

/// Picks an item of an array by the first steps of a path, and says how many
/// steps that took.
fn select(items: &[Value], steps: &[Step], at: &str) -> Result<(usize, usize), String> {
    match &steps[0] {
        // The caller expands `[*]` itself; this only keeps the match whole.
        Step::All => Err(format!("{at}[*] cannot pick one item")),
        Step::Index(i) if *i < items.len() => Ok((*i, 1)),
        Step::Index(i) => Err(match items.len() {
            0 => format!("{at} is empty: it has no item {i}"),
            n => format!("{at} has {n} items, [0] to [{}]: it has no item {i}", n - 1),
        }),
        Step::Key(name) if items.iter().any(|item| field(item, "from").is_some()) => {
            // Calls are named by their two ends.
            let Some(Step::Key(to)) = steps.get(1) else {
                return Err(format!(
                    "{at}.{} names a caller: add the callee, as in {at}.FROM.TO.field",
                    quote_key(name)
                ));
            };
            let found = items.iter().position(|item| {
                field(item, "from") == Some(name.as_str()) && field(item, "to") == Some(to)
            });
            found.map(|i| (i, 2)).ok_or_else(|| {
                let calls: Vec<String> = items
                    .iter()
                    .map(|item| {
                        format!(
                            "{}.{}",
                            quote_key(field(item, "from").unwrap_or("?")),
                            quote_key(field(item, "to").unwrap_or("?"))
                        )
                    })
                    .collect();
                format!(
                    "{at} has no call from {name:?} to {to:?}: the calls are {}",
                    calls.join(", ")
                )
            })
        }
        Step::Key(name) => {
            let found = items.iter().position(|item| field(item, "name") == Some(name.as_str()));
            found.map(|i| (i, 1)).ok_or_else(|| {
                let names: Vec<String> =
                    items.iter().filter_map(|item| field(item, "name")).map(quote_key).collect();
                if names.is_empty() {
                    format!("{at} is an array whose items have no names: use an index, {at}[0]")
                } else {
                    format!("{at} has no item named {name:?}: the names are {}", names.join(", "))
                }
            })
        }
    }
}

/// A string field of a table value.
fn field<'a>(item: &'a Value, key: &str) -> Option<&'a str> {
    item.as_table()?.get(key)?.as_str()
}

/// Reads a value as TOML (`50`, `0.5`, `"text"`, `[1, 2]`, `{ kind =
/// "fixed", ms = 5 }`), or as a plain string when it is not TOML, so that
/// `--set load.arrivals=constant` needs no shell-quoted quotes.
pub fn parse_value(text: &str) -> Value {
    let text = text.trim();
    format!("value = {text}")
        .parse::<Table>()
        .ok()
        .and_then(|mut table| table.remove("value"))
        .unwrap_or_else(|| Value::String(text.to_string()))
}

fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let bad = |why: &str| format!("{path:?} is not a valid path: {why}");
    if path.is_empty() {
        return Err(bad("it is empty"));
    }
    let mut steps = Vec::new();
    let mut chars = path.chars().peekable();
    loop {
        // A key: bare or quoted.
        let key = if chars.peek() == Some(&'"') {
            chars.next();
            let mut key = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => key.extend(chars.next()),
                    Some(c) => key.push(c),
                    None => return Err(bad("a quoted key is not closed")),
                }
            }
            key
        } else {
            let mut key = String::new();
            while let Some(&c) = chars.peek() {
                if c == '.' || c == '[' {
                    break;
                }
                key.push(c);
                chars.next();
            }
            if key.is_empty() {
                return Err(bad("a key is missing"));
            }
            key
        };
        steps.push(Step::Key(key));
        // Indices after the key.
        while chars.peek() == Some(&'[') {
            chars.next();
            let mut digits = String::new();
            loop {
                match chars.next() {
                    Some(']') => break,
                    Some(c) => digits.push(c),
                    None => return Err(bad("a \"[\" is not closed")),
                }
            }
            if digits.trim() == "*" {
                steps.push(Step::All);
                continue;
            }
            let index = digits.trim().parse().map_err(|_| {
                bad(&format!("[{digits}] is not an index: expected a whole number from 0, or *"))
            })?;
            steps.push(Step::Index(index));
        }
        match chars.next() {
            None => return Ok(steps),
            Some('.') => {}
            Some(c) => return Err(bad(&format!("expected \".\" or \"[\" before {c:?}"))),
        }
    }
}

/// A path with a key appended, the way the file reader writes paths: the
/// key bare when it is a bare TOML key, quoted otherwise.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        quote_key(key)
    } else {
        format!("{path}.{}", quote_key(key))
    }
}

fn quote_key(key: &str) -> String {
    let bare =
        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

fn show_step(step: &Step) -> String {
    match step {
        Step::Key(key) => quote_key(key),
        Step::Index(i) => format!("[{i}]"),
        Step::All => "[*]".to_string(),
    }
}

/// The place a path has reached, for messages: the top of the document has
/// no path of its own.
fn shown(path: &str) -> &str {
    if path.is_empty() {
        "the top of the scenario"
    } else {
        path
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => format!("the string {s:?}"),
        Value::Integer(i) => format!("the number {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::Boolean(b) => format!("the boolean {b}"),
        Value::Datetime(d) => format!("the date-time {d}"),
        Value::Array(_) => "an array".to_string(),
        Value::Table(_) => "a table".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"
seed = 1
[[services]]
name = "orders"
[[services]]
name = "payments"
error_rate = 0.1
[[calls]]
from = "client"
to = "orders"
[[calls]]
from = "orders"
to = "payments"
"#;

    fn apply(set: &str) -> Result<(String, Table), String> {
        let mut doc: Table = DOC.parse().unwrap();
        let resolved = Override::parse_set(set)?.apply(&mut doc)?;
        Ok((resolved.join(" "), doc))
    }

    fn get<'a>(doc: &'a Table, path: &[&str]) -> &'a Value {
        let mut value = &doc[path[0]];
        for key in &path[1..] {
            value = match key.parse::<usize>() {
                Ok(i) => &value[i],
                Err(_) => &value[*key],
            };
        }
        value
    }

    #[test]
    fn values_are_toml_or_else_strings() {
        assert_eq!(parse_value("50"), Value::Integer(50));
        assert_eq!(parse_value("0.5"), Value::Float(0.5));
        assert_eq!(parse_value("constant"), Value::String("constant".into()));
        assert_eq!(parse_value("\"a b\""), Value::String("a b".into()));
        assert!(parse_value("nan").as_float().unwrap().is_nan());
        assert!(parse_value("{ kind = \"fixed\", ms = 5 }").is_table());
    }

    #[test]
    fn top_level_and_missing_tables() {
        let (path, doc) = apply("seed=7").unwrap();
        assert_eq!((path.as_str(), &doc["seed"]), ("seed", &Value::Integer(7)));
        let (path, doc) = apply("load.rate_per_sec=50").unwrap();
        assert_eq!(path, "load.rate_per_sec");
        assert_eq!(get(&doc, &["load", "rate_per_sec"]), &Value::Integer(50));
    }

    #[test]
    fn services_by_name_and_by_index() {
        let (path, doc) = apply("services.payments.error_rate=1").unwrap();
        assert_eq!(path, "services[1].error_rate");
        assert_eq!(get(&doc, &["services", "1", "error_rate"]), &Value::Integer(1));
        let (path, doc) = apply("services[0].workers=3").unwrap();
        assert_eq!(path, "services[0].workers");
        assert_eq!(get(&doc, &["services", "0", "workers"]), &Value::Integer(3));
        let (path, _) = apply("services.payments.service_time.mean_ms=3").unwrap();
        assert_eq!(path, "services[1].service_time.mean_ms");
    }

    #[test]
    fn calls_by_both_ends() {
        let (path, doc) = apply("calls.orders.payments.retries=3").unwrap();
        assert_eq!(path, "calls[1].retries");
        assert_eq!(get(&doc, &["calls", "1", "retries"]), &Value::Integer(3));
        let (path, _) = apply("calls.client.orders.timeout_ms=5").unwrap();
        assert_eq!(path, "calls[0].timeout_ms");
    }

    #[test]
    fn every_item_at_once() {
        let (path, doc) = apply("calls[*].retries=2").unwrap();
        assert_eq!(path, "calls[0].retries calls[1].retries");
        assert_eq!(get(&doc, &["calls", "0", "retries"]), &Value::Integer(2));
        assert_eq!(get(&doc, &["calls", "1", "retries"]), &Value::Integer(2));
        let err = apply("load.schedule[*].at_s=1").unwrap_err();
        assert!(err.contains("load.schedule is not in the file"), "{err}");
    }

    #[test]
    fn whole_items_can_be_replaced() {
        let (path, doc) = apply("services[1]={ name = \"p\" }").unwrap();
        assert_eq!(path, "services[1]");
        assert_eq!(get(&doc, &["services", "1", "name"]), &Value::String("p".into()));
    }

    #[test]
    fn paths_that_lead_nowhere_say_what_exists() {
        let err = apply("services.paymnts.error_rate=1").unwrap_err();
        assert!(err.contains("no item named \"paymnts\""), "{err}");
        assert!(err.contains("orders, payments"), "{err}");
        let err = apply("services[5].error_rate=1").unwrap_err();
        assert!(err.contains("services has 2 items, [0] to [1]"), "{err}");
        let err = apply("calls.orders.gateway.retries=1").unwrap_err();
        assert!(err.contains("client.orders, orders.payments"), "{err}");
        let err = apply("calls.orders=1").unwrap_err();
        assert!(err.contains("add the callee"), "{err}");
        let err = apply("seed.x=1").unwrap_err();
        assert!(err.contains("seed is the number 1, so it has no field x"), "{err}");
        let err = apply("load.schedule[0].at_s=1").unwrap_err();
        assert!(err.contains("load.schedule is not in the file"), "{err}");
        assert!(apply("seed").unwrap_err().contains("PATH=VALUE"));
        assert!(apply("=1").unwrap_err().contains("is empty"));
        assert!(apply("a..b=1").unwrap_err().contains("a key is missing"));
        assert!(apply("a[x]=1").unwrap_err().contains("[x] is not an index"));
        assert!(apply("[0]=1").unwrap_err().contains("a key is missing"));
        assert!(apply("a[1=1").unwrap_err().contains("is not closed"));
    }

    #[test]
    fn quoted_keys() {
        let mut doc: Table = "[\"odd key\"]\nx = 1".parse().unwrap();
        let resolved = Override::parse_set("\"odd key\".x=2").unwrap().apply(&mut doc).unwrap();
        assert_eq!(resolved, ["\"odd key\".x"]);
        assert_eq!(doc["odd key"]["x"], Value::Integer(2));
    }

    #[test]
    fn unset_removes_a_field_and_leaves_missing_ones_alone() {
        let mut doc: Table = DOC.parse().unwrap();
        let unset = Override::unset("unset".into(), "services.payments.error_rate").unwrap();
        assert_eq!(unset.apply(&mut doc).unwrap(), ["services[1].error_rate"]);
        assert!(get(&doc, &["services", "1"]).get("error_rate").is_none());
        // Removing below a table that is not there must not create it.
        let unset = Override::unset("unset".into(), "calls.orders.payments.breaker.kind").unwrap();
        unset.apply(&mut doc).unwrap();
        assert!(get(&doc, &["calls", "1"]).get("breaker").is_none());
        let unset = Override::unset("unset".into(), "calls[0]").unwrap();
        assert!(unset.apply(&mut doc).unwrap_err().contains("cannot be removed"));
    }
}
