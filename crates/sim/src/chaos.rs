//! Chaos experiments: a timeline of faults injected into the running graph,
//! and a steady-state hypothesis that stops the experiment when it fails.
//!
//! Chaos engineering asks whether a system's resilience works *before* a
//! real outage asks it. An experiment states what normal looks like (the
//! steady-state hypothesis: "at least 99 % of requests succeed over any
//! 10 s"), injects faults one at a time or together, and watches whether
//! timeouts, retries, breakers and fallbacks contain them. Platforms abort
//! an experiment whose health check fails, ending its faults at once, so
//! that a test never becomes the outage; the simulation does the same.
//!
//! Each fault has a start and an optional end (simulated seconds):
//! - `kill_instances`: `count` instances of `service` (0 = all) stop; the
//!   work on them is lost (its callers time out) and tries routed to them
//!   are refused at once, as a connection to a dead host is. At the end they
//!   restart, empty.
//! - `network_loss`: a `share` of the messages on the call `from` → `to`
//!   (both directions) is dropped; callers find out by timing out.
//! - `latency`: `added_ms` more one-way latency on the call `from` → `to`.
//! - `cpu_stress`: `service`'s work takes `factor` times longer.
//! - `errors`: `service` fails an extra `rate` of its tries.
//! - `brownout`: a `share` of `service`'s tries take `factor` times longer.

use serde::{Deserialize, Serialize};

use crate::validate::limits;
use crate::Problem;

/// A chaos experiment: faults on a timeline and, optionally, the
/// hypothesis that aborts it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chaos {
    #[serde(default)]
    pub faults: Vec<Fault>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypothesis: Option<Hypothesis>,
}

impl Chaos {
    pub fn is_empty(&self) -> bool {
        self.faults.is_empty() && self.hypothesis.is_none()
    }
}

/// What a fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    KillInstances,
    NetworkLoss,
    Latency,
    CpuStress,
    Errors,
    Brownout,
}

impl FaultKind {
    /// The name a scenario file uses.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::KillInstances => "kill_instances",
            FaultKind::NetworkLoss => "network_loss",
            FaultKind::Latency => "latency",
            FaultKind::CpuStress => "cpu_stress",
            FaultKind::Errors => "errors",
            FaultKind::Brownout => "brownout",
        }
    }
}

/// One fault. Which fields it needs depends on its kind (see the module
/// documentation); the others must be left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    pub kind: FaultKind,
    /// When it starts, in simulated seconds.
    pub start_s: f64,
    /// When it ends; absent, it lasts to the end of the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    /// The service it hits (kill_instances, cpu_stress, errors, brownout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// The call it hits (network_loss, latency).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Instances to kill; 0 kills them all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Share of messages dropped, or of tries slowed, from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// Added one-way latency, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_ms: Option<f64>,
    /// How many times longer the work takes (cpu_stress, brownout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub factor: Option<f64>,
    /// Extra error probability, from 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
}

/// The steady state the experiment must keep: a minimum share of client
/// requests answered (fully or degraded) over a sliding window. Checked
/// once a second while a fault is active; the first failure aborts the
/// experiment and ends every fault.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hypothesis {
    /// From 0 to 1. Default: 0.99.
    #[serde(default = "defaults::min_success_rate")]
    pub min_success_rate: f64,
    /// The window, in whole seconds. Default: 10.
    #[serde(default = "defaults::window_s")]
    pub window_s: u32,
}

mod defaults {
    pub fn min_success_rate() -> f64 {
        0.99
    }
    pub fn window_s() -> u32 {
        10
    }
}

/// The fields each kind needs, and the ones it may not have.
fn needs(kind: FaultKind) -> &'static [&'static str] {
    match kind {
        FaultKind::KillInstances => &["service", "count"],
        FaultKind::NetworkLoss => &["from", "to", "share"],
        FaultKind::Latency => &["from", "to", "added_ms"],
        FaultKind::CpuStress => &["service", "factor"],
        FaultKind::Errors => &["service", "rate"],
        FaultKind::Brownout => &["service", "share", "factor"],
    }
}

impl Fault {
    /// A fault of `kind` from `start_s` to `end_s`, with none of the fields
    /// that depend on its kind set yet.
    pub fn new(kind: FaultKind, start_s: f64, end_s: Option<f64>) -> Fault {
        Fault {
            kind,
            start_s,
            end_s,
            service: None,
            from: None,
            to: None,
            count: None,
            share: None,
            added_ms: None,
            factor: None,
            rate: None,
        }
    }

