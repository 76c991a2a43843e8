//! Scenario files: a [`Scenario`] written in TOML, read with every problem
//! placed at its line and column.
//!
//! A user who edits a file by hand should see everything there is to fix at
//! once, so reading goes in three passes:
//!
//! 1. The text is parsed into a tree that remembers where each key and value
//!    sits. A syntax error stops here: past it the parser could only guess.
//! 2. The tree is walked once against a small table of the fields each part
//!    of a scenario accepts (`SCENARIO`). The walk reports unknown fields,
//!    wrong types, missing required fields and names that are not one of the
//!    accepted choices; it records where every field is, and copies what is
//!    usable into a plain TOML value. A field that is wrong but optional is
//!    left out of the copy, so that its default stands in for it and the
//!    semantic checks can still run on the rest.
//! 3. The copy is deserialized with serde and checked by [`validate`]; each
//!    problem that names a field is placed at that field, or at the nearest
//!    enclosing table when the field is absent from the file (a default).
//!
//! The schema table duplicates the field names of [`Scenario`] and its parts;
//! the tests check that the two agree, and serde remains the last word on
//! what a scenario is.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use toml::de::{DeInteger, DeTable, DeValue};
use toml::{Table, Value};

use crate::scenario::Scenario;
use crate::validate::{limits, validate};

/// One thing wrong with a scenario file, and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    /// 1-based line of the field (or of the syntax error).
    pub line: usize,
    /// 1-based column, in characters, not bytes.
    pub column: usize,
    /// A dotted path such as `services[1].workers`; empty for a syntax
    /// error, which belongs to no field.
    pub field: String,
    /// What is wrong, the value found and what would be accepted.
    pub message: String,
}

impl fmt::Display for FileProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}: ", self.line, self.column)?;
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)
    }
}

/// Every problem found in a scenario file, one per line when displayed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct FileError {
    pub problems: Vec<FileProblem>,
}

/// Reads a scenario from the text of a TOML file.
///
/// `Ok` means the scenario is valid and can be given to [`crate::Sim::new`]
/// as it is. `Err` lists every problem found, in the order described in the
/// module documentation. No input makes this panic.
pub fn parse_scenario(text: &str) -> Result<Scenario, FileError> {
    let lines = LineIndex::new(text);
    let root = match DeTable::parse(text) {
        Ok(root) => root,
        Err(error) => {
            let (line, column) = lines.locate(error.span().map_or(0, |span| span.start));
            let message = format!("syntax error: {}", error.message().trim_end());
            let problem = FileProblem { line, column, field: String::new(), message };
            return Err(FileError { problems: vec![problem] });
        }
    };

    let mut walk = Walk { lines: &lines, positions: HashMap::new(), problems: Vec::new() };
    walk.positions.insert(String::new(), 0);
    let usable = walk.table("", 0, root.get_ref(), SCENARIO, None);
    let Walk { positions, mut problems, .. } = walk;
    problems.sort_by_key(|p| (p.line, p.column));

    // Without every required field there is no scenario to check; with
    // them, the semantic checks run even if some optional field was wrong.
    let Some(table) = usable else {
        return Err(FileError { problems });
    };
    let scenario = match Scenario::deserialize(Value::Table(table)) {
        Ok(scenario) => scenario,
        Err(error) => {
            // The walk accepted something serde does not: the schema table
            // and the types disagree. Say so rather than fail silently.
            let message = format!("could not be read: {}", error.message());
            problems.push(FileProblem { line: 1, column: 1, field: String::new(), message });
            return Err(FileError { problems });
        }
    };

    if let Err(error) = validate(&scenario) {
        let mut semantic: Vec<FileProblem> = error
            .problems
            .into_iter()
            .map(|problem| {
                let (line, column) = lines.locate(position_of(&positions, &problem.field));
                FileProblem { line, column, field: problem.field, message: problem.message }
            })
            .collect();
        semantic.sort_by_key(|p| (p.line, p.column));
        problems.extend(semantic);
    }
    if problems.is_empty() {
        Ok(scenario)
    } else {
        Err(FileError { problems })
    }
}

/// The byte offset of a field, or of its nearest recorded ancestor: a field
/// left at its default is not in the file, but its table is.
fn position_of(positions: &HashMap<String, usize>, field: &str) -> usize {
    let mut path = field;
    loop {
        if let Some(&at) = positions.get(path) {
            return at;
        }
        match path.rfind(['.', '[']) {
            Some(end) => path = &path[..end],
            None => return 0,
        }
    }
}

