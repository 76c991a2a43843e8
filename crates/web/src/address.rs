//! The view in the page's address: which experiment, every control value,
//! the comparison, where the run starts, and how the page is framed.
//!
//! A slide that embeds the page must show the same run every time, so the
//! whole view goes into the query string (`?preset=bulkheads&load=40&t=30`)
//! and comes back out of it. Reading is forgiving and says so: a parameter
//! the page does not know, or a value it cannot use, is left out with a
//! reason ([`Ignored`]), and the experiment's own value stands in. Nothing
//! read here is ever put into the page as markup; the reasons are shown as
//! text.
//!
//! A link names only what differs from the experiment as it ships, so that
//! `?preset=retry-chain&retries=3` reads as what the instructor changed.
//! Encoding and decoding go through the browser's `URLSearchParams`. Every
//! parameter, with its unit, range and default, is in docs/embedding.md.

use std::fmt;

use brownout_sim::lesson::Control;
use brownout_sim::Sim;
use wasm_bindgen::JsCast;
use web_sys::UrlSearchParams;

use crate::lab::{Experiment, DEFAULT_PRESET};
use crate::palette::Theme;
use crate::policies;
use crate::settings::{self, Settings};

/// Every parameter the page reads, in the order a link writes them.
pub const PARAMETERS: [&str; 21] = [
    "preset",
    "seed",
    "error",
    "latency",
    "load",
    "retries",
    "timeout",
    "breaker",
    "threshold",
    "window",
    "budget",
    "jitter",
    "bulkhead",
    "speed",
    "compare",
    "t",
    "embed",
    "controls",
    "loop",
    "until",
    "theme",
];

/// The latest simulated time a link can start from or loop at, in
/// seconds: the ten minutes the charts keep.
pub const TIME_MAX_S: f64 = 600.0;

/// A control an embedded page can show, by the name `controls=` uses: the
/// lesson's controls, and the play button.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shown {
    Control(Control),
    Play,
}

impl Shown {
    pub fn name(self) -> &'static str {
        match self {
            Shown::Control(c) => c.name(),
            Shown::Play => "play",
        }
    }

    pub fn from_name(name: &str) -> Option<Shown> {
        if name == "play" {
            return Some(Shown::Play);
        }
        Control::ALL.into_iter().find(|c| c.name() == name).map(Shown::Control)
    }

    /// Every name, for messages.
    fn names() -> String {
        let mut names: Vec<&str> = Control::ALL.iter().map(|c| c.name()).collect();
        names.push("play");
        names.join(", ")
    }
}

/// What an experiment is like before anyone changes it: the values a link
/// leaves out, and the ranges that depend on the experiment.
#[derive(Clone, Debug, PartialEq)]
pub struct Baseline {
    pub preset: &'static str,
    pub defaults: Settings,
    /// The top of the load slider, in requests per second.
    pub load_max: f64,
    pub has_variant: bool,
    /// The breaker's threshold (for a failure-rate breaker) and window
    /// when it is on: the experiment's own breaker, or else the page's.
    pub breaker_on: (Option<f64>, u32),
}

impl Baseline {
    pub fn of(experiment: &Experiment) -> Result<Baseline, String> {
        let sim = Sim::new(experiment.scenario.clone()).map_err(|e| e.to_string())?;
        let defaults = Settings::read(&sim);
        let breaker_on = match (defaults.breaker, defaults.window) {
            (true, Some(window)) => (defaults.threshold, window),
            _ => (Some(policies::BREAKER_THRESHOLD), policies::BREAKER_WINDOW),
        };
        Ok(Baseline {
            preset: experiment.id,
            load_max: settings::load_max(&experiment.scenario),
            has_variant: experiment.variant.is_some(),
            defaults,
            breaker_on,
        })
    }

    /// The baseline of a preset by id.
    pub fn of_preset(id: &str) -> Result<Baseline, String> {
        Baseline::of(&Experiment::load(id)?)
    }
}

