//! Scenarios: everything a user can change, as plain data.
//!
//! A scenario names its services and the calls between them. The pseudo-node
//! [`CLIENT`] stands for the outside world: exactly one call leaves it, and
//! the client's requests enter the graph there. A service makes its calls in
//! the order they are listed, either one after the other or all at once
//! ([`FanOut`]), while the worker that took the request waits for the
//! answers (a thread-per-request server, which is what lets a slow
//! dependency exhaust its callers' pools).
//!
//! Durations are configured in milliseconds (`_ms`) or seconds (`_s`), rates
//! in requests per second; the simulation converts them to whole
//! microseconds once, when it is built. Every field but the service and call
//! names has a default, documented on the field and in `docs/scenarios.md`.

use serde::{Deserialize, Serialize};

use crate::bulkhead::BulkheadConfig;
use crate::capacity::{AutoscaleConfig, OutlierConfig};
use crate::chaos::Chaos;
use crate::lesson::Lesson;
use crate::policy::backoff::BackoffConfig;
use crate::policy::breaker::BreakerConfig;
use crate::policy::budget::RetryBudgetConfig;

/// The name of the pseudo-node that sends the client load.
pub const CLIENT: &str = "client";

/// A complete, runnable description of a service graph and its load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A short title. Default: "Untitled scenario".
    #[serde(default = "defaults::name")]
    pub name: String,
    /// A sentence or two on what the scenario shows. Default: empty.
    #[serde(default)]
    pub description: String,
    /// Seed of every random stream in the run. Default: 1.
    #[serde(default = "defaults::seed")]
    pub seed: u64,
    /// How long a headless run lasts, in simulated seconds. Default: 60.
    #[serde(default = "defaults::duration_s")]
    pub duration_s: f64,
    /// The client load. Default: Poisson arrivals at 10 requests/s.
    #[serde(default)]
    pub load: Load,
    /// The services, in display order.
    pub services: Vec<ServiceSpec>,
    /// The calls between them; exactly one starts at [`CLIENT`].
    pub calls: Vec<CallSpec>,
    /// Faults to inject, and the hypothesis that aborts them. Default: none.
    #[serde(default, skip_serializing_if = "Chaos::is_empty")]
    pub chaos: Chaos,
    /// What the scenario teaches, for the page's lab; the engine ignores
    /// it. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lesson: Option<Lesson>,
}

/// How client requests arrive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// A Poisson process: independent arrivals, exponential gaps. Open-loop,
    /// as users on the internet are.
    #[default]
    Poisson,
    /// Evenly spaced arrivals at exactly the rate.
    Constant,
}

/// The client load: open-loop arrivals whose rate may change over time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Load {
    /// Default: poisson.
    #[serde(default)]
    pub arrivals: Arrivals,
    /// Mean rate at the start, in requests per second. Default: 10.
    #[serde(default = "defaults::rate_per_sec")]
    pub rate_per_sec: f64,
    /// Changes of rate over time, in order of `at_s`. Default: none.
    #[serde(default)]
    pub schedule: Vec<RateChange>,
}

impl Default for Load {
    fn default() -> Self {
        Load {
            arrivals: Arrivals::Poisson,
            rate_per_sec: defaults::rate_per_sec(),
            schedule: Vec::new(),
        }
    }
}

/// From `at_s` on, the rate moves to `rate_per_sec`: at once when `ramp_s`
/// is 0, or along a straight line over `ramp_s` seconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateChange {
    pub at_s: f64,
    pub rate_per_sec: f64,
    /// Default: 0 (a step).
    #[serde(default)]
    pub ramp_s: f64,
}

/// How a service makes its calls for one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FanOut {
    /// One after the other, in the order listed; the first failure fails
    /// the request and the rest are not called.
    #[default]
    Sequential,
    /// All at once; the request waits for every answer and fails if any
    /// call failed.
    Parallel,
}

/// One service: identical instances, each with a worker pool and a bounded
/// queue in front of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    pub name: String,
    /// Identical instances; callers spread their tries round-robin.
    /// Default: 1.
    #[serde(default = "defaults::instances")]
    pub instances: u32,
    /// Workers per instance: requests served at once. Default: 16.
    #[serde(default = "defaults::workers")]
    pub workers: u32,
    /// Requests per instance that may wait for a worker; one more is
    /// rejected at once. Default: 64.
    #[serde(default = "defaults::queue")]
    pub queue: u32,
    /// The service's own work for one request, before it calls anything.
    /// Default: exponential with a mean of 10 ms.
    #[serde(default)]
    pub service_time: ServiceTime,
    /// Probability that the service's own work fails, from 0 to 1.
    /// Default: 0.
    #[serde(default)]
    pub error_rate: f64,
    /// How the service makes its calls. Default: sequential.
    #[serde(default)]
    pub fan_out: FanOut,
    /// A repeating pattern of outcomes that replaces `error_rate` (and,
    /// where a step gives `ms`, the service time): the n-th request the
    /// service takes follows step n modulo the pattern's length. Default:
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub script: Vec<ScriptStep>,
    /// Load shedding by queue time: a try that has waited longer than this
    /// for a worker is dropped (answered "rejected") instead of served,
    /// since its caller has most likely given up. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed_after_queue_ms: Option<f64>,
    /// A horizontal autoscaler that adds and removes instances. Default:
    /// none (a fixed number of instances).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoscaleConfig>,
}