/// What a value in a scenario file may be.
#[derive(Clone, Copy)]
enum Shape {
    /// A string; the text says what it is for, in messages.
    Text(&'static str),
    /// A number, written as an integer or a float; the text names the unit.
    Number(&'static str),
    /// A whole number that the field's type can hold (0 to `fits`); `min`
    /// and `max` are the range that validation accepts, quoted in messages
    /// so that a value the type cannot hold reads like any other out of
    /// range.
    Whole { min: u64, max: u64, fits: u64 },
    /// true or false.
    Bool,
    /// One of a few names, written as a string.
    Choice(&'static [&'static str]),
    /// A table with these fields.
    Table(&'static [Field]),
    /// A table whose `tag` field picks which other fields it has.
    Tagged { tag: &'static str, variants: &'static [Variant] },
    /// An array whose items all have one shape.
    List(&'static Shape),
}

/// One field of a table.
struct Field {
    name: &'static str,
    shape: Shape,
    /// Required fields have no default; the scenario cannot be built
    /// without them.
    required: bool,
}

/// The fields that go with one value of a tag.
struct Variant {
    name: &'static str,
    fields: &'static [Field],
}

const fn required(name: &'static str, shape: Shape) -> Field {
    Field { name, shape, required: true }
}

const fn optional(name: &'static str, shape: Shape) -> Field {
    Field { name, shape, required: false }
}

const fn count(min: u32, max: u32) -> Shape {
    Shape::Whole { min: min as u64, max: max as u64, fits: u32::MAX as u64 }
}

const MS: Shape = Shape::Number("a number of milliseconds");
const SECONDS: Shape = Shape::Number("a number of seconds");
const RATE: Shape = Shape::Number("a number of requests per second");

/// The schema of a scenario file: the same fields as [`Scenario`].
const SCENARIO: &[Field] = &[
    optional("name", Shape::Text("a string, the scenario's title")),
    optional("description", Shape::Text("a string")),
    // TOML integers are signed 64-bit numbers: that is the largest seed a
    // file can hold, although the type would take more.
    optional("seed", Shape::Whole { min: 0, max: i64::MAX as u64, fits: i64::MAX as u64 }),
    optional("duration_s", SECONDS),
    optional("load", Shape::Table(LOAD)),
    required("services", Shape::List(&Shape::Table(SERVICE))),
    required("calls", Shape::List(&Shape::Table(CALL))),
    optional("chaos", Shape::Table(CHAOS)),
    optional("lesson", Shape::Table(LESSON)),
];

const LESSON: &[Field] = &[
    required("title", Shape::Text("a string, the experiment's name")),
    optional("summary", Shape::Text("a string, two lines")),
    optional("notice", Shape::List(&Shape::Text("a string, a prompt"))),
    optional(
        "controls",
        Shape::List(&Shape::Choice(&[
            "load",
            "error_rate",
            "latency",
            "timeout",
            "retries",
            "backoff",
            "budget",
            "breaker",
            "bulkhead",
        ])),
    ),
    optional("question", Shape::Table(QUESTION)),
    optional("compare", Shape::Table(COMPARE)),
    optional("phase_map", Shape::Table(PHASE_MAP)),
];

const PHASE_MAP: &[Field] = &[
    optional("fault", Shape::Whole { min: 0, max: 1_000_000, fits: u32::MAX as u64 }),
    required("sizes", Shape::List(&Shape::Number("a number in the fault's unit"))),
    required("lengths_s", Shape::List(&Shape::Number("a number of seconds"))),
    optional("run_s", SECONDS),
    optional("settle_s", SECONDS),
    optional("threshold", Shape::Number("a share from 0 to 1")),
];

const QUESTION: &[Field] = &[
    required("ask", Shape::Text("a string, the question")),
    required("choices", Shape::List(&Shape::Number("a number in the measure's unit"))),
    required("measure", Shape::Tagged { tag: "kind", variants: MEASURE }),
    optional("after_s", SECONDS),
];

const MEASURE: &[Variant] = &[
    Variant {
        name: "amplification",
        fields: &[required("service", Shape::Text("a string, a service's name"))],
    },
    Variant { name: "success_percent", fields: &[] },
    Variant { name: "degraded_percent", fields: &[] },
    Variant {
        name: "breaker_openings",
        fields: &[
            required("from", Shape::Text("a string, the caller's name")),
            required("to", Shape::Text("a string, the callee's name")),
        ],
    },
    Variant { name: "p99_ms", fields: &[] },
];

const COMPARE: &[Field] = &[
    required("label", Shape::Text("a string, what the scenario is called beside its variant")),
    required("variant_label", Shape::Text("a string, what the variant is called")),
    optional("set", Shape::List(&Shape::Text("a string, PATH=VALUE"))),
    optional("unset", Shape::List(&Shape::Text("a string, a field's path"))),
];

const CHAOS: &[Field] = &[
    optional("faults", Shape::List(&Shape::Table(FAULT))),
    optional("hypothesis", Shape::Table(HYPOTHESIS)),
];

const FAULT: &[Field] = &[
    required(
        "kind",
        Shape::Choice(&[
            "kill_instances",
            "network_loss",
            "latency",
            "cpu_stress",
            "errors",
            "brownout",
        ]),
    ),
    required("start_s", SECONDS),
    optional("end_s", SECONDS),
    optional("service", Shape::Text("a string, a service's name")),
    optional("from", Shape::Text("a string, the caller's name")),
    optional("to", Shape::Text("a string, the callee's name")),
    optional("count", count(0, limits::MAX_INSTANCES)),
    optional("share", Shape::Number("a share from 0 to 1")),
    optional("added_ms", MS),
    optional("factor", Shape::Number("a number, how many times longer")),
    optional("rate", Shape::Number("a probability from 0 to 1")),
];

const HYPOTHESIS: &[Field] = &[
    optional("min_success_rate", Shape::Number("a share from 0 to 1")),
    optional("window_s", count(1, 600)),
];

const LOAD: &[Field] = &[
    optional("arrivals", Shape::Choice(&["poisson", "constant"])),
    optional("rate_per_sec", RATE),
    optional("schedule", Shape::List(&Shape::Table(RATE_CHANGE))),
];

const RATE_CHANGE: &[Field] =
    &[required("at_s", SECONDS), required("rate_per_sec", RATE), optional("ramp_s", SECONDS)];

const SERVICE: &[Field] = &[
    required("name", Shape::Text("a string, the service's name")),
    optional("instances", count(1, limits::MAX_INSTANCES)),
    optional("workers", count(1, limits::MAX_WORKERS)),
    optional("queue", count(0, limits::MAX_QUEUE)),
    optional("service_time", Shape::Tagged { tag: "kind", variants: SERVICE_TIME }),
    optional("error_rate", Shape::Number("a probability from 0 to 1")),
    optional("fan_out", Shape::Choice(&["sequential", "parallel"])),
    optional("script", Shape::List(&Shape::Table(SCRIPT_STEP))),
    optional("shed_after_queue_ms", MS),
    optional("autoscale", Shape::Table(AUTOSCALE)),
];

const AUTOSCALE: &[Field] = &[
    optional("target_utilisation", Shape::Number("a share from 0.01 to 1")),
    optional("sync_period_s", SECONDS),
    optional("startup_s", SECONDS),
    optional("min_instances", count(1, limits::MAX_INSTANCES)),
    optional("max_instances", count(1, limits::MAX_INSTANCES)),
    optional("scale_down_stabilisation_s", SECONDS),
    optional("tolerance", Shape::Number("a share from 0 to 1")),
];

const OUTLIER_DETECTION: &[Field] = &[
    optional("consecutive_5xx", count(1, 1_000)),
    optional("interval_ms", MS),
    optional("base_ejection_ms", MS),
    optional("max_ejection_ms", MS),
    optional("max_ejection_percent", PERCENT),
];

const SERVICE_TIME: &[Variant] = &[
    Variant { name: "fixed", fields: &[required("ms", MS)] },
    Variant { name: "exponential", fields: &[required("mean_ms", MS)] },
    Variant {
        name: "log_normal",
        fields: &[
            required("median_ms", MS),
            required("sigma", Shape::Number("a number, the standard deviation of the logarithm")),
        ],
    },
];

const SCRIPT_STEP: &[Field] =
    &[required("outcome", Shape::Choice(&["ok", "error"])), optional("ms", MS)];

const CALL: &[Field] = &[
    required("from", Shape::Text("a string, a service's name or \"client\"")),
    required("to", Shape::Text("a string, a service's name")),
    optional("latency_ms", MS),
    optional("timeout_ms", MS),
    optional("retries", count(0, limits::MAX_RETRIES)),
    optional("backoff_ms", MS),
    optional("backoff", Shape::Table(BACKOFF)),
    optional("retry_on", Shape::List(&Shape::Choice(FAILURE_KINDS))),
    optional("idempotent", Shape::Bool),
    optional("retry_non_idempotent", Shape::Bool),
    optional("retry_budget", Shape::Tagged { tag: "kind", variants: RETRY_BUDGET }),
    optional("breaker", Shape::Tagged { tag: "kind", variants: BREAKER }),
    optional("bulkhead", Shape::Tagged { tag: "kind", variants: BULKHEAD }),
    optional("deadline_ms", MS),
    optional("order", Shape::List(&Shape::Choice(&["retry", "breaker", "bulkhead", "timeout"]))),
    optional("critical", Shape::Bool),
    optional("fallback", Shape::Bool),
    optional("propagate_deadline", Shape::Bool),
    optional("cancel_on_give_up", Shape::Bool),
    optional("location", Shape::Choice(&["app", "sidecar"])),
    optional("outlier_detection", Shape::Table(OUTLIER_DETECTION)),
];

const FAILURE_KINDS: &[&str] = &["error", "timeout", "rejected", "bulkhead_full", "breaker_open"];
const PERCENT: Shape = Shape::Number("a percentage from 0 to 100");

const BACKOFF: &[Field] = &[
    optional("kind", Shape::Choice(&["fixed", "exponential"])),
    optional("base_ms", MS),
    optional("multiplier", Shape::Number("a number, the growth factor per retry")),
    optional("cap_ms", MS),
    optional("jitter", Shape::Choice(&["none", "full", "equal", "decorrelated"])),
];

const RETRY_BUDGET: &[Variant] = &[
    Variant {
        name: "token_bucket",
        fields: &[
            optional("max_tokens", Shape::Number("a number of tokens")),
            optional("token_ratio", Shape::Number("a number of tokens per success")),
        ],
    },
    Variant {
        name: "percent",
        fields: &[
            optional("percent", PERCENT),
            optional("min_concurrency", count(0, crate::policy::budget::MAX_MIN_CONCURRENCY)),
        ],
    },
];

const BREAKER: &[Variant] = &[
    Variant {
        name: "failure_rate",
        fields: &[
            optional("sliding_window_type", Shape::Choice(&["count_based", "time_based"])),
            optional("sliding_window_size", count(1, crate::policy::breaker::MAX_COUNT_WINDOW)),
            optional("minimum_calls", count(1, crate::policy::breaker::MAX_MINIMUM_CALLS)),
            optional("failure_rate_threshold", PERCENT),
            optional("slow_call_rate_threshold", PERCENT),
            optional("slow_call_duration_ms", MS),
            optional("wait_in_open_ms", MS),
            optional(
                "permitted_calls_in_half_open",
                count(1, crate::policy::breaker::MAX_PERMITTED_CALLS),
            ),
            optional("max_wait_in_half_open_ms", MS),
            optional("automatic_transition", Shape::Bool),
        ],
    },
    Variant {
        name: "consecutive_failures",
        fields: &[
            optional("failures", count(1, crate::policy::breaker::MAX_CONSECUTIVE_FAILURES)),
            optional("wait_in_open_ms", MS),
        ],
    },
];

const BULKHEAD: &[Variant] = &[
    Variant {
        name: "semaphore",
        fields: &[optional("max_concurrent", count(1, 100_000)), optional("max_wait_ms", MS)],
    },
    Variant {
        name: "thread_pool",
        fields: &[optional("threads", count(1, 100_000)), optional("queue", count(0, 1_000_000))],
    },
];

/// The state of the schema walk.
struct Walk<'a> {
    lines: &'a LineIndex<'a>,
    /// Where each field and array item starts, by path: the key for a
    /// field, the value (or the `[[header]]`) for an item.
    positions: HashMap<String, usize>,
    problems: Vec<FileProblem>,
}

impl Walk<'_> {
    fn fail(&mut self, field: &str, at: usize, message: String) {
        let (line, column) = self.lines.locate(at);
        self.problems.push(FileProblem { line, column, field: field.to_string(), message });
    }

    fn wrong_type(&mut self, path: &str, at: usize, found: &DeValue<'_>, expected: &str) {
        self.fail(path, at, format!("found {}, expected {expected}", describe(found)));
    }

    /// Checks one value against its shape. `None` means it is unusable and
    /// a problem has been recorded; `Some` is a copy that serde can read.
    fn value(&mut self, path: &str, at: usize, value: &DeValue<'_>, shape: Shape) -> Option<Value> {
        match shape {
            Shape::Text(expected) => match value {
                DeValue::String(text) => Some(Value::String(text.to_string())),
                other => {
                    self.wrong_type(path, at, other, expected);
                    None
                }
            },
            Shape::Bool => match value {
                DeValue::Boolean(flag) => Some(Value::Boolean(*flag)),
                other => {
                    self.wrong_type(path, at, other, "true or false");
                    None
                }
            },
            Shape::Number(expected) => match value {
                DeValue::Float(float) => match float.as_str().parse::<f64>() {
                    // NaN and the infinities pass: validation says why they
                    // are out of range, as for any other number.
                    Ok(number) if !number.is_infinite() || float.as_str().contains("inf") => {
                        Some(Value::Float(number))
                    }
                    _ => {
                        self.fail(path, at, format!("{float} is too large: expected {expected}"));
                        None
                    }
                },
                DeValue::Integer(integer) => match whole(integer) {
                    Some(number) => Some(Value::Float(number as f64)),
                    None => {
                        self.fail(path, at, format!("{integer} is too large: expected {expected}"));
                        None
                    }
                },
                other => {
                    self.wrong_type(path, at, other, expected);
                    None
                }
            },
            Shape::Whole { min, max, fits } => match value {
                DeValue::Integer(integer) => match whole(integer) {
                    Some(number) if (0..=i128::from(fits)).contains(&number) => {
                        // `fits` is at most i64::MAX, so the number fits too.
                        Some(Value::Integer(number as i64))
                    }
                    _ => {
                        let message = format!("{integer} is out of range: expected {min} to {max}");
                        self.fail(path, at, message);
                        None
                    }
                },
                other => {
                    let expected = format!("a whole number from {min} to {max}");
                    self.wrong_type(path, at, other, &expected);
                    None
                }
            },
            Shape::Choice(names) => {
                let accepted = one_of(names);
                match value {
                    DeValue::String(name) if names.contains(&name.as_ref()) => {
                        Some(Value::String(name.to_string()))
                    }
                    DeValue::String(name) => {
                        let message = format!(
                            "{} is not accepted: expected {accepted}{}",
                            quote(name),
                            suggestion(name, names)
                        );
                        self.fail(path, at, message);
                        None
                    }
                    other => {
                        self.wrong_type(path, at, other, &accepted);
                        None
                    }
                }
            }
            Shape::Table(fields) => match value {
                DeValue::Table(table) => {
                    self.table(path, at, table, fields, None).map(Value::Table)
                }
                other => {
                    self.wrong_type(path, at, other, "a table");
                    None
                }
            },
            Shape::Tagged { tag, variants } => match value {
                DeValue::Table(table) => self.tagged(path, at, table, tag, variants),
                other => {
                    let names: Vec<_> = variants.iter().map(|v| v.name).collect();
                    let expected = format!("a table with {tag} = {}", one_of(&names));
                    self.wrong_type(path, at, other, &expected);
                    None
                }
            },
            Shape::List(item) => match value {
                DeValue::Array(array) => {
                    let mut copy = Vec::with_capacity(array.len());
                    let mut usable = true;
                    for (i, element) in array.iter().enumerate() {
                        let element_path = format!("{path}[{i}]");
                        let element_at = element.span().start;
                        self.positions.insert(element_path.clone(), element_at);
                        match self.value(&element_path, element_at, element.get_ref(), *item) {
                            Some(element) => copy.push(element),
                            // An item cannot be dropped like a field: the
                            // items after it would change index.
                            None => usable = false,
                        }
                    }
                    usable.then_some(Value::Array(copy))
                }
                other => {
                    self.wrong_type(path, at, other, "an array");
                    None
                }
            },
        }
    }

    /// Checks a table's keys against its fields. `tag` is a key that the
    /// caller has checked already (the `kind` of a tagged table).
    fn table(
        &mut self,
        path: &str,
        at: usize,
        table: &DeTable<'_>,
        fields: &[Field],
        tag: Option<(&str, &str)>,
    ) -> Option<Table> {
        let mut copy = Table::new();
        let mut usable = true;
        if let Some((tag, value)) = tag {
            copy.insert(tag.to_string(), Value::String(value.to_string()));
        }
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            let field_path = join(path, name);
            let key_at = key.span().start;
            if tag.is_some_and(|(tag, _)| tag == name) {
                continue;
            }
            let Some(field) = fields.iter().find(|field| field.name == name) else {
                let mut accepted: Vec<&str> = tag.map(|(tag, _)| tag).into_iter().collect();
                accepted.extend(fields.iter().map(|field| field.name));
                let message = format!(
                    "unknown field: expected one of {}{}",
                    accepted.join(", "),
                    suggestion(name, &accepted)
                );
                self.fail(&field_path, key_at, message);
                continue;
            };
            self.positions.insert(field_path.clone(), key_at);
            match self.value(&field_path, key_at, value.get_ref(), field.shape) {
                Some(value) => {
                    copy.insert(name.to_string(), value);
                }
                None => usable &= !field.required,
            }
        }
        for field in fields.iter().filter(|field| field.required) {
            if !table.contains_key(field.name) {
                let message = format!("required but missing: expected {}", expected(field.shape));
                self.fail(&join(path, field.name), at, message);
                usable = false;
            }
        }
        usable.then_some(copy)
    }

