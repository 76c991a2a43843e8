//! The live figures shown beside the diagram, read from the simulation a
//! few times a second. The page renders these, never the simulation itself,
//! so that Yew re-renders at the figures' pace and not at the frame rate.

use brownout_sim::{theory, time, Sim};

#[derive(Clone, Debug, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub attempts_per_sec: f64,
    /// Attempts per client request; `None` until a request has settled.
    pub amplification: Option<f64>,
    /// Share of answered tries that failed (error or rejected); `None`
    /// before any was answered.
    pub failed_share: Option<f64>,
    pub busy_workers: u32,
    pub workers: u32,
    pub queued: u32,
    pub queue_capacity: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Figures {
    pub sim_seconds: f64,
    pub requests_per_sec: f64,
    pub success_share: Option<f64>,
    pub services: Vec<ServiceRow>,
    /// Tries per hop on every edge (retries + 1).
    pub tries: u32,
    /// Hops from the client to the last service.
    pub hops: u32,
    /// The last service's error probability.
    pub error_rate: f64,
    /// Attempts per request the retry policy alone predicts at the last
    /// service.
    pub predicted: f64,
    /// True when the simulation could not keep up with the chosen speed.
    pub lagging: bool,
}

impl Figures {
    pub fn read(sim: &Sim, lagging: bool) -> Figures {
        let (rates, seconds) = sim.metrics().recent_rates(sim.now());
        let per_sec = |n: u64| {
            if seconds > 0.0 {
                n as f64 / seconds
            } else {
                0.0
            }
        };
        let client = rates.client;
        let answered = client.finished();
        let services = sim
            .scenario()
            .services
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let c = rates.services[i];
                let answered = c.successes + c.errors + c.rejections.total();
                let load = sim.service_load(i);
                ServiceRow {
                    name: spec.name.clone(),
                    attempts_per_sec: per_sec(c.attempts),
                    amplification: sim.measured_amplification(i),
                    failed_share: (answered > 0)
                        .then(|| (c.errors + c.rejections.total()) as f64 / answered as f64),
                    busy_workers: load.busy_workers,
                    workers: load.workers,
                    queued: load.queued,
                    queue_capacity: load.queue_capacity,
                }
            })
            .collect::<Vec<_>>();
        let last = services.len().saturating_sub(1);
        let tries = sim.edges().first().map(|e| e.retries + 1).unwrap_or(1);
        let hops = sim.depth(last);
        let error_rate = sim.scenario().services.get(last).map(|s| s.error_rate).unwrap_or(0.0);
        Figures {
            sim_seconds: time::to_secs(sim.now()),
            requests_per_sec: per_sec(client.requests),
            success_share: (answered > 0).then(|| client.successes as f64 / answered as f64),
            services,
            tries,
            hops,
            error_rate,
            predicted: theory::expected_attempts(error_rate, tries, hops),
            lagging,
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

/// "12.5 %" for a share between 0 and 1.
pub fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}