/// Everything a link says.
#[derive(Clone, Debug, PartialEq)]
pub struct View {
    pub preset: &'static str,
    pub settings: Settings,
    /// Simulated seconds per real second.
    pub speed: f64,
    /// The comparison pane beside the experiment.
    pub compare: bool,
    /// Simulated time the run starts from, in seconds: the page
    /// fast-forwards to it.
    pub start_s: f64,
    /// Only the diagram and the controls in `controls`.
    pub embed: bool,
    /// The controls an embedded page shows, in the link's order.
    pub controls: Vec<Shown>,
    /// Simulated time at which the run starts again from `start_s`.
    pub loop_s: Option<f64>,
    /// Simulated time at which the run pauses itself, exactly.
    pub until_s: Option<f64>,
    pub theme: Theme,
}

/// A parameter left out, and why: `retries=9: out of range 0 to 5, using 2`.
#[derive(Clone, Debug, PartialEq)]
pub struct Ignored {
    pub name: String,
    /// The value as given (shortened when long).
    pub value: String,
    pub why: String,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}: {}", self.name, self.value, self.why)
    }
}

/// A number as a link writes it: Rust's shortest form that reads back to
/// the same value (`40`, `0.25`, `12.5`).
pub fn show(x: f64) -> String {
    format!("{x}")
}

fn flag(on: bool) -> &'static str {
    if on {
        "1"
    } else {
        "0"
    }
}

/// Reads a number within a range; `Err` is the reason it cannot be used.
fn number(value: &str, min: f64, max: f64) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(x) if !x.is_finite() => Err("not a number".into()),
        Ok(x) if x < min || x > max => Err(format!("out of range {} to {}", show(min), show(max))),
        Ok(x) => Ok(x),
        Err(_) if value.trim().is_empty() => Err("empty".into()),
        Err(_) => Err("not a number".into()),
    }
}

/// A whole number as a number field or an address may hold it: digits, or
/// a number written another way with no fraction ("1e3" is 1000), up to
/// 2^53, where such numbers stop being exact.
pub(crate) fn whole_number(text: &str) -> Option<u64> {
    let text = text.trim();
    text.parse::<u64>().ok().or_else(|| {
        let x: f64 = text.parse().ok()?;
        (x.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&x)).then_some(x as u64)
    })
}

/// Reads a whole number within a range.
fn whole(value: &str, min: u64, max: u64) -> Result<u64, String> {
    let v = value.trim();
    match whole_number(v).ok_or(()) {
        Ok(n) if n < min || n > max => Err(format!("out of range {min} to {max}")),
        Ok(n) => Ok(n),
        // A number, but not a whole one (or negative): say which.
        Err(_) => match v.parse::<f64>() {
            Ok(x) if x.is_finite() && (x < min as f64 || x > max as f64) => {
                Err(format!("out of range {min} to {max}"))
            }
            Ok(x) if x.is_finite() => Err("not a whole number".into()),
            _ if v.is_empty() => Err("empty".into()),
            _ => Err("not a number".into()),
        },
    }
}

fn boolean(value: &str) -> Result<bool, String> {
    match value.trim() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        _ => Err("not 0 or 1".into()),
    }
}

/// The longest value a notice repeats in full.
const SHOWN_VALUE: usize = 40;

fn shorten(value: &str) -> String {
    if value.chars().count() <= SHOWN_VALUE {
        value.to_string()
    } else {
        format!("{}…", value.chars().take(SHOWN_VALUE).collect::<String>())
    }
}

/// The parameter a misspelt name most likely meant, if one is close.
fn suggestion(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    PARAMETERS
        .into_iter()
        .map(|known| (known, strsim::damerau_levenshtein(&lower, known)))
        .filter(|&(known, d)| d <= 2 && d < known.len())
        .min_by_key(|&(_, d)| d)
        .map(|(known, _)| known)
}

/// The query's pairs, in order, as the browser decodes them.
fn pairs(query: &str) -> Vec<(String, String)> {
    let Ok(params) = UrlSearchParams::new_with_str(query) else { return Vec::new() };
    let mut out = Vec::new();
    for entry in params.entries().into_iter().flatten() {
        let pair: js_sys::Array = entry.unchecked_into();
        let (k, v) = (pair.get(0).as_string(), pair.get(1).as_string());
        if let (Some(k), Some(v)) = (k, v) {
            out.push((k, v));
        }
    }
    out
}