    /// Checks a table whose `tag` field says which variant it is.
    fn tagged(
        &mut self,
        path: &str,
        at: usize,
        table: &DeTable<'_>,
        tag: &str,
        variants: &[Variant],
    ) -> Option<Value> {
        let names: Vec<&str> = variants.iter().map(|variant| variant.name).collect();
        let tag_path = join(path, tag);
        let Some((key, value)) = table.get_key_value(tag) else {
            self.fail(&tag_path, at, format!("required but missing: expected {}", one_of(&names)));
            return None;
        };
        let tag_at = key.span().start;
        self.positions.insert(tag_path.clone(), tag_at);
        let name: &str = match value.get_ref() {
            DeValue::String(name) => name,
            other => {
                self.wrong_type(&tag_path, tag_at, other, &one_of(&names));
                return None;
            }
        };
        let Some(variant) = variants.iter().find(|variant| variant.name == name) else {
            let message = format!(
                "{} is not accepted: expected {}{}",
                quote(name),
                one_of(&names),
                suggestion(name, &names)
            );
            self.fail(&tag_path, tag_at, message);
            return None;
        };
        self.table(path, at, table, variant.fields, Some((tag, variant.name))).map(Value::Table)
    }
}

/// What a shape accepts, for a missing field.
fn expected(shape: Shape) -> String {
    match shape {
        Shape::Text(expected) | Shape::Number(expected) => expected.to_string(),
        Shape::Whole { min, max, .. } => format!("a whole number from {min} to {max}"),
        Shape::Bool => "true or false".to_string(),
        Shape::Choice(names) => one_of(names),
        Shape::Table(_) => "a table".to_string(),
        Shape::Tagged { .. } => "a table".to_string(),
        Shape::List(Shape::Table(_)) => "an array of tables".to_string(),
        Shape::List(_) => "an array".to_string(),
    }
}

