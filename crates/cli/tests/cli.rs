//! The `brownout` binary as a user runs it: its exit codes, its messages on
//! standard error and the layout of its JSON and CSV, checked against the
//! figures they must add up to.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A chain client → gateway → orders → payments with pools and timeouts so
/// large that nothing queues or times out: figures then follow from the
/// retry policy and the error rates alone.
const CHAIN: &str = "chain.toml";
const SERVICES: [&str; 3] = ["gateway", "orders", "payments"];

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

fn brownout(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_brownout")).args(args).output().expect("the binary runs")
}

/// Runs the chain with extra arguments and returns its output.
fn run_chain(args: &[&str]) -> Output {
    let file = data(CHAIN);
    let mut all = vec!["run", file.to_str().unwrap()];
    all.extend_from_slice(args);
    brownout(&all)
}

fn stdout(output: &Output) -> &str {
    std::str::from_utf8(&output.stdout).expect("UTF-8 output")
}

fn stderr(output: &Output) -> &str {
    std::str::from_utf8(&output.stderr).expect("UTF-8 messages")
}

/// Asserts a successful run and parses its JSON.
fn json(output: &Output) -> Value {
    assert!(output.status.success(), "failed: {}", stderr(output));
    serde_json::from_slice(&output.stdout).expect("valid JSON")
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> =
        value.as_object().expect("an object").keys().map(|k| k.as_str()).collect();
    keys.sort_unstable();
    keys
}

fn sorted(mut keys: Vec<&str>) -> Vec<&str> {
    keys.sort_unstable();
    keys
}

/// Asserts a failure with exit code 1, nothing on standard output and no
/// panic, and returns the messages.
fn failure(output: &Output) -> String {
    let messages = stderr(output).to_string();
    assert_eq!(output.status.code(), Some(1), "exit code; stderr: {messages}");
    assert!(output.stdout.is_empty(), "no data on failure: {}", stdout(output));
    assert!(!messages.contains("panicked"), "{messages}");
    messages
}

// ----- check ---------------------------------------------------------------

#[test]
fn check_accepts_a_valid_file() {
    let output = brownout(&["check", data(CHAIN).to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stderr.is_empty(), "{}", stderr(&output));
    let summary = stdout(&output);
    assert_eq!(summary.lines().count(), 1, "{summary}");
    assert!(summary.contains("valid") && summary.contains("3 services, 3 calls"), "{summary}");
}

#[test]
fn check_lists_the_problems_of_broken_files_with_their_places() {
    // Each file, and what must be said: the place and field of each problem
    // and a word of its message.
    let cases: &[(&str, &[&str])] = &[
        (
            "unknown-field.toml",
            &["line 4, column 1: services[0].wrkers: unknown field", "\"workers\""],
        ),
        ("cycle.toml", &["line 8, column 3: calls: ", "cycle (a → b → a)"]),
        (
            "missing-service.toml",
            &["line 11, column 1: calls[1].to: \"database\" is not a service"],
        ),
        ("negative.toml", &["line 8, column 1: calls[0].latency_ms: -5 is out of range"]),
        ("nan.toml", &["line 4, column 1: services[0].error_rate: NaN is out of range"]),
    ];
    for (file, expected) in cases {
        let path = data(file);
        let messages = failure(&brownout(&["check", path.to_str().unwrap()]));
        for text in *expected {
            assert!(messages.contains(text), "{file}: expected {text:?} in:\n{messages}");
        }
        // Every problem line names the file, so that output from several
        // checks can be told apart.
        let first = messages.lines().next().unwrap();
        assert!(first.starts_with(path.to_str().unwrap()), "{first}");
    }
}

#[test]
fn check_lists_every_problem_at_once() {
    let messages = failure(&brownout(&["check", data("several.toml").to_str().unwrap()]));
    for text in [
        "line 2, column 1: duration_s: 0 is out of range",
        "line 5, column 1: load.rate_per_sec: -1 is out of range",
        "line 9, column 1: services[0].workers: 0 is out of range",
        "line 10, column 1: services[0].colour: unknown field",
        "4 problems",
    ] {
        assert!(messages.contains(text), "expected {text:?} in:\n{messages}");
    }
}

#[test]
fn check_reads_standard_input() {
    let text = std::fs::read(data(CHAIN)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_brownout"))
        .args(["check", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &text).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    assert!(stdout(&output).starts_with("<stdin>: valid"), "{}", stdout(&output));
}

// ----- run -----------------------------------------------------------------

/// Asserts that every key of a JSON value, and every `kind` of event, is
/// named in `docs/runner.md` (as `` `key` ``): a field added to the report
/// fails here until it is documented.
fn assert_documented(value: &Value, path: &str, doc: &str) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                assert!(doc.contains(&format!("`{key}`")), "{path}.{key} is not in docs/runner.md");
                if let (true, Some(kind)) = (key == "kind", inner.as_str()) {
                    assert!(
                        doc.contains(&format!("`{kind}`")),
                        "event kind {kind} is undocumented"
                    );
                }
                assert_documented(inner, &format!("{path}.{key}"), doc);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| assert_documented(item, path, doc)),
        _ => {}
    }
}