/// The parameters of one query, each taken once, with what was left out.
struct Reader {
    given: Vec<(String, String)>,
    ignored: Vec<Ignored>,
}

impl Reader {
    fn new(query: &str) -> Reader {
        let mut given: Vec<(String, String)> = Vec::new();
        let mut ignored = Vec::new();
        for (name, value) in pairs(query) {
            let leave = |why: String| Ignored { name: shorten(&name), value: shorten(&value), why };
            if !PARAMETERS.contains(&name.as_str()) {
                let why = match suggestion(&name) {
                    Some(known) => format!("unknown parameter (did you mean {known}?), ignored"),
                    None => "unknown parameter, ignored".to_string(),
                };
                ignored.push(leave(why));
            } else if let Some((_, first)) = given.iter().find(|(n, _)| *n == name) {
                ignored.push(leave(format!("given again, using the first, {}", shorten(first))));
            } else {
                given.push((name, value));
            }
        }
        Reader { given, ignored }
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.given.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// A simulated time from `min` to [`TIME_MAX_S`] seconds, later than
    /// the link's start; `None`, with the reason and `otherwise` noted,
    /// when it is missing or not such a time.
    fn time_after(&mut self, name: &str, min: f64, start_s: f64, otherwise: &str) -> Option<f64> {
        let value = self.get(name)?.to_string();
        match number(&value, min, TIME_MAX_S) {
            Ok(at) if at <= start_s => {
                self.ignore(name, format!("must be later than t={}, {otherwise}", show(start_s)));
                None
            }
            Ok(at) => Some(at),
            Err(reason) => {
                self.ignore(name, format!("{reason}, {otherwise}"));
                None
            }
        }
    }

    fn ignore(&mut self, name: &str, why: String) {
        let value = self.get(name).map(shorten).unwrap_or_default();
        self.ignored.push(Ignored { name: name.to_string(), value, why });
    }

    /// A parameter read with `parse`, or `default` (named in the reason)
    /// when it is missing or unusable.
    fn read<T>(
        &mut self,
        name: &str,
        default: T,
        show_default: impl Fn(&T) -> String,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> T {
        let Some(value) = self.get(name) else { return default };
        match parse(value) {
            Ok(x) => x,
            Err(reason) => {
                self.ignore(name, format!("{reason}, using {}", show_default(&default)));
                default
            }
        }
    }

    fn number(&mut self, name: &str, default: f64, (min, max): (f64, f64)) -> f64 {
        self.read(name, default, |d| show(*d), |v| number(v, min, max))
    }

    fn whole(&mut self, name: &str, default: u64, (min, max): (u64, u64)) -> u64 {
        self.read(name, default, u64::to_string, |v| whole(v, min, max))
    }

    fn boolean(&mut self, name: &str, default: bool) -> bool {
        self.read(name, default, |d| flag(*d).to_string(), boolean)
    }
}

/// Whether the comparison is shown when a link does not say: on the full
/// page, where the lesson is the difference; off in an embed, which shows
/// one diagram unless asked for two.
pub fn compare_by_default(baseline: &Baseline, embed: bool) -> bool {
    baseline.has_variant && !embed
}

impl View {
    /// The view of an experiment as it ships.
    pub fn new(baseline: &Baseline, embed: bool) -> View {
        View {
            preset: baseline.preset,
            settings: baseline.defaults.clone(),
            speed: crate::DEFAULT_SPEED,
            compare: compare_by_default(baseline, embed),
            start_s: 0.0,
            embed,
            controls: Vec::new(),
            loop_s: None,
            until_s: None,
            theme: Theme::default(),
        }
    }

    /// Reads a query string (with or without its `?`). `baseline_of`
    /// gives an experiment's baseline by preset id; the default preset's
    /// must exist. Returns the view and every parameter left out.
    pub fn read(
        query: &str,
        baseline_of: impl Fn(&str) -> Result<Baseline, String>,
    ) -> Result<(View, Vec<Ignored>), String> {
        let mut r = Reader::new(query);

        let baseline = match r.get("preset").map(str::to_string) {
            None => baseline_of(DEFAULT_PRESET)?,
            Some(id) => match baseline_of(id.trim()) {
                Ok(b) => b,
                Err(why) => {
                    r.ignore("preset", format!("{why}; using {DEFAULT_PRESET}"));
                    baseline_of(DEFAULT_PRESET)?
                }
            },
        };
        let d = &baseline.defaults;
        let embed = r.boolean("embed", false);
        let mut view = View::new(&baseline, embed);
        let s = &mut view.settings;

        s.seed = r.whole("seed", d.seed, (0, i64::MAX as u64));
        s.error_pct = r.number("error", d.error_pct, (0.0, 100.0));
        let latency = (policies::LATENCY_MIN_MS, policies::LATENCY_MAX_MS);
        s.latency_ms = r.number("latency", d.latency_ms, latency);
        s.load = r.number("load", d.load, (1.0, baseline.load_max));
        s.retries = r.whole("retries", d.retries as u64, (0, crate::RETRIES_MAX as u64)) as u32;
        let timeout = (policies::TIMEOUT_MIN_MS, policies::TIMEOUT_MAX_MS);
        s.timeout_ms = r.number("timeout", d.timeout_ms, timeout);

        // The breaker's knobs exist only while it is on, and a breaker that
        // counts failures in a row has no threshold.
        s.breaker = r.boolean("breaker", d.breaker);
        let (threshold_on, window_on) = baseline.breaker_on;
        s.threshold = None;
        s.window = None;
        if s.breaker {
            s.window = Some(r.whole("window", window_on as u64, window_range()) as u32);
            match threshold_on {
                Some(t) => {
                    let range = (policies::THRESHOLD_MIN, policies::THRESHOLD_MAX);
                    s.threshold = Some(r.number("threshold", t, range));
                }
                None if r.get("threshold").is_some() => r.ignore(
                    "threshold",
                    "this breaker opens after failures in a row and has no threshold, ignored"
                        .into(),
                ),
                None => {}
            }
        } else {
            for knob in ["threshold", "window"] {
                if r.get(knob).is_some() {
                    r.ignore(knob, "the breaker is off, ignored".into());
                }
            }
        }

        s.budget = r.boolean("budget", d.budget);
        let choices: Vec<&'static str> = policies::BACKOFF_CHOICES.iter().map(|c| c.0).collect();
        s.jitter = r.read(
            "jitter",
            d.jitter,
            |d| d.to_string(),
            |v| {
                let v = v.trim();
                choices
                    .iter()
                    .find(|&&c| c == v)
                    .copied()
                    .ok_or_else(|| format!("not one of {}", choices.join(", ")))
            },
        );
        match d.bulkhead {
            Some(size) => {
                let range = (policies::BULKHEAD_MIN as u64, policies::BULKHEAD_MAX as u64);
                s.bulkhead = Some(r.whole("bulkhead", size as u64, range) as u32);
            }
            None if r.get("bulkhead").is_some() => {
                r.ignore("bulkhead", "this experiment has no bulkhead, ignored".into())
            }
            None => {}
        }

        view.speed = r.read(
            "speed",
            crate::DEFAULT_SPEED,
            |d| show(*d),
            |v| {
                let x = v.trim().parse::<f64>().ok();
                crate::SPEEDS.iter().copied().find(|&s| Some(s) == x).ok_or_else(|| {
                    let all: Vec<String> = crate::SPEEDS.iter().map(|&s| show(s)).collect();
                    format!("not one of the speeds {}", all.join(", "))
                })
            },
        );
        let compare = r.boolean("compare", view.compare);
        if compare && !baseline.has_variant {
            r.ignore("compare", "this experiment has no comparison, ignored".into());
        }
        view.compare = compare && baseline.has_variant;
        view.start_s = r.number("t", 0.0, (0.0, TIME_MAX_S));

        if let Some(list) = r.get("controls").map(str::to_string) {
            if !embed {
                r.ignore("controls", "only used with embed=1, ignored".into());
            } else {
                for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    match Shown::from_name(name) {
                        Some(c) if !view.controls.contains(&c) => view.controls.push(c),
                        Some(_) => {}
                        None => r.ignore(
                            "controls",
                            format!(
                                "{:?} is not a control (the controls are {}), left out",
                                shorten(name),
                                Shown::names()
                            ),
                        ),
                    }
                }
            }
        }
        view.loop_s = r.time_after("loop", 1.0, view.start_s, "not looping");
        view.until_s = r.time_after("until", 0.1, view.start_s, "not pausing");
        view.theme = r.read(
            "theme",
            Theme::default(),
            |t| t.name().to_string(),
            |v| {
                Theme::from_name(v.trim()).ok_or_else(|| {
                    let all: Vec<&str> = Theme::ALL.iter().map(|t| t.name()).collect();
                    format!("not one of {}", all.join(", "))
                })
            },
        );
        Ok((view, r.ignored))
    }

    /// The query string of this view (without `?`): the preset, then each
    /// value that differs from the experiment as it ships.
    pub fn query(&self, baseline: &Baseline) -> String {
        let Ok(p) = UrlSearchParams::new() else { return String::new() };
        let (s, d) = (&self.settings, &baseline.defaults);
        p.append("preset", self.preset);
        if s.seed != d.seed {
            p.append("seed", &s.seed.to_string());
        }
        if s.error_pct != d.error_pct {
            p.append("error", &show(s.error_pct));
        }
        if s.latency_ms != d.latency_ms {
            p.append("latency", &show(s.latency_ms));
        }
        if s.load != d.load {
            p.append("load", &show(s.load));
        }
        if s.retries != d.retries {
            p.append("retries", &s.retries.to_string());
        }
        if s.timeout_ms != d.timeout_ms {
            p.append("timeout", &show(s.timeout_ms));
        }
        if s.breaker != d.breaker {
            p.append("breaker", flag(s.breaker));
        }
        if let Some(t) = s.threshold.filter(|&t| Some(t) != baseline.breaker_on.0) {
            p.append("threshold", &show(t));
        }
        if let Some(w) = s.window.filter(|&w| w != baseline.breaker_on.1) {
            p.append("window", &w.to_string());
        }
        if s.budget != d.budget {
            p.append("budget", flag(s.budget));
        }
        if s.jitter != d.jitter {
            p.append("jitter", s.jitter);
        }
        if let Some(size) = s.bulkhead.filter(|&b| Some(b) != d.bulkhead) {
            p.append("bulkhead", &size.to_string());
        }
        if self.speed != crate::DEFAULT_SPEED {
            p.append("speed", &show(self.speed));
        }
        if self.compare != compare_by_default(baseline, self.embed) {
            p.append("compare", flag(self.compare));
        }
        if self.start_s > 0.0 {
            p.append("t", &show(self.start_s));
        }
        if self.embed {
            p.append("embed", "1");
            if !self.controls.is_empty() {
                let names: Vec<&str> = self.controls.iter().map(|c| c.name()).collect();
                p.append("controls", &names.join(","));
            }
        }
        if let Some(at) = self.loop_s {
            p.append("loop", &show(at));
        }
        if let Some(at) = self.until_s {
            p.append("until", &show(at));
        }
        if self.theme != Theme::default() {
            p.append("theme", self.theme.name());
        }
        String::from(p.to_string())
    }
}

fn window_range() -> (u64, u64) {
    (policies::WINDOW_MIN as u64, policies::WINDOW_MAX as u64)
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn a_whole_number_is_any_written_without_a_fraction() {
        assert_eq!(whole_number(" 42 "), Some(42));
        assert_eq!(whole_number("1e3"), Some(1000));
        assert_eq!(whole_number("7.0"), Some(7));
        assert_eq!(whole_number("9223372036854775807"), Some(9_223_372_036_854_775_807));
        for bad in ["3.7", "-5", "-0.5", "", "abc", "1e300", "NaN", "inf"] {
            assert_eq!(whole_number(bad), None, "{bad:?}");
        }
        // The address reads numbers the same way as the seed field.
        assert_eq!(whole("1e3", 0, 2000), Ok(1000));
        assert_eq!(whole("2.5", 0, 10), Err("not a whole number".into()));
    }

    fn read(query: &str) -> (View, Vec<Ignored>) {
        View::read(query, Baseline::of_preset).expect("the default preset opens")
    }

    /// The view of the bulkheads experiment with every parameter moved off
    /// its default: that experiment has a bulkhead and a comparison.
    fn everything_changed() -> (View, Baseline) {
        let baseline = Baseline::of_preset("bulkheads").unwrap();
        let mut view = View::new(&baseline, true);
        let d = &baseline.defaults;
        view.settings = Settings {
            seed: d.seed + 7,
            error_pct: if d.error_pct == 35.0 { 36.0 } else { 35.0 },
            latency_ms: d.latency_ms + 12.5,
            load: d.load + 3.0,
            retries: (d.retries + 1) % 6,
            timeout_ms: if d.timeout_ms == 450.0 { 500.0 } else { 450.0 },
            breaker: !d.breaker,
            threshold: None,
            window: None,
            budget: !d.budget,
            jitter: if d.jitter == "full" { "equal" } else { "full" },
            bulkhead: d.bulkhead.map(|b| b % 100 + 1),
        };
        if view.settings.breaker {
            view.settings.threshold = baseline.breaker_on.0.map(|t| t - 5.0);
            view.settings.window = Some(baseline.breaker_on.1 + 1);
        }
        view.speed = 5.0;
        view.compare = true;
        view.start_s = 30.5;
        view.controls =
            vec![Shown::Control(Control::Bulkhead), Shown::Control(Control::Load), Shown::Play];
        view.loop_s = Some(90.0);
        view.until_s = Some(60.0);
        view.theme = Theme::ProjectorDark;
        (view, baseline)
    }

    #[wasm_bindgen_test]
    fn every_parameter_round_trips() {
        let (view, baseline) = everything_changed();
        assert!(view.settings.bulkhead.is_some(), "the bulkheads experiment has a bulkhead");
        let query = view.query(&baseline);
        // Every parameter is in the link, once.
        for name in PARAMETERS {
            let breaker_knob = name == "threshold" || name == "window";
            if breaker_knob && !view.settings.breaker {
                continue;
            }
            let count = pairs(&query).iter().filter(|(n, _)| n == name).count();
            assert_eq!(count, 1, "{name} in {query}");
        }
        let (back, ignored) = read(&query);
        assert_eq!(ignored, vec![], "{query}");
        assert_eq!(back, view, "{query}");
    }

    /// One parameter at a time, so that a failure names it.
    #[wasm_bindgen_test]
    fn each_parameter_round_trips_alone() {
        let (changed, baseline) = everything_changed();
        let plain = View::new(&baseline, false);
        type Change = fn(&mut View, &View);
        let changes: [(&str, Change); 19] = [
            ("seed", |v, c| v.settings.seed = c.settings.seed),
            ("error", |v, c| v.settings.error_pct = c.settings.error_pct),
            ("latency", |v, c| v.settings.latency_ms = c.settings.latency_ms),
            ("load", |v, c| v.settings.load = c.settings.load),
            ("retries", |v, c| v.settings.retries = c.settings.retries),
            ("timeout", |v, c| v.settings.timeout_ms = c.settings.timeout_ms),
            ("breaker", |v, c| {
                v.settings.breaker = c.settings.breaker;
                v.settings.threshold = c.settings.threshold;
                v.settings.window = c.settings.window;
            }),
            ("budget", |v, c| v.settings.budget = c.settings.budget),
            ("jitter", |v, c| v.settings.jitter = c.settings.jitter),
            ("bulkhead", |v, c| v.settings.bulkhead = c.settings.bulkhead),
            ("speed", |v, c| v.speed = c.speed),
            ("compare", |v, _| v.compare = !v.compare),
            ("t", |v, c| v.start_s = c.start_s),
            ("embed", |v, _| {
                v.embed = true;
                v.compare = false;
            }),
            ("controls", |v, c| {
                v.embed = true;
                v.compare = false;
                v.controls = c.controls.clone();
            }),
            ("loop", |v, c| v.loop_s = c.loop_s),
            ("until", |v, c| v.until_s = c.until_s),
            ("theme", |v, c| v.theme = c.theme),
            ("preset", |_, _| {}),
        ];
        for (name, change) in changes {
            let mut view = plain.clone();
            change(&mut view, &changed);
            let query = view.query(&baseline);
            assert!(
                name == "preset" || name == "controls" || query.contains(&format!("{name}=")),
                "{name} is written: {query}"
            );
            let (back, ignored) = read(&query);
            assert_eq!(ignored, vec![], "{name}: {query}");
            assert_eq!(back, view, "{name}: {query}");
        }
    }

    #[wasm_bindgen_test]
    fn no_query_is_the_default_experiment_as_it_ships() {
        let (view, ignored) = read("");
        assert_eq!(ignored, vec![]);
        let baseline = Baseline::of_preset(DEFAULT_PRESET).unwrap();
        assert_eq!(view, View::new(&baseline, false));
        assert_eq!(view.query(&baseline), "preset=retry-chain");
    }

    #[wasm_bindgen_test]
    fn bad_values_are_named_with_the_reason_and_the_default_used() {
        let (view, ignored) = read(
            "?retries=9&bogus=1&error=abc&theme=neon&speed=3&seed=-1&t=1000&latency=&load=12.5x&spead=2&retries=1",
        );
        let text: Vec<String> = ignored.iter().map(|i| i.to_string()).collect();
        let baseline = Baseline::of_preset(DEFAULT_PRESET).unwrap();
        let d = &baseline.defaults;
        let expected = [
            "bogus=1: unknown parameter, ignored".to_string(),
            "spead=2: unknown parameter (did you mean speed?), ignored".into(),
            "retries=1: given again, using the first, 9".into(),
            format!("seed=-1: out of range 0 to 9223372036854775807, using {}", d.seed),
            format!("error=abc: not a number, using {}", show(d.error_pct)),
            format!("latency=: empty, using {}", show(d.latency_ms)),
            format!("load=12.5x: not a number, using {}", show(d.load)),
            "retries=9: out of range 0 to 5, using 2".into(),
            "speed=3: not one of the speeds 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, using 0.25".into(),
            "t=1000: out of range 0 to 600, using 0".into(),
            "theme=neon: not one of standard, projector, projector-dark, using standard".into(),
        ];
        assert_eq!(text, expected);
        // Everything else is the experiment as it ships.
        assert_eq!(view, View::new(&baseline, false));
    }

    #[wasm_bindgen_test]
    fn parameters_that_do_not_apply_are_named() {
        let (view, ignored) = read(
            "preset=nope&threshold=40&bulkhead=3&compare=1&controls=load&loop=5&t=10&window=2.5",
        );
        let text: Vec<String> = ignored.iter().map(|i| i.to_string()).collect();
        assert!(text[0].starts_with("preset=nope: there is no experiment \"nope\""), "{text:?}");
        assert!(text[0].ends_with("; using retry-chain"), "{text:?}");
        assert_eq!(
            text[1..],
            [
                "threshold=40: the breaker is off, ignored",
                "window=2.5: the breaker is off, ignored",
                "bulkhead=3: this experiment has no bulkhead, ignored",
                "compare=1: this experiment has no comparison, ignored",
                "controls=load: only used with embed=1, ignored",
                "loop=5: must be later than t=10, not looping",
            ]
        );
        assert_eq!(
            (view.preset, view.compare, view.loop_s, view.start_s),
            ("retry-chain", false, None, 10.0)
        );

        let (view, ignored) = read("embed=1&controls=load,sliders,play,load&breaker=1&window=2.5");
        let text: Vec<String> = ignored.iter().map(|i| i.to_string()).collect();
        assert_eq!(text.len(), 2, "{text:?}");
        assert!(text[0].starts_with("window=2.5: not a whole number, using 20"), "{text:?}");
        assert!(
            text[1].starts_with("controls=load,sliders,play,load: \"sliders\" is not a control"),
            "{text:?}"
        );
        assert_eq!(view.controls, vec![Shown::Control(Control::Load), Shown::Play]);
        assert_eq!(view.settings.window, Some(policies::BREAKER_WINDOW));
    }

    #[wasm_bindgen_test]
    fn long_and_odd_values_are_shortened_and_kept_as_text() {
        let long = "x".repeat(100);
        let (_, ignored) = read(&format!("<b>={long}&theme=%3Cimg%20src%3Dx%3E"));
        assert_eq!(ignored[0].name, "<b>");
        assert_eq!(ignored[0].value.chars().count(), SHOWN_VALUE + 1);
        assert_eq!(ignored[1].value, "<img src=x>");
    }
}