/// One step of a scripted service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptStep {
    pub outcome: ScriptOutcome,
    /// The service time of this step in milliseconds; drawn from
    /// `service_time` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScriptOutcome {
    /// The service's own work succeeds (its calls may still fail).
    Ok,
    /// The service's own work fails.
    Error,
}

/// Distribution of a service's own work time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ServiceTime {
    /// Always the same.
    Fixed { ms: f64 },
    /// Exponential with the given mean (the "M" of M/M/c).
    Exponential { mean_ms: f64 },
    /// Log-normal with the given median; `sigma` is the standard deviation
    /// of its logarithm (0.5 gives a p99 of about 3.2 × the median).
    LogNormal { median_ms: f64, sigma: f64 },
}

impl Default for ServiceTime {
    fn default() -> Self {
        ServiceTime::Exponential { mean_ms: 10.0 }
    }
}

impl ServiceTime {
    /// The mean of the distribution, in milliseconds.
    pub fn mean_ms(&self) -> f64 {
        match *self {
            ServiceTime::Fixed { ms } => ms,
            ServiceTime::Exponential { mean_ms } => mean_ms,
            ServiceTime::LogNormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
        }
    }
}

/// A call from one node to a service, with the caller's policies for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallSpec {
    /// The caller: a service name or [`CLIENT`].
    pub from: String,
    /// The callee: a service name.
    pub to: String,
    /// One-way network latency, in milliseconds. Default: 1.
    #[serde(default = "defaults::latency_ms")]
    pub latency_ms: f64,
    /// How long the caller waits for the answer to one try before it gives
    /// up on that try, in milliseconds. Default: 1000.
    #[serde(default = "defaults::timeout_ms")]
    pub timeout_ms: f64,
    /// Retries after the first try: 2 retries means up to 3 tries.
    /// Default: 0.
    #[serde(default)]
    pub retries: u32,
    /// Fixed pause before each retry, in milliseconds, when `backoff` is
    /// not given. Default: 0.
    #[serde(default)]
    pub backoff_ms: f64,
    /// The pause before each retry: fixed or exponential, with jitter.
    /// Default: none (a fixed `backoff_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<BackoffConfig>,
    /// Which failures are retried. Default: error, timeout and rejected; a
    /// call refused by the caller's own breaker or bulkhead is not retried
    /// unless listed.
    #[serde(default = "defaults::retry_on")]
    pub retry_on: Vec<FailureKind>,
    /// Whether repeating the call is harmless. Default: true.
    #[serde(default = "defaults::yes")]
    pub idempotent: bool,
    /// Retry even a non-idempotent call (its duplicate side effects are
    /// counted). Default: false.
    #[serde(default)]
    pub retry_non_idempotent: bool,
    /// Caps retries to a share of the traffic. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_budget: Option<RetryBudgetConfig>,
    /// A circuit breaker around the call. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerConfig>,
    /// A bulkhead around the call. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bulkhead: Option<BulkheadConfig>,
    /// An overall deadline across every try and pause (Envoy's route
    /// timeout), in milliseconds. Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<f64>,
    /// The order in which the policies wrap the call, outermost first.
    /// Default: Resilience4j's aspect order, retry → breaker → timeout →
    /// bulkhead, so that the breaker sees every try and a try's timeout
    /// covers its wait for a bulkhead permit.
    #[serde(default = "defaults::order")]
    pub order: Vec<Layer>,
    /// The caller's answer fails when this call fails (unless a fallback is
    /// on). An enriching call (false) only degrades it. Default: true.
    #[serde(default = "defaults::yes")]
    pub critical: bool,
    /// Give a critical call a fallback, so that its failure degrades the
    /// answer instead of failing it. Enriching calls always fall back.
    /// Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<bool>,
    /// Send the caller's deadline with each try, so that the callee drops
    /// work nobody waits for any more and caps its own calls by it.
    /// Default: false.
    #[serde(default)]
    pub propagate_deadline: bool,
    /// When the caller gives up on a try, cancel the callee's work for it
    /// (queued, running, and its own calls) instead of letting it run on as
    /// orphaned work. Default: false.
    #[serde(default)]
    pub cancel_on_give_up: bool,
    /// Where the policies run: in the application or in a sidecar proxy.
    /// Default: app. Shown on the diagram.
    #[serde(default)]
    pub location: PolicyLocation,
    /// Eject callee instances that keep failing from this caller's pool
    /// (Envoy's outlier detection). Default: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierConfig>,
}