/// The value of a TOML integer, wide enough for any that the parser takes.
fn whole(integer: &DeInteger<'_>) -> Option<i128> {
    i128::from_str_radix(integer.as_str(), integer.radix()).ok()
}

/// A value as a message names it: its type, and the value when it is short.
fn describe(value: &DeValue<'_>) -> String {
    match value {
        DeValue::String(text) => format!("the string {}", quote(text)),
        DeValue::Integer(integer) => format!("the whole number {integer}"),
        DeValue::Float(float) => format!("the number {float}"),
        DeValue::Boolean(boolean) => format!("the boolean {boolean}"),
        DeValue::Datetime(datetime) => format!("the date-time {datetime}"),
        DeValue::Array(_) => "an array".to_string(),
        DeValue::Table(_) => "a table".to_string(),
    }
}

/// A string as TOML would write it, cut short so that one pasted paragraph
/// does not swamp the message.
fn quote(text: &str) -> String {
    const LONGEST: usize = 40;
    if text.chars().count() > LONGEST {
        let start: String = text.chars().take(LONGEST).collect();
        let quoted = format!("{start:?}");
        // Debug formatting ends with the closing quote, one byte long.
        format!("{}…\"", &quoted[..quoted.len() - 1])
    } else {
        format!("{text:?}")
    }
}