/// Asserts that the counts of `second` objects add up to those of `total`:
/// every whole number that both have under the same key, nested objects
/// (rejections by cause) included.
fn assert_adds_up(seconds: &[&Value], total: &Value, path: &str) {
    let Some(fields) = total.as_object() else { return };
    for (key, value) in fields {
        let parts: Vec<&Value> = seconds.iter().filter_map(|s| s.get(key)).collect();
        if parts.len() != seconds.len() {
            continue;
        }
        if let Some(total) = value.as_u64() {
            let sum: u64 = parts.iter().map(|p| p.as_u64().expect("a count")).sum();
            assert_eq!(sum, total, "{path}.{key}");
        } else if value.is_object() {
            assert_adds_up(&parts, value, &format!("{path}.{key}"));
        }
    }
}

#[test]
fn run_prints_the_documented_layout_and_the_series_adds_up() {
    let out = json(&run_chain(&["--duration", "20s"]));
    assert_eq!(keys(&out), ["report", "series"]);
    let doc_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/runner.md");
    let doc = std::fs::read_to_string(doc_path).expect("docs/runner.md");
    assert_documented(&out, "", &doc);

    let report = &out["report"];
    for key in
        ["scenario", "seed", "simulated_s", "events_processed", "client", "services", "edges"]
    {
        assert!(report.get(key).is_some(), "report.{key}");
    }
    assert_eq!(report["simulated_s"], 20.0);
    assert_eq!(report["seed"], 42);
    let client = &report["client"];
    for key in ["requests", "successes", "errors", "in_flight", "success_rate", "latency_ms"] {
        assert!(client.get(key).is_some(), "client.{key}");
    }
    assert_eq!(
        keys(&client["latency_ms"]),
        sorted(vec!["count", "mean", "p50", "p90", "p99", "p999", "max"])
    );
    let services = report["services"].as_array().unwrap();
    let names: Vec<&str> = services.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, SERVICES);
    for key in ["attempts", "amplification", "utilisation", "mean_queue_wait_ms", "latency_ms"] {
        assert!(services[2].get(key).is_some(), "services[].{key}");
    }
    assert_eq!(services[2]["rejections"]["queue_full"], 0);
    let edges = report["edges"].as_array().unwrap();
    let ends = (edges[0]["from"].as_str(), edges[0]["to"].as_str());
    assert_eq!(ends, (Some("client"), Some("gateway")));
    for key in ["calls", "tries", "retries", "timeouts", "failed_calls", "events"] {
        assert!(edges[2].get(key).is_some(), "edges[].{key}");
    }
    assert!(!edges[2]["events"].as_array().unwrap().is_empty(), "payments' errors are retried");

    let series = out["series"].as_array().unwrap();
    assert_eq!(series.len(), 20, "one element per simulated second");
    for (t, second) in series.iter().enumerate() {
        assert_eq!(second["t_s"], t as u64);
        for key in ["client", "client_latency_ms", "services", "edges"] {
            assert!(second.get(key).is_some(), "series[].{key}");
        }
        assert_eq!(second["services"].as_array().unwrap().len(), 3);
        assert_eq!(second["edges"].as_array().unwrap().len(), 3);
    }
    let all: Vec<&Value> = series.iter().collect();
    let clients: Vec<&Value> = all.iter().map(|s| &s["client"]).collect();
    assert_adds_up(&clients, client, "client");
    let requests: u64 = clients.iter().map(|c| c["requests"].as_u64().unwrap()).sum();
    assert!(requests > 300, "the run did something: {requests}");
    for (i, service) in services.iter().enumerate() {
        let seconds: Vec<&Value> = all.iter().map(|s| &s["services"][i]).collect();
        assert_adds_up(&seconds, service, SERVICES[i]);
        let attempts: u64 = seconds.iter().map(|s| s["attempts"].as_u64().unwrap()).sum();
        assert_eq!(attempts, service["attempts"].as_u64().unwrap());
    }
    for (i, edge) in edges.iter().enumerate() {
        let seconds: Vec<&Value> = all.iter().map(|s| &s["edges"][i]).collect();
        assert_adds_up(&seconds, edge, &format!("edges[{i}]"));
    }
}

