//! What a run measured, as plain serialisable data: the runner prints it as
//! JSON, and tests read it.
//!
//! A [`Report`] covers the run so far; a [`SecondReport`] covers one
//! simulated second, for series. Durations are in milliseconds, shares
//! between 0 and 1, times of events in seconds since the start.

use serde::Serialize;

use crate::metrics::{
    ChaosCounters, ClientCounters, Counters, EdgeCounters, Percentiles, PolicyEventKind,
    Rejections, ServiceCounters,
};
use crate::policy::breaker::BreakerState;
use crate::sim::{Node, Sim};
use crate::time::{to_secs, SECOND};

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub seed: u64,
    /// Simulated seconds covered.
    pub simulated_s: f64,
    /// Discrete events processed.
    pub events_processed: u64,
    pub client: ClientReport,
    pub services: Vec<ServiceReport>,
    pub edges: Vec<EdgeReport>,
    pub chaos: ChaosReport,
}

/// The chaos experiment: its faults, whether it was aborted, and its
/// events (faults starting and ending, the abort) in time order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChaosReport {
    pub faults: Vec<crate::chaos::Fault>,
    pub aborted: bool,
    pub events: Vec<EventReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ClientReport {
    pub requests: u64,
    /// Full answers.
    pub successes: u64,
    /// Valid answers with parts from fallbacks.
    pub degraded: u64,
    pub errors: u64,
    pub timeouts: u64,
    /// Turned away by the entry service.
    pub rejections: u64,
    /// Refused by the client's own breaker or bulkhead.
    pub short_circuited: u64,
    pub bulkhead_full: u64,
    /// Requests sent that have not ended yet.
    pub in_flight: u64,
    /// Full answers over requests ended; `None` before any ended.
    pub success_rate: Option<f64>,
    /// Full or degraded answers over requests ended.
    pub answered_rate: Option<f64>,
    /// Time from sending a request to its outcome, whatever the outcome.
    pub latency_ms: Option<Percentiles>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceReport {
    pub name: String,
    pub attempts: u64,
    pub successes: u64,
    /// Of the successes, answers with parts from fallbacks.
    pub degraded: u64,
    pub errors: u64,
    /// Tries whose caller gave up waiting.
    pub timeouts: u64,
    /// Tries turned away, by cause.
    pub rejections: Rejections,
    /// Tries served after their caller gave up: wasted work.
    pub orphaned: u64,
    /// Tries whose work the caller cancelled.
    pub cancelled: u64,
    /// Repeated executions of non-idempotent calls caused by retries.
    pub duplicate_side_effects: u64,
    /// Tries lost with an instance a chaos fault killed.
    pub lost: u64,
    /// The service's own policy events (shedding), oldest first.
    pub events: Vec<EventReport>,
    /// Attempts received per client request sent.
    pub amplification: Option<f64>,
    /// Share of worker time spent busy.
    pub utilisation: f64,
    /// Mean time a try waited for a worker, over the tries that got one.
    pub mean_queue_wait_ms: Option<f64>,
    /// Time from a try's arrival to its answer, for tries served.
    pub latency_ms: Option<Percentiles>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EdgeReport {
    pub from: String,
    pub to: String,
    pub calls: u64,
    pub tries: u64,
    pub retries: u64,
    pub timeouts: u64,
    pub failed_calls: u64,
    pub fallbacks: u64,
    /// Messages dropped on the wire by a chaos fault.
    pub lost_messages: u64,
    /// Shed at the caller: tries its breaker refused, tries its bulkhead
    /// refused, and retries its budget refused.
    pub breaker_rejected: u64,
    pub bulkhead_full: u64,
    pub budget_exhausted: u64,
    /// The breaker's state at the end, if the edge has one.
    pub breaker: Option<BreakerState>,
    /// The most recent policy events on this edge, oldest first.
    pub events: Vec<EventReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventReport {
    pub t_s: f64,
    #[serde(flatten)]
    pub kind: PolicyEventKind,
}

/// One simulated second [t_s, t_s + 1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SecondReport {
    pub t_s: u64,
    pub client: ClientCounters,
    pub client_latency_ms: Option<Percentiles>,
    pub services: Vec<ServiceSecond>,
    pub edges: Vec<EdgeCounters>,
    pub chaos: ChaosCounters,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ServiceSecond {
    #[serde(flatten)]
    pub counts: ServiceCounters,
    pub utilisation: f64,
    pub latency_ms: Option<Percentiles>,
}

fn mean_wait_ms(c: &ServiceCounters) -> Option<f64> {
    (c.started > 0).then(|| c.queue_wait_us as f64 / c.started as f64 / 1_000.0)
}

/// Busy worker time over offered worker time.
fn share(busy_us: u64, capacity_us: u64) -> f64 {
    if capacity_us == 0 {
        0.0
    } else {
        busy_us as f64 / capacity_us as f64
    }
}

impl Sim {
    /// Everything measured from the start of the run to now.
    pub fn report(&self) -> Report {
        let metrics = self.metrics();
        let Counters { client, services, edges, .. } = metrics.totals();
        let scenario = self.scenario();
        let ended = client.finished();
        let name_of = |node: Node| match node {
            Node::Client => crate::CLIENT.to_string(),
            Node::Service(s) => scenario.services[s].name.clone(),
        };
        Report {
            scenario: scenario.name.clone(),
            seed: scenario.seed,
            simulated_s: to_secs(self.now()),
            events_processed: self.events_processed(),
            client: ClientReport {
                requests: client.requests,
                successes: client.successes,
                errors: client.errors,
                degraded: client.degraded,
                timeouts: client.timeouts,
                rejections: client.rejections,
                short_circuited: client.short_circuited,
                bulkhead_full: client.bulkhead_full,
                in_flight: self.requests_in_flight(),
                success_rate: (ended > 0).then(|| client.successes as f64 / ended as f64),
                answered_rate: (ended > 0).then(|| client.answered() as f64 / ended as f64),
                latency_ms: metrics.client_latency(),
            },
            services: services
                .iter()
                .enumerate()
                .map(|(i, c)| ServiceReport {
                    name: scenario.services[i].name.clone(),
                    attempts: c.attempts,
                    successes: c.successes,
                    degraded: c.degraded,
                    errors: c.errors,
                    timeouts: c.timeouts,
                    rejections: c.rejections,
                    orphaned: c.orphaned,
                    cancelled: c.cancelled,
                    duplicate_side_effects: c.duplicate_side_effects,
                    lost: c.lost,
                    events: metrics
                        .events()
                        .filter(|ev| ev.service == Some(i))
                        .map(|ev| EventReport { t_s: to_secs(ev.at_us), kind: ev.kind })
                        .collect(),
                    amplification: (client.requests > 0)
                        .then(|| c.attempts as f64 / client.requests as f64),
                    utilisation: share(c.busy_us, c.capacity_us),
                    mean_queue_wait_ms: mean_wait_ms(c),
                    latency_ms: metrics.service_latency(i),
                })
                .collect(),
            edges: edges
                .iter()
                .enumerate()
                .map(|(i, e)| EdgeReport {
                    from: name_of(self.edges()[i].from),
                    to: name_of(Node::Service(self.edges()[i].to)),
                    calls: e.calls,
                    tries: e.tries,
                    retries: e.retries,
                    timeouts: e.timeouts,
                    failed_calls: e.failed_calls,
                    fallbacks: e.fallbacks,
                    lost_messages: e.lost_messages,
                    breaker_rejected: e.breaker_rejected,
                    bulkhead_full: e.bulkhead_full,
                    budget_exhausted: e.budget_exhausted,
                    breaker: self.edge_policies(i).and_then(|p| p.breaker),
                    events: metrics
                        .events()
                        .filter(|ev| ev.edge == Some(i))
                        .map(|ev| EventReport { t_s: to_secs(ev.at_us), kind: ev.kind })
                        .collect(),
                })
                .collect(),
            chaos: ChaosReport {
                faults: scenario.chaos.faults.clone(),
                aborted: metrics.totals().chaos.aborted > 0,
                events: metrics
                    .events()
                    .filter(|ev| {
                        matches!(
                            ev.kind,
                            PolicyEventKind::FaultStarted { .. }
                                | PolicyEventKind::FaultEnded { .. }
                                | PolicyEventKind::ExperimentAborted { .. }
                        )
                    })
                    .map(|ev| EventReport { t_s: to_secs(ev.at_us), kind: ev.kind })
                    .collect(),
            },
        }
    }

    /// The figures of simulated second `t_s`, once the run has passed its
    /// end; `None` before that, or once it is older than the series keep.
    pub fn second_report(&self, t_s: u64) -> Option<SecondReport> {
        if self.now() < (t_s + 1) * SECOND {
            return None;
        }
        let second = self.metrics().series().get(t_s)?;
        let c = &second.counts;
        Some(SecondReport {
            t_s,
            client: c.client,
            client_latency_ms: second.client_latency,
            services: c
                .services
                .iter()
                .enumerate()
                .map(|(i, s)| ServiceSecond {
                    counts: *s,
                    utilisation: share(s.busy_us, s.capacity_us),
                    latency_ms: second.service_latency.get(i).copied().flatten(),
                })
                .collect(),
            edges: c.edges.clone(),
            chaos: c.chaos,
        })
    }
}