    fn present(&self) -> Vec<&'static str> {
        let mut present = Vec::new();
        let fields: [(&'static str, bool); 8] = [
            ("service", self.service.is_some()),
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("count", self.count.is_some()),
            ("share", self.share.is_some()),
            ("added_ms", self.added_ms.is_some()),
            ("factor", self.factor.is_some()),
            ("rate", self.rate.is_some()),
        ];
        for (name, is) in fields {
            if is {
                present.push(name);
            }
        }
        present
    }
}

impl Chaos {
    /// Checks every fault against the scenario's services and calls.
    pub(crate) fn validate(
        &self,
        services: &[crate::ServiceSpec],
        calls: &[crate::CallSpec],
        problems: &mut Vec<Problem>,
    ) {
        let mut fail = |field: String, message: String| problems.push(Problem { field, message });
        for (i, fault) in self.faults.iter().enumerate() {
            let at = |f: &str| format!("chaos.faults[{i}].{f}");
            let needed = needs(fault.kind);
            let present = fault.present();
            for name in needed {
                if !present.contains(name) {
                    fail(at(name), format!("a {} fault needs {name}", fault.kind.name()));
                }
            }
            for name in &present {
                if !needed.contains(name) {
                    let accepted = needed.join(", ");
                    fail(
                        at(name),
                        format!("a {} fault has no {name}: it takes {accepted}", fault.kind.name()),
                    );
                }
            }
            if !fault.start_s.is_finite()
                || !(0.0..=limits::MAX_DURATION_S).contains(&fault.start_s)
            {
                fail(
                    at("start_s"),
                    format!(
                        "{} is out of range: expected 0 to {} s",
                        fault.start_s,
                        limits::MAX_DURATION_S
                    ),
                );
            }
            if let Some(end) = fault.end_s {
                if !end.is_finite() || end <= fault.start_s || end > limits::MAX_DURATION_S {
                    fail(
                        at("end_s"),
                        format!(
                            "{end} must come after start_s ({}) and be at most {} s",
                            fault.start_s,
                            limits::MAX_DURATION_S
                        ),
                    );
                }
            }
            if let Some(name) = &fault.service {
                match services.iter().find(|s| &s.name == name) {
                    None => {
                        fail(at("service"), format!("{name:?} is not a service of this scenario"))
                    }
                    Some(s) => {
                        if let Some(count) = fault.count {
                            if count > s.instances {
                                fail(
                                    at("count"),
                                    format!(
                                        "{count} is more than {name} has: expected 0 (all) to {}",
                                        s.instances
                                    ),
                                );
                            }
                        }
                    }
                }
            }
            if let (Some(from), Some(to)) = (&fault.from, &fault.to) {
                if !calls.iter().any(|c| &c.from == from && &c.to == to) {
                    fail(at("to"), format!("there is no call from {from:?} to {to:?}"));
                }
            }
            for (name, value) in [("share", fault.share), ("rate", fault.rate)] {
                if let Some(v) = value {
                    if !v.is_finite() || !(0.0..=1.0).contains(&v) {
                        fail(at(name), format!("{v} is out of range: expected 0 to 1"));
                    }
                }
            }
            if let Some(v) = fault.added_ms {
                if !v.is_finite() || !(0.0..=limits::MAX_MS).contains(&v) {
                    fail(
                        at("added_ms"),
                        format!("{v} is out of range: expected 0 to {} ms", limits::MAX_MS),
                    );
                }
            }
            if let Some(v) = fault.factor {
                if !v.is_finite() || !(1.0..=1_000.0).contains(&v) {
                    fail(at("factor"), format!("{v} is out of range: expected 1 to 1000"));
                }
            }
        }
        if let Some(h) = &self.hypothesis {
            let v = h.min_success_rate;
            if !v.is_finite() || !(0.0..=1.0).contains(&v) {
                fail(
                    "chaos.hypothesis.min_success_rate".into(),
                    format!("{v} is out of range: expected 0 to 1"),
                );
            }
            // The series keep the last 600 seconds: a longer window could
            // not be judged.
            if h.window_s == 0 || h.window_s > 600 {
                fail(
                    "chaos.hypothesis.window_s".into(),
                    format!("{} is out of range: expected 1 to 600 s", h.window_s),
                );
            }
        }
    }
}
