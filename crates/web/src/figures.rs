//! The live figures shown beside the diagram, read from the simulation a
//! few times a second. The page renders these, never the simulation itself,
//! so that Yew re-renders at the figures' pace and not at the frame rate.

use brownout_sim::policy::breaker::BreakerState;
use brownout_sim::{theory, time, Sim};

use crate::events::{self, EventLog, What};
use crate::policies;

/// Shares of how answered requests or tries ended, each between 0 and 1;
/// `None` before any ended.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shares {
    /// Full answers.
    pub ok: f64,
    /// Valid answers with parts from fallbacks.
    pub degraded: f64,
    pub failed: f64,
}

impl Shares {
    fn of(ok: u64, degraded: u64, failed: u64) -> Option<Shares> {
        let all = ok + degraded + failed;
        (all > 0).then(|| {
            let share = |n: u64| n as f64 / all as f64;
            Shares { ok: share(ok), degraded: share(degraded), failed: share(failed) }
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub attempts_per_sec: f64,
    /// Attempts per client request; `None` until a request has settled.
    pub amplification: Option<f64>,
    /// How answered tries ended: failed means an error or a rejection.
    pub shares: Option<Shares>,
    /// Tries served after their caller had given up, per second: work
    /// nobody will read.
    pub orphaned_per_sec: f64,
    pub busy_workers: u32,
    pub workers: u32,
    pub queued: u32,
    pub queue_capacity: u32,
}

/// The live state of the policies the page's knobs put on.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyFigures {
    /// The breaker on the policy edge, if it has one.
    pub breaker: Option<BreakerState>,
    /// The failure rate that breaker computes now, in per cent; `None`
    /// below its minimum number of calls.
    pub failure_rate: Option<f64>,
    /// Calls the breaker has refused so far.
    pub breaker_refused: u64,
    /// Tokens left in each edge's retry budget, in edge order; empty
    /// without budgets.
    pub budget_tokens: Vec<f64>,
}

/// One line of the event list, ready to show.
#[derive(Clone, Debug, PartialEq)]
pub struct EventLine {
    /// "12.3 s" or "12.3–15.0 s".
    pub when: String,
    pub edge: String,
    pub what: String,
    pub cause: String,
    /// A class naming the kind of line, for its colour mark.
    pub class: &'static str,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    pub sim_seconds: f64,
    pub requests_per_sec: f64,
    /// How the client's requests ended, over the last few seconds.
    pub client: Option<Shares>,
    pub services: Vec<ServiceRow>,
    /// Tries per hop (retries + 1): the most of any hop.
    pub tries: u32,
    /// Whether every hop makes the same number of tries, which the
    /// (r+1)^d prediction assumes.
    pub uniform_tries: bool,
    /// Hops from the client to the last service.
    pub hops: u32,
    /// The last service's error probability.
    pub error_rate: f64,
    /// Attempts per request the retry policy alone predicts at the last
    /// service.
    pub predicted: f64,
    pub policies: PolicyFigures,
    /// The event list, newest first.
    pub events: Vec<EventLine>,
    /// True when the simulation could not keep up with the chosen speed.
    pub lagging: bool,
    /// Set by the animation loop when the diagram drew only a sample of
    /// the messages in flight.
    pub crowd: Option<crate::diagram::Crowd>,
}

impl Figures {
    pub fn read(sim: &Sim, log: &EventLog, lagging: bool) -> Figures {
        let (rates, seconds) = sim.metrics().recent_rates(sim.now());
        let per_sec = |n: u64| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        let client = rates.client;
        // Right after a change the first requests to settle are the quick
        // ones (fast failures, refusals): their average is not yet the
        // system's. Show a figure only once a whole measurement window has
        // passed since the change.
        let window = brownout_sim::metrics::AMPLIFICATION_SECONDS * brownout_sim::time::SECOND;
        let settled = sim.now().saturating_sub(sim.last_change()) >= window;
        let services = sim
            .scenario()
            .services
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let c = rates.services[i];
                let load = sim.service_load(i);
                ServiceRow {
                    name: spec.name.clone(),
                    attempts_per_sec: per_sec(c.attempts),
                    amplification: settled.then(|| sim.measured_amplification(i)).flatten(),
                    shares: Shares::of(
                        c.successes.saturating_sub(c.degraded),
                        c.degraded,
                        c.errors + c.rejections.total(),
                    ),
                    orphaned_per_sec: per_sec(c.orphaned),
                    busy_workers: load.busy_workers,
                    workers: load.workers,
                    queued: load.queued,
                    queue_capacity: load.queue_capacity,
                }
            })
            .collect::<Vec<_>>();
        let last = services.len().saturating_sub(1);
        // The retries slider sets every hop alike; a scenario may differ per
        // hop, and then the slider shows the most any hop makes.
        let tries = sim.edges().iter().map(|e| e.retries + 1).max().unwrap_or(1);
        let hops = sim.depth(last);
        let error_rate = sim.scenario().services.get(last).map(|s| s.error_rate).unwrap_or(0.0);
        Figures {
            sim_seconds: time::to_secs(sim.now()),
            requests_per_sec: per_sec(client.requests),
            client: Shares::of(client.successes, client.degraded, client.failed()),
            services,
            tries,
            uniform_tries: sim.edges().iter().all(|e| e.retries + 1 == tries),
            hops,
            error_rate,
            predicted: theory::expected_attempts(error_rate, tries, hops),
            policies: PolicyFigures::read(sim),
            events: log.lines().map(|line| EventLine::of(sim, line)).collect(),
            lagging,
            crowd: None,
        }
    }
}

