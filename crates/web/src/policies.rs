//! The page's main knobs for the resilience policies, and what they apply.
//!
//! The settings are fixed teaching values rather than every parameter of
//! every policy: a breaker that trips within seconds at high error rates, the
//! gRPC retry budget as its proposal shows it, and exponential backoff with a
//! choice of jitter. The scenario file remains the place for anything finer.
//!
//! Which knobs are on is read back from the running simulation's scenario,
//! never kept beside it, so that the controls cannot disagree with what runs
//! (after a restart, for instance, which rebuilds from the live scenario).

use brownout_sim::bulkhead::BulkheadConfig;
use brownout_sim::policy::backoff::{BackoffConfig, BackoffKind, Jitter};
use brownout_sim::policy::breaker::{self, BreakerConfig, SlidingWindowType};
use brownout_sim::policy::budget::RetryBudgetConfig;
use brownout_sim::{CallSpec, ParamError, Sim};

/// Range of the per-try timeout slider, in milliseconds. The lower end is
/// just above the hop's round trip (2 × 40 ms latency plus service time), so
/// that students can push it below the point where every try times out.
pub const TIMEOUT_MIN_MS: f64 = 50.0;
pub const TIMEOUT_MAX_MS: f64 = 2_000.0;
pub const TIMEOUT_STEP_MS: f64 = 50.0;

/// The breaker's sliding window, in calls: short, so that it reacts within
/// a second or two at the page's load instead of Resilience4j's 100 calls.
pub const BREAKER_WINDOW: u32 = 20;
/// Outcomes needed before the breaker computes a failure rate.
pub const BREAKER_MINIMUM_CALLS: u32 = 10;
/// Failure rate, in per cent, at or above which the breaker opens.
pub const BREAKER_THRESHOLD: f64 = 50.0;
/// How long the breaker stays open, in milliseconds: short enough that a
/// class sees it try again (half-open) without waiting a minute.
pub const BREAKER_OPEN_MS: f64 = 5_000.0;
/// Trial calls let through while half-open.
pub const BREAKER_TRIALS: u32 = 3;

/// gRPC retry throttling, as the example in its proposal (A6).
pub const BUDGET_MAX_TOKENS: f64 = 10.0;
pub const BUDGET_TOKEN_RATIO: f64 = 0.1;

/// Exponential backoff used when a jitter is chosen.
pub const BACKOFF_BASE_MS: f64 = 25.0;
pub const BACKOFF_CAP_MS: f64 = 1_000.0;

/// The choices of the backoff select: its option value, the option's text,
/// and the jitter it applies (`None` keeps the scenario's fixed pause).
pub const BACKOFF_CHOICES: [(&str, &str, Option<Jitter>); 5] = [
    ("off", "fixed pause", None),
    ("none", "exponential, no jitter", Some(Jitter::None)),
    ("full", "exponential, full jitter", Some(Jitter::Full)),
    ("equal", "exponential, equal jitter", Some(Jitter::Equal)),
    ("decorrelated", "decorrelated jitter", Some(Jitter::Decorrelated)),
];

/// The edge the breaker and the timeout slider act on: the hop into the
/// last service, where the failures start (orders → payments on the retry
/// chain).
pub fn policy_edge(sim: &Sim) -> usize {
    let last = sim.scenario().services.len().saturating_sub(1);
    sim.edges().iter().position(|e| e.to == last).unwrap_or(0)
}

/// "orders → payments": an edge as the page names it.
pub fn edge_name(sim: &Sim, edge: usize) -> String {
    sim.scenario().calls.get(edge).map(|c| format!("{} → {}", c.from, c.to)).unwrap_or_default()
}

pub fn breaker_config() -> BreakerConfig {
    BreakerConfig::FailureRate {
        sliding_window_type: SlidingWindowType::CountBased,
        sliding_window_size: BREAKER_WINDOW,
        minimum_calls: BREAKER_MINIMUM_CALLS,
        failure_rate_threshold: BREAKER_THRESHOLD,
        // Slow calls are left at Resilience4j's defaults (a 60 s call is
        // slow, and only 100 % slow calls trip): the page teaches failures.
        slow_call_rate_threshold: breaker::defaults::slow_call_rate_threshold(),
        slow_call_duration_ms: breaker::defaults::slow_call_duration_ms(),
        wait_in_open_ms: BREAKER_OPEN_MS,
        permitted_calls_in_half_open: BREAKER_TRIALS,
        max_wait_in_half_open_ms: 0.0,
        automatic_transition: false,
    }
}

pub fn budget_config() -> RetryBudgetConfig {
    RetryBudgetConfig::TokenBucket {
        max_tokens: BUDGET_MAX_TOKENS,
        token_ratio: BUDGET_TOKEN_RATIO,
    }
}