#[test]
fn run_is_reproducible_and_the_seed_matters() {
    let a = run_chain(&["--duration", "10s"]);
    let b = run_chain(&["--duration", "10s"]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(a.stdout, b.stdout, "the same seed gives the same bytes");

    let seven = run_chain(&["--duration", "10s", "--seed", "7"]);
    assert!(seven.status.success());
    assert_ne!(a.stdout, seven.stdout, "another seed gives another run");
    assert_eq!(json(&seven)["report"]["seed"], 7);
    // --seed is a short form of --set seed=.
    assert_eq!(seven.stdout, run_chain(&["--duration", "10s", "--set", "seed=7"]).stdout);
}

#[test]
fn run_takes_its_duration_from_the_file_or_the_command_line() {
    let out = json(&run_chain(&[]));
    assert_eq!(out["series"].as_array().unwrap().len(), 20, "duration_s = 20 in the file");
    assert_eq!(out["report"]["simulated_s"], 20.0);

    // A part of a second is in the report but makes no element.
    let out = json(&run_chain(&["--duration", "1500ms"]));
    assert_eq!(out["series"].as_array().unwrap().len(), 1);
    assert_eq!(out["report"]["simulated_s"], 1.5);

    let out = json(&run_chain(&["--duration", "2m", "--no-series"]));
    assert_eq!(keys(&out), ["report"]);
    assert_eq!(out["report"]["simulated_s"], 120.0);
}

#[test]
fn set_changes_the_run() {
    let out = json(&run_chain(&[
        "--duration",
        "30s",
        "--no-series",
        "--set",
        "services.payments.error_rate=1",
    ]));
    let client = &out["report"]["client"];
    assert_eq!(client["successes"], 0, "{client}");
    assert!(client["errors"].as_u64().unwrap() > 100, "{client}");

    let out = json(&run_chain(&[
        "--duration",
        "10s",
        "--no-series",
        "--set",
        "load.rate_per_sec=50",
        "--set",
        "calls.orders.payments.retries=0",
        "--set",
        "services[2].error_rate=0",
    ]));
    let report = &out["report"];
    assert!(report["client"]["requests"].as_u64().unwrap() > 400, "{}", report["client"]);
    assert_eq!(report["edges"][2]["retries"], 0);
    assert_eq!(report["services"][2]["errors"], 0);
}

#[test]
fn set_with_a_bad_path_or_value_is_a_clear_error() {
    let messages = failure(&run_chain(&["--set", "services.paymnts.error_rate=1"]));
    assert!(messages.contains("services.paymnts.error_rate"), "{messages}");
    assert!(messages.contains("gateway, orders, payments"), "names what exists: {messages}");

    let messages = failure(&run_chain(&["--set", "calls.orders.gateway.retries=1"]));
    assert!(messages.contains("client.gateway, gateway.orders, orders.payments"), "{messages}");

    // A field that does not exist is found by the file reader, which lists
    // the fields that do.
    let messages = failure(&run_chain(&["--set", "services.payments.eror_rate=1"]));
    assert!(messages.contains("--set services.payments.eror_rate=1"), "{messages}");
    assert!(messages.contains("services[2].eror_rate: unknown field"), "{messages}");
    assert!(messages.contains("error_rate"), "{messages}");

    // Values go through the same checks as values in the file.
    let messages = failure(&run_chain(&["--set", "services.payments.error_rate=high"]));
    assert!(messages.contains("services[2].error_rate: found the string \"high\""), "{messages}");
    let messages = failure(&run_chain(&["--set", "calls[1].retries=2.5"]));
    assert!(messages.contains("calls[1].retries"), "{messages}");
    let messages = failure(&run_chain(&["--duration", "30d"]));
    assert!(messages.contains("--duration 30d: duration_s"), "{messages}");
}

#[test]
fn unreadable_and_invalid_files_are_errors_not_panics() {
    let messages = failure(&brownout(&["run", "/nonexistent/scenario.toml"]));
    assert!(messages.contains("cannot read /nonexistent/scenario.toml"), "{messages}");

    let messages = failure(&brownout(&["run", data("cycle.toml").to_str().unwrap()]));
    assert!(messages.contains("line 8, column 3: calls: "), "{messages}");

    let messages = failure(&brownout(&[
        "sweep",
        data("several.toml").to_str().unwrap(),
        "--vary",
        "seed=1,2",
    ]));
    assert!(messages.contains("4 problems"), "{messages}");

    // Usage errors are clap's, with its exit code.
    let output = run_chain(&["--duration", "ten"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("not a duration"), "{}", stderr(&output));
}

#[test]
fn csv_series_has_one_row_per_second() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("series.csv");
    let output = run_chain(&["--duration", "12s", "--csv", path.to_str().unwrap()]);
    let out = json(&output);
    assert_eq!(keys(&out), ["report"], "the series is in the CSV, not the JSON");

    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let mut expected: Vec<String> = [
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
    for service in SERVICES {
        for figure in
            ["attempts", "successes", "errors", "timeouts", "rejections", "utilisation", "p99_ms"]
        {
            expected.push(format!("{service}.{figure}"));
        }
    }
    assert_eq!(header, expected);

    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 12);
    for (t, row) in rows.iter().enumerate() {
        assert_eq!(row[0].parse::<u64>().unwrap(), t as u64);
        let utilisation: f64 = row[CLIENT_COLUMNS + 5].parse().unwrap();
        assert!((0.0..=1.0).contains(&utilisation), "{utilisation}");
    }
    let requests: u64 = rows.iter().map(|row| row[1].parse::<u64>().unwrap()).sum();
    assert_eq!(requests, out["report"]["client"]["requests"].as_u64().unwrap());
    let attempts: u64 =
        rows.iter().map(|row| row[CLIENT_COLUMNS + 14].parse::<u64>().unwrap()).sum();
    assert_eq!(attempts, out["report"]["services"][2]["attempts"].as_u64().unwrap());
}

/// Columns before the first service's in the series CSV.
const CLIENT_COLUMNS: usize = 11;

// ----- sweep ---------------------------------------------------------------

fn sweep(args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let file = data(CHAIN);
    let mut all = vec!["sweep", file.to_str().unwrap()];
    all.extend_from_slice(args);
    let output = brownout(&all);
    assert!(output.status.success(), "{}", stderr(&output));
    let mut reader = csv::Reader::from_reader(output.stdout.as_slice());
    let header = reader.headers().unwrap().iter().map(String::from).collect();
    let rows =
        reader.records().map(|row| row.unwrap().iter().map(String::from).collect()).collect();
    (header, rows)
}

#[test]
fn sweep_writes_one_row_per_point_in_grid_order() {
    let (header, rows) = sweep(&[
        "--vary",
        "calls.client.gateway.retries=0,1",
        "--vary",
        "services.payments.error_rate=0,0.5,1",
        "--duration",
        "5s",
    ]);
    let mut expected = vec![
        "calls.client.gateway.retries",
        "services.payments.error_rate",
        "client.requests",
        "client.success_rate",
        "client.p50_ms",
        "client.p99_ms",
    ];
    let per_service: Vec<String> = SERVICES
        .iter()
        .flat_map(|s| [format!("{s}.amplification"), format!("{s}.utilisation")])
        .collect();
    expected.extend(per_service.iter().map(String::as_str));
    assert_eq!(header, expected);
    assert_eq!(rows.len(), 6);
    let points: Vec<(&str, &str)> = rows.iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(
        points,
        [("0", "0"), ("0", "0.5"), ("0", "1"), ("1", "0"), ("1", "0.5"), ("1", "1")]
    );
    assert!(rows.iter().all(|row| row.len() == header.len()));
    assert_eq!(rows[0][3], "1", "no errors, no failures");
}

#[test]
fn sweep_shows_retry_amplification_of_r_plus_one_to_the_depth() {
    let (header, rows) = sweep(&[
        "--vary",
        "calls[*].retries=0,1,2",
        "--set",
        "services.payments.error_rate=1",
        "--duration",
        "60s",
    ]);
    let column = |name: &str| header.iter().position(|h| h == name).unwrap();
    for (r, row) in rows.iter().enumerate() {
        let tries = r as f64 + 1.0;
        let read = |name: &str| row[column(name)].parse::<f64>().unwrap();
        assert_eq!(read("gateway.amplification"), tries, "r = {r}");
        assert_eq!(read("orders.amplification"), tries.powi(2), "r = {r}");
        assert_eq!(read("payments.amplification"), tries.powi(3), "r = {r}");
        assert_eq!(read("client.success_rate"), 0.0);
    }
    assert_eq!(rows.len(), 3);
}

#[test]
fn sweep_output_does_not_depend_on_threads() {
    let args = ["--vary", "seed=1,2,3", "--vary", "load.rate_per_sec=5,20", "--duration", "5s"];
    let one = sweep(&args);
    let mut parallel = args.to_vec();
    parallel.extend(["--jobs", "2"]);
    assert_eq!(one, sweep(&parallel));
    assert_eq!(one.1.len(), 6);
}

/// `phase` runs the grid of `[lesson.phase_map]`: a mild stress is
/// survived at any length, a strong one only when it is short.
#[test]
fn phase_prints_which_triggers_the_system_survives() {
    let file = data("phase.toml");
    let output = brownout(&["phase", file.to_str().unwrap()]);
    assert!(output.status.success(), "{}", failure(&output));
    let rows: Vec<Vec<&str>> =
        stdout(&output).lines().map(|line| line.split(',').collect()).collect();
    assert_eq!(rows[0], ["size", "length_s", "success", "recovered"]);
    let verdicts: Vec<(&str, &str, &str)> = rows[1..].iter().map(|r| (r[0], r[1], r[3])).collect();
    assert_eq!(
        verdicts,
        [("1.25", "1", "true"), ("1.25", "6", "true"), ("4", "1", "true"), ("4", "6", "false")]
    );
    let stuck: f64 = rows[4][2].parse().unwrap();
    assert!(stuck < 0.5, "the long strong stress leaves the system down: {stuck}");

    let chain = data(CHAIN);
    let output = brownout(&["phase", chain.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("no [lesson.phase_map]"), "{}", stderr(&output));
}