impl PolicyFigures {
    fn read(sim: &Sim) -> PolicyFigures {
        let edge = sim.edge_policies(policies::policy_edge(sim));
        PolicyFigures {
            breaker: edge.and_then(|p| p.breaker),
            failure_rate: edge.and_then(|p| p.failure_rate),
            breaker_refused: edge
                .and_then(|p| p.breaker_counters)
                .map_or(0, |counters| counters.not_permitted),
            budget_tokens: (0..sim.edges().len())
                .filter_map(|e| sim.edge_policies(e).and_then(|p| p.budget_tokens))
                .collect(),
        }
    }
}

impl EventLine {
    fn of(sim: &Sim, line: &events::Line) -> EventLine {
        let at = time::to_secs(line.at);
        let edge = line.edge.map(|e| policies::edge_name(sim, e)).unwrap_or_default();
        let faults = &sim.scenario().chaos.faults;
        match line.what {
            What::Fault { fault, started } => {
                let spec = faults.get(fault);
                let target =
                    spec.map_or_else(String::new, |f| match (&f.service, &f.from, &f.to) {
                        (Some(service), _, _) => service.clone(),
                        (None, Some(from), Some(to)) => format!("{from} → {to}"),
                        _ => String::new(),
                    });
                let kind = spec.map_or("fault", |f| f.kind.name());
                EventLine {
                    when: format!("{at:.1} s"),
                    edge: target,
                    what: format!("chaos: {kind} {}", if started { "starts" } else { "ends" }),
                    cause: String::new(),
                    class: "chaos",
                }
            }
            What::Aborted { success_rate } => {
                let wanted = sim.scenario().chaos.hypothesis.as_ref().map(|h| h.min_success_rate);
                EventLine {
                    when: format!("{at:.1} s"),
                    edge: "experiment".into(),
                    what: "aborted: steady state lost".into(),
                    cause: match wanted {
                        Some(w) => format!(
                            "success {} below the hypothesis's {}; every fault ended",
                            percent(success_rate),
                            percent(w)
                        ),
                        None => format!("success {}; every fault ended", percent(success_rate)),
                    },
                    class: "aborted",
                }
            }
            What::Breaker { from, to, failure_rate } => EventLine {
                when: format!("{at:.1} s"),
                edge,
                what: format!("breaker {} → {}", events::state_name(from), events::state_name(to)),
                cause: events::transition_cause(from, to, failure_rate),
                class: match to {
                    BreakerState::Closed => "closed",
                    BreakerState::Open => "open",
                    BreakerState::HalfOpen => "half-open",
                },
            },
            What::BudgetExhausted { refused, until } => {
                let until = time::to_secs(until);
                let retries = if refused == 1 { "retry" } else { "retries" };
                EventLine {
                    // A run within one tenth of a second reads as one time.
                    when: match (format!("{at:.1}"), format!("{until:.1}")) {
                        (from, to) if from == to => format!("{from} s"),
                        (from, to) => format!("{from}–{to} s"),
                    },
                    edge,
                    what: "retry budget exhausted".into(),
                    cause: format!(
                        "{refused} {retries} refused: {} tokens or fewer",
                        policies::BUDGET_MAX_TOKENS / 2.0
                    ),
                    class: "budget",
                }
            }
        }
    }
}

/// "27×", "1.11×": amplification for display.
pub fn times(x: f64) -> String {
    if x >= 9.95 {
        format!("{x:.1}×")
    } else {
        format!("{x:.2}×")
    }
}

/// "20,000": a count with its thousands separated.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// "12.5 %" for a share between 0 and 1.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

/// The figures that tell two runs apart, for the comparison table. Shares
/// and the p99 cover the run so far, from the same start and seed in both
/// panes; amplification is over the requests settled in the last
/// [`AMPLIFICATION_SECONDS`](brownout_sim::metrics::AMPLIFICATION_SECONDS)
/// (as its panel), saturation the busiest pool over the last
/// [`RATE_SECONDS`](brownout_sim::metrics::RATE_SECONDS) (as the tables).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyFigures {
    /// Client requests answered in full, in per cent of those finished.
    pub success: Option<f64>,
    /// Answered with parts from fallbacks, in per cent.
    pub degraded: Option<f64>,
    /// Not answered at all (an error, a timeout, a refusal), in per cent.
    pub failed: Option<f64>,
    /// Client latency, 99th percentile, in milliseconds.
    pub p99_ms: Option<f64>,
    /// Attempts per request at the last service.
    pub amplification: Option<f64>,
    /// The busiest service's share of busy workers, in per cent, and its
    /// name.
    pub saturation: Option<(f64, String)>,
}

impl KeyFigures {
    pub fn read(sim: &Sim) -> KeyFigures {
        let client = &sim.metrics().totals().client;
        let finished = client.finished();
        let share = |n: u64| (finished > 0).then(|| 100.0 * n as f64 / finished as f64);
        let last = sim.scenario().services.len().saturating_sub(1);
        let (rates, _) = sim.metrics().recent_rates(sim.now());
        let saturation = rates
            .services
            .iter()
            .zip(&sim.scenario().services)
            .filter(|(c, _)| c.capacity_us > 0)
            .map(|(c, spec)| (100.0 * c.busy_us as f64 / c.capacity_us as f64, spec.name.clone()))
            .max_by(|a, b| a.0.total_cmp(&b.0));
        KeyFigures {
            success: share(client.successes),
            degraded: share(client.degraded),
            failed: share(client.failed()),
            p99_ms: sim.metrics().client_latency().map(|p| p.p99),
            amplification: sim.measured_amplification(last),
            saturation,
        }
    }
}