/// The backoff for a choice of the select. "off" gives back the pause the
/// scenario file describes: a fixed `backoff_ms` without jitter, which is
/// exactly what the core runs for an edge without a backoff section.
fn backoff_config(spec: &CallSpec, jitter: Option<Jitter>) -> BackoffConfig {
    match jitter {
        None => BackoffConfig {
            kind: BackoffKind::Fixed,
            base_ms: spec.backoff_ms,
            jitter: Jitter::None,
            ..BackoffConfig::default()
        },
        // An edge with an exponential backoff of its own keeps its shape
        // (base, multiplier, ceiling) and takes the chosen jitter, so that
        // the menu's "no jitter" in a lesson on jitter runs the lesson's
        // own backoff without it; other edges get the page's.
        Some(jitter) => match &spec.backoff {
            Some(own) if own.kind == BackoffKind::Exponential => {
                BackoffConfig { jitter, ..own.clone() }
            }
            _ => BackoffConfig {
                kind: BackoffKind::Exponential,
                base_ms: BACKOFF_BASE_MS,
                cap_ms: BACKOFF_CAP_MS,
                jitter,
                ..BackoffConfig::default()
            },
        },
    }
}

/// Which knobs are on, read from the running scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Choices {
    pub timeout_ms: f64,
    pub breaker: bool,
    pub budget: bool,
    /// The value of the backoff select's chosen option.
    pub backoff: &'static str,
}

impl Choices {
    pub fn read(sim: &Sim) -> Choices {
        let calls = &sim.scenario().calls;
        let spec = calls.get(policy_edge(sim));
        // A fixed backoff is what "off" applies, so it reads as "off" too.
        // The hop that retries shows it: the client's own call often has
        // no backoff at all.
        let backoff = match backoff_hop(calls).and_then(|c| c.backoff.as_ref()) {
            Some(b) if b.kind == BackoffKind::Exponential || b.jitter == Jitter::Decorrelated => {
                BACKOFF_CHOICES
                    .iter()
                    .find(|(_, _, j)| *j == Some(b.jitter))
                    .map_or("off", |(value, _, _)| *value)
            }
            _ => "off",
        };
        Choices {
            timeout_ms: spec.map_or(0.0, |c| c.timeout_ms),
            breaker: spec.is_some_and(|c| c.breaker.is_some()),
            budget: !calls.is_empty() && calls.iter().all(|c| c.retry_budget.is_some()),
            backoff,
        }
    }
}

/// Sets the per-try timeout of the policy edge.
pub fn set_timeout(sim: &mut Sim, timeout_ms: f64) -> Result<(), ParamError> {
    let edge = policy_edge(sim);
    sim.set_timeout(edge, timeout_ms)
}

/// Puts the teaching breaker on the policy edge, or takes it off.
pub fn set_breaker(sim: &mut Sim, on: bool) -> Result<(), ParamError> {
    let edge = policy_edge(sim);
    sim.set_breaker(edge, on.then(breaker_config))
}

/// Puts a retry budget on every edge, or takes them all off. A budget on
/// one hop only would let the others go on multiplying: the point of the
/// lesson is that each caller limits its own retries.
pub fn set_budget(sim: &mut Sim, on: bool) -> Result<(), ParamError> {
    for edge in 0..sim.edges().len() {
        sim.set_retry_budget(edge, on.then(budget_config))?;
    }
    Ok(())
}

/// Applies a choice of the backoff select to every edge.
pub fn set_backoff(sim: &mut Sim, choice: &str) -> Result<(), ParamError> {
    let Some(&(_, _, jitter)) = BACKOFF_CHOICES.iter().find(|(value, _, _)| *value == choice)
    else {
        return Err(ParamError::Invalid(format!(
            "backoff: {choice:?} is not one of the offered choices; kept the previous one"
        )));
    };
    for edge in 0..sim.edges().len() {
        let config = backoff_config(&sim.scenario().calls[edge], jitter);
        sim.set_backoff(edge, config)?;
    }
    Ok(())
}

/// Range of the service-time slider of the last service, in milliseconds.
pub const LATENCY_MIN_MS: f64 = 1.0;
pub const LATENCY_MAX_MS: f64 = 2_000.0;
/// Range of the breaker's threshold (per cent) and window (calls, or
/// failures in a row for a consecutive-failures breaker).
pub const THRESHOLD_MIN: f64 = 5.0;
pub const THRESHOLD_MAX: f64 = 100.0;
pub const WINDOW_MIN: u32 = 1;
pub const WINDOW_MAX: u32 = 100;
/// Range of the bulkhead size slider: concurrent calls or threads.
pub const BULKHEAD_MIN: u32 = 1;
pub const BULKHEAD_MAX: u32 = 100;