fn one_of(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|name| format!("{name:?}")).collect();
    format!("one of {}", quoted.join(", "))
}

/// A path with a key appended; keys that are not bare TOML keys are quoted
/// so that the path stays unambiguous.
fn join(path: &str, key: &str) -> String {
    let bare =
        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare { key.to_string() } else { quote(key) };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

/// ` (did you mean "x"?)` when a typo is one or two edits away from an
/// accepted name, otherwise nothing.
fn suggestion(found: &str, accepted: &[&str]) -> String {
    // Long inputs cannot be near any accepted name; skipping them keeps the
    // quadratic distance cheap.
    if found.len() > 64 {
        return String::new();
    }
    accepted
        .iter()
        .map(|name| (edit_distance(found, name), *name))
        .filter(|&(distance, name)| distance > 0 && distance <= 2 && distance < name.len())
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, name)| format!(" (did you mean {name:?}?)"))
        .unwrap_or_default()
}

/// Levenshtein distance, by characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let replace = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = replace.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// Turns byte offsets into 1-based lines and columns.
struct LineIndex<'t> {
    text: &'t str,
    /// The byte offset where each line starts.
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> LineIndex<'t> {
        let starts =
            std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, starts }
    }

    /// The line and column of a byte offset. Columns count characters, as
    /// an editor does; an offset past the end or inside a character is
    /// moved back to a character boundary.
    fn locate(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&start| start <= offset);
        let start = self.starts[line - 1];
        // A byte-order mark, which some editors write first, is not shown:
        // it takes no column.
        let before = self.text[start..offset].trim_start_matches('\u{feff}');
        (line, before.chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Arrivals, FanOut, ScriptOutcome};
    use serde::de::value::{Error, StrDeserializer};
    use serde::de::IntoDeserializer;

    fn accepts<'de, T: Deserialize<'de>>(name: &'de str) -> bool {
        let deserializer: StrDeserializer<'de, Error> = name.into_deserializer();
        T::deserialize(deserializer).is_ok()
    }

    fn choices(fields: &[Field], name: &str) -> &'static [&'static str] {
        match fields.iter().find(|field| field.name == name).map(|field| field.shape) {
            Some(Shape::Choice(names)) => names,
            _ => panic!("{name} is not a choice"),
        }
    }

    #[test]
    fn every_choice_is_a_name_serde_accepts() {
        assert!(choices(LOAD, "arrivals").iter().all(|name| accepts::<Arrivals>(name)));
        assert!(choices(SERVICE, "fan_out").iter().all(|name| accepts::<FanOut>(name)));
        assert!(choices(SCRIPT_STEP, "outcome").iter().all(|name| accepts::<ScriptOutcome>(name)));
    }

    /// Checks that a value serde wrote has exactly the fields of a shape,
    /// all the way down.
    fn same_fields(value: &Value, shape: Shape, path: &str) {
        let fields_of = |table: &Table, fields: &[Field], tag: Option<&str>| {
            let mut found: Vec<&str> = table.keys().map(String::as_str).collect();
            let mut schema: Vec<&str> = fields.iter().map(|field| field.name).chain(tag).collect();
            found.sort_unstable();
            schema.sort_unstable();
            assert_eq!(found, schema, "the fields of {path:?}");
            for field in fields {
                same_fields(&table[field.name], field.shape, &join(path, field.name));
            }
        };
        match (value, shape) {
            (Value::Table(table), Shape::Table(fields)) => fields_of(table, fields, None),
            (Value::Table(table), Shape::Tagged { tag, variants }) => {
                let name = table[tag].as_str().unwrap();
                let variant = variants.iter().find(|variant| variant.name == name).unwrap();
                fields_of(table, variant.fields, Some(tag));
            }
            (Value::Array(items), Shape::List(item)) => {
                assert!(!items.is_empty(), "{path} has items to check");
                for (i, value) in items.iter().enumerate() {
                    same_fields(value, *item, &format!("{path}[{i}]"));
                }
            }
            (Value::Table(_) | Value::Array(_), _) => panic!("{path} has the wrong shape"),
            _ => {}
        }
    }

    /// A field added to the scenario types but not to the schema would be
    /// refused as unknown, and a field left in the schema after it went
    /// from the types would be refused by serde: serialize a scenario with
    /// every part present and compare its fields with the schema's.
    #[test]
    fn the_schema_has_the_fields_of_the_types() {
        use crate::scenario::{RateChange, ScriptStep, ServiceTime};
        let mut scenario = Scenario::retry_chain();
        let change = RateChange { at_s: 1.0, rate_per_sec: 2.0, ramp_s: 3.0 };
        scenario.load.schedule.push(change);
        scenario.services[1].service_time = ServiceTime::Fixed { ms: 1.0 };
        scenario.services[2].service_time = ServiceTime::LogNormal { median_ms: 1.0, sigma: 0.5 };
        let step = ScriptStep { outcome: ScriptOutcome::Error, ms: Some(1.0) };
        scenario.services.iter_mut().for_each(|service| service.script.push(step.clone()));
        for service in &mut scenario.services {
            service.shed_after_queue_ms = Some(1.0);
            service.autoscale = Some(crate::capacity::AutoscaleConfig {
                target_utilisation: 0.5,
                sync_period_s: 15.0,
                startup_s: 10.0,
                min_instances: 1,
                max_instances: 4,
                scale_down_stabilisation_s: 300.0,
                tolerance: 0.1,
            });
        }
        // Every optional policy, each variant of the tagged ones somewhere.
        use crate::bulkhead::BulkheadConfig;
        use crate::policy::{BackoffConfig, BreakerConfig, RetryBudgetConfig};
        for (i, call) in scenario.calls.iter_mut().enumerate() {
            let first = i == 0;
            call.backoff = Some(BackoffConfig::default());
            call.deadline_ms = Some(1.0);
            call.fallback = Some(true);
            call.outlier_detection = Some(crate::capacity::OutlierConfig {
                consecutive_5xx: 5,
                interval_ms: 10_000.0,
                base_ejection_ms: 30_000.0,
                max_ejection_ms: 300_000.0,
                max_ejection_percent: 50.0,
            });
            call.breaker = Some(if first {
                BreakerConfig::default()
            } else {
                BreakerConfig::ConsecutiveFailures { failures: 2, wait_in_open_ms: 1.0 }
            });
            call.bulkhead = Some(if first {
                BulkheadConfig::Semaphore { max_concurrent: 1, max_wait_ms: 0.0 }
            } else {
                BulkheadConfig::ThreadPool { threads: 1, queue: 1 }
            });
            call.retry_budget = Some(if first {
                RetryBudgetConfig::TokenBucket { max_tokens: 1.0, token_ratio: 0.1 }
            } else {
                RetryBudgetConfig::Percent { percent: 1.0, min_concurrency: 1 }
            });
        }
        // A fault with every optional field (the schema lists them all;
        // which ones a kind takes is validation's business).
        scenario.chaos = crate::chaos::Chaos {
            faults: vec![crate::chaos::Fault {
                kind: crate::chaos::FaultKind::KillInstances,
                start_s: 1.0,
                end_s: Some(2.0),
                service: Some("orders".into()),
                from: Some("gateway".into()),
                to: Some("orders".into()),
                count: Some(1),
                share: Some(0.5),
                added_ms: Some(1.0),
                factor: Some(2.0),
                rate: Some(0.5),
            }],
            hypothesis: Some(crate::chaos::Hypothesis { min_success_rate: 0.9, window_s: 5 }),
        };
        scenario.lesson = Some(crate::lesson::Lesson {
            title: "t".into(),
            summary: "s".into(),
            notice: vec!["n".into()],
            controls: vec![crate::lesson::Control::Load],
            question: Some(crate::lesson::Question {
                ask: "q".into(),
                choices: vec![1.0],
                measure: crate::lesson::Measure::Amplification { service: "orders".into() },
                after_s: 30.0,
            }),
            compare: Some(crate::lesson::Compare {
                label: "a".into(),
                variant_label: "b".into(),
                set: vec!["seed=2".into()],
                unset: vec!["chaos".into()],
            }),
            phase_map: Some(crate::lesson::PhaseSpec {
                fault: 0,
                sizes: vec![1.0],
                lengths_s: vec![1.0],
                run_s: Some(10.0),
                settle_s: 5.0,
                threshold: 0.9,
            }),
        });
        let value = Value::try_from(&scenario).unwrap();
        same_fields(&value, Shape::Table(SCENARIO), "");
    }

    #[test]
    fn lines_and_columns_count_characters_from_one() {
        let lines = LineIndex::new("ab\n→x\r\n\nz");
        assert_eq!(lines.locate(0), (1, 1));
        assert_eq!(lines.locate(2), (1, 3));
        assert_eq!(lines.locate(3), (2, 1));
        // "→" is three bytes but one column; an offset inside it moves back.
        assert_eq!(lines.locate(6), (2, 2));
        assert_eq!(lines.locate(4), (2, 1));
        assert_eq!(lines.locate(9), (3, 1));
        assert_eq!(lines.locate(10), (4, 1));
        assert_eq!(lines.locate(1_000), (4, 2));
        let marked = LineIndex::new("\u{feff}a = 1");
        assert_eq!(marked.locate(3), (1, 1));
        assert_eq!(marked.locate(7), (1, 5));
    }

    #[test]
    fn near_misses_get_a_suggestion() {
        assert_eq!(suggestion("worker", &["name", "workers"]), " (did you mean \"workers\"?)");
        assert_eq!(suggestion("colour", &["name", "workers"]), "");
        assert_eq!(edit_distance("paralel", "parallel"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn positions_fall_back_to_the_enclosing_table() {
        let positions: HashMap<String, usize> =
            [(String::new(), 0), ("services".into(), 5), ("services[1]".into(), 40)].into();
        assert_eq!(position_of(&positions, "services[1].script[0].ms"), 40);
        assert_eq!(position_of(&positions, "services[7].name"), 5);
        assert_eq!(position_of(&positions, "duration_s"), 0);
    }

    #[test]
    fn long_strings_are_cut_short() {
        let long = "x".repeat(100);
        let quoted = quote(&long);
        assert!(quoted.starts_with("\"xxx") && quoted.ends_with("…\""), "{quoted}");
        assert_eq!(quoted.chars().count(), 43);
    }
}
