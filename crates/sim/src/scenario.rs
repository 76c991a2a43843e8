//! Scenarios: everything a user can change, as plain data.
//!
//! A scenario names its services and the calls between them. The pseudo-node
//! [`CLIENT`] stands for the outside world: exactly one call leaves it, and
//! the client's requests enter the graph there. A service makes its own calls
//! in the order they are listed, one after the other, while the worker that
//! took the request waits for each answer (a thread-per-request server, which
//! is what lets a slow dependency exhaust its callers' pools).
//!
//! Durations are configured in milliseconds and rates in requests per second;
//! the simulation converts them to whole microseconds once, when it is built.

use serde::{Deserialize, Serialize};

/// The name of the pseudo-node that sends the client load.
pub const CLIENT: &str = "client";

/// A complete, runnable description of a service graph and its load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// A short title.
    pub name: String,
    /// Seed of every random stream in the run.
    pub seed: u64,
    /// The client load.
    pub load: Load,
    /// The services, in display order.
    pub services: Vec<ServiceSpec>,
    /// The calls between them; exactly one starts at [`CLIENT`].
    pub calls: Vec<CallSpec>,
}

/// Open-loop client load: requests arrive whether or not earlier ones have
/// been answered, as users on the internet do.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Load {
    /// Mean arrival rate of a Poisson process, in requests per second.
    pub rate_per_sec: f64,
}

/// One service: identical instances, each with a worker pool and a bounded
/// queue in front of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceSpec {
    pub name: String,
    /// Identical instances; callers spread their calls round-robin.
    pub instances: u32,
    /// Workers per instance: requests served at once.
    pub workers: u32,
    /// Requests per instance that may wait for a worker; one more is
    /// rejected at once.
    pub queue: u32,
    /// The service's own work for one request, before it calls anything.
    pub service_time: ServiceTime,
    /// Probability that the service's own work fails, from 0 to 1.
    pub error_rate: f64,
}

/// Distribution of a service's own work time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ServiceTime {
    /// Always the same.
    Fixed { ms: f64 },
    /// Exponential with the given mean (the "M" of M/M/c).
    Exponential { mean_ms: f64 },
    /// Log-normal with the given median; `sigma` is the standard deviation
    /// of its logarithm (0.5 gives a tail of p99 ≈ 3.2 × median).
    LogNormal { median_ms: f64, sigma: f64 },
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
pub struct CallSpec {
    /// The caller: a service name or [`CLIENT`].
    pub from: String,
    /// The callee: a service name.
    pub to: String,
    /// One-way network latency, in milliseconds.
    pub latency_ms: f64,
    /// How long the caller waits for the answer to one try before it gives
    /// up on that try, in milliseconds.
    pub timeout_ms: f64,
    /// Retries after the first try: 2 retries means up to 3 tries.
    pub retries: u32,
    /// Fixed pause before each retry, in milliseconds.
    pub backoff_ms: f64,
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
            name: name.into(),
            instances: 1,
            workers,
            queue,
            service_time: ServiceTime::Exponential { mean_ms },
            error_rate: 0.0,
        };
        let call = |from: &str, to: &str, timeout_ms| CallSpec {
            from: from.into(),
            to: to.into(),
            latency_ms: 40.0,
            timeout_ms,
            retries: 2,
            backoff_ms: 25.0,
        };
        let mut payments = service("payments", 32, 64, 15.0);
        payments.error_rate = 0.1;
        Scenario {
            name: "Retry storm in a service chain".into(),
            seed: 42,
            load: Load { rate_per_sec: 10.0 },
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
        }
    }
}