/// The breaker of the policy edge, as the threshold and window sliders
/// show it: `(threshold %, window)` for a failure-rate breaker, `(None,
/// failures in a row)` for a consecutive-failures one.
pub fn breaker_knobs(sim: &Sim) -> Option<(Option<f64>, u32)> {
    match sim.scenario().calls.get(policy_edge(sim))?.breaker.as_ref()? {
        BreakerConfig::FailureRate { failure_rate_threshold, sliding_window_size, .. } => {
            Some((Some(*failure_rate_threshold), *sliding_window_size))
        }
        BreakerConfig::ConsecutiveFailures { failures, .. } => Some((None, *failures)),
    }
}

/// What the policy edge's breaker does, in a sentence: the breaker it has
/// now, or the page's teaching breaker that switching it on would add.
pub fn breaker_help(sim: &Sim) -> String {
    let teaching = breaker_config();
    let (config, lead) =
        match sim.scenario().calls.get(policy_edge(sim)).and_then(|c| c.breaker.as_ref()) {
            Some(config) => (config, "It opens when"),
            None => (&teaching, "Switched on, it opens when"),
        };
    match config {
        BreakerConfig::FailureRate {
            sliding_window_type,
            sliding_window_size,
            minimum_calls,
            failure_rate_threshold,
            wait_in_open_ms,
            permitted_calls_in_half_open,
            ..
        } => {
            let window = match sliding_window_type {
                SlidingWindowType::CountBased => format!("the last {sliding_window_size} calls"),
                SlidingWindowType::TimeBased => {
                    format!("the calls of the last {sliding_window_size} s")
                }
            };
            format!(
                "{lead} {failure_rate_threshold:.0} % of {window} failed ({minimum_calls} at least); open {:.0} s, then {permitted_calls_in_half_open} trial calls.",
                wait_in_open_ms / 1000.0
            )
        }
        BreakerConfig::ConsecutiveFailures { failures, wait_in_open_ms } => format!(
            "{lead} {failures} calls in a row failed; open {:.0} s, then one trial call.",
            wait_in_open_ms / 1000.0
        ),
    }
}

/// The call whose backoff the page shows: the first that retries with a
/// backoff of its own, else the first with a backoff, else the first that
/// retries, else the first.
fn backoff_hop(calls: &[CallSpec]) -> Option<&CallSpec> {
    calls
        .iter()
        .find(|c| c.retries > 0 && c.backoff.is_some())
        .or_else(|| calls.iter().find(|c| c.backoff.is_some()))
        .or_else(|| calls.iter().find(|c| c.retries > 0))
        .or_else(|| calls.first())
}

/// How the hops pause between tries, in a sentence (the backoff select
/// sets every hop alike).
pub fn backoff_help(sim: &Sim) -> String {
    let Some(call) = backoff_hop(&sim.scenario().calls) else { return String::new() };
    let Some(b) = call.backoff.as_ref() else {
        return format!(
            "Now a fixed pause of {:.0} ms. Exponential: {:.0} ms × 2ⁿ, capped at {:.0} s; jitter spreads retries apart.",
            call.backoff_ms,
            BACKOFF_BASE_MS,
            BACKOFF_CAP_MS / 1000.0
        );
    };
    let jitter = match b.jitter {
        Jitter::None => "no jitter",
        Jitter::Full => "full jitter",
        Jitter::Equal => "equal jitter",
        Jitter::Decorrelated => "decorrelated jitter",
    };
    match b.kind {
        BackoffKind::Fixed => format!("Now a fixed ceiling of {:.0} ms, {jitter}.", b.base_ms),
        BackoffKind::Exponential => format!(
            "Now exponential: {:.0} ms × {}ⁿ, capped at {:.1} s, {jitter}; jitter spreads retries apart.",
            b.base_ms,
            b.multiplier,
            b.cap_ms / 1000.0
        ),
    }
}

/// Changes the policy edge's breaker (a fresh one with the new setting).
fn change_breaker(
    sim: &mut Sim,
    change: impl FnOnce(&mut BreakerConfig),
) -> Result<(), ParamError> {
    let edge = policy_edge(sim);
    let Some(mut config) = sim.scenario().calls.get(edge).and_then(|c| c.breaker.clone()) else {
        return Err(ParamError::Invalid(
            "there is no circuit breaker to change: turn it on first".into(),
        ));
    };
    change(&mut config);
    sim.set_breaker(edge, Some(config))
}

/// Sets the failure-rate threshold, in per cent, of the policy edge's
/// breaker.
pub fn set_breaker_threshold(sim: &mut Sim, percent: f64) -> Result<(), ParamError> {
    change_breaker(sim, |config| {
        if let BreakerConfig::FailureRate { failure_rate_threshold, .. } = config {
            *failure_rate_threshold = percent;
        }
    })
}