impl CallSpec {
    /// Whether a failed call is answered by a fallback: always for an
    /// enriching call (the answer is degraded but valid), and for a
    /// critical one only when a fallback is configured.
    pub fn falls_back(&self) -> bool {
        !self.critical || self.fallback == Some(true)
    }
}

/// A kind of failure of one try, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The callee answered with an error.
    Error,
    /// The caller stopped waiting.
    Timeout,
    /// The callee turned the try away (queue full, shed, past deadline).
    Rejected,
    /// The caller's own bulkhead refused the call.
    BulkheadFull,
    /// The caller's own circuit breaker refused the call.
    BreakerOpen,
}

/// One policy around a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Retry,
    Breaker,
    Bulkhead,
    Timeout,
}

/// Where a call's policies run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyLocation {
    #[default]
    App,
    Sidecar,
}

/// Default values, named so that the docs and serde share them.
pub mod defaults {
    pub fn name() -> String {
        "Untitled scenario".into()
    }
    pub fn seed() -> u64 {
        1
    }
    pub fn duration_s() -> f64 {
        60.0
    }
    pub fn rate_per_sec() -> f64 {
        10.0
    }
    pub fn instances() -> u32 {
        1
    }
    pub fn workers() -> u32 {
        16
    }
    pub fn queue() -> u32 {
        64
    }
    pub fn latency_ms() -> f64 {
        1.0
    }
    pub fn timeout_ms() -> f64 {
        1_000.0
    }
    pub fn yes() -> bool {
        true
    }
    pub fn retry_on() -> Vec<super::FailureKind> {
        use super::FailureKind::*;
        vec![Error, Timeout, Rejected]
    }
    pub fn order() -> Vec<super::Layer> {
        use super::Layer::*;
        vec![Retry, Breaker, Timeout, Bulkhead]
    }
}

impl ServiceSpec {
    /// A service with every optional field at its default.
    pub fn named(name: &str) -> ServiceSpec {
        ServiceSpec {
            name: name.into(),
            instances: defaults::instances(),
            workers: defaults::workers(),
            queue: defaults::queue(),
            service_time: ServiceTime::default(),
            error_rate: 0.0,
            fan_out: FanOut::default(),
            script: Vec::new(),
            shed_after_queue_ms: None,
            autoscale: None,
        }
    }
}

impl CallSpec {
    /// A call with every optional field at its default.
    pub fn between(from: &str, to: &str) -> CallSpec {
        CallSpec {
            from: from.into(),
            to: to.into(),
            latency_ms: defaults::latency_ms(),
            timeout_ms: defaults::timeout_ms(),
            retries: 0,
            backoff_ms: 0.0,
            backoff: None,
            retry_on: defaults::retry_on(),
            idempotent: true,
            retry_non_idempotent: false,
            retry_budget: None,
            breaker: None,
            bulkhead: None,
            deadline_ms: None,
            order: defaults::order(),
            critical: true,
            fallback: None,
            propagate_deadline: false,
            cancel_on_give_up: false,
            location: PolicyLocation::App,
            outlier_detection: None,
        }
    }
}

impl Scenario {
    /// The first-light chain: client → gateway → orders → payments, with a
    /// flaky payments service and two retries at every hop.
    ///
    /// The capacities are chosen so that up to two retries per hop at 100 %
    /// errors fit in the pools at the default load (the (r+1)^d lesson can be
    /// read without queueing getting in the way), while three retries
    /// overflow the gateway's pool: a cascade the user can provoke.
    pub fn retry_chain() -> Scenario {
        let service = |name: &str, workers, queue, mean_ms| ServiceSpec {
            workers,
            queue,
            service_time: ServiceTime::Exponential { mean_ms },
            ..ServiceSpec::named(name)
        };
        let call = |from: &str, to: &str, timeout_ms| CallSpec {
            latency_ms: 40.0,
            timeout_ms,
            retries: 2,
            backoff_ms: 25.0,
            ..CallSpec::between(from, to)
        };
        let mut payments = service("payments", 32, 64, 15.0);
        payments.error_rate = 0.1;
        Scenario {
            name: "Retry storm in a service chain".into(),
            description: String::new(),
            seed: 42,
            duration_s: defaults::duration_s(),
            load: Load { rate_per_sec: 10.0, ..Load::default() },
            services: vec![
                service("gateway", 64, 128, 5.0),
                service("orders", 64, 128, 10.0),
                payments,
            ],
            calls: vec![
                call(CLIENT, "gateway", 10_000.0),
                call("gateway", "orders", 3_000.0),
                call("orders", "payments", 1_000.0),
            ],
            chaos: Chaos::default(),
            lesson: None,
        }
    }
}