/// Sets the window of the policy edge's breaker: calls in a count-based
/// window (the minimum number of calls shrinks with it), or failures in a
/// row.
pub fn set_breaker_window(sim: &mut Sim, size: u32) -> Result<(), ParamError> {
    change_breaker(sim, |config| match config {
        BreakerConfig::FailureRate { sliding_window_size, minimum_calls, .. } => {
            *sliding_window_size = size;
            *minimum_calls = (*minimum_calls).min(size);
        }
        BreakerConfig::ConsecutiveFailures { failures, .. } => *failures = size,
    })
}

/// The size of the first bulkhead of the scenario: concurrent calls of a
/// semaphore, threads of a pool.
pub fn bulkhead_size(sim: &Sim) -> Option<u32> {
    sim.scenario().calls.iter().find_map(|c| match c.bulkhead.as_ref()? {
        BulkheadConfig::Semaphore { max_concurrent, .. } => Some(*max_concurrent),
        BulkheadConfig::ThreadPool { threads, .. } => Some(*threads),
    })
}

/// Sets the size of every bulkhead of the scenario.
pub fn set_bulkhead_size(sim: &mut Sim, size: u32) -> Result<(), ParamError> {
    let edges: Vec<(usize, BulkheadConfig)> = sim
        .scenario()
        .calls
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.bulkhead.clone().map(|b| (i, b)))
        .collect();
    if edges.is_empty() {
        return Err(ParamError::Invalid("this experiment has no bulkhead to resize".into()));
    }
    for (edge, mut config) in edges {
        match &mut config {
            BulkheadConfig::Semaphore { max_concurrent, .. } => *max_concurrent = size,
            BulkheadConfig::ThreadPool { threads, .. } => *threads = size,
        }
        sim.set_bulkhead(edge, Some(config))?;
    }
    Ok(())
}

/// The mean service time of the last service, in milliseconds.
pub fn last_service_time_ms(sim: &Sim) -> f64 {
    sim.scenario().services.last().map_or(0.0, |s| s.service_time.mean_ms())
}

#[cfg(test)]
mod help_tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    fn sim_of(id: &str) -> Sim {
        Sim::new(crate::lab::Experiment::load(id).unwrap().scenario).unwrap()
    }

    /// The help under the breaker and backoff controls says what the
    /// experiment's own policies do, not the page's teaching defaults.
    #[wasm_bindgen_test]
    fn the_help_describes_the_policies_in_force() {
        let noise = breaker_help(&sim_of("breaker-noise"));
        assert!(noise.starts_with("It opens when 3 calls in a row failed"), "{noise}");
        let rate = breaker_help(&sim_of("circuit-breaker"));
        assert!(rate.contains("50 % of the last 20 calls failed (10 at least)"), "{rate}");
        assert!(rate.contains("then 5 trial calls"), "{rate}");
        let none = breaker_help(&sim_of("retry-chain"));
        assert!(none.starts_with("Switched on, it opens when"), "{none}");

        let jitter = sim_of("backoff-jitter");
        assert!(backoff_help(&jitter).contains("full jitter"), "{}", backoff_help(&jitter));
        assert_eq!(Choices::read(&jitter).backoff, "full");
        let fixed = backoff_help(&sim_of("retry-chain"));
        assert!(fixed.starts_with("Now a fixed pause of"), "{fixed}");
    }

    /// In the lesson on jitter, the menu's "exponential, no jitter" runs
    /// what the comparison pane runs: the lesson's own backoff without its
    /// jitter, the same run to the last count.
    #[wasm_bindgen_test]
    fn no_jitter_from_the_menu_is_the_lesson_s_comparison() {
        let experiment = crate::lab::Experiment::load("backoff-jitter").unwrap();
        let mut chosen = Sim::new(experiment.scenario).unwrap();
        set_backoff(&mut chosen, "none").unwrap();
        let mut variant = Sim::new(experiment.variant.unwrap()).unwrap();
        chosen.advance_to(20 * brownout_sim::time::SECOND);
        variant.advance_to(20 * brownout_sim::time::SECOND);
        let help = backoff_help(&chosen);
        assert!(
            help.starts_with("Now exponential: 50 ms × 2ⁿ, capped at 2.0 s, no jitter"),
            "{help}"
        );
        assert_eq!(chosen.metrics().totals().digest(), variant.metrics().totals().digest());
        // Back to full jitter: the lesson's own backoff again.
        set_backoff(&mut chosen, "full").unwrap();
        let help = backoff_help(&chosen);
        assert!(help.contains("50 ms × 2ⁿ, capped at 2.0 s, full jitter"), "{help}");
    }
}
